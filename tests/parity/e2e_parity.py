#!/usr/bin/python3
"""End-to-end preprocessing parity: the real `ptjs` binary against torchvision's PIL path.

For every case of e2e_cases.yaml (image file x pipeline x mode) it compares what ptjs feeds
the model with T(Image.open(f).convert(mode)) (torchvision 0.14, Pillow 9.4), reports the max
and mean absolute difference per case, and fails unless each case is within its group's
tolerance (0 for the PIL path) or a listed known difference. A case that torchvision refuses
must be refused by ptjs too, and the other way round. Pipelines marked `draft` run with
`input: {draft: true}` against `im.draft('RGB', request); T(im.convert(mode))`, the request
worked out here from the pipeline, independently of ptjs.

How ptjs is run: libtorch makes every ptjs process take ~1 s to start, so one process per case
would not fit the test budget. Each (pipeline, mode) is one `ptjs run` of an identity
TorchScript model (forward(x) = x, postprocess Raw) over all of its images: the JSONL record
holds the exact float32 tensor (shortest round-trip decimals) that decode + preprocess +
batching produced. A few cases (preprocess_checks) also go through `ptjs preprocess`, whose
.npy must equal both torchvision and the `ptjs run` output. Two ptjs processes run at a time.

Writes, under $PTJS_GEN_DIR/parity_e2e/: table.md (one row per pipeline: cases, refused by
both, max/mean abs difference, tolerance, result; the table in the README), cases.tsv (every
case) and the generated images, pipelines and outputs.

  PTJS_BIN=build/apps/ptjs/ptjs PTJS_SOURCE_DIR=. PTJS_GEN_DIR=/tmp/gen tests/parity/e2e_parity.py
  ... e2e_parity.py --group formats --jobs 2

Run with Debian's /usr/bin/python3 (torchvision 0.14, Pillow 9.4: the reference the suite pins), or
with the venv's .venv/bin/python (torchvision 0.28 and current Pillow from PyPI).
"""
import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time
import warnings

import numpy as np
import torch
import yaml
from PIL import Image, ImageOps
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from torchvision_cpu import import_torchvision  # noqa: E402  (the venv's CPU torch beside PyPI's torchvision)

import_torchvision()
from torchvision import transforms as T  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_images  # noqa: E402  (the format generator the image_io tests use)
import tv_reference  # noqa: E402  (torchvision pipeline builder shared with the unit tests)

SKIMAGE_DATA = "/usr/lib/python3/dist-packages/skimage/data"
IDENTITY_SPEC = "name: identity\ninput: {type: image, mode: RGB}\npostprocess:\n  - Raw: {}\n"


# --- inputs ----------------------------------------------------------------------------------

def make_sizes(specs, out_dir):
    """'<photo>:<W>x<H>' crops (or whole photos) as lossless PNG in the photo's own mode."""
    os.makedirs(out_dir, exist_ok=True)
    files, photos = [], {}
    for k, spec in enumerate(specs):
        name, _, size = spec.partition(":")
        if name not in photos:
            with Image.open(os.path.join(SKIMAGE_DATA, name)) as im:
                photos[name] = im.convert("L" if im.mode in ("L", "I;16") else "RGB")
        im = photos[name]
        if size:
            w, h = (int(v) for v in size.split("x"))
            x, y = (im.width - w) // 3, (im.height - h) // 3
            im = im.crop((x, y, x + w, y + h))
        stem = os.path.splitext(name)[0]
        path = os.path.join(out_dir, f"s{k:02d}_{stem}_{im.width}x{im.height}.png")
        if not os.path.exists(path):
            im.save(path)
        files.append(path)
    return files


