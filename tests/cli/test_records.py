#!/usr/bin/python3
"""`ptjs eval` and `ptjs compare` on real records of the digits model: the numbers are checked
against an independent computation here (from the records and the folder names), and every gate
is made to pass and to fail.

Environment (set by tests/cli/CMakeLists.txt): PTJS_BIN, PTJS_SOURCE_DIR.
"""
import csv
import json
import os
import shutil
import subprocess
import tempfile
import unittest

PTJS = os.environ["PTJS_BIN"]
SRC = os.environ["PTJS_SOURCE_DIR"]
DIGITS = os.path.join(SRC, "configs", "digits")
DIGITS_PT = os.path.join(DIGITS, "model.pt")
IMAGES = os.path.join(DIGITS, "images")


def ptjs(*args):
    return subprocess.run([PTJS, *args], capture_output=True, timeout=300, text=True)


_cache = {}


def records(fmt="jsonl", topk=5):
    """Records of the whole digits set (made once per format and topk)."""
    key = (fmt, topk)
    if key not in _cache:
        out = os.path.join(tempfile.mkdtemp(prefix="ptjs-records-"), "digits." + fmt)
        r = ptjs("run", "--model", DIGITS_PT, "--input", IMAGES, "--quiet", "--topk", str(topk),
                 "--format", fmt, "--output", out)
        assert r.returncode == 0, r.stderr
        _cache[key] = out
    return _cache[key]


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def truth_of(file):
    return os.path.relpath(file, IMAGES).split(os.sep)[0]


class EvalTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ptjs-eval-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def eval_json(self, *args):
        r = ptjs("eval", *args, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_eval_matches_an_independent_count_and_model_equals_records(self):
        recs = read_jsonl(records())
        top1 = sum(r["predictions"][0]["label"] == truth_of(r["file"]) for r in recs)
        top5 = sum(truth_of(r["file"]) in [p["label"] for p in r["predictions"][:5]] for r in recs)
        got = self.eval_json(records(), "--input", IMAGES)
        self.assertEqual(got["scored"], len(recs))
        self.assertEqual(got["matched_by"], "labels")
        self.assertAlmostEqual(got["top1"], top1 / len(recs), places=9)
        self.assertAlmostEqual(got["top5"], top5 / len(recs), places=9)
        self.assertLess(got["top1"], 1.0, "the digits model misreads a few: the test needs some misses")
        # Classes in ImageFolder order (sorted folder names); per-class numbers from the records.
        self.assertEqual([c["name"] for c in got["classes"]], sorted(os.listdir(IMAGES)))
        for i, c in enumerate(got["classes"]):
            mine = [r for r in recs if truth_of(r["file"]) == c["name"]]
            said = [r for r in recs if r["predictions"][0]["label"] == c["name"]]
            right = sum(r["predictions"][0]["label"] == c["name"] for r in mine)
            self.assertEqual(c["support"], len(mine))
            self.assertAlmostEqual(c["recall"], right / len(mine), places=9)
            self.assertAlmostEqual(c["precision"], right / len(said), places=9)
            self.assertEqual(sum(got["confusion"][i]), len(mine))
            self.assertEqual(got["confusion"][i][i], right)
        self.assertEqual({m["file"] for m in got["misclassified"]},
                         {r["file"] for r in recs if r["predictions"][0]["label"] != truth_of(r["file"])})
        # --model scores the folder with ptjs run's engine: the same numbers.
        by_model = self.eval_json("--model", DIGITS_PT, "--input", IMAGES, "--quiet")
        for key in ("scored", "top1", "top5", "confusion"):
            self.assertEqual(by_model[key], got[key], key)
        # CSV records read the same as JSONL.
        from_csv = self.eval_json(records("csv"), "--input", IMAGES)
        for key in ("scored", "top1", "top5", "confusion"):
            self.assertEqual(from_csv[key], got[key], key)

    def test_text_output_names_accuracy_and_the_confusion_matrix(self):
        r = ptjs("eval", records(), "--input", IMAGES)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"top-1 0\.9\d{3} \(\d+/360\)")
        self.assertIn("precision  recall  support", r.stdout)
        self.assertIn("confusion (rows: truth", r.stdout)
        self.assertEqual(r.stderr, "")

    def test_gates_fail_with_one_line_naming_the_gate(self):
        got = self.eval_json(records(), "--input", IMAGES)
        passing = ptjs("eval", records(), "--input", IMAGES, "--min-top1", str(got["top1"] - 0.001),
                       "--min-top5", "0.9", "--max-errors", "0")
        self.assertEqual(passing.returncode, 0, passing.stderr)
        for flag, value, name in [("--min-top1", "1", "--min-top1"), ("--min-top5", "1", None)]:
            r = ptjs("eval", records(), "--input", IMAGES, flag, value)
            if name is None:  # top-5 of the digits model is 1.0: that gate passes
                self.assertEqual(r.returncode, 0, r.stderr)
                continue
            self.assertEqual(r.returncode, 1, r.stderr)
            lines = r.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, r.stderr)
            self.assertIn("gate failed", lines[0])
            self.assertIn(name, lines[0])

    def test_errors_are_counted_apart_and_gated(self):
        # A small ImageFolder of its own: two classes, and a corrupt "image" in one.
        for name in ("three", "seven"):
            os.makedirs(os.path.join(self.tmp, name))
            for f in sorted(os.listdir(os.path.join(IMAGES, name)))[:5]:
                shutil.copy(os.path.join(IMAGES, name, f), os.path.join(self.tmp, name, f))
        with open(os.path.join(self.tmp, "seven", "broken.png"), "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\nnot really")
        got = self.eval_json("--model", DIGITS_PT, "--input", self.tmp, "--quiet")
        self.assertEqual(got["scored"], 10)
        self.assertEqual(got["errors"], 1)
        self.assertEqual(got["failures"][0]["file"].rsplit("/", 1)[1], "broken.png")
        self.assertEqual([c["name"] for c in got["classes"]], ["seven", "three"])
        r = ptjs("eval", "--model", DIGITS_PT, "--input", self.tmp, "--quiet", "--max-errors", "0")
        self.assertEqual(r.returncode, 1)
        self.assertIn("1 error records > --max-errors 0", r.stderr)

    def test_index_matching_when_folders_are_not_the_labels(self):
        # Folders named so that their sorted order is the class index, as an ImageFolder a model
        # was trained on: names unknown to the labels file, so eval matches by index.
        with open(os.path.join(DIGITS, "labels.txt")) as f:
            labels = [line.strip() for line in f]
        rows = []
        for index, name in enumerate(labels):
            folder = os.path.join(self.tmp, "folders", "class%02d" % index)
            os.makedirs(folder)
            for f in sorted(os.listdir(os.path.join(IMAGES, name)))[:3]:
                shutil.copy(os.path.join(IMAGES, name, f), os.path.join(folder, f))
                rows.append((os.path.join(folder, f), str(index)))
        by_index = self.eval_json("--model", DIGITS_PT, "--input", os.path.join(self.tmp, "folders"), "--quiet")
        self.assertEqual(by_index["matched_by"], "class index")
        self.assertEqual(by_index["scored"], 30)
        # The same inputs, ground truth as a CSV of class indices.
        truth = os.path.join(self.tmp, "truth.csv")
        with open(truth, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["file", "label"])
            w.writerows(rows)
        by_csv = self.eval_json("--model", DIGITS_PT, "--truth", truth, "--quiet")
        self.assertEqual(by_csv["matched_by"], "class index")
        self.assertEqual(by_csv["top1"], by_index["top1"])
        self.assertEqual(by_csv["confusion"], by_index["confusion"])

    def test_bad_input_is_exit_2_naming_file_and_line(self):
        bad = os.path.join(self.tmp, "bad.jsonl")
        with open(bad, "w") as f:
            f.write('{"file":"a.png","predictions":[{"index":1,"label":"one","score":0.5}]}\n')
            f.write('{"oops": 1}\n')
        r = ptjs("eval", bad, "--input", IMAGES)
        self.assertEqual(r.returncode, 2)
        self.assertIn("bad.jsonl:2:", r.stderr)
        r = ptjs("eval", os.path.join(self.tmp, "nope.jsonl"), "--input", IMAGES)
        self.assertEqual(r.returncode, 2)
        self.assertIn("nope.jsonl", r.stderr)
        r = ptjs("eval", records())
        self.assertEqual(r.returncode, 2)
        self.assertIn("--input DIR", r.stderr)
        r = ptjs("eval", records(), "--input", IMAGES, "--min-top1", "2")
        self.assertEqual(r.returncode, 2)


class CompareTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ptjs-compare-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_same_inputs_two_formats_agree(self):
        r = ptjs("compare", records(), records("csv"), "--max-flips", "0", "--max-score-diff", "1e-6", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = json.loads(r.stdout)
        self.assertEqual(got["common"], 360)
        self.assertEqual(got["agreement"], 1.0)
        self.assertEqual(got["flips"], [])
        self.assertLess(got["max_score_diff"], 1e-6)

    def test_flips_score_differences_and_one_sided_inputs(self):
        recs = read_jsonl(records())
        changed = {}
        out = []
        for i, r in enumerate(recs):
            if i % 40 == 0:  # swap the top two classes' order: a flip
                r = dict(r, predictions=[r["predictions"][1], r["predictions"][0]] + r["predictions"][2:])
                changed[r["file"]] = r["predictions"][0]["index"]
            if i == 7:
                r = dict(r, predictions=[dict(r["predictions"][0], score=r["predictions"][0]["score"] - 0.25)]
                         + r["predictions"][1:])
            if i == 8:
                continue  # only in A
            out.append(r)
        out.append({"file": "extra.png", "predictions": [{"index": 0, "score": 1.0}]})  # only in B
        b = os.path.join(self.tmp, "b.jsonl")
        with open(b, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in out)
        r = ptjs("compare", records(), b, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = json.loads(r.stdout)
        self.assertEqual({f["file"]: f["b"]["index"] for f in got["flips"]}, changed)
        self.assertEqual(got["common"], 359)
        self.assertEqual(got["agree"], 359 - len(changed))
        self.assertEqual(got["only_in_a"], [recs[8]["file"]])
        self.assertEqual(got["only_in_b"], ["extra.png"])
        self.assertAlmostEqual(got["max_score_diff"], 0.25, places=5)
        self.assertEqual(got["max_score_diff_file"], recs[7]["file"])
        # Gates: a count, a percentage, the score difference; each fails with one line.
        flips = len(changed)
        percent = 100.0 * flips / 359
        cases = [(["--max-flips", str(flips)], 0), (["--max-flips", str(flips - 1)], 1),
                 (["--max-flips", "%.3f%%" % (percent + 0.01)], 0), (["--max-flips", "%.3f%%" % (percent - 0.01)], 1),
                 (["--max-score-diff", "0.3"], 0), (["--max-score-diff", "0.2"], 1)]
        for args, code in cases:
            r = ptjs("compare", records(), b, *args)
            self.assertEqual(r.returncode, code, (args, r.stderr))
            if code:
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                self.assertIn(args[0], r.stderr)
        text = ptjs("compare", records(), b).stdout
        self.assertIn("flipped (A -> B):", text)
        self.assertIn("only in B:\n  extra.png", text)
        bad = ptjs("compare", records(), b, "--max-flips", "lots")
        self.assertEqual(bad.returncode, 2)
        self.assertIn("--max-flips", bad.stderr)


if __name__ == "__main__":
    unittest.main()
