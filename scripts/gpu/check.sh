#!/usr/bin/env bash
# The GPU check (issue #7), run ON the GPU machine from the repository root, after
# scripts/gpu/prepare.sh here:   bash scripts/gpu/check.sh        (device tool: carry [".gpu"])
#
# Builds ptjs and its tests against the torch there (pip torch 2.x, its CMake files) with the
# Debian libraries from .gpu/sysroot, runs the unit tests, scores the same folders on cpu and
# cuda and compares them (top-1, largest logit difference), exports the digits model as a .pt2
# AOTInductor package there and scores it, and runs the batch and serve benchmarks on the GPU
# against the Python way on the same GPU. Everything is printed and kept in $OUT/check.txt.
# Each stage has its own time limit, and a stage that fails does not stop the next.
#
# Rehearsal on a CPU machine (the venv's torch 2.13): GPU_CHECK_DEVICE=cpu PTJS_PYTHON=.venv/bin/python
# Environment: GPU_CHECK_DEVICE (default cuda), PTJS_PYTHON (default python3), GPU_CHECK_BUILD
# (build folder, default build-gpu), GPU_CHECK_TORCH (wheel, the default: torch's own CMake files;
# or fallback), GPU_CHECK_STAGES (default "build compare pt2 tests batch serve"),
# GPU_CHECK_PHOTOS (a/ and b/ of photos; default: made by scripts/photos.py), GPU_CHECK_BATCHES
# (default 32), GPU_CHECK_PY_WORKERS (default cores - 1), GPU_CHECK_DURATION (default 3).
set -uo pipefail
shopt -s extglob
root="$(pwd)"
out="${OUT:-/tmp/ptjs-gpu-check}"
mkdir -p "$out"
exec > >(tee "$out/check.txt") 2>&1
dev="${GPU_CHECK_DEVICE:-cuda}"
py="$(command -v "${PTJS_PYTHON:-python3}")"
build="$root/${GPU_CHECK_BUILD:-build-gpu}"
stages="${GPU_CHECK_STAGES:-build compare pt2 tests batch serve}"
sys="$root/.gpu/sysroot"
work="$(mktemp -d)"
ptjs="$build/apps/ptjs/ptjs"
stage() { echo; echo "=== $1 (+${SECONDS}s)"; }
wants() { [[ " $stages " == *" $1 "* ]]; }
[ -d "$sys" ] || { echo "no $sys: run scripts/gpu/prepare.sh on the Debian machine first"; exit 2; }

stage "machine"
nproc; uname -r; command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
"$py" -c 'import torch, torchvision; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available(), "torchvision", torchvision.__version__)'
g++ --version | head -1; cmake --version | head -1; command -v nvcc && nvcc --version | tail -1

