//! RFC 6749 §2.3 client authentication: `client_secret_basic`, `client_secret_post`, or a public
//! client naming itself with `client_id`. Secrets are compared in constant time.

use aws_lc_rs::constant_time::verify_slices_are_equal;

use super::{Authorization, Issuer, TokenRequest};
use crate::config::ClientConfig;
use crate::error::{Cause, OAuthError};

/// Identifies and authenticates the client of `req` at `issuer`.
pub fn authenticate<'i>(
    issuer: &'i Issuer,
    req: &TokenRequest,
) -> Result<&'i ClientConfig, OAuthError> {
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
        return Err(OAuthError::invalid_client(format!(
            "unknown client {id:?} at issuer {:?}",
            issuer.name()
        ))
        .because(Cause::UnknownClient));
    };
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
