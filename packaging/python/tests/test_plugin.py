"""The mockidp wheel as a user's suite sees it: the ``mockidp`` fixture with requests and
authlib (OAuth2Session for the flows; joserfc, authlib's JOSE library, for verification)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError
from joserfc.jwk import KeySet

import mockidp as mockidp_module
from mockidp import MockIdp, MockIdpError

HERE = Path(__file__).parent


def token_endpoint(idp: MockIdp) -> str:
    return f"{idp.issuer_url('shop')}/protocol/openid-connect/token"


def verify(idp: MockIdp, token: str, issuer: str = "shop") -> Dict[str, Any]:
    """Checks the signature against the issuer's published JWKS, then iss and exp."""
    discovery = requests.get(f"{idp.issuer_url(issuer)}/.well-known/openid-configuration").json()
    keys = KeySet.import_key_set(requests.get(discovery["jwks_uri"]).json())
    decoded = jwt.decode(token, keys, algorithms=["RS256"])
    registry = jwt.JWTClaimsRegistry(
        now=idp.now(), iss={"essential": True, "value": idp.issuer_url(issuer)}
    )
    registry.validate(decoded.claims)
    return dict(decoded.claims)


def authlib_client_credentials(idp: MockIdp) -> Dict[str, Any]:
    session = OAuth2Session("shop-backend", "shop-backend-secret", scope="orders")
    return dict(session.fetch_token(token_endpoint(idp), grant_type="client_credentials"))


