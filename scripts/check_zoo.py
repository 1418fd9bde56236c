#!/usr/bin/python3
"""Model zoo check: torchvision architectures (seeded random weights, ImageNet preset embedded,
Raw outputs) exported as TorchScript and/or as AOTInductor packages (.pt2, batch dimension
dynamic), scored by `ptjs run` and by Python (PIL + the preset + the module: the scripted one
for TorchScript, the eager one for .pt2) on the same photos; prints, per model and format, the
largest difference over every output relative to the largest magnitude, the plan ptjs chose,
and the wall time.

A model fails the check when ptjs exits non-zero, a record has an error, the outputs differ in
number or shape, or the relative difference is over the tolerance (--tolerance, default 1e-4,
the TorchScript plan's own bound; --pt2-tolerance, default 1e-3: AOTInductor's generated
kernels sum in another order than eager PyTorch). Exit status: the number of checks that failed.

  .venv/bin/python scripts/check_zoo.py                     # the default list, both formats
  scripts/check_zoo.py --models googlenet squeezenet1_1 --photos 4 --formats torchscript
  .venv/bin/python scripts/check_zoo.py --models all        # every classification/segmentation model

Runs with the venv's Python (torch 2.13, torchvision 0.28: both formats; scripts/install-deps.sh
makes it) or Debian's /usr/bin/python3 (torch 1.13: TorchScript only).
"""
import argparse
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from torchvision_cpu import import_torchvision  # noqa: E402

torchvision = import_torchvision()
from torchvision.transforms._presets import ImageClassification  # noqa: E402

import ptjs_export  # noqa: E402

ROOT = os.path.dirname(HERE)
SPEC = """name: {name}
input: {{type: image, mode: RGB}}
preprocess: {{preset: ImageClassification, crop_size: {crop}, resize_size: {resize}}}
postprocess:
  - Raw: {{}}
"""
DEFAULT = ["resnet50", "efficientnet_b0", "squeezenet1_1", "densenet121", "shufflenet_v2_x1_0", "regnet_y_400mf",
           "mnasnet0_5", "googlenet", "inception_v3", "convnext_tiny", "mobilenet_v2", "swin_t",
           "vit_b_16", "maxvit_t", "lraspp_mobilenet_v3_large"]
PT2_SUPPORTED = hasattr(torch, "_inductor") and hasattr(torch._inductor, "aoti_compile_and_package")
SEGMENTATION = ["lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large", "fcn_resnet50", "deeplabv3_resnet50"]


def build(arch):
    torch.manual_seed(0)
    if arch in SEGMENTATION:
        return getattr(torchvision.models.segmentation, arch)(weights=None, weights_backbone=None).eval()
    kwargs = {"aux_logits": False, "init_weights": True} if arch in ("googlenet", "inception_v3") else {}
    return getattr(torchvision.models, arch)(weights=None, **kwargs).eval()


def tensors(value):
    """The tensors of a forward's result in ptjs's order: tuples, lists and dict values, None left out."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (tuple, list)):
        return [t for v in value if v is not None for t in tensors(v)]
    raise TypeError(f"unexpected output {type(value)}")


def export(arch, fmt, folder, spec, crop):
    """-> (path of the exported file, the module Python scores with)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = build(arch)
        if fmt == "torchscript":
            path = os.path.join(folder, arch + ".pt")
            torch.jit.save(torch.jit.script(net), path, _extra_files={"ptjs.yaml": spec})
            return path, torch.jit.load(path)
        path = os.path.join(folder, arch + ".pt2")
        name = next(iter(inspect.signature(net.forward).parameters))  # x, or input (segmentation)
        program = ptjs_export.export_dynamic_batch(net, torch.rand(2, 3, crop, crop), name)
        torch._inductor.aoti_compile_and_package(program, package_path=path,
                                                  inductor_configs={"aot_inductor.metadata": {"ptjs.yaml": spec},
                                                                    **ptjs_export.BATCH_OF_ONE})
        return path, net


