#!/usr/bin/python3
"""The Python way to batch-score images: PIL + torchvision transforms + torch.jit.

The baseline for `ptjs run` in benchmarks, and the reference scorer for tests. The pipeline
is read from the ptjs model spec exactly as ptjs resolves it (DESIGN.md "Commands"):
--pipeline, else the spec embedded in the .pt as `ptjs.yaml`, else a sibling `<stem>.yaml`,
else torchvision's ImageClassification preset; a `.yaml` model is a spec with `model:`.
Each preprocess step `- Name: {args}` becomes `torchvision.transforms.Name(**args)` (with
`interpolation: bilinear` mapped to InterpolationMode), after `Image.open(f).convert(mode)`.

Writes one JSONL record per input, in input order, like ptjs:
  {"file": "a.jpg", "predictions": [{"index": 3, "label": "three", "score": 0.98}, ...]}
and prints images/s to stderr. `--sweep` times threads x workers combinations instead.

Library use (tests):  m = load_model("x.pt"); recs = score(m, files, batch_size=16)
Runs with Debian's /usr/bin/python3 (torch 1.13, torchvision 0.14, Pillow 9.4) or the venv's
.venv/bin/python (torch 2.13, torchvision 0.28).
"""
import argparse
import json
import os
import signal
import sys
import time

import torch
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from torchvision_cpu import import_torchvision  # noqa: E402  (the venv: PyPI's torchvision beside CPU torch)

import_torchvision()
import torchvision.transforms as T  # noqa: E402
from PIL import Image  # noqa: E402
from torchvision.transforms._presets import ImageClassification  # noqa: E402

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".pgm", ".pbm"}
IMAGENET_PRESET = {"preset": "ImageClassification", "crop_size": 224, "resize_size": 256}
DEFAULT_POSTPROCESS = [{"Softmax": {"dim": 1}}, {"TopK": {"k": 5}}]


def _step(item):
    """`- Name: {args}` (or a bare `- Name`) -> (name, args dict)."""
    if isinstance(item, str):
        return item, {}
    (name, args), = item.items()
    return name, _interpolation(dict(args or {}))


def _interpolation(args):
    if isinstance(args.get("interpolation"), str):
        args["interpolation"] = T.InterpolationMode(args["interpolation"].lower())
    return args


class ConvertMode:
    """Image.open(f).convert(mode), as the ptjs spec's `input: {mode: ...}` declares."""

    def __init__(self, mode):
        self.mode = mode

    def __call__(self, img):
        return img.convert(self.mode)


def build_transform(spec):
    """torchvision Compose for an image spec (dict parsed from ptjs YAML)."""
    mode = (spec.get("input") or {}).get("mode", "RGB")
    pre = spec.get("preprocess")
    if pre is None:
        pre = IMAGENET_PRESET
    if isinstance(pre, dict):  # {preset: ImageClassification, ...}
        args = _interpolation(dict(pre))
        name = args.pop("preset", None)
        if name != "ImageClassification":
            raise ValueError(f"unknown preset {name!r} (accepted: ImageClassification)")
        for key in ("mean", "std"):
            if key in args:
                args[key] = tuple(args[key])
        steps = [ImageClassification(**args)]
    else:
        steps = []
        for item in pre:
            name, args = _step(item)
            if not hasattr(T, name):
                raise ValueError(f"unknown transform {name!r}")
            steps.append(getattr(T, name)(**args))
    return T.Compose([ConvertMode(mode)] + steps)


def resolve_spec(model_path, pipeline=None):
    """-> (spec dict, path of the .pt, directory that relative paths resolve against)."""
    if model_path.endswith((".yaml", ".yml")):
        with open(model_path) as f:
            spec = yaml.safe_load(f) or {}
        base = os.path.dirname(model_path) or "."
        pt = os.path.join(base, spec["model"])
    else:
        pt, base = model_path, os.path.dirname(model_path) or "."
        extra = {"ptjs.yaml": ""}
        torch.jit.load(pt, map_location="cpu", _extra_files=extra)
        sibling = os.path.splitext(pt)[0] + ".yaml"
        if extra["ptjs.yaml"]:
            spec = yaml.safe_load(extra["ptjs.yaml"]) or {}
        elif os.path.exists(sibling):
            with open(sibling) as f:
                spec = yaml.safe_load(f) or {}
        else:
            spec = {}
            if not pipeline:
                print("python_run: no spec in the model: using the ImageNet classification "
                      "preset", file=sys.stderr)
    if pipeline:
        with open(pipeline) as f:
            spec.update(yaml.safe_load(f) or {})  # keys the pipeline gives win
    return spec, pt, base


def load_labels(spec, base, labels_file=None):
    labels = spec.get("labels")
    if labels_file or isinstance(labels, str):
        path = labels_file or os.path.join(base, labels)
        with open(path) as f:
            labels = f.read().split("\n")
        while labels and labels[-1] == "":
            labels.pop()
    return [str(x) for x in labels] if labels else None


