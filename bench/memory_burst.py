#!/usr/bin/env python3
"""Leaves N unredeemed authorization codes in a mockidp at BASE: logs in once (bob, no password)
at the iopole realm, then asks THREADS keep-alive connections for codes with that session.
usage: memory_burst.py BASE N [THREADS]   (loopback only; prints the number of codes made)"""
import http.client, re, sys, threading, urllib.parse

base, n = sys.argv[1], int(sys.argv[2])
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 4
u = urllib.parse.urlsplit(base)
assert u.hostname in ("127.0.0.1", "localhost"), "loopback only"
auth = ("/realms/iopole/protocol/openid-connect/auth?response_type=code&client_id=iopole-web"
        "&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcb&scope=openid&state=s")

def conn():
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30)

c = conn()
c.request("GET", auth)
r = c.getresponse()
page = r.read().decode()
cookies = "; ".join(h.split(";")[0] for k, h in r.getheaders() if k.lower() == "set-cookie")
action = urllib.parse.urlsplit(re.search(r'action="([^"]+)"', page).group(1).replace("&amp;", "&"))
login_id = re.search(r'name="login_id" value="([^"]+)"', page).group(1)
body = urllib.parse.urlencode({"login_id": login_id, "username": "bob"})
c.request("POST", action.path, body, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookies})
r = c.getresponse(); r.read()
assert r.status == 302, r.status
cookies = "; ".join([cookies] + [h.split(";")[0] for k, h in r.getheaders() if k.lower() == "set-cookie"])

made = [0] * threads
def worker(i):
    c = conn()
    for _ in range(n // threads + (1 if i < n % threads else 0)):
        c.request("GET", auth, headers={"Cookie": cookies})
        r = c.getresponse(); r.read()
        if r.status == 302 and "code=" in (r.getheader("Location") or ""):
            made[i] += 1
ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
[t.start() for t in ts]; [t.join() for t in ts]
print(sum(made))
