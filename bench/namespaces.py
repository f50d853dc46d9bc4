#!/usr/bin/env python3
"""Namespaces benchmark (issue 19): creation median, RSS with N namespaces of the default
fixtures, and a client-credentials token's p50/p99 with none and with N present.

usage: bench/namespaces.py [N]      (default 10000; env MOCKIDP_BIN, PORT=18280, TOKENS=2000)
Prints a markdown table on stdout; progress on stderr."""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
PORT = int(os.environ.get("PORT", "18280"))
TOKENS = int(os.environ.get("TOKENS", "2000"))
TOKEN = "/realms/iopole/protocol/openid-connect/token"
FORM = {"grant_type": "client_credentials", "client_id": "clientId", "client_secret": "clientSecret"}


def token_latencies(client, path):
    out = []
    for _ in range(TOKENS):
        t = time.perf_counter()
        status, _, _ = client.request("POST", path, form=FORM)
        out.append(time.perf_counter() - t)
        assert status == 200, status
    return out


def main():
    proc = lib.start(PORT, "--namespace-limit", str(N + 10), "--workers", "2")
    client = lib.Client(PORT)
    time.sleep(1)
    rss_empty = lib.rss_mb(proc.pid)
    print(f"# {TOKENS} tokens with no namespace", file=sys.stderr)
    before = token_latencies(client, TOKEN)
    print(f"# creating {N} namespaces", file=sys.stderr)
    create = []
    last = None
    for i in range(N):
        t = time.perf_counter()
        status, body = client.json("POST", "/_mockidp/namespaces")
        create.append(time.perf_counter() - t)
        assert status == 201, body
        last = body["id"]
    time.sleep(1)
    rss_full = lib.rss_mb(proc.pid)
    print(f"# {TOKENS} tokens with {N} namespaces (server's own issuer, then one namespace's)", file=sys.stderr)
    after = token_latencies(client, TOKEN)
    in_ns = token_latencies(client, f"/ns/{last}{TOKEN}")
    ms = lambda s: f"{s * 1000:.3f}"  # noqa: E731
    print(f"| namespaces | {N} |")
    print("|---|---|")
    print(f"| creation median / p99 (ms, one HTTP round trip each) | {ms(statistics.median(create))} / {ms(lib.percentile(create, 99))} |")
    print(f"| RSS idle, no namespace (MB) | {rss_empty:.1f} |")
    print(f"| RSS with {N} namespaces (MB) | {rss_full:.1f} ({(rss_full - rss_empty) * 1024 / max(N, 1):.1f} KB each) |")
    for name, lat in [("no namespace", before), (f"{N} namespaces", after), (f"{N} namespaces, in one", in_ns)]:
        print(f"| client_credentials p50 / p99 (ms), {name}, sequential | {ms(lib.percentile(lat, 50))} / {ms(lib.percentile(lat, 99))} |")


if __name__ == "__main__":
    main()
