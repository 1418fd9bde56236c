#!/usr/bin/python3
"""The bad-input matrix (docs/reliability.md): every input a user or a client can get wrong,
through the real binary. `ptjs run` answers each bad file with an error record, scores the
others and exits 1; `ptjs serve` answers each bad request with a JSON error of the right
status, stays up, never shows a server path, and serves the next good request.

Environment (set by tests/reliability/CMakeLists.txt): PTJS_BIN, PTJS_SOURCE_DIR, PTJS_GEN_DIR
(fixtures from make_fixtures.py in PTJS_GEN_DIR/reliability).
"""
import base64
import http.client
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import unittest

from ptjs_server import PTJS, Server, fp32, strict_json

SRC = os.environ["PTJS_SOURCE_DIR"]
GEN = os.path.join(os.environ["PTJS_GEN_DIR"], "reliability")
MODELS = os.path.join(GEN, "models")
IMAGES = os.path.join(GEN, "images")
DIGITS = os.path.join(SRC, "configs", "digits")
DIGITS_PT = os.path.join(DIGITS, "model.pt")


def digit_image(label="three"):
    folder = os.path.join(DIGITS, "images", label)
    return os.path.join(folder, sorted(os.listdir(folder))[0])


def run_ptjs(*args, **kw):
    return subprocess.run([PTJS, *args], capture_output=True, timeout=300, **kw)


# What `ptjs run` writes for each input of the matrix: a regex its error must match, or None
# for an input that is scored.
RUN_MATRIX = {
    "empty.jpg": r"^cannot decode image: empty file",
    "text.jpg": r"^cannot decode image: not a JPEG/PNG/BMP/TIFF/WebP/GIF file",
    "jpeg_truncated_half.jpg": r"^cannot decode image: .*truncated",
    "png_bad_crc.png": r"^cannot decode image: corrupt",
    "png_bomb.png": r"^image too large: PNG of 30000x30000 .*decompression bomb",
    "png_1x100000.png": r"^image too large: PNG of 1x100000 pixels, over the limit of 65500 pixels a side",
    "png_one_pixel.png": None,
    "gif_animated.gif": None,
    "tiff_gray16.tif": None,
    "tiff_rgb16.tif": None,
    "jpeg_cmyk.jpg": None,
}