class Model:
    """A loaded model with its resolved spec, transform, labels and postprocess."""

    def __init__(self, model_path, pipeline=None, labels=None, topk=None, device="cpu"):
        self.spec, pt, base = resolve_spec(model_path, pipeline)
        if (self.spec.get("input") or {}).get("type", "image") != "image":
            raise SystemExit(f"python_run: {model_path}: only image-input models are supported")
        self.device = torch.device(device)
        self.module = torch.jit.load(pt, map_location=self.device).eval()
        self.transform = build_transform(self.spec)
        self.labels = load_labels(self.spec, base, labels)
        self.post = [_step(s) for s in self.spec.get("postprocess") or DEFAULT_POSTPROCESS]
        if topk:
            self.post = [(n, {"k": topk} if n == "TopK" else a) for n, a in self.post]

    def forward(self, batch):
        with torch.inference_mode():
            out = self.module(batch.to(self.device))
        return [t.float().cpu() for t in (out if isinstance(out, (tuple, list)) else [out])]

    def records(self, outs):
        """Postprocess a batch's outputs -> one record body per sample."""
        x = outs[0]
        for name, args in self.post:
            if name == "Softmax":
                x = torch.softmax(x, dim=args.get("dim", 1))
            elif name == "Sigmoid":
                x = torch.sigmoid(x)
            elif name in ("TopK", "Argmax"):
                k = 1 if name == "Argmax" else min(args.get("k", 5), x.shape[1])
                scores, idx = x.topk(k, dim=1)
                return [{"predictions": [
                    {"index": int(i), "label": self.label(int(i)), "score": float(s)}
                    for s, i in zip(srow, irow)]} for srow, irow in zip(scores, idx)]
        # Raw (or no selection step): every output tensor (the first one after any
        # Softmax/Sigmoid), one sample each
        outs = [x] + outs[1:]
        return [{"outputs": [{"name": f"output{j}", "shape": [1] + list(o.shape[1:]),
                              "datatype": "FP32", "data": o[n].flatten().tolist()}
                             for j, o in enumerate(outs)]} for n in range(x.shape[0])]

    def label(self, i):
        return self.labels[i] if self.labels and i < len(self.labels) else str(i)


class Files(torch.utils.data.Dataset):
    def __init__(self, files, transform):
        self.files, self.transform = files, transform

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        try:
            with Image.open(self.files[i]) as img:
                return i, self.transform(img), None
        except Exception as e:  # a bad file becomes an error record, not a crash
            return i, None, f"cannot read image: {e}"


def list_inputs(paths):
    """Files as given; folders recursively, sorted, image extensions only; '-' reads stdin."""
    out = []
    for p in paths:
        if p == "-":
            out += [line.strip() for line in sys.stdin if line.strip()]
        elif os.path.isdir(p):
            found = [os.path.join(d, f) for d, _, fs in os.walk(p) for f in fs
                     if os.path.splitext(f)[1].lower() in IMAGE_EXTS]
            out += sorted(found)
        else:
            out.append(p)
    return out


def score(model, files, batch_size=16, workers=0):
    """Yields (file, record) in input order."""
    loader = torch.utils.data.DataLoader(
        Files(files, model.transform), batch_size=batch_size, num_workers=workers,
        collate_fn=lambda b: b, worker_init_fn=lambda _: torch.set_num_threads(1))
    for batch in loader:
        good = [(i, t) for i, t, err in batch if err is None]
        recs = {}
        if good:
            bodies = model.records(model.forward(torch.stack([t for _, t in good])))
            recs = {i: body for (i, _), body in zip(good, bodies)}
        for i, _, err in batch:
            yield files[i], dict({"file": files[i]}, **recs.get(i, {"error": err}))


def timed(model, files, batch_size, workers, threads):
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    n = sum(1 for _ in score(model, files, batch_size, workers))
    return n / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="TorchScript .pt or ptjs spec .yaml")
    ap.add_argument("--pipeline", help="spec YAML whose keys override the model's")
    ap.add_argument("--input", nargs="+", required=True, help="files, folders, or - (stdin)")
    ap.add_argument("--output", help="JSONL file (default stdout)")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--workers", type=int, default=0, help="DataLoader num_workers")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="torch.set_num_threads")
    ap.add_argument("--topk", type=int, help="override TopK k")
    ap.add_argument("--labels", help="labels file, one per line")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--sweep", action="store_true",
                    help="time threads x workers combinations and print the best")
    args = ap.parse_args()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends us quietly

    model = Model(args.model, args.pipeline, args.labels, args.topk, args.device)
    files = list_inputs(args.input)
    if args.sweep:
        cpus = os.cpu_count() or 1
        threads = sorted({1, 2, 4, 8, 16, cpus} & set(range(1, cpus + 1)))
        workers = sorted({0, 1, 2, 4, 8, cpus} & set(range(0, cpus + 1)))
        timed(model, files[: args.batch_size * 2], args.batch_size, 0, cpus)  # warm up
        results = []
        for t in threads:
            for w in workers:
                ips = timed(model, files, args.batch_size, w, t)
                results.append((ips, t, w))
                print(f"threads={t} workers={w} batch={args.batch_size}: {ips:.1f} images/s",
                      file=sys.stderr)
        ips, t, w = max(results)
        print(f"best: --threads {t} --workers {w} --batch-size {args.batch_size}: "
              f"{ips:.1f} images/s")
        return 0

    torch.set_num_threads(args.threads)
    out = open(args.output, "w") if args.output else sys.stdout
    failed = n = 0
    t0 = time.perf_counter()
    for _, rec in score(model, files, args.batch_size, args.workers):
        out.write(json.dumps(rec, separators=(",", ":")) + "\n")
        n += 1
        failed += "error" in rec
    dt = time.perf_counter() - t0
    if out is not sys.stdout:
        out.close()
    print(f"python_run: {n} images in {dt:.2f} s: {n / dt:.1f} images/s "
          f"(batch {args.batch_size}, workers {args.workers}, threads {args.threads}, "
          f"{failed} failed)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
