#!/usr/bin/env bash
# The fuzz smoke of the test suite: builds the libFuzzer targets in a clang build folder under
# the ctest build dir (scripts/fuzz.sh), replays the committed seeds and reproducers, then
# fuzzes each target for a few seconds. Skips (exit 77) when clang or libFuzzer is missing.
#
# usage: tests/fuzz/smoke.sh BUILD_DIR [--build-only] [--seconds N] [TARGET...]
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$1"; shift
if ! command -v clang++ >/dev/null 2>&1; then
  echo "SKIP: clang++ not found; the fuzz targets need clang and libFuzzer (scripts/install-deps.sh --with-fuzz)"
  exit 77
fi
probe="$(mktemp -d)"
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' > "$probe/p.cpp"
if ! clang++ -fsanitize=fuzzer,address,undefined "$probe/p.cpp" -o "$probe/p" >/dev/null 2>&1; then
  rm -rf "$probe"
  echo "SKIP: clang++ cannot link -fsanitize=fuzzer (libclang-rt-14-dev missing; scripts/install-deps.sh --with-fuzz)"
  exit 77
fi
rm -rf "$probe"
if [ "${1:-}" = --build-only ]; then
  exec "$root/scripts/fuzz.sh" --build-dir "$build" --build-only
fi
seconds=20
if [ "${1:-}" = --seconds ]; then seconds="$2"; shift 2; fi
# Crashes found here go to the build dir, not the source tree.
"$root/scripts/fuzz.sh" --no-build --build-dir "$build" --replay "$@" || exit 1
exec "$root/scripts/fuzz.sh" --no-build --build-dir "$build" --crash-dir "$build/crashes" --seconds "$seconds" "$@"