def test_the_binary_is_on_path():
    binary = shutil.which("mockidp")
    assert binary is not None
    assert Path(binary).parent == Path(sys.executable).parent  # the venv's bin/, from the wheel
    checked = subprocess.run([binary, "check", str(HERE / "idp.toml")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert mockidp_module.find_binary() == binary


def test_fixture_file_comes_from_pytest_ini(mockidp: MockIdp):
    assert [i["name"] for i in mockidp.issuers] == ["shop"]
    assert mockidp.issuer_url("shop") == f"{mockidp.url}/realms/shop"
    with pytest.raises(MockIdpError, match="no issuer 'iopole'"):
        mockidp.issuer_url("iopole")


def test_authlib_client_credentials_token_verifies(mockidp: MockIdp):
    token = authlib_client_credentials(mockidp)
    assert token["token_type"].lower() == "bearer"
    claims = verify(mockidp, token["access_token"])
    assert claims["azp"] == "shop-backend"
    assert "orders" in claims["scope"].split()
    assert "order-reader" in claims["realm_access"]["roles"]


def test_minted_user_token_carries_the_claims(mockidp: MockIdp):
    token = mockidp.token("shop-backend", user="alice", claims={"tenant": "acme"}, ttl=60)
    claims = verify(mockidp, token)
    assert claims["preferred_username"] == "alice"
    assert claims["tenant"] == "acme"
    assert claims["exp"] - claims["iat"] == 60


def test_override_changes_the_next_token_only(mockidp: MockIdp):
    mockidp.override({"tenant": "other", "azp": None}, client_id="shop-backend")
    first = verify(mockidp, authlib_client_credentials(mockidp)["access_token"])
    second = verify(mockidp, authlib_client_credentials(mockidp)["access_token"])
    assert first["tenant"] == "other" and "azp" not in first
    assert "tenant" not in second and second["azp"] == "shop-backend"


def test_defects_break_verification(mockidp: MockIdp):
    mockidp.defect("expired")
    with pytest.raises(ExpiredTokenError):
        verify(mockidp, authlib_client_credentials(mockidp)["access_token"])
    mockidp.defect("bad_signature")
    with pytest.raises(BadSignatureError):
        verify(mockidp, authlib_client_credentials(mockidp)["access_token"])


def test_failures_reach_the_client(mockidp: MockIdp):
    mockidp.fail("token", status=503, error="temporarily_unavailable", count=1)
    resp = requests.post(
        token_endpoint(mockidp),
        data={"grant_type": "client_credentials"},
        auth=("shop-backend", "shop-backend-secret"),
    )
    assert resp.status_code == 503
    assert resp.json()["error"] == "temporarily_unavailable"
    assert authlib_client_credentials(mockidp)["access_token"]  # count=1: the next one works


def test_clock_expires_tokens_without_sleeping(mockidp: MockIdp):
    token = authlib_client_credentials(mockidp)["access_token"]
    verify(mockidp, token)
    before = mockidp.now()
    assert mockidp.advance_clock(3600) >= before + 3600
    with pytest.raises(ExpiredTokenError):
        verify(mockidp, token)


def test_journal_records_requests_without_secrets(mockidp: MockIdp):
    authlib_client_credentials(mockidp)
    requests.post(
        token_endpoint(mockidp),
        data={"grant_type": "client_credentials"},
        auth=("shop-backend", "wrong-secret"),
    )
    entries = mockidp.journal(client_id="shop-backend", grant_type="client_credentials")
    # Keycloak's answer to a wrong secret: 401 unauthorized_client.
    assert [e["outcome"] for e in entries] == ["ok", "unauthorized_client"]
    assert "secret" not in str(entries)
    mockidp.clear_journal()
    assert mockidp.journal() == []


def test_reset_forgets_rules_and_runtime_clients(mockidp: MockIdp):
    mockidp.put_client(
        "shop", {"id": "late", "secret": "late-secret", "grants": ["client_credentials"]}
    )
    assert "late" in mockidp.issuers[0]["clients"]
    mockidp.fail("token", status=500, count=5)
    mockidp.reset()
    assert "late" not in mockidp.issuers[0]["clients"]
    assert authlib_client_credentials(mockidp)["access_token"]


def test_each_test_starts_from_the_fixtures_a(mockidp: MockIdp):
    """With _b: whichever runs second sees no rule, clock or journal left by the other."""
    assert mockidp.journal() == [] and mockidp.admin("GET", "/clock")["offset_secs"] == 0
    mockidp.fail("token", status=500, count=10)
    mockidp.advance_clock(100)


def test_each_test_starts_from_the_fixtures_b(mockidp: MockIdp):
    assert mockidp.journal() == [] and mockidp.admin("GET", "/clock")["offset_secs"] == 0
    mockidp.fail("token", status=500, count=10)
    mockidp.advance_clock(100)


def test_admin_errors_are_explained(mockidp: MockIdp):
    with pytest.raises(MockIdpError, match="HTTP 400"):
        mockidp.defect("no_such_defect")


@pytest.mark.mockidp(fixtures=None)
def test_marker_gives_a_server_of_its_own(mockidp: MockIdp, mockidp_session: MockIdp):
    assert mockidp.url != mockidp_session.url
    assert mockidp.issuer_url("iopole") == f"{mockidp.url}/realms/iopole"  # built-in fixtures
    token = mockidp.token("clientId")
    assert verify(mockidp, token, "iopole")["azp"] == "clientId"


def test_own_server_with_an_admin_token():
    with MockIdp.start(admin_token="t0ken") as idp:
        assert idp.token("clientId", issuer="iopole")
        unauthorized = requests.post(f"{idp.url}/_mockidp/reset", json={})
        assert unauthorized.status_code == 401
        assert "ready" in idp.log()
    assert not idp.running
    assert not idp.log_path.exists()  # stop() removes the log


def test_a_server_that_cannot_start_says_why(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[issuer]]\nname = "x"\ndialect = "nope"\n')
    with pytest.raises(MockIdpError, match="before it was ready") as refused:
        MockIdp.start(bad)
    assert "nope" in str(refused.value)


def test_a_failing_test_report_carries_the_server_log(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import requests

        def test_wrong_secret(mockidp):
            issuer = mockidp.issuer_url("iopole")
            resp = requests.post(
                f"{issuer}/protocol/openid-connect/token",
                data={"grant_type": "client_credentials", "client_id": "clientId",
                      "client_secret": "not-the-secret-xyz"},
            )
            assert resp.status_code == 200

        def test_passing(mockidp):
            assert mockidp.url
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    assert "mockidp server log" in out
    # The section follows the traceback (which quotes the test's source, secret included).
    section = out.split("mockidp server log", 1)[1].split("short test summary")[0]
    assert "clientId" in section and "invalid_client" in section
    assert "not-the-secret-xyz" not in section
    assert out.count("mockidp server log") == 1  # only the failing test's report


def test_namespaces_of_one_server_are_isolated(mockidp_session: MockIdp):
    """Two tests in parallel on one server, each in a namespace: their clock moves, queued
    failures and replaced clients stay their own (threads run them at the same time)."""
    import threading

    with mockidp_session.namespace() as a, mockidp_session.namespace(id="worker-b") as b:
        assert b.id == "worker-b" and b.url == f"{mockidp_session.url}/ns/worker-b"
        assert a.issuer_url("shop") == f"{a.url}/realms/shop"
        errors = []

        def meddle(ns, seconds: int) -> None:
            try:
                ns.advance_clock(seconds)
                ns.fail("token", status=503, error="temporarily_unavailable", count=1)
                ns.put_client("shop", {"id": f"only-{ns.id}", "secret": "s", "grants": ["client_credentials"]})
            except Exception as e:  # reported below: a thread's exception would be lost
                errors.append(e)

        threads = [threading.Thread(target=meddle, args=(ns, s)) for ns, s in ((a, 1000), (b, 5000))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert a.admin("GET", "/clock")["offset_secs"] == 1000
        assert b.admin("GET", "/clock")["offset_secs"] == 5000
        assert mockidp_session.admin("GET", "/clock")["offset_secs"] == 0
        clients = {ns.id: ns.issuers[0]["clients"] for ns in (a, b)}
        assert f"only-{a.id}" in clients[a.id] and f"only-{a.id}" not in clients[b.id]
        assert "only-worker-b" not in mockidp_session.issuers[0]["clients"]
        # Each namespace's queued failure hits its own token endpoint once, not the server's.
        url = f"{a.issuer_url('shop')}/protocol/openid-connect/token"
        form = {"grant_type": "client_credentials"}
        assert requests.post(url, data=form, auth=("shop-backend", "shop-backend-secret")).status_code == 503
        session = OAuth2Session("shop-backend", "shop-backend-secret")
        plain = session.fetch_token(token_endpoint(mockidp_session), grant_type="client_credentials")
        assert verify(mockidp_session, plain["access_token"])["iss"] == mockidp_session.issuer_url("shop")
        # A namespace's token names the namespace's issuer.
        certs = requests.get(f"{a.issuer_url('shop')}/protocol/openid-connect/certs").json()
        token = jwt.decode(a.token("shop-backend", user="alice"), KeySet.import_key_set(certs))
        assert token.claims["iss"] == a.issuer_url("shop")
    with pytest.raises(MockIdpError, match="HTTP 404"):
        b.now()  # deleted on leaving the with block
    b.delete()  # twice is fine


def test_namespace_with_fixtures_of_its_own(mockidp_session: MockIdp, tmp_path: Path):
    fixtures = tmp_path / "other.toml"
    fixtures.write_text('[[issuer]]\nname = "other"\ndialect = "generic"\n')
    with mockidp_session.namespace(fixtures=fixtures) as ns:
        assert [i["name"] for i in ns.issuers] == ["other"]
        assert ns.issuer_url("other") == f"{ns.url}"


def test_a_shared_server_gives_each_test_a_namespace(
    pytester: pytest.Pytester, mockidp_session: MockIdp, monkeypatch: pytest.MonkeyPatch
):
    """MOCKIDP_URL: the suite starts no server; `mockidp` is a namespace of the shared one, so
    a test may move its clock and queue failures while other workers use the same server."""
    pytester.makepyfile(
        """
        from mockidp import Namespace

        def test_first(mockidp):
            assert isinstance(mockidp, Namespace)
            assert "/ns/" in mockidp.issuer_url("shop")
            mockidp.advance_clock(100)
            mockidp.fail("token", status=500, count=10)

        def test_second(mockidp):
            assert mockidp.admin("GET", "/clock")["offset_secs"] == 0
        """
    )
    before = len(mockidp_session.admin("GET", "/namespaces")["namespaces"])
    monkeypatch.setenv("MOCKIDP_URL", mockidp_session.url)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=2)
    assert mockidp_session.admin("GET", "/clock")["offset_secs"] == 0
    # Both namespaces were deleted after their tests.
    assert len(mockidp_session.admin("GET", "/namespaces")["namespaces"]) == before
