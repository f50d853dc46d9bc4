//! RFC 7523 §2.2 / OpenID Connect Core §9: a client authenticating with a signed JWT
//! (`client_assertion`): `private_key_jwt` (the client's own key, checked against its JWKS)
//! and `client_secret_jwt` (HMAC with its secret). Checks and wordings follow Keycloak 26's
//! `AbstractJWTClientValidator` / `AbstractBaseJWTValidator`, in that order; IdentityServer3's
//! `PrivateKeyJwtSecretValidator` checks the same things (iss = sub = client_id, `aud` its
//! token endpoint, signature, `exp`) and answers every failure with a bare `invalid_client`.

use std::sync::Arc;

use aws_lc_rs::hmac;
use serde_json::Value;

use super::jwk_set::{ASYMMETRIC_ALGS, JwkSet};
use super::trust::JwksSource;
use super::{Engine, Issuer, TokenRequest};
use crate::config::{ClientAuthMethod, ClientConfig};
use crate::dialect::endpoint_url;
use crate::error::{Cause, OAuthError, clipped};
use crate::jwt;

/// RFC 7523 §2.2's `client_assertion_type`.
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long a used `jti` is remembered at least, for assertions about to expire (Keycloak's
/// `JWTClientValidator` keeps it 10 s at least).
const MIN_REPLAY_WINDOW: u64 = 10;

/// Whether `req` authenticates its client with an assertion.
pub(crate) fn presented(req: &TokenRequest) -> bool {
    req.params.get("client_assertion").is_some()
        || req.params.get("client_assertion_type").is_some()
}

/// A refusal of the assertion, in Keycloak's words (400 `invalid_client` there).
fn refused(description: impl Into<std::borrow::Cow<'static, str>>) -> OAuthError {
    OAuthError::invalid_client(description).because(Cause::BadClientAssertion)
}

/// The key set `req`'s assertion needs fetched first, and the `kid` its header names: its
/// client (`sub`) has a `jwks_url`. Pure (decodes the assertion unverified, fetches nothing):
/// the HTTP edge fetches and passes the keys in [`TokenRequest::client_keys`].
pub(crate) fn remote_keys_needed(
    issuer: &Issuer,
    req: &TokenRequest,
) -> Option<(JwksSource, Option<String>)> {
    let (header, claims) = jwt::decode_unverified(req.params.get("client_assertion")?)?;
    let source = issuer.client_key_source(claims.get("sub")?.as_str()?)?;
    let kid = header.get("kid").and_then(Value::as_str).map(String::from);
    Some((source.clone(), kid))
}

/// The client that `req`'s assertion authenticates at `issuer`.
pub(crate) fn authenticate<'i>(
    engine: &Engine,
    issuer: &'i Issuer,
    req: &TokenRequest,
) -> Result<&'i ClientConfig, OAuthError> {
    let audiences = issuer.dialect.profile().client_assertion_audiences;
    if audiences.is_empty() {
        return Err(OAuthError::invalid_client(format!(
            "this issuer ({}) does not take client assertions (RFC 7523): authenticate with \
             client_id and client_secret",
            issuer.dialect.profile().product
        )));
    }
    let params = &req.params;
    match params.get("client_assertion_type") {
        None => return Err(refused("Parameter client_assertion_type is missing")),
        Some(t) if t != JWT_BEARER => {
            return Err(refused(format!(
                "Parameter client_assertion_type has value '{}' but expected is '{JWT_BEARER}'",
                clipped(t, 100)
            )));
        }
        Some(_) => {}
    }
    let assertion = params
        .get("client_assertion")
        .ok_or_else(|| refused("client_assertion parameter missing"))?;
    let (header, claims) = jwt::decode_unverified(assertion)
        .ok_or_else(|| refused("client_assertion is not a JWT (header.payload.signature)"))?;
    let claim = |name: &str| claims.get(name).and_then(Value::as_str);
    let sub = claim("sub").ok_or_else(|| refused("Token sub claim is required"))?;
    if params.get("client_id").is_some_and(|id| id != sub) {
        return Err(refused("client_id parameter does not match sub claim"));
    }
    if claim("iss") != Some(sub) {
        return Err(refused(
            "Token iss claim must be the client_id, as sub is (RFC 7523 §3)",
        ));
    }
    let Some(client) = issuer.client(sub) else {
        return Err(super::client_auth::unknown_client(issuer, sub));
    };
    let method = client.auth_method();
    if !method.is_jwt() {
        return Err(OAuthError::invalid_client(format!(
            "client {:?} authenticates with {}, not with a client assertion",
            client.id,
            method.as_str()
        ))
        .because(Cause::BadClientSecret));
    }
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("none");
    let (input, sig) =
        jwt::signing_input(assertion).ok_or_else(|| refused("client_assertion is malformed"))?;
    let signed = match method {
        ClientAuthMethod::PrivateKeyJwt => {
            if !ASYMMETRIC_ALGS.contains(&alg) {
                return Err(refused("Invalid signature algorithm"));
            }
            let keys: Option<Arc<JwkSet>> = match &req.client_keys {
                Some(Ok(keys)) => Some(keys.clone()),
                // Keycloak: "Unable to load public key" when its JWKS URL fails.
                Some(Err(why)) => {
                    return Err(refused(format!("Unable to load public key: {why}")));
                }
                None => issuer.client_keys(&client.id),
            };
            let kid = header.get("kid").and_then(Value::as_str);
            keys.is_some_and(|k| k.verify(alg, kid, input.as_bytes(), &sig))
        }
        _ => {
            let algorithm = match alg {
                "HS256" => hmac::HMAC_SHA256,
                "HS384" => hmac::HMAC_SHA384,
                "HS512" => hmac::HMAC_SHA512,
                _ => return Err(refused("Invalid signature algorithm")),
            };
            let secret = client.secret.as_deref().unwrap_or_default();
            // Constant time, as every secret comparison here.
            hmac::verify(
                &hmac::Key::new(algorithm, secret.as_bytes()),
                input.as_bytes(),
                &sig,
            )
            .is_ok()
        }
    };
    if !signed {
        return Err(refused("Signature on JWT token failed validation"));
    }
    if !audience_ok(engine, issuer, &claims, audiences) {
        return Err(refused("Invalid token audience"));
    }
    let now = engine.clock.now();
    let number = |name: &str| claims.get(name).and_then(Value::as_u64);
    let exp = number("exp").ok_or_else(|| refused("Token exp claim is required"))?;
    if exp <= now || number("nbf").is_some_and(|nbf| nbf > now) {
        return Err(refused("Token is not active"));
    }
    if number("iat").is_some_and(|iat| iat > now) {
        return Err(refused("Token was issued in the future"));
    }
    let jti = claim("jti").ok_or_else(|| refused("Token jti claim is required"))?;
    // OpenID Connect Core §9: the jti "MUST only be used once"; remembered until the
    // assertion expires, so the store (bounded) never holds a dead one for long.
    let key = format!("{}\u{0}{}\u{0}{jti}", issuer.name(), client.id);
    let until = exp.max(now + MIN_REPLAY_WINDOW);
    if !engine.client_assertions.insert_new(key, (), until, now) {
        return Err(refused("Token reuse detected"));
    }
    Ok(client)
}

/// Whether `aud` (a string or an array) names this issuer, by its issuer URL or the URL of
/// one of `endpoints`, whatever host the client reached it by (as `iss` checks do).
fn audience_ok(
    engine: &Engine,
    issuer: &Issuer,
    claims: &jwt::Object,
    endpoints: &[crate::dialect::Endpoint],
) -> bool {
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let issuers = engine.issuers();
    audiences.iter().any(|aud| {
        endpoints.iter().any(|endpoint| {
            // The endpoint's path below the issuer, e.g. `/protocol/openid-connect/token`.
            let suffix = endpoint_url(issuer.dialect, "", *endpoint);
            let base = aud.trim_end_matches('/');
            let base = if suffix == "/" {
                Some(base)
            } else {
                base.strip_suffix(suffix.as_str())
            };
            base.and_then(|b| issuers.by_issuer_url(b, engine.prefix()))
                .is_some_and(|i| i.name() == issuer.name())
        })
    })
}
