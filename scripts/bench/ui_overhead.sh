#!/usr/bin/env bash
# Does the page at GET / cost serving anything? `ptjs serve` with the page on (the default),
# with a browser's worth of page traffic beside the load (the page, its files, and /metrics
# every 2 s, as an open tab polls it), against `ptjs serve --no-ui`: same binary, same model,
# same image, wrk on loopback. Rounds alternate on/off so that drift in the machine hits both.
# Prints req/s and p99 per round and the on/off ratio of the medians.
#
# usage: scripts/bench/ui_overhead.sh [--duration S] [--rounds N] [--concurrency "1 8"]
#          [--model M] [--image F] [--ptjs PATH]
#   default model: the bundled digits model and one of its PNGs (the shortest forward, so any
#   per-request cost of the page would show most)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
PTJS="${PTJS_BIN:-$root/build/apps/ptjs/ptjs}"
DURATION=8
ROUNDS=3
CONCURRENCY="1 8"
MODEL="$root/configs/digits/model.pt"
IMAGE="$root/configs/digits/images/three/0045.png"
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --model) MODEL=$2; shift 2 ;;
    --image) IMAGE=$2; shift 2 ;;
    --ptjs) PTJS=$2; shift 2 ;;
    -h|--help) sed -n '2,13s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "ui_overhead: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "ui_overhead: wrk missing: scripts/install-deps.sh --with-bench" >&2; exit 2; }
case "$IMAGE" in *.png) ctype=image/png ;; *) ctype=image/jpeg ;; esac

work=$(mktemp -d)
server_pid="" browser_pid=""
stop() {
  [ -n "$browser_pid" ] && kill "$browser_pid" 2>/dev/null && wait "$browser_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  server_pid="" browser_pid=""
}
trap 'stop; rm -rf "$work"' EXIT

start() {  # extra flags for ptjs serve; sets $url
  "$PTJS" serve --port 0 --model "$MODEL" "$@" 2> "$work/serve.log" &
  server_pid=$!
  for _ in $(seq 600); do
    url=$(grep -o 'listening on http://[^ ]*' "$work/serve.log" | head -1 | cut -d' ' -f3 || true)
    [ -n "$url" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/v2/health/ready")" = 200 ] && return 0
    sleep 0.1
  done
  cat "$work/serve.log" >&2
  echo "ui_overhead: ptjs serve did not become ready" >&2
  exit 1
}

# What an open tab asks for: the page and its files once, then /metrics every 2 s.
open_tab() {
  (
    for f in / /ui/app.js /ui/app.css /ui/icon.svg /ui/digit-0.png /ui/digit-3.png /ui/digit-7.png /ui/digit-9.png; do
      curl -s -o /dev/null "$url$f"
    done
    while :; do curl -s -o /dev/null "$url/metrics"; sleep 2; done
  ) &
  browser_pid=$!
}

declare -A RPS P99
name=$(basename "$MODEL")
for round in $(seq "$ROUNDS"); do
  for mode in on off; do
    if [ "$mode" = on ]; then start; open_tab; else start --no-ui; fi
    # The served name (the spec's, else the file's).
    model_name=$(curl -s -X POST "$url/v2/repository/index" | grep -o '"name":"[^"]*"' | head -1 | cut -d'"' -f4)
    BENCH_BODY="$IMAGE" BENCH_CTYPE="$ctype" wrk -t2 -c4 -d2s -s "$root/scripts/bench/wrk_post.lua" \
      "$url/predictions/$model_name" > /dev/null  # warm-up
    for c in $CONCURRENCY; do
      line=$(BENCH_BODY="$IMAGE" BENCH_CTYPE="$ctype" wrk -t"$(( c < 2 ? c : 2 ))" -c"$c" -d"${DURATION}s" \
               -s "$root/scripts/bench/wrk_post.lua" "$url/predictions/$model_name" | grep '^BENCH ')
      read -r _ n us _ p99 status_err sock_err <<<"$line"
      if [ "$((status_err + sock_err))" != 0 ]; then
        echo "ui_overhead: page $mode, c=$c: $status_err HTTP errors, $sock_err socket errors" >&2
        exit 1
      fi
      RPS[$mode,$c,$round]=$(awk -v n="$n" -v us="$us" 'BEGIN { printf "%.1f", n / (us / 1e6) }')
      P99[$mode,$c,$round]=$(awk -v v="$p99" 'BEGIN { printf "%.2f", v / 1000 }')
      echo "round $round, page $mode, c=$c: ${RPS[$mode,$c,$round]} req/s, p99 ${P99[$mode,$c,$round]} ms" >&2
    done
    stop
  done
done

median() { tr ' ' '\n' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "page on (an open tab polling /metrics) vs --no-ui: $name, $(basename "$IMAGE"), $(nproc) cores, $ROUNDS rounds of ${DURATION}s"
printf '%-5s %14s %14s %9s %13s %13s %9s\n' c "req/s on" "req/s off" ratio "p99 on (ms)" "p99 off (ms)" ratio
for c in $CONCURRENCY; do
  on=$(for r in $(seq "$ROUNDS"); do printf '%s ' "${RPS[on,$c,$r]}"; done | median)
  off=$(for r in $(seq "$ROUNDS"); do printf '%s ' "${RPS[off,$c,$r]}"; done | median)
  p_on=$(for r in $(seq "$ROUNDS"); do printf '%s ' "${P99[on,$c,$r]}"; done | median)
  p_off=$(for r in $(seq "$ROUNDS"); do printf '%s ' "${P99[off,$c,$r]}"; done | median)
  printf '%-5s %14s %14s %9s %13s %13s %9s\n' "$c" "$on" "$off" "$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.3f", a / b }')" \
    "$p_on" "$p_off" "$(awk -v a="$p_on" -v b="$p_off" 'BEGIN { printf "%.3f", a / b }')"
done