class RunBadInputs(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ptjs-bad-")
        os.chmod(self.tmp, 0o755)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def records(self, stdout):
        return [json.loads(line) for line in stdout.decode().splitlines()]

    def test_every_bad_file_is_one_error_record_and_the_rest_are_scored(self):
        inputs = os.path.join(self.tmp, "inputs")
        os.makedirs(inputs)
        for name in RUN_MATRIX:
            shutil.copy(os.path.join(IMAGES, name), os.path.join(inputs, name))
        shutil.copy(digit_image("three"), os.path.join(inputs, "a digit with spaces.png"))
        # A name that is not UTF-8: the record carries U+FFFD for the bad byte.
        shutil.copy(digit_image("seven"), os.path.join(os.fsencode(inputs), b"caf\xe9-\xff.png"))
        # A dangling link inside a walked folder is skipped (not a file); named explicitly it
        # is an error record (test_path_with_spaces_and_non_utf8_bytes_as_explicit_inputs).
        os.symlink(os.path.join(self.tmp, "nowhere.png"), os.path.join(inputs, "dangling.png"))
        # A directory loop: inputs/loop/up -> inputs.
        os.makedirs(os.path.join(inputs, "loop"))
        os.symlink("..", os.path.join(inputs, "loop", "up"))
        r = run_ptjs("run", "--model", DIGITS_PT, "--input", inputs, "--workers", "2")
        self.assertEqual(r.returncode, 1, r.stderr.decode())
        err = r.stderr.decode("utf-8", "replace")
        self.assertRegex(err, r"skipping '.*loop/up': a folder already walked")
        recs = self.records(r.stdout)
        by_name = {}
        for rec in recs:
            name = os.path.basename(rec["file"])
            self.assertNotIn(name, by_name, f"two records for {name}")
            by_name[name] = rec
        expected = set(RUN_MATRIX) | {"a digit with spaces.png", "caf\ufffd-\ufffd.png"}
        self.assertEqual(set(by_name), expected, err)
        for name, want in RUN_MATRIX.items():
            rec = by_name[name]
            if want is None:
                self.assertIn("predictions", rec, f"{name}: {rec}")
                self.assertEqual(len(rec["predictions"]), 3)
            else:
                self.assertRegex(rec.get("error", ""), want, f"{name}: {rec}")
        self.assertEqual(by_name["a digit with spaces.png"]["predictions"][0]["label"], "three")
        self.assertEqual(by_name["caf\ufffd-\ufffd.png"]["predictions"][0]["label"], "seven")
        # Records come in input order (the sorted walk) whatever the workers did.
        files = [rec["file"] for rec in recs]
        self.assertEqual(files, sorted(files, key=lambda f: f.encode()), files)
        self.assertRegex(err, r"of 13 inputs scored, 6 failed")

    def test_path_with_spaces_and_non_utf8_bytes_as_explicit_inputs(self):
        a = os.path.join(self.tmp, "dir with spaces", "x y.png")
        os.makedirs(os.path.dirname(a))
        shutil.copy(digit_image("two"), a)
        b = os.path.join(os.fsencode(self.tmp), b"\xc3(\x80.png")
        shutil.copy(digit_image("four"), b)
        dangling = os.path.join(self.tmp, "dangling.png")
        os.symlink(os.path.join(self.tmp, "nowhere.png"), dangling)
        r = run_ptjs("run", "--model", DIGITS_PT, "--input", a, os.fsdecode(b), dangling)
        self.assertEqual(r.returncode, 1, r.stderr.decode())
        recs = self.records(r.stdout)
        self.assertEqual([rec["predictions"][0]["label"] for rec in recs[:2]], ["two", "four"])
        self.assertEqual(recs[0]["file"], a)
        self.assertRegex(recs[2]["error"], r"cannot read .*dangling\.png.*No such file")

    def test_unreadable_file(self):
        locked = os.path.join(self.tmp, "locked.png")
        ok = os.path.join(self.tmp, "ok.png")
        shutil.copy(digit_image("five"), locked)
        shutil.copy(digit_image("five"), ok)
        os.chmod(locked, 0)
        preexec = None
        if os.geteuid() == 0:
            # root reads a chmod 000 file: run ptjs as nobody instead (model and binary must be
            # readable by others, which a normal checkout is).
            if not all(os.access(p, os.R_OK) and os.stat(p).st_mode & 0o004 for p in (DIGITS_PT, PTJS)):
                self.skipTest("running as root and the model or binary is not world-readable: "
                              "cannot make an unreadable file")

            def preexec():
                os.setgid(65534)
                os.setuid(65534)
        r = run_ptjs("run", "--model", DIGITS_PT, "--input", locked, ok, preexec_fn=preexec)
        if r.returncode == 2 and b"cannot" in r.stderr and b"model" in r.stderr:
            self.skipTest("nobody cannot read the model here: " + r.stderr.decode()[:200])
        self.assertEqual(r.returncode, 1, r.stderr.decode())
        recs = self.records(r.stdout)
        self.assertEqual(len(recs), 2)
        self.assertRegex(recs[0]["error"], r"^cannot read '.*locked\.png': Permission denied")
        self.assertEqual(recs[1]["predictions"][0]["label"], "five")


class ServeBadInputs(unittest.TestCase):
    """One server for the class: every test leaves it up, which is the point."""

    LIMIT = 2_000_000

    @classmethod
    def setUpClass(cls):
        cls.server = Server(["--model", "digits=" + DIGITS_PT]
                            + [a for m in ("tiny", "failing", "none_out", "str_out", "leaky")
                               for a in ("--model", os.path.join(MODELS, m + ".pt"))]
                            + ["--max-body-bytes", str(cls.LIMIT), "--max-delay-ms", "0"])

    @classmethod
    def tearDownClass(cls):
        code = cls.server.terminate(30)
        cls.server.kill()
        assert code == 0, f"ptjs serve exited {code}:\n{cls.server.stderr()}"

    # --- helpers ----------------------------------------------------------------------------
    def assert_error(self, result, status, pattern):
        """A JSON {"error": "..."} body of `status` whose message matches `pattern`, naming no
        server path, after which the server still answers a good request."""
        code, headers, body = result
        self.assertEqual(code, status, body[:500])
        self.assertTrue(headers.get("content-type", "").startswith("application/json"), headers)
        doc = strict_json(body)
        self.assertEqual(set(doc), {"error"}, doc)
        self.assertRegex(doc["error"], pattern)
        self.assert_no_server_path(doc["error"])
        self.assert_alive()
        return doc["error"]

    def assert_no_server_path(self, text):
        for path in (SRC, GEN, MODELS, os.path.realpath(SRC), tempfile.gettempdir()):
            self.assertNotIn(path, text)
        self.assertNotRegex(text, r"(^|[\s'\"(=:])/(work|tmp|home|root|usr|etc|var|opt|srv|mnt)/")

    def assert_alive(self):
        code, _, body = self.server.request("GET", "/v2/health/live")
        self.assertEqual(code, 200, body)
        code, _, body = self.server.infer("tiny", fp32("x", [[1, 2, 3, 4]]))
        self.assertEqual(code, 200, body)
        self.assertEqual(len(strict_json(body)["outputs"][0]["data"]), 3)

    def post(self, path, body, content_type="application/json", headers=None):
        h = {"Content-Type": content_type}
        h.update(headers or {})
        return self.server.request("POST", path, body, h)

    def binary_infer(self, model, values):
        head = json.dumps({"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32",
                                       "parameters": {"binary_data_size": 16}}]}).encode()
        return self.post(f"/v2/models/{model}/infer", head + struct.pack("<4f", *values),
                         "application/octet-stream", {"Inference-Header-Content-Length": str(len(head))})

    # --- JSON tensors -----------------------------------------------------------------------
    def test_wrong_datatype(self):
        doc = {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "INT64", "data": [1, 2, 3, 4]}]}
        self.assert_error(self.server.infer("tiny", doc), 400, r"input 'x': expected datatype FP32, got INT64")
        doc["inputs"][0]["datatype"] = "COMPLEX64"
        self.assert_error(self.server.infer("tiny", doc), 400, r"unknown datatype 'COMPLEX64'")

    def test_wrong_shape(self):
        self.assert_error(self.server.infer("tiny", fp32("x", [[1, 2, 3, 4, 5]])), 400,
                          r"expected shape \[-1, 4\].*got \[1, 5\]")
        doc = {"inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32", "data": [1, 2, 3]}]}
        self.assert_error(self.server.infer("tiny", doc), 400, r"needs 8 values, got 3")
        doc = {"inputs": [{"name": "x", "shape": [100000, 100000, 100000], "datatype": "FP32", "data": [1]}]}
        self.assert_error(self.server.infer("tiny", doc), 400, r"too large")

    def test_nan_is_not_json(self):
        body = b'{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[NaN,1,2,3]}]}'
        self.assert_error(self.post("/v2/models/tiny/infer", body), 400, r"not valid JSON")

    def test_number_too_large_for_json_is_400(self):
        # 1e999 overflows a double: nlohmann throws out_of_range, not parse_error.
        body = b'{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1e999,1,2,3]}]}'
        self.assert_error(self.post("/v2/models/tiny/infer", body), 400, r".")
        self.assert_error(self.post("/predictions/digits", b'{"b64": 1e999}'), 400, r".")

    def test_number_out_of_fp32_range_is_refused_or_answered_as_json(self):
        # 1e300 fits a double but not a float: either refuse it (400) or answer valid JSON.
        code, _, body = self.server.infer("tiny", fp32("x", [[1e300, 1, 2, 3]]))
        if code == 400:
            self.assert_error((code, {"content-type": "application/json"}, body), 400, r".")
        else:
            self.assertEqual(code, 200, body)
            strict_json(body)  # raises on Infinity / NaN
        self.assert_error(self.server.infer("tiny", {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32",
                                                                  "data": [1, 2, 3, "4"]}]}), 400,
                          r"element 3: expected a number")

    def test_non_finite_binary_input_gives_valid_json(self):
        # NaN and infinities arrive fine through the binary extension; the answer must still be
        # JSON a browser or Node can parse.
        code, _, body = self.binary_infer("tiny", (float("nan"), float("inf"), 1, 2))
        if code != 400:
            self.assertEqual(code, 200, body)
            strict_json(body)

    def test_integer_out_of_range(self):
        doc = {"inputs": [{"name": "x", "shape": [1], "datatype": "INT8", "data": [300]}]}
        self.assert_error(self.server.infer("tiny", doc), 400, r"out of range|expected datatype")

    def test_not_json_at_all(self):
        self.assert_error(self.post("/v2/models/tiny/infer", b"\xff\xfe garbage"), 400, r"not valid JSON")
        self.assert_error(self.post("/predictions/digits", b"{\"b64\": ", "application/json"), 400, r"not valid JSON")

    def test_binary_extension_lies(self):
        head = b'{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}]}'
        self.assert_error(self.post("/v2/models/tiny/infer", head + b"\0" * 8, "application/octet-stream",
                                    {"Inference-Header-Content-Length": str(len(head))}), 400, r"runs past the end")
        self.assert_error(self.post("/v2/models/tiny/infer", head + b"\0" * 16, "application/octet-stream",
                                    {"Inference-Header-Content-Length": "999999"}), 400, r"larger than the body")
        self.assert_error(self.post("/v2/models/tiny/infer", head + b"\0" * 16, "application/octet-stream",
                                    {"Inference-Header-Content-Length": "-1"}), 400, r"must be a byte count")

    # --- images -----------------------------------------------------------------------------
    def test_bytes_input_that_is_not_an_image(self):
        doc = {"inputs": [{"name": "x", "shape": [1], "datatype": "BYTES",
                           "data": [base64.b64encode(b"hello, not an image").decode()]}]}
        self.assert_error(self.server.infer("digits", doc), 400, r"^cannot decode image: not a JPEG")
        doc["inputs"][0]["data"] = ["***not base64***"]
        self.assert_error(self.server.infer("digits", doc), 400, r"invalid base64")
        self.assert_error(self.post("/predictions/digits", b"plain text", "text/plain"), 400, r"^cannot decode image")

    def test_bad_image_files_over_http(self):
        for name, want in RUN_MATRIX.items():
            with open(os.path.join(IMAGES, name), "rb") as f:
                data = f.read()
            result = self.post("/predictions/digits", data, "application/octet-stream")
            if want is None:
                self.assertEqual(result[0], 200, (name, result[2][:300]))
                self.assertEqual(len(strict_json(result[2])["predictions"]), 3)
            elif name == "empty.jpg":
                self.assert_error(result, 400, r"holds no image|empty")
            else:
                status = 413 if "too large" in want else 400
                self.assert_error(result, status, want)

    def test_multipart_with_a_bad_part_names_it(self):
        boundary = "ptjsbound"
        with open(digit_image("one"), "rb") as f:
            good = f.read()
        body = b""
        for name, data in (("a", good), ("b", b"not an image")):
            body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}.png\"\r\n"
                     f"Content-Type: image/png\r\n\r\n").encode() + data + b"\r\n"
        body += f"--{boundary}--\r\n".encode()
        self.assert_error(self.post("/predictions/digits", body, f"multipart/form-data; boundary={boundary}"),
                          400, r"part 'b' \(b\.png\): cannot decode image")
        self.assert_error(self.post("/predictions/digits", b"--nope\r\n garbage",
                                    f"multipart/form-data; boundary={boundary}"), 400, r".")

    # --- limits, routing, models ------------------------------------------------------------
    def test_body_larger_than_the_limit(self):
        self.assert_error(self.post("/predictions/digits", b"\0" * (self.LIMIT + 1), "image/png"), 413,
                          r"over the limit of 2000000 bytes")
        self.assert_error(self.post("/v2/models/tiny/infer", b"{" + b" " * (2 * self.LIMIT) + b"}"), 413, r".")

    def test_unknown_model(self):
        for method, path in (("POST", "/v2/models/nope/infer"), ("POST", "/predictions/nope"),
                             ("GET", "/v2/models/nope"), ("GET", "/v2/models/nope/ready"),
                             ("POST", "/v2/models/..%2F..%2Fetc%2Fpasswd/infer"),
                             ("POST", "/predictions/%2Ftmp%2Fx.pt")):
            body = json.dumps(fp32("x", [[1, 2, 3, 4]])).encode() if method == "POST" else None
            self.assert_error(self.server.request(method, path, body, {"Content-Type": "application/json"}),
                              404, r"no model named|no such endpoint")

    def test_model_whose_forward_throws(self):
        msg = self.assert_error(self.server.infer("failing", fp32("x", [[-1, 2, 3, 4]])), 500,
                                r"^model forward failed")
        self.assertIn("negative input", msg, "the model's own message should reach the client")

    def test_model_returning_a_non_tensor(self):
        self.assert_error(self.server.infer("none_out", fp32("x", [[1000, 2, 3, 4]])), 500,
                          r"returned None, expected a tensor")
        self.assert_error(self.server.infer("str_out", fp32("x", [[1000, 2, 3, 4]])), 500,
                          r"returned String, expected a tensor")
        # Batched with a good request, only the bad one fails.
        code, _, body = self.server.infer("none_out", fp32("x", [[1, 2, 3, 4]]))
        self.assertEqual(code, 200, body)

    def test_error_naming_a_server_file_is_scrubbed(self):
        msg = self.assert_error(self.server.infer("leaky", fp32("x", [[-1, 2, 3, 4]])), 500, r".")
        self.assertNotIn("weights.bin", msg.replace("<path>", ""), msg)


