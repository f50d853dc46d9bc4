//! RFC 6749 §2.3 client authentication: `client_secret_basic`, `client_secret_post`, a public
//! client naming itself with `client_id`, or a client assertion (RFC 7523, in
//! [`super::client_assertion`]). Secrets are compared in constant time.

use aws_lc_rs::constant_time::verify_slices_are_equal;

use super::tokens::claimed_client;
use super::{Authorization, Engine, Issuer, TokenRequest};
use crate::config::ClientConfig;
use crate::error::{Cause, OAuthError, clipped};

/// Identifies and authenticates the client of `req` at `issuer`. With `token_auth` (token
/// exchange, as the generic seed does it) the client may instead present its own access token
/// in `Authorization`, raw or as `Bearer`.
pub(crate) fn authenticate<'i>(
    engine: &Engine,
    issuer: &'i Issuer,
    req: &TokenRequest,
    token_auth: bool,
) -> Result<&'i ClientConfig, OAuthError> {
    if let Authorization::Other(value) = &req.authorization
        && token_auth
    {
        return by_access_token(engine, issuer, value);
    }
    if super::client_assertion::presented(req) {
        return super::client_assertion::authenticate(engine, issuer, req);
    }
    let form_id = req.params.get("client_id");
    let form_secret = req.params.get("client_secret");
    let (id, secret) = match &req.authorization {
        Authorization::Basic { id, secret } => {
            if form_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "client authenticated twice (HTTP Basic and client_secret in the body); \
                     use one method only",
                ));
            }
            if form_id.is_some_and(|f| f != id) {
                return Err(OAuthError::invalid_request(
                    "client_id in the body differs from the one in the Basic header",
                ));
            }
            (id.as_str(), Some(secret.as_str()))
        }
        Authorization::MalformedBasic => {
            return Err(OAuthError::invalid_client(
                "malformed HTTP Basic authorization: expected base64(client_id:client_secret)",
            ));
        }
        Authorization::Other(_) if form_id.is_none() => {
            return Err(OAuthError::invalid_client(
                "unsupported Authorization scheme: authenticate with HTTP Basic or with \
                 client_id and client_secret in the body",
            )
            .because(Cause::UnsupportedAuthScheme));
        }
        Authorization::None | Authorization::Other(_) => match form_id {
            Some(id) => (id, form_secret),
            None => {
                return Err(OAuthError::invalid_client(
                    "missing client_id: send it in the body or authenticate with HTTP Basic",
                )
                .because(Cause::MissingClientId));
            }
        },
    };
    let Some(client) = issuer.client(id) else {
        return Err(unknown_client(issuer, id));
    };
    let method = client.auth_method();
    if method.is_jwt() {
        // Keycloak: only the client's configured authenticator may succeed.
        return Err(OAuthError::invalid_client(format!(
            "client {id:?} authenticates with {}: send client_assertion and \
             client_assertion_type (RFC 7523 §2.2)",
            method.as_str()
        ))
        .because(Cause::BadClientSecret));
    }
    if let Some(expected) = &client.secret {
        let ok = secret
            .is_some_and(|s| verify_slices_are_equal(s.as_bytes(), expected.as_bytes()).is_ok());
        if !ok {
            let what = if secret.is_some() { "wrong" } else { "missing" };
            return Err(OAuthError::invalid_client(format!(
                "{what} client secret for client {id:?}"
            ))
            .because(Cause::BadClientSecret));
        }
    }
    Ok(client)
}

/// No client `id` at `issuer`.
pub(super) fn unknown_client(issuer: &Issuer, id: &str) -> OAuthError {
    OAuthError::invalid_client(format!(
        "unknown client {:?} at issuer {:?}",
        clipped(id, 100),
        issuer.name()
    ))
    .because(Cause::UnknownClient)
}

/// The confidential client whose client-credentials access token is `value`.
fn by_access_token<'i>(
    engine: &Engine,
    issuer: &'i Issuer,
    value: &str,
) -> Result<&'i ClientConfig, OAuthError> {
    let presented = engine
        .check_access_token(issuer, bearer(value))
        .map_err(|e| {
            OAuthError::invalid_client(format!(
                "the access token in Authorization does not authenticate a client: {}",
                e.description
            ))
        })?;
    if presented.grant.is_some() {
        return Err(OAuthError::invalid_client(
            "the access token in Authorization is a user's: authenticate with the client's own \
             client-credentials token",
        ));
    }
    claimed_client(&presented.claims)
        .and_then(|id| issuer.client(id))
        .filter(|c| !c.is_public())
        .ok_or_else(|| {
            OAuthError::invalid_client(
                "the access token in Authorization names no confidential client",
            )
        })
}

/// The token in an `Authorization` value, with or without the `Bearer` scheme (the generic
/// seed sends it raw).
pub(crate) fn bearer(value: &str) -> &str {
    match value.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t.trim(),
        _ => value,
    }
}
