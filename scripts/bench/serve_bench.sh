#!/usr/bin/env bash
# Serve benchmark: `ptjs serve` against the Python way (Flask + gunicorn, one worker per core,
# PIL + torchvision transforms + torch.jit; scripts/bench/flask_app.py), on loopback, one at a
# time, with the same TorchScript model (mobilenet_v3_small, seeded random weights, ImageNet
# preset spec embedded) and the same JPEG, POSTed raw to /predictions/<model>.
#
# Measures, for each server: start-up to ready (launch -> /v2/health/ready 200 for ptjs; ->
# every gunicorn worker has loaded the model, for Flask), resident memory (VmRSS summed over
# the process and its children, at ready, right after the load and 3 s later; and each
# process's peak VmHWM, summed), and requests/s, p50 and p99
# latency with wrk at each concurrency; then, on ptjs alone, a tiny tensor model through
# /v2/models/tiny/infer (JSON). Prints one table. wrk runs on the same machine and takes CPU.
#
# usage: scripts/bench/serve_bench.sh [--duration S] [--concurrency "1 8 32"]
#          [--tensor-concurrency N] [--workers N] [--warmup S] [--ptjs PATH] [--keep]
#   --duration S            seconds per wrk run (default 10; env DURATION)
#   --concurrency LIST      connections for the image runs (default "1 8 32"; env CONCURRENCY)
#   --tensor-concurrency N  connections for the tensor run (default 16; env TENSOR_CONCURRENCY)
#   --workers N             gunicorn workers (default: the number of cores; env WORKERS)
#   --warmup S              unrecorded wrk run before each server's runs (default 2)
#   --ptjs PATH             the ptjs binary (default $PTJS_BIN, else build/apps/ptjs/ptjs)
#   --device D              both servers run the model on D (cpu, cuda, cuda:N; default cpu)
#   --image PATH            the photo to POST (default: python3-skimage's chelsea at 640x480)
#   env PTJS_PYTHON         the Python with torch/torchvision/Pillow (default /usr/bin/python3)
#   env PTJS_SERVE_ARGS     extra `ptjs serve` flags, e.g. "--lanes 1" (printed with the table)
#   --keep                  keep the work folder (models, image, logs)
# Needs wrk, curl, gunicorn and python3-flask: scripts/install-deps.sh --with-bench
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
PY="${PTJS_PYTHON:-/usr/bin/python3}"
PTJS="${PTJS_BIN:-$root/build/apps/ptjs/ptjs}"
DURATION="${DURATION:-10}"
CONCURRENCY="${CONCURRENCY:-1 8 32}"
TENSOR_C="${TENSOR_CONCURRENCY:-16}"
NPROC="$(nproc)"
WORKERS="${WORKERS:-$NPROC}"
WARMUP=2
KEEP=0
DEVICE=cpu
IMAGE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --concurrency) CONCURRENCY="$2"; shift 2 ;;
    --tensor-concurrency) TENSOR_C="$2"; shift 2 ;;
    --workers) WORKERS="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --ptjs) PTJS="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --device) DEVICE="$2"; shift 2 ;;
    --image) IMAGE="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "serve_bench: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done
for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "serve_bench: $tool missing: scripts/install-deps.sh --with-bench" >&2; exit 2; }
done
"$PY" -c 'import flask, gunicorn' 2>/dev/null \
  || { echo "serve_bench: python3-flask/gunicorn missing: scripts/install-deps.sh --with-bench" >&2; exit 2; }
[ -x "$PTJS" ] || { echo "serve_bench: no ptjs at $PTJS (build it, or --ptjs PATH)" >&2; exit 2; }

