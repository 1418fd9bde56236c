#!/usr/bin/env bash
# README command 2: install what is missing, build with warnings as errors, run every test.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"
PTJS_BUILD_DIR="${PTJS_BUILD_DIR:-$root/build}" "$root/scripts/build.sh" -DPTJS_WERROR=ON -DPTJS_BUILD_TESTS=ON
ctest --test-dir "${PTJS_BUILD_DIR:-$root/build}" --output-on-failure -j "$(nproc)" "$@"
