#!/usr/bin/env bash
# Builds ptjs against a CUDA build of torch with the machine's nvcc, through the same CMake path as
# the default build (-DPTJS_LIBTORCH=wheel, torch's own TorchConfig.cmake), so that the CUDA code
# paths compile in a build anyone can repeat. Here (no GPU) it compiles and links only; on a GPU
# machine scripts/gpu/check.sh builds the same way and runs.
#
#   scripts/gpu/build-cuda.sh            # makes .venv-cuda (torch 2.14.1, ~5.5 GB) and build-cuda/
# Environment: PTJS_CUDA_VENV (default .venv-cuda), PTJS_CUDA_TORCH (default 2.14.1, the CUDA
# build this kind of machine has on disk), CUDA_HOME (default /usr/local/cuda), PTJS_CUDA_PYTHON (a Python whose torch to use instead
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
# The toolkit's own nvcc (a wrapper on PATH, such as /usr/local/bin/nvcc here, would make CMake's
# FindCUDA look for the headers and libcudart beside the wrapper).
cuda_root="${CUDA_HOME:-/usr/local/cuda}"
nvcc="$cuda_root/bin/nvcc"
[ -x "$nvcc" ] || nvcc="$(command -v nvcc)"
"$nvcc" --version | tail -1
# libnvrtc: torch links it; a toolkit without it (this machine's) uses the copy in torch's own
# nvidia-* wheels, the one libtorch_cuda loads at run time anyway.
extra=()
if ! ls "$cuda_root"/lib64/libnvrtc.so* >/dev/null 2>&1; then
  nvrtc="$("$py" -c 'import glob, os, torch; site = os.path.dirname(os.path.dirname(torch.__file__)); print((sorted(glob.glob(site + "/nvidia/*/lib/libnvrtc.so.*")) + sorted(glob.glob(site + "/nvidia/*/*/lib/libnvrtc.so.*")))[0])')"
  extra+=(-DCUDA_nvrtc_LIBRARY="$nvrtc")
fi
export PTJS_BUILD_DIR="${PTJS_BUILD_DIR:-$root/build-cuda}"
export PTJS_BUILD_TARGETS="${PTJS_BUILD_TARGETS:-ptjs}"
"$root/scripts/build.sh" -DPTJS_LIBTORCH=wheel -DPTJS_TORCH_PYTHON="$py" -DPTJS_BUILD_TESTS=OFF \
  -DCMAKE_CUDA_COMPILER="$nvcc" -DCUDA_TOOLKIT_ROOT_DIR="$cuda_root" -DCUDAToolkit_ROOT="$cuda_root" \
  -DTORCH_CUDA_ARCH_LIST="${CUDA_ARCHS:-9.0}" "${extra[@]}" "$@"
ptjs="$PTJS_BUILD_DIR/apps/ptjs/ptjs"
readelf -d "$ptjs" | grep -q 'NEEDED.*libstdc++' || { echo "build-cuda: ptjs has libstdc++ linked in statically" >&2; exit 1; }
readelf -d "$ptjs" | grep -E 'NEEDED.*(torch|c10)'
echo "build-cuda: built $ptjs"
