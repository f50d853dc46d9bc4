//! The browser flow over plain HTTP: authorization requests and their errors, codes, PKCE,
//! refresh rotation, userinfo, SSO, logout, CORS and HTML escaping.

use serde_json::Value;

use crate::util::*;

const KC_CB: &str = "http://localhost:8080/callback";

fn kc_authorize(idp: &mockidp::MockIdp, extra: &str) -> String {
    format!(
        "{}/realms/iopole/protocol/openid-connect/auth?response_type=code&client_id=iopole-web\
         &redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&scope=openid%20email&state=s1{extra}",
        idp.url()
    )
}

async fn redeem_kc(idp: &mockidp::MockIdp, code: &str) -> (u16, Value) {
    redeem_iopole_web(&format!("{}/realms/iopole", idp.url()), code, KC_CB).await
}

/// Logs alice in at the Keycloak realm with `browser` (keeping its SSO cookie) and redeems the
/// code: the token response.
async fn kc_login(idp: &mockidp::MockIdp, browser: &mut Browserless) -> Value {
    let loc = browser
        .authorize(&kc_authorize(idp, ""), "alice", "alice")
        .await;
    let (status, body) = redeem_kc(idp, &query_params(&loc)["code"]).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The status of the Keycloak realm's userinfo endpoint for `access_token`: 200 while it lives.
async fn kc_userinfo_status(idp: &mockidp::MockIdp, access_token: &str) -> u16 {
    http()
        .get(format!(
            "{}/realms/iopole/protocol/openid-connect/userinfo",
            idp.url()
        ))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Refreshes with `iopole-web`'s refresh token at the Keycloak realm.
async fn refresh_kc(idp_url: &str, refresh_token: &str) -> (u16, Value) {
    status_json(
        post_form(
            &format!("{idp_url}/realms/iopole/protocol/openid-connect/token"),
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "iopole-web"),
                ("client_secret", "iopole-web-secret"),
                ("refresh_token", refresh_token),
            ],
        )
        .await,
    )
    .await
}

/// Unknown client or unregistered redirect URI: an error page, never a redirect.
#[tokio::test]
async fn untrusted_clients_and_redirects_get_a_page_not_a_redirect() {
    let idp = start().await;
    let base = format!("{}/realms/iopole/protocol/openid-connect/auth", idp.url());
    for query in [
        "response_type=code&client_id=nobody&redirect_uri=http%3A%2F%2Fevil.test%2F",
        "response_type=code&client_id=iopole-web&redirect_uri=http%3A%2F%2Fevil.test%2F",
        "response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback",
        "response_type=code&client_id=iopole-web",
        "client_id=iopole-web&client_id=x",
    ] {
        let resp = http().get(format!("{base}?{query}")).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{query}");
        assert!(resp.headers().get("location").is_none(), "{query}");
        let html = resp.text().await.unwrap();
        assert!(html.contains("id=\"error\""), "{query}: {html}");
    }
}

