#!/usr/bin/env bash
# README command 2: install what is missing, build with warnings as errors (libtorch 2.13 from the
# venv), run every test; then the second build, Debian's libtorch 1.13 (build-debian/), and its
# unit, transforms, CLI and parity tests; then the sanitizer stage: ASan + UBSan over the unit,
# HTTP, CLI and bad-input tests, and TSan over the server and batcher tests (scripts/sanitize.sh
# --ci, build-asan/ and build-tsan/). PTJS_SKIP_DEBIAN_BUILD=1 skips the second build.
# PTJS_SKIP_SANITIZERS=1 skips that stage (quick local runs; CI always runs it).
# Arguments go to the first ctest (e.g. -R cli). Exit 0 only when every stage passed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${PTJS_BUILD_DIR:-$root/build}"
t=$(date +%s)
"$root/scripts/install-deps.sh"
echo "test.sh: install-deps in $(( $(date +%s) - t )) s" >&2
t=$(date +%s)
PTJS_BUILD_DIR="$build" "$root/scripts/build.sh" -DPTJS_WERROR=ON -DPTJS_BUILD_TESTS=ON
echo "test.sh: build (libtorch 2.13) in $(( $(date +%s) - t )) s" >&2
# install-deps.sh has just installed clang and libFuzzer: the fuzz smoke must run, not skip.
export PTJS_FUZZ_SMOKE_REQUIRED=1
# ... and chromium with playwright-core: the browser tests must run too.
export PTJS_BROWSER_REQUIRED=1
# ... and Slurm with munge: the array job test must run too.
export PTJS_SLURM_REQUIRED=1
t0=$(date +%s)
failed=()
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" "$@" || failed+=(tests)
echo "test.sh: tests in $(( $(date +%s) - t0 )) s" >&2

if [ "${PTJS_SKIP_DEBIAN_BUILD:-0}" = 1 ]; then
  echo "test.sh: PTJS_SKIP_DEBIAN_BUILD=1: the libtorch 1.13 build skipped" >&2
else
  t=$(date +%s)
  debian_build="${PTJS_DEBIAN_BUILD_DIR:-$root/build-debian}"
  if PTJS_BUILD_DIR="$debian_build" PTJS_BUILD_TARGETS="ptjs ptjs_transforms_tests test_image_io test_core" \
       "$root/scripts/build.sh" -DPTJS_LIBTORCH=system -DPTJS_WERROR=ON -DPTJS_BUILD_TESTS=ON; then
    # cli.records (eval, compare) is left out: that code is libtorch-free, and the runs it makes
    # are the other cli tests' own.
    ctest --test-dir "$debian_build" --output-on-failure -j "$(nproc)" \
      -R '^(transforms\.|image_io|core\.|cli|parity)' -E '^cli\.records\.' || failed+=(debian-libtorch)
  else
    failed+=(debian-libtorch-build)
  fi
  echo "test.sh: libtorch 1.13 build and tests in $(( $(date +%s) - t )) s" >&2
fi

if [ "${PTJS_SKIP_SANITIZERS:-0}" = 1 ]; then
  echo "test.sh: PTJS_SKIP_SANITIZERS=1: sanitizer stage skipped" >&2
else
  # Sequential: each stage uses every core to build, and the server tests are timing-sensitive.
  for kind in address thread; do
    t=$(date +%s)
    "$root/scripts/sanitize.sh" "$kind" --ci || failed+=("sanitize-$kind")
    echo "test.sh: sanitizer stage $kind in $(( $(date +%s) - t )) s" >&2
  done
fi
echo "test.sh: total $(( $(date +%s) - t0 )) s after the build" >&2
if [ ${#failed[@]} -gt 0 ]; then
  echo "test.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "test.sh: all passed" >&2
