#!/usr/bin/env bash
# Configures and builds ptjs into build/ (or $PTJS_BUILD_DIR). Extra arguments go to cmake.
# $PTJS_BUILD_TARGETS (space-separated) builds only those targets.
#   scripts/build.sh                          the default build: libtorch 2.13 from the venv
#   PTJS_BUILD_DIR=build-debian scripts/build.sh -DPTJS_LIBTORCH=system   Debian's libtorch 1.13
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${PTJS_BUILD_DIR:-$root/build}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@" > "$build.cmake.log" 2>&1 \
  || { cat "$build.cmake.log"; exit 1; }
targets=()
for t in ${PTJS_BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build" -j "$(nproc)" "${targets[@]}"
