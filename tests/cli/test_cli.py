#!/usr/bin/python3
"""Black-box tests of the real `ptjs` binary: exit codes, stdout/stderr split, input listing,
formats, resume, shards and per-input errors. Each test method is one ctest case.

Environment (set by tests/cli/CMakeLists.txt): PTJS_BIN, PTJS_SOURCE_DIR, PTJS_GEN_DIR.
"""
import csv
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

PTJS = os.environ["PTJS_BIN"]
SRC = os.environ["PTJS_SOURCE_DIR"]
GEN = os.environ["PTJS_GEN_DIR"]
DIGITS = os.path.join(SRC, "configs", "digits")
DIGITS_PT = os.path.join(DIGITS, "model.pt")
DIGITS_IMAGES = os.path.join(DIGITS, "images")


def ptjs(*args, stdin=None, cwd=None):
    return subprocess.run([PTJS, *args], input=stdin, capture_output=True, cwd=cwd, timeout=300)


def jsonl(data):
    return [json.loads(line) for line in data.decode().splitlines()]


def digit_files(limit=None):
    files = []
    for root, _, names in os.walk(DIGITS_IMAGES):
        files += [os.path.join(root, n) for n in names if n.endswith(".png")]
    files.sort()
    return files[:limit] if limit else files


class CliTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ptjs-cli-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def copy_digits(self, count):
        folder = os.path.join(self.tmp, "imgs")
        os.makedirs(folder)
        for i, f in enumerate(digit_files(count)):
            shutil.copy(f, os.path.join(folder, f"{i:03d}.png"))
        return folder

    # --- basics -----------------------------------------------------------------------------
    def test_version(self):
        r = ptjs("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout.decode(), r"^ptjs \d+\.\d+\.\d+")

    def test_every_image_format_decodes(self):
        """PNG, JPEG, WebP, TIFF and BMP files of one digit all score."""
        from PIL import Image
        digit = Image.open(digit_files(1)[0]).convert("RGB")
        folder = os.path.join(self.tmp, "formats")
        os.makedirs(folder)
        for fmt, ext in (("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp"), ("TIFF", "tif"), ("BMP", "bmp")):
            digit.save(os.path.join(folder, f"digit.{ext}"), fmt)
        r = ptjs("run", "--model", DIGITS_PT, "--input", folder)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        records = jsonl(r.stdout)
        self.assertEqual(len(records), 5)
        for record in records:
            self.assertNotIn("error", record, record)

    def test_usage_error_exit_2(self):
        r = ptjs("run", "--input", DIGITS_IMAGES)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--model", r.stderr.decode())
        self.assertEqual(r.stdout, b"")

    def test_missing_model_exit_2(self):
        r = ptjs("run", "--model", os.path.join(self.tmp, "nope.pt"), "--input", DIGITS_IMAGES)
        self.assertEqual(r.returncode, 2)
        self.assertIn("nope.pt", r.stderr.decode())
        self.assertEqual(r.stdout, b"")

    def test_not_a_model_exit_2(self):
        bad = self.write("bad.pt", b"this is not a zip file")
        r = ptjs("run", "--model", bad, "--input", DIGITS_IMAGES)
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot load model", r.stderr.decode())

    def test_torchscript_from_torch_2_runs_or_names_the_missing_operator(self):
        """A model scripted by torch 2.13 (the venv's) that calls scaled_dot_product_attention, an
        operator libtorch 1.13 lacks: the default build scores it; a build with Debian's
        libtorch 1.13 refuses it at load, naming the operator and the build that runs it."""
        venv_python = os.environ["PTJS_VENV_PYTHON"]
        model = os.path.join(self.tmp, "attention.pt")
        script = (
            "import sys, torch\n"
            "class Attention(torch.nn.Module):\n"
            "    def forward(self, x):\n"
            "        q = x.flatten(2).transpose(1, 2)\n"
            "        return torch.nn.functional.scaled_dot_product_attention(q, q, q).mean(dim=1)\n"
            "spec = 'input: {type: image, mode: L}\\npreprocess: [{Resize: {size: [8, 8]}}, {ToTensor: {}}]\\n"
            "postprocess: [{Raw: {}}]\\n'\n"
            "torch.jit.save(torch.jit.script(Attention()), sys.argv[1], _extra_files={'ptjs.yaml': spec})\n")
        source = self.write("make_attention.py", script.encode())  # script() reads the class's source
        made = subprocess.run([venv_python, source, model], capture_output=True, timeout=300)
        self.assertEqual(made.returncode, 0, made.stderr.decode())
        version = re.search(r"^libtorch: (\d+)", ptjs("info", "--model", DIGITS_PT).stdout.decode(), re.M)
        r = ptjs("run", "--model", model, "--input", digit_files(1)[0])
        if int(version.group(1)) >= 2:
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            self.assertEqual(jsonl(r.stdout)[0]["outputs"][0]["shape"], [1, 1])
        else:
            self.assertEqual(r.returncode, 2)
            err = r.stderr.decode()
            self.assertIn("scaled_dot_product_attention", err)
            self.assertIn("default build of ptjs, with libtorch 2.13", err)

    def test_device_errors_name_the_cause(self):
        # A CPU-only libtorch (Debian's) asked for CUDA, by `run` and by `serve`: exit 2 with the
        # reason, the libtorch version and the way out, never a hang or a crash.
        for cmd in (["run", "--input", DIGITS_IMAGES], ["serve", "--port", "0"]):
            r = ptjs(*cmd, "--model", DIGITS_PT, "--device", "cuda:0")
            self.assertEqual(r.returncode, 2, r.stderr.decode())
            err = r.stderr.decode()
            self.assertIn("device 'cuda:0' asked for, but", err)
            self.assertRegex(err, r"libtorch \([0-9.]+\) has no CUDA support|no CUDA device is visible")
            self.assertIn("--device cpu", err)
            r = ptjs(*cmd, "--model", DIGITS_PT, "--device", "tpu")
            self.assertEqual(r.returncode, 2)
            self.assertIn("bad device 'tpu' (accepted: cpu, cuda, cuda:N)", r.stderr.decode())

    # --- the digits model, against Python ------------------------------------------------------
    def test_digits_match_python_and_accuracy(self):
        r = ptjs("run", "--model", DIGITS_PT, "--input", DIGITS_IMAGES, "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        records = jsonl(r.stdout)
        files = digit_files()
        self.assertEqual([rec["file"] for rec in records], files)
        expected = {}
        with open(os.path.join(DIGITS, "expected.csv")) as f:
            for row in csv.DictReader(f):
                expected[os.path.basename(os.path.dirname(row["file"])) + "/" + os.path.basename(row["file"])] = row
        correct = 0
        for rec in records:
            key = "/".join(rec["file"].split("/")[-2:])
            top = rec["predictions"][0]
            self.assertEqual(top["label"], expected[key]["python_top1"], f"{key}: ptjs and Python disagree")
            self.assertAlmostEqual(top["score"], float(expected[key]["python_score"]), places=4)
            correct += top["label"] == expected[key]["label"]
        self.assertEqual(len(records), len(expected))
        self.assertGreaterEqual(correct / len(records), 0.95)

    def test_stdout_is_only_records(self):
        r = ptjs("run", "--model", DIGITS_PT, "--input", DIGITS_IMAGES, "--progress", "--topk", "2")
        self.assertEqual(r.returncode, 0)
        for rec in jsonl(r.stdout):
            self.assertEqual(len(rec["predictions"]), 2)
        self.assertIn("inputs scored", r.stderr.decode())
        self.assertIn("img/s", r.stderr.decode())

    def test_quiet_prints_nothing_on_stderr(self):
        folder = self.copy_digits(5)
        r = ptjs("run", "--model", DIGITS_PT, "--input", folder, "--quiet")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stderr, b"")

    def test_stdin_list_keeps_order(self):
        files = digit_files(30)[::-1]
        r = ptjs("run", "--model", DIGITS_PT, "--input", "-", "--batch-size", "4",
                 stdin=("\n".join(files) + "\n").encode())
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual([rec["file"] for rec in jsonl(r.stdout)], files)

    def test_lanes_answer_with_the_same_bytes_in_input_order(self):
        # Lanes score several batches at once, each forward on one libtorch thread: whatever the
        # lanes, the records are those of one lane with one thread, byte for byte, in input order.
        folder = self.copy_digits(40)
        outs, errs = [], []
        for args in (["--lanes", "1", "--threads", "1"], ["--lanes", "3"], ["--lanes", "2"], []):
            r = ptjs("run", "--model", DIGITS_PT, "--input", folder, "--batch-size", "3", "--no-progress", *args)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            outs.append(r.stdout)
            errs.append(r.stderr.decode())
        self.assertEqual([x["file"] for x in jsonl(outs[0])], [os.path.join(folder, f"{i:03d}.png") for i in range(40)])
        for out in outs[1:]:
            self.assertEqual(out, outs[0])
        self.assertIn(" on 1 lane x 1 thread;", errs[0])
        self.assertIn(" on 3 lanes x 1 thread;", errs[1])
        self.assertIn(f" on {os.cpu_count()} lane", errs[3])  # the default: one lane per core
        r = ptjs("run", "--model", DIGITS_PT, "--input", folder, "--threads", "2", "--no-progress")
        self.assertIn(" on 1 lane x 2 threads;", r.stderr.decode())  # --threads alone: one lane

    def test_batch_size_and_workers_do_not_change_results(self):
        folder = self.copy_digits(40)
        outs = []
        for batch, workers in ((1, 1), (7, 2), (64, 3)):
            r = ptjs("run", "--model", DIGITS_PT, "--input", folder, "--batch-size", str(batch),
                     "--workers", str(workers), "--quiet")
            self.assertEqual(r.returncode, 0)
            outs.append([(x["file"], x["predictions"][0]["index"]) for x in jsonl(r.stdout)])
        self.assertEqual(outs[0], outs[1])
        self.assertEqual(outs[0], outs[2])

    def test_csv_format(self):
        folder = self.copy_digits(6)
        r = ptjs("run", "--model", DIGITS_PT, "--input", folder, "--format", "csv", "--topk", "3", "--quiet")
        self.assertEqual(r.returncode, 0)
        rows = list(csv.reader(io.StringIO(r.stdout.decode())))
        self.assertEqual(rows[0], ["file", "rank", "index", "label", "score", "error"])
        self.assertEqual(len(rows), 1 + 6 * 3)
        self.assertEqual([row[1] for row in rows[1:4]], ["1", "2", "3"])

    def test_labels_flag_overrides(self):
        folder = self.copy_digits(3)
        labels = self.write("labels.txt", "".join(f"L{i}\n" for i in range(10)).encode())
        r = ptjs("run", "--model", DIGITS_PT, "--input", folder, "--labels", labels, "--quiet")
        self.assertEqual(r.returncode, 0)
        for rec in jsonl(r.stdout):
            self.assertEqual(rec["predictions"][0]["label"], f"L{rec['predictions'][0]['index']}")

    # --- errors per input ---------------------------------------------------------------------
    def test_bad_inputs_are_records_and_batch_goes_on(self):
        folder = self.copy_digits(6)
        self.write("imgs/000b.png", b"")                       # empty
        self.write("imgs/001b.jpg", b"hello, not an image")    # text named .jpg
        with open(digit_files(1)[0], "rb") as f:
            png = f.read()
        self.write("imgs/002b.png", png[: len(png) // 2])      # truncated
        r = ptjs("run", "--model", DIGITS_PT, "--input", folder, os.path.join(self.tmp, "missing.png"), "--quiet")
        self.assertEqual(r.returncode, 1)
        records = jsonl(r.stdout)
        self.assertEqual(len(records), 10)
        errors = {os.path.basename(x["file"]): x["error"] for x in records if "error" in x}
        self.assertEqual(set(errors), {"000b.png", "001b.jpg", "002b.png", "missing.png"})
        self.assertIn("No such file", errors["missing.png"])
        self.assertEqual(sum("predictions" in x for x in records), 6)

    def test_fail_fast_stops(self):
        folder = self.copy_digits(20)
        self.write("imgs/005b.png", b"junk")
        r = ptjs("run", "--model", DIGITS_PT, "--input", folder, "--fail-fast", "--batch-size", "2", "--quiet")
        self.assertEqual(r.returncode, 1)
        records = jsonl(r.stdout)
        self.assertIn("error", records[-1])
        self.assertLess(len(records), 21)

    def test_sigint_exits_130_with_whole_records(self):
        import signal
        import time
        files = digit_files() * 20  # ~7,000 inputs: still running when the signal comes
        out = os.path.join(self.tmp, "out.jsonl")
        proc = subprocess.Popen([PTJS, "run", "--model", DIGITS_PT, "--input", "-", "--batch-size", "1",
                                 "--workers", "1", "--output", out, "--quiet"],
                                stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdin.write(("\n".join(files) + "\n").encode())
        proc.stdin.close()
        deadline = time.time() + 60
        while time.time() < deadline and (not os.path.exists(out) or os.path.getsize(out) < 2000):
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        self.assertEqual(proc.wait(timeout=60), 130)
        text = open(out).read()
        self.assertTrue(text.endswith("\n"))
        records = [json.loads(line) for line in text.splitlines()]
        self.assertGreater(len(records), 0)
        self.assertLess(len(records), len(files))
        self.assertEqual([r["file"] for r in records], files[: len(records)])

    # --- resume and shards ----------------------------------------------------------------------
    def test_resume_skips_done_and_cuts_partial_line(self):
        folder = self.copy_digits(12)
        out = os.path.join(self.tmp, "out.jsonl")
        r = ptjs("run", "--model", DIGITS_PT, "--input", folder, "--output", out, "--quiet")
        self.assertEqual(r.returncode, 0)
        lines = open(out).read().splitlines(keepends=True)
        with open(out, "w") as f:  # keep 5 whole records and half of the 6th, as after kill -9
            f.write("".join(lines[:5]) + lines[5][:20])
        r = ptjs("run", "--model", DIGITS_PT, "--input", folder, "--output", out, "--resume", "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        records = [json.loads(l) for l in open(out)]
        self.assertEqual(sorted(x["file"] for x in records), sorted(x["file"] for x in map(json.loads, lines)))

    def test_resume_needs_output(self):
        r = ptjs("run", "--model", DIGITS_PT, "--input", DIGITS_IMAGES, "--resume")
        self.assertEqual(r.returncode, 2)
        r = ptjs("run", "--model", DIGITS_PT, "--input", DIGITS_IMAGES, "--resume", "--output", "-")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--resume needs --output FILE", r.stderr.decode())

    def test_output_dash_is_stdout(self):
        files = digit_files(3)
        r = ptjs("run", "--model", DIGITS_PT, "--input", *files, "--output", "-", "--quiet", cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual([x["file"] for x in jsonl(r.stdout)], files)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "-")))

    def test_shards_cover_every_input_once(self):
        folder = self.copy_digits(25)
        seen = []
        for i in range(3):
            r = ptjs("run", "--model", DIGITS_PT, "--input", folder, "--shard", f"{i}/3", "--quiet")
            self.assertEqual(r.returncode, 0)
            part = [x["file"] for x in jsonl(r.stdout)]
            self.assertGreater(len(part), 0)
            seen += part
        self.assertEqual(sorted(seen), sorted(os.path.join(folder, n) for n in os.listdir(folder)))

    def test_bad_shard_is_usage_error(self):
        for shard in ("3/3", "x", "1/0"):
            r = ptjs("run", "--model", DIGITS_PT, "--input", DIGITS_IMAGES, "--shard", shard)
            self.assertEqual(r.returncode, 2, shard)

    # --- pipeline resolution ----------------------------------------------------------------------
    def test_sibling_yaml_and_preset_notice(self):
        plain = os.path.join(GEN, "models", "plain.pt")
        model = os.path.join(self.tmp, "m.pt")
        shutil.copy(plain, model)
        folder = self.copy_digits(2)
        r = ptjs("run", "--model", model, "--input", folder)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn("ImageNet classification preset", r.stderr.decode())
        self.assertEqual(len(jsonl(r.stdout)[0]["predictions"]), 5)
        self.write("m.yaml", b"input: {mode: RGB}\npreprocess:\n  - Resize: {size: 40}\n  - CenterCrop: {size: 32}\n"
                             b"  - ToTensor: {}\npostprocess:\n  - Argmax: {}\n")
        r = ptjs("run", "--model", model, "--input", folder)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertNotIn("ImageNet", r.stderr.decode())
        self.assertEqual(len(jsonl(r.stdout)[0]["predictions"]), 1)

    def test_pipeline_flag_overrides_embedded(self):
        folder = self.copy_digits(3)
        pipe = self.write("p.yaml", b"input: {mode: L}\npreprocess:\n  - Resize: {size: [28, 28]}\n  - ToTensor: {}\n"
                                    b"postprocess:\n  - Raw: {}\n")
        r = ptjs("run", "--model", DIGITS_PT, "--pipeline", pipe, "--input", folder, "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        rec = jsonl(r.stdout)[0]
        self.assertEqual(rec["outputs"][0]["shape"], [1, 10])
        self.assertEqual(rec["outputs"][0]["datatype"], "FP32")

    def test_bad_spec_names_line_and_column(self):
        spec = self.write("bad.yaml", b"name: x\nmodel: m.pt\npreprocess:\n  - Resize: {size: -3}\n")
        r = ptjs("validate", spec)
        self.assertEqual(r.returncode, 2)
        self.assertRegex(r.stderr.decode(), r"bad\.yaml:4:\d+: Resize: 'size'")
        spec = self.write("bad2.yaml", b"name: x\nmodle: m.pt\n")
        r = ptjs("validate", spec)
        self.assertEqual(r.returncode, 2)
        self.assertRegex(r.stderr.decode(), r"bad2\.yaml:2:1: unknown key 'modle'")

    def test_validate_and_info(self):
        r = ptjs("validate", os.path.join(DIGITS, "model.yaml"))
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn("Resize(", r.stdout.decode())
        self.assertIn("OK", r.stdout.decode())
        r = ptjs("info", "--model", DIGITS_PT)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn("forward", r.stdout.decode())
        self.assertIn("embedded spec (ptjs.yaml): yes", r.stdout.decode())

    def test_preprocess_writes_npy(self):
        import numpy as np
        out = os.path.join(self.tmp, "x.npy")
        r = ptjs("preprocess", "--model", DIGITS_PT, "--input", digit_files(1)[0], "--output", out)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        x = np.load(out)
        self.assertEqual(x.dtype, np.float32)
        self.assertEqual(x.ndim, 3)

    def big_jpeg(self, name="big.jpg", size=(1100, 1030)):
        """A real photo upscaled to a JPEG that PIL's draft reduces by 4 for Resize 256."""
        from PIL import Image
        path = os.path.join(self.tmp, name)
        with Image.open("/usr/lib/python3/dist-packages/skimage/data/astronaut.png") as im:
            im.convert("RGB").resize(size, Image.LANCZOS).save(path, quality=90)
        return path

    def test_preprocess_draft_flag(self):
        import numpy as np
        import torch
        from PIL import Image
        from torchvision.transforms._presets import ImageClassification
        big = self.big_jpeg()
        png = os.path.join(self.tmp, "big.png")
        Image.open(big).save(png)
        pipe = self.write("p.yaml", b"input: {type: image, mode: RGB}\n"
                                    b"preprocess: {preset: ImageClassification, crop_size: 224}\n")
        torch.set_num_threads(1)

        def npy(path, *flags):
            out = os.path.join(self.tmp, "x.npy")
            r = ptjs("preprocess", "--pipeline", pipe, "--input", path, "--output", out, *flags)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            return np.load(out)

        def pil(path, draft):
            with Image.open(path) as im:
                if draft:
                    im.draft("RGB", (256, 256))
                    self.assertEqual(im.size, (275, 258))  # 1100x1030 / 4, rounded up
                return ImageClassification(crop_size=224)(im.convert("RGB")).numpy()

        full, draft = npy(big), npy(big, "--draft")
        self.assertTrue(np.array_equal(full, pil(big, False)))
        self.assertTrue(np.array_equal(draft, pil(big, True)))
        self.assertFalse(np.array_equal(full, draft))
        self.assertTrue(np.array_equal(npy(png, "--draft"), npy(png)))  # not a JPEG: full decode

    def test_run_draft_flag_and_spec_key(self):
        big = self.big_jpeg()
        draft_pipe = self.write("d.yaml", b"input: {type: image, mode: L, draft: true}\n")
        default = ptjs("run", "--model", DIGITS_PT, "--input", big, "--quiet", "--topk", "10")
        flag = ptjs("run", "--model", DIGITS_PT, "--input", big, "--quiet", "--topk", "10", "--draft")
        spec = ptjs("run", "--model", DIGITS_PT, "--input", big, "--quiet", "--topk", "10", "--pipeline", draft_pipe)
        for r in (default, flag, spec):
            self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(flag.stdout, spec.stdout)
        self.assertNotEqual(flag.stdout, default.stdout)
        self.assertEqual(len(jsonl(flag.stdout)[0]["predictions"]), 10)

    def test_validate_shows_draft_and_bad_value(self):
        spec = self.write("s.yaml", f"name: x\nmodel: {DIGITS_PT}\ninput: {{type: image, mode: RGB, draft: true}}\n"
                                    "preprocess: {preset: ImageClassification, crop_size: 224}\n".encode())
        r = ptjs("validate", spec)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn("draft: JPEGs decode reduced as PIL's draft('RGB', (256, 256))", r.stdout.decode())
        r = ptjs("validate", os.path.join(DIGITS, "model.yaml"))
        self.assertNotIn("draft", r.stdout.decode())
        bad = self.write("b.yaml", b"name: x\nmodel: m.pt\ninput:\n  draft: yes please\n")
        r = ptjs("validate", bad)
        self.assertEqual(r.returncode, 2)
        self.assertIn("b.yaml:4:10: input: 'draft' must be true or false, got 'yes please'", r.stderr.decode())

    def test_model_runs_frozen_only_when_outputs_match(self):
        folder = self.copy_digits(5)

        def run(model, *extra):
            r = ptjs("run", "--model", os.path.join(GEN, "models", model), "--input", folder, "--batch-size", "2", *extra)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            return jsonl(r.stdout), r.stderr.decode()

        # A convolutional net: frozen with channels-last weights and input, same scores.
        fast, err = run("plain.pt")
        self.assertIn("; model run frozen, channels-last\n", err)
        slow, err = run("plain.pt", "--no-optimize")
        self.assertIn("; model run as loaded\n", err)
        for a, b in zip(fast, slow):
            self.assertEqual([p["index"] for p in a["predictions"]], [p["index"] for p in b["predictions"]])
            for p, q in zip(a["predictions"], b["predictions"]):
                self.assertAlmostEqual(p["score"], q["score"], delta=1e-4)
        # Twice the same command, the same bytes (the choice never depends on timings).
        self.assertEqual(run("plain.pt")[0], fast)
        # .view() of a channels-last input raises: frozen with the input as it is.
        self.assertIn("; model run frozen\n", run("flat_view.pt")[1])
        # Outputs that differ from the module as loaded: kept as loaded.
        self.assertIn("; model run as loaded\n", run("noisy.pt")[1])
        # The spec key, from a --pipeline overlay.
        off = self.write("off.yaml", b"optimize: false\n")
        self.assertIn("; model run as loaded\n", run("plain.pt", "--pipeline", off)[1])
        bad = self.write("bad.yaml", b"optimize: maybe\n")
        r = ptjs("run", "--model", os.path.join(GEN, "models", "plain.pt"), "--input", folder, "--pipeline", bad)
        self.assertEqual(r.returncode, 2)
        self.assertIn("bad.yaml:1:11: 'optimize' must be true or false, got 'maybe'", r.stderr.decode())

    def test_multi_output_model_raw(self):
        model = os.path.join(GEN, "models", "tuple_out.pt")
        folder = self.copy_digits(3)
        r = ptjs("run", "--model", model, "--input", folder, "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        rec = jsonl(r.stdout)[0]
        self.assertEqual([o["name"] for o in rec["outputs"]], ["output0", "output1"])

    def test_none_outputs_are_left_out_and_model_warnings_shown_once(self):
        model = os.path.join(GEN, "models", "optional_out.pt")
        folder = self.copy_digits(5)
        r = ptjs("run", "--model", model, "--input", folder, "--batch-size", "1", "--no-progress")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        records = jsonl(r.stdout)
        self.assertEqual(len(records), 5)
        for rec in records:
            self.assertEqual([o["name"] for o in rec["outputs"]], ["output0"])
            self.assertEqual(rec["outputs"][0]["shape"], [1, 3])
        stderr = r.stderr.decode()
        # Five forwards (and the plan's), one line: each distinct warning once, ptjs's own words.
        self.assertEqual(stderr.count("OptionalOut always returns an Outputs tuple"), 1, stderr)
        self.assertIn("ptjs: model warning: OptionalOut always returns an Outputs tuple", stderr)
        self.assertNotIn("InitGoogleLogging", stderr)

    def test_model_that_throws_fails_records_not_process(self):
        model = os.path.join(GEN, "models", "raises.pt")
        folder = self.copy_digits(3)
        r = ptjs("run", "--model", model, "--input", folder, "--quiet")
        self.assertEqual(r.returncode, 1)
        records = jsonl(r.stdout)
        self.assertEqual(len(records), 3)
        self.assertTrue(all("model forward failed" in x["error"] for x in records))
        self.assertTrue(all("this model always fails" in x["error"] for x in records), records[0]["error"])


if __name__ == "__main__":
    unittest.main()
