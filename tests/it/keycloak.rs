//! The Keycloak dialect, as Iopole runs it: the seed's request works unchanged.

use crate::util::*;

/// Iopole's documentation snippet, literally: double slash, form fields, `Content-type`.
#[tokio::test]
async fn iopole_seed_request_works_unchanged() {
    let idp = start().await;
    let resp = http()
        .post(format!(
            "{}//realms/iopole/protocol/openid-connect/token",
            idp.url()
        ))
        .header("Content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&client_id=clientId&client_secret=clientSecret")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        keys(&body),
        [
            "access_token",
            "expires_in",
            "refresh_expires_in",
            "token_type",
            "not-before-policy",
            "scope"
        ]
    );
    assert_eq!(body["expires_in"], 600, "Iopole tokens last 10 minutes");
    assert_eq!(body["refresh_expires_in"], 0);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["not-before-policy"], 0);
    assert_eq!(body["scope"], "profile email");

    let issuer = idp.issuer_url("iopole").unwrap();
    assert_eq!(issuer, format!("{}/realms/iopole", idp.url()));
    let token = body["access_token"].as_str().unwrap();
    let (header, claims) = verify_with_discovery(token, &issuer).await;
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(claims["iss"], issuer);
    assert_eq!(claims["azp"], "clientId");
    assert_eq!(claims["client_id"], "clientId");
    assert_eq!(claims["typ"], "Bearer");
    assert_eq!(claims["aud"], "account");
    assert_eq!(claims["scope"], "profile email");
    assert_eq!(claims["preferred_username"], "service-account-clientid");
    let roles = claims["realm_access"]["roles"].as_array().unwrap();
    assert!(roles.contains(&"admin".into()) && roles.contains(&"user".into()));
    assert!(roles.contains(&"default-roles-iopole".into()));
    assert!(claims["resource_access"]["account"]["roles"].is_array());
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        600
    );
    // Keycloak 26: transient session, regular token, client_credentials.
    let jti = claims["jti"].as_str().unwrap();
    assert!(jti.starts_with("trrtcc:") && jti.len() == 43, "{jti}");
    assert_eq!(claims["sub"].as_str().unwrap().len(), 36);
}

