"""Shared helpers of the Python benchmarks: start a mockidp binary on a loopback port, speak
HTTP/1.1 keep-alive to it with the standard library only, read its RSS. Only 127.0.0.1 is used;
the server is killed on exit."""

import atexit
import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def binary():
    """MOCKIDP_BIN, else target/release/mockidp (built when missing)."""
    path = os.environ.get("MOCKIDP_BIN", os.path.join(ROOT, "target/release/mockidp"))
    if not os.path.exists(path):
        print(f"# building {path}", file=sys.stderr)
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
    return path


def start(port, *args, env=None):
    """Starts the server and waits (at most 30 s) for its health check."""
    proc = subprocess.Popen(
        [binary(), "--port", str(port), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "RUST_LOG": "warn", **(env or {})},
    )
    atexit.register(lambda: (proc.kill(), proc.wait()))
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if Client(port).request("GET", "/_mockidp/health")[0] == 200:
                return proc
        except OSError:
            time.sleep(0.05)
    raise SystemExit("mockidp did not start within 30 s")


class Client:
    """One keep-alive connection."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method, path, form=None, body=None, headers=None):
        headers = dict(headers or {})
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=body, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        return resp.status, data, resp.getheader("Location")

    def json(self, method, path, **kw):
        status, data, _ = self.request(method, path, **kw)
        return status, (json.loads(data) if data else None)


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def openssl_sign_per_s(seconds=3, multi=None):
    """openssl speed rsa2048 sign/s (one process, or -multi N)."""
    cmd = ["openssl", "speed", "-seconds", str(seconds)]
    if multi:
        cmd += ["-multi", str(multi)]
    out = subprocess.run(cmd + ["rsa2048"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("rsa 2048") or line.startswith("rsa2048"):
            parts = line.split()
            # "rsa 2048 bits 0.000600s 0.000017s 1666.7 58823.5": sign/s is the 5th from the left
            nums = [p for p in parts if p.replace(".", "", 1).isdigit()]
            return float(nums[-2])
    return float("nan")
