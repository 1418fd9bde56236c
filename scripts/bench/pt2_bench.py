#!/usr/bin/env python3
"""AOTInductor package (.pt2) against TorchScript (.pt), same architecture and weights, on the
CPU with the venv's torch 2.13 (the default build's libtorch):

1. forward only, in Python on one thread (as each of ptjs's lanes runs): TorchScript as loaded,
   TorchScript frozen with channels-last weights and input (what ptjs runs when its outputs
   match), and the package; images/s at each batch size, median of --rounds timed loops;
2. end to end, `ptjs run` on the same photos with each file, steady-state images/s (the time
   for 2N photos minus the time for N, so start-up and loading cancel out).

  .venv/bin/python scripts/bench/pt2_bench.py [--models resnet18 mobilenet_v3_small] [--batches 1 8]
Prints one table. Compiling each package takes about a minute on 2 cores.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from torchvision_cpu import import_torchvision  # noqa: E402

torchvision = import_torchvision()
import ptjs_export  # noqa: E402

SPEC = "name: {name}\ninput: {{type: image, mode: RGB}}\npreprocess: {{preset: ImageClassification, crop_size: 224}}\n"


def images_per_second(fn, batch, rounds, seconds=1.0):
    x = torch.rand(batch, 3, 224, 224)
    with torch.inference_mode():
        fn(x)
        fn(x)
        rates = []
        for _ in range(rounds):
            n, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds:
                fn(x)
                n += batch
            rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates)


def ptjs_rate(ptjs, model, photos, batch):
    """Steady-state images/s of `ptjs run`: N photos, then 2N (the first N twice)."""
    def run(files):
        start = time.perf_counter()
        subprocess.run([ptjs, "run", "--model", model, "--input", "-", "--batch-size", str(batch), "--quiet"],
                       input="".join(f + "\n" for f in files).encode(), check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start
    once, twice = run(photos), run(photos + photos)
    return len(photos) / max(twice - once, 1e-9)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["resnet18", "mobilenet_v3_small"])
    ap.add_argument("--batches", nargs="+", type=int, default=[1, 8])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--photos", type=int, default=32)
    ap.add_argument("--ptjs", default=os.environ.get("PTJS_BIN", os.path.join(ROOT, "build", "apps", "ptjs", "ptjs")))
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = []
    with tempfile.TemporaryDirectory(prefix="ptjs-pt2-bench-") as tmp:
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "photos.py"), "--out", tmp + "/photos",
                        "--count", str(args.photos)], check=True, capture_output=True)
        photos = sorted(os.path.join(tmp, "photos", f) for f in os.listdir(tmp + "/photos"))
        for arch in args.models:
            torch.manual_seed(0)
            net = getattr(torchvision.models, arch)(weights=None).eval()
            spec = SPEC.format(name=arch)
            pt, pt2 = os.path.join(tmp, arch + ".pt"), os.path.join(tmp, arch + ".pt2")
            torch.jit.save(torch.jit.script(net), pt, _extra_files={"ptjs.yaml": spec})
            program = ptjs_export.export_dynamic_batch(net, torch.rand(2, 3, 224, 224), "x")
            torch._inductor.aoti_compile_and_package(
                program, package_path=pt2, inductor_configs={"aot_inductor.metadata": {"ptjs.yaml": spec},
                                                             **ptjs_export.BATCH_OF_ONE})
            loaded = torch.jit.load(pt).eval()
            frozen = torch.jit.freeze(torch.jit.load(pt).eval().to(memory_format=torch.channels_last))
            package = torch._inductor.aoti_load_package(pt2)
            for batch in args.batches:
                ts = images_per_second(loaded, batch, args.rounds)
                fz = images_per_second(lambda x: frozen(x.contiguous(memory_format=torch.channels_last)), batch,
                                       args.rounds)
                ao = images_per_second(package, batch, args.rounds)
                run_pt, run_pt2 = ptjs_rate(args.ptjs, pt, photos, batch), ptjs_rate(args.ptjs, pt2, photos, batch)
                rows.append((arch, batch, ts, fz, ao, run_pt, run_pt2))
                print(f"{arch} batch {batch}: done", file=sys.stderr, flush=True)
    print(f"torch {torch.__version__}, {os.cpu_count()} cores; forward only on 1 thread; ptjs run end to end "
          f"({args.photos} photos, default lanes)")
    print("| model | batch | TS as loaded | TS frozen channels-last | .pt2 | .pt2 / frozen | ptjs run .pt | ptjs run .pt2 | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for arch, batch, ts, fz, ao, rp, rp2 in rows:
        print(f"| {arch} | {batch} | {ts:.1f} | {fz:.1f} | {ao:.1f} | {ao / fz:.2f} | {rp:.1f} | {rp2:.1f} | {rp2 / rp:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