# The libraries ptjs loads from here, as links in a folder made afresh each run (the carried
# .gpu stays as it came, so a rerun on a warm machine starts the same): every stub, and each
# carried library this system has no library of that name for (its own are newer). A
# rehearsal on Debian keeps its real BLAS, LAPACK and GLX: Debian's libtorch calls them.
runlib="$root/build-gpu-libs"
rm -rf "$runlib" && mkdir -p "$runlib"
for f in "$sys"/stubs/*.so*; do
  name="$(basename "$f")"
  [ "$dev" = cpu ] && [[ "$name" == lib@(blas|lapack|GLX).so* ]] && continue
  ln -s "$f" "$runlib/$name"
done
for f in "$sys"/lib/*.so*; do
  name="$(basename "$f")"
  [ "$dev" != cpu ] && ldconfig -p | grep -q "^[[:space:]]*$name " && continue
  ln -s "$f" "$runlib/$name"
done
echo "libraries from .gpu/sysroot: $(ls "$runlib" | tr '\n' ' ')"
# ptjs and the test programs find them through DT_RPATH (below), which also serves the
# libraries they load in turn; Python and the rest of the machine never see them.
export PATH="$sys/bin:$PATH"
export PYTHONFAULTHANDLER=1  # a Python that crashes prints where

# The test fixtures and scripts/photos.py read python3-skimage's images where Debian keeps them.
if [ ! -e /usr/lib/python3/dist-packages/skimage/data ]; then
  mkdir -p /usr/lib/python3/dist-packages/skimage
  ln -s "$root/.gpu/skimage-data" /usr/lib/python3/dist-packages/skimage/data
fi

# Exporting the .pt2 needs only Python's torch: it compiles while ptjs builds.
if wants pt2 && [ "$dev" != cpu ]; then
  ( timeout 300 "$py" "$root/scripts/gpu/export_pt2.py" --model "$root/configs/digits/model.pt" \
      --out "$work/digits.pt2" --device "$dev" > "$work/pt2_export.log" 2>&1; echo "exit $?" >> "$work/pt2_export.log" ) &
  pt2_pid=$!
fi

if wants build; then
  stage "build (libtorch from $py)"
  multiarch="-I$sys/usr/include/x86_64-linux-gnu"  # jconfig.h, openssl/configuration.h, cvconfig.h
  generator=(); command -v ninja >/dev/null && generator=(-G Ninja)
  configure() {
    PKG_CONFIG_PATH="$sys/usr/lib/x86_64-linux-gnu/pkgconfig" timeout 120 cmake -S "$root" -B "$build" "${generator[@]}" \
    -DCMAKE_BUILD_TYPE=Release -DPTJS_BUILD_TESTS=ON -DPTJS_PYTHON="$py" \
    -DCMAKE_PREFIX_PATH="$sys/usr" -DOpenCV_DIR="$sys/usr/lib/x86_64-linux-gnu/cmake/opencv4" \
    -DPKG_CONFIG_EXECUTABLE="$sys/bin/pkg-config" -DCMAKE_CXX_FLAGS="$multiarch" -DCMAKE_C_FLAGS="$multiarch" \
    -DCMAKE_EXE_LINKER_FLAGS="-Wl,--disable-new-dtags -Wl,-rpath,$runlib -Wl,-rpath-link,$sys/lib:$sys/stubs -Wl,--allow-shlib-undefined" \
    "$@"
  }
  # The default build's path (scripts/gpu/build-cuda.sh does the same here, compile and link
  # only): torch's own CMake files, found through the Python that has torch. GPU_CHECK_TORCH=fallback
  # uses torch's target by hand instead (scripts/gpu/torch-fallback: why it once was needed).
  if [ "${GPU_CHECK_TORCH:-wheel}" = fallback ]; then
    configure -DPTJS_LIBTORCH=system -DTorch_DIR="$root/scripts/gpu/torch-fallback" > "$work/cmake.log" 2>&1
  else
    configure -DPTJS_LIBTORCH=wheel -DPTJS_TORCH_PYTHON="$py" -DCMAKE_CUDA_COMPILER="$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)" \
      -DTORCH_CUDA_ARCH_LIST=9.0 > "$work/cmake.log" 2>&1
  fi
  rc=$?
  grep -E "ptjs:|torch-fallback|Found" "$work/cmake.log" | head -20
  [ $rc = 0 ] || { echo "cmake failed ($rc):"; tail -60 "$work/cmake.log"; }
  if [ $rc = 0 ]; then
    timeout 240 cmake --build "$build" -j "$(nproc)" > "$work/build.log" 2>&1
    rc=$?
    [ $rc = 0 ] || { echo "build failed ($rc):"; grep -E -A5 "error|Error" "$work/build.log" | head -80; }
  fi
  # Headers from outside the sysroot (other than the C/C++ runtimes and torch's) would mean
  # that this build is not what the Debian build is.
  if [ $rc = 0 ]; then
    stray="$(cat "$build"/CMakeFiles/*/deps* "$build"/.ninja_deps 2>/dev/null | strings | grep -E '^/usr/(local/)?include/(opencv4|yaml-cpp|httplib|nlohmann|CLI|gtest|jpeglib|openssl|brotli|zlib)' | sort -u | head)"
    [ -z "$stray" ] && echo "every dependency header came from .gpu/sysroot" || echo "headers from the system: $stray"
    readelf -d "$ptjs" | grep -q 'NEEDED.*libstdc++' || echo "WARNING: ptjs has libstdc++ linked in statically"
    echo "ptjs: $("$ptjs" --version)"; ldd "$ptjs" | grep -E "torch|c10|opencv|gdal|not found" | head
    # Comes back: a rerun on a fresh machine can skip the build (GPU_CHECK_STAGES without build).
    tar -C "$root" -czf "$out/ptjs-bin.tgz" "${build#"$root"/}/apps/ptjs/ptjs"
  fi
