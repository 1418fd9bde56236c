#!/usr/bin/env bash
# Batch benchmark: `ptjs run` against the Python way (PIL + torchvision + torch.jit.load, with
# DataLoader workers and torch threads tuned by a sweep) on the same folder of real-photo
# JPEG/PNG files, same models, same batch sizes, on this machine in one run. Prints images/s
# and the ratio, plus forward-only images/s on preprocessed tensors (the model's own limit).
#
#   scripts/bench/batch_bench.sh [--count N] [--models "resnet18 mobilenet_v3_small"] [--batches "1 8"]
#                                [--repeats R] [--device cuda] [--photos DIR]
#                                [--py-threads "1 CORES"] [--py-workers "0 1 CORES"]
#   --device D       ptjs run --device D, and the Python way's model and batches on D too
#   --photos DIR     photos to score (DIR/a: N files, DIR/b: N more; scripts/gpu/prepare.sh
#                    makes them) instead of generating them with python3-skimage
#   --py-threads/--py-workers: the settings the Python sweep tries
#   env PTJS_RUN_ARGS: extra `ptjs run` flags, e.g. "--threads 1" (printed in the header)
#   env PTJS_PYTHON: the Python with torch/torchvision/Pillow (default /usr/bin/python3)
#
# Rates are steady-state: each tool scores N photos and then 2N (the first N again plus N
# more), and the rate is N / (time for 2N - time for N), so that what every run pays once
# (process start-up, model loading, TorchScript's profiling runs on the first batches, pool
# start) cancels out on both sides alike; that one-time cost is printed too. Not a test:
# figures vary with the machine; compare the ratios.
#
# The sweep picks Python's best settings from one measurement each; the best of six noisy
# figures is biased upwards, so the reported rates are measured again afterwards: ptjs and
# Python's chosen settings take turns, R times (default 3), and each side's median counts
# (the ratio is of the medians; "spread" is the lowest and highest ratio of the R turns).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
count=64
models="resnet18 mobilenet_v3_small"
batches="1 8"
repeats=3
device=cpu
photos=""
py_threads=""
py_workers=""
while [ $# -gt 0 ]; do
  case "$1" in
    --count) count="$2"; shift 2 ;;
    --models) models="$2"; shift 2 ;;
    --batches) batches="$2"; shift 2 ;;
    --repeats) repeats="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    --photos) photos="$2"; shift 2 ;;
    --py-threads) py_threads="$2"; shift 2 ;;
    --py-workers) py_workers="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
ptjs="${PTJS_BIN:-$root/build/apps/ptjs/ptjs}"
py="${PTJS_PYTHON:-/usr/bin/python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cores="$(nproc)"
py_threads="${py_threads:-1 $cores}"
py_workers="${py_workers:-0 1 $cores}"

mkdir -p "$work/photos1" "$work/photos2"
if [ -n "$photos" ]; then
  for f in "$photos"/a/* "$photos"/b/*; do ln -s "$f" "$work/photos2/$(basename "$(dirname "$f")")-$(basename "$f")"; done
  count=$(( $(ls "$work/photos2" | wc -l) / 2 ))
else
  "$py" "$root/scripts/photos.py" --out "$work/photos2" --count "$(( 2 * count ))" > /dev/null
fi
ls "$work/photos2" | sort | head -n "$count" | while read -r f; do ln -s "$work/photos2/$f" "$work/photos1/$f"; done
for m in $models; do "$py" "$root/scripts/export_torchvision.py" --arch "$m" --embed-preset --out "$work/$m.pt" > /dev/null; done

seconds_ptjs() {  # model batch folder -> seconds of ptjs's scoring loop
  # shellcheck disable=SC2086  # PTJS_RUN_ARGS is a list of flags
  "$ptjs" run --model "$1" --input "$3" --batch-size "$2" --device "$device" --output "$work/out.jsonl" ${PTJS_RUN_ARGS:-} 2>&1 >/dev/null \
    | sed -n 's/.* scored in \([0-9.]*\) s .*/\1/p' | tail -1
}
seconds_python() {  # model batch workers threads folder -> seconds of the Python scoring loop
  "$py" "$root/scripts/bench/python_run.py" --model "$1" --input "$5" --batch-size "$2" \
    --workers "$3" --threads "$4" --device "$device" --output "$work/py.jsonl" 2>&1 >/dev/null \
    | sed -n 's/.* images in \([0-9.]*\) s:.*/\1/p' | tail -1
}
# "t1 t2" (seconds for N and 2N) -> "rate once": steady images/s and the one-time seconds.
steady() {
  awk -v n="$count" -v t1="$1" -v t2="$2" 'BEGIN {
    d = t2 - t1; if (d <= 0) { print "nan nan"; exit }
    r = n / d; printf "%.1f %.2f\n", r, t1 - n / r }'
}
rate_ptjs() {  # model batch -> "rate once"
  steady "$(seconds_ptjs "$1" "$2" "$work/photos1")" "$(seconds_ptjs "$1" "$2" "$work/photos2")"
}
rate_python() {  # model batch workers threads -> "rate once"
  steady "$(seconds_python "$1" "$2" "$3" "$4" "$work/photos1")" "$(seconds_python "$1" "$2" "$3" "$4" "$work/photos2")"
}
forward_only() {  # model batch -> img/s of forwards on preprocessed tensors, run as ptjs runs them:
  # on CPU one lane per core (that many forwards at once, one libtorch thread each), on CUDA one
  "$py" - "$1" "$2" "$device" "$cores" <<'PY'
import sys, threading, time, torch
model, batch, device, cores = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
lanes, threads = (1, cores) if device.startswith("cuda") else (cores, 1)
torch.set_num_threads(threads)
m = torch.jit.load(model, map_location=device).eval()
x = torch.randn(batch, 3, 224, 224)
sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
counts = [0] * lanes
def lane(i, until):
    torch.set_num_threads(threads)
    with torch.inference_mode():  # a batch from host memory each time, as a scorer gets it
        while time.perf_counter() < until:
            m(x.to(device)); counts[i] += batch
        sync()
with torch.inference_mode():
    for _ in range(3): m(x.to(device))
    sync()
t0 = time.perf_counter()
ts = [threading.Thread(target=lane, args=(i, t0 + 4)) for i in range(lanes)]
for t in ts: t.start()
for t in ts: t.join()
print(f"{sum(counts) / (time.perf_counter() - t0):.1f}")
PY
}

