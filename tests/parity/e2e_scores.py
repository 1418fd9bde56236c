#!/usr/bin/python3
"""End to end: `ptjs run` scores every image exactly as the Python pipeline does.

For each model, `ptjs run --topk 5` (JSONL) against scripts/bench/python_run.py (PIL +
torchvision + torch.jit, the same spec resolution) on the same files: the top-5 indices and
labels must be identical for every image and each score within 1e-5.
  test_digits:   configs/digits/model.pt on configs/digits/images (held-out real digits).
  test_resnet18: torchvision resnet18 with seeded random weights and the embedded
                 ImageClassification preset (scripts/export_torchvision.py --embed-preset) on
                 real photos (scripts/photos.py).

Environment (tests/parity/CMakeLists.txt): PTJS_BIN, PTJS_SOURCE_DIR, PTJS_GEN_DIR.
Run with Debian's /usr/bin/python3.
"""
import json
import os
import subprocess
import sys
import unittest

import torch

PTJS = os.environ["PTJS_BIN"]
SRC = os.environ["PTJS_SOURCE_DIR"]
WORK = os.path.join(os.environ["PTJS_GEN_DIR"], "parity_scores")
sys.path.insert(0, os.path.join(SRC, "scripts", "bench"))
import python_run  # noqa: E402

TOPK = 5
BATCH = 8
SCORE_TOLERANCE = 1e-5


def ptjs_records(model, inputs):
    r = subprocess.run([PTJS, "run", "--model", model, "--input", *inputs, "--topk", str(TOPK),
                        "--batch-size", str(BATCH), "--workers", "2", "--threads", "1", "--quiet"],
                       capture_output=True, timeout=600)
    if r.returncode != 0:
        raise AssertionError(f"ptjs run exited {r.returncode}: {r.stderr.decode()}")
    return [json.loads(line) for line in r.stdout.decode().splitlines()]


def python_records(model, inputs):
    torch.set_num_threads(1)
    m = python_run.Model(model, topk=TOPK)
    return [rec for _, rec in python_run.score(m, python_run.list_inputs(inputs), batch_size=BATCH)]


class ScoresTest(unittest.TestCase):
    def assert_same_scores(self, model, inputs, min_images):
        got, want = ptjs_records(model, inputs), python_records(model, inputs)
        self.assertGreaterEqual(len(want), min_images)
        self.assertEqual([r["file"] for r in got], [r["file"] for r in want])
        worst = 0.0
        for g, w in zip(got, want):
            self.assertNotIn("error", g, g)
            self.assertNotIn("error", w, w)
            gp, wp = g["predictions"], w["predictions"]
            self.assertEqual([p["index"] for p in gp], [p["index"] for p in wp], f"{g['file']}: top-{TOPK} differ")
            # Without labels ptjs leaves "label" out; python_run writes str(index).
            self.assertEqual([p.get("label", str(p["index"])) for p in gp], [p["label"] for p in wp], g["file"])
            for a, b in zip(gp, wp):
                worst = max(worst, abs(a["score"] - b["score"]))
        self.assertLessEqual(worst, SCORE_TOLERANCE)
        print(f"{os.path.basename(model)}: {len(got)} images, top-{TOPK} identical, "
              f"max score difference {worst:.3g}", file=sys.stderr)

    def test_digits(self):
        digits = os.path.join(SRC, "configs", "digits")
        self.assert_same_scores(os.path.join(digits, "model.pt"), [os.path.join(digits, "images")], 300)

    def test_resnet18(self):
        os.makedirs(WORK, exist_ok=True)
        model = os.path.join(WORK, "resnet18.pt")
        if not os.path.exists(model):
            subprocess.run([sys.executable, os.path.join(SRC, "scripts", "export_torchvision.py"), "--arch",
                            "resnet18", "--embed-preset", "--out", model], check=True, capture_output=True)
        photos = os.path.join(WORK, "photos")
        if not os.path.isdir(photos):
            subprocess.run([sys.executable, os.path.join(SRC, "scripts", "photos.py"), "--out", photos,
                            "--count", "16"], check=True, capture_output=True)
        self.assert_same_scores(model, [photos], 16)


if __name__ == "__main__":
    unittest.main()
