//! RFC 7523 §2.2 / OpenID Connect Core §9 client authentication: `private_key_jwt` with a key
//! shipped in `tests/keys/` (its public half in `client-jwks.json`, the fixture's `jwks_file`)
//! and `client_secret_jwt`, on Keycloak and IdentityServer3; each refusal in the product's words.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::util::*;

/// PKCS#1 DER (`openssl rsa -outform DER -traditional`); its public JWK is `client-jwks.json`.
const CLIENT_KEY: &[u8] = include_bytes!("../keys/client-key.der");
const SHARED_SECRET: &str = "a-shared-secret-of-at-least-32-bytes";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

const FIXTURES: &str = r#"
[[issuer]]
name = "kc"
dialect = "keycloak"
[[issuer.client]]
id = "signed"
token_endpoint_auth_method = "private_key_jwt"
jwks_file = "tests/keys/client-jwks.json"
grants = ["client_credentials"]
[[issuer.client]]
id = "hmac"
secret = "a-shared-secret-of-at-least-32-bytes"
token_endpoint_auth_method = "client_secret_jwt"
grants = ["client_credentials"]

[[issuer]]
name = "is"
dialect = "identityserver"
[[issuer.client]]
id = "signed"
token_endpoint_auth_method = "private_key_jwt"
jwks_file = "tests/keys/client-jwks.json"
grants = ["client_credentials"]
scopes = ["api"]

[[issuer]]
name = "dot"
dialect = "generic"
[[issuer.client]]
id = "app"
secret = "s"
grants = ["client_credentials"]
"#;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Claims of a good assertion by `client` for `aud`, with a fresh `jti`.
fn assertion_claims(client: &str, aud: &str) -> Value {
    json!({
        "iss": client,
        "sub": client,
        "aud": aud,
        "jti": format!("jti-{}", rand_id()),
        "iat": now(),
        "exp": now() + 60,
    })
}

fn rand_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn signed(claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("test-client-key".into());
    encode(&header, claims, &EncodingKey::from_rsa_der(CLIENT_KEY)).unwrap()
}

fn hmac_signed(claims: &Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// A client-credentials request authenticated by `assertion`.
async fn with_assertion(token_url: &str, assertion: &str) -> (u16, Value) {
    status_json(
        post_form(
            token_url,
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", assertion),
            ],
        )
        .await,
    )
    .await
}

fn refused_with(reply: (u16, Value), description: &str) {
    assert_eq!(
        reply,
        (
            400,
            json!({"error": "invalid_client", "error_description": description})
        )
    );
}

