#!/usr/bin/env bash
# The fuzz smoke of the test suite: builds the libFuzzer targets in a clang build folder under
# the ctest build dir (scripts/fuzz.sh), replays the committed seeds and reproducers, then
# fuzzes each target for a few seconds. Skips (exit 77) when clang or libFuzzer is missing,
# unless PTJS_FUZZ_SMOKE_REQUIRED=1 (scripts/test.sh sets it: it has just installed them), which
# makes that a failure (exit 1) so CI cannot skip the smoke unnoticed.
#
# usage: tests/fuzz/smoke.sh BUILD_DIR [--build-only] [--seconds N] [TARGET...]
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$1"; shift
skip() {
  if [ "${PTJS_FUZZ_SMOKE_REQUIRED:-0}" = 1 ]; then
    echo "FAIL (PTJS_FUZZ_SMOKE_REQUIRED=1): $1"
    exit 1
  fi
  echo "SKIP: $1"
  exit 77
}
if ! command -v clang++ >/dev/null 2>&1; then
  skip "clang++ not found; the fuzz targets need clang and libFuzzer (scripts/install-deps.sh installs them)"
fi
probe="$(mktemp -d)"
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' > "$probe/p.cpp"
if ! clang++ -fsanitize=fuzzer,address,undefined "$probe/p.cpp" -o "$probe/p" >/dev/null 2>&1; then
  rm -rf "$probe"
  skip "clang++ cannot link -fsanitize=fuzzer (libclang-rt-14-dev missing; scripts/install-deps.sh installs it)"
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
