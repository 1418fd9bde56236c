#!/usr/bin/python3
"""Large photos: 12-megapixel JPEGs through decode + the ImageNet preset, with and without draft.

Makes --count 4000x3000 quality-90 JPEGs from the python3-skimage photographs
(scripts/photos.py --large: LANCZOS upscale plus mild noise, so they compress like camera
photos) into --cache, then measures CPU ms per image of decode + RGB + ImageClassification
(resize 256 bilinear, center crop 224, to float, normalize), one thread:
  (a) PIL + torchvision:              Image.open(f).convert("RGB"), the preset
  (b) PIL draft + torchvision:        im.draft("RGB", (256, 256)) first (libjpeg DCT scaling)
  (c) ptjs:                           the default, full decode
  (d) ptjs --draft:                   input.draft, bit-exact with (b)
ptjs is timed as scripts/bench/preprocess_bench.py times it (its helpers): `ptjs run --workers 1
--threads 1` over the photos listed --repeat times, minus a one-photo run (libtorch's ~1 s
start-up), with a model whose forward is negligible. One `ptjs preprocess` per photo would
measure the start-up, not the decode. The sides are measured --rounds times, interleaved; the
best round counts.

Then the parity cost of draft, from `ptjs preprocess` (.npy, with and without --draft) on each
photo: max and mean abs difference of the normalized tensors, that ptjs equals PIL on both
sides, and the top-1 agreement of a classifier: torchvision's resnet18 with ImageNet weights
when they are in the torch hub cache (nothing is downloaded), else the bundled digits model
(configs/digits, mode L, Resize 32: a weak proxy, said so in the output).

  scripts/bench/large_photos.py --ptjs build/apps/ptjs/ptjs
  scripts/bench/large_photos.py --count 4 --rounds 2        # quicker
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from PIL import Image
from torchvision.transforms._presets import ImageClassification

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from preprocess_bench import make_model, ptjs_cpu, python_cpu  # noqa: E402

SPEC = "input: {type: image, mode: RGB}\npreprocess: {preset: ImageClassification, crop_size: 224}\n"


def make_photos(folder, count):
    done = os.path.isdir(folder) and len([f for f in os.listdir(folder) if f.endswith(".jpg")]) == count
    if not done:
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "photos.py"), "--out", folder,
                        "--count", str(count), "--large", "--quality", "90"], check=True)
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".jpg"))


def preprocess_npy(ptjs, pipeline, path, out, draft):
    r = subprocess.run([ptjs, "preprocess", "--pipeline", pipeline, "--input", path, "--output", out]
                       + (["--draft"] if draft else []), capture_output=True)
    if r.returncode != 0:
        sys.exit(f"ptjs preprocess failed ({r.returncode}): {r.stderr.decode()}")
    return np.load(out)


def pil_reference(path, draft):
    with Image.open(path) as im:
        if draft:
            im.draft("RGB", (256, 256))
        return ImageClassification(crop_size=224)(im.convert("RGB")).numpy()


def imagenet_resnet18():
    """torchvision resnet18 with ImageNet weights if the hub cache has them, else None."""
    from torchvision.models import ResNet18_Weights, resnet18
    weights = ResNet18_Weights.IMAGENET1K_V1
    cached = os.path.join(torch.hub.get_dir(), "checkpoints", os.path.basename(weights.url))
    if not os.path.exists(cached):
        return None
    model = resnet18()
    model.load_state_dict(torch.load(cached, map_location="cpu"))
    return model.eval()


def digits_top1(ptjs, files, draft):
    r = subprocess.run([ptjs, "run", "--model", os.path.join(ROOT, "configs", "digits", "model.yaml"), "--input",
                        *files, "--topk", "1", "--quiet"] + (["--draft"] if draft else []), capture_output=True)
    if r.returncode != 0:
        sys.exit(f"ptjs run (digits) failed ({r.returncode}): {r.stderr.decode()}")
    return [json.loads(line)["predictions"][0]["index"] for line in r.stdout.decode().splitlines()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ptjs", default=os.environ.get("PTJS_BIN", os.path.join(ROOT, "build", "apps", "ptjs", "ptjs")))
    ap.add_argument("--count", type=int, default=12, help="12-megapixel JPEGs to make (default 12)")
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "ptjs-large-photos"),
                    help="folder for the photos, kept between runs (default: %(default)s)")
    ap.add_argument("--repeat", type=int, default=3, help="times each photo is listed for ptjs (amortises start-up)")
    ap.add_argument("--rounds", type=int, default=3, help="measurements per side; the best counts")
    args = ap.parse_args()
    if args.count < 2:
        sys.exit("--count must be at least 2")
    torch.set_num_threads(1)
    files = make_photos(os.path.join(args.cache, f"4000x3000_q90_{args.count}"), args.count)

    with tempfile.TemporaryDirectory(prefix="ptjs-large-photos-") as tmp:
        model = make_model(tmp)
        listed = files * args.repeat
        python_cpu(files[:1])  # warm-up
        cpu = {k: [] for k in "abcd"}
        for _ in range(args.rounds):  # interleaved: a busy spell on the machine hits every side
            cpu["a"].append(python_cpu(files) / len(files))
            cpu["b"].append(python_cpu(files, draft=True) / len(files))
            for key, extra in (("c", ()), ("d", ("--draft",))):
                start = ptjs_cpu(args.ptjs, model, files[:1], extra)
                total = ptjs_cpu(args.ptjs, model, listed, extra)
                cpu[key].append((total - start) / (len(listed) - 1))
        ms = {k: min(v) * 1e3 for k, v in cpu.items()}

        pipeline = os.path.join(tmp, "preset.yaml")
        with open(pipeline, "w") as f:
            f.write(SPEC)
        full, draft, exact = [], [], True
        for i, path in enumerate(files):
            full.append(preprocess_npy(args.ptjs, pipeline, path, os.path.join(tmp, f"{i}_full.npy"), False))
            draft.append(preprocess_npy(args.ptjs, pipeline, path, os.path.join(tmp, f"{i}_draft.npy"), True))
            exact &= np.array_equal(full[-1], pil_reference(path, False))
            exact &= np.array_equal(draft[-1], pil_reference(path, True))
        d = np.abs(np.stack(full).astype(np.float64) - np.stack(draft))
        per_image_max = d.reshape(len(files), -1).max(axis=1)

        net = imagenet_resnet18()
        if net is not None:
            with torch.inference_mode():
                top_full = net(torch.from_numpy(np.stack(full))).argmax(1).tolist()
                top_draft = net(torch.from_numpy(np.stack(draft))).argmax(1).tolist()
            classifier = "resnet18, ImageNet weights"
        else:
            top_full, top_draft = digits_top1(args.ptjs, files, False), digits_top1(args.ptjs, files, True)
            classifier = ("digits (configs/digits: mode L, Resize 32; no ImageNet weights in the torch hub "
                          "cache, none downloaded)")
        agree = sum(a == b for a, b in zip(top_full, top_draft))

    sizes = sorted({Image.open(f).size for f in files})
    mb = sum(os.path.getsize(f) for f in files) / len(files) / 1e6
    print(f"{len(files)} JPEGs {', '.join(f'{w}x{h}' for w, h in sizes)} quality 90 ({mb:.1f} MB each) in "
          f"{os.path.dirname(files[0])}")
    print(f"decode + RGB + ImageClassification(resize 256, crop 224), one thread, CPU ms/image, best of "
          f"{args.rounds} rounds (ptjs: {len(listed)} inputs per run, start-up taken out)\n")
    rows = [("a", "PIL + torchvision"), ("b", "PIL draft + torchvision"), ("c", "ptjs (default)"),
            ("d", "ptjs --draft")]
    print("| | pipeline | CPU ms/image |")
    print("|---|---|---:|")
    for key, name in rows:
        print(f"| ({key}) | {name} | {ms[key]:.1f} |")
    print()
    print("| ratio | speed-up |")
    print("|---|---:|")
    for num, den, what in (("c", "d", "(d) vs (c): ptjs draft vs ptjs full decode"),
                           ("a", "d", "(d) vs (a): ptjs draft vs PIL + torchvision"),
                           ("a", "c", "(c) vs (a): ptjs full decode vs PIL + torchvision"),
                           ("b", "d", "(d) vs (b): ptjs draft vs PIL draft + torchvision")):
        print(f"| {what} | {ms[num] / ms[den]:.2f}x |")
    print()
    print("parity cost of draft (ptjs --draft vs ptjs default, normalized 3x224x224 tensors):")
    print(f"  max abs diff {d.max():.4f} (per image {per_image_max.min():.4f} .. {per_image_max.max():.4f}), "
          f"mean abs diff {d.mean():.4f}")
    print(f"  ptjs == PIL bit for bit, both sides (full vs Image.open, draft vs im.draft): "
          f"{'yes' if exact else 'NO'}")
    print(f"  top-1 agreement, {classifier}: {agree}/{len(files)}")
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