printf "machine: %s cores, %s\n" "$cores" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
if [ "$device" != cpu ]; then
  echo "device: $device, $("$py" -c 'import sys, torch; print(torch.cuda.get_device_name(sys.argv[1]), "torch", torch.__version__)' "$device")"
fi
printf "%d + %d real-photo JPEG/PNG files, 300x300..1280x720, ImageNet preset (resize 256, crop 224)\n" "$count" "$count"
# Debian's libtorch (both sides) calls BLAS through libblas.so.3: name the implementation.
[ -z "${PTJS_RUN_ARGS:-}" ] || echo "ptjs run flags: $PTJS_RUN_ARGS"
echo "BLAS (both sides): $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo unknown)"
printf "steady images/s = %d / (seconds for %d - seconds for %d); once = seconds every run pays once\n" "$count" "$(( 2 * count ))" "$count"
printf "forward-only: the module as loaded, forwards run as ptjs runs them (on CPU %s at once, one\n" "$cores"
printf "libtorch thread each); rates are medians of %s alternating turns\n\n" "$repeats"
median() {  # of the numbers given, "nan"s left out (a turn whose two times came out inverted)
  printf '%s\n' "$@" | grep -v nan | sort -g \
    | awk '{ v[NR] = $1 } END { if (!NR) { print "nan"; exit } printf "%.2f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
printf "%-20s %5s %11s %9s %13s %11s %22s %8s %13s %13s %11s\n" model batch "ptjs img/s" "ptjs once" "python img/s" \
  "python once" "python best settings" ratio "spread" "forward-only" "ptjs/limit"
for m in $models; do
  for b in $batches; do
    best=0 best_w=0 best_t=1
    for t in $py_threads; do
      for w in $py_workers; do
        read -r r _ <<< "$(rate_python "$work/$m.pt" "$b" "$w" "$t")"
        if awk "BEGIN{exit !($r > $best)}"; then best="$r" best_w="$w" best_t="$t"; fi
      done
    done
    pr=() po=() yr=() yo=() ratios=()
    for _ in $(seq "$repeats"); do
      read -r p p_once <<< "$(rate_ptjs "$work/$m.pt" "$b")"
      read -r y y_once <<< "$(rate_python "$work/$m.pt" "$b" "$best_w" "$best_t")"
      pr+=("$p") po+=("$p_once") yr+=("$y") yo+=("$y_once")
      [ "$p" != nan ] && [ "$y" != nan ] && ratios+=("$(awk "BEGIN{printf \"%.2f\", $p / $y}")")
    done
    p="$(median "${pr[@]}")" y="$(median "${yr[@]}")"
    spread="$(printf '%s\n' "${ratios[@]:-}" | grep . | sort -g | sed -n '1p;$p' | paste -sd- - || true)"
    f="$(forward_only "$work/$m.pt" "$b")"
    printf "%-20s %5s %11s %9s %13s %11s %22s %8s %13s %13s %11s\n" "$m" "$b" "$p" "$(median "${po[@]}")s" "$y" \
      "$(median "${yo[@]}")s" "workers=$best_w threads=$best_t" "$(awk "BEGIN{printf \"%.2fx\", $p / $y}")" \
      "${spread:--}" "$f" "$(awk "BEGIN{printf \"%.2f\", $p / $f}")"
  done
done