fi
[ -x "$ptjs" ] || { echo "no ptjs binary: nothing more to check"; exit 1; }

if wants diagnose; then
  stage "diagnose"
  echo "torch C++ ABI: $("$py" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')"
  grep -o -- '-D_GLIBCXX_USE_CXX11_ABI=[01]' "$build/build.ninja" | sort | uniq -c
  env | grep -E '^(LD_|MALLOC|OMP|OPENBLAS|MKL)' || true
  ldd "$ptjs"
  gdb="$(command -v gdb || command -v cuda-gdb || ls /usr/local/cuda/bin/cuda-gdb 2>/dev/null)"
  printf 'postprocess:\n  - Raw: {}\n' > "$work/raw.yaml"
  for d in cpu "$dev"; do
    echo "--- ptjs run digits on $d"
    timeout 60 "$ptjs" run --model "$root/configs/digits/model.pt" --input "$root/configs/digits/images/one" -q --device "$d" | head -c 300; echo " exit ${PIPESTATUS[0]}"
  done
  echo "--- the same with BLAS and LAPACK stubs preloaded (no system OpenBLAS in the process)"
  LD_PRELOAD="$(ls "$sys"/stubs/lib{blas,lapack}.so* 2>/dev/null | paste -sd:)" timeout 60 "$ptjs" run \
    --model "$root/configs/digits/model.pt" --input "$root/configs/digits/images/one" -q | head -c 300; echo " exit ${PIPESTATUS[0]}"
  if [ -n "$gdb" ]; then
    echo "--- backtrace ($gdb)"
    timeout 90 "$gdb" -q -batch -ex run -ex bt --args "$ptjs" run --model "$root/configs/digits/model.pt" \
      --input "$root/configs/digits/images/one" -q -o "$work/gdb.jsonl" 2>&1 | grep -E '^#|signal|Program' | head -40
  fi
fi

photos="${GPU_CHECK_PHOTOS:-$work/photos}"
if [ ! -d "$photos" ]; then  # 64 + 64 real-photo JPEG/PNG files, 300x300..1280x720
  "$py" "$root/scripts/photos.py" --out "$photos/all" --count 128 > /dev/null
  mkdir -p "$photos/a" "$photos/b"
  ls "$photos/all" | sort | head -n 64 | while read -r f; do mv "$photos/all/$f" "$photos/a/"; done
  mv "$photos/all/"* "$photos/b/"
fi
raw() {  # name model input device [precision]: Raw records of `ptjs run` into $work/raw-NAME.jsonl
  printf 'device: %s\nprecision: %s\npostprocess:\n  - Raw: {}\n' "$4" "${5:-fp32}" > "$work/overlay-$1.yaml"
  timeout 120 "$ptjs" run --model "$2" --input "$3" --pipeline "$work/overlay-$1.yaml" -q -o "$work/raw-$1.jsonl" \
    || echo "ptjs run $(basename "$2") on $4 ${5:-fp32} failed ($?)"
}
compare() { "$py" "$root/scripts/gpu/compare.py" "$work/raw-$1.jsonl" "$work/raw-$2.jsonl" "$3"; }
if wants compare; then
  stage "compare: the same inputs on cpu and $dev"
  for m in resnet18 mobilenet_v3_small; do
    "$py" "$root/scripts/export_torchvision.py" --arch "$m" --embed-preset --out "$work/$m.pt" > /dev/null
  done
  for model in "$root/configs/digits/model.pt:$root/configs/digits/images" "$work/resnet18.pt:$photos/a" \
               "$work/mobilenet_v3_small.pt:$photos/a"; do
    m="${model%%:*}" in="${model#*:}"
    raw cpu "$m" "$in" cpu
    raw dev "$m" "$in" "$dev"
    compare cpu dev "$(basename "$m") fp32, cpu vs $dev"
  done
  for p in fp16 bf16; do  # (the last model's cpu records stay the reference)
    [ "$dev" = cpu ] && [ $p = fp16 ] && continue
    raw $p "$work/mobilenet_v3_small.pt" "$photos/a" "$dev" $p
    compare cpu $p "mobilenet_v3_small cpu fp32 vs $dev $p"
  done
