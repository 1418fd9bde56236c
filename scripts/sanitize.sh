#!/usr/bin/env bash
# Builds ptjs and its tests with sanitizers into a build folder of their own and runs the tests
# under them. A sanitizer report anywhere (test binaries, or the ptjs processes the CLI, HTTP and
# reliability tests start) fails the run, even when the test that triggered it passed.
#
# usage: scripts/sanitize.sh [address|thread] [--build-dir DIR] [--jobs N] [--all | --quick] [-- CTEST_ARGS...]
#   address  (default) -DPTJS_SANITIZE=address,undefined into build-asan; runs the unit, CLI,
#            HTTP and reliability tests (not parity, node, fuzz smoke: --all runs them too)
#   thread   -DPTJS_SANITIZE=thread into build-tsan; runs the server, batcher and reliability
#            server tests (http.*, reliability.bad_inputs_http, reliability.faults_*, soak smoke)
#   --quick  (address) only the torch-free unit tests (transforms, image_io): a few minutes,
#            small enough for every CI run
#   --jobs N build parallelism (default: nproc)
# Suppressions (tests/sanitize/*.supp) cover reports inside uninstrumented libraries (libtorch,
# OpenMP, OpenCV); each entry says why. Reports go to BUILD/sanitizer-logs/ and are listed at
# the end. Exit: 0 clean; 1 a test failed or a sanitizer reported; 2 usage or build error.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
kind=address build="" jobs="$(nproc)" all=0 quick=0
ctest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    address|thread) kind="$1"; shift ;;
    --build-dir) build="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --all) all=1; shift ;;
    --quick) quick=1; shift ;;
    --) shift; ctest_args=("$@"); break ;;
    -h|--help) sed -n '2,19s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "sanitize.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
supp="$root/tests/sanitize"
if [ "$kind" = address ]; then
  build="${build:-$root/build-asan}"
  flags="address,undefined"
  select=(-E '^(parity|node_client|fuzz_smoke)')
  [ "$all" = 1 ] && select=(-E '^fuzz_smoke')
  [ "$quick" = 1 ] && select=(-R '^(transforms\.|image_io)')
else
  build="${build:-$root/build-tsan}"
  flags="thread"
  select=(-R '^(http\.|reliability\.(bad_inputs_http|faults_|soak_smoke))')
  [ "$all" = 1 ] && select=(-E '^fuzz_smoke')
fi
logs="$build/sanitizer-logs"

export CCACHE_DIR="${CCACHE_DIR:-$root/.ccache}"
# Share cached objects between build folders (RelWithDebInfo builds embed the folder otherwise).
export CCACHE_NOHASHDIR=1
mkdir -p "$build"
t0=$(date +%s)
if ! cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPTJS_SANITIZE="$flags" \
     -DPTJS_BUILD_TESTS=ON > "$build/cmake.log" 2>&1; then
  cat "$build/cmake.log" >&2
  exit 2
fi
# ASan's reports while gtest_discover_tests lists tests at build time would fail the build:
# the same options apply then.
common="halt_on_error=1:exitcode=86:log_path=$logs/report"
export ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=0:$common${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:suppressions=$supp/ubsan.supp:$common${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export TSAN_OPTIONS="suppressions=$supp/tsan.supp:second_deadlock_stack=1:report_signal_unsafe=0:$common${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
rm -rf "$logs"
mkdir -p "$logs"
targets=()
[ "$quick" = 1 ] && [ "$kind" = address ] && targets=(--target ptjs_transforms_tests test_image_io)
if ! cmake --build "$build" -j "$jobs" "${targets[@]}" > "$build/build.log" 2>&1; then
  tail -60 "$build/build.log" >&2
  exit 2
fi
t1=$(date +%s)
echo "sanitize.sh: $kind build in $((t1 - t0)) s ($build)" >&2
rm -rf "$logs"
mkdir -p "$logs"
rc=0
ctest --test-dir "$build" --output-on-failure -j "$jobs" "${select[@]}" "${ctest_args[@]}" || rc=1
t2=$(date +%s)
echo "sanitize.sh: $kind tests in $((t2 - t1)) s" >&2

reports=("$logs"/report*)
if [ -e "${reports[0]}" ]; then
  rc=1
  echo "sanitize.sh: ${#reports[@]} sanitizer report(s) in $logs:" >&2
  for r in "${reports[@]}"; do
    echo "--- $r" >&2
    grep -m 1 -E "ERROR: |WARNING: ThreadSanitizer|runtime error" "$r" >&2 || head -3 "$r" >&2
    grep -m 6 -E "^ +#[0-9]+ " "$r" >&2 || true
  done
fi
[ "$rc" = 0 ] && echo "sanitize.sh: $kind: clean" >&2
exit $rc