def make_large_jpegs(specs, out_dir):
    """'<photo>:<W>x<H>[:progressive|:cmyk|:png]' upscaled with Pillow (LANCZOS) to camera-like
    sizes and written as quality-90 JPEG (or lossless PNG), so that PIL's draft reduces them by
    2, 4 or 8; grayscale photos stay grayscale JPEGs."""
    os.makedirs(out_dir, exist_ok=True)
    files = []
    for k, spec in enumerate(specs):
        name, size, *opts = spec.split(":")
        w, h = (int(v) for v in size.split("x"))
        stem = os.path.splitext(name)[0]
        ext = "png" if "png" in opts else "jpg"
        path = os.path.join(out_dir, f"d{k:02d}_{stem}_{w}x{h}{''.join('_' + o for o in opts)}.{ext}")
        if not os.path.exists(path):
            with Image.open(os.path.join(SKIMAGE_DATA, name)) as im:
                im = im.convert("L" if im.mode in ("L", "I;16") else "RGB").resize((w, h), Image.LANCZOS)
            if "cmyk" in opts:
                im = im.convert("CMYK")
            save = {"format": "PNG"} if ext == "png" else {"format": "JPEG", "quality": 90,
                                                           "progressive": "progressive" in opts}
            im.save(path + ".tmp", **save)
            os.replace(path + ".tmp", path)
        files.append(path)
    return files


def draft_request(preprocess):
    """The (w, h) ptjs is to hand to PIL's draft: the first step that changes the image size,
    if it is a Resize to an int or [h, w] without max_size (or a preset's resize); else None."""
    if isinstance(preprocess, dict):
        size = {"ImageClassification": preprocess.get("resize_size", 256),
                "SemanticSegmentation": preprocess.get("resize_size")}.get(preprocess["preset"])
        return (size, size) if size else None
    keeps_size = {"ToTensor", "PILToTensor", "ConvertImageDtype", "Normalize", "Grayscale"}
    for item in preprocess:
        (name, args), = item.items()
        if name in keeps_size:
            continue
        args = args or {}
        if name != "Resize" or args.get("max_size") is not None:
            return None
        size = args["size"] if isinstance(args["size"], list) else [args["size"]]
        return (size[0], size[0]) if len(size) == 1 else (size[1], size[0])
    return None


