"""python-keycloak against mockidp's iopole realm: what a test suite does to get a user's token
from Keycloak without a browser. Run by tests/it/python.rs with the server's base URL:

    target/ci/py-venv/bin/python tests/py/keycloak_password.py http://127.0.0.1:PORT

Every step asserts; the first failure exits non-zero with its traceback.
"""

import sys

import requests
from jwcrypto import jwk
from keycloak import KeycloakOpenID
from keycloak.exceptions import KeycloakError

BASE = sys.argv[1].rstrip("/")
REALM = "iopole"


def client(client_id, secret):
    return KeycloakOpenID(
        server_url=BASE + "/",
        realm_name=REALM,
        client_id=client_id,
        client_secret_key=secret,
    )


def refused(call):
    """The KeycloakError a call raises (it must raise one)."""
    try:
        call()
    except KeycloakError as e:
        return e
    raise AssertionError("the call was expected to fail")


def words(error):
    body = error.error_message
    return body.decode() if isinstance(body, bytes) else str(body)


def advance_clock(seconds):
    r = requests.post(f"{BASE}/_mockidp/clock", json={"advance_secs": seconds}, timeout=10)
    assert r.status_code == 200, r.text


web = client("iopole-web", "iopole-web-secret")

# Password token with openid: access, refresh and ID token.
token = web.token("alice", "alice", scope="openid profile email")
assert token["token_type"] == "Bearer", token
assert token["refresh_token"] and token["id_token"], token
assert token["session_state"], token

# Decoded and verified with the realm's keys: from the JWKS and from the realm's public_key.
claims = web.decode_token(token["access_token"])
assert claims["preferred_username"] == "alice", claims
assert claims["jti"].startswith("onrtro:"), claims["jti"]
assert claims["sid"] == token["session_state"], claims
pem = "-----BEGIN PUBLIC KEY-----\n" + web.public_key() + "\n-----END PUBLIC KEY-----"
realm_key = jwk.JWK.from_pem(pem.encode())
assert web.decode_token(token["access_token"], key=realm_key)["sub"] == claims["sub"]
id_claims = web.decode_token(token["id_token"])
assert id_claims["aud"] == "iopole-web" and id_claims["typ"] == "ID", id_claims
print("password token: OK")

# Refresh, userinfo, introspection.
refreshed = web.refresh_token(token["refresh_token"])
assert web.decode_token(refreshed["access_token"])["jti"].startswith("onrtrt:")
info = web.userinfo(refreshed["access_token"])
assert info["preferred_username"] == "alice" and info["email"] == "alice@example.test", info
introspected = web.introspect(refreshed["access_token"])
assert introspected["active"] is True and introspected["username"] == "alice", introspected
print("refresh, userinfo, introspect: OK")

# Wrong password and unknown user, in Keycloak's words.
e = refused(lambda: web.token("alice", "wrong"))
assert e.response_code == 401 and "Invalid user credentials" in words(e), (e.response_code, words(e))
e = refused(lambda: web.token("nobody", "x"))
assert e.response_code == 400 and "Invalid user credentials" in words(e), (e.response_code, words(e))
e = refused(lambda: web.token("carol", "carol"))
assert e.response_code == 400 and "Account disabled" in words(e), (e.response_code, words(e))
e = refused(lambda: client("clientId", "clientSecret").token("alice", "alice"))
assert "Client not allowed for direct access grants" in words(e), words(e)
e = refused(lambda: client("iopole-web", "not-the-secret").token("alice", "alice"))
assert e.response_code == 401 and "Invalid client or Invalid client credentials" in words(e)
print("refusals: OK")

# Logout ends the session: its refresh token is refused with "Session not active".
web.logout(refreshed["refresh_token"])
e = refused(lambda: web.refresh_token(refreshed["refresh_token"]))
assert e.response_code == 400 and "Session not active" in words(e), (e.response_code, words(e))
print("refresh after logout: OK")

# An expired refresh token (SSO Session Idle, 30 minutes): "Token is not active".
later = web.token("alice", "alice")
advance_clock(1801)
e = refused(lambda: web.refresh_token(later["refresh_token"]))
assert e.response_code == 400 and "Token is not active" in words(e), (e.response_code, words(e))
print("refresh after expiry: OK")

# A client-credentials token's userinfo: the service-account user.
service = client("clientId", "clientSecret")
cc = service.token(grant_type="client_credentials", scope="openid")
assert service.decode_token(cc["access_token"])["jti"].startswith("trrtcc:")
info = service.userinfo(cc["access_token"])
assert info["preferred_username"] == "service-account-clientid", info
print("service-account userinfo: OK")
