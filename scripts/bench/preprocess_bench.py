#!/usr/bin/python3
"""CPU time per image of decode + ImageNet preprocessing: ptjs against PIL + torchvision.

Both sides do the same work on the same real-photo JPEGs (scripts/photos.py; --ext to choose
other files of the folder, e.g. jpg,png): decode, convert
to RGB, torchvision's ImageClassification preset (resize 256 bilinear, center crop 224,
to float, normalize), on one thread.
  ptjs:   `ptjs run --workers 1 --threads 1` with a TorchScript model whose forward is
          x.mean((2, 3)) (negligible next to preprocessing) and the preset embedded; CPU time
          is the children's user+sys from resource.getrusage. What ptjs pays once per process
          (libtorch's start, the model's load and plan, TorchScript's optimisation of the graph
          at the second forward) is taken out as batch_bench.sh does: the folder is listed
          --repeat times (N inputs, stdin list), then 2 --repeat times, and the per-image figure
          is (cpu(2N) - cpu(N)) / N, the median over the rounds (the two runs of a round back to
          back). (Before session 6 it was (cpu(N) - cpu(1)) / (N - 1), which left the graph
          optimisation of the second forward in: ~1 ms per image at N = 184; before session 7,
          the difference of the two sides' best rounds, which swung 1.5-2.3 ms between runs.)
  Python: Image.open(f).convert("RGB") then the preset, in a loop, torch.set_num_threads(1);
          time.process_time() around the loop (after one warm-up image).
Each side is measured --rounds times, interleaved; Python's best round counts, ptjs's median
difference (CPU time still
varies with other load on the machine: compare runs made under the same conditions). Prints
ms/image and the ratio.

  scripts/bench/preprocess_bench.py --ptjs build/apps/ptjs/ptjs            # 64 photos in a temp folder
  scripts/bench/preprocess_bench.py --images /tmp/photos --repeat 4 --rounds 3
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

import torch
from PIL import Image
from torchvision.transforms._presets import ImageClassification

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SPEC = """\
name: mean
input: {type: image, mode: RGB}
preprocess: {preset: ImageClassification, crop_size: 224, resize_size: 256}
postprocess:
  - Raw: {}
"""
MODEL_SOURCE = """\
import torch


class Mean(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean((2, 3))
"""


def make_model(folder):
    """TorchScript forward(x: [N,3,224,224]) = x.mean((2, 3)), the preset embedded."""
    with open(os.path.join(folder, "mean_model.py"), "w") as f:
        f.write(MODEL_SOURCE)  # TorchScript compiles from source files
    sys.path.insert(0, folder)
    from mean_model import Mean  # noqa: E402
    path = os.path.join(folder, "mean.pt")
    torch.jit.save(torch.jit.script(Mean()), path, _extra_files={"ptjs.yaml": SPEC})
    return path


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def ptjs_cpu(ptjs, model, files, extra=()):
    """CPU seconds (user+sys) of one `ptjs run` over files (extra: more `ptjs run` arguments)."""
    before = children_cpu()
    r = subprocess.run([ptjs, "run", "--model", model, "--input", "-", "--workers", "1", "--threads", "1",
                        "--batch-size", "16", "--quiet", "--output", os.devnull, *extra],
                       input="".join(f + "\n" for f in files).encode(), capture_output=True)
    if r.returncode != 0:
        sys.exit(f"ptjs run failed ({r.returncode}): {r.stderr.decode()}")
    return children_cpu() - before


def python_cpu(files, draft=False):
    """CPU seconds of Image.open + convert("RGB") + the preset over files; draft=True calls
    im.draft("RGB", (256, 256)) first (JPEGs decode reduced, as PIL's thumbnail does)."""
    preset = ImageClassification(crop_size=224, resize_size=256)
    start = time.process_time()
    for f in files:
        with Image.open(f) as im:
            if draft:
                im.draft("RGB", (256, 256))
            x = preset(im.convert("RGB"))
    assert x.shape == (3, 224, 224)
    return time.process_time() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ptjs", default=os.environ.get("PTJS_BIN", os.path.join(ROOT, "build", "apps", "ptjs", "ptjs")))
    ap.add_argument("--images", help="folder of photos (default: scripts/photos.py --count 64 in a temp folder)")
    ap.add_argument("--count", type=int, default=64, help="photos to make when --images is not given")
    ap.add_argument("--ext", default="jpg,jpeg", help="file extensions measured (default jpg,jpeg)")
    ap.add_argument("--repeat", type=int, default=4, help="times each photo is listed for ptjs's shorter run (N)")
    ap.add_argument("--rounds", type=int, default=5, help="measurements per side; the best counts")
    args = ap.parse_args()
    torch.set_num_threads(1)

    with tempfile.TemporaryDirectory(prefix="ptjs-preprocess-bench-") as tmp:
        folder = args.images
        if not folder:
            folder = os.path.join(tmp, "photos")
            subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "photos.py"), "--out", folder,
                            "--count", str(args.count)], check=True)
        exts = tuple("." + e.strip(". ").lower() for e in args.ext.split(","))
        files = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.lower().endswith(exts))
        if len(files) < 2:
            sys.exit(f"fewer than 2 {args.ext} files in {folder}")
        model = make_model(tmp)
        listed = files * args.repeat

        python_cpu(files[:1])  # warm-up: imports, first-call allocations
        py, short, long = [], [], []
        for _ in range(args.rounds):  # interleaved, so a busy spell on the machine hits both sides
            py.append(python_cpu(files) / len(files))
            short.append(ptjs_cpu(args.ptjs, model, listed))
            long.append(ptjs_cpu(args.ptjs, model, listed * 2))
        # Each round's two ptjs runs are back to back, so their difference has the same
        # conditions on both sides; the median of the rounds' differences counts (the difference
        # of the two minimums, used before session 7, swung 1.5-2.3 ms between runs).
        diffs = sorted(l - s for s, l in zip(short, long))
        pj = diffs[len(diffs) // 2] / len(listed)
        spread = (diffs[0] / len(listed), diffs[-1] / len(listed))
        py, short = min(py), min(short)
        once = short - pj * len(listed)

    print(f"{len(files)} photos ({args.ext}) from {folder}; decode + RGB + "
          f"ImageClassification(crop 224, resize 256), one thread, best of {args.rounds}")
    print(f"PIL + torchvision : {py * 1e3:7.2f} ms CPU/image")
    print(f"ptjs run          : {pj * 1e3:7.2f} ms CPU/image  (rounds {spread[0] * 1e3:.2f}-{spread[1] * 1e3:.2f}; "
          f"{len(listed)} and {2 * len(listed)} inputs; "
          f"once per process {once:.2f} s CPU taken out; {short / len(listed) * 1e3:.2f} ms/image with it "
          f"at {len(listed)})")
    print(f"ratio (Python / ptjs): {py / pj:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
