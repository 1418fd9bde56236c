#!/usr/bin/env python3
"""Compares two `ptjs run` JSONL files of Raw records (the same inputs scored two ways):
top-1 agreement and the largest absolute difference of the first output, over all inputs.
  compare.py A.jsonl B.jsonl LABEL"""
import json
import sys


def load(path):
    with open(path) as f:
        return {r["file"]: r for r in map(json.loads, f)}


def main():
    a, b, label = load(sys.argv[1]), load(sys.argv[2]), sys.argv[3]
    if not a or a.keys() != b.keys():
        print(f"{label}: the two runs scored different inputs ({len(a)} vs {len(b)} records)")
        return 1
    same = worst = errors = 0
    for name, ra in a.items():
        rb = b[name]
        if "outputs" not in ra or "outputs" not in rb:
            errors += 1
            continue
        xa, xb = ra["outputs"][0]["data"], rb["outputs"][0]["data"]
        same += max(range(len(xa)), key=xa.__getitem__) == max(range(len(xb)), key=xb.__getitem__)
        worst = max(worst, max(abs(p - q) for p, q in zip(xa, xb)))
    scale = max(abs(v) for r in a.values() if "outputs" in r for v in r["outputs"][0]["data"])
    print(f"{label}: top-1 identical {same}/{len(a) - errors}, max |logit diff| {worst:.3g} "
          f"(largest |logit| {scale:.3g}), error records {errors}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