work="$(mktemp -d /tmp/ptjs-serve-bench.XXXXXX)"
pids_of() {  # the process and its descendants
  echo "$1"
  local child
  for child in $(pgrep -P "$1" || true); do pids_of "$child"; done
}
server_pid=""
stop_server() {  # SIGTERM the server we started, wait (bounded), then KILL what is left of its tree
  [ -n "$server_pid" ] || return 0
  local tree p
  tree=$(pids_of "$server_pid")
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  for p in $tree; do kill -KILL "$p" 2>/dev/null || true; done
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
cleanup() { stop_server; if [ "$KEEP" = 1 ]; then echo "serve_bench: kept $work" >&2; else rm -rf "$work"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "serve_bench: $*" >&2; }
now() { date +%s.%N; }

# --- fixtures: models and the JPEG ----------------------------------------------------------
log "exporting models and the image into $work"
if [ -f "$root/scripts/export_torchvision.py" ]; then
  "$PY" "$root/scripts/export_torchvision.py" --arch mobilenet_v3_small --embed-preset --out "$work/mobilenet.pt" 2>/dev/null
  "$PY" "$root/scripts/export_torchvision.py" --tiny --out "$work/tiny.pt" 2>/dev/null
else
  "$PY" - "$work" <<'EOF'
import sys, torch, torchvision
out = sys.argv[1]
torch.manual_seed(0)
spec = ("name: mobilenet_v3_small\ninput: {type: image, mode: RGB}\n"
        "preprocess: {preset: ImageClassification, crop_size: 224, resize_size: 256}\n"
        "postprocess:\n  - Softmax: {dim: 1}\n  - TopK: {k: 5}\n")
net = torchvision.models.mobilenet_v3_small(weights=None).eval()
torch.jit.save(torch.jit.script(net), f"{out}/mobilenet.pt", _extra_files={"ptjs.yaml": spec})
tiny = torch.nn.Linear(4, 3).eval()
tspec = "name: tiny\ninput: {type: tensor, shape: [-1, 4], datatype: FP32}\npostprocess:\n  - Raw: {}\n"
torch.jit.save(torch.jit.script(tiny), f"{out}/tiny.pt", _extra_files={"ptjs.yaml": tspec})
EOF
fi
"$PY" - "$work/image.jpg" "$IMAGE" <<'EOF'
import os, sys
from PIL import Image
out, given = sys.argv[1], sys.argv[2]
src = os.path.join("/usr/lib/python3/dist-packages/skimage/data", "chelsea.png")
if given:
    img = Image.open(given).convert("RGB")
elif os.path.exists(src):  # a real photo (python3-skimage), 640x480 like a typical upload
    img = Image.open(src).convert("RGB").resize((640, 480), Image.LANCZOS)
else:
    img = Image.effect_mandelbrot((640, 480), (-2.0, -1.2, 1.0, 1.2), 100).convert("RGB")
img.save(out, quality=90)
EOF
printf '{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[0.5,-1.0,2.0,0.25]}]}' > "$work/tensor.json"

# --- helpers --------------------------------------------------------------------------------
http_ok() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@")" = 200 ]; }

rss_mib() {  # VmRSS (or the field $2, e.g. VmHWM for the peak) summed over the process tree, MiB
  local kb=0 p v field="${2:-VmRSS}"
  for p in $(pids_of "$1"); do
    v=$(awk -v f="$field:" '$1 == f {print $2}' "/proc/$p/status" 2>/dev/null || true)
    kb=$((kb + ${v:-0}))
  done
  awk -v kb="$kb" 'BEGIN { printf "%.0f", kb / 1024 }'
}

