"""AOTInductor packages (.pt2) end to end through the real binary: run, serve, info, validate,
preprocess, and the errors a user meets (wrong device, an ExportedProgram, a bad shape).
Fixtures come from make_packages.py (PTJS_PT2_DIR). The scores are checked against Python's
eager module on the same photos: top 5 identical, and the largest score difference printed.
Runs with the venv's Python (only the standard library is used here).
"""
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import unittest

SRC = os.environ["PTJS_SOURCE_DIR"]
PTJS = os.environ["PTJS_BIN"]
PT2 = os.environ["PTJS_PT2_DIR"]
sys.path.insert(0, os.path.join(SRC, "tests", "reliability"))
from ptjs_server import Server, fp32  # noqa: E402

PHOTOS = os.path.join(PT2, "photos")
SCORE_TOLERANCE = 1e-4  # AOTInductor's kernels sum in another order than eager PyTorch


def ptjs(*args, stdin=None):
    return subprocess.run([PTJS, *args], capture_output=True, input=stdin, timeout=600)


def records(r):
    return [json.loads(line) for line in r.stdout.decode().splitlines()]


class Pt2Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.path.join(PT2, "reference.json")) as f:
            cls.reference = json.load(f)

    def assert_matches_python(self, arch, recs):
        want = self.reference[arch]
        self.assertEqual(len(recs), len(want))
        largest = 0.0
        for rec in recs:
            self.assertNotIn("error", rec, rec)
            expected = want[os.path.basename(rec["file"])]
            self.assertEqual([p["index"] for p in rec["predictions"]], [i for i, _ in expected], rec["file"])
            for p, (_, score) in zip(rec["predictions"], expected):
                largest = max(largest, abs(p["score"] - score))
        self.assertLessEqual(largest, SCORE_TOLERANCE)
        print(f"{arch}.pt2: top 5 identical to Python's eager module on {len(recs)} photos, "
              f"largest score difference {largest:.2e}", file=sys.stderr)
        return largest

    def test_run_scores_like_python_at_any_batch_size(self):
        for arch in ("resnet18", "mobilenet_v3_small"):
            model = os.path.join(PT2, arch + ".pt2")
            answers = []
            for batch in ("1", "4"):  # the package's batch dimension is dynamic
                r = ptjs("run", "--model", model, "--input", PHOTOS, "--batch-size", batch, "--quiet")
                self.assertEqual(r.returncode, 0, r.stderr.decode())
                answers.append(records(r))
                self.assert_matches_python(arch, answers[-1])
            self.assertEqual([[p["index"] for p in a["predictions"]] for a in answers[0]],
                             [[p["index"] for p in a["predictions"]] for a in answers[1]])

    def test_info_validate_preprocess_read_the_embedded_spec(self):
        model = os.path.join(PT2, "mobilenet_v3_small.pt2")
        r = ptjs("info", "--model", model)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        text = r.stdout.decode()
        self.assertIn("aoti", text)
        self.assertIn("ImageClassification", text)
        self.assertIn("x", text)  # the forward's argument name, from the package's metadata
        with tempfile.TemporaryDirectory() as tmp:
            npy = os.path.join(tmp, "x.npy")
            photo = os.path.join(PHOTOS, sorted(os.listdir(PHOTOS))[0])
            r = ptjs("preprocess", "--model", model, "--input", photo, "--output", npy)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            with open(npy, "rb") as f:
                self.assertIn(b"(3, 224, 224)", f.read(128))
            spec = os.path.join(tmp, "spec.yaml")
            with open(spec, "w") as f:
                f.write(f"name: m\nmodel: {model}\ninput: {{type: image}}\n"
                        "preprocess: {preset: ImageClassification, crop_size: 224}\n")
            r = ptjs("validate", spec)
            self.assertEqual(r.returncode, 0, r.stderr.decode())

    def test_serve_answers_like_run_with_concurrent_requests(self):
        model = os.path.join(PT2, "resnet18.pt2")
        photos = sorted(os.listdir(PHOTOS))
        with Server(["--model", f"resnet18={model}", "--model", os.path.join(PT2, "linear.yaml"),
                     "--lanes", "2"]) as s:
            status, _, body = s.request("GET", "/v2/models/resnet18")
            self.assertEqual(status, 200)
            meta = json.loads(body)
            self.assertEqual(meta["platform"], "pytorch_aoti")
            self.assertEqual(meta["inputs"][0]["name"], "x")

            def predict(name):
                with open(os.path.join(PHOTOS, name), "rb") as f:
                    return s.request("POST", "/predictions/resnet18", f.read())

            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(predict, photos * 3))
            recs = []
            for name, (status, _, body) in zip(photos * 3, answers):
                self.assertEqual(status, 200, body)
                recs.append({"file": name, "predictions": json.loads(body)["predictions"]})
            # Every answer as Python's: dynamic batching puts a photo in batches of other rows each
            # time, which moves its scores' last bits, never its top 5.
            for start in range(0, len(recs), len(photos)):
                self.assert_matches_python("resnet18", recs[start:start + len(photos)])

            # A tensor package with its spec beside it and no input names in its metadata (so
            # its input is input0): the v2 JSON protocol, and a bad shape is a 400 that names
            # it, before the compiled code sees it.
            status, _, body = s.infer("linear", fp32("input0", [[1, 2, 3, 4], [0, 0, 0, 0]]))
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(body)["outputs"][0]["data"], [1.5, 1.5, 10.0, 0.5, -0.5, 0.0])
            status, _, body = s.infer("linear", fp32("input0", [[1, 2, 3]]))
            self.assertEqual(status, 400, body)
            self.assertIn("shape", json.loads(body)["error"])

    def test_package_for_another_device_is_a_clear_error(self):
        r = ptjs("run", "--model", os.path.join(PT2, "cuda_labelled.pt2"), "--input", PHOTOS)
        self.assertEqual(r.returncode, 2)
        err = r.stderr.decode()
        self.assertIn("compiled for device 'cuda', not 'cpu'", err)
        self.assertIn("--device cuda", err)

    def test_exported_program_is_not_a_package(self):
        r = ptjs("info", "--model", os.path.join(PT2, "exported_program.pt2"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("aoti_compile_and_package", r.stderr.decode())

    def test_format_is_read_from_content_not_name(self):
        with tempfile.TemporaryDirectory() as tmp:
            renamed = os.path.join(tmp, "model.pt")
            os.symlink(os.path.join(PT2, "mobilenet_v3_small.pt2"), renamed)
            r = ptjs("info", "--model", renamed)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            self.assertIn("aoti", r.stdout.decode())


if __name__ == "__main__":
    unittest.main()
