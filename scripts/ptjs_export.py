#!/usr/bin/python3
"""Export a PyTorch model and its torchvision eval transforms as one file for ptjs: TorchScript
(.pt, the default) or an AOTInductor package (.pt2, --format pt2, torch >= 2.6).

From a training script (scripts/ on sys.path, or this file copied next to it):

    from ptjs_export import export
    export(model, weights.transforms(), "model.pt", labels=weights.meta["categories"])
    # then, without Python:  ptjs run --model model.pt --input photos/

export() turns the transforms (a Compose, a list, or a preset object such as
weights.transforms()) into the ptjs spec with torchvision's own names and arguments, refusing
what ptjs cannot run (random augmentations, Lambda, custom callables) with a message naming the
step; compiles the model (torch.jit.script, else torch.jit.trace on an example input) and
checks the compiled module against the eager one; saves it with the spec embedded as the
TorchScript extra file `ptjs.yaml`; then runs `ptjs preprocess` on a sample image and compares
its tensor with the transforms' output in Python: any difference is an error.

With --format pt2 the model goes through torch.export (its batch dimension dynamic) and
torch._inductor.aoti_compile_and_package for the CPU, the spec embedded as the package's
metadata `ptjs.yaml` (and the forward's argument names as `ptjs.input_names`); the package is
checked against the eager model on batches of 2 and 3, then the same preprocess check runs.

Command line (pkg.mod:name is imported from the current directory or PYTHONPATH; a name that
is a function or class is called with no arguments; --model may also be a TorchScript .pt):

  scripts/ptjs_export.py --model mynet:build_model --state-dict ckpt.pth \\
      --transforms mynet:eval_transforms --labels labels.txt --out model.pt [--sample img.jpg]
  scripts/ptjs_export.py --model torchvision.models:resnet18 \\
      --transforms torchvision.models:ResNet18_Weights.DEFAULT.transforms --out resnet18.pt

  .venv/bin/python scripts/ptjs_export.py --format pt2 --model torchvision.models:resnet18 \
      --transforms torchvision.models:ResNet18_Weights.DEFAULT.transforms --out resnet18.pt2

Exit status: 0 exported and verified; 1 export or parity check failed; 2 usage error.
Runs with Debian's /usr/bin/python3 (torch 1.13, torchvision 0.14, Pillow 9.4; TorchScript only)
or the venv's .venv/bin/python (torch 2.13, torchvision 0.28; both formats).
"""
import argparse
import importlib
import os
import subprocess
import sys
import tempfile

import inspect

import numpy as np
import torch
import yaml
from PIL import Image
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torchvision_cpu import import_torchvision  # noqa: E402

import_torchvision()
from torchvision import transforms as T  # noqa: E402
from torchvision.transforms import _presets  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PTJS = os.path.join(os.path.dirname(HERE), "build", "apps", "ptjs", "ptjs")
SAMPLE_PHOTO = "/usr/lib/python3/dist-packages/skimage/data/chelsea.png"

TRAINING_ONLY = (
    "is a random, training-time only augmentation; export the deterministic eval transforms "
    "(e.g. Resize + CenterCrop + ToTensor + Normalize, or weights.transforms())")
REFUSED = {
    "Lambda": "Lambda runs Python code, which ptjs cannot; move that step into the model's forward",
    "FiveCrop": "FiveCrop returns several crops per image; a ptjs pipeline must produce one tensor (use CenterCrop)",
    "TenCrop": "TenCrop returns several crops per image; a ptjs pipeline must produce one tensor (use CenterCrop)",
    "ToPILImage": "ToPILImage converts back to PIL; ptjs pipelines go PIL -> tensor once (drop it)",
}
for _name in ("ColorJitter", "GaussianBlur", "AutoAugment", "RandAugment", "TrivialAugmentWide", "AugMix",
              "ElasticTransform"):
    REFUSED[_name] = f"{_name} {TRAINING_ONLY}"
SUPPORTED = ("Resize", "CenterCrop", "Pad", "Grayscale", "ToTensor", "PILToTensor", "ConvertImageDtype",
             "Normalize", "ImageClassification", "SemanticSegmentation", "ObjectDetection")
