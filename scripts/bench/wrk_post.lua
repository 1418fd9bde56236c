-- wrk script of the serve benchmarks: POST the file in $BENCH_BODY with Content-Type
-- $BENCH_CTYPE; when done, print one machine-readable line:
--   BENCH <requests> <duration us> <p50 us> <p99 us> <non-2xx/3xx> <socket errors>
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = os.getenv("BENCH_CTYPE")
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
