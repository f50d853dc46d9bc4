//! What browser libraries (keycloak-js, oidc-client-ts) rely on, over plain HTTP: response
//! modes, CORS with credentials, Keycloak's account REST API, pages without a favicon fetch.

use serde_json::Value;

use crate::util::*;

/// One authorization request per dialect: (authorize URL without `response_mode`, the
/// redirect URI it names).
fn authorize_urls(idp: &mockidp::MockIdp) -> [(String, &'static str); 3] {
    let (_, challenge) = pkce_pair();
    let base = idp.url();
    [
        (
            format!(
                "{base}/realms/iopole/protocol/openid-connect/auth?response_type=code&client_id=iopole-web\
                 &redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&scope=openid&state=st"
            ),
            "http://localhost:8080/callback",
        ),
        (
            format!(
                "{base}/identity/connect/authorize?response_type=code&client_id=SandboxAuthorizationCode\
                 &redirect_uri=http%3A%2F%2Flocalhost%3A8080&scope=openid&state=st"
            ),
            "http://localhost:8080",
        ),
        (
            format!(
                "{base}/authorize/?response_type=code&client_id=generic-public\
                 &redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&scope=openid&state=st\
                 &code_challenge={challenge}&code_challenge_method=S256"
            ),
            "http://localhost:8080/callback",
        ),
    ]
}

/// The parameters after `#` of a redirect `Location`.
fn fragment_params(location: &str) -> std::collections::HashMap<String, String> {
    let (_, fragment) = location.split_once('#').unwrap_or((location, ""));
    form_urlencoded::parse(fragment.as_bytes())
        .into_owned()
        .collect()
}

/// keycloak-js asks for `response_mode=fragment`: the code (after login) and errors (after a
/// valid redirect URI) come back after `#`, nothing in the query, on every dialect.
#[tokio::test]
async fn fragment_mode_on_every_dialect() {
    let idp = start().await;
    for (url, redirect_uri) in authorize_urls(&idp) {
        let mut browser = Browserless::new();
        let loc = browser
            .authorize(&format!("{url}&response_mode=fragment"), "alice", "alice")
            .await;
        assert!(loc.starts_with(&format!("{redirect_uri}#")), "{loc}");
        let p = fragment_params(&loc);
        assert!(p.contains_key("code"), "{loc}");
        assert_eq!(p["state"], "st");
        // An error after a valid redirect URI goes back in the mode asked for.
        let resp = http()
            .get(format!("{url}&response_mode=fragment&max_age=soon"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 302);
        let loc = location(&resp);
        assert!(loc.starts_with(&format!("{redirect_uri}#")), "{loc}");
        let p = fragment_params(&loc);
        assert_eq!(p["error"], "invalid_request", "{loc}");
        assert_eq!(p["state"], "st");
        // Query (the code flow's default) and form_post still work.
        let resp = http()
            .get(format!("{url}&response_mode=query&prompt=none"))
            .send()
            .await
            .unwrap();
        let loc = location(&resp);
        assert!(loc.starts_with(&format!("{redirect_uri}?")), "{loc}");
        assert_eq!(query_params(&loc)["error"], "login_required");
        let resp = http()
            .get(format!("{url}&response_mode=form_post&prompt=none"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let html = resp.text().await.unwrap();
        assert!(
            html.contains("name=\"error\" value=\"login_required\""),
            "{html}"
        );
        // An unknown mode is refused in the default mode, the query.
        let resp = http()
            .get(format!("{url}&response_mode=jwt"))
            .send()
            .await
            .unwrap();
        let loc = location(&resp);
        assert_eq!(query_params(&loc)["error"], "invalid_request", "{loc}");
    }
}

/// `response_modes_supported` as each product's discovery lists it: Keycloak (without its JARM
/// modes), IdentityServer3's Constants.SupportedResponseModes, and Django OAuth Toolkit none
/// (so OpenID Connect Discovery's default, query and fragment).
#[tokio::test]
async fn discovery_lists_response_modes_as_each_product() {
    let idp = start().await;
    let base = idp.url();
    let kc = get_json(&format!(
        "{base}/realms/iopole/.well-known/openid-configuration"
    ))
    .await;
    assert_eq!(
        kc["response_modes_supported"],
        serde_json::json!(["query", "fragment", "form_post"])
    );
    let is = get_json(&format!("{base}/identity/.well-known/openid-configuration")).await;
    assert_eq!(
        is["response_modes_supported"],
        serde_json::json!(["form_post", "query", "fragment"])
    );
    let dot = get_json(&format!("{base}/.well-known/openid-configuration")).await;
    assert!(dot.get("response_modes_supported").is_none(), "{dot}");
}

/// keycloak-js calls the token, userinfo and account endpoints with credentials: Keycloak's
/// answers (preflight included) carry `Access-Control-Allow-Credentials: true`; the other
/// products' do not.
#[tokio::test]
async fn keycloak_cors_allows_credentials() {
    let idp = start().await;
    let base = idp.url();
    let origin = "http://localhost:8080";
    for path in [
        "/realms/iopole/protocol/openid-connect/token",
        "/realms/iopole/protocol/openid-connect/userinfo",
        "/realms/iopole/protocol/openid-connect/logout",
        "/realms/iopole/protocol/openid-connect/certs",
        "/realms/iopole/account",
        "/realms/iopole/account/",
    ] {
        let resp = http()
            .request(reqwest::Method::OPTIONS, format!("{base}{path}"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .header("Access-Control-Request-Headers", "authorization")
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        let h = resp.headers();
        assert_eq!(h["access-control-allow-origin"], origin, "{path}");
        assert_eq!(h["access-control-allow-credentials"], "true", "{path}");
        assert!(
            h["access-control-allow-headers"]
                .to_str()
                .unwrap()
                .contains("Authorization"),
            "{path}"
        );
    }
    let resp = http()
        .post(format!(
            "{base}/realms/iopole/protocol/openid-connect/token"
        ))
        .header("Origin", origin)
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "iopole-web"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["access-control-allow-credentials"], "true");
    let resp = http()
        .post(format!("{base}/token/"))
        .header("Origin", origin)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["access-control-allow-origin"], origin);
    assert!(
        resp.headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
}

/// keycloak-js `loadUserProfile()`: `GET /realms/{r}/account` with `Accept: application/json`
/// and the user's token answers the profile as AccountRestService does; no token or a bad one
/// is a 401; an HTML `Accept` keeps the SSO landing page.
#[tokio::test]
async fn keycloak_account_rest_answers_the_profile() {
    let idp = start().await;
    let base = idp.url();
    let mut browser = Browserless::new();
    let (url, redirect_uri) = authorize_urls(&idp)[0].clone();
    let loc = browser.authorize(&url, "alice", "alice").await;
    let (status, tokens) = redeem_iopole_web(
        &format!("{base}/realms/iopole"),
        &query_params(&loc)["code"],
        redirect_uri,
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    let (_, claims) = verify_with_discovery(access, &format!("{base}/realms/iopole")).await;
    for path in ["/realms/iopole/account", "/realms/iopole/account/"] {
        let resp = http()
            .get(format!("{base}{path}"))
            .header("Accept", "application/json")
            .header("Origin", "http://localhost:8080")
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.headers()["access-control-allow-credentials"], "true");
        let profile: Value = resp.json().await.unwrap();
        assert_eq!(profile["id"], claims["sub"]);
        assert_eq!(profile["username"], "alice");
        assert_eq!(profile["firstName"], "Alice");
        assert_eq!(profile["lastName"], "Martin");
        assert_eq!(profile["email"], "alice@example.test");
        assert_eq!(profile["emailVerified"], true);
    }
    for token in [None, Some("not-a-token"), Some(&access[..access.len() - 4])] {
        let mut req = http()
            .get(format!("{base}/realms/iopole/account"))
            .header("Accept", "application/json");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401, "{token:?}");
        assert!(resp.headers().contains_key("www-authenticate"));
    }
    let resp = http()
        .get(format!("{base}/realms/iopole/account"))
        .header(
            "Accept",
            "text/html,application/xhtml+xml,application/json;q=0.9",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

/// Every page mockidp serves names an empty icon, so browsers do not fetch `/favicon.ico`.
#[tokio::test]
async fn pages_name_an_icon() {
    let idp = start().await;
    let base = idp.url();
    for (url, _) in authorize_urls(&idp) {
        let html = http().get(&url).send().await.unwrap().text().await.unwrap();
        assert!(
            html.contains("<link rel=\"icon\" href=\"data:,\">"),
            "{url}"
        );
    }
    let html = http()
        .get(format!(
            "{base}/realms/iopole/protocol/openid-connect/login-status-iframe.html"
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<link rel=\"icon\" href=\"data:,\">"));
}