#[tokio::test]
async fn keycloak_signed_jwt_clients() {
    let idp = start_with(FIXTURES).await;
    let issuer = idp.issuer_url("kc").unwrap();
    let token_url = format!("{issuer}/protocol/openid-connect/token");

    // private_key_jwt, aud = the token endpoint, then the issuer (both are Keycloak's).
    let good = signed(&assertion_claims("signed", &token_url));
    let (status, body) = with_assertion(&token_url, &good).await;
    assert_eq!(status, 200, "{body}");
    let (_, claims) = verify_with_discovery(body["access_token"].as_str().unwrap(), &issuer).await;
    assert_eq!(claims["azp"], "signed");
    let (status, body) =
        with_assertion(&token_url, &signed(&assertion_claims("signed", &issuer))).await;
    assert_eq!(status, 200, "{body}");
    // The same assertion again.
    refused_with(
        with_assertion(&token_url, &good).await,
        "Token reuse detected",
    );

    // Wrong audience, expired, bad signature, an HMAC on a key client, no jti.
    let other = signed(&assertion_claims("signed", "https://elsewhere.test/token"));
    refused_with(
        with_assertion(&token_url, &other).await,
        "Invalid token audience",
    );
    let mut expired = assertion_claims("signed", &token_url);
    expired["iat"] = json!(now() - 120);
    expired["exp"] = json!(now() - 60);
    refused_with(
        with_assertion(&token_url, &signed(&expired)).await,
        "Token is not active",
    );
    let good = signed(&assertion_claims("signed", &token_url));
    let tampered = format!("{}AAAA", &good[..good.len() - 4]);
    refused_with(
        with_assertion(&token_url, &tampered).await,
        "Signature on JWT token failed validation",
    );
    let hmac = hmac_signed(&assertion_claims("signed", &token_url), SHARED_SECRET);
    refused_with(
        with_assertion(&token_url, &hmac).await,
        "Invalid signature algorithm",
    );
    let mut no_jti = assertion_claims("signed", &token_url);
    no_jti.as_object_mut().unwrap().remove("jti");
    refused_with(
        with_assertion(&token_url, &signed(&no_jti)).await,
        "Token jti claim is required",
    );
    let mut forged_iss = assertion_claims("signed", &token_url);
    forged_iss["iss"] = json!("hmac");
    let (status, body) = with_assertion(&token_url, &signed(&forged_iss)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_client")),
        "{body}"
    );

    // client_secret_jwt: HS256 with the client's secret; another secret does not sign.
    let (status, body) = with_assertion(
        &token_url,
        &hmac_signed(&assertion_claims("hmac", &token_url), SHARED_SECRET),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    refused_with(
        with_assertion(
            &token_url,
            &hmac_signed(
                &assertion_claims("hmac", &token_url),
                "not-the-shared-secret-at-all!!",
            ),
        )
        .await,
        "Signature on JWT token failed validation",
    );

    // The assertion parameters themselves.
    let (status, body) = status_json(
        post_form(
            &token_url,
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion", &good),
            ],
        )
        .await,
    )
    .await;
    refused_with((status, body), "Parameter client_assertion_type is missing");
    // A JWT client cannot fall back to its secret: only its configured authenticator counts.
    let (status, body) = status_json(
        post_form(
            &token_url,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "hmac"),
                ("client_secret", SHARED_SECRET),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "unauthorized_client");

    let d = get_json(&format!("{issuer}/.well-known/openid-configuration")).await;
    let methods = d["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap();
    assert!(
        methods.contains(&json!("private_key_jwt"))
            && methods.contains(&json!("client_secret_jwt"))
    );
    let algs = d["token_endpoint_auth_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    assert!(algs.contains(&json!("RS256")) && algs.contains(&json!("HS256")));
}

#[tokio::test]
async fn identityserver_private_key_jwt() {
    let idp = start_with(FIXTURES).await;
    let issuer = idp.issuer_url("is").unwrap();
    let token_url = format!("{issuer}/connect/token");
    let good = signed(&assertion_claims("signed", &token_url));
    let (status, body) = with_assertion(&token_url, &good).await;
    assert_eq!(status, 200, "{body}");
    // PrivateKeyJwtSecretValidator's audience is the token endpoint only.
    let (status, body) =
        with_assertion(&token_url, &signed(&assertion_claims("signed", &issuer))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_client")),
        "{body}"
    );
    let (status, body) = with_assertion(&token_url, &good).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_client")),
        "{body}"
    );
    let d = get_json(&format!("{issuer}/.well-known/openid-configuration")).await;
    assert!(
        d["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("private_key_jwt"))
    );
}

/// Django OAuth Toolkit 3.4 has no RFC 7523 client authentication: refused, as an
/// unauthenticated client is (401, its Bearer challenge), and refused at load in fixtures.
#[tokio::test]
async fn generic_takes_no_client_assertions() {
    let idp = start_with(FIXTURES).await;
    let token_url = format!("{}/token/", idp.url());
    let assertion = hmac_signed(&assertion_claims("app", &token_url), "s");
    let resp = post_form(
        &token_url,
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &assertion),
        ],
    )
    .await;
    assert_eq!(
        resp.headers()["www-authenticate"],
        "Bearer error=\"invalid_client\""
    );
    let (status, body) = status_json(resp).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let d = get_json(&format!("{}/.well-known/openid-configuration", idp.url())).await;
    assert!(
        !d["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("private_key_jwt"))
    );
}

const CLIENT_JWKS: &str = include_str!("../keys/client-jwks.json");

/// A Keycloak issuer with one private_key_jwt client whose keys are at `jwks_url`.
async fn with_keys_at(jwks_url: &str, ca_file: Option<&str>) -> (mockidp::MockIdp, String) {
    let ca_line = ca_file.map_or(String::new(), |f| format!("ca_file = \"{f}\"\n"));
    let idp = start_with(&format!(
        "[[issuer]]\nname = \"kc\"\ndialect = \"keycloak\"\n[[issuer.client]]\nid = \"remote\"\n\
         token_endpoint_auth_method = \"private_key_jwt\"\njwks_url = \"{jwks_url}\"\n{ca_line}\
         grants = [\"client_credentials\"]\n"
    ))
    .await;
    let token_url = format!(
        "{}/protocol/openid-connect/token",
        idp.issuer_url("kc").unwrap()
    );
    (idp, token_url)
}

/// A private_key_jwt client whose JWKS is served over `https://` by a server whose
/// certificate a private CA signed (fixtures/tls): trusted through the client's `ca_file`;
/// without it the certificate is refused, in Keycloak's words for keys it cannot load.
#[tokio::test]
async fn private_key_jwt_keys_from_an_https_jwks_url() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let server = serve_json(CLIENT_JWKS, true);
    assert!(server.url.starts_with("https://"));
    let ca = format!("{dir}/fixtures/tls/ca.crt");
    let (_idp, token_url) = with_keys_at(&server.url, Some(&ca)).await;
    let (status, body) =
        with_assertion(&token_url, &signed(&assertion_claims("remote", &token_url))).await;
    assert_eq!(status, 200, "{body}");
    // Cached: a second assertion does not fetch again.
    let (status, body) =
        with_assertion(&token_url, &signed(&assertion_claims("remote", &token_url))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(server.hits.load(std::sync::atomic::Ordering::SeqCst), 1);

    let (_idp, token_url) = with_keys_at(&server.url, None).await;
    let (status, body) =
        with_assertion(&token_url, &signed(&assertion_claims("remote", &token_url))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_client"))
    );
    let why = body["error_description"].as_str().unwrap();
    assert!(
        why.starts_with("Unable to load public key: fetching https://")
            && why.contains("certificate"),
        "{why}"
    );
}

/// While a client's `jwks_url` accepts connections and never answers, four token requests
/// that need it wait for it without holding the server's workers: unrelated requests are
/// served at their usual speed meanwhile, and the four fail after a bounded time.
#[tokio::test]
async fn a_silent_client_jwks_url_stalls_nothing_else() {
    let silent = serve_once_forever(None).await;
    let (idp, token_url) = with_keys_at(&silent, None).await;
    let discovery = format!(
        "{}/.well-known/openid-configuration",
        idp.issuer_url("kc").unwrap()
    );
    let started = std::time::Instant::now();
    let requests = async {
        let assertions: Vec<String> = (0..4)
            .map(|_| signed(&assertion_claims("remote", &token_url)))
            .collect();
        let (a, b, c, d) = tokio::join!(
            with_assertion(&token_url, &assertions[0]),
            with_assertion(&token_url, &assertions[1]),
            with_assertion(&token_url, &assertions[2]),
            with_assertion(&token_url, &assertions[3])
        );
        [a, b, c, d]
    };
    let (results, slowest) = tokio::join!(requests, slowest_of_ten_gets(&discovery));
    for (status, body) in results {
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_client")),
            "{body}"
        );
        let why = body["error_description"].as_str().unwrap();
        assert!(why.contains("no answer in time"), "{why}");
    }
    assert!(
        slowest < std::time::Duration::from_millis(500),
        "an unrelated request took {slowest:?} while the client's JWKS URL was silent"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "bounded"
    );
}

/// A client that rotates its key: an assertion naming a `kid` the cached set lacks makes the
/// server fetch the set again (at most every 10 s, as Keycloak's `minTimeBetweenRequests`),
/// and the new key is used.
#[tokio::test]
async fn a_rotated_client_key_is_picked_up_through_its_unknown_kid() {
    let old = CLIENT_JWKS.replace("test-client-key", "retired-key");
    let server = serve_json(&old, false);
    let (_idp, token_url) = with_keys_at(&server.url, None).await;
    let assertion = || signed(&assertion_claims("remote", &token_url));
    refused_with(
        with_assertion(&token_url, &assertion()).await,
        "Signature on JWT token failed validation",
    );
    *server.body.lock().unwrap() = CLIENT_JWKS.to_string();
    // Within the refetch interval the cached set answers.
    refused_with(
        with_assertion(&token_url, &assertion()).await,
        "Signature on JWT token failed validation",
    );
    assert_eq!(server.hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    tokio::time::sleep(std::time::Duration::from_millis(10_200)).await;
    let (status, body) = with_assertion(&token_url, &assertion()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(server.hits.load(std::sync::atomic::Ordering::SeqCst), 2);
}
