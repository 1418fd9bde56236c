#!/usr/bin/env bash
# README command 1: install what is missing, build, and score the bundled held-out digits with
# the bundled model; prints a few predictions and the accuracy (ptjs eval).
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
# The folder name of each image is its true label (torchvision's ImageFolder layout): ptjs eval
# scores the records against it, and would fail a CI job below 95 % top-1.
echo "\$ ptjs eval $out --input configs/digits/images --min-top1 0.95"
(cd "$root" && "$ptjs" eval "$out" --input configs/digits/images --min-top1 0.95)
