#!/usr/bin/env bash
# Run ON the GPU machine (device tool), from the repository root, after fetch_debs.sh here:
#   bash scripts/gpu/check.sh            (carry: [".gpu"], timeout ~540 s)
# Builds ptjs against the pip torch there (its CMake files), runs the unit tests, scores the
# digits folder on cpu and cuda and compares, and exports + loads a .pt2 AOTInductor package.
# Figures are printed and written to $OUT/gpu_check.txt. Not yet verified on a GPU machine.
set -uo pipefail
root="$(pwd)"
log="${OUT:-/tmp}/gpu_check.txt"
exec > >(tee "$log") 2>&1
sys="$root/.gpu/sysroot"
mkdir -p "$sys"
for f in .gpu/debs/*.deb; do dpkg -x "$f" "$sys"; done
export LD_LIBRARY_PATH="$sys/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
torch_cmake="$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')"
echo "torch $(python3 -c 'import torch;print(torch.__version__, torch.version.cuda)')"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
time cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DPTJS_BUILD_TESTS=ON \
  -DCMAKE_PREFIX_PATH="$torch_cmake;$sys/usr;$sys/usr/lib/x86_64-linux-gnu/cmake" \
  -DOpenCV_DIR="$sys/usr/lib/x86_64-linux-gnu/cmake/opencv4" -DPTJS_PYTHON="$(command -v python3)" > build-gpu.cmake.log \
  || { tail -40 build-gpu.cmake.log; exit 1; }
time cmake --build build-gpu -j 16 --target ptjs test_core || exit 1
build-gpu/tests/unit/test_core --gtest_brief=1
ptjs=build-gpu/apps/ptjs/ptjs
"$ptjs" run --model configs/digits/model.pt --input configs/digits/images --device cpu -q > /tmp/cpu.jsonl
"$ptjs" run --model configs/digits/model.pt --input configs/digits/images --device cuda -q > /tmp/cuda.jsonl
python3 - <<'PY'
import json
cpu = [json.loads(l) for l in open("/tmp/cpu.jsonl")]
gpu = [json.loads(l) for l in open("/tmp/cuda.jsonl")]
same = sum(a["predictions"][0]["index"] == b["predictions"][0]["index"] for a, b in zip(cpu, gpu))
diff = max(abs(a["predictions"][0]["score"] - b["predictions"][0]["score"]) for a, b in zip(cpu, gpu))
print(f"digits cpu vs cuda: top-1 identical {same}/{len(cpu)}, max |score diff| {diff:.3g}")
PY
python3 - <<'PY'
import torch, torchvision
m = torchvision.models.mobilenet_v3_small(weights=None).eval()
ep = torch.export.export(m, (torch.randn(2, 3, 224, 224),), dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=64)},))
torch._inductor.aoti_compile_and_package(ep, package_path="/tmp/mnv3.pt2")
open("/tmp/mnv3.yaml", "w").write("name: mnv3\nmodel: mnv3.pt2\ninput: {mode: RGB}\npreprocess: {preset: ImageClassification, crop_size: 224, resize_size: 256}\n")
PY
"$ptjs" run --model /tmp/mnv3.yaml --input configs/digits/images/one --topk 1 -q | head -2
