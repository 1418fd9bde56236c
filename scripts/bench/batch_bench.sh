#!/usr/bin/env bash
# Batch benchmark: `ptjs run` against the Python way (PIL + torchvision + torch.jit.load, with
# DataLoader workers and torch threads tuned by a sweep) on the same folder of real-photo
# JPEG/PNG files, same models, same batch sizes, on this machine in one run. Prints images/s
# and the ratio, plus forward-only images/s on preprocessed tensors (the model's own limit).
#
#   scripts/bench/batch_bench.sh [--count N] [--models "resnet18 mobilenet_v3_small"] [--batches "1 8"]
#
# Rates exclude process start-up and model loading on both sides (each tool times its own
# scoring loop). Not a test: figures vary with the machine; compare the ratios.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
count=96
models="resnet18 mobilenet_v3_small"
batches="1 8"
while [ $# -gt 0 ]; do
  case "$1" in
    --count) count="$2"; shift 2 ;;
    --models) models="$2"; shift 2 ;;
    --batches) batches="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
ptjs="${PTJS_BIN:-$root/build/apps/ptjs/ptjs}"
py=/usr/bin/python3
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cores="$(nproc)"
# ptjs's default split: a quarter of the cores preprocess, the rest run forward.
ptjs_threads=$(( cores - (cores / 4 > 1 ? cores / 4 : 1) )); [ "$ptjs_threads" -lt 1 ] && ptjs_threads=1

"$py" "$root/scripts/photos.py" --out "$work/photos" --count "$count" > /dev/null
for m in $models; do "$py" "$root/scripts/export_torchvision.py" --arch "$m" --embed-preset --out "$work/$m.pt" > /dev/null; done

rate_ptjs() {  # model batch -> img/s from ptjs's own summary line
  "$ptjs" run --model "$1" --input "$work/photos" --batch-size "$2" --output "$work/out.jsonl" 2>&1 >/dev/null \
    | sed -n 's/.*(\([0-9.]*\) img\/s).*/\1/p' | tail -1
}
rate_python() {  # model batch workers threads -> img/s
  "$py" "$root/scripts/bench/python_run.py" --model "$1" --input "$work/photos" --batch-size "$2" \
    --workers "$3" --threads "$4" --output "$work/py.jsonl" 2>&1 >/dev/null \
    | sed -n 's/.*: \([0-9.]*\) images\/s.*/\1/p' | tail -1
}
forward_only() {  # model batch threads -> img/s of forward on preprocessed tensors
  "$py" - "$1" "$2" "$3" <<'PY'
import sys, time, torch
model, batch, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
m = torch.jit.load(model).eval()
x = torch.randn(batch, 3, 224, 224)
with torch.inference_mode():
    for _ in range(3): m(x)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 4: m(x); n += batch
print(f"{n / (time.perf_counter() - t0):.1f}")
PY
}

printf "machine: %s cores, %s\n" "$cores" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
printf "%d real-photo JPEG/PNG files, 300x300..1280x720, ImageNet preset (resize 256, crop 224)\n\n" "$count"
printf "forward-only uses ptjs's intra-op threads (%s)\n" "$ptjs_threads"
printf "%-20s %5s %12s %14s %22s %8s %14s %12s\n" model batch "ptjs img/s" "python img/s" "python best settings" ratio "forward-only" "ptjs/limit"
for m in $models; do
  for b in $batches; do
    best=0 best_w=0 best_t=1
    for t in 1 "$cores"; do
      for w in 0 1 "$cores"; do
        r="$(rate_python "$work/$m.pt" "$b" "$w" "$t")"
        if awk "BEGIN{exit !($r > $best)}"; then best="$r" best_w="$w" best_t="$t"; fi
      done
    done
    p="$(rate_ptjs "$work/$m.pt" "$b")"
    f="$(forward_only "$work/$m.pt" "$b" "$ptjs_threads")"
    printf "%-20s %5s %12s %14s %22s %8s %14s %12s\n" "$m" "$b" "$p" "$best" "workers=$best_w threads=$best_t" \
      "$(awk "BEGIN{printf \"%.2fx\", $p / $best}")" "$f" "$(awk "BEGIN{printf \"%.2f\", $p / $f}")"
  done
done
