//! Checking access tokens presented to protected endpoints (RFC 6750): signature, expiry,
//! issuer and kind; then what they grant.

use serde_json::Value;

use super::issue::{Grant, token_key};
use super::{Engine, Issuer};
use crate::error::OAuthError;
use crate::jwt::{self, Object};

/// A valid access token.
#[derive(Debug, Clone)]
pub struct Presented {
    pub claims: Object,
    /// The grant behind a user's token (absent for client tokens).
    pub grant: Option<Grant>,
}

impl Engine {
    /// RFC 6750 §3.1: `invalid_token` unless `token` is a live access token of `issuer`.
    pub fn check_access_token(
        &self,
        issuer: &Issuer,
        token: &str,
    ) -> Result<Presented, OAuthError> {
        let now = self.clock.now();
        if !token.contains('.') {
            let claims = self.opaque_tokens.get(token, now).ok_or_else(|| {
                OAuthError::invalid_token("The access token is unknown or expired")
            })?;
            let grant = self.user_tokens.get(&token_key(token), now);
            return Ok(Presented { claims, grant });
        }
        let (_, claims) = jwt::verify(token, &self.key).ok_or_else(|| {
            OAuthError::invalid_token("The access token is malformed or its signature is invalid")
        })?;
        let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
        if exp <= now {
            return Err(OAuthError::invalid_token("Token is expired"));
        }
        let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
        if !self.issued_by(issuer, iss) {
            return Err(OAuthError::invalid_token(
                "The access token was issued by another issuer",
            ));
        }
        let kind = claims.get("typ").and_then(Value::as_str);
        if claims.contains_key("at_hash") || matches!(kind, Some("ID" | "Refresh" | "Offline")) {
            return Err(OAuthError::invalid_token("This is not an access token"));
        }
        let grant = self.user_tokens.get(&token_key(token), now);
        Ok(Presented { claims, grant })
    }

    /// Whether the issuer URL `iss` names `issuer` (whatever host it was reached by).
    fn issued_by(&self, issuer: &Issuer, iss: &str) -> bool {
        let path = iss
            .split_once("://")
            .map_or("", |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]));
        self.route(path)
            .is_some_and(|(i, rest)| std::ptr::eq(i, issuer) && rest.is_empty())
    }
}
