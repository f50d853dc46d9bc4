#!/usr/bin/env python3
"""Measure mockidp cold start: exec -> first HTTP 200 on the discovery URL.

usage: startup.py BIN BASE_PORT [STARTS=10] [REALM=iopole]
Start i uses port BASE_PORT+i (no TIME_WAIT/rebind effects between starts).
For each start: t0 = perf_counter(); Popen(BIN serve --port P); then poll
127.0.0.1:P with a raw-socket GET every ~0.2 ms until a "200" status line
comes back (max 5 s). The server is killed before the next start.
Prints one line per start, then "median_ms=<x> min_ms=<y> max_ms=<z>".
"""
import socket, statistics, subprocess, sys, time

bin_, base_port = sys.argv[1], int(sys.argv[2])
starts = int(sys.argv[3]) if len(sys.argv) > 3 else 10
realm = sys.argv[4] if len(sys.argv) > 4 else "iopole"


def probe(port):
    """True if the server answered 200 (connection refused -> False)."""
    req = (f"GET /realms/{realm}/.well-known/openid-configuration HTTP/1.1\r\n"
           f"Host: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").encode()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(req)
            return s.recv(16).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


times = []
for i in range(starts):
    port = base_port + i
    t0 = time.perf_counter()
    p = subprocess.Popen([bin_, "serve", "--port", str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ms = None
    while time.perf_counter() - t0 < 5.0 and p.poll() is None:
        if probe(port):
            ms = (time.perf_counter() - t0) * 1000
            break
        time.sleep(0.0002)
    early_exit = p.poll()  # not None -> server died by itself (e.g. port busy)
    p.kill()
    p.wait(timeout=5)
    print(f"start {i + 1}: " + (f"{ms:.2f} ms" if ms is not None else
          f"FAIL (server exit code {early_exit})"), flush=True)
    if ms is not None:
        times.append(ms)
    time.sleep(0.2)

if not times:
    print("median_ms=FAIL min_ms=FAIL max_ms=FAIL")
    sys.exit(1)
print(f"median_ms={statistics.median(times):.2f} min_ms={min(times):.2f} "
      f"max_ms={max(times):.2f} ok={len(times)}/{starts}")