fi

if wants pt2 && [ "$dev" != cpu ]; then
  stage "pt2: digits exported with torch.export + AOTInductor on $dev, scored by ptjs"
  wait "$pt2_pid"
  cat "$work/pt2_export.log"
  if [ -f "$work/digits.pt2" ]; then
    printf 'name: digits\nmodel: digits.pt2\n' > "$work/digits.yaml"
    sed -n '/^input:/,$p' "$root/configs/digits/model.yaml" >> "$work/digits.yaml"
    cp "$root/configs/digits/labels.txt" "$work/"
    "$ptjs" info --model "$work/digits.yaml" 2>&1 | head -12
    raw pt2 "$work/digits.yaml" "$root/configs/digits/images" "$dev"
    raw ts "$root/configs/digits/model.pt" "$root/configs/digits/images" "$dev"
    compare ts pt2 "digits TorchScript vs .pt2, both on $dev"
    timeout 60 "$ptjs" run --model "$work/digits.yaml" --input "$root/configs/digits/images" -q | head -2
    echo "--- Python's own loader on the same package (a separate process):"
    timeout 60 "$py" -c 'import sys, torch; m = torch._inductor.aoti_load_package(sys.argv[1]); print("output", tuple(m(torch.randn(3, 1, 28, 28, device=sys.argv[2])).shape))' \
      "$work/digits.pt2" "$dev" 2>&1 | grep -v Warning | tail -3; echo "exit ${PIPESTATUS[0]}"
    echo "--- the .pt2 compiled for $dev, run with --device cpu (must be a clear error, not a crash):"
    timeout 60 "$ptjs" run --model "$work/digits.yaml" --input "$root/configs/digits/images/one" --device cpu -q \
      > "$work/mismatch.jsonl"; echo "exit $?"; head -c 600 "$work/mismatch.jsonl"; echo
  fi
fi

if wants tests; then
  stage "unit tests (gtest: core, server, transforms with torchvision $("$py" -c 'import torchvision; print(torchvision.__version__)') as the reference, image_io)"
  (cd "$build" && timeout 150 ctest -j "$(nproc)" --timeout 60 --output-on-failure -R '^(core|server|transforms|image_io)' > "$work/ctest.log" 2>&1)
  grep -E "tests passed|tests failed|Total Test time" "$work/ctest.log"
  grep -E "\*\*\*Failed|\*\*\*Timeout|\*\*\*Exception" "$work/ctest.log" | head -20
  grep -c "Not Run" "$work/ctest.log" | sed 's/$/ not run (a failed fixture)/'
  grep -E -B1 -A12 "(make_images|reference).*\*\*\*Failed" "$work/ctest.log" | grep -v "^ *Start" | head -50
  cp "$work/ctest.log" "$out/ctest.log"
fi

if wants batch; then
  stage "batch benchmark on $dev"
  PTJS_BIN="$ptjs" PTJS_PYTHON="$py" timeout 100 bash "$root/scripts/bench/batch_bench.sh" --device "$dev" \
    --photos "$photos" --batches "${GPU_CHECK_BATCHES:-32}" --repeats 1 --py-threads "${GPU_CHECK_PY_THREADS:-4}" \
    --py-workers "${GPU_CHECK_PY_WORKERS:-$(( $(nproc) - 1 ))}" 2>&1 | tail -8
fi

if wants serve; then
  stage "serve benchmark on $dev"
  # Debian's Flask and gunicorn for the peer, for this stage only.
  "$py" -c 'import pkg_resources' 2>/dev/null || cp "$root/scripts/gpu/pkg_resources_shim.py" "$root/.gpu/py/pkg_resources.py"
  PYTHONPATH="$root/.gpu/py${PYTHONPATH:+:$PYTHONPATH}" PTJS_BIN="$ptjs" PTJS_PYTHON="$py" timeout 90 bash "$root/scripts/bench/serve_bench.sh" --device "$dev" \
    --image "$photos/a/$(ls "$photos/a" | grep -m1 jpg)" --duration "${GPU_CHECK_DURATION:-3}" --warmup 1 2>&1 \
    | grep -v "^serve_bench: [a-z]* c[0-9]*:" | tail -24
fi
echo; echo "=== done (+${SECONDS}s)"