DTYPE_NAMES = {torch.float32: "float32", torch.uint8: "uint8"}


class ExportError(Exception):
    """The model or its transforms cannot be exported, or the exported file does not match."""


class UnsupportedTransform(ExportError):
    """A transform ptjs does not run; the message names it, its position and why."""


# --- transforms -> spec ----------------------------------------------------------------------

def _flatten(transforms):
    if isinstance(transforms, T.Compose):
        transforms = transforms.transforms
    if isinstance(transforms, nn.Sequential):
        transforms = list(transforms)
    if not isinstance(transforms, (list, tuple)):
        return [transforms]
    out = []
    for t in transforms:
        out += _flatten(t) if isinstance(t, (T.Compose, nn.Sequential, list, tuple)) else [t]
    return out


def _size(v):
    return int(v) if isinstance(v, int) else [int(x) for x in v]


def _numbers(v):
    if isinstance(v, torch.Tensor):
        v = v.tolist()
    return float(v) if isinstance(v, (int, float)) else [float(x) for x in v]


def _preset(t, name):
    if name == "ImageClassification":
        return {"preset": name, "crop_size": int(t.crop_size[0]), "resize_size": int(t.resize_size[0]),
                "interpolation": t.interpolation.value, "mean": _numbers(t.mean), "std": _numbers(t.std)}
    if name == "SemanticSegmentation":
        return {"preset": name, "resize_size": None if t.resize_size is None else int(t.resize_size[0]),
                "interpolation": t.interpolation.value, "mean": _numbers(t.mean), "std": _numbers(t.std)}
    return {"preset": name}


def _step(t, name, where, tensor_stage, notes):
    """-> (ptjs step {Name: args}, tensor stage after it)."""
    if name == "Resize":
        args = {"size": _size(t.size), "interpolation": t.interpolation.value}
        if t.max_size is not None:
            args["max_size"] = int(t.max_size)
        antialias = getattr(t, "antialias", None)
        if tensor_stage and antialias and t.interpolation != T.InterpolationMode.NEAREST:
            raise UnsupportedTransform(
                f"{where}: Resize(antialias=True) after ToTensor/PILToTensor: ptjs resizes tensors without "
                "antialiasing only; put Resize before ToTensor (PIL path, bit-exact) or set antialias=False")
        if antialias is not None and tensor_stage:
            args["antialias"] = bool(antialias)
        elif antialias is False:
            notes.append(f"{where}: Resize(antialias=False) on a PIL image: torchvision ignores it (PIL always "
                         "antialiases), so the spec leaves it out to match")
        return {"Resize": args}, tensor_stage
    if name == "CenterCrop":
        return {"CenterCrop": {"size": _size(t.size)}}, tensor_stage
    if name == "Pad":
        fill = t.fill if isinstance(t.fill, (int, float)) else list(t.fill)
        return {"Pad": {"padding": _size(t.padding), "fill": fill, "padding_mode": t.padding_mode}}, tensor_stage
    if name == "Grayscale":
        return {"Grayscale": {"num_output_channels": int(t.num_output_channels)}}, tensor_stage
    if name in ("ToTensor", "PILToTensor"):
        return {name: {}}, True
    if name == "ConvertImageDtype":
        if t.dtype not in DTYPE_NAMES:
            raise UnsupportedTransform(f"{where}: ConvertImageDtype(dtype={t.dtype}): ptjs supports "
                                       "torch.float32 and torch.uint8")
        return {"ConvertImageDtype": {"dtype": DTYPE_NAMES[t.dtype]}}, tensor_stage
    args = {"mean": _numbers(t.mean), "std": _numbers(t.std)}
    if t.inplace:
        args["inplace"] = True
    return {"Normalize": args}, tensor_stage


