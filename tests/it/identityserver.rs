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

/// OIDC Session Management 1.0 as IdentityServer3 serves it: `check_session_iframe` in
/// discovery, the iframe page, the script-readable `idsvr.session` cookie and a
/// `session_state` the iframe can recompute (`AuthorizeResponseGenerator.
/// GenerateSessionStateValue`); logout removes the cookie. The default inqom issuer has it
/// off (`check_session = false`), as Inqom's seed callback shows.
#[tokio::test]
async fn session_state_matches_the_script_readable_session_cookie() {
    use base64::Engine as _;
    let inqom = start().await;
    let meta = get_json(&format!(
        "{}/identity/.well-known/openid-configuration",
        inqom.url()
    ))
    .await;
    assert!(meta.get("check_session_iframe").is_none(), "{meta}");
    let seed_flow = Browserless::new()
        .authorize(
            &format!(
                "{}/identity/connect/authorize?response_type=code&client_id=SandboxAuthorizationCode\
                 &redirect_uri=http%3A%2F%2Flocalhost%3A8080&scope=openid&state=st",
                inqom.url()
            ),
            "alice",
            "alice",
        )
        .await;
    assert!(!query_params(&seed_flow).contains_key("session_state"));

    let fixtures = mockidp::config::DEFAULT_FIXTURES.replace("check_session = false", "");
    let idp = start_with(&fixtures).await;
    let base = format!("{}/identity", idp.url());
    let meta = get_json(&format!("{base}/.well-known/openid-configuration")).await;
    assert_eq!(
        meta["check_session_iframe"],
        format!("{base}/connect/checksession")
    );
    let page = http()
        .get(format!("{base}/connect/checksession"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("\"idsvr.session\"") && html.contains("postMessage"));

    let authorize = |scope: &str| {
        format!(
            "{base}/connect/authorize?response_type=code&client_id=SandboxAuthorizationCode\
             &redirect_uri=http%3A%2F%2Flocalhost%3A8080&scope={scope}&state=st"
        )
    };
    let mut browser = Browserless::new();
    let resp = browser.get(&authorize("openid%20email")).await;
    let html = resp.text().await.unwrap();
    let action = html
        .split("action=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .replace("&amp;", "&");
    let login_id = html
        .split("name=\"login_id\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let resp = browser
        .post_form_raw(
            &action,
            &[
                ("login_id", &login_id),
                ("username", "alice"),
                ("password", "alice"),
            ],
        )
        .await;
    let script_cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("idsvr.session="))
        .expect("idsvr.session cookie");
    assert!(
        !script_cookie.to_ascii_lowercase().contains("httponly")
            && script_cookie.contains("Path=/identity/"),
        "{script_cookie}"
    );
    let session_id = script_cookie["idsvr.session=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let params = query_params(&location(&resp));
    let (hash, salt) = params["session_state"].split_once('.').unwrap();
    let input = format!("SandboxAuthorizationCodehttp://localhost:8080{session_id}{salt}");
    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, input.as_bytes()),
    );
    assert_eq!(hash, expected);

    // A second response in the same session: a fresh salt, the same session id.
    let again = query_params(
        &browser
            .authorize(&authorize("openid"), "alice", "alice")
            .await,
    );
    assert_ne!(again["session_state"], params["session_state"]);
    // Not an OpenID request: no session_state (IsOpenIdRequest).
    let plain = query_params(
        &browser
            .authorize(&authorize("apidata"), "alice", "alice")
            .await,
    );
    assert!(plain.contains_key("code") && !plain.contains_key("session_state"));

    let out = browser.get(&format!("{base}/connect/endsession")).await;
    assert!(
        out.headers()
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("idsvr.session=;")),
        "logout removes idsvr.session"
    );
}