declare -A R   # R[server,metric] = value
run_wrk() {  # server key url body content-type connections [record=1]
  local server=$1 key=$2 url=$3 body=$4 ctype=$5 c=$6 record=${7:-1} duration=$DURATION threads line
  [ "$record" = 1 ] || duration=$WARMUP
  threads=$(( c < NPROC ? c : NPROC ))
  line=$(BENCH_BODY="$body" BENCH_CTYPE="$ctype" wrk -t"$threads" -c"$c" -d"${duration}s" --timeout 10s \
           -s "$root/scripts/bench/wrk_post.lua" "$url" | grep '^BENCH ' || true)
  [ "$record" = 1 ] || return 0
  if [ -z "$line" ]; then log "wrk gave no result for $server $key"; return 0; fi
  read -r _ n us p50 p99 status_err sock_err <<<"$line"
  R[$server,$key,rps]=$(awk -v n="$n" -v us="$us" 'BEGIN { printf "%.1f", n / (us / 1e6) }')
  R[$server,$key,p50]=$(awk -v v="$p50" 'BEGIN { printf "%.1f", v / 1000 }')
  R[$server,$key,p99]=$(awk -v v="$p99" 'BEGIN { printf "%.1f", v / 1000 }')
  R[$server,$key,err]=$((status_err + sock_err))
  log "$server $key: ${R[$server,$key,rps]} req/s, p50 ${R[$server,$key,p50]} ms, p99 ${R[$server,$key,p99]} ms, errors ${R[$server,$key,err]}"
}

image_runs() {  # server url
  run_wrk "$1" warm "$2" "$work/image.jpg" image/jpeg 4 0
  for c in $CONCURRENCY; do run_wrk "$1" "c$c" "$2" "$work/image.jpg" image/jpeg "$c"; done
}

# --- ptjs serve -----------------------------------------------------------------------------
log "starting ptjs serve"
t0=$(now)
# shellcheck disable=SC2086  # PTJS_SERVE_ARGS is a list of flags
"$PTJS" serve --host 127.0.0.1 --port 0 --device "$DEVICE" ${PTJS_SERVE_ARGS:-} --model "mobilenet=$work/mobilenet.pt" --model "tiny=$work/tiny.pt" \
  2> "$work/ptjs.log" &
server_pid=$!
url=""
for _ in $(seq 2400); do  # <= 120 s
  url=$(grep -o 'listening on http://[^ ]*' "$work/ptjs.log" | head -1 | cut -d' ' -f3 || true)
  if [ -n "$url" ] && http_ok "$url/v2/health/ready"; then break; fi
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/ptjs.log" >&2; log "ptjs serve exited"; exit 1; }
  url=""; sleep 0.05
done
[ -n "$url" ] || { cat "$work/ptjs.log" >&2; log "ptjs serve not ready within 120 s"; exit 1; }
R[ptjs,startup]=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
R[ptjs,rss_ready]=$(rss_mib "$server_pid")
curl -s --fail-with-body --data-binary @"$work/image.jpg" -H 'Content-Type: image/jpeg' \
  "$url/predictions/mobilenet" > "$work/ptjs.answer" || { cat "$work/ptjs.answer" >&2; log "ptjs predict failed"; exit 1; }
image_runs ptjs "$url/predictions/mobilenet"
run_wrk ptjs tensor "$url/v2/models/tiny/infer" "$work/tensor.json" application/json "$TENSOR_C"
R[ptjs,rss_peak]=$(rss_mib "$server_pid" VmHWM)
R[ptjs,rss_load]=$(rss_mib "$server_pid")
sleep 3
R[ptjs,rss_idle]=$(rss_mib "$server_pid")
stop_server

# --- Flask + gunicorn -----------------------------------------------------------------------
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
flask_url="http://127.0.0.1:$port"
mkdir -p "$work/ready"
log "starting Flask under gunicorn ($WORKERS workers)"
t0=$(now)
BENCH_MODELS="mobilenet=$work/mobilenet.pt" BENCH_DEVICE="$DEVICE" BENCH_READY_DIR="$work/ready" \
  "$PY" -m gunicorn --workers "$WORKERS" --bind "127.0.0.1:$port" --timeout 120 --log-level warning \
  --chdir "$root/scripts/bench" flask_app:app 2> "$work/flask.log" &
server_pid=$!
ready=0
for _ in $(seq 2400); do
  if [ "$(ls "$work/ready" | wc -l)" -ge "$WORKERS" ] && http_ok "$flask_url/ping"; then ready=1; break; fi
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/flask.log" >&2; log "gunicorn exited"; exit 1; }
  sleep 0.05