def transforms_to_preprocess(transforms):
    """torchvision transforms -> (ptjs `preprocess` value, notes). Raises UnsupportedTransform."""
    steps, notes, tensor_stage = [], [], False
    items = _flatten(transforms)
    for i, t in enumerate(items):
        name = type(t).__name__
        where = f"transforms[{i}] {name}"
        is_tv = type(t).__module__.startswith("torchvision.transforms")
        if is_tv and name in REFUSED:
            raise UnsupportedTransform(f"{where}: {REFUSED[name]}")
        if is_tv and name.startswith("Random"):
            raise UnsupportedTransform(f"{where}: {name} {TRAINING_ONLY}")
        if not is_tv or name not in SUPPORTED:
            what = "a torchvision transform ptjs does not implement" if is_tv else \
                f"not a torchvision transform ({type(t).__module__}.{type(t).__qualname__})"
            raise UnsupportedTransform(f"{where}: {what}; ptjs runs {', '.join(SUPPORTED)}. "
                                       "Move other steps into the model's forward")
        if isinstance(t, (_presets.ImageClassification, _presets.SemanticSegmentation, _presets.ObjectDetection)):
            if len(items) != 1:
                raise UnsupportedTransform(f"{where}: a preset must be the whole pipeline in ptjs, "
                                           "not one step of several")
            return _preset(t, name), notes
        step, tensor_stage = _step(t, name, where, tensor_stage, notes)
        steps.append(step)
    if not tensor_stage:
        raise UnsupportedTransform("the transforms end with a PIL image; the model needs a tensor: "
                                   "add ToTensor() (or PILToTensor() + ConvertImageDtype)")
    return steps, notes


def spec_text(name, mode, preprocess, postprocess, labels):
    """The ptjs model spec (YAML) as a person would write it: one transform per line."""
    def flow(v):  # one line; a bare scalar dumps with a document end marker, so wrap it in a list
        return yaml.safe_dump([v], default_flow_style=True, width=1 << 16, sort_keys=False).strip()[1:-1]

    lines = [f"name: {flow(name)}", f"input: {{type: image, mode: {mode}}}"]
    if isinstance(preprocess, dict):
        lines.append(f"preprocess: {flow(preprocess)}")
    else:
        lines.append("preprocess:")
        lines += [f"  - {n}: {flow(a)}" for step in preprocess for n, a in step.items()]
    lines.append("postprocess:")
    lines += [f"  - {n}: {flow(a)}" for step in postprocess for n, a in step.items()]
    if labels:
        lines.append("labels:")
        lines += [f"  - {flow(str(x))}" for x in labels]
    return "\n".join(lines) + "\n"


# --- model -----------------------------------------------------------------------------------

def compile_model(model, example, log):
    """-> (TorchScript module, 'script' | 'trace' | 'loaded'), checked against the eager model
    on a batch of two."""
    if isinstance(model, torch.jit.ScriptModule):
        return model.eval(), "loaded"
    model = model.eval()
    try:
        compiled, how = torch.jit.script(model), "script"
    except Exception as e:  # noqa: BLE001 - anything script cannot compile, trace may
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        log(f"torch.jit.script failed ({first}); tracing with an example input instead")
        with torch.no_grad():
            compiled, how = torch.jit.trace(model, example), "trace"
    batch = torch.cat([example, example.flip(-1)])
    with torch.no_grad():
        want, got = model(batch), compiled(batch)
    for w, g in zip(_tensors(want), _tensors(got)):
        if w.shape != g.shape or not torch.allclose(w.float(), g.float(), rtol=1e-4, atol=1e-5):
            raise ExportError(f"the {how}-compiled module gives different outputs from the eager model "
                              f"on a batch of 2 (max abs diff {(w.float() - g.float()).abs().max():.3g}); "
                              "if it was traced, its forward depends on the batch size or on data")
    return compiled, how


# The compiled code's own input check still asks for a dynamic size of at least 2 unless told
# not to; the size-oblivious trace above is what makes a batch of 1 valid (checked below).
BATCH_OF_ONE = {"aot_inductor.check_lowerbound": False}


def export_dynamic_batch(model, example, name):
    """torch.export with the first dimension of input `name` dynamic, from 1 up. Traced
    size-oblivious (backed_size_oblivious): by default torch.export assumes a dynamic size is at
    least 2, and the compiled code may then be wrong for a batch of 1. Compile the result with
    BATCH_OF_ONE among the inductor configs, else its input check refuses a batch of 1."""
    from torch.fx.experimental import _config as fx_config
    with fx_config.patch(backed_size_oblivious=True):
        return torch.export.export(model, (example,), dynamic_shapes={name: {0: torch.export.Dim("batch", min=1)}})


