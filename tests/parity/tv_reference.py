#!/usr/bin/python3
"""torchvision reference outputs for ptjs_transforms' parity tests.

Reads a case list (transform_cases.yaml), and for each case saves, as .npy, the input image as
PIL decodes it (np.array(Image.open(f).convert(mode)), cropped) and what torchvision 0.14 /
Pillow 9.4 make of it. Writes manifest.json describing every case for the C++ tests.

Run with Debian's Python (/usr/bin/python3), which has torch, torchvision, Pillow and PyYAML.
"""
import argparse
import json
import os
import re
import sys
import warnings


def up_to_date(out_dir, sources):
    """manifest.json exists and is newer than the case list and this script."""
    manifest = os.path.join(out_dir, "manifest.json")
    if not os.path.exists(manifest):
        return False
    return all(os.path.getmtime(manifest) > os.path.getmtime(s) for s in sources)


if __name__ == "__main__":
    _args = sys.argv[1:]
    if "--force" not in _args and "--cases" in _args and "--out" in _args:
        _cases, _out = _args[_args.index("--cases") + 1], _args[_args.index("--out") + 1]
        if up_to_date(_out, [_cases, os.path.abspath(__file__)]):
            print(f"tv_reference: {_out} is up to date")
            sys.exit(0)

# Imported after the freshness check: torch takes seconds to import.
import numpy as np  # noqa: E402
import torch  # noqa: E402
import yaml  # noqa: E402
from PIL import Image  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from torchvision_cpu import import_torchvision  # noqa: E402  (the venv's CPU torch beside PyPI's torchvision)

import_torchvision()
from torchvision import transforms as T  # noqa: E402
from torchvision.transforms import InterpolationMode, _presets  # noqa: E402
from torchvision.transforms import functional as F  # noqa: E402

DTYPES = {"float32": torch.float32, "float": torch.float, "torch.float32": torch.float32,
          "torch.float": torch.float, "uint8": torch.uint8, "torch.uint8": torch.uint8}


class TensorPathResize:
    """Resize(antialias=False) on a PIL image, as ptjs runs it: torchvision's tensor path on the
    image as a uint8 tensor (torchvision itself ignores antialias for PIL images)."""

    def __init__(self, **kwargs):
        self.resize = T.Resize(**kwargs)

    def __call__(self, img):
        if not isinstance(img, Image.Image):
            return self.resize(img)
        t = self.resize(F.pil_to_tensor(img))
        arr = t.permute(1, 2, 0).numpy()
        return Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr, img.mode)


def build(preprocess):
    if isinstance(preprocess, dict):
        args = dict(preprocess)
        name = args.pop("preset")
        if "interpolation" in args:
            args["interpolation"] = InterpolationMode(args["interpolation"])
        return getattr(_presets, name)(**args)
    steps = []
    for item in preprocess:
        (name, args), = item.items()
        args = dict(args or {})
        if "interpolation" in args:
            args["interpolation"] = InterpolationMode(args["interpolation"])
        if "dtype" in args:
            args["dtype"] = DTYPES[args["dtype"]]
        if name == "Resize" and args.get("antialias") is False:
            steps.append(TensorPathResize(**args))
        else:
            steps.append(getattr(T, name)(**args))
    return T.Compose(steps)


def to_array(out):
    if isinstance(out, torch.Tensor):
        return np.ascontiguousarray(out.numpy())
    return np.array(out)


def load_input(spec, mode, data_dir, cache):
    key = (spec, mode)
    if key not in cache:
        name, _, size = spec.partition(":")
        if (name, mode) not in cache:
            with Image.open(os.path.join(data_dir, name)) as im:
                cache[(name, mode)] = im.convert(mode)
        full = cache[(name, mode)]
        if size:
            w, h = (int(v) for v in size.split("x"))
            if w > full.width or h > full.height:
                sys.exit(f"{spec}: larger than the photo ({full.width}x{full.height})")
            x, y = (full.width - w) // 3, (full.height - h) // 3
            cache[key] = full.crop((x, y, x + w, y + h))
        else:
            cache[key] = full
    return cache[key]


def slug(text):
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", required=True, help="transform_cases.yaml")
    ap.add_argument("--out", required=True, help="output folder (manifest.json, in/, out/)")
    ap.add_argument("--data", default="/usr/lib/python3/dist-packages/skimage/data", help="photos folder")
    ap.add_argument("--force", action="store_true", help="regenerate even if manifest.json is newer than the inputs")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)

    with open(args.cases) as f:
        spec = yaml.safe_load(f)
    os.makedirs(os.path.join(args.out, "in"), exist_ok=True)
    os.makedirs(os.path.join(args.out, "out"), exist_ok=True)
    images, saved_inputs = {}, set()
    manifest = {"groups": {}}
    for group, g in spec["groups"].items():
        cases = []
        for index, pipe in enumerate(g["pipelines"]):
            modes, preprocess = g["modes"], pipe
            if isinstance(pipe, dict) and "steps" in pipe:
                modes, preprocess = pipe.get("modes", modes), pipe["steps"]
            tv = build(preprocess)
            for input_spec in g["inputs"]:
                for mode in modes:
                    img = load_input(input_spec, mode, args.data, images)
                    in_name = f"in/{slug(input_spec)}_{mode}.npy"
                    if in_name not in saved_inputs:
                        np.save(os.path.join(args.out, in_name), np.array(img))
                        saved_inputs.add(in_name)
                    case_id = f"{group}_{index}_{slug(input_spec)}_{mode}"
                    case = {"id": case_id, "input": in_name, "preprocess": preprocess}
                    try:
                        out = to_array(tv(img.copy()))
                    except Exception as e:  # torchvision refuses: ptjs must refuse too
                        case["error"] = f"{type(e).__name__}: {e}"
                    else:
                        case["output"] = f"out/{case_id}.npy"
                        np.save(os.path.join(args.out, case["output"]), out)
                    cases.append(case)
        manifest["groups"][group] = {"tolerance": float(g.get("tolerance", 0)), "cases": cases}
    # Written last, through a rename, so that an interrupted run leaves no fresh-looking manifest.
    tmp = os.path.join(args.out, "manifest.json.tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=1)
    os.replace(tmp, os.path.join(args.out, "manifest.json"))
    total = sum(len(g["cases"]) for g in manifest["groups"].values())
    print(f"tv_reference: {total} cases, {len(saved_inputs)} inputs -> {args.out}")


if __name__ == "__main__":
    main()
