//! The IdentityServer3 dialect, as Inqom runs it under `/identity`.

use crate::util::*;

#[tokio::test]
async fn client_credentials_have_identityserver3_shape() {
    let idp = start().await;
    let issuer = idp.issuer_url("inqom").unwrap();
    assert_eq!(issuer, format!("{}/identity", idp.url()));
    let (status, body) = status_json(
        post_form(
            &format!("{issuer}/connect/token"),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "inqom-service"),
                ("client_secret", "inqom-service-secret"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        keys(&body),
        ["access_token", "expires_in", "token_type"],
        "IdentityServer3 sends no scope in the token response"
    );
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap();
    // typ first, then alg, x5t and kid, as System.IdentityModel writes it.
    let raw_header: serde_json::Value = {
        use base64::Engine as _;
        let part = token.split('.').next().unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(keys(&raw_header), ["typ", "alg", "x5t", "kid"]);
    assert!(
        token.starts_with("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIs"),
        "as in Inqom's docs"
    );
    let (header, claims) = verify_with_discovery(token, &issuer).await;
    assert_eq!(header.x5t, header.kid);
    assert_eq!(claims["aud"], format!("{issuer}/resources"));
    assert_eq!(claims["client_id"], "inqom-service");
    assert_eq!(
        claims["scope"],
        serde_json::json!(["apidata", "accountingdocumentsapi"])
    );
    assert!(claims["nbf"].is_u64() && claims["exp"].is_u64());
}

#[tokio::test]
async fn discovery_and_jwks_at_identityserver3_paths() {
    let idp = start().await;
    let issuer = idp.issuer_url("inqom").unwrap();
    let d = get_json(&format!("{issuer}/.well-known/openid-configuration")).await;
    assert_eq!(d["jwks_uri"], format!("{issuer}/.well-known/jwks"));
    assert_eq!(d["token_endpoint"], format!("{issuer}/connect/token"));
    let jwks = get_json(&format!("{issuer}/.well-known/jwks")).await;
    let key = &jwks["keys"][0];
    assert_eq!(key["kid"], key["x5t"]);
    assert!(key["x5c"][0].as_str().unwrap().len() > 500);
    assert!(key["alg"].is_null(), "IdentityServer3 JWKs carry no alg");
}

/// Inqom's docs spell the sandbox client two ways; both find it.
#[tokio::test]
async fn client_id_aliases_find_the_same_client() {
    let idp = start().await;
    let issuer = idp.issuer_url("inqom").unwrap();
    for id in ["SandboxAuthorizationCode", "sandboxAuthorizationCode"] {
        let (status, body) = status_json(
            post_form(
                &format!("{issuer}/connect/token"),
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", id),
                    ("client_secret", "C8hXEbmW23vNpoV7Zi13"),
                ],
            )
            .await,
        )
        .await;
        // Known and authenticated, but registered for the code flow only.
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("unauthorized_client")),
            "{id}: {body}"
        );
    }
}

/// A single scope is a string claim, several are an array (JwtPayload's rule).
#[tokio::test]
async fn one_scope_is_a_string() {
    let idp = start().await;
    let issuer = idp.issuer_url("inqom").unwrap();
    let (_, body) = status_json(
        http()
            .post(format!("{issuer}/connect/token"))
            .basic_auth("inqom-service", Some("inqom-service-secret"))
            .form(&[("grant_type", "client_credentials"), ("scope", "apidata")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    let (_, claims) = verify_with_discovery(body["access_token"].as_str().unwrap(), &issuer).await;
    assert_eq!(claims["scope"], "apidata");
}
