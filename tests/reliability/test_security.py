#!/usr/bin/python3
"""Security properties of `ptjs serve` (docs/reliability.md, "Security"): loopback by default,
the API key on every endpoint but health, no endpoint that loads a model, model names matched
against the loaded ones only, default limits in force.

Environment (set by tests/reliability/CMakeLists.txt): PTJS_BIN, PTJS_SOURCE_DIR, PTJS_GEN_DIR.
"""
import io
import json
import os
import unittest
import urllib.parse
import zlib

from PIL import Image

from ptjs_server import Server, fp32, strict_json

SRC = os.environ["PTJS_SOURCE_DIR"]
GEN = os.path.join(os.environ["PTJS_GEN_DIR"], "reliability")
MODELS = os.path.join(GEN, "models")
DIGITS_PT = os.path.join(SRC, "configs", "digits", "model.pt")
KEY = "s3cret-key-0123456789"
# Open without the key: health (probes carry no secrets), and the page at GET / with its files,
# which are static: what the page shows comes from calls that need the key.
OPEN = {("GET", "/v2/health/live"), ("GET", "/v2/health/ready"), ("GET", "/ping"), ("GET", "/"), ("GET", "/ui/{asset}")}


def listening_addresses(port):
    """Local addresses of the sockets listening on `port`, from /proc/net/tcp and tcp6."""
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.readlines()[1:]
        except OSError:
            continue
        for row in rows:
            local, state = row.split()[1], row.split()[3]
            addr, p = local.split(":")
            if state == "0A" and int(p, 16) == port:  # 0A: LISTEN
                out.append(addr)
    return out


class Defaults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # No --host, no limit flags: what a user gets by default.
        cls.server = Server(["--model", "digits=" + DIGITS_PT, "--model", os.path.join(MODELS, "tiny.pt")])

    @classmethod
    def tearDownClass(cls):
        cls.server.kill()

    def test_binds_loopback_only(self):
        addrs = listening_addresses(self.server.port)
        self.assertEqual(addrs, ["0100007F"], f"listening on {addrs} (0100007F is 127.0.0.1)")

    def test_loopback_without_a_key_gives_no_warning(self):
        self.assertNotIn("warning", self.server.stderr())

    def test_default_body_limit_is_64_mib(self):
        code, _, body = self.server.request("POST", "/predictions/digits", b"\0" * ((64 << 20) + 1),
                                            {"Content-Type": "image/png"})
        self.assertEqual(code, 413, body)
        self.assertIn("over the limit of 67108864 bytes", strict_json(body)["error"])

    def test_default_pixel_limit_is_40_million(self):
        buf = io.BytesIO()
        Image.new("L", (6400, 6400)).save(buf, "PNG")  # 40,960,000 pixels, 40 KB
        code, _, body = self.server.request("POST", "/predictions/digits", buf.getvalue(), {"Content-Type": "image/png"})
        self.assertEqual(code, 413, body)
        self.assertRegex(strict_json(body)["error"], r"over the limit of 40000000 pixels")

    def test_compressed_body_limit_applies_to_the_decompressed_bytes(self):
        # cpp-httplib inflates Content-Encoding gzip/deflate bodies: a 1 MB gzip of 1 GiB of
        # zeros must stop at the body limit, not in memory.
        # Built from one fully flushed 1 MiB block repeated (cheap to make; the trailer's CRC is
        # wrong, which the server never gets to).
        mib = b"\0" * (1 << 20)
        co = zlib.compressobj(9, zlib.DEFLATED, 31)
        head = co.compress(mib) + co.flush(zlib.Z_FULL_FLUSH)
        block = co.compress(mib) + co.flush(zlib.Z_FULL_FLUSH)
        bomb = head + block * 1023 + co.flush()
        before = self.server.rss_kb()
        code, _, body = self.server.request("POST", "/predictions/digits", bomb,
                                            {"Content-Type": "image/png", "Content-Encoding": "gzip"})
        self.assertEqual(code, 413, body)
        self.assertLess(self.server.rss_kb() - before, 256 << 10, "the server inflated the bomb in memory")

    def test_long_uri_and_header_lines_are_refused(self):
        code, _, _ = self.server.request("GET", "/v2/models/" + "a" * 9000)
        self.assertEqual(code, 414)
        code, _, _ = self.server.request("GET", "/v2/health/live", headers={"X-Long": "a" * 9000})
        self.assertEqual(code, 400)
        self.assertEqual(self.server.request("GET", "/v2/health/live")[0], 200)


