#!/usr/bin/python3
"""Soak: `ptjs serve` on loopback under a bounded mixed load of good and bad requests, with its
resident memory sampled every few seconds. scripts/soak.sh runs it for minutes; the suite runs
it for seconds (reliability.soak_smoke).

    soak.py --ptjs BIN --fixtures DIR [--seconds 600] [--concurrency 32] [--sample-s 5]
            [--warmup-s 60] [--max-growth 0.10] [--csv FILE]

Good requests (each answer checked): v2 JSON tensors, v2 binary tensors, v2 BYTES images,
TorchServe raw image bodies, multipart with two images, JSON base64. Bad ones (each must get
its status): not an image (400), wrong shape (400), unknown model (404), a model that raises
(500), a body over --max-body-bytes (413). Exit 0 when no good request failed, every bad one got
its status, and resident memory grew less than --max-growth from the end of warm-up to the end;
1 otherwise. Loopback only; the load stops at --seconds whatever happens.
"""
import argparse
import base64
import json
import os
import random
import statistics
import struct
import sys
import threading
import time
import http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ptjs_server import Server, fp32, strict_json  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIGITS = os.path.join(ROOT, "configs", "digits")
LIMIT = 1_000_000


def digit_images():
    out = []
    for label in sorted(os.listdir(os.path.join(DIGITS, "images"))):
        folder = os.path.join(DIGITS, "images", label)
        for name in sorted(os.listdir(folder))[:3]:
            with open(os.path.join(folder, name), "rb") as f:
                out.append((label, f.read()))
    return out


