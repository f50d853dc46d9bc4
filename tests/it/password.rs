//! RFC 6749 §4.3, the password grant, on each dialect: success in the product's shape, and each
//! refusal (wrong password, unknown user, disabled user, a client without the grant) with the
//! product's status, `error` and wording.

use serde_json::Value;

use crate::util::*;

/// A password-grant request with the client in the body: status, `WWW-Authenticate`, body.
async fn password(
    token_url: &str,
    client: (&str, &str),
    user: &str,
    pass: &str,
    scope: Option<&str>,
) -> (u16, Option<String>, Value) {
    let mut form = vec![
        ("grant_type", "password"),
        ("client_id", client.0),
        ("client_secret", client.1),
        ("username", user),
        ("password", pass),
    ];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    let resp = post_form(token_url, &form).await;
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    let (status, body) = status_json(resp).await;
    (status, challenge, body)
}

fn claims(jwt: &str) -> Value {
    use base64::Engine as _;
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn keycloak_direct_access_grant() {
    let idp = start().await;
    let issuer = idp.issuer_url("iopole").unwrap();
    let url = format!("{issuer}/protocol/openid-connect/token");
    let web = ("iopole-web", "iopole-web-secret");
    let (status, _, body) = password(&url, web, "alice", "alice", Some("openid")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        keys(&body),
        [
            "access_token",
            "expires_in",
            "refresh_expires_in",
            "refresh_token",
            "token_type",
            "id_token",
            "not-before-policy",
            "session_state",
            "scope"
        ]
    );
    let (_, access) = verify_with_discovery(body["access_token"].as_str().unwrap(), &issuer).await;
    assert_eq!(access["preferred_username"], "alice");
    assert!(
        access["jti"].as_str().unwrap().starts_with("onrtro:"),
        "{access}"
    );
    assert_eq!(access["sid"], body["session_state"]);
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(
        id["aud"], "iopole-web",
        "Keycloak's ID token aud is a string"
    );
    assert_eq!(id["typ"], "ID");
    assert_eq!(id["sid"], body["session_state"]);

    // A user without a password in the fixtures (bob) takes any password.
    let (status, _, body) = password(&url, web, "bob", "anything", None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("id_token").is_none(), "no openid, no ID token");

    // ValidatePassword: 401, no challenge.
    let (status, challenge, body) = password(&url, web, "alice", "wrong", None).await;
    assert_eq!((status, challenge), (401, None), "{body}");
    assert_eq!(
        body,
        serde_json::json!({"error": "invalid_grant", "error_description": "Invalid user credentials"})
    );
    // ValidateUsername: an unknown user is 400, even though allow_any_user is on (login page).
    let (status, _, body) = password(&url, web, "nobody", "x", None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error_description"], "Invalid user credentials");
    let (status, _, body) = password(&url, web, "carol", "carol", None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body,
        serde_json::json!({"error": "invalid_grant", "error_description": "Account disabled"})
    );
    let (status, _, body) = password(&url, web, "alice", "", None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error_description"], "Invalid user credentials");
    let (status, _, body) = password(&url, web, "", "x", None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(body["error_description"], "Missing parameter: username");
    // A client without direct access grants.
    let (status, _, body) =
        password(&url, ("clientId", "clientSecret"), "alice", "alice", None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body,
        serde_json::json!({
            "error": "unauthorized_client",
            "error_description": "Client not allowed for direct access grants"
        })
    );
    // A wrong client secret is the client's failure, before the user is looked at.
    let (status, _, body) = password(&url, ("iopole-web", "nope"), "alice", "alice", None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        body["error_description"],
        "Invalid client or Invalid client credentials"
    );
    // The password never reaches the journal.
    let journal = get_json(&format!("{}/_mockidp/journal", idp.url())).await;
    assert!(!journal.to_string().contains("\"alice\":\"alice\""));
}

/// Keycloak's refresh token wordings that python-keycloak acts on, and the ID token each
/// refresh brings back.
#[tokio::test]
async fn keycloak_refresh_after_logout_and_after_expiry() {
    let idp = start().await;
    let issuer = idp.issuer_url("iopole").unwrap();
    let url = format!("{issuer}/protocol/openid-connect/token");
    let web = ("iopole-web", "iopole-web-secret");
    let refresh = |token: String| {
        let url = url.clone();
        async move {
            status_json(
                post_form(
                    &url,
                    &[
                        ("grant_type", "refresh_token"),
                        ("client_id", web.0),
                        ("client_secret", web.1),
                        ("refresh_token", &token),
                    ],
                )
                .await,
            )
            .await
        }
    };
    let (_, _, body) = password(&url, web, "alice", "alice", None).await;
    let rt = body["refresh_token"].as_str().unwrap().to_string();
    let (status, refreshed) = refresh(rt.clone()).await;
    assert_eq!(status, 200, "{refreshed}");
    let access = claims(refreshed["access_token"].as_str().unwrap());
    assert!(access["jti"].as_str().unwrap().starts_with("onrtrt:"));
    // Back-channel logout with the refresh token, then the same token: "Session not active".
    let resp = post_form(
        &format!("{issuer}/protocol/openid-connect/logout"),
        &[
            ("client_id", web.0),
            ("client_secret", web.1),
            ("refresh_token", &rt),
        ],
    )
    .await;
    assert_eq!(resp.status(), 204);
    let (status, body) = refresh(rt).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body,
        serde_json::json!({"error": "invalid_grant", "error_description": "Session not active"})
    );
    // SSO Session Idle (1800 s) passed: "Token is not active".
    let (_, _, body) = password(&url, web, "alice", "alice", None).await;
    let rt = body["refresh_token"].as_str().unwrap().to_string();
    idp.clock().advance(1801);
    let (status, body) = refresh(rt).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error_description"], "Token is not active");
}

#[tokio::test]
async fn identityserver_resource_owner_flow() {
    let idp = start().await;
    let url = format!("{}/connect/token", idp.issuer_url("inqom").unwrap());
    let client = ("inqom-resource-owner", "inqom-resource-owner-secret");
    let (status, _, body) = password(
        &url,
        client,
        "alice",
        "alice",
        Some("openid email offline_access"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // TokenResponseGenerator.ProcessTokenRequestAsync: no id_token for this flow; a refresh
    // handle because offline_access was asked.
    assert_eq!(
        keys(&body),
        ["access_token", "expires_in", "token_type", "refresh_token"]
    );
    let access = claims(body["access_token"].as_str().unwrap());
    assert_eq!(access["amr"], serde_json::json!(["password"]));
    assert_eq!(access["client_id"], "inqom-resource-owner");
    let handle = body["refresh_token"].as_str().unwrap();
    assert!(handle.len() == 32 && handle.bytes().all(|b| b.is_ascii_hexdigit()));
    // Every refusal is a 400.
    for (user, pass, error) in [
        ("alice", "wrong", "invalid_grant"),
        ("nobody", "x", "invalid_grant"),
        ("", "x", "invalid_grant"),
        ("alice", "", "invalid_grant"),
    ] {
        let (status, _, body) = password(&url, client, user, pass, None).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some(error)),
            "{user}: {body}"
        );
    }
    // A client of another flow: unauthorized_client (TokenRequestValidator).
    let (status, _, body) = password(
        &url,
        ("SandboxAuthorizationCode", "C8hXEbmW23vNpoV7Zi13"),
        "alice",
        "alice",
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
}

#[tokio::test]
async fn generic_password_grant_follows_oauthlib() {
    let idp = start().await;
    let url = format!("{}/token/", idp.url());
    let client = ("generic-password", "generic-password-secret");
    let (status, _, body) = password(&url, client, "alice", "alice", Some("read openid")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        keys(&body),
        [
            "access_token",
            "expires_in",
            "token_type",
            "scope",
            "refresh_token"
        ],
        "oauthlib's password grant has no ID token"
    );
    assert_eq!(body["scope"], "read openid");
    for (user, pass) in [("alice", "wrong"), ("nobody", "x")] {
        let (status, _, body) = password(&url, client, user, pass, None).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            body,
            serde_json::json!({"error": "invalid_grant", "error_description": "Invalid credentials given."})
        );
    }
    let (status, _, body) = password(&url, client, "", "x", None).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error_description"],
        "Request is missing username parameter."
    );
    let (status, _, body) = password(&url, client, "alice", "", None).await;
    assert_eq!(
        (status, body),
        (
            400,
            serde_json::json!({"error": "invalid_request", "error_description": "Request is missing password parameter."})
        )
    );
    let (status, _, body) = password(
        &url,
        ("generic-confidential", "generic-confidential-secret"),
        "alice",
        "alice",
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    // Disabled users, and allow_any_user, which is for the login page only.
    let idp = start_with(
        r#"
        [[issuer]]
        name = "g"
        dialect = "generic"
        allow_any_user = true
        [[issuer.client]]
        id = "app"
        secret = "s"
        grants = ["password"]
        [[issuer.user]]
        username = "eve"
        password = "eve"
        enabled = false
        "#,
    )
    .await;
    let url = format!("{}/token/", idp.url());
    for user in ["eve", "anyone"] {
        let (status, _, body) = password(&url, ("app", "s"), user, user, None).await;
        assert_eq!(status, 400, "{user}: {body}");
        assert_eq!(body["error_description"], "Invalid credentials given.");
    }
}

/// The sample realm export: `directAccessGrantsEnabled` is the switch.
#[tokio::test]
async fn realm_import_direct_access_grants() {
    let idp = mockidp::MockIdp::builder()
        .fixtures(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/keycloak.toml"
        ))
        .start()
        .await
        .unwrap();
    let url = format!(
        "{}/protocol/openid-connect/token",
        idp.issuer_url("acme").unwrap()
    );
    let (status, _, body) =
        password(&url, ("acme-web", "acme-web-secret"), "jane", "jane", None).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) =
        password(&url, ("acme-web", "acme-web-secret"), "jane", "no", None).await;
    assert_eq!(status, 401, "{body}");
}

/// No silent acceptance: a grant, an authentication method or a key mockidp does not
/// implement stops `mockidp check` with the line, the column and what is supported.
#[test]
fn fixtures_naming_unimplemented_things_are_refused_with_their_line() {
    let dir = std::env::temp_dir().join(format!("mockidp-unimplemented-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let check = |name: &str, toml: &str| {
        let file = dir.join(name);
        std::fs::write(&file, toml).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mockidp"))
            .arg("check")
            .arg(&file)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{name} was accepted");
        String::from_utf8(out.stderr).unwrap()
    };
    let head = "[[issuer]]\nname = \"a\"\ndialect = \"keycloak\"\n\n[[issuer.client]]\nid = \"c\"\nsecret = \"s\"\n";
    let err = check(
        "grant.toml",
        &format!("{head}grants = [\"client_credentials\", \"implicit\"]\n"),
    );
    assert!(err.contains("grant.toml:8:10:"), "{err}");
    assert!(err.contains("unknown grant \"implicit\""), "{err}");
    assert!(err.contains("authorization_code, client_credentials, refresh_token, password"));
    let err = check(
        "method.toml",
        &format!("{head}token_endpoint_auth_method = \"tls_client_auth\"\n"),
    );
    assert!(err.contains("method.toml:8:"), "{err}");
    assert!(
        err.contains("private_key_jwt") && err.contains("client_secret_jwt"),
        "{err}"
    );
    let err = check("key.toml", &format!("{head}grant = [\"password\"]\n"));
    assert!(
        err.contains("key.toml:8:1:") && err.contains("unknown field `grant`"),
        "{err}"
    );
    assert!(
        err.contains("grants"),
        "the supported keys are listed: {err}"
    );
    // And at start.
    let err = mockidp::Config::from_toml(&format!("{head}grants = [\"implicit\"]\n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 8") && err.contains("implicit"), "{err}");
}