class ApiKey(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(["--model", "digits=" + DIGITS_PT, "--model", os.path.join(MODELS, "tiny.pt")],
                            env={"PTJS_API_KEY": KEY})
        code, _, body = cls.server.request("GET", "/openapi.json", headers={"Authorization": "Bearer " + KEY})
        assert code == 200, body
        doc = strict_json(body)
        cls.routes = [(m.upper(), p) for p, ops in doc["paths"].items() for m in ops if m in ("get", "post", "put")]

    @classmethod
    def tearDownClass(cls):
        cls.server.kill()

    def call(self, method, template, auth):
        path = (template.replace("{model}", "digits").replace("{model_name}", "digits").replace("{version}", "1")
                .replace("{asset}", "app.js"))
        body = None
        if method in ("POST", "PUT"):
            body = json.dumps(fp32("x", [[1, 2, 3, 4]])).encode()
        headers = {"Content-Type": "application/json"}
        if auth is not None:
            headers["Authorization"] = auth
        return self.server.request(method, path, body, headers)

    def test_every_endpoint_but_health_needs_the_key(self):
        self.assertGreaterEqual(len(self.routes), 10, self.routes)
        wrong = ["Bearer " + KEY[:-1] + "x", "Bearer " + KEY[:-1], "Bearer " + KEY + "x", "Bearer ",
                 "Basic " + KEY, KEY, "Bearer  " + KEY, "Bearer " + KEY.upper()]
        for method, path in self.routes:
            if (method, path) in OPEN:
                code, _, body = self.call(method, path, None)
                self.assertNotEqual(code, 401, (method, path))
                continue
            for auth in [None] + wrong:
                code, headers, body = self.call(method, path, auth)
                self.assertEqual(code, 401, (method, path, auth, body[:200]))
                self.assertIn("error", strict_json(body))
                self.assertNotIn(KEY, body.decode("utf-8", "replace"))
            for auth in ("Bearer " + KEY, "bearer " + KEY):
                code, _, body = self.call(method, path, auth)
                self.assertNotEqual(code, 401, (method, path, auth))

    def test_key_in_the_query_string_is_not_a_key(self):
        code, _, _ = self.server.request("GET", "/v2/models/digits?api_key=" + KEY)
        self.assertEqual(code, 401)


class NoModelLoading(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(["--model", "digits=" + DIGITS_PT])

    @classmethod
    def tearDownClass(cls):
        cls.server.kill()

    def test_only_the_documented_endpoints_exist(self):
        doc = strict_json(self.server.request("GET", "/openapi.json")[2])
        self.assertEqual(set(doc["paths"]), {
            "/v2/health/live", "/v2/health/ready", "/v2", "/v2/models/{model}", "/v2/models/{model}/ready",
            "/v2/models/{model}/infer", "/v2/models/{model}/versions/{version}",
            "/v2/models/{model}/versions/{version}/ready", "/v2/models/{model}/versions/{version}/infer",
            "/predictions/{model}", "/predictions/{model}/{version}", "/ping", "/metrics", "/openapi.json",
            "/v2/models/{model}/config", "/v2/repository/index", "/", "/ui/{asset}"})

    def test_model_repository_and_management_endpoints_do_not_exist(self):
        # Triton's repository index is read-only (the names and states of the models given at
        # start-up, behind the key); its load and unload are not served, nor TorchServe's.
        tiny = os.path.join(MODELS, "tiny.pt")
        for method, path, body in (
                ("POST", "/v2/repository/models/tiny/load", b"{}"),
                ("POST", "/v2/repository/models/digits/unload", b"{}"),
                ("POST", "/models?url=" + urllib.parse.quote(tiny) + "&model_name=tiny", b""),
                ("POST", "/models?url=http://127.0.0.1:1/x.mar", b""),
                ("PUT", "/models/tiny", b""),
                ("DELETE", "/models/digits", b"")):
            code, _, data = self.server.request(method, path, body, {"Content-Type": "application/json"})
            self.assertIn(code, (404, 405), (method, path, data[:200]))

    def test_model_names_are_matched_against_loaded_names_only(self):
        tiny = os.path.join(MODELS, "tiny.pt")
        for name in (urllib.parse.quote(tiny, safe=""), urllib.parse.quote("../digits", safe=""), "DIGITS",
                     "digits%00", "digits%20", "digits.pt", urllib.parse.quote(DIGITS_PT, safe=""), "tiny"):
            code, _, data = self.server.request("POST", f"/v2/models/{name}/infer",
                                                json.dumps(fp32("x", [[1, 2, 3, 4]])).encode(),
                                                {"Content-Type": "application/json"})
            self.assertEqual(code, 404, (name, data[:200]))
            self.assertNotIn(SRC, data.decode("utf-8", "replace"))
        # Nothing was loaded on the way.
        metrics = self.server.request("GET", "/metrics")[2].decode()
        self.assertNotIn('model="tiny"', metrics)
        self.assertEqual(self.server.request("GET", "/v2/models/digits")[0], 200)


if __name__ == "__main__":
    unittest.main()


class ExposedWithoutKey(unittest.TestCase):
    """Bound to every address without an API key, the server says at start-up who can then run
    the models; with a key it does not."""

    def test_warns_without_key_only(self):
        with Server(["--host", "0.0.0.0", "--model", "digits=" + DIGITS_PT]) as s:
            err = s.stderr()
        self.assertIn("warning: listening on 0.0.0.0 without an API key: anyone who can reach this address "
                      "can run the models", err)
        with Server(["--host", "0.0.0.0", "--model", "digits=" + DIGITS_PT], env={"PTJS_API_KEY": KEY}) as s:
            err = s.stderr()
        self.assertNotIn("warning", err)
