#!/usr/bin/env bash
# Builds ptjs and its tests with sanitizers into a build folder of their own and runs the tests
# under them. A sanitizer report anywhere (test binaries, or the ptjs processes the CLI, HTTP and
# reliability tests start) fails the run, even when the test that triggered it passed.
#
# usage: scripts/sanitize.sh [address|thread] [--build-dir DIR] [--jobs N] [--all | --quick | --ci]
#                            [--build-only] [-- CTEST_ARGS...]
#   address  (default) -DPTJS_SANITIZE=address,undefined into build-asan; runs the unit, CLI,
#            HTTP and reliability tests (not parity, node, fuzz smoke: --all runs them too)
#   thread   -DPTJS_SANITIZE=thread into build-tsan; runs the server, batcher and reliability
#            server tests (http.*, reliability.bad_inputs_http, reliability.faults_*, soak smoke)
#   --quick  (address) only the torch-free unit tests (transforms, image_io): a few minutes
#   --ci     the selection scripts/test.sh runs on every CI run (builds only what it runs):
#            address: unit tests (transforms, image_io, core), http.*, the CLI tests but the
#            ones in CI_SKIP_CLI below, and the bad-input matrix (reliability.bad_inputs_*)
#            thread: http.* (the server, its batcher threads, shutdown), only ptjs + test_http
#   --jobs N build parallelism (default: nproc)
#   --build-only  configure and build (what the selection needs), run no test
# Built -O1 -g1 (RelWithDebInfo with those flags): sanitizer stacks keep function, file and
# line; -O2 -g compiles about twice as slowly with GCC's UBSan. PTJS_SANITIZE_FLAGS overrides.
# Suppressions (tests/sanitize/*.supp) cover reports inside uninstrumented libraries (libtorch,
# OpenMP, OpenCV); each entry says why. Reports go to BUILD/sanitizer-logs/ and are listed at
# the end. Exit: 0 clean; 1 a test failed or a sanitizer reported; 2 usage or build error.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
kind=address build="" jobs="$(nproc)" all=0 quick=0 ci=0 build_only=0
ctest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    address|thread) kind="$1"; shift ;;
    --build-dir) build="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --all) all=1; shift ;;
    --quick) quick=1; shift ;;
    --ci) ci=1; shift ;;
    --build-only) build_only=1; shift ;;
    --) shift; ctest_args=("$@"); break ;;
    -h|--help) sed -n '2,23s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "sanitize.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
supp="$root/tests/sanitize"
# --ci, address: CLI tests left out (every one still runs in the normal build), to keep the stage
# CI-sized; each ptjs start under ASan costs about 2.5 CPU-seconds (libtorch's start-up):
#  - deploy, shards: YAML checks in Python, and the run path again three times with a filter;
#  - version, usage/missing/not-a-model/--resume errors, bad --shard: they stop at argument
#    parsing or model loading, before ptjs does any work of its own;
#  - records.EvalTest: some 30 ptjs starts and four runs over the digits; its reading of records
#    and the comparison code run under ASan in records.CompareTest.
CI_SKIP_CLI='cli\.(deploy|records\.EvalTest|test_shards_cover_every_input_once|test_bad_shard_is_usage_error|test_version'
CI_SKIP_CLI+='|test_usage_error_exit_2|test_missing_model_exit_2|test_not_a_model_exit_2|test_resume_needs_output)$'
targets=()
if [ "$kind" = address ]; then
  build="${build:-$root/build-asan}"
  flags="address,undefined"
  select=(-E '^(parity|node_client|fuzz_smoke)')
  [ "$all" = 1 ] && select=(-E '^fuzz_smoke')
  if [ "$quick" = 1 ]; then
    select=(-R '^(transforms\.|image_io)')
    targets=(--target ptjs_transforms_tests test_image_io)
  fi
  [ "$ci" = 1 ] && select=(-R '^(transforms\.|image_io|core\.|http\.|cli\.|reliability\.bad_inputs_)' -E "^$CI_SKIP_CLI")
else
  build="${build:-$root/build-tsan}"
  flags="thread"
  select=(-R '^(http\.|reliability\.(bad_inputs_http|faults_|soak_smoke))')
  [ "$all" = 1 ] && select=(-E '^fuzz_smoke')
  if [ "$ci" = 1 ]; then
    select=(-R '^http\.')
    targets=(--target ptjs test_http)
  fi
fi
opt="${PTJS_SANITIZE_FLAGS:--O1 -g1}"
logs="$build/sanitizer-logs"

export CCACHE_DIR="${CCACHE_DIR:-$root/.ccache}"
# Share cached objects between build folders (RelWithDebInfo builds embed the folder otherwise).
export CCACHE_NOHASHDIR=1
mkdir -p "$build"
t0=$(date +%s)
if ! cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPTJS_SANITIZE="$flags" \
     -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$opt -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="$opt -DNDEBUG" \
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
if ! cmake --build "$build" -j "$jobs" "${targets[@]}" > "$build/build.log" 2>&1; then
  tail -60 "$build/build.log" >&2
  exit 2
fi
t1=$(date +%s)
echo "sanitize.sh: $kind build in $((t1 - t0)) s ($build)" >&2
[ "$build_only" = 1 ] && exit 0
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
# A second net: a report printed to a test's own output instead of log_path (none is expected).
ctest_log="$build/Testing/Temporary/LastTest.log"
if [ -f "$ctest_log" ] && grep -q -E "^SUMMARY: [A-Za-z]+Sanitizer|: runtime error: " "$ctest_log"; then
  rc=1
  echo "sanitize.sh: sanitizer output in the tests' output ($ctest_log):" >&2
  grep -m 10 -E "^SUMMARY: [A-Za-z]+Sanitizer|: runtime error: " "$ctest_log" >&2
fi
[ "$rc" = 0 ] && echo "sanitize.sh: $kind: clean" >&2
exit $rc
