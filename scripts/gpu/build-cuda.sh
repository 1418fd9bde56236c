#!/usr/bin/env bash
# Builds ptjs against a CUDA build of torch with the machine's nvcc, through the same CMake path as
# the default build (-DPTJS_LIBTORCH=wheel, torch's own TorchConfig.cmake), so that the CUDA code
# paths compile in a build anyone can repeat. Here (no GPU) it compiles and links only; on a GPU
# machine scripts/gpu/check.sh builds the same way and runs.
#
#   scripts/gpu/build-cuda.sh            # makes .venv-cuda (torch 2.14.1, ~5.5 GB) and build-cuda/
# Environment: PTJS_CUDA_VENV (default .venv-cuda), PTJS_CUDA_TORCH (default 2.14.1, the CUDA
# build this kind of machine has on disk), PTJS_CUDA_PYTHON (a Python whose torch to use instead
# of making a venv), PTJS_BUILD_DIR (default build-cuda), CUDA_ARCHS (default 9.0: H100/H200).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
py="${PTJS_CUDA_PYTHON:-}"
if [ -z "$py" ]; then
  venv="${PTJS_CUDA_VENV:-$root/.venv-cuda}"
  py="$venv/bin/python"
  if ! "$py" -c 'import torch, sys; sys.exit(torch.version.cuda is None)' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "torch==${PTJS_CUDA_TORCH:-2.14.1}" 2>&1 | grep -v "^WARNING: Location" || true
  fi
fi
"$py" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda)'
nvcc="$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)"
"$nvcc" --version | tail -1
export PTJS_BUILD_DIR="${PTJS_BUILD_DIR:-$root/build-cuda}"
export PTJS_BUILD_TARGETS="${PTJS_BUILD_TARGETS:-ptjs}"
"$root/scripts/build.sh" -DPTJS_LIBTORCH=wheel -DPTJS_TORCH_PYTHON="$py" -DPTJS_BUILD_TESTS=OFF \
  -DCMAKE_CUDA_COMPILER="$nvcc" -DTORCH_CUDA_ARCH_LIST="${CUDA_ARCHS:-9.0}" "$@"
ptjs="$PTJS_BUILD_DIR/apps/ptjs/ptjs"
readelf -d "$ptjs" | grep -q 'NEEDED.*libstdc++' || { echo "build-cuda: ptjs has libstdc++ linked in statically" >&2; exit 1; }
readelf -d "$ptjs" | grep -E 'NEEDED.*(torch|c10)'
echo "build-cuda: built $ptjs"
