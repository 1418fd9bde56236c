#!/usr/bin/env bash
# README command 1: install what is missing, build, and score the bundled held-out digits with
# the bundled model; prints a few predictions and the accuracy.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"
PTJS_BUILD_DIR="${PTJS_BUILD_DIR:-$root/build}" "$root/scripts/build.sh" -DPTJS_BUILD_TESTS=OFF
ptjs="${PTJS_BUILD_DIR:-$root/build}/apps/ptjs/ptjs"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
echo "\$ ptjs run --model configs/digits/model.pt --input configs/digits/images --output $out"
(cd "$root" && "$ptjs" run --model configs/digits/model.pt --input configs/digits/images --output "$out" --progress)
echo
echo "First predictions (file, then top-3):"
head -n 5 "$out"
echo
# The folder name of each image is its true label.
/usr/bin/python3 - "$out" <<'PY'
import json, sys
total = correct = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    total += 1
    truth = r["file"].split("/")[-2]
    correct += "predictions" in r and r["predictions"][0]["label"] == truth
print(f"held-out accuracy: {correct}/{total} = {100.0 * correct / total:.2f}%")
PY
