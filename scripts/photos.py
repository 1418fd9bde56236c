#!/usr/bin/python3
"""Write a folder of real-photo JPEG/PNG files, for benchmarks and CLI tests.

Built from the photographs that python3-skimage ships (astronaut, chelsea, coffee, rocket,
motorcycle, hubble, retina, camera, coins, ...): image k takes source k mod 13 and a random
crop with the aspect ratio of a typical size (300x300 up to 1280x720, landscape and portrait),
resized with Pillow LANCZOS. About 4 in 5 are JPEG (quality 75..95), the rest PNG; the
grayscale sources stay 8-bit grayscale. --large writes 4000x3000 (12 megapixel) JPEGs
instead: upscaled with LANCZOS plus mild Gaussian noise (sigma 3), quality 92, so they compress like camera photos.
--quality Q sets every JPEG's quality. Deterministic: the same --count/--seed/--large/--quality
give byte-identical files.

  scripts/photos.py --out /tmp/photos --count 200
  scripts/photos.py --out /tmp/big --count 8 --large
"""
import argparse
import os
import random
import sys

import numpy as np
from PIL import Image

SKIMAGE_DATA = "/usr/lib/python3/dist-packages/skimage/data"
SOURCES = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png",
           "hubble_deep_field.jpg", "retina.jpg", "ihc.png", "motorcycle_right.png",
           "camera.png", "coins.png", "moon.png", "clock_motion.png"]  # last 4: grayscale
SIZES = [(300, 300), (640, 480), (800, 600), (1024, 768), (1280, 720), (500, 375),
         (480, 640), (427, 640), (720, 720), (1280, 853)]
LARGE = (4000, 3000)


def crop_to_aspect(img, w, h, rng):
    """Random crop of 70..100% of the largest window with aspect w:h."""
    sw, sh = img.size
    scale = min(sw / w, sh / h) * rng.uniform(0.7, 1.0)
    cw, ch = max(1, round(w * scale)), max(1, round(h * scale))
    x, y = rng.randint(0, sw - cw), rng.randint(0, sh - ch)
    return img.crop((x, y, x + cw, y + ch))


def make(k, rng, large, sources, quality=None):
    name = SOURCES[k % len(SOURCES)]
    w, h = LARGE if large else rng.choice(SIZES)
    img = crop_to_aspect(sources[name], w, h, rng).resize((w, h), Image.LANCZOS)
    if large:
        noise = np.random.default_rng(k).standard_normal((h, w, len(img.getbands())), np.float32)
        pixels = np.asarray(img, dtype=np.float32).reshape(h, w, -1) + 3.0 * noise
        img = Image.fromarray(np.clip(pixels + 0.5, 0, 255).astype(np.uint8).squeeze(), img.mode)
    stem = f"{k:04d}_{os.path.splitext(name)[0]}"
    if not large and rng.random() < 0.2:
        return stem + ".png", img, {"format": "PNG"}
    q = rng.randint(75, 95) if not large else 92
    return stem + ".jpg", img, {"format": "JPEG", "quality": quality or q}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="folder to write (created)")
    ap.add_argument("--count", type=int, default=32)
    ap.add_argument("--large", action="store_true", help="4000x3000 JPEGs")
    ap.add_argument("--quality", type=int, help="JPEG quality for every JPEG (default: 92 with --large, else 75..95)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    sources = {}
    for name in SOURCES:
        with Image.open(os.path.join(SKIMAGE_DATA, name)) as img:
            sources[name] = img.convert("L" if img.mode == "L" else "RGB")
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)
    total = 0
    for k in range(args.count):
        fname, img, opts = make(k, rng, args.large, sources, args.quality)
        path = os.path.join(args.out, fname)
        img.save(path, **opts)
        total += os.path.getsize(path)
    print(f"wrote {args.count} images to {args.out} ({total / 1e6:.1f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
