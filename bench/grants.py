#!/usr/bin/env python3
"""Every grant measured (issue 19): answers per second of each token-endpoint grant, token
introspection and the protected resource, next to the RSA-2048 signatures each answer needs and
openssl's signing limit measured in the same run.

The driver is Python (standard library, THREADS keep-alive connections): at high rates it, not
mockidp, may be the limit; the client-credentials row measured with wrk in bench/run.sh is the
reference for the server alone. Codes and approved device codes are made before the clock
starts (authorization code through an `auto_login` client, device codes approved through the
admin API), so each row times one request per answer.

usage: bench/grants.py        env: MOCKIDP_BIN, PORT=18380, DUR=3 (s per grant), THREADS=4,
                                   POOL=300 (codes per thread for the single-use grants)"""

import os
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

PORT = int(os.environ.get("PORT", "18380"))
DUR = float(os.environ.get("DUR", "3"))
THREADS = int(os.environ.get("THREADS", "4"))
POOL = int(os.environ.get("POOL", "300"))
KC = "/realms/iopole/protocol/openid-connect"
DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
TE = "urn:ietf:params:oauth:grant-type:token-exchange"
AT = "urn:ietf:params:oauth:token-type:access_token"
CB = "http://localhost:8080/cb"
# A namespace with Keycloak's standard token exchange (a same-realm gateway and backend).
EXCHANGE_FIXTURES = """
[[issuer]]
name = "kc"
dialect = "keycloak"
[[issuer.client]]
id = "gateway"
secret = "gw"
grants = ["client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"]
[[issuer.client]]
id = "backend"
secret = "be"
grants = ["client_credentials"]
"""


def ok(status, body=None):
    assert status == 200, (status, body)


def timed(make_request):
    """Answers/s of `make_request(client)` from THREADS connections for DUR seconds."""
    counts = [0] * THREADS
    stop = time.perf_counter() + DUR

    def worker(i):
        c = lib.Client(PORT)
        while time.perf_counter() < stop:
            make_request(c)
            counts[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return sum(counts) / (time.perf_counter() - t)


def pooled(prepare, redeem):
    """Answers/s of redeeming single-use values made beforehand (`prepare` gives one)."""
    setup = lib.Client(PORT)
    pools = [[prepare(setup) for _ in range(POOL)] for _ in range(THREADS)]

    def worker(i):
        c = lib.Client(PORT)
        for v in pools[i]:
            redeem(c, v)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return POOL * THREADS / (time.perf_counter() - t)


def main():
    proc = lib.start(PORT, "--workers", "2")
    c = lib.Client(PORT)
    # An auto_login client: authorize answers with a code, no page.
    status, _ = c.json("PUT", "/_mockidp/issuers/iopole/clients/bench-web", body={
        "secret": "s", "grants": ["authorization_code", "refresh_token"], "auto_login": True,
        "redirect_uris": [CB], "scopes": ["openid", "profile", "email"]})
    assert status in (200, 201), status
    status, ns = c.json("POST", "/_mockidp/namespaces", body={"fixtures": EXCHANGE_FIXTURES})
    assert status == 201, ns
    kc_ns = urllib.parse.urlparse(ns["issuers"]["kc"]).path + "/protocol/openid-connect"
    cc = {"grant_type": "client_credentials", "client_id": "clientId", "client_secret": "clientSecret"}
    password = {"grant_type": "password", "client_id": "iopole-web", "client_secret": "iopole-web-secret",
                "username": "alice", "password": "alice", "scope": "openid"}
    status, tokens = c.json("POST", f"{KC}/token", form=password)
    ok(status, tokens)
    refresh = {"grant_type": "refresh_token", "client_id": "iopole-web",
               "client_secret": "iopole-web-secret", "refresh_token": tokens["refresh_token"]}
    access = tokens["access_token"]
    introspect = {"token": access, "client_id": "iopole-web", "client_secret": "iopole-web-secret"}
    status, gw = c.json("POST", f"{kc_ns}/token",
                        form={"grant_type": "client_credentials", "client_id": "gateway", "client_secret": "gw"})
    ok(status, gw)
    exchange = {"grant_type": TE, "client_id": "gateway", "client_secret": "gw",
                "subject_token": gw["access_token"], "subject_token_type": AT, "audience": "backend"}
    status, gen = c.json("POST", "/token/", form={"grant_type": "client_credentials"},
                         headers={"Authorization": "Basic Z2VuZXJpYy1jb25maWRlbnRpYWw6Z2VuZXJpYy1jb25maWRlbnRpYWwtc2VjcmV0"})
    ok(status, gen)
    resource_token = gen["access_token"]

    def post(path, form):
        return lambda client: ok(*client.json("POST", path, form=form))

    def new_code(client):
        q = urllib.parse.urlencode({"response_type": "code", "client_id": "bench-web", "redirect_uri": CB,
                                    "scope": "openid", "login_hint": "alice"})
        status, _, location = client.request("GET", f"{KC}/auth?{q}")
        assert status == 302, status
        return urllib.parse.parse_qs(urllib.parse.urlparse(location).query)["code"][0]

    def redeem_code(client, code):
        ok(*client.json("POST", f"{KC}/token", form={
            "grant_type": "authorization_code", "client_id": "bench-web", "client_secret": "s",
            "code": code, "redirect_uri": CB}))

    def new_device(client):
        status, d = client.json("POST", f"{KC}/auth/device", form={"client_id": "iopole-device", "scope": "openid"})
        ok(status, d)
        status, _ = client.json("POST", f"/_mockidp/issuers/iopole/device/{d['user_code']}",
                                body={"action": "approve", "username": "alice"})
        assert status == 204, status
        return d["device_code"]

    def redeem_device(client, device_code):
        ok(*client.json("POST", f"{KC}/token", form={
            "grant_type": DEVICE, "client_id": "iopole-device", "device_code": device_code}))

    rows = [
        ("client_credentials (Keycloak)", 1, timed(post(f"{KC}/token", cc))),
        ("password, scope openid (access + ID token)", 2, timed(post(f"{KC}/token", password))),
        ("refresh_token, scope openid (access + ID token; refresh is HS512)", 2, timed(post(f"{KC}/token", refresh))),
        ("authorization_code (auto_login session), openid", 2, pooled(new_code, redeem_code)),
        ("device_code (approved through the admin API), openid", 2, pooled(new_device, redeem_device)),
        ("token exchange (Keycloak standard, in a namespace)", 1, timed(post(f"{kc_ns}/token", exchange))),
        ("introspection (Keycloak, a JWT verified)", 0, timed(post(f"{KC}/token/introspect", introspect))),
        ("protected resource (generic /resource/)", 0,
         timed(lambda client: ok(client.request("GET", "/resource/", headers={"Authorization": resource_token})[0]))),
    ]
    one = lib.openssl_sign_per_s(3)
    two = lib.openssl_sign_per_s(3, multi=2)
    print(f"| grant ({THREADS} Python connections, {DUR:.0f} s each) | answers/s | RSA signatures per answer | signatures/s | share of openssl -multi 2 |")
    print("|---|---|---|---|---|")
    for name, sigs, rate in rows:
        share = f"{rate * sigs / two * 100:.0f} %" if sigs else "n/a"
        print(f"| {name} | {rate:.0f} | {sigs} | {rate * sigs:.0f} | {share} |")
    print(f"\nopenssl speed rsa2048 sign/s in the same run: {one:.0f} (1 process), {two:.0f} (-multi 2). "
          f"mockidp RSS after: {lib.rss_mb(proc.pid):.1f} MB.")


if __name__ == "__main__":
    main()
