#!/usr/bin/python3
"""Start-up of `ptjs serve`: launch to /v2/health/ready 200 with mobilenet_v3_small (seeded
random weights, ImageNet preset embedded), and `ptjs --version` (the process's own floor:
loading libtorch and its libraries), for one or more ptjs binaries side by side (by default the
default build, libtorch 2.13, and build-debian/, Debian's libtorch 1.13, when it exists).
Rounds alternate the binaries, the median counts. Readiness is polled every 5 ms on a new
connection; resident memory (VmRSS) is read at ready. Prints one table; the ratio column is
the first binary over the second.

  scripts/bench/startup_bench.py [--ptjs build/apps/ptjs/ptjs --ptjs build-debian/apps/ptjs/ptjs] [--rounds 5]
The serve benchmark (serve_bench.sh) compares start-up with Flask + gunicorn.
"""
import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def ready_seconds(cmd, model):
    """Seconds from launch to /v2/health/ready 200 serving `model`, and VmRSS (MiB) then."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd + ["serve", "--host", "127.0.0.1", "--port", "0", "--model", f"mobilenet={model}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    port = []

    def read_stderr():
        for line in proc.stderr:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                port.append(int(m.group(1)))

    threading.Thread(target=read_stderr, daemon=True).start()
    try:
        while time.perf_counter() - start < 120:
            if proc.poll() is not None:
                sys.exit(f"ptjs serve exited with {proc.returncode}")
            if port:
                conn = http.client.HTTPConnection("127.0.0.1", port[0], timeout=2)
                try:
                    conn.request("GET", "/v2/health/ready", headers={"Connection": "close"})
                    if conn.getresponse().status == 200:
                        took = time.perf_counter() - start
                        with open(f"/proc/{proc.pid}/status") as f:
                            rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
                        return took, rss / 1024
                except OSError:
                    pass
                finally:
                    conn.close()
            time.sleep(0.005)
        sys.exit("ptjs serve not ready within 120 s")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def version_seconds(cmd):
    start = time.perf_counter()
    subprocess.run(cmd + ["--version"], check=True, capture_output=True)
    return time.perf_counter() - start


def count_libraries(cmd):
    """Shared libraries a running `ptjs --version` maps (from LD_DEBUG's list of loaded files)."""
    r = subprocess.run(cmd + ["--version"], capture_output=True, text=True, env=dict(os.environ, LD_DEBUG="files"))
    return len(set(re.findall(r"file=(\S+) \[0\];  needed by", r.stderr)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ptjs", action="append", help="a ptjs binary (repeat to compare several)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--python", default=os.environ.get("PTJS_PYTHON", "/usr/bin/python3"))
    args = ap.parse_args()
    binaries = args.ptjs or [p for p in (os.path.join(ROOT, "build", "apps", "ptjs", "ptjs"),
                                         os.path.join(ROOT, "build-debian", "apps", "ptjs", "ptjs"))
                             if os.path.exists(p)]
    variants = {}
    for path in binaries:
        path = os.path.abspath(path)
        version = subprocess.run([path, "info", "--model", os.path.join(ROOT, "configs", "digits", "model.pt")],
                                 capture_output=True, text=True).stdout
        m = re.search(r"^libtorch: (\S+)", version, re.M)
        variants[f"libtorch {m.group(1) if m else '?'}"] = [path]
    with tempfile.TemporaryDirectory(prefix="ptjs-startup-bench-") as tmp:
        model = os.path.join(tmp, "mobilenet.pt")
        subprocess.run([args.python, os.path.join(ROOT, "scripts", "export_torchvision.py"), "--arch",
                        "mobilenet_v3_small", "--embed-preset", "--out", model], check=True, capture_output=True)
        results = {name: {"ready": [], "rss": [], "version": []} for name in variants}
        for name, cmd in variants.items():  # one unrecorded start each: the page cache
            ready_seconds(cmd, model)
        for _ in range(args.rounds):
            for name, cmd in variants.items():
                took, rss = ready_seconds(cmd, model)
                results[name]["ready"].append(took)
                results[name]["rss"].append(rss)
                results[name]["version"].append(version_seconds(cmd))
        libs = {name: count_libraries(cmd) for name, cmd in variants.items()}
    names = list(variants)
    print(f"ptjs serve start-up, mobilenet_v3_small, {os.cpu_count()} cores, median of {args.rounds} (min-max)")
    print(f"{'':34}" + "".join(f"{n:>22}" for n in names) + (f"{'ratio':>8}" if len(names) > 1 else ""))

    def row(label, key, fmt):
        cells, medians = [], []
        for name in names:
            v = results[name][key]
            medians.append(statistics.median(v))
            cells.append(f"{fmt.format(medians[-1])} ({fmt.format(min(v))}-{fmt.format(max(v))})")
        ratio = f"{medians[0] / medians[1]:>8.2f}" if len(names) > 1 else ""
        print(f"{label:34}" + "".join(f"{c:>22}" for c in cells) + ratio)

    row("launch -> ready (s)", "ready", "{:.2f}")
    row("ptjs --version (s)", "version", "{:.2f}")
    row("VmRSS at ready (MiB)", "rss", "{:.0f}")
    print(f"{'shared libraries loaded':34}" + "".join(f"{libs[n]:>22}" for n in names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
