#!/usr/bin/env bash
# How long `ptjs eval` and `ptjs compare` take on 10,000 records (and with --report): records
# of the digits model over its images, and of resnet18 over photos (top-5 of 1000 classes),
# repeated under distinct names up to the count; the ground truth a CSV of the same names.
# Times include the process start (libtorch's libraries load even for eval: ~0.6 s here).
#
# usage: scripts/bench/records_bench.sh [--count N] [--resnet18 M.pt --photos DIR]
#   default resnet18: build/tests/gen/parity_scores/{resnet18.pt,photos} (made by the parity tests)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
PTJS="${PTJS_BIN:-$root/build/apps/ptjs/ptjs}"
COUNT=10000
RESNET="$root/build/tests/gen/parity_scores/resnet18.pt"
PHOTOS="$root/build/tests/gen/parity_scores/photos"
while [ $# -gt 0 ]; do
  case "$1" in
    --count) COUNT=$2; shift 2 ;;
    --resnet18) RESNET=$2; shift 2 ;;
    --photos) PHOTOS=$2; shift 2 ;;
    -h|--help) sed -n '2,9s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "records_bench: unknown option $1" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Repeats the records of $1 under new names up to $COUNT (B: every 7th with its first two
# classes swapped, so that compare has flips to list), with a truth CSV of each one's top-1
# (every 10th given the second class instead, so that eval has misses to draw).
grow() {
  python3 - "$1" "$2" "$COUNT" <<'PY'
import csv, json, sys
src, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
base = [json.loads(l) for l in open(src) if l.strip()]
with open(out + ".a.jsonl", "w") as a, open(out + ".b.jsonl", "w") as b, open(out + ".truth.csv", "w", newline="") as t:
    truth = csv.writer(t)
    truth.writerow(["file", "label"])
    for i in range(count):
        r = dict(base[i % len(base)], file="set/%06d_%s" % (i, base[i % len(base)]["file"].rsplit("/", 1)[1]))
        a.write(json.dumps(r) + "\n")
        p = r["predictions"]
        b.write(json.dumps(dict(r, predictions=[p[1], p[0]] + p[2:]) if i % 7 == 0 else r) + "\n")
        best = p[1 if i % 10 == 0 else 0]
        truth.writerow([r["file"], best.get("label", str(best["index"]))])
PY
}

seconds() { local t0 t1; t0=$(date +%s.%N); "$@" > /dev/null; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'; }
row() { printf '%-10s %10s %10s %16s %10s %16s\n' "$@"; }

"$PTJS" run --model "$root/configs/digits/model.pt" --input "$root/configs/digits/images" --topk 5 --quiet -o "$work/digits.jsonl"
grow "$work/digits.jsonl" "$work/digits"
sets=(digits)
if [ -f "$RESNET" ] && [ -d "$PHOTOS" ]; then
  "$PTJS" run --model "$RESNET" --input "$PHOTOS" --topk 5 --quiet -o "$work/resnet18.jsonl"
  grow "$work/resnet18.jsonl" "$work/resnet18"
  sets+=(resnet18)
else
  echo "records_bench: no $RESNET or $PHOTOS (run the parity tests first): digits only" >&2
fi
echo "ptjs eval / compare on $COUNT records, $(nproc) cores; seconds, process start included"
row set "--version" eval "eval --report" compare "compare --report"
for s in "${sets[@]}"; do
  row "$s" "$(seconds "$PTJS" --version)" \
    "$(seconds "$PTJS" eval "$work/$s.a.jsonl" --truth "$work/$s.truth.csv")" \
    "$(seconds "$PTJS" eval "$work/$s.a.jsonl" --truth "$work/$s.truth.csv" --report "$work/$s.eval.html")" \
    "$(seconds "$PTJS" compare "$work/$s.a.jsonl" "$work/$s.b.jsonl")" \
    "$(seconds "$PTJS" compare "$work/$s.a.jsonl" "$work/$s.b.jsonl" --report "$work/$s.compare.html")"
  echo "  $s reports: eval $(stat -c %s "$work/$s.eval.html") bytes, compare $(stat -c %s "$work/$s.compare.html") bytes"
done
