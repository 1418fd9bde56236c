#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang with -fsanitize=fuzzer,address,undefined)
# and runs each for N seconds, one after the other, printing executions and any crash.
#
# usage: scripts/fuzz.sh [--seconds N] [--build-dir DIR] [--crash-dir DIR] [--jobs N]
#                        [--build-only | --no-build] [--replay] [--keep-going] [TARGET...]
#   TARGET         fuzz_decode fuzz_v2_request fuzz_multipart fuzz_model_spec (default: all;
#                  the fuzz_ prefix may be left out)
#   --seconds N    fuzzing time per target (default 600)
#   --build-dir    clang build folder (default build-fuzz); the working corpus and logs go in
#                  DIR/fuzz-run/<target>/, seeds stay untouched in tests/fuzz/corpus/<target>/
#   --crash-dir    where a crashing input is copied (default tests/fuzz/crashes)
#   --jobs N       build parallelism (default 2)
#   --build-only   configure and build, run nothing
#   --no-build     use the targets already built in --build-dir
#   --replay       run each target once over its seeds and tests/fuzz/crashes (a regression
#                  check: every committed reproducer must now pass), no fuzzing
#   --keep-going   fuzz on after a crash (libFuzzer -fork=1 -ignore_crashes=1 ...), then list
#                  the distinct crashes, one reproducer each: for long runs while bugs are open
# Exit: 0 no crash; 1 a target crashed, leaked, timed out or ran out of memory (the input is
# in --crash-dir); 2 usage error or clang/libFuzzer missing (scripts/install-deps.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds=600 build="$root/build-fuzz" crash_dir="$root/tests/fuzz/crashes" jobs=2 build_only=0 no_build=0 replay=0 keep_going=0
targets=()
all_targets=(fuzz_decode fuzz_v2_request fuzz_multipart fuzz_model_spec)
usage() { sed -n '2,22s/^# \{0,1\}//p' "$0"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --build-dir) build="$2"; shift 2 ;;
    --crash-dir) crash_dir="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --build-only) build_only=1; shift ;;
    --no-build) no_build=1; shift ;;
    --replay) replay=1; shift ;;
    --keep-going) keep_going=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    *) t="$1"; [[ "$t" == fuzz_* ]] || t="fuzz_$t"
       [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target $1 (${all_targets[*]})" >&2; exit 2; }
       targets+=("$t"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --seconds takes a whole number" >&2; exit 2; }

# clang and its libFuzzer runtime (Debian: clang + libclang-rt-14-dev).
probe="$(mktemp -d)"
trap 'rm -rf "$probe"' EXIT
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' > "$probe/p.cpp"
if ! command -v clang++ >/dev/null 2>&1 || ! clang++ -fsanitize=fuzzer,address,undefined "$probe/p.cpp" -o "$probe/p" >/dev/null 2>&1; then
  echo "fuzz.sh: clang++ with libFuzzer is missing: scripts/install-deps.sh (clang libclang-rt-14-dev)" >&2
  exit 2
fi

export CCACHE_DIR="${CCACHE_DIR:-$root/.ccache}"
# Share cached objects between build folders (RelWithDebInfo builds embed the folder otherwise).
export CCACHE_NOHASHDIR=1
mkdir -p "$build"
if [ "$no_build" = 1 ]; then
  :
elif ! cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
     -DCMAKE_CXX_COMPILER=clang++ -DPTJS_FUZZ=ON -DPTJS_BUILD_TESTS=ON > "$build/cmake.log" 2>&1; then
  cat "$build/cmake.log" >&2
  exit 2
fi
if [ "$no_build" = 0 ]; then
  start=$(date +%s)
  cmake --build "$build" --target "${targets[@]}" -j "$jobs" > "$build/build.log" 2>&1 || { tail -50 "$build/build.log" >&2; exit 2; }
  echo "fuzz.sh: built ${targets[*]} in $(( $(date +%s) - start )) s ($build)" >&2
fi
[ "$build_only" = 1 ] && exit 0

# Sanitizer settings: a failed allocation throws (as in production) rather than aborting, so
# only real bugs stop the run; leaks are checked; UBSan prints where.
export ASAN_OPTIONS="${ASAN_OPTIONS:-allocator_may_return_null=1:detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

status=0
mkdir -p "$crash_dir"
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/$t"
  seeds="$root/tests/fuzz/corpus/$t"
  run="$build/fuzz-run/$t"
  mkdir -p "$run/corpus" "$run/artifacts"
  dict=()
  [ -f "$root/tests/fuzz/dict/$t.dict" ] && dict=(-dict="$root/tests/fuzz/dict/$t.dict")
  log="$run/fuzz.log"
  if [ "$replay" = 1 ]; then
    inputs=("$seeds"/*)
    for c in "$root"/tests/fuzz/crashes/"$t"-*; do [ -f "$c" ] && inputs+=("$c"); done
    if "$bin" -rss_limit_mb=4096 -timeout=60 "${inputs[@]}" > "$log" 2>&1; then
      echo "$t: replayed ${#inputs[@]} inputs: ok"
    else
      echo "$t: replay FAILED (log: $log)"; grep -m 20 -E "ERROR|SUMMARY|Running:|runtime error" "$log" || true
      status=1
    fi
    continue
  fi
  t0=$(date +%s)
  rc=0
  mode=()
  [ "$keep_going" = 1 ] && mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  rm -f "$run"/artifacts/*
  "$bin" "${mode[@]}" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 -print_funcs=0 \
    -artifact_prefix="$run/artifacts/" "${dict[@]}" "$run/corpus" "$seeds" > "$log" 2>&1 || rc=$?
  took=$(( $(date +%s) - t0 ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  corpus=$(find "$run/corpus" -type f | wc -l)
  if [ -z "$execs" ]; then  # fork mode, or a crash (no final stats): the last status line
    execs=$( (grep -oE '^#[0-9]+' "$log" || true) | tail -1 | tr -d '#')
  fi
  [ -n "$rss" ] || rss=$( (grep -oE 'rss: [0-9]+Mb' "$log" || true) | tail -1 | tr -dc '0-9')
  line="$t: ${execs:-?} executions in ${took} s ($(( ${execs:-0} / (took > 0 ? took : 1) ))/s), corpus $corpus, peak RSS ${rss:-?} MB"
  artifacts=("$run"/artifacts/*)
  [ -e "${artifacts[0]}" ] || artifacts=()
  if [ "$rc" = 0 ] && [ ${#artifacts[@]} = 0 ]; then
    echo "$line: no crash"
    continue
  fi
  status=1
  echo "$line: ${#artifacts[@]} crashing input(s) (exit $rc, log $log)"
  # One reproducer per distinct failure: its first sanitizer line or uncaught exception.
  declare -A seen=()
  for a in "${artifacts[@]}"; do
    sig=$("$bin" -rss_limit_mb=4096 -timeout=30 "$a" 2>&1 | grep -m1 -E "runtime error|ERROR: AddressSanitizer|what\(\)|ERROR: LeakSanitizer|out-of-memory|timeout after|ERROR: libFuzzer" \
          | sed -E "s/==[0-9]+==//; s/0x[0-9a-f]+/0x…/g; s/'[^']*'/'…'/g; s/line [0-9]+, column [0-9]+/line N, column N/g" || true)
    [ -n "$sig" ] || sig="(did not reproduce alone)"
    [ -n "${seen[$sig]:-}" ] && { seen[$sig]=$(( ${seen[$sig]} + 1 )); continue; }
    seen[$sig]=1
    dest="$crash_dir/$t-$(basename "$a")"
    cp "$a" "$dest"
    echo "  $sig"
    echo "    reproducer: $dest   (rerun: $bin $dest)"
  done
  unset seen
done
exit $status