def make_formats(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    files = []
    for _, file_name, data in make_images.format_cases():
        path = os.path.join(out_dir, file_name)
        with open(path, "wb") as f:
            f.write(data)
        files.append(path)
    return files


def make_photos(count, out_dir):
    if not os.path.isdir(out_dir) or len(os.listdir(out_dir)) != count:
        subprocess.run([sys.executable, os.path.join(SRC, "scripts", "photos.py"), "--out", out_dir,
                        "--count", str(count)], check=True, capture_output=True)
    return sorted(os.path.join(out_dir, f) for f in os.listdir(out_dir))


def make_identity_model(path):
    """forward(x) = x, with postprocess Raw: `ptjs run` prints exactly what preprocessing made."""
    if os.path.exists(path):
        return path
    src = os.path.join(os.path.dirname(path), "identity_model.py")
    with open(src, "w") as f:  # TorchScript needs the class's source in a file
        f.write("import torch\n\n\nclass Identity(torch.nn.Module):\n"
                "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n        return x\n")
    sys.path.insert(0, os.path.dirname(path))
    from identity_model import Identity  # noqa: E402
    torch.jit.save(torch.jit.script(Identity()), path + ".tmp", _extra_files={"ptjs.yaml": IDENTITY_SPEC})
    os.replace(path + ".tmp", path)
    return path


# --- the grid --------------------------------------------------------------------------------

def label(preprocess):
    """Short text for a pipeline: 'Resize(size=[37, 53], interpolation=bicubic) > ToTensor'."""
    def args(a):
        return ", ".join(f"{k}={v}" for k, v in (a or {}).items())
    if isinstance(preprocess, dict):
        a = dict(preprocess)
        return f"{a.pop('preset')}({args(a)})"
    return " > ".join(f"{n}({args(a)})" for item in preprocess for n, a in item.items())


def keep(only, path):
    if only is None:
        return True
    name = os.path.basename(path)
    if only in ("no_extreme", "small"):
        with Image.open(path) as im:
            w, h = im.size
        return (max(w, h) <= 20 * min(w, h)) if only == "no_extreme" else w * h <= 300 * 300
    return re.search(only, name) is not None


class Run:
    """One `ptjs run` (one pipeline, one mode, many images) and its cases."""

    def __init__(self, group, index, pipe, mode, files, tolerance):
        self.group, self.index, self.mode, self.files, self.tolerance = group, index, mode, files, tolerance
        self.preprocess = pipe["steps"]
        self.exif = bool(pipe.get("exif_transpose"))
        self.draft_on = bool(pipe.get("draft"))
        self.draft = draft_request(self.preprocess) if self.draft_on else None
        self.label = (label(self.preprocess) + (" [exif_transpose]" if self.exif else "")
                      + (" [draft]" if self.draft_on else ""))
        self.name = f"{group}_{index}_{mode}"
        self.no_antialias = isinstance(self.preprocess, list) and any(
            (args or {}).get("antialias") is False for item in self.preprocess for args in item.values())
        self.literal_max = 0.0  # antialias: false only: ptjs vs torchvision ignoring the flag

    def spec(self):
        spec = {"input": {"type": "image", "mode": self.mode}, "preprocess": self.preprocess}
        if self.exif:
            spec["input"]["exif_transpose"] = True
        if self.draft_on:
            spec["input"]["draft"] = True
        return spec


def expand(cases, image_sets, only_group=None):
    runs = []
    for group, g in cases["groups"].items():
        if only_group and group not in only_group:
            continue
        for index, pipe in enumerate(g["pipelines"]):
            pipe = dict(pipe) if isinstance(pipe, dict) and "steps" in pipe else {"steps": pipe}
            files = [f for f in image_sets[g["images"]] if keep(pipe.get("only"), f)]
            for mode in pipe.get("modes", g["modes"]):
                runs.append(Run(group, index, pipe, mode, files, float(g.get("tolerance", 0))))
    return runs


# --- the two sides ---------------------------------------------------------------------------

def run_ptjs(run, work, model):
    """-> {file: CHW float32 array or ptjs's error message}; a failed run gives every file its
    stderr."""
    pipeline = os.path.join(work, "pipelines", run.name + ".yaml")
    with open(pipeline, "w") as f:
        yaml.safe_dump(run.spec(), f, sort_keys=False)
    out = os.path.join(work, "out", run.name + ".jsonl")
    cmd = [PTJS, "run", "--model", model, "--pipeline", pipeline, "--input", *run.files, "--output", out,
           "--batch-size", "1", "--workers", "1", "--threads", "1", "--quiet"]
    if os.path.exists(out):
        os.remove(out)
    r = subprocess.run(cmd, capture_output=True, timeout=600)
    if r.returncode not in (0, 1) or not os.path.exists(out):  # 1: some inputs refused, each with a record
        return {f: f"ptjs run exited {r.returncode}: {r.stderr.decode()[-500:]}" for f in run.files}
    got = {}
    with open(out) as f:
        for line in f:
            rec = json.loads(line)
            if "error" in rec:
                got[rec["file"]] = "ptjs: " + rec["error"]
            else:
                o = rec["outputs"][0]
                got[rec["file"]] = np.array(o["data"], np.float32).reshape(o["shape"][1:])
    return got


_DECODED = {}


def decoded(path, mode, exif, draft=None):
    """Image.open(path).convert(mode) (after im.draft('RGB', draft) if draft, then
    ImageOps.exif_transpose if exif), cached."""
    key = (path, mode, exif, draft)
    if key not in _DECODED:
        try:
            with Image.open(path) as im:
                if draft:
                    im.draft("RGB", draft)  # a no-op for formats other than JPEG
                _DECODED[key] = (ImageOps.exif_transpose(im) if exif else im).convert(mode)
        except Exception as e:  # noqa: BLE001 - a refusal is the reference
            _DECODED[key] = f"{type(e).__name__}: {e}"
    return _DECODED[key]


def reference(run, path, literal=False):
    """torchvision's output for one case as a float32 array, or its error message.
    literal=True runs T.Resize(antialias=False) on the PIL image as torchvision does (ignoring
    antialias) instead of the tensor path ptjs follows."""
    img = decoded(path, run.mode, run.exif, run.draft)
    if isinstance(img, str):
        return img
    try:
        tv = build_literal(run.preprocess) if literal else tv_reference.build(run.preprocess)
        out = tv(img.copy())
    except Exception as e:  # noqa: BLE001 - a refusal is the reference
        return f"{type(e).__name__}: {e}"
    return np.array(out) if isinstance(out, Image.Image) else out.numpy().astype(np.float32)


def build_literal(preprocess):
    steps = []
    for item in preprocess:
        (name, args), = item.items()
        args = dict(args or {})
        if "interpolation" in args:
            args["interpolation"] = T.InterpolationMode(args["interpolation"])
        if "dtype" in args:
            args["dtype"] = tv_reference.DTYPES[args["dtype"]]
        steps.append(getattr(T, name)(**args))
    return T.Compose(steps)


def diff(a, b):
    d = np.abs(a.astype(np.float64) - b.astype(np.float64))
    return float(d.max()) if d.size else 0.0, float(d.mean()) if d.size else 0.0


# --- comparing -------------------------------------------------------------------------------

def known_limit(known, run, image):
    for k in known:
        if (k["group"] == run.group and re.search(k.get("pipeline", ""), run.label)
                and re.search(k.get("image", ""), os.path.basename(image))
                and k.get("mode", run.mode) == run.mode):
            return k
    return None


def compare(run, got, known):
    """-> list of case dicts."""
    cases = []
    for path in run.files:
        ref = reference(run, path)
        out = got.get(path, "no record from ptjs")
        case = {"group": run.group, "pipeline": run.label, "mode": run.mode,
                "image": os.path.basename(path), "run": run}
        k = known_limit(known, run, path)
        limit = k["max"] if k else run.tolerance
        if isinstance(ref, str) or isinstance(out, str):
            both = isinstance(ref, str) and isinstance(out, str)
            case.update(status="refused" if both else "FAIL", max=0.0, mean=0.0, shape="-",
                        detail=f"torchvision: {ref if isinstance(ref, str) else 'ok'}; "
                               f"{out if isinstance(out, str) else 'ptjs: ok'}")
        elif ref.shape != out.shape:
            case.update(status="FAIL", max=float("inf"), mean=float("inf"), shape=str(out.shape),
                        detail=f"shape: torchvision {ref.shape}, ptjs {out.shape}")
        else:
            mx, mean = diff(ref, out)
            if run.no_antialias:
                lit = reference(run, path, literal=True)
                if not isinstance(lit, str) and lit.shape == out.shape:
                    run.literal_max = max(run.literal_max, diff(lit, out)[0])
            case.update(max=mx, mean=mean, shape="x".join(map(str, ref.shape)), detail="")
            case["status"] = "ok" if mx <= limit else "FAIL"
            if k and mx > run.tolerance:
                case["status"] = "known"
            if mx > limit:
                case["detail"] = f"max abs diff {mx:.6g} > allowed {limit:g}"
        cases.append(case)
    return cases


def preprocess_checks(checks, runs, outputs, work):
    """`ptjs preprocess` on a few cases: .npy == torchvision == `ptjs run`."""
    jobs = []
    for c in checks:
        run = next((r for r in runs if r.group == c["group"] and r.index == c["pipeline"] and r.mode == c["mode"]),
                   None)
        if run is None:
            continue
        path = next((f for f in run.files if re.search(c["image"], os.path.basename(f))), None)
        if path is None:
            sys.exit(f"e2e_cases.yaml: preprocess_checks: no image of {run.name} matches {c['image']!r}")
        jobs.append((run, path))

    def one(job):
        run, path = job
        npy = os.path.join(work, "out", f"pre_{run.name}_{os.path.basename(path)}.npy")
        pipeline = os.path.join(work, "pipelines", run.name + ".yaml")
        if os.path.exists(npy):
            os.remove(npy)
        r = subprocess.run([PTJS, "preprocess", "--pipeline", pipeline, "--input", path, "--output", npy],
                           capture_output=True, timeout=300)
        return run, path, r, npy

    results = []
    with concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
        for run, path, r, npy in pool.map(one, jobs):
            ref, via_run = reference(run, path), outputs[run.name].get(path)
            case = {"group": "ptjs preprocess", "pipeline": f"{run.name}: {run.label}", "mode": run.mode,
                    "image": os.path.basename(path), "shape": "-", "max": 0.0, "mean": 0.0, "detail": ""}
            if r.returncode != 0:
                case.update(status="FAIL", detail=f"ptjs preprocess exited {r.returncode}: {r.stderr.decode()}")
            else:
                got = np.load(npy)
                same = isinstance(via_run, np.ndarray) and np.array_equal(got, via_run)
                if isinstance(ref, str) or ref.shape != got.shape:
                    case.update(status="FAIL", detail=f"torchvision: {ref if isinstance(ref, str) else ref.shape}")
                else:
                    mx, mean = diff(ref, got)
                    case.update(max=mx, mean=mean, shape="x".join(map(str, got.shape)),
                                status="ok" if mx == 0 and same else "FAIL",
                                detail="" if same else "differs from the `ptjs run` output of the same case")
            results.append(case)
    return results


# --- reporting -------------------------------------------------------------------------------

def table(cases, runs):
    rows = ["| group | pipeline | modes | cases | refused by both | max abs diff | mean abs diff | allowed | result |",
            "|---|---|---|---:|---:|---:|---:|---:|---|"]
    order = []
    for c in cases:
        key = (c["group"], c["pipeline"])
        if key not in order:
            order.append(key)
    tol = {(r.group, r.label): r.tolerance for r in runs}
    for key in order:
        cs = [c for c in cases if (c["group"], c["pipeline"]) == key]
        compared = [c for c in cs if c["status"] != "refused"]
        modes = "/".join(dict.fromkeys(c["mode"] for c in cs))
        mx = max((c["max"] for c in compared), default=0.0)
        mean = float(np.mean([c["mean"] for c in compared])) if compared else 0.0
        result = ("FAIL" if any(c["status"] == "FAIL" for c in cs) else
                  "known" if any(c["status"] == "known" for c in cs) else "ok")
        rows.append(f"| {key[0]} | `{key[1]}` | {modes} | {len(cs)} | {len(cs) - len(compared)} | "
                    f"{mx:.3g} | {mean:.3g} | {tol.get(key, 0.0):.3g} | {result} |")
    return "\n".join(rows) + "\n"


def summary(cases):
    groups = list(dict.fromkeys(c["group"] for c in cases))
    rows = ["| group | pipelines | cases | refused by both | max abs diff | mean abs diff | result |",
            "|---|---:|---:|---:|---:|---:|---|"]
    for g in groups:
        cs = [c for c in cases if c["group"] == g]
        compared = [c for c in cs if c["status"] != "refused"]
        mx = max((c["max"] for c in compared), default=0.0)
        mean = float(np.mean([c["mean"] for c in compared])) if compared else 0.0
        bad = sum(c["status"] == "FAIL" for c in cs)
        rows.append(f"| {g} | {len(set(c['pipeline'] for c in cs))} | {len(cs)} | {len(cs) - len(compared)} | "
                    f"{mx:.3g} | {mean:.3g} | {'FAIL (' + str(bad) + ')' if bad else 'ok'} |")
    total = len(cases)
    rows.append(f"| **all** | | **{total}** | {sum(c['status'] == 'refused' for c in cases)} | "
                f"{max(c['max'] for c in cases):.3g} | | "
                f"{'FAIL' if any(c['status'] == 'FAIL' for c in cases) else 'ok'} |")
    return "\n".join(rows) + "\n"


def literal_figures(runs):
    """What torchvision itself gives for antialias: false on a PIL image (it ignores the flag)."""
    lines = [f"| `{r.label}` | {r.mode} | {r.literal_max:.3g} |" for r in runs if r.no_antialias]
    if not lines:
        return ""
    return ("| antialias: false pipeline | mode | max abs diff, ptjs (tensor path) vs torchvision on the "
            "PIL image (antialias ignored) |\n|---|---|---:|\n" + "\n".join(lines) + "\n")


def main():
    global PTJS, SRC, JOBS
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default=os.path.join(HERE, "e2e_cases.yaml"))
    ap.add_argument("--group", action="append", help="only this group (repeatable)")
    ap.add_argument("--jobs", type=int, default=2, help="ptjs processes at a time")
    ap.add_argument("--no-preprocess-checks", action="store_true")
    args = ap.parse_args()
    PTJS, SRC, JOBS = os.environ["PTJS_BIN"], os.environ["PTJS_SOURCE_DIR"], args.jobs
    work = os.path.join(os.environ["PTJS_GEN_DIR"], "parity_e2e")
    for sub in ("pipelines", "out"):
        os.makedirs(os.path.join(work, sub), exist_ok=True)
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    t0 = time.perf_counter()

    with open(args.cases) as f:
        cases_spec = yaml.safe_load(f)
    needed = {g["images"] for name, g in cases_spec["groups"].items() if not args.group or name in args.group}
    image_sets = {}
    if "sizes" in needed:
        image_sets["sizes"] = make_sizes(cases_spec["images"]["sizes"], os.path.join(work, "sizes"))
    if "large_jpegs" in needed:
        image_sets["large_jpegs"] = make_large_jpegs(cases_spec["images"]["large_jpegs"],
                                                     os.path.join(work, "large_jpegs"))
    if "formats" in needed:
        image_sets["formats"] = make_formats(os.path.join(work, "formats"))
    if "photos" in needed:
        image_sets["photos"] = make_photos(cases_spec["images"]["photos"]["count"], os.path.join(work, "photos"))
    model = make_identity_model(os.path.join(work, "identity.pt"))
    runs = expand(cases_spec, image_sets, args.group)
    known = cases_spec.get("known_differences") or []

    # ptjs runs in the pool while this thread computes torchvision's side of finished runs.
    outputs, all_cases = {}, []
    with concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
        futures = {pool.submit(run_ptjs, run, work, model): run for run in runs}
        for fut in concurrent.futures.as_completed(futures):
            run = futures[fut]
            outputs[run.name] = fut.result()
            all_cases += compare(run, outputs[run.name], known)
    rank = {r.name: i for i, r in enumerate(runs)}
    all_cases.sort(key=lambda c: rank[c["run"].name])
    if not args.no_preprocess_checks:
        all_cases += preprocess_checks(cases_spec.get("preprocess_checks") or [], runs, outputs, work)

    with open(os.path.join(work, "cases.tsv"), "w") as f:
        f.write("group\tpipeline\tmode\timage\tshape\tmax_abs\tmean_abs\tstatus\tdetail\n")
        for c in all_cases:
            f.write(f"{c['group']}\t{c['pipeline']}\t{c['mode']}\t{c['image']}\t{c['shape']}\t{c['max']:.9g}\t"
                    f"{c['mean']:.9g}\t{c['status']}\t{c['detail']}\n")
    literal = literal_figures(runs)
    report = (f"## Preprocessing parity, end to end ({len(all_cases)} cases, {len(runs)} ptjs runs)\n\n"
              + summary(all_cases) + "\n" + table(all_cases, runs)
              + ("\n" + literal if literal else ""))
    with open(os.path.join(work, "table.md"), "w") as f:
        f.write(report)
    print(report)
    failed = [c for c in all_cases if c["status"] == "FAIL"]
    for c in failed[:40]:
        print(f"FAIL {c['group']} | {c['pipeline']} | {c['mode']} | {c['image']}: {c['detail']}")
    if len(failed) > 40:
        print(f"... and {len(failed) - 40} more (see {os.path.join(work, 'cases.tsv')})")
    print(f"e2e_parity: {len(all_cases)} cases, {len(failed)} failed, {time.perf_counter() - t0:.1f} s; "
          f"details in {work}/cases.tsv")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
