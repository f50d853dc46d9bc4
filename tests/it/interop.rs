//! Real client libraries against mockidp: the `oauth2` crate fetches tokens on every dialect with
//! both client authentication methods; `jsonwebtoken` verifies them against the served JWKS.

use oauth2::basic::BasicClient;
use oauth2::{AuthType, ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};

use crate::util::*;

async fn fetch(
    token_url: &str,
    id: &str,
    secret: &str,
    auth: AuthType,
    scope: Option<&str>,
) -> (String, u64) {
    let client = BasicClient::new(ClientId::new(id.into()))
        .set_client_secret(ClientSecret::new(secret.into()))
        .set_token_uri(TokenUrl::new(token_url.into()).unwrap())
        .set_auth_type(auth);
    let http = oauth2::reqwest::Client::builder()
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut req = client.exchange_client_credentials();
    if let Some(s) = scope {
        req = req.add_scope(Scope::new(s.into()));
    }
    let token = req
        .request_async(&http)
        .await
        .expect("oauth2 crate gets a token");
    (
        token.access_token().secret().clone(),
        token.expires_in().expect("expires_in").as_secs(),
    )
}

#[tokio::test]
async fn oauth2_crate_client_credentials_on_every_dialect() {
    let idp = start().await;
    let iopole = idp.issuer_url("iopole").unwrap();
    let inqom = idp.issuer_url("inqom").unwrap();
    let generic = idp.issuer_url("generic").unwrap();
    let cases = [
        (
            format!("{iopole}/protocol/openid-connect/token"),
            iopole.clone(),
            "clientId",
            "clientSecret",
            600,
            Some("email"),
        ),
        (
            format!("{inqom}/connect/token"),
            inqom.clone(),
            "inqom-service",
            "inqom-service-secret",
            3600,
            Some("apidata"),
        ),
        (
            format!("{generic}/token/"),
            generic.clone(),
            "generic-confidential",
            "generic-confidential-secret",
            36000,
            None,
        ),
    ];
    for (token_url, issuer, id, secret, ttl, scope) in cases {
        for auth in [AuthType::BasicAuth, AuthType::RequestBody] {
            let (token, expires_in) = fetch(&token_url, id, secret, auth.clone(), scope).await;
            assert_eq!(expires_in, ttl, "{token_url}");
            let (_, claims) = verify_with_discovery(&token, &issuer).await;
            assert_eq!(claims["iss"], issuer);
            let who = claims.get("azp").or(claims.get("client_id")).unwrap();
            assert_eq!(who, id, "{token_url} {auth:?}");
        }
    }
}

/// A token whose signature was tampered with must not verify against the JWKS.
#[tokio::test]
async fn tampered_tokens_do_not_verify() {
    let idp = start().await;
    let iopole = idp.issuer_url("iopole").unwrap();
    let (token, _) = fetch(
        &format!("{iopole}/protocol/openid-connect/token"),
        "clientId",
        "clientSecret",
        AuthType::RequestBody,
        None,
    )
    .await;
    let mut parts: Vec<String> = token.split('.').map(String::from).collect();
    parts[1] = parts[1].replacen('e', "f", 1);
    let forged = parts.join(".");
    let err = try_verify(&forged, &iopole).await.unwrap_err();
    assert!(
        err.contains("Signature") || err.contains("signature") || err.contains("Json"),
        "{err}"
    );
    assert!(try_verify(&token, &iopole).await.is_ok());
}