def check(arch, fmt, photos, ptjs, folder, tolerance):
    crop, resize = (299, 342) if arch == "inception_v3" else (224, 256)
    exported = time.monotonic()
    path, loaded = export(arch, fmt, folder, SPEC.format(name=arch, crop=crop, resize=resize), crop)
    exported = time.monotonic() - exported
    preset = ImageClassification(crop_size=crop, resize_size=resize)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = [tensors(loaded(preset(Image.open(p).convert("RGB")).unsqueeze(0))) for p in photos]
    start = time.monotonic()
    r = subprocess.run([ptjs, "run", "--model", path, "--input", "-", "--batch-size", "2", "--no-progress"],
                       input="".join(p + "\n" for p in photos).encode(), capture_output=True, timeout=900)
    took = time.monotonic() - start
    stderr = r.stderr.decode()
    plan = next((line.rsplit("model run ", 1)[1] for line in stderr.splitlines() if "model run " in line), "?")
    if r.returncode != 0:
        return False, f"ptjs exit {r.returncode}: {stderr.strip().splitlines()[-1] if stderr.strip() else ''}"
    records = [json.loads(line) for line in r.stdout.decode().splitlines()]
    if len(records) != len(photos):
        return False, f"{len(records)} records for {len(photos)} photos"
    worst = 0.0
    for rec, ref in zip(records, reference):
        if "error" in rec:
            return False, f"{rec['file']}: {rec['error']}"
        outs = rec["outputs"]
        if len(outs) != len(ref):
            return False, f"{len(outs)} outputs, Python has {len(ref)}"
        for out, want in zip(outs, ref):
            got = torch.tensor(out["data"], dtype=torch.float32).reshape(out["shape"])
            if list(got.shape) != list(want.shape):
                return False, f"{out['name']} shape {list(got.shape)}, Python {list(want.shape)}"
            scale = max(want.abs().max().item(), 1e-30)
            worst = max(worst, ((got - want).abs().max() / scale).item())
    ok = worst <= tolerance
    return ok, (f"max |ptjs - python| / max |python| {worst:.1e}, {len(photos)} photos in {took:.1f} s, runs {plan}"
                f" (exported in {exported:.0f} s)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ptjs", default=os.environ.get("PTJS_BIN", os.path.join(ROOT, "build", "apps", "ptjs", "ptjs")))
    ap.add_argument("--models", nargs="+", default=DEFAULT, help="torchvision names, or 'all'")
    ap.add_argument("--photos", type=int, default=3, help="photos scored per model (default 3)")
    ap.add_argument("--formats", nargs="+", choices=("torchscript", "pt2"),
                    default=["torchscript", "pt2"] if PT2_SUPPORTED else ["torchscript"])
    ap.add_argument("--tolerance", type=float, default=1e-4, help="for TorchScript")
    ap.add_argument("--pt2-tolerance", type=float, default=1e-3, help="for AOTInductor packages")
    ap.add_argument("--no-skip", action="store_true", help="a model that cannot be built or scripted fails too")
    args = ap.parse_args()
    torch.set_num_threads(2)
    models = args.models
    if models == ["all"]:
        models = [m for m in torchvision.models.list_models(module=torchvision.models)] + SEGMENTATION
    with tempfile.TemporaryDirectory(prefix="ptjs-zoo-") as tmp:
        photo_dir = os.path.join(tmp, "photos")
        subprocess.run([sys.executable, os.path.join(HERE, "photos.py"), "--out", photo_dir, "--count",
                        str(args.photos)], check=True, capture_output=True)
        photos = sorted(os.path.join(photo_dir, f) for f in os.listdir(photo_dir))[:args.photos]
        failed = 0
        print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, {args.ptjs}", flush=True)
        for arch in models:
            for fmt in args.formats:
                tolerance = args.pt2_tolerance if fmt == "pt2" else args.tolerance
                try:
                    ok, what = check(arch, fmt, photos, args.ptjs, tmp, tolerance)
                except Exception as e:  # an architecture Python cannot export is not ptjs's failure
                    print(f"{arch:30s} {fmt:11s} {'FAIL' if args.no_skip else 'skip'} {type(e).__name__}: "
                          f"{(str(e).strip().splitlines() or [''])[0][:100]}", flush=True)
                    failed += 1 if args.no_skip else 0
                    continue
                failed += 0 if ok else 1
                print(f"{arch:30s} {fmt:11s} {'ok  ' if ok else 'FAIL'} {what}", flush=True)
    return failed


if __name__ == "__main__":
    sys.exit(main())
