//! Helpers shared by the integration tests.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use mockidp::{Config, MockIdp};
use serde_json::Value;

/// A server on the default fixtures.
pub async fn start() -> MockIdp {
    MockIdp::start().await.expect("mockidp starts")
}

/// A server on the given TOML fixtures.
pub async fn start_with(toml: &str) -> MockIdp {
    let config = Config::from_toml(toml).expect("test fixtures are valid");
    MockIdp::builder()
        .config(config)
        .start()
        .await
        .expect("mockidp starts")
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// POSTs a form (as `application/x-www-form-urlencoded`).
pub async fn post_form(url: &str, form: &[(&str, &str)]) -> reqwest::Response {
    http().post(url).form(form).send().await.unwrap()
}

/// Status and JSON body of a response (`Value::Null` for an empty body).
pub async fn status_json(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    (status, body)
}

pub async fn get_json(url: &str) -> Value {
    let resp = http().get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "GET {url}");
    resp.json().await.unwrap()
}

/// Verifies `token` against the JWKS that `issuer`'s discovery document points to, checking
/// `iss` and expiry, and returns its header and claims.
pub async fn verify_with_discovery(token: &str, issuer: &str) -> (jsonwebtoken::Header, Value) {
    try_verify(token, issuer)
        .await
        .expect("token verifies against the JWKS")
}

/// [`verify_with_discovery`] that reports failure instead of panicking.
pub async fn try_verify(
    token: &str,
    issuer: &str,
) -> Result<(jsonwebtoken::Header, Value), String> {
    let discovery = get_json(&format!("{issuer}/.well-known/openid-configuration")).await;
    assert_eq!(discovery["issuer"], issuer);
    let jwks_uri = discovery["jwks_uri"].as_str().expect("jwks_uri");
    let jwks: JwkSet =
        serde_json::from_value(get_json(jwks_uri).await).map_err(|e| e.to_string())?;
    let header = decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.clone().ok_or("no kid in header")?;
    let jwk = jwks
        .find(&kid)
        .ok_or("the header's kid is not in the JWKS")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer]);
    validation.validate_aud = false;
    validation.required_spec_claims = ["exp".to_string(), "iss".to_string()].into();
    let data = decode::<Value>(token, &key, &validation).map_err(|e| e.to_string())?;
    Ok((header, data.claims))
}

/// The keys of a JSON object, in order.
pub fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}