/// The admin client has `admin` and not `user`; the user client the reverse.
#[tokio::test]
async fn roles_follow_the_client() {
    let idp = start().await;
    let issuer = idp.issuer_url("iopole").unwrap();
    for (id, secret, has, lacks) in [
        ("iopole-admin", "iopole-admin-secret", "admin", "user"),
        ("iopole-user", "iopole-user-secret", "user", "admin"),
    ] {
        let (status, body) = cc_basic(
            &format!("{issuer}/protocol/openid-connect/token"),
            id,
            secret,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (_, claims) =
            verify_with_discovery(body["access_token"].as_str().unwrap(), &issuer).await;
        let roles = claims["realm_access"]["roles"].as_array().unwrap();
        assert!(roles.contains(&has.into()), "{id}: {roles:?}");
        assert!(!roles.contains(&lacks.into()), "{id}: {roles:?}");
        assert_eq!(claims["azp"], id);
    }
}

#[tokio::test]
async fn discovery_and_jwks_have_keycloak_shape() {
    let idp = start().await;
    let issuer = idp.issuer_url("iopole").unwrap();
    let d = get_json(&format!("{issuer}/.well-known/openid-configuration")).await;
    assert_eq!(d["issuer"], issuer);
    assert_eq!(
        d["token_endpoint"],
        format!("{issuer}/protocol/openid-connect/token")
    );
    assert_eq!(
        d["jwks_uri"],
        format!("{issuer}/protocol/openid-connect/certs")
    );
    assert_eq!(
        d["grant_types_supported"],
        serde_json::json!([
            "authorization_code",
            "client_credentials",
            "refresh_token",
            "password",
            "urn:ietf:params:oauth:grant-type:device_code",
            "urn:ietf:params:oauth:grant-type:token-exchange"
        ])
    );
    let jwks = get_json(d["jwks_uri"].as_str().unwrap()).await;
    let key = &jwks["keys"][0];
    for member in [
        "kid", "kty", "alg", "use", "n", "e", "x5c", "x5t", "x5t#S256",
    ] {
        assert!(!key[member].is_null(), "JWK lacks {member}: {key}");
    }
    assert_eq!(key["alg"], "RS256");
    // The legacy `/auth` prefix of Keycloak < 17 still answers.
    let legacy = get_json(&format!(
        "{}/auth/realms/iopole/.well-known/openid-configuration",
        idp.url()
    ))
    .await;
    assert_eq!(
        legacy["issuer"],
        format!("{}/auth/realms/iopole", idp.url())
    );
}

#[tokio::test]
async fn unknown_realm_is_keycloaks_404() {
    let idp = start().await;
    let resp = http()
        .get(format!(
            "{}/realms/nope/.well-known/openid-configuration",
            idp.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.text().await.unwrap(),
        r#"{"error":"Realm does not exist"}"#
    );
    let resp = post_form(
        &format!("{}/realms/nope/protocol/openid-connect/token", idp.url()),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(resp.status(), 404);
    // Under a realm that exists, an unknown path is Keycloak's "no such resource", not "no realm".
    let resp = http()
        .get(format!("{}/realms/iopole/nope", idp.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let (_, body) = status_json(resp).await;
    assert_eq!(
        body["error"],
        "Unable to find matching target resource method"
    );
}

/// `GET /realms/{realm}`: the realm's public key, which python-keycloak's `public_key()` and
/// older adapters verify tokens with.
#[tokio::test]
async fn realm_url_serves_the_public_key() {
    let idp = start().await;
    let issuer = idp.issuer_url("iopole").unwrap();
    let info = get_json(&issuer).await;
    assert_eq!(
        keys(&info),
        [
            "realm",
            "public_key",
            "token-service",
            "account-service",
            "tokens-not-before"
        ]
    );
    assert_eq!(info["realm"], "iopole");
    assert_eq!(
        info["token-service"],
        format!("{issuer}/protocol/openid-connect")
    );
    // A SubjectPublicKeyInfo: the rsaEncryption header of a 2048-bit key, then PKCS#1.
    use base64::Engine as _;
    let spki = base64::engine::general_purpose::STANDARD
        .decode(info["public_key"].as_str().unwrap())
        .unwrap();
    let (header, pkcs1) = spki.split_at(24);
    assert_eq!(
        header,
        b"\x30\x82\x01\x22\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00\x03\x82\x01\x0f\x00"
    );
    let key = jsonwebtoken::DecodingKey::from_rsa_der(pkcs1);
    let resp = post_form(
        &format!("{issuer}/protocol/openid-connect/token"),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "clientId"),
            ("client_secret", "clientSecret"),
        ],
    )
    .await;
    let (_, body) = status_json(resp).await;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&["account"]);
    let token = jsonwebtoken::decode::<serde_json::Value>(
        body["access_token"].as_str().unwrap(),
        &key,
        &validation,
    )
    .unwrap();
    assert_eq!(token.claims["azp"], "clientId");
}

/// Any realm name works: issuers are configuration.
#[tokio::test]
async fn a_configured_realm_serves_at_its_own_path() {
    let idp = start_with(
        r#"
        [[issuer]]
        name = "acme"
        dialect = "keycloak"
        realm = "Acme-Prod"
        access_token_ttl = 120
        [[issuer.client]]
        id = "svc"
        secret = "s3"
        grants = ["client_credentials"]
        scopes = ["profile", "email", "api"]
        default_scopes = ["profile"]
        roles = ["writer"]
        client_roles = { billing = ["read-invoices"] }
        claims = { tenant = "acme" }
        "#,
    )
    .await;
    let issuer = idp.issuer_url("acme").unwrap();
    assert!(issuer.ends_with("/realms/Acme-Prod"));
    let (status, body) = status_json(
        post_form(
            &format!("{issuer}/protocol/openid-connect/token"),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "svc"),
                ("client_secret", "s3"),
                ("scope", "api"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 120);
    assert_eq!(
        body["scope"], "profile api",
        "asked scopes add to the defaults"
    );
    let (_, claims) = verify_with_discovery(body["access_token"].as_str().unwrap(), &issuer).await;
    assert_eq!(claims["tenant"], "acme");
    assert_eq!(
        claims["resource_access"]["billing"]["roles"],
        serde_json::json!(["read-invoices"])
    );
    assert!(
        claims["realm_access"]["roles"]
            .as_array()
            .unwrap()
            .contains(&"default-roles-acme-prod".into())
    );
}

/// Keycloak's UserInfoEndpoint answers a client-credentials token (with `openid`) with its
/// service-account user; without `openid` it is refused like any token.
#[tokio::test]
async fn service_account_userinfo() {
    let idp = start().await;
    let issuer = idp.issuer_url("iopole").unwrap();
    let userinfo = |token: String| {
        let url = format!("{issuer}/protocol/openid-connect/userinfo");
        async move { http().get(url).bearer_auth(token).send().await.unwrap() }
    };
    let token = |scope: &'static str| {
        let url = format!("{issuer}/protocol/openid-connect/token");
        async move {
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", "clientId"),
                ("client_secret", "clientSecret"),
                ("scope", scope),
            ];
            let (_, body) = status_json(post_form(&url, &form).await).await;
            body["access_token"].as_str().unwrap().to_string()
        }
    };
    let access = token("openid").await;
    let (status, body) = status_json(userinfo(access.clone()).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["preferred_username"], "service-account-clientid");
    let (_, claims) = verify_with_discovery(&access, &idp.issuer_url("iopole").unwrap()).await;
    assert_eq!(body["sub"], claims["sub"]);
    assert_eq!(userinfo(token("profile").await).await.status(), 403);
}
