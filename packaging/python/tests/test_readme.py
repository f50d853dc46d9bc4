import requests


def test_my_service_gets_a_token(mockidp):
    issuer = mockidp.issuer_url("shop")  # http://127.0.0.1:PORT/realms/shop, from idp.toml
    resp = requests.post(
        f"{issuer}/protocol/openid-connect/token",
        data={"grant_type": "client_credentials"},
        auth=("shop-backend", "shop-backend-secret"),
    )
    assert resp.status_code == 200
    assert resp.json()["token_type"] == "Bearer"
    # A user's token without any login flow, with an extra claim:
    token = mockidp.token("shop-backend", user="alice", claims={"tenant": "acme"})
    assert token.count(".") == 2
