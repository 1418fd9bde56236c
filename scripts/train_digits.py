#!/usr/bin/python3
"""Train the small digits CNN shipped in configs/digits/ (deterministic, < 1 min on 2 cores).

Data: sklearn's load_digits (1,797 real 8x8 handwritten digits, values 0..16). Each digit
becomes an 8-bit grayscale image (v * 255 / 16, rounded half up), upscaled 5x to 40x40 with
Pillow BICUBIC and stored as PNG. The model only ever sees those PNGs through the pipeline
of its spec, the one ptjs runs at inference (built by scripts/bench/python_run.py):
    Image.open(png).convert("L") -> Resize(32, bilinear) -> CenterCrop(28) -> ToTensor()
    -> Normalize([0.5], [0.5])
Training adds random shifts of up to 2 px to those tensors; held-out evaluation uses the
exact pipeline on the PNG files on disk, scored by the saved TorchScript file (torch.jit.load).

Writes to --out (default configs/digits/):
  model.pt      TorchScript with the spec embedded as the extra file `ptjs.yaml` (no `model:`,
                labels inline)
  model.yaml    the same spec with `model: model.pt` and `labels: labels.txt`
  labels.txt    zero .. nine, one per line (index = digit)
  images/<label>/<index>.png   the held-out split (index = position in load_digits)
  expected.csv  file,label,python_top1,python_score for every held-out image (file relative
                to --out, labels by name, score = softmax probability of the top-1, %.9g)
"""
import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0":  # TorchScript code order follows str hashes:
    os.environ["PYTHONHASHSEED"] = "0"       # fix them so model.pt is byte-identical per run
    os.execv(sys.executable, [sys.executable] + sys.argv)

import argparse  # noqa: E402
import csv  # noqa: E402
import io  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench"))
import python_run  # noqa: E402  (spec -> torchvision transforms, the reference scorer)

LABELS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
PIPELINE = """\
input: {type: image, mode: L}
preprocess:
  - Resize: {size: 32, interpolation: bilinear}
  - CenterCrop: {size: 28}
  - ToTensor: {}
  - Normalize: {mean: [0.5], std: [0.5]}
postprocess:
  - Softmax: {dim: 1}
  - TopK: {k: 3}
"""
EMBEDDED_SPEC = ("name: digits\n" + PIPELINE + "labels: [" + ", ".join(LABELS) + "]\n"
                 "batching: {max_batch_size: 16, max_delay_ms: 5}\n")
FILE_SPEC = ("name: digits\nmodel: model.pt\n" + PIPELINE + "labels: labels.txt\n"
             "batching: {max_batch_size: 16, max_delay_ms: 5}\n")


class DigitsNet(nn.Module):
    """[N,1,28,28] -> [N,10] logits; 29k parameters."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 14x14
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 7x7
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))  # 3x3
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(64 * 9, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


def digit_png(values):
    """8x8 array of 0..16 -> PNG bytes of a 40x40 8-bit grayscale image."""
    pixels = (values.astype(np.int32) * 255 + 8) // 16  # v * 255 / 16 rounded half up
    img = Image.fromarray(pixels.astype(np.uint8), mode="L").resize((40, 40), Image.BICUBIC)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def shift(batch, gen, max_shift=2):
    """Random translation by up to max_shift px, filling with the background value (-1)."""
    n, _, h, w = batch.shape
    padded = nn.functional.pad(batch, [max_shift] * 4, value=-1.0)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, n), generator=gen)
    return torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--out", default=os.path.join(root, "configs", "digits"))
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="fixed for reproducible floats")
    args = ap.parse_args()

    t0 = time.time()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)

    digits = load_digits()
    idx_train, idx_test = train_test_split(np.arange(len(digits.target)), test_size=0.2,
                                           stratify=digits.target, random_state=args.seed)
    pngs = [digit_png(d) for d in digits.images]

    # Training tensors: the spec's pipeline on the PNG bytes (identical to the files on disk).
    transform = python_run.build_transform(python_run.yaml.safe_load(EMBEDDED_SPEC))
    x_train = torch.stack([transform(Image.open(io.BytesIO(pngs[i]))) for i in idx_train])
    y_train = torch.from_numpy(digits.target[idx_train]).long()

    model = DigitsNet()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    gen = torch.Generator().manual_seed(args.seed)
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(y_train), generator=gen)
        total = 0.0
        for b in range(0, len(order), 64):
            sel = order[b:b + 64]
            loss = nn.functional.cross_entropy(model(shift(x_train[sel], gen)), y_train[sel])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(sel)
        sched.step()
        if epoch % 5 == 4 or epoch == args.epochs - 1:
            print(f"epoch {epoch + 1}: train loss {total / len(y_train):.4f}", file=sys.stderr)

    # Artifacts.
    os.makedirs(args.out, exist_ok=True)
    model.eval()
    pt = os.path.join(args.out, "model.pt")
    torch.jit.save(torch.jit.script(model), pt, _extra_files={"ptjs.yaml": EMBEDDED_SPEC})
    with open(os.path.join(args.out, "model.yaml"), "w") as f:
        f.write(FILE_SPEC)
    with open(os.path.join(args.out, "labels.txt"), "w") as f:
        f.write("\n".join(LABELS) + "\n")
    images = os.path.join(args.out, "images")
    shutil.rmtree(images, ignore_errors=True)
    for i in idx_test:
        rel = os.path.join("images", LABELS[digits.target[i]], f"{i:04d}.png")
        os.makedirs(os.path.join(args.out, os.path.dirname(rel)), exist_ok=True)
        with open(os.path.join(args.out, rel), "wb") as f:
            f.write(pngs[i])

    # Held-out evaluation: the saved file, the exact pipeline, the PNGs on disk, batch size 1.
    scorer = python_run.Model(pt)
    files = python_run.list_inputs([images])
    correct = 0
    with open(os.path.join(args.out, "expected.csv"), "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["file", "label", "python_top1", "python_score"])
        for path, rec in python_run.score(scorer, files, batch_size=1):
            top = rec["predictions"][0]
            truth = os.path.basename(os.path.dirname(path))
            correct += top["label"] == truth
            out.writerow([os.path.relpath(path, args.out), truth, top["label"],
                          f"{top['score']:.9g}"])
    acc = correct / len(files)
    print(f"held-out accuracy: {correct}/{len(files)} = {acc:.2%} "
          f"({len(idx_train)} train images, {time.time() - t0:.1f} s)")
    return 0 if acc >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
