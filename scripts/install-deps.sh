#!/bin/sh
# Install what ptjs needs: the Debian 12 packages, with apt-get, and the Python venv that holds
# libtorch 2.13 (the default build's, inside the PyTorch wheel). Idempotent and quiet when
# everything is already present (checked with dpkg-query and the venv's own torch).
#
# usage: scripts/install-deps.sh [--with-bench] [--all] [--dry-run]
#   default       build + every test scripts/test.sh runs (unit/CLI/HTTP/node/browser/parity,
#                 the sanitizer stage) + demo, and clang + libclang-rt-14-dev for the libFuzzer
#                 targets and the suite's fuzz smoke
#   --with-bench  also wrk, python3-flask, gunicorn (serve benchmark baselines)
#   --with-fuzz   accepted for older scripts: clang is in the default group now
#   --all         every group
#   --dry-run     print what would be installed, install nothing
# Works as root (CI, containers) or as a user with sudo.
#
# The venv: $PTJS_VENV (default <checkout>/.venv, git-ignored), made with $PTJS_VENV_PYTHON
# (default python3, which must be CPython 3.11 for the local wheel), holds torch==2.13.0 (CPU
# build; its libtorch is what CMake builds against), torchvision 0.28.0 (the model definitions
# and transforms that export .pt2 packages and serve as today's reference), Pillow, NumPy, PyYAML.
set -eu

BASE="build-essential cmake pkg-config ccache git ca-certificates curl
  libtorch-dev libopencv-dev libyaml-cpp-dev libcli11-dev libcpp-httplib-dev
  nlohmann-json3-dev libgtest-dev libgmock-dev libjpeg62-turbo-dev
  python3-torch python3-torchvision python3-pil python3-numpy python3-yaml
  python3-sklearn python3-skimage
  clang libclang-rt-14-dev
  libopenblas0-openmp
  chromium fonts-dejavu-core
  slurm-wlm munge python3-jsonschema"
# libopenblas0-openmp: Debian's libtorch calls BLAS through libblas.so.3, which is the netlib
# reference implementation unless an optimised one is installed (the alternatives system then
# picks it). Measured here: mobilenet_v3_small forward at batch 1, 50 -> 130 images/s.
# chromium: the browser tests of the page at GET / and the HTML reports (tests/browser, driven by
# playwright-core from npm, which this script installs there with `npm ci`). slurm-wlm, munge:
# the Slurm array job test (tests/cluster starts its own controller and node); python3-jsonschema:
# the Indexed Job's schema check (tests/cli/test_deploy.py).
BENCH="wrk python3-flask gunicorn"

groups="base" dry=0
for arg in "$@"; do
  case "$arg" in
    --with-bench) groups="$groups bench" ;;
    --with-fuzz)  ;;
    --all)        groups="$groups bench" ;;
    --dry-run)    dry=1 ;;
    -h|--help)    sed -n '2,13s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "install-deps: unknown option: $arg (try --help)" >&2; exit 2 ;;
  esac
done

wanted=""
for g in $groups; do
  case "$g" in
    base)  wanted="$wanted $BASE" ;;
    bench) wanted="$wanted $BENCH" ;;
  esac
done

# Node.js: accept any node on PATH (nodesource, nvm, ...); install Debian's nodejs only
# when there is none. Node >= 20 is needed; Debian 12's own nodejs is 18.x (warned below).
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" = 0 ]; then wanted="$wanted nodejs"; fi

check_node() {
  if [ "$(node_major)" -lt 20 ]; then
    echo "install-deps: warning: node $(node_major) found; the Node client and its tests" \
         "need Node >= 20 (e.g. from nodesource)" >&2
  fi
  return 0
}

missing=""
for p in $wanted; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing="$missing $p"
done
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${PTJS_VENV:-$root/.venv}"
# The venv is wanted when it is missing or its torch is not the one pinned here.
venv_ok() { "$venv/bin/python" -c 'import torch, sys; sys.exit(torch.__version__.split("+")[0] != "2.13.0")' 2>/dev/null; }
make_venv() {
  venv_ok && return 0
  echo "install-deps: making the venv $venv (torch 2.13.0 CPU, torchvision 0.28.0)" >&2
  [ "$dry" = 1 ] && return 0
  "${PTJS_VENV_PYTHON:-python3}" -m venv "$venv"
  # Exact pins: a range would let pip take a CUDA build of torch (several GB) instead of the
  # CPU wheel. torchvision 0.28.0 is the release for torch 2.13; see scripts/torchvision_models.py
  # for why its compiled operators do not load beside the CPU torch and what that leaves out.
  "$venv/bin/pip" install -q --disable-pip-version-check \
    torch==2.13.0 torchvision==0.28.0 pillow numpy pyyaml 2>&1 | grep -v "^WARNING: Location" >&2 || true
  venv_ok || { echo "install-deps: the venv $venv has no torch 2.13.0" >&2; exit 1; }
}

# playwright-core for the browser test, at the version tests/browser/package-lock.json pins.
browser_tests="$root/tests/browser"
npm_ci() {
  [ -f "$browser_tests/node_modules/playwright-core/package.json" ] && return 0
  [ "$(node_major)" -ge 20 ] || return 0
  echo "install-deps: npm ci in tests/browser (playwright-core)" >&2
  [ "$dry" = 1 ] && return 0
  npm ci --prefix "$browser_tests" --no-audit --no-fund --loglevel=error >&2 \
    || { echo "install-deps: npm ci in tests/browser failed" >&2; exit 1; }
}

if [ -z "$missing" ]; then
  check_node
  make_venv
  npm_ci
  exit 0
fi

echo "install-deps: installing:$missing" >&2
[ "$dry" = 1 ] && { make_venv; npm_ci; exit 0; }

if [ "$(id -u)" = 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "install-deps: not root and no sudo; install as root:$missing" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
check_node
make_venv
npm_ci
echo "install-deps: done" >&2