def compile_package(model, example, out, spec, log):
    """Writes the AOTInductor package `out` for the CPU, its batch dimension dynamic, with the
    spec and the forward's argument names as metadata; checks it against the eager model on
    batches of 1, 2 and 3. -> max abs difference seen."""
    if not hasattr(torch._inductor, "aoti_compile_and_package"):
        raise ExportError(f"--format pt2 needs torch >= 2.6 (this is {torch.__version__}): run this script with "
                          "the venv's Python, .venv/bin/python")
    if isinstance(model, torch.jit.ScriptModule):
        raise ExportError("--format pt2 needs the nn.Module, not a TorchScript module")
    model = model.eval()
    names = [n for n in inspect.signature(model.forward).parameters]
    if len(names) != 1:
        raise ExportError(f"--format pt2 exports models with one input; forward takes {names}")
    # The transforms' tensor can be channels-last in memory (ToTensor permutes HWC); the package
    # is compiled for, and checked on, the contiguous NCHW batches ptjs sends.
    example = example.contiguous()
    two = torch.cat([example, example.flip(-1)])  # a batch of 2: a batch of 1 would be specialised
    try:
        program = export_dynamic_batch(model, two, names[0])
    except Exception as e:  # noqa: BLE001 - reported with the first line of torch's reason
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ExportError(f"torch.export failed: {first}") from e
    configs = {"aot_inductor.metadata": {"ptjs.yaml": spec, "ptjs.input_names": ",".join(names)}}
    configs.update(BATCH_OF_ONE)
    torch._inductor.aoti_compile_and_package(program, package_path=out, inductor_configs=configs)
    package = torch._inductor.aoti_load_package(out)
    largest = 0.0
    for x in (example, two, torch.cat([two, example.flip(-2)])):
        with torch.no_grad():
            want, got = _tensors(model(x)), _tensors(package(x))
        for w, g in zip(want, got):
            diff = (w.float() - g.float()).abs().max().item() if w.numel() else 0.0
            scale = max(1.0, w.float().abs().max().item()) if w.numel() else 1.0
            if w.shape != g.shape or diff > 1e-3 * scale:
                raise ExportError(f"the AOTInductor package gives different outputs from the eager model on a batch "
                                  f"of {x.shape[0]} (shapes {list(w.shape)} / {list(g.shape)}, max abs diff {diff:.3g})")
            largest = max(largest, diff)
    log(f"the package matches the eager model on batches of 1, 2 and 3 (max abs diff {largest:.3g})")
    return largest


