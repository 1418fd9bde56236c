#!/usr/bin/env bash
# Soak test of `ptjs serve`: a bounded mixed load of good and bad requests on loopback for N
# minutes, resident memory sampled every 5 s. Passes when no good request failed, every bad one
# got its status, the server exited 0 on SIGTERM, and memory grew < 10% after warm-up.
#
# usage: scripts/soak.sh [--minutes 10] [--concurrency 32] [--csv FILE] [--max-growth 0.10]
#   uses $PTJS_BIN, else build/apps/ptjs/ptjs (scripts/build.sh builds it); fixtures (models)
#   are made in a temporary folder with tests/reliability/make_fixtures.py (Debian's python3).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
minutes=10 concurrency=32 csv="" growth=0.10
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --concurrency) concurrency="$2"; shift 2 ;;
    --csv) csv="$2"; shift 2 ;;
    --max-growth) growth="$2"; shift 2 ;;
    -h|--help) sed -n '2,9s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done
bin="${PTJS_BIN:-$root/build/apps/ptjs/ptjs}"
[ -x "$bin" ] || { echo "soak.sh: no ptjs at $bin: run scripts/build.sh or set PTJS_BIN" >&2; exit 2; }
python=/usr/bin/python3
fixtures="$(mktemp -d)"
trap 'rm -rf "$fixtures"' EXIT
"$python" "$root/tests/reliability/make_fixtures.py" "$fixtures" 2>/dev/null
seconds=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }')
# Warm-up: a tenth of the run, at least 30 s (or half of a very short run).
warmup=$(awk -v s="$seconds" 'BEGIN { w = s / 10; if (w < 30) w = 30; if (w > s / 2) w = s / 2; printf "%d", w }')
exec "$python" "$root/tests/reliability/soak.py" --ptjs "$bin" --fixtures "$fixtures" --seconds "$seconds" \
  --concurrency "$concurrency" --sample-s 5 --warmup-s "$warmup" --max-growth "$growth" ${csv:+--csv "$csv"}