done
[ "$ready" = 1 ] || { cat "$work/flask.log" >&2; log "Flask not ready within 120 s"; exit 1; }
R[flask,startup]=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
R[flask,rss_ready]=$(rss_mib "$server_pid")
curl -s --fail-with-body --data-binary @"$work/image.jpg" -H 'Content-Type: image/jpeg' \
  "$flask_url/predictions/mobilenet" > "$work/flask.answer" || { cat "$work/flask.answer" >&2; log "Flask predict failed"; exit 1; }
image_runs flask "$flask_url/predictions/mobilenet"
R[flask,rss_peak]=$(rss_mib "$server_pid" VmHWM)
R[flask,rss_load]=$(rss_mib "$server_pid")
sleep 3
R[flask,rss_idle]=$(rss_mib "$server_pid")
stop_server

# --- the table ------------------------------------------------------------------------------
same=$("$PY" - "$work/ptjs.answer" "$work/flask.answer" <<'EOF'
import json, sys
a, b = ((r if "predictions" in r else r[0])["predictions"] for r in (json.load(open(p)) for p in sys.argv[1:3]))
close = len(a) == len(b) and all(abs(x["score"] - y["score"]) < 1e-3 for x, y in zip(a, b))
tied = len(a) > 1 and a[0]["score"] - a[1]["score"] < 1e-6  # random weights can tie every class
print(("yes" if tied or a[0]["index"] == b[0]["index"] else "NO: top-1 differs") if close else "NO: scores differ")
EOF
) || same="? (see the answers with --keep)"
image_info=$("$PY" -c 'import os, sys; from PIL import Image; im = Image.open(sys.argv[1]); print(f"{im.width}x{im.height} JPEG, {os.path.getsize(sys.argv[1]) // 1024} KiB")' "$work/image.jpg")
v() { echo "${R[$1]:--}"; }
row() { printf '%-34s %14s %18s\n' "$1" "$2" "$3"; }

echo
echo "ptjs serve vs Flask+gunicorn: mobilenet_v3_small, one $image_info, POST /predictions/mobilenet"
echo "$NPROC cores, $(uname -m), device $DEVICE; wrk ${DURATION}s per run on the same machine; same answer: $same"
[ -z "${PTJS_SERVE_ARGS:-}" ] || echo "ptjs serve flags: $PTJS_SERVE_ARGS"
echo "BLAS (both servers): $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo unknown)"
row "metric" "ptjs" "flask+gunicorn(${WORKERS}w)"
row "start-up to ready (s)" "$(v ptjs,startup)" "$(v flask,startup)"
row "RSS at ready (MiB)" "$(v ptjs,rss_ready)" "$(v flask,rss_ready)"
row "RSS peak, per process summed (MiB)" "$(v ptjs,rss_peak)" "$(v flask,rss_peak)"
row "RSS right after load (MiB)" "$(v ptjs,rss_load)" "$(v flask,rss_load)"
row "RSS 3 s after load (MiB)" "$(v ptjs,rss_idle)" "$(v flask,rss_idle)"
for c in $CONCURRENCY; do
  row "predict c=$c req/s" "$(v ptjs,c$c,rps)" "$(v flask,c$c,rps)"
  row "predict c=$c p50 / p99 (ms)" "$(v ptjs,c$c,p50) / $(v ptjs,c$c,p99)" "$(v flask,c$c,p50) / $(v flask,c$c,p99)"
  row "predict c=$c errors" "$(v ptjs,c$c,err)" "$(v flask,c$c,err)"
done
row "infer tiny JSON c=$TENSOR_C req/s" "$(v ptjs,tensor,rps)" "-"
row "infer tiny JSON c=$TENSOR_C p50 / p99 (ms)" "$(v ptjs,tensor,p50) / $(v ptjs,tensor,p99)" "-"
row "infer tiny JSON c=$TENSOR_C errors" "$(v ptjs,tensor,err)" "-"