def _tensors(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


# --- verification ----------------------------------------------------------------------------

def verify_preprocess(path, transforms, sample, mode, ptjs, tolerance=0.0):
    """Runs `ptjs preprocess --model path` on sample; -> max abs diff with the transforms' output.
    Raises ExportError when ptjs fails or the difference exceeds tolerance."""
    if not os.path.exists(ptjs):
        raise ExportError(f"ptjs binary not found at {ptjs}: build it (scripts/build.sh) or pass --ptjs / set "
                          "PTJS_BIN, or skip the check with --no-verify")
    with tempfile.TemporaryDirectory(prefix="ptjs-export-") as tmp:
        npy = os.path.join(tmp, "x.npy")
        r = subprocess.run([ptjs, "preprocess", "--model", path, "--input", sample, "--output", npy],
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise ExportError(f"ptjs preprocess failed (exit {r.returncode}): {r.stderr.strip()}")
        got = np.load(npy)
    with Image.open(sample) as im:
        want = transforms(im.convert(mode))
    want = want.numpy() if isinstance(want, torch.Tensor) else np.array(want)
    if got.shape != want.shape:
        raise ExportError(f"ptjs preprocess gives shape {got.shape}, the transforms give {want.shape} on {sample}")
    d = float(np.abs(got.astype(np.float64) - want.astype(np.float64)).max()) if got.size else 0.0
    if d > tolerance:
        raise ExportError(f"PARITY FAILURE: ptjs preprocess differs from the transforms on {sample}: max abs diff "
                          f"{d:.6g} (allowed {tolerance:g}); the exported file is at {path}")
    return d


def _sample_image(tmp):
    if os.path.exists(SAMPLE_PHOTO):
        return SAMPLE_PHOTO
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:240, 0:320]
    img = np.dstack([x * 255 // 319, y * 255 // 239, (x + y) % 256]) + rng.integers(-20, 21, (240, 320, 3))
    path = os.path.join(tmp, "sample.png")
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path)
    return path


def export(model, transforms, out, labels=None, sample=None, mode="RGB", name=None, topk=5,
           postprocess="softmax", ptjs=None, verify=True, tolerance=0.0, log=None, format="torchscript"):
    """Writes `out` (TorchScript with ptjs.yaml embedded, or with format='pt2' an AOTInductor
    package with it as metadata) and verifies it. Returns a dict: path, spec (YAML text),
    compiled ('script' | 'trace' | 'loaded' | 'aoti'), max_abs_diff (None without verify),
    sample, notes. Raises UnsupportedTransform / ExportError.

    model: nn.Module, TorchScript module, or the path of a TorchScript file.
    transforms: a torchvision Compose, list of transforms, or preset (weights.transforms()).
    labels: list of class names, or the path of a file with one per line.
    postprocess: 'softmax' (Softmax + TopK), 'sigmoid' (Sigmoid + TopK), 'raw' (the outputs).
    ptjs: the binary for the check (default $PTJS_BIN, else build/apps/ptjs/ptjs)."""
    log = log or (lambda msg: print(f"ptjs_export: {msg}", file=sys.stderr))
    if mode not in ("RGB", "L"):
        raise ExportError(f"mode must be RGB or L, got {mode!r}")
    if format not in ("torchscript", "pt2"):
        raise ExportError(f"format must be torchscript or pt2, got {format!r}")
    if isinstance(model, str):
        model = torch.jit.load(model, map_location="cpu")
    if isinstance(labels, str):
        with open(labels) as f:
            labels = [line.rstrip("\r\n") for line in f]
        while labels and labels[-1] == "":
            labels.pop()
    preprocess, notes = transforms_to_preprocess(transforms)
    for note in notes:
        log(note)
    with tempfile.TemporaryDirectory(prefix="ptjs-export-") as tmp:
        sample = sample or _sample_image(tmp)
        try:
            with Image.open(sample) as im:
                example = transforms(im.convert(mode))
        except Exception as e:  # noqa: BLE001 - reported with what was being done
            raise ExportError(f"the transforms fail on {sample} converted to {mode}: {type(e).__name__}: {e}") from e
        if not isinstance(example, torch.Tensor):
            raise ExportError("the transforms do not return a tensor")
        example = example.unsqueeze(0)
        try:
            if format == "pt2":
                compiled, how = model.eval(), "aoti"
            else:
                compiled, how = compile_model(model, example, log)
            with torch.no_grad():
                first = _tensors(compiled(example))[0]
        except ExportError:
            raise
        except Exception as e:  # noqa: BLE001 - the model refuses its own preprocessed input
            raise ExportError(f"the model fails on the transformed sample (shape {list(example.shape)}): "
                              f"{type(e).__name__}: {e}") from e
        if postprocess == "raw" or first.dim() != 2:
            if postprocess != "raw":
                log(f"the model's first output has shape {list(first.shape)}, not [N, classes]: postprocess Raw")
            post = [{"Raw": {}}]
        else:
            classes = first.shape[1]
            if labels is not None and len(labels) != classes:
                raise ExportError(f"{len(labels)} labels for a model with {classes} outputs")
            post = [{"Softmax": {"dim": 1}} if postprocess == "softmax" else {"Sigmoid": {}},
                    {"TopK": {"k": min(topk, classes)}}]
        name = name or os.path.splitext(os.path.basename(out))[0]
        text = spec_text(name, mode, preprocess, post, labels)
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        if format == "pt2":
            compile_package(compiled, example, out, text, log)
            log(f"wrote {out} (AOTInductor package for the CPU, ptjs.yaml in its metadata)")
        else:
            torch.jit.save(compiled, out, _extra_files={"ptjs.yaml": text})
            how_text = {"script": "torch.jit.script", "trace": "torch.jit.trace", "loaded": "already TorchScript"}[how]
            log(f"wrote {out} ({how_text}, ptjs.yaml embedded)")
        diff = None
        if verify:
            binary = ptjs or os.environ.get("PTJS_BIN") or DEFAULT_PTJS
            diff = verify_preprocess(out, transforms, sample, mode, binary, tolerance)
            log(f"parity: ptjs preprocess == transforms on {sample} (max abs diff {diff:g})")
    return {"path": out, "spec": text, "compiled": how, "max_abs_diff": diff, "sample": sample, "notes": notes}


# --- command line ----------------------------------------------------------------------------

def resolve(ref, what):
    """'pkg.mod:attr.path' -> the object; functions and classes are called with no arguments."""
    if what == "model" and ref.endswith((".pt", ".pth")) and ":" not in ref and os.path.exists(ref):
        return torch.jit.load(ref, map_location="cpu")
    mod_name, sep, attr = ref.partition(":")
    if not sep or not attr:
        raise ExportError(f"--{what} {ref!r}: expected MODULE:NAME, e.g. mynet:build_model")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj = importlib.import_module(mod_name)
    except ImportError as e:
        raise ExportError(f"--{what} {ref!r}: cannot import {mod_name}: {e}") from e
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ExportError(f"--{what} {ref!r}: {mod_name} has no attribute {attr}")
        obj = getattr(obj, part)
    is_object = isinstance(obj, (nn.Module, T.Compose, list, tuple))
    return obj() if callable(obj) and not is_object else obj


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", "--module", dest="model", required=True,
                    help="MODULE:NAME of an nn.Module (or a function/class making one), or a TorchScript .pt")
    ap.add_argument("--state-dict", help="load these weights into the model first (torch.save'd state_dict)")
    ap.add_argument("--transforms", required=True,
                    help="MODULE:NAME of the eval transforms: a Compose, a preset, or a function returning one")
    ap.add_argument("--labels", help="class names, one per line (embedded in the spec)")
    ap.add_argument("--out", required=True, help="file to write (.pt for TorchScript, .pt2 for a package)")
    ap.add_argument("--format", choices=("torchscript", "pt2"), default="torchscript",
                    help="TorchScript (default) or an AOTInductor package (torch >= 2.6)")
    ap.add_argument("--sample", help="image for the parity check (default: a photo from python3-skimage)")
    ap.add_argument("--mode", choices=("RGB", "L"), default="RGB",
                    help="PIL mode images are converted to before the transforms (default RGB)")
    ap.add_argument("--name", help="model name in the spec (default: the output file's stem)")
    ap.add_argument("--topk", type=int, default=5, help="TopK k (default 5)")
    ap.add_argument("--postprocess", choices=("softmax", "sigmoid", "raw"), default="softmax")
    ap.add_argument("--ptjs", help="ptjs binary for the check (default $PTJS_BIN, else build/apps/ptjs/ptjs)")
    ap.add_argument("--tolerance", type=float, default=0.0,
                    help="max abs difference the check allows (default 0: bit-exact)")
    ap.add_argument("--no-verify", action="store_true", help="skip the ptjs preprocess parity check")
    ap.add_argument("--print-spec", action="store_true", help="print the embedded ptjs.yaml on stdout")
    args = ap.parse_args(argv)
    try:
        model = resolve(args.model, "model")
        if args.state_dict:
            if isinstance(model, torch.jit.ScriptModule):
                raise ExportError("--state-dict needs an nn.Module, not a TorchScript file")
            model.load_state_dict(torch.load(args.state_dict, map_location="cpu"))
        transforms = resolve(args.transforms, "transforms")
        result = export(model, transforms, args.out, labels=args.labels, sample=args.sample, mode=args.mode,
                        name=args.name, topk=args.topk, postprocess=args.postprocess, ptjs=args.ptjs,
                        verify=not args.no_verify, tolerance=args.tolerance, format=args.format)
    except ExportError as e:
        print(f"ptjs_export: error: {e}", file=sys.stderr)
        return 1
    if args.print_spec:
        sys.stdout.write(result["spec"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
