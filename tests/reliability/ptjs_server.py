"""A real `ptjs serve` on a free loopback port, for the reliability tests and scripts/soak.sh.

Server(args) starts `ptjs serve --port 0 ARGS...`, reads its stderr in a thread, and waits for
"listening on http://127.0.0.1:PORT" and "ready (". request() is one HTTP/1.1 exchange on a new
connection (http.client); raw() opens a plain socket for clients that misbehave on purpose.
Every wait here is bounded.
"""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

PTJS = os.environ.get("PTJS_BIN", "ptjs")


class Server:
    def __init__(self, args, env=None, ready_timeout=120, wait_ready=True):
        full_env = {k: v for k, v in os.environ.items() if k != "PTJS_API_KEY"}
        full_env.update(env or {})
        self.proc = subprocess.Popen([PTJS, "serve", "--port", "0", *args], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=full_env)
        self.lines = []
        self._cv = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.port = None
        self.host = "127.0.0.1"
        m = self.wait_for(r"listening on https?://(\S+):(\d+)", ready_timeout)
        if not m:
            self.kill()
            raise RuntimeError("ptjs serve did not start:\n" + self.stderr())
        self.port = int(m.group(2))
        if wait_ready and not self.wait_for(r"ptjs serve: ready \(", ready_timeout):
            self.kill()
            raise RuntimeError("ptjs serve did not get ready:\n" + self.stderr())

    def _read(self):
        for raw in self.proc.stderr:
            with self._cv:
                self.lines.append(raw.decode("utf-8", "replace"))
                self._cv.notify_all()
        with self._cv:
            self._cv.notify_all()

    def wait_for(self, pattern, timeout):
        """The first stderr line matching `pattern` (a regex match), or None after `timeout` s."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                for line in self.lines:
                    m = rx.search(line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    return None
                self._cv.wait(min(left, 0.2))

    def stderr(self):
        with self._cv:
            return "".join(self.lines)

    def request(self, method, path, body=None, headers=None, timeout=60):
        """(status, headers dict with lower-case names, body bytes)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            res = conn.getresponse()
            return res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()
        finally:
            conn.close()

    def infer(self, model, doc, timeout=60):
        return self.request("POST", f"/v2/models/{model}/infer", json.dumps(doc).encode(),
                            {"Content-Type": "application/json"}, timeout)

    def raw(self, timeout=10):
        s = socket.create_connection((self.host, self.port), timeout=timeout)
        s.settimeout(timeout)
        return s

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def terminate(self, timeout=60):
        """SIGTERM, then the exit code (None if it did not exit within `timeout`)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        self._reader.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()


def read_to_end(sock):
    """What `sock` receives until the server closes it, resets it, or its timeout passes."""
    got = b""
    while True:
        try:
            chunk = sock.recv(4096)
        except OSError:  # socket.timeout and resets included
            return got
        if not chunk:
            return got
        got += chunk


def fp32(name, rows):
    """A v2 request with one FP32 input of shape [len(rows), len(rows[0])]."""
    return {"inputs": [{"name": name, "shape": [len(rows), len(rows[0])], "datatype": "FP32", "data": rows}]}


def strict_json(data):
    """json.loads that refuses NaN / Infinity (what JSON.parse in Node and browsers refuse)."""
    def refuse(token):
        raise ValueError(f"{token} is not JSON")
    return json.loads(data, parse_constant=refuse)