class Load:
    def __init__(self, server, seed):
        self.server = server
        self.rng = random.Random(seed)
        self.images = digit_images()
        self.boundary = "soakboundary"

    def post(self, conn, path, body, ctype, headers=None):
        h = {"Content-Type": ctype}
        h.update(headers or {})
        conn.request("POST", path, body, h)
        res = conn.getresponse()
        return res.status, res.read()

    # Each returns (kind, good, ok, detail).
    def v2_json(self, conn):
        x = [round(self.rng.uniform(-5, 5), 3) for _ in range(4)]
        status, body = self.post(conn, "/v2/models/tiny/infer", json.dumps(fp32("x", [x])).encode(), "application/json")
        ok = status == 200 and len(strict_json(body)["outputs"][0]["data"]) == 3
        return "v2_json", True, ok, (status, body[:200])

    def v2_binary(self, conn):
        head = json.dumps({"inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32",
                                       "parameters": {"binary_data_size": 32}}],
                           "outputs": [{"name": "output0", "parameters": {"binary_data": True}}]}).encode()
        status, body = self.post(conn, "/v2/models/tiny/infer", head + struct.pack("<8f", *range(8)),
                                 "application/octet-stream", {"Inference-Header-Content-Length": str(len(head))})
        return "v2_binary", True, status == 200 and len(body) > 24, (status, body[:200])

    def v2_bytes(self, conn):
        label, png = self.rng.choice(self.images)
        doc = {"inputs": [{"name": "x", "shape": [1], "datatype": "BYTES", "data": [base64.b64encode(png).decode()]}]}
        status, body = self.post(conn, "/v2/models/digits/infer", json.dumps(doc).encode(), "application/json")
        ok = status == 200 and strict_json(body)["outputs"][0]["shape"] == [1, 10]
        return "v2_bytes", True, ok, (status, body[:200])

    def raw_image(self, conn):
        label, png = self.rng.choice(self.images)
        status, body = self.post(conn, "/predictions/digits", png, "image/png")
        ok = status == 200 and len(strict_json(body)["predictions"]) == 3
        return "raw_image", True, ok, (status, body[:200])

    def multipart(self, conn):
        (l1, a), (l2, b) = self.rng.sample(self.images, 2)
        body = b""
        for i, data in enumerate((a, b)):
            body += (f"--{self.boundary}\r\nContent-Disposition: form-data; name=\"img{i}\"; filename=\"{i}.png\"\r\n"
                     "Content-Type: image/png\r\n\r\n").encode() + data + b"\r\n"
        body += f"--{self.boundary}--\r\n".encode()
        status, text = self.post(conn, "/predictions/digits", body, f"multipart/form-data; boundary={self.boundary}")
        ok = status == 200 and len(strict_json(text)) == 2
        return "multipart", True, ok, (status, text[:200])

    def b64_json(self, conn):
        label, png = self.rng.choice(self.images)
        status, body = self.post(conn, "/predictions/digits", json.dumps({"b64": base64.b64encode(png).decode()}).encode(),
                                 "application/json")
        return "b64_json", True, status == 200 and "predictions" in strict_json(body), (status, body[:200])

    def bad(self, conn):
        which = self.rng.randrange(5)
        if which == 0:
            # A fixed prefix: random bytes starting "BM" (1 in 65536) sniff as a huge BMP: a 413.
            status, body = self.post(conn, "/predictions/digits", b"not an image " + os.urandom(self.rng.randrange(1, 2000)),
                                     "image/png")
            want, kind = 400, "bad_not_image"
        elif which == 1:
            status, body = self.post(conn, "/v2/models/tiny/infer", json.dumps(fp32("x", [[1, 2, 3]])).encode(),
                                     "application/json")
            want, kind = 400, "bad_shape"
        elif which == 2:
            status, body = self.post(conn, "/v2/models/nope/infer", b"{}", "application/json")
            want, kind = 404, "bad_model"
        elif which == 3:
            status, body = self.post(conn, "/v2/models/failing/infer", json.dumps(fp32("x", [[-1, 0, 0, 0]])).encode(),
                                     "application/json")
            want, kind = 500, "bad_raises"
        else:
            status, body = self.post(conn, "/predictions/digits", b"\0" * (LIMIT + 1), "image/png")
            want, kind = 413, "bad_too_large"
        ok = status == want and "error" in strict_json(body)
        return kind, False, ok, (status, body[:200])

    def one(self, conn):
        r = self.rng.random()
        if r < 0.2:
            return self.bad(conn)
        return self.rng.choice((self.v2_json, self.v2_binary, self.v2_bytes, self.raw_image, self.multipart,
                                self.b64_json))(conn)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ptjs", required=True)
    ap.add_argument("--fixtures", required=True, help="make_fixtures.py output (models/)")
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--sample-s", type=float, default=5)
    ap.add_argument("--warmup-s", type=float, default=60)
    ap.add_argument("--max-growth", type=float, default=0.10, help="fraction; negative: do not check")
    ap.add_argument("--csv", help="write the memory curve (seconds,rss_kb,requests) here")
    args = ap.parse_args()
    os.environ["PTJS_BIN"] = args.ptjs
    import ptjs_server
    ptjs_server.PTJS = args.ptjs

    models = os.path.join(args.fixtures, "models")
    server = Server(["--model", "digits=" + os.path.join(DIGITS, "model.pt"),
                     "--model", os.path.join(models, "tiny.pt"), "--model", os.path.join(models, "failing.pt"),
                     "--max-body-bytes", str(LIMIT), "--http-threads", str(args.concurrency + 8)])
    print(f"soak: ptjs serve on 127.0.0.1:{server.port}, {args.concurrency} clients for {args.seconds:.0f} s",
          file=sys.stderr)
    lock = threading.Lock()
    counts = {}
    failures = []
    latencies = []
    done = [0]
    start = time.monotonic()
    end = start + args.seconds

    def client(i):
        load = Load(server, seed=i)
        conn = None
        while time.monotonic() < end:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            t = time.monotonic()
            try:
                kind, good, ok, detail = load.one(conn)
            except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError) as e:
                kind, good, ok, detail = "exception", True, False, repr(e)
                conn.close()
                conn = None
            dt = time.monotonic() - t
            with lock:
                c = counts.setdefault(kind, [0, 0])
                c[0] += 1
                c[1] += 0 if ok else 1
                done[0] += 1
                if good:
                    latencies.append(dt)
                if not ok and len(failures) < 20:
                    failures.append((kind, detail))
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(args.concurrency)]
    for t in threads:
        t.start()
    samples = []  # (seconds, rss_kb, requests so far)
    while time.monotonic() < end and server.proc.poll() is None:
        with lock:
            n = done[0]
        samples.append((time.monotonic() - start, server.rss_kb(), n))
        time.sleep(min(args.sample_s, max(0.0, end - time.monotonic())))
    for t in threads:
        t.join(90)
    samples.append((time.monotonic() - start, server.rss_kb() if server.proc.poll() is None else 0, done[0]))
    alive = server.proc.poll() is None
    code = server.terminate(60)
    server.kill()

    elapsed = time.monotonic() - start
    total = sum(c[0] for c in counts.values())
    good_total = sum(c[0] for k, c in counts.items() if not k.startswith("bad"))
    good_failed = sum(c[1] for k, c in counts.items() if not k.startswith("bad"))
    bad_failed = sum(c[1] for k, c in counts.items() if k.startswith("bad"))
    print(f"soak: {total} requests in {elapsed:.0f} s ({total / elapsed:.0f}/s): {good_total} good, "
          f"{good_failed} of them failed; {total - good_total} bad, {bad_failed} with the wrong status")
    for kind in sorted(counts):
        print(f"  {kind:14s} {counts[kind][0]:8d}  failed {counts[kind][1]}")
    if latencies:
        q = statistics.quantiles(latencies, n=100)
        print(f"soak: good-request latency p50 {q[49] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms, max {max(latencies) * 1000:.0f} ms")
    for kind, detail in failures:
        print(f"  FAILED {kind}: {detail}")
    growth = None
    warm = [s for s in samples if s[0] >= min(args.warmup_s, args.seconds / 2)]
    if len(warm) >= 2:
        base = warm[0][1]
        last = samples[-2][1] if samples[-1][1] == 0 else samples[-1][1]
        growth = (last - base) / base if base else None
        peak = max(s[1] for s in warm)
        print(f"soak: RSS {samples[0][1] / 1024:.0f} MiB at start, {base / 1024:.0f} MiB after warm-up "
              f"({warm[0][0]:.0f} s), {last / 1024:.0f} MiB at the end ({samples[-1][0]:.0f} s), peak "
              f"{peak / 1024:.0f} MiB: growth {growth * 100:+.1f}% after warm-up")
        curve = samples[:3] + [("...",)] + samples[-3:] if len(samples) > 6 else samples
        print("soak: curve (s, MiB, requests): " + ", ".join(
            "..." if s[0] == "..." else f"({s[0]:.0f}, {s[1] / 1024:.0f}, {s[2]})" for s in curve))
    if args.csv:
        with open(args.csv, "w") as f:
            f.write("seconds,rss_kb,requests\n")
            for s in samples:
                f.write(f"{s[0]:.1f},{s[1]},{s[2]}\n")
    ok = alive and code == 0 and good_failed == 0 and bad_failed == 0 and good_total > 0
    if not alive:
        print("soak: FAILED: the server died\n" + server.stderr()[-3000:])
    if code != 0:
        print(f"soak: FAILED: ptjs serve exited {code} after SIGTERM")
    if args.max_growth >= 0 and growth is not None and growth > args.max_growth:
        print(f"soak: FAILED: memory grew {growth * 100:.1f}% after warm-up (limit {args.max_growth * 100:.0f}%)")
        ok = False
    print("soak: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