class ServeDeepJson(unittest.TestCase):
    """JSON nested a million deep is a few MB: it must be a 400, not a stack overflow. A server
    per test, so that a crash fails only its own test."""

    def setUp(self):
        self.server = Server(["--model", "digits=" + DIGITS_PT, "--model", os.path.join(MODELS, "tiny.pt"),
                              "--max-body-bytes", str(8 << 20)])

    def tearDown(self):
        self.server.kill()

    def check(self, path, body):
        try:
            code, _, data = self.server.request("POST", path, body, {"Content-Type": "application/json"})
        except (OSError, http.client.HTTPException) as e:
            self.fail(f"no answer ({e!r}); server exit status {self.server.proc.poll()}")
        self.assertEqual(code, 400, data[:300])
        self.assertIn("error", strict_json(data))
        self.assertEqual(self.server.request("GET", "/v2/health/live")[0], 200)

    def test_deep_tensor_data(self):
        d = 1_500_000
        self.check("/v2/models/tiny/infer", b'{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":'
                   + b"[" * d + b"]" * d + b"}]}")

    def test_deep_value_in_an_error_message(self):
        d = 1_000_000
        self.check("/v2/models/tiny/infer", b'{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":['
                   + b'{"a":' * d + b"1" + b"}" * d + b"]}]}")

    def test_deep_predictions_body(self):
        d = 1_500_000
        self.check("/predictions/digits", b'{"b64":' + b"[" * d + b"]" * d + b"}")


class ServeStartupRefusals(unittest.TestCase):
    def test_model_that_never_returns_a_tensor_is_refused_at_startup(self):
        r = subprocess.run([PTJS, "serve", "--port", "0", "--model", os.path.join(MODELS, "always_none.pt")],
                           capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 2, r.stderr.decode())
        self.assertRegex(r.stderr.decode(), r"model 'always_none'.*warm-up forward failed.*returned None")


if __name__ == "__main__":
    unittest.main()
