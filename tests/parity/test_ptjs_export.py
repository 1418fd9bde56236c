#!/usr/bin/python3
"""Tests of scripts/ptjs_export.py against the real `ptjs` binary: an exported model loads in
`ptjs run` and scores exactly as the eager model on the Python transforms; unsupported
transforms fail with a message naming them; a parity failure is loud. Each test method is one
ctest case.

Environment (tests/parity/CMakeLists.txt): PTJS_BIN, PTJS_SOURCE_DIR, PTJS_GEN_DIR.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import torch
from PIL import Image
from torch import nn
from torchvision import transforms as T
from torchvision.transforms import _presets

PTJS = os.environ["PTJS_BIN"]
SRC = os.environ["PTJS_SOURCE_DIR"]
EXPORT = os.path.join(SRC, "scripts", "ptjs_export.py")
sys.path.insert(0, os.path.join(SRC, "scripts"))
import ptjs_export  # noqa: E402

SKIMAGE_DATA = "/usr/lib/python3/dist-packages/skimage/data"
PHOTOS = ("chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg", "camera.png", "motorcycle_left.png")
LABELS = ["cat", "coffee", "person", "rocket", "yes", "1", "a: b"]

# A module file for the CLI test: imported by ptjs_export.py from its working directory.
MODULE_SOURCE = '''
import torch
from torch import nn
from torchvision import transforms as T


class TinyNet(nn.Module):
    def __init__(self, classes=7, channels=3):
        super().__init__()
        self.conv = nn.Conv2d(channels, 8, 3, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(torch.relu(self.conv(x))), 1)) * 10


def make_model():
    torch.manual_seed(0)
    return TinyNet()


def eval_transforms():
    return T.Compose([T.Resize(40, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(32), T.ToTensor(),
                      T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])


train_transforms = T.Compose([T.RandomResizedCrop(32), T.RandomHorizontalFlip(), T.ToTensor()])
'''


class TinyNet(nn.Module):
    def __init__(self, classes=7, channels=3):
        super().__init__()
        self.conv = nn.Conv2d(channels, 8, 3, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(torch.relu(self.conv(x))), 1)) * 10


class Unscriptable(TinyNet):
    """TorchScript has no generator expressions: export must fall back to tracing."""

    def forward(self, x):
        parts = [torch.relu(self.conv(x)), torch.relu(-self.conv(x))]
        y = sum(p for p in parts)
        return self.fc(torch.flatten(self.pool(y), 1)) * 10


def tiny(cls=TinyNet, **kw):
    torch.manual_seed(0)
    return cls(**kw).eval()


def python_top(model, transforms, files, mode, k):
    out = []
    with torch.no_grad():
        for f in files:
            with Image.open(f) as im:
                x = transforms(im.convert(mode)).unsqueeze(0)
            scores, idx = torch.softmax(model(x), 1).topk(k, 1)
            out.append((idx[0].tolist(), scores[0].tolist()))
    return out


class ExportTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ptjs-export-test-")
        self.photos = []
        for i, name in enumerate(PHOTOS):  # as PNG and JPEG, in a folder for `ptjs run`
            os.makedirs(os.path.join(self.tmp, "photos"), exist_ok=True)
            with Image.open(os.path.join(SKIMAGE_DATA, name)) as im:
                im = im.convert("L" if im.mode == "L" else "RGB")
                path = os.path.join(self.tmp, "photos", f"{i}_{os.path.splitext(name)[0]}.jpg")
                im.save(path, quality=90)
                self.photos.append(path)
        self.photos.sort()

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def ptjs_run(self, model):
        r = subprocess.run([PTJS, "run", "--model", model, "--input", os.path.join(self.tmp, "photos"), "--quiet"],
                           capture_output=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        return [json.loads(line) for line in r.stdout.decode().splitlines()]

    def assert_scores_like_python(self, out, model, transforms, mode, labels=None, k=5):
        records = self.ptjs_run(out)
        self.assertEqual([r["file"] for r in records], self.photos)
        for rec, (idx, scores) in zip(records, python_top(model, transforms, self.photos, mode, k)):
            preds = rec["predictions"]
            self.assertEqual([p["index"] for p in preds], idx, rec["file"])
            if labels:
                self.assertEqual([p["label"] for p in preds], [labels[i] for i in idx])
            for p, s in zip(preds, scores):
                self.assertAlmostEqual(p["score"], s, delta=1e-5)

    def export(self, model, transforms, **kw):
        out = os.path.join(self.tmp, "model.pt")
        result = ptjs_export.export(model, transforms, out, ptjs=PTJS, log=lambda msg: None, **kw)
        self.assertEqual(result["max_abs_diff"], 0.0)
        return out, result

    # --- exported models score like Python --------------------------------------------------
    def test_module_and_compose_score_like_python(self):
        model = tiny()
        transforms = T.Compose([T.Resize(40, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(32),
                                T.ToTensor(), T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
        out, result = self.export(model, transforms, labels=LABELS)
        self.assertEqual(result["compiled"], "script")
        self.assertIn("  - Resize: {size: 40, interpolation: bicubic}\n", result["spec"])
        self.assertIn("  - CenterCrop: {size: [32, 32]}\n", result["spec"])
        extra = {"ptjs.yaml": ""}
        torch.jit.load(out, _extra_files=extra)
        self.assertEqual(extra["ptjs.yaml"].decode(), result["spec"])
        self.assert_scores_like_python(out, model, transforms, "RGB", LABELS)

    def test_preset_object_as_weights_transforms(self):
        model = tiny()
        preset = _presets.ImageClassification(crop_size=48, resize_size=56,
                                              interpolation=T.InterpolationMode.BICUBIC)
        out, result = self.export(model, preset, topk=3)
        self.assertIn("preprocess: {preset: ImageClassification, crop_size: 48, resize_size: 56, "
                      "interpolation: bicubic, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}",
                      result["spec"])
        self.assert_scores_like_python(out, model, preset, "RGB", k=3)

    def test_grayscale_mode_and_trace_fallback(self):
        model = tiny(Unscriptable, channels=1)
        transforms = T.Compose([T.Resize(32), T.CenterCrop(28), T.ToTensor(), T.Normalize([0.5], [0.5])])
        out, result = self.export(model, transforms, mode="L", labels=LABELS)
        self.assertEqual(result["compiled"], "trace")
        self.assertIn("input: {type: image, mode: L}", result["spec"])
        self.assert_scores_like_python(out, model, transforms, "L", LABELS)

    def test_cli_module_factory_and_labels_file(self):
        with open(os.path.join(self.tmp, "tinynet.py"), "w") as f:
            f.write(MODULE_SOURCE)
        with open(os.path.join(self.tmp, "labels.txt"), "w") as f:
            f.write("\n".join(LABELS) + "\n")
        out = os.path.join(self.tmp, "cli.pt")
        r = subprocess.run([sys.executable, EXPORT, "--model", "tinynet:make_model", "--transforms",
                            "tinynet:eval_transforms", "--labels", "labels.txt", "--out", out, "--sample",
                            self.photos[0], "--print-spec"],
                           cwd=self.tmp, capture_output=True, text=True, timeout=300, env=dict(os.environ))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("parity: ptjs preprocess == transforms", r.stderr)
        self.assertIn("max abs diff 0)", r.stderr)
        self.assertIn("labels:\n  - cat\n", r.stdout)
        sys.path.insert(0, self.tmp)
        try:
            import tinynet
        finally:
            sys.path.remove(self.tmp)
        self.assert_scores_like_python(out, tinynet.make_model().eval(), tinynet.eval_transforms(), "RGB", LABELS)

    # --- refusals ------------------------------------------------------------------------------
    def test_unsupported_transforms_name_the_step(self):
        cases = [
            (T.Compose([T.RandomResizedCrop(32), T.ToTensor()]), "transforms[0] RandomResizedCrop",
             "training-time only"),
            (T.Compose([T.Resize(32), T.Lambda(lambda im: im), T.ToTensor()]), "transforms[1] Lambda",
             "Python code"),
            (T.Compose([T.Resize(32), T.ToTensor(), T.RandomErasing()]), "transforms[2] RandomErasing",
             "training-time only"),
            (T.Compose([T.Resize(32), T.TenCrop(28)]), "transforms[1] TenCrop", "several crops"),
            (T.Compose([T.Resize(32), T.ColorJitter(0.1), T.ToTensor()]), "transforms[1] ColorJitter",
             "training-time only"),
            (T.Compose([T.Resize(32), T.CenterCrop(28)]), "end with a PIL image", "ToTensor"),
            (T.Compose([T.ToTensor(), T.Resize(32, antialias=True)]), "transforms[1] Resize", "antialias"),
        ]
        out = os.path.join(self.tmp, "refused.pt")
        for transforms, where, why in cases:
            with self.subTest(where=where):
                with self.assertRaises(ptjs_export.UnsupportedTransform) as ctx:
                    ptjs_export.export(tiny(), transforms, out, ptjs=PTJS, log=lambda msg: None)
                self.assertIn(where, str(ctx.exception))
                self.assertIn(why, str(ctx.exception))
                self.assertFalse(os.path.exists(out), "nothing is written for an unsupported pipeline")

    def test_cli_unsupported_transform_exit_1(self):
        with open(os.path.join(self.tmp, "tinynet.py"), "w") as f:
            f.write(MODULE_SOURCE)
        r = subprocess.run([sys.executable, EXPORT, "--model", "tinynet:make_model", "--transforms",
                            "tinynet:train_transforms", "--out", "x.pt"],
                           cwd=self.tmp, capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 1)
        self.assertIn("ptjs_export: error: transforms[0] RandomResizedCrop: RandomResizedCrop is a random, "
                      "training-time only augmentation", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "x.pt")))

    def test_parity_failure_is_loud(self):
        # A stand-in `ptjs` that writes a tensor one level off: the check must refuse it.
        fake = os.path.join(self.tmp, "fake_ptjs")
        with open(fake, "w") as f:
            f.write(f"#!{sys.executable}\nimport sys, numpy as np\nfrom PIL import Image\n"
                    "a = sys.argv\nx = np.zeros((3, 32, 32), np.float32) + 1 / 255\n"
                    "np.save(a[a.index('--output') + 1], x)\n")
        os.chmod(fake, 0o755)
        transforms = T.Compose([T.Resize(32), T.CenterCrop(32), T.ToTensor()])
        with open(os.path.join(self.tmp, "black.png"), "wb") as f:
            Image.new("RGB", (40, 40)).save(f)
        with self.assertRaises(ptjs_export.ExportError) as ctx:
            ptjs_export.export(tiny(), transforms, os.path.join(self.tmp, "m.pt"), ptjs=fake,
                               sample=os.path.join(self.tmp, "black.png"), log=lambda msg: None)
        self.assertIn("PARITY FAILURE", str(ctx.exception))
        self.assertIn("max abs diff 0.00392", str(ctx.exception))


if __name__ == "__main__":
    unittest.main()