/// Errors after the redirect URI is trusted go back to it with `error` and `state`.
#[tokio::test]
async fn other_authorize_errors_redirect_with_state() {
    let idp = start().await;
    let generic = format!(
        "{}/authorize/?client_id=generic-public&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&state=xyz",
        idp.url()
    );
    let (_, challenge) = pkce_pair();
    let cases = [
        (
            format!(
                "{generic}&response_type=token&code_challenge={challenge}&code_challenge_method=S256"
            ),
            "unsupported_response_type",
        ),
        (
            format!("{generic}&code_challenge={challenge}&code_challenge_method=S256"),
            "invalid_request",
        ),
        (
            format!(
                "{generic}&response_type=code&scope=admin&code_challenge={challenge}&code_challenge_method=S256"
            ),
            "invalid_scope",
        ),
        (format!("{generic}&response_type=code"), "invalid_request"),
        (
            format!(
                "{generic}&response_type=code&code_challenge={challenge}&code_challenge_method=S512"
            ),
            "invalid_request",
        ),
        (
            format!("{generic}&response_type=code&code_challenge=short&code_challenge_method=S256"),
            "invalid_request",
        ),
        (
            format!(
                "{generic}&response_type=code&code_challenge={challenge}&code_challenge_method=S256&prompt=none"
            ),
            "login_required",
        ),
        (
            format!(
                "{generic}&response_type=code&code_challenge={challenge}&code_challenge_method=S256&max_age=soon"
            ),
            "invalid_request",
        ),
        (
            format!("{generic}&response_type=code&request=eyJhbGciOiJub25lIn0.e30."),
            "request_not_supported",
        ),
        (
            format!("{generic}&response_type=code&request_uri=urn%3Aexample%3Ar"),
            "request_uri_not_supported",
        ),
    ];
    for (url, error) in cases {
        let resp = http().get(&url).send().await.unwrap();
        assert_eq!(resp.status(), 302, "{url}");
        let loc = location(&resp);
        assert!(loc.starts_with(KC_CB), "{loc}");
        let q = query_params(&loc);
        assert_eq!(q["error"], error, "{url}: {loc}");
        assert_eq!(q["state"], "xyz");
        assert!(!q["error_description"].is_empty());
        assert!(!q.contains_key("code"));
        assert!(
            !q.contains_key("iss"),
            "Django OAuth Toolkit sends no iss: {loc}"
        );
    }
    // Keycloak sends RFC 9207's `iss` with errors too (its discovery says it does).
    let resp = http()
        .get(kc_authorize(&idp, "").replace("scope=openid%20email", "scope=bogus"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let q = query_params(&location(&resp));
    assert_eq!(q["error"], "invalid_scope");
    assert_eq!(q["iss"], idp.issuer_url("iopole").unwrap());
}

/// Codes: single use, bound to client and redirect URI, short-lived; a Keycloak token response.
#[tokio::test]
async fn codes_are_single_use_and_bound() {
    let idp = start().await;
    let mut browser = Browserless::new();
    let loc = browser
        .authorize(&kc_authorize(&idp, "&nonce=n-1"), "alice", "alice")
        .await;
    let q = query_params(&loc);
    assert_eq!(q["state"], "s1");
    assert!(q.contains_key("session_state") && q.contains_key("iss"));
    let (status, body) = redeem_kc(&idp, &q["code"]).await;
    assert_eq!(status, 200, "{body}");
    for k in [
        "access_token",
        "expires_in",
        "refresh_expires_in",
        "refresh_token",
        "token_type",
        "id_token",
        "not-before-policy",
        "session_state",
        "scope",
    ] {
        assert!(!body[k].is_null(), "missing {k}: {body}");
    }
    assert_eq!(body["refresh_expires_in"], 1800);
    assert_eq!(body["session_state"], q["session_state"]);
    let issuer = idp.issuer_url("iopole").unwrap();
    let (_, id) = verify_with_discovery(body["id_token"].as_str().unwrap(), &issuer).await;
    assert_eq!(id["nonce"], "n-1");
    assert_eq!(id["aud"], "iopole-web");
    assert_eq!(id["typ"], "ID");
    assert_eq!(id["email"], "alice@example.test");
    assert_eq!(id["sid"], q["session_state"]);
    for claim in ["at_hash", "auth_time", "sid", "sub"] {
        assert!(!id[claim].is_null(), "id_token lacks {claim}");
    }
    // The refresh token is a JWT (HS512, like Keycloak's).
    let refresh = body["refresh_token"].as_str().unwrap();
    assert_eq!(refresh.split('.').count(), 3);
    assert!(jsonwebtoken::decode_header(refresh).unwrap().alg == jsonwebtoken::Algorithm::HS512);

    let (status, again) = redeem_kc(&idp, &q["code"]).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant")),
        "reuse"
    );
    // RFC 6749 §4.1.2: the replay revokes what the code issued (it may have been stolen).
    assert_eq!(
        kc_userinfo_status(&idp, body["access_token"].as_str().unwrap()).await,
        401,
        "the access token died with the replay"
    );
    let (status, refreshed) = refresh_kc(&idp.url(), refresh).await;
    assert_eq!(
        (status, refreshed["error"].as_str()),
        (400, Some("invalid_grant")),
        "the refresh token died with the replay: {refreshed}"
    );

    // Another client cannot redeem a code; the redirect URI must match; codes expire.
    let loc = browser
        .authorize(&kc_authorize(&idp, ""), "alice", "alice")
        .await;
    let code = query_params(&loc)["code"].clone();
    let (status, body) = status_json(
        post_form(
            &format!("{issuer}/protocol/openid-connect/token"),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", KC_CB),
                ("client_id", "clientId"),
                ("client_secret", "clientSecret"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client")),
        "clientId may not use the code flow: {body}"
    );
    let loc = browser
        .authorize(&kc_authorize(&idp, ""), "alice", "alice")
        .await;
    let code = query_params(&loc)["code"].clone();
    let (status, body) = redeem_iopole_web(&issuer, &code, "http://localhost:8080/other").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let loc = browser
        .authorize(&kc_authorize(&idp, ""), "alice", "alice")
        .await;
    let code = query_params(&loc)["code"].clone();
    idp.clock().advance(61);
    let (status, body) = redeem_kc(&idp, &code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "expired: {body}"
    );
}

/// A code issued to one client cannot be redeemed by another that may use the code flow.
#[tokio::test]
async fn a_code_from_another_client_is_invalid_grant() {
    let idp = start_with(
        r#"
        [[issuer]]
        name = "kc"
        dialect = "keycloak"
        [[issuer.client]]
        id = "a"
        secret = "sa"
        grants = ["authorization_code"]
        redirect_uris = ["http://app.test/cb"]
        [[issuer.client]]
        id = "b"
        secret = "sb"
        grants = ["authorization_code"]
        redirect_uris = ["http://app.test/cb"]
        "#,
    )
    .await;
    let issuer = idp.issuer_url("kc").unwrap();
    let loc = Browserless::new()
        .authorize(
            &format!("{issuer}/protocol/openid-connect/auth?response_type=code&client_id=a&redirect_uri=http%3A%2F%2Fapp.test%2Fcb"),
            "anyone",
            "",
        )
        .await;
    let code = query_params(&loc)["code"].clone();
    let (status, body) = status_json(
        post_form(
            &format!("{issuer}/protocol/openid-connect/token"),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "http://app.test/cb"),
                ("client_id", "b"),
                ("client_secret", "sb"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

/// The generic seed's public client: PKCE required, a wrong verifier is `invalid_grant`.
#[tokio::test]
async fn pkce_for_public_clients() {
    let idp = start().await;
    let (verifier, challenge) = pkce_pair();
    let mut browser = Browserless::new();
    let url = format!(
        "{}/authorize/?response_type=code&client_id=generic-public&redirect_uri={}&scope=openid%20email%20read&code_challenge={challenge}&code_challenge_method=S256",
        idp.url(),
        "http%3A%2F%2Flocalhost%3A8080%2Fcallback"
    );
    for (attempt_verifier, ok) in [(format!("{verifier}x"), false), (verifier.clone(), true)] {
        let loc = browser.authorize(&url, "alice", "alice").await;
        let code = query_params(&loc)["code"].clone();
        let body = format!(
            "grant_type=authorization_code&code={code}&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&client_id=generic-public&code_verifier={attempt_verifier}"
        );
        let (status, json) = status_json(
            http()
                .post(format!("{}/token/", idp.url()))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        if ok {
            assert_eq!(status, 200, "{json}");
            assert_eq!(
                keys(&json),
                [
                    "access_token",
                    "expires_in",
                    "token_type",
                    "scope",
                    "refresh_token",
                    "id_token"
                ]
            );
            assert_eq!(json["refresh_token"].as_str().unwrap().len(), 30);
        } else {
            assert_eq!(
                (status, json["error"].as_str()),
                (400, Some("invalid_grant")),
                "{json}"
            );
        }
    }
}

/// Refresh tokens rotate: the old one is refused after use. Inqom: only with offline_access,
/// a short opaque handle, a new id_token on refresh.
#[tokio::test]
async fn refresh_rotation_and_inqom_shape() {
    let idp = start().await;
    let issuer = idp.issuer_url("inqom").unwrap();
    let token_url = format!("{issuer}/connect/token");
    let mut browser = Browserless::new();
    let authz = |scope: &str| {
        format!(
            "{issuer}/connect/authorize?response_type=code&client_id=SandboxAuthorizationCode&redirect_uri=http%3A%2F%2Flocalhost%3A8080&scope={scope}&state=st"
        )
    };
    let redeem = |code: String| {
        let token_url = token_url.clone();
        async move {
            status_json(
                post_form(
                    &token_url,
                    &[
                        ("grant_type", "authorization_code"),
                        ("client_id", "SandboxAuthorizationCode"),
                        ("client_secret", "C8hXEbmW23vNpoV7Zi13"),
                        ("code", &code),
                        ("redirect_uri", "http://localhost:8080"),
                    ],
                )
                .await,
            )
            .await
        }
    };
    // Without offline_access: no refresh token.
    let loc = browser
        .authorize(&authz("openid%20email"), "alice", "alice")
        .await;
    assert_eq!(
        loc.split('?')
            .nth(1)
            .unwrap()
            .split('&')
            .map(|p| p.split('=').next().unwrap())
            .collect::<Vec<_>>(),
        ["code", "state"]
    );
    let (status, body) = redeem(query_params(&loc)["code"].clone()).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["refresh_token"].is_null());
    // With it, SSO: no login page the second time.
    let loc = browser
        .authorize(
            &authz("openid%20email%20offline_access%20apidata%20accountingdocumentsapi"),
            "unused",
            "",
        )
        .await;
    let code = query_params(&loc)["code"].clone();
    assert_eq!(code.len(), 32);
    // IdentityServer3's codes live 300 s (a person may paste one into curl, as Inqom's docs do).
    idp.clock().advance(240);
    let (status, body) = redeem(code.clone()).await;
    assert_eq!(status, 200, "{body}");
    // A replayed code is refused but, unlike Keycloak, IdentityServer3 revokes nothing.
    let (status, again) = redeem(code).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(
        keys(&body),
        [
            "id_token",
            "access_token",
            "expires_in",
            "token_type",
            "refresh_token"
        ]
    );
    assert_eq!(body["expires_in"], 31104000);
    let first = body["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(first.len(), 32);
    let refresh = |rt: String| {
        let token_url = token_url.clone();
        async move {
            status_json(
                post_form(
                    &token_url,
                    &[
                        ("grant_type", "refresh_token"),
                        ("client_id", "SandboxAuthorizationCode"),
                        ("client_secret", "C8hXEbmW23vNpoV7Zi13"),
                        ("refresh_token", &rt),
                    ],
                )
                .await,
            )
            .await
        }
    };
    let (status, body) = refresh(first.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["id_token"].is_string(),
        "IdentityServer3 returns a new id_token on refresh"
    );
    let second = body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(second, first);
    let (status, body) = refresh(first).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "rotated token reused"
    );
    let (status, _) = refresh(second).await;
    assert_eq!(status, 200);
}

/// Keycloak keeps a used refresh token valid ("Revoke Refresh Token" is off by default): tabs
/// or workers refreshing with the same token at once all succeed.
#[tokio::test]
async fn keycloak_refresh_tokens_stay_valid_after_use() {
    let idp = start().await;
    let mut browser = Browserless::new();
    let body = kc_login(&idp, &mut browser).await;
    let refresh = body["refresh_token"].as_str().unwrap().to_string();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (url, refresh) = (idp.url(), refresh.clone());
            tokio::spawn(async move { refresh_kc(&url, &refresh).await })
        })
        .collect();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert_ne!(body["refresh_token"].as_str(), Some(refresh.as_str()));
    }
}

/// UserInfo: GET and POST with Bearer, scopes honoured, RFC 6750 errors.
#[tokio::test]
async fn userinfo_on_every_dialect() {
    let idp = start().await;
    let mut browser = Browserless::new();
    let body = kc_login(&idp, &mut browser).await;
    let at = body["access_token"].as_str().unwrap();
    let url = format!(
        "{}/realms/iopole/protocol/openid-connect/userinfo",
        idp.url()
    );
    let (status, info) = status_json(http().get(&url).bearer_auth(at).send().await.unwrap()).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["email"], "alice@example.test");
    assert_eq!(
        info["given_name"], "Alice",
        "Keycloak adds default scopes (profile): {info}"
    );
    let (status, info2) =
        status_json(http().post(&url).bearer_auth(at).send().await.unwrap()).await;
    assert_eq!((status, &info2), (200, &info));
    let resp = http().get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.headers()["www-authenticate"],
        "Bearer realm=\"iopole\""
    );
    let resp = http()
        .get(&url)
        .bearer_auth("garbage.token.here")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
    // A client-credentials token is not about a user.
    let (_, cc) = status_json(
        post_form(
            &format!("{}/realms/iopole/protocol/openid-connect/token", idp.url()),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "clientId"),
                ("client_secret", "clientSecret"),
            ],
        )
        .await,
    )
    .await;
    let resp = http()
        .get(&url)
        .bearer_auth(cc["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    // An expired token.
    idp.clock().advance(601);
    let (status, body) = status_json(http().get(&url).bearer_auth(at).send().await.unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token"))
    );
    // The other dialects' paths.
    for (authz, token, userinfo, form) in [(
        format!(
            "{}/identity/connect/authorize?response_type=code&client_id=SandboxAuthorizationCode&redirect_uri=http%3A%2F%2Flocalhost%3A8080&scope=openid%20email",
            idp.url()
        ),
        format!("{}/identity/connect/token", idp.url()),
        format!("{}/identity/connect/userinfo", idp.url()),
        vec![
            ("client_id", "SandboxAuthorizationCode"),
            ("client_secret", "C8hXEbmW23vNpoV7Zi13"),
            ("redirect_uri", "http://localhost:8080"),
        ],
    )] {
        let loc = Browserless::new().authorize(&authz, "alice", "alice").await;
        let code = query_params(&loc)["code"].clone();
        let mut f = form.clone();
        f.push(("grant_type", "authorization_code"));
        f.push(("code", &code));
        let (_, body) = status_json(post_form(&token, &f).await).await;
        let (status, info) = status_json(
            http()
                .get(&userinfo)
                .bearer_auth(body["access_token"].as_str().unwrap())
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{info}");
        assert_eq!(info["email"], "alice@example.test");
        assert!(info["name"].is_null(), "profile was not asked for: {info}");
    }
}

/// SSO, prompt=login, max_age, prompt=none and logout with registered redirects only.
#[tokio::test]
async fn sso_prompt_and_logout() {
    let idp = start().await;
    let mut browser = Browserless::new();
    let tokens = kc_login(&idp, &mut browser).await;
    let at = tokens["access_token"].as_str().unwrap();
    assert_eq!(kc_userinfo_status(&idp, at).await, 200);
    // SSO: straight back with a code.
    let resp = browser.get(&kc_authorize(&idp, "&prompt=none")).await;
    assert_eq!(resp.status(), 302);
    assert!(query_params(&location(&resp)).contains_key("code"));
    // prompt=login and max_age=0 show the login page again.
    for extra in ["&prompt=login", "&max_age=0"] {
        idp.clock().advance(2);
        let resp = browser.get(&kc_authorize(&idp, extra)).await;
        assert_eq!(resp.status(), 200, "{extra}");
        assert!(resp.text().await.unwrap().contains("class=\"login\""));
    }
    // The SSO page shows the user.
    let home = browser
        .get(&format!("{}/realms/iopole/account", idp.url()))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("id=\"who\"") && home.contains("alice"),
        "{home}"
    );
    // Logout to an unregistered URI: refused, session kept.
    let logout = format!("{}/realms/iopole/protocol/openid-connect/logout", idp.url());
    let resp = browser
        .get(&format!(
            "{logout}?client_id=iopole-web&post_logout_redirect_uri=http%3A%2F%2Fevil.test%2F"
        ))
        .await;
    assert_eq!(resp.status(), 400);
    // Registered: redirected with state, session gone.
    let resp = browser.get(&format!("{logout}?client_id=iopole-web&post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fbye&state=z")).await;
    assert_eq!(resp.status(), 302);
    assert_eq!(location(&resp), "http://localhost:8080/bye?state=z");
    let resp = browser.get(&kc_authorize(&idp, "&prompt=none")).await;
    assert_eq!(query_params(&location(&resp))["error"], "login_required");
    // Keycloak's access tokens die with their session.
    assert_eq!(kc_userinfo_status(&idp, at).await, 401);
    let d = get_json(&format!(
        "{}/realms/iopole/.well-known/openid-configuration",
        idp.url()
    ))
    .await;
    assert_eq!(d["end_session_endpoint"], logout);
    // The other dialects advertise theirs.
    let d = get_json(&format!(
        "{}/identity/.well-known/openid-configuration",
        idp.url()
    ))
    .await;
    assert_eq!(
        d["end_session_endpoint"],
        format!("{}/identity/connect/endsession", idp.url())
    );
    let d = get_json(&format!("{}/.well-known/openid-configuration", idp.url())).await;
    assert_eq!(d["end_session_endpoint"], format!("{}/logout/", idp.url()));
    assert_eq!(
        d["authorization_endpoint"],
        format!("{}/authorize/", idp.url())
    );
}

/// A wrong password keeps the login page with a message; fixture users without one need none.
#[tokio::test]
async fn login_form_checks_passwords_only_when_set() {
    let idp = start().await;
    let resp = http().get(kc_authorize(&idp, "")).send().await.unwrap();
    // The form is bound to this browser by its login cookie.
    let cookie = first_cookie(&resp);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("iopole-web") && html.contains("iopole"),
        "says who is asking"
    );
    let action_start = html.find("action=\"").unwrap() + 8;
    let action = &html[action_start..action_start + html[action_start..].find('"').unwrap()];
    let id_start = html.find("name=\"login_id\" value=\"").unwrap() + 23;
    let login_id = &html[id_start..id_start + 32];
    let (status, page) = (
        200,
        http()
            .post(action)
            .header("cookie", &cookie)
            .form(&[
                ("login_id", login_id),
                ("username", "alice"),
                ("password", "wrong"),
            ])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(status, 200);
    assert!(page.contains("id=\"error\""), "{page}");
    let resp = http()
        .post(action)
        .header("cookie", &cookie)
        .form(&[("login_id", login_id), ("pick", "bob")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302, "bob has no password");
    // The login page cannot be replayed.
    let resp = http()
        .post(action)
        .header("cookie", &cookie)
        .form(&[("login_id", login_id), ("pick", "bob")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

/// The forged-login sequence: one browser fetches a login page through a proxy header that
/// would send it off-host (`X-Forwarded-Prefix: //evil.test` or `/\evil.test`), another
/// browser posts that `login_id` for a password-less user. On every dialect the second one gets
/// the product's "restart login" page and no session; the first one, logging in itself, stays
/// on this host.
#[tokio::test]
async fn a_login_form_works_only_in_the_browser_that_opened_it() {
    let idp = start().await;
    let pages = [
        ("/realms/iopole/device", 400, "Cookie not found"),
        (
            "/identity/device",
            400,
            "error determining which application",
        ),
        ("/device/", 403, "CSRF verification failed"),
    ];
    for (page, status, wording) in pages {
        for prefix in ["//evil.test", "/\\evil.test"] {
            let url = format!("{}{page}", idp.url());
            let resp = http()
                .get(&url)
                .header("X-Forwarded-Prefix", prefix)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{page}");
            let cookie = first_cookie(&resp);
            let html = resp.text().await.unwrap();
            assert!(!html.contains("evil.test"), "{page} {prefix}: {html}");
            let field = |name: &str| {
                let start = html.find(name).unwrap() + name.len();
                html[start..start + html[start..].find('"').unwrap()].replace("&amp;", "&")
            };
            let action = field("class=\"login\" method=\"post\" action=\"");
            let login_id = field("name=\"login_id\" value=\"");
            let form = [("login_id", login_id.as_str()), ("username", "bob")];
            // Another browser (no login cookie, or another one's) is refused.
            for other in [
                None,
                Some(format!("{}=x", cookie.split('=').next().unwrap())),
            ] {
                let mut post = http().post(&action).form(&form);
                if let Some(c) = &other {
                    post = post.header("cookie", c);
                }
                let resp = post.send().await.unwrap();
                assert_eq!(resp.status().as_u16(), status, "{page} {prefix} {other:?}");
                assert!(resp.headers().get("location").is_none());
                assert!(resp.headers().get("set-cookie").is_none(), "no session");
                let text = resp.text().await.unwrap();
                assert!(text.contains(wording), "{page}: {text}");
            }
            // The browser that opened it logs in and stays on this host.
            let resp = http()
                .post(&action)
                .header("cookie", &cookie)
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 302, "{page} {prefix}");
            let to = location(&resp);
            assert!(
                to.starts_with('/') && !to.starts_with("//") && !to.contains('\\'),
                "{page} {prefix}: sent to {to}"
            );
            assert!(!to.contains("evil"), "{page} {prefix}: sent to {to}");
        }
    }
}

/// Markup in every reflected parameter comes back escaped.
#[tokio::test]
async fn reflected_parameters_are_escaped() {
    let idp = start().await;
    let evil = "%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    // login_hint is shown in the username field.
    let html = http()
        .get(kc_authorize(&idp, &format!("&login_hint={evil}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&quot;&gt;&lt;script&gt;"), "{html}");
    // form_post reflects state and the (wildcard-registered) redirect URI.
    let mut browser = Browserless::new();
    browser
        .authorize(&kc_authorize(&idp, ""), "alice", "alice")
        .await;
    let url = format!(
        "{}/realms/iopole/protocol/openid-connect/auth?response_type=code&client_id=iopole-web&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2F{evil}&state={evil}&response_mode=form_post",
        idp.url()
    );
    let resp = browser.get(&url).await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.matches("&lt;script&gt;").count() >= 2, "{html}");
    // Error pages and usernames.
    let html = http()
        .get(format!(
            "{}/identity/connect/authorize?client_id={evil}",
            idp.url()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("<script>"));
}

/// Browser apps: CORS on token, discovery and userinfo for registered origins only.
#[tokio::test]
async fn cors_for_registered_origins() {
    let idp = start().await;
    let token = format!("{}/token/", idp.url());
    let resp = http()
        .request(reqwest::Method::OPTIONS, &token)
        .header("Origin", "http://localhost:8080")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "http://localhost:8080"
    );
    assert!(
        resp.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    let resp = http()
        .get(format!("{}/.well-known/openid-configuration", idp.url()))
        .header("Origin", "http://evil.test")
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    let resp = http()
        .get(format!("{}/.well-known/jwks.json", idp.url()))
        .header("Origin", "http://127.0.0.1:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "http://127.0.0.1:8080"
    );
}

/// Keycloak's back-channel logout, as python-keycloak's `logout()` sends it: the client posts its
/// refresh token to the logout endpoint and gets 204; the session and its tokens are gone.
#[tokio::test]
async fn keycloak_back_channel_logout_ends_the_session() {
    let idp = start().await;
    let issuer = idp.issuer_url("iopole").unwrap();
    let mut browser = Browserless::new();
    let body = kc_login(&idp, &mut browser).await;
    let refresh = body["refresh_token"].as_str().unwrap();
    let logout = format!("{issuer}/protocol/openid-connect/logout");
    // Another client cannot end alice's session with her token.
    let (status, err) = status_json(
        post_form(
            &logout,
            &[
                ("client_id", "clientId"),
                ("client_secret", "clientSecret"),
                ("refresh_token", refresh),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let resp = post_form(
        &logout,
        &[
            ("client_id", "iopole-web"),
            ("client_secret", "iopole-web-secret"),
            ("refresh_token", refresh),
        ],
    )
    .await;
    assert_eq!(resp.status(), 204);
    let (status, err) = refresh_kc(&idp.url(), refresh).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(
        kc_userinfo_status(&idp, body["access_token"].as_str().unwrap()).await,
        401
    );
    // The browser's SSO session ended too: the next authorize shows the login page.
    let resp = browser.get(&kc_authorize(&idp, "")).await;
    assert_eq!(
        resp.status(),
        200,
        "a login page, not a redirect with a code"
    );
}
