//! The generic (Django OAuth Toolkit) dialect at `/`.

use crate::util::*;

/// The seed's client-credentials example: HTTP Basic, `grant_type` only.
#[tokio::test]
async fn client_credentials_with_basic_at_token_slash() {
    let idp = start().await;
    let issuer = idp.issuer_url("generic").unwrap();
    assert_eq!(issuer, idp.url());
    for path in ["/token/", "/token"] {
        let (status, body) = status_json(
            http()
                .post(format!("{}{path}", idp.url()))
                .basic_auth("generic-confidential", Some("generic-confidential-secret"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(
            keys(&body),
            ["access_token", "expires_in", "token_type", "scope"]
        );
        assert_eq!(body["expires_in"], 36000);
        assert_eq!(body["scope"], "read write");
        let (header, claims) =
            verify_with_discovery(body["access_token"].as_str().unwrap(), &issuer).await;
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(claims["sub"], "generic-confidential");
        assert_eq!(claims["client_id"], "generic-confidential");
        assert_eq!(claims["scope"], "read write");
    }
    let d = get_json(&format!("{}/.well-known/openid-configuration", idp.url())).await;
    assert_eq!(d["token_endpoint"], format!("{}/token/", idp.url()));
    assert_eq!(
        d["jwks_uri"],
        format!("{}/.well-known/jwks.json", idp.url())
    );
}

/// Configured like stock Django OAuth Toolkit: 30-character opaque tokens.
#[tokio::test]
async fn opaque_tokens_when_configured() {
    let idp = start_with(
        r#"
        [[issuer]]
        name = "dot"
        dialect = "generic"
        token_format = "opaque"
        [[issuer.client]]
        id = "c"
        secret = "s"
        grants = ["client_credentials"]
        scopes = ["read", "write"]
        "#,
    )
    .await;
    let (status, body) = status_json(
        post_form(
            &format!("{}/token/", idp.url()),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "c"),
                ("client_secret", "s"),
                ("scope", "read"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(token.len(), 30);
    assert!(token.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(body["scope"], "read");
}

#[tokio::test]
async fn unknown_paths_are_djangos_404() {
    let idp = start().await;
    let resp = http()
        .get(format!("{}/nothing-here/", idp.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert!(resp.text().await.unwrap().contains("<h1>Not Found</h1>"));
}

/// Django OAuth Toolkit's introspection, as its resource servers call it: a token carrying the
/// `introspection` scope in `Authorization: Bearer` (or client credentials, as everywhere).
#[tokio::test]
async fn introspection_by_a_resource_servers_token() {
    let idp = start().await;
    let cc = |client: &'static str, scope: &'static str| {
        let url = format!("{}/token/", idp.url());
        async move {
            let (status, body) = status_json(
                http()
                    .post(url)
                    .basic_auth(client, Some(format!("{client}-secret")))
                    .form(&[("grant_type", "client_credentials"), ("scope", scope)])
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            body["access_token"].as_str().unwrap().to_string()
        }
    };
    let resource_server = cc("generic-resource-server", "introspection").await;
    let subject = cc("generic-confidential", "read").await;
    let introspect = |auth: String| {
        let url = format!("{}/introspect/", idp.url());
        let subject = subject.clone();
        async move {
            status_json(
                http()
                    .post(url)
                    .header("Authorization", auth)
                    .form(&[("token", subject.as_str())])
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let (status, body) = introspect(format!("Bearer {resource_server}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["active"], true);
    assert_eq!(body["scope"], "read");
    // Without the scope: 403, as DOT's scoped views answer.
    let (status, body) = introspect(format!("Bearer {subject}")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("insufficient_scope")),
        "{body}"
    );
    // DOT's view answers GET ?token= too.
    let (status, body) = status_json(
        http()
            .get(format!("{}/introspect/", idp.url()))
            .query(&[("token", subject.as_str())])
            .bearer_auth(&resource_server)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["active"].as_bool()),
        (200, Some(true)),
        "{body}"
    );
    // ... but never with a client secret in the URL.
    let (status, body) = status_json(
        http()
            .get(format!("{}/introspect/", idp.url()))
            .query(&[
                ("token", subject.as_str()),
                ("client_id", "generic-confidential"),
                ("client_secret", "generic-confidential-secret"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
    let (status, body) = introspect("Bearer not-a-token".into()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "{body}"
    );
}
