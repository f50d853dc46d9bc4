//! Token exchange (RFC 8693) as the generic seed scripts it, the protected resource,
//! introspection (RFC 7662) and revocation (RFC 7009).

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::util::*;

const AT: &str = "urn:ietf:params:oauth:token-type:access_token";
const TE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const EXTERNAL: &str = "https://idp.partner.test";

/// An external IdP made up by the test: a P-256 key, its JWKS in a file, tokens it signs.
struct ExternalIdp {
    key: EcdsaKeyPair,
    jwks_path: std::path::PathBuf,
}

impl ExternalIdp {
    fn new() -> Self {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let point = key.public_key().as_ref().to_vec();
        let jwks = json!({"keys": [{
            "kty": "EC", "crv": "P-256", "kid": "partner-1", "alg": "ES256", "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        }]});
        let dir = std::env::temp_dir().join(format!(
            "mockidp-ext-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let jwks_path = dir.join("jwks.json");
        std::fs::write(&jwks_path, jwks.to_string()).unwrap();
        Self { key, jwks_path }
    }

    /// A token of this IdP, signed ES256 with jsonwebtoken.
    fn token(&self, claims: Value) -> String {
        let der = self.key.to_pkcs8v1().unwrap();
        let key = jsonwebtoken::EncodingKey::from_ec_der(der.as_ref());
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some("partner-1".into());
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    }

    fn user_token(&self, exp_offset: i64) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        self.token(json!({
            "iss": EXTERNAL, "sub": "partner-user-42", "aud": "partner-api",
            "email": "carol@partner.test", "iat": now, "exp": now + exp_offset,
        }))
    }

    /// Fixtures: the default generic issuer trusting this IdP through its JWKS file.
    fn fixtures(&self) -> String {
        let defaults = mockidp::config::DEFAULT_FIXTURES;
        let trusted = format!(
            "\n[[issuer.trusted_issuer]]\nissuer = \"{EXTERNAL}\"\njwks_file = \"{}\"\n",
            self.jwks_path.display()
        );
        // The generic issuer is the last one in the default fixtures: append to it.
        let (head, tail) = defaults.split_at(
            defaults
                .rfind("[[issuer.client]]\nid = \"generic-confidential\"")
                .unwrap(),
        );
        format!("{head}{trusted}\n{tail}")
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// Step 1 of the seed: client credentials with HTTP Basic.
async fn cc_token(idp: &mockidp::MockIdp) -> String {
    let (status, body) = status_json(
        http()
            .post(format!("{}/token/", idp.url()))
            .basic_auth("generic-confidential", Some("generic-confidential-secret"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

/// Step 2: POST /token with the client's token raw in Authorization and as actor_token.
async fn exchange(idp: &mockidp::MockIdp, auth: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    status_json(
        http()
            .post(format!("{}/token", idp.url()))
            .header("Authorization", auth)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// Step 3: GET /resource/ with the raw token.
async fn resource(idp: &mockidp::MockIdp, auth: &str) -> (u16, Value, Option<String>) {
    let resp = http()
        .get(format!("{}/resource/", idp.url()))
        .header("Authorization", auth)
        .send()
        .await
        .unwrap();
    let www = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    let (status, body) = status_json(resp).await;
    (status, body, www)
}

fn seed_form<'a>(cc: &'a str, subject: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", TE),
        ("actor_token_type", AT),
        ("actor_token", cc),
        ("subject_token_type", AT),
        ("subject_token", subject),
    ]
}

/// The seed's three steps with a subject token from an external IdP trusted through a JWKS file.
#[tokio::test]
async fn seed_exchange_with_an_external_idp() {
    let ext = ExternalIdp::new();
    let idp = start_with(&ext.fixtures()).await;
    let cc = cc_token(&idp).await;
    let subject = ext.user_token(600);
    let (status, body) = exchange(&idp, &cc, &seed_form(&cc, &subject)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        keys(&body),
        [
            "access_token",
            "expires_in",
            "token_type",
            "scope",
            "issued_token_type"
        ]
    );
    assert_eq!(body["issued_token_type"], AT);
    assert_eq!(body["token_type"], "Bearer");
    let token = body["access_token"].as_str().unwrap();
    let (_, claims) = verify_with_discovery(token, &idp.url()).await;
    assert_eq!(claims["sub"], "partner-user-42");
    assert_eq!(
        claims["act"],
        json!({"sub": "generic-confidential", "client_id": "generic-confidential"})
    );
    for auth in [token.to_string(), format!("Bearer {token}")] {
        let (status, who, _) = resource(&idp, &auth).await;
        assert_eq!(status, 200, "{who}");
        assert_eq!(who["sub"], "partner-user-42");
        assert_eq!(who["client_id"], "generic-confidential");
        assert_eq!(who["act"]["client_id"], "generic-confidential");
        assert!(who["exp"].as_u64().unwrap() > 0);
    }
    // Bearer is accepted for the client's token too, and a subject that already had an actor
    // gets a nested act.
    let chained = ext.token(json!({"iss": EXTERNAL, "sub": "u2", "exp": 4_000_000_000u64, "act": {"sub": "upstream-service"}}));
    let (status, body) = exchange(&idp, &format!("Bearer {cc}"), &seed_form(&cc, &chained)).await;
    assert_eq!(status, 200, "{body}");
    let (_, claims) =
        verify_with_discovery(body["access_token"].as_str().unwrap(), &idp.url()).await;
    assert_eq!(claims["act"]["act"], json!({"sub": "upstream-service"}));
}

/// The same with a subject token issued by another issuer of this server (Inqom).
#[tokio::test]
async fn seed_exchange_with_a_hosted_issuer_subject() {
    let idp = start().await;
    let inqom = idp.issuer_url("inqom").unwrap();
    let loc = Browserless::new()
        .authorize(
            &format!("{inqom}/connect/authorize?response_type=code&client_id=SandboxAuthorizationCode&redirect_uri=http%3A%2F%2Flocalhost%3A8080&scope=openid%20email%20apidata"),
            "alice",
            "alice",
        )
        .await;
    let (_, tokens) = status_json(
        post_form(
            &format!("{inqom}/connect/token"),
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "SandboxAuthorizationCode"),
                ("client_secret", "C8hXEbmW23vNpoV7Zi13"),
                ("code", &query_params(&loc)["code"]),
                ("redirect_uri", "http://localhost:8080"),
            ],
        )
        .await,
    )
    .await;
    let subject = tokens["access_token"].as_str().unwrap();
    let cc = cc_token(&idp).await;
    let (status, body) = exchange(&idp, &cc, &seed_form(&cc, subject)).await;
    assert_eq!(status, 200, "{body}");
    let (status, who, _) = resource(&idp, body["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let (_, inqom_claims) = verify_with_discovery(subject, &inqom).await;
    assert_eq!(who["sub"], inqom_claims["sub"]);
    // An ID token is not an access token.
    let (status, body) = exchange(
        &idp,
        &cc,
        &seed_form(&cc, tokens["id_token"].as_str().unwrap()),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
}

/// Every way a token exchange can be wrong gets its RFC 8693 / 6749 error.
#[tokio::test]
async fn exchange_errors() {
    let ext = ExternalIdp::new();
    let idp = start_with(&ext.fixtures()).await;
    let cc = cc_token(&idp).await;
    let good = ext.user_token(600);
    let stranger = ExternalIdp::new();
    let untrusted =
        stranger.token(json!({"iss": "https://evil.test", "sub": "x", "exp": 4_000_000_000u64}));
    let forged = stranger.token(json!({"iss": EXTERNAL, "sub": "x", "exp": 4_000_000_000u64}));
    // Claims to come from this very server, signed by another key.
    let forged_here =
        stranger.token(json!({"iss": idp.url(), "sub": "x", "exp": 4_000_000_000u64}));
    let expired = ext.user_token(-10);
    let other_cc = {
        let (_, b) = status_json(
            post_form(
                &format!("{}/token/", idp.url()),
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", "other"),
                    ("client_secret", "x"),
                ],
            )
            .await,
        )
        .await;
        b
    };
    assert_eq!(other_cc["error"], "invalid_client");
    type Case<'a> = (
        &'a str,
        Vec<(&'a str, &'a str)>,
        &'a str,
        u16,
        &'a str,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "untrusted issuer",
            seed_form(&cc, &untrusted),
            &cc,
            400,
            "invalid_request",
            "not trusted",
        ),
        (
            "this server's issuer, another key",
            seed_form(&cc, &forged_here),
            &cc,
            400,
            "invalid_request",
            "is not this server's",
        ),
        (
            "bad signature",
            seed_form(&cc, &forged),
            &cc,
            400,
            "invalid_request",
            "signature",
        ),
        (
            "expired subject",
            seed_form(&cc, &expired),
            &cc,
            400,
            "invalid_request",
            "expired",
        ),
        (
            "not a JWT",
            seed_form(&cc, "abc"),
            &cc,
            400,
            "invalid_request",
            "not a JWT",
        ),
        (
            "missing subject",
            vec![("grant_type", TE), ("subject_token_type", AT)],
            &cc,
            400,
            "invalid_request",
            "subject_token",
        ),
        (
            "wrong token type",
            vec![
                ("grant_type", TE),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:saml2",
                ),
                ("subject_token", &good),
            ],
            &cc,
            400,
            "invalid_request",
            "saml2",
        ),
        (
            "actor without type",
            vec![
                ("grant_type", TE),
                ("subject_token_type", AT),
                ("subject_token", &good),
                ("actor_token", &cc),
            ],
            &cc,
            400,
            "invalid_request",
            "actor_token_type",
        ),
        (
            "bad client token",
            seed_form(&cc, &good),
            "not-a-token",
            401,
            "invalid_client",
            "Authorization",
        ),
        (
            "quoted grant_type",
            vec![
                (
                    "grant_type",
                    "\"urn:ietf:params:oauth:grant-type:token-exchange\"",
                ),
                ("subject_token", &good),
            ],
            &cc,
            400,
            "unsupported_grant_type",
            "quotes",
        ),
    ];
    for (name, form, auth, status, error, needle) in cases {
        let (s, body) = exchange(&idp, auth, &form).await;
        assert_eq!(
            (s, body["error"].as_str()),
            (status, Some(error)),
            "{name}: {body}"
        );
        assert!(
            body["error_description"].as_str().unwrap().contains(needle),
            "{name}: {body}"
        );
    }
    // The actor token must be the caller's own.
    let mut cfg = ext.fixtures();
    cfg = cfg.replace(
        "[[issuer.client]]\nid = \"generic-public\"",
        "[[issuer.client]]\nid = \"second\"\nsecret = \"second-secret\"\ngrants = [\"client_credentials\", \"urn:ietf:params:oauth:grant-type:token-exchange\"]\nscopes = [\"read\"]\n\n[[issuer.client]]\nid = \"generic-public\"",
    );
    let idp = start_with(&cfg).await;
    let cc = cc_token(&idp).await;
    let (_, second) = status_json(
        post_form(
            &format!("{}/token/", idp.url()),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "second"),
                ("client_secret", "second-secret"),
            ],
        )
        .await,
    )
    .await;
    let second = second["access_token"].as_str().unwrap();
    let (s, body) = exchange(&idp, &cc, &seed_form(second, &ext.user_token(600))).await;
    assert_eq!(
        (s, body["error"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("not issued to the authenticated client")
    );
}

/// `/resource/`: 401 for missing, malformed, expired, revoked or foreign tokens; 403 for a
/// missing scope on a configured resource.
#[tokio::test]
async fn resource_refusals() {
    let idp = start_with(&format!(
        "{}\n[[issuer.resource]]\npath = \"/resource/\"\n\n[[issuer.resource]]\npath = \"/api/admin\"\nscope = \"admin\"\n",
        mockidp::config::DEFAULT_FIXTURES
    ))
    .await;
    let cc = cc_token(&idp).await;
    let (status, _, www) = resource(&idp, "").await;
    assert_eq!(status, 401);
    assert!(www.unwrap().starts_with("Bearer realm="));
    let (status, body, www) = resource(&idp, "Bearer not.a.token").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token"))
    );
    assert!(www.unwrap().contains("error=\"invalid_token\""));
    let (_, kc) = status_json(
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
    let (status, body, _) = resource(&idp, kc["access_token"].as_str().unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token")),
        "foreign: {body}"
    );
    let resp = http()
        .get(format!("{}/api/admin", idp.url()))
        .bearer_auth(&cc)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("insufficient_scope")
    );
    let (status, _, _) = resource(&idp, &cc).await;
    assert_eq!(status, 200);
    idp.clock().advance(36_001);
    let (status, body, _) = resource(&idp, &cc).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token")),
        "expired"
    );
}

/// Introspection and revocation round trip on every dialect; revoked tokens are refused.
#[tokio::test]
async fn introspect_and_revoke_on_every_dialect() {
    let idp = start().await;
    let cases = [
        (
            format!("{}/realms/iopole/protocol/openid-connect", idp.url()),
            "token",
            "token/introspect",
            "revoke",
            "clientId",
            "clientSecret",
        ),
        (
            format!("{}/identity/connect", idp.url()),
            "token",
            "introspect",
            "revocation",
            "inqom-service",
            "inqom-service-secret",
        ),
        (
            idp.url(),
            "token/",
            "introspect/",
            "revoke_token/",
            "generic-confidential",
            "generic-confidential-secret",
        ),
    ];
    for (base, token_path, introspect_path, revoke_path, id, secret) in cases {
        let call = |path: &str, form: Vec<(&'static str, String)>| {
            let url = format!("{base}/{path}");
            async move {
                status_json(
                    http()
                        .post(url)
                        .basic_auth(id, Some(secret))
                        .form(&form)
                        .send()
                        .await
                        .unwrap(),
                )
                .await
            }
        };
        let (_, t) = call(
            token_path,
            vec![("grant_type", "client_credentials".into())],
        )
        .await;
        let at = t["access_token"].as_str().unwrap().to_string();
        let (status, info) = call(introspect_path, vec![("token", at.clone())]).await;
        assert_eq!(status, 200, "{base}: {info}");
        assert_eq!(info["active"], true, "{base}");
        assert_eq!(info["client_id"], id);
        let (status, _) = call(
            revoke_path,
            vec![
                ("token", at.clone()),
                ("token_type_hint", "access_token".into()),
            ],
        )
        .await;
        assert_eq!(status, 200, "{base}");
        let (_, info) = call(introspect_path, vec![("token", at.clone())]).await;
        assert_eq!(info, json!({"active": false}), "{base}");
        let (status, _) = call(revoke_path, vec![("token", "unknown-token".into())]).await;
        assert_eq!(status, 200, "unknown tokens are not an error");
        let resp = http()
            .post(format!("{base}/{introspect_path}"))
            .form(&[("token", at.as_str())])
            .send()
            .await
            .unwrap();
        assert!(
            resp.status() == 400 || resp.status() == 401,
            "introspection needs client authentication"
        );
    }
    let d = get_json(&format!(
        "{}/identity/.well-known/openid-configuration",
        idp.url()
    ))
    .await;
    assert_eq!(
        d["revocation_endpoint"],
        format!("{}/identity/connect/revocation", idp.url())
    );
    assert_eq!(
        d["introspection_endpoint"],
        format!("{}/identity/connect/introspect", idp.url())
    );
}

/// Revoking a refresh token ends its access tokens where the product does (Django OAuth
/// Toolkit), not where access tokens are self-contained (IdentityServer3).
#[tokio::test]
async fn revoking_a_refresh_token() {
    let idp = start().await;
    let (verifier, challenge) = pkce_pair();
    let loc = Browserless::new()
        .authorize(
            &format!("{}/authorize/?response_type=code&client_id=generic-public&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&scope=openid%20read&code_challenge={challenge}&code_challenge_method=S256", idp.url()),
            "alice",
            "alice",
        )
        .await;
    let (_, t) = status_json(
        post_form(
            &format!("{}/token/", idp.url()),
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "generic-public"),
                ("code", &query_params(&loc)["code"]),
                ("redirect_uri", "http://localhost:8080/callback"),
                ("code_verifier", &verifier),
            ],
        )
        .await,
    )
    .await;
    let at = t["access_token"].as_str().unwrap();
    let rt = t["refresh_token"].as_str().unwrap();
    let (status, info) = status_json(
        post_form(
            &format!("{}/introspect/", idp.url()),
            &[
                ("client_id", "generic-confidential"),
                ("client_secret", "generic-confidential-secret"),
                ("token", rt),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, info["active"].as_bool()),
        (200, Some(true)),
        "{info}"
    );
    assert_eq!(resource(&idp, at).await.0, 200);
    let resp = post_form(
        &format!("{}/revoke_token/", idp.url()),
        &[("client_id", "generic-public"), ("token", rt)],
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resource(&idp, at).await.0,
        401,
        "the access token went with its refresh token"
    );
    let (status, body) = status_json(
        post_form(
            &format!("{}/token/", idp.url()),
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "generic-public"),
                ("refresh_token", rt),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

/// Keycloak's standard token exchange: same realm, audience must be a client, no actor token.
#[tokio::test]
async fn keycloak_standard_token_exchange() {
    let idp = start_with(
        r#"
        [[issuer]]
        name = "kc"
        dialect = "keycloak"
        [[issuer.client]]
        id = "gateway"
        secret = "gw"
        grants = ["client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"]
        [[issuer.client]]
        id = "backend"
        secret = "be"
        grants = ["client_credentials"]
        "#,
    )
    .await;
    let issuer = idp.issuer_url("kc").unwrap();
    let token_url = format!("{issuer}/protocol/openid-connect/token");
    let cc = |id: &'static str, secret: &'static str| {
        let token_url = token_url.clone();
        async move {
            let (_, b) = status_json(
                post_form(
                    &token_url,
                    &[
                        ("grant_type", "client_credentials"),
                        ("client_id", id),
                        ("client_secret", secret),
                    ],
                )
                .await,
            )
            .await;
            b["access_token"].as_str().unwrap().to_string()
        }
    };
    let own = cc("gateway", "gw").await;
    let xchg = |subject: String, extra: Vec<(&'static str, &'static str)>| {
        let token_url = token_url.clone();
        async move {
            let mut form = vec![
                ("grant_type", TE.to_string()),
                ("subject_token", subject),
                ("subject_token_type", AT.to_string()),
            ];
            form.extend(extra.into_iter().map(|(k, v)| (k, v.to_string())));
            status_json(
                http()
                    .post(&token_url)
                    .basic_auth("gateway", Some("gw"))
                    .form(&form)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let (status, body) = xchg(own.clone(), vec![("audience", "backend")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["issued_token_type"], AT);
    assert_eq!(body["refresh_expires_in"], 0);
    let (_, claims) = verify_with_discovery(body["access_token"].as_str().unwrap(), &issuer).await;
    assert_eq!(claims["aud"], json!(["backend"]));
    let (status, body) = xchg(own.clone(), vec![("audience", "nobody")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("Requested audience not available")
    );
    let (status, body) = xchg(
        own.clone(),
        vec![("actor_token", "x"), ("actor_token_type", AT)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
    let theirs = cc("backend", "be").await;
    let (status, body) = xchg(theirs, vec![]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request")),
        "not in the audience: {body}"
    );
    // A client not configured for token exchange.
    let (status, body) = status_json(
        http()
            .post(&token_url)
            .basic_auth("backend", Some("be"))
            .form(&[
                ("grant_type", TE),
                ("subject_token", &own),
                ("subject_token_type", AT),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{body}"
    );
}

/// IdentityServer: the grant works for a client configured for it (an extension grant).
#[tokio::test]
async fn identityserver_extension_grant() {
    let idp = start_with(
        r#"
        [[issuer]]
        name = "is"
        dialect = "identityserver"
        [[issuer.client]]
        id = "api"
        secret = "s"
        grants = ["client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"]
        scopes = ["api"]
        "#,
    )
    .await;
    let issuer = idp.issuer_url("is").unwrap();
    let (_, t) = status_json(
        post_form(
            &format!("{issuer}/connect/token"),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "api"),
                ("client_secret", "s"),
            ],
        )
        .await,
    )
    .await;
    let own = t["access_token"].as_str().unwrap();
    let (status, body) = status_json(
        post_form(
            &format!("{issuer}/connect/token"),
            &[
                ("grant_type", TE),
                ("client_id", "api"),
                ("client_secret", "s"),
                ("subject_token", own),
                ("subject_token_type", AT),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["issued_token_type"], AT);
}

/// A tiny HTTP server on loopback answering every request with `body` (or never answering).
async fn serve_once_forever(body: Option<String>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut held = Vec::new();
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let mut buf = [0u8; 2048];
            let _ = sock.read(&mut buf).await;
            match &body {
                Some(b) => {
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
                        b.len()
                    );
                    let _ = sock.write_all(resp.as_bytes()).await;
                }
                None => held.push(sock), // never answer
            }
        }
    });
    format!("http://{addr}/jwks.json")
}

/// Trusted issuers' keys from a JWKS URL: fetched (and cached); a URL that never answers
/// fails the exchange after a bounded timeout instead of hanging it.
#[tokio::test]
async fn jwks_url_is_fetched_with_a_timeout() {
    let ext = ExternalIdp::new();
    let jwks = std::fs::read_to_string(&ext.jwks_path).unwrap();
    for (url, works) in [
        (serve_once_forever(Some(jwks)).await, true),
        (serve_once_forever(None).await, false),
    ] {
        let cfg = ext.fixtures().replace(
            &format!("jwks_file = \"{}\"", ext.jwks_path.display()),
            &format!("jwks_url = \"{url}\""),
        );
        let idp = start_with(&cfg).await;
        let cc = cc_token(&idp).await;
        let started = std::time::Instant::now();
        let (status, body) = exchange(&idp, &cc, &seed_form(&cc, &ext.user_token(600))).await;
        if works {
            assert_eq!(status, 200, "{body}");
        } else {
            assert_eq!(
                (status, body["error"].as_str()),
                (400, Some("invalid_request")),
                "{body}"
            );
            assert!(
                body["error_description"]
                    .as_str()
                    .unwrap()
                    .contains("fetching"),
                "{body}"
            );
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "bounded"
            );
        }
    }
}

/// The default fixtures with the generic issuer trusting one more issuer, as `block` says.
fn fixtures_trusting(block: &str) -> String {
    let defaults = mockidp::config::DEFAULT_FIXTURES;
    let (head, tail) = defaults.split_at(
        defaults
            .rfind("[[issuer.client]]\nid = \"generic-confidential\"")
            .unwrap(),
    );
    format!("{head}\n[[issuer.trusted_issuer]]\n{block}\n{tail}")
}

/// While a trusted issuer's `jwks_url` accepts connections and never answers, four token
/// exchanges that need it wait for it without holding the server's workers: unrelated
/// requests meanwhile are served at their usual speed (they waited ~3 s when the fetch blocked
/// a worker under a lock).
#[tokio::test]
async fn a_silent_jwks_url_stalls_nothing_else() {
    let ext = ExternalIdp::new();
    let silent = serve_once_forever(None).await;
    let idp = start_with(&fixtures_trusting(&format!(
        "issuer = \"{EXTERNAL}\"\njwks_url = \"{silent}\""
    )))
    .await;
    let cc = cc_token(&idp).await;
    let subject = ext.user_token(600);
    let form = seed_form(&cc, &subject);
    let discovery = format!("{}/.well-known/openid-configuration", idp.url());
    let started = std::time::Instant::now();
    let exchanges = async {
        let (a, b, c, d) = tokio::join!(
            exchange(&idp, &cc, &form),
            exchange(&idp, &cc, &form),
            exchange(&idp, &cc, &form),
            exchange(&idp, &cc, &form)
        );
        [a, b, c, d]
    };
    let timed = async {
        // Let the exchanges reach the fetch first.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let mut slowest = std::time::Duration::ZERO;
        for _ in 0..10 {
            let t = std::time::Instant::now();
            let resp = http().get(&discovery).send().await.unwrap();
            assert_eq!(resp.status(), 200);
            slowest = slowest.max(t.elapsed());
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        slowest
    };
    let (results, slowest) = tokio::join!(exchanges, timed);
    for (status, body) in results {
        assert_eq!(status, 400, "{body}");
        let why = body["error_description"].as_str().unwrap();
        assert!(
            why.contains("fetching") && why.contains("no answer in time"),
            "{why}"
        );
    }
    assert!(
        slowest < std::time::Duration::from_millis(500),
        "an unrelated request took {slowest:?} while the JWKS URL was silent"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "bounded"
    );
}

/// A trusted issuer whose JWKS is served over `https://` by a server with a private CA
/// (fixtures/tls): trusted through `ca_file`; without it the certificate is refused.
#[tokio::test]
async fn an_https_jwks_behind_a_private_ca_is_trusted_through_ca_file() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let partner = start_tls().await;
    let partner_iss = partner.issuer_url("iopole").unwrap();
    assert!(partner_iss.starts_with("https://127.0.0.1:"));
    let jwks_url = format!("{partner_iss}/protocol/openid-connect/certs");
    let subject = partner
        .token("iopole", "clientId")
        .user("alice")
        .sign()
        .unwrap();
    for ca in [Some(format!("{dir}/fixtures/tls/ca.crt")), None] {
        let ca_line = ca
            .as_ref()
            .map_or(String::new(), |f| format!("ca_file = \"{f}\""));
        let idp = start_with(&fixtures_trusting(&format!(
            "issuer = \"{partner_iss}\"\njwks_url = \"{jwks_url}\"\n{ca_line}"
        )))
        .await;
        let cc = cc_token(&idp).await;
        let (status, body) = exchange(&idp, &cc, &seed_form(&cc, &subject)).await;
        if ca.is_some() {
            assert_eq!(status, 200, "{body}");
            let claims = decode_unverified_claims(body["access_token"].as_str().unwrap());
            assert_eq!(claims["sub"], decode_unverified_claims(&subject)["sub"]);
        } else {
            assert_eq!(status, 400, "{body}");
            let why = body["error_description"].as_str().unwrap();
            assert!(
                why.contains("fetching") && why.contains("certificate"),
                "{why}"
            );
        }
    }
}

fn decode_unverified_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}
