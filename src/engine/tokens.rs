//! Checking access tokens presented to protected endpoints (RFC 6750): signature, expiry,
//! issuer and kind; then what they grant.

use std::sync::Arc;

use serde_json::Value;

use super::issue::{Grant, token_key};
use super::trust::JwksSource;
use super::{Engine, Issuer, TokenRequest};
use crate::error::OAuthError;
use crate::jwt::{self, Object};

/// A valid access token.
#[derive(Debug, Clone)]
pub(crate) struct Presented {
    pub(crate) claims: Object,
    /// The grant behind a user's token (absent for client tokens).
    pub(crate) grant: Option<Grant>,
}

impl Engine {
    /// RFC 6750 §3.1: `invalid_token` unless `token` is a live access token of `issuer`.
    pub(crate) fn check_access_token(
        &self,
        issuer: &Issuer,
        token: &str,
    ) -> Result<Presented, OAuthError> {
        let presented = self.check_token_shape(issuer, token)?;
        let now = self.clock.now();
        let revoked = self.revoked.get(&token_key(token), now).is_some()
            || presented
                .grant
                .as_ref()
                .is_some_and(|g| self.chain_revoked(g, now));
        if revoked {
            return Err(OAuthError::invalid_token("The access token was revoked"));
        }
        if presented
            .grant
            .as_ref()
            .is_some_and(|g| self.session_ended(issuer, g, now))
        {
            return Err(OAuthError::invalid_token(
                issuer.dialect.profile().session_ended,
            ));
        }
        Ok(presented)
    }

    /// Whether `grant`'s tokens died with its browser session (logout, expiry): only where the
    /// product ties them to it (Keycloak), and never for `offline_access`.
    pub(crate) fn session_ended(&self, issuer: &Issuer, grant: &Grant, now: u64) -> bool {
        issuer.dialect.profile().features.tokens_need_session
            && !grant.has_scope("offline_access")
            && grant
                .sid
                .as_deref()
                .is_some_and(|sid| self.sessions.get(sid, now).is_none())
    }

    /// Whether the login (or code) behind `grant` had its whole token chain revoked.
    pub(crate) fn chain_revoked(&self, grant: &Grant, now: u64) -> bool {
        grant
            .chain
            .as_deref()
            .is_some_and(|c| self.revoked_chains.get(c, now).is_some())
    }

    fn check_token_shape(&self, issuer: &Issuer, token: &str) -> Result<Presented, OAuthError> {
        let now = self.clock.now();
        if !token.contains('.') {
            let claims = self.opaque_tokens.get(token, now).ok_or_else(|| {
                OAuthError::invalid_token("The access token is unknown or expired")
            })?;
            let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
            if !self.issued_by(issuer, iss) {
                return Err(OAuthError::invalid_token(
                    "The access token was issued by another issuer",
                ));
            }
            let grant = self.user_tokens.get(&token_key(token), now);
            return Ok(Presented { claims, grant });
        }
        let (_, claims) = self.verify_jwt(token).ok_or_else(|| {
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
        let typ = claims.get("typ").and_then(Value::as_str);
        let typs = &issuer.dialect.profile().typ;
        if claims.contains_key("at_hash") || typ.is_some_and(|t| typs.is_not_access(t)) {
            return Err(OAuthError::invalid_token("This is not an access token"));
        }
        let grant = self.user_tokens.get(&token_key(token), now);
        Ok(Presented { claims, grant })
    }

    /// Whether the issuer URL `iss` names `issuer` (whatever host it was reached by).
    fn issued_by(&self, issuer: &Issuer, iss: &str) -> bool {
        self.issuers()
            .by_issuer_url(iss, self.prefix())
            .is_some_and(|i| i.name() == issuer.name())
    }

    /// The remote JWKS a token request needs judged first, and the `kid` it must hold: a
    /// token exchange whose `subject_token` names a trusted issuer with a `jwks_url`. Pure
    /// (decodes the token, fetches nothing): the edge fetches and passes the document in
    /// `TokenRequest::remote_jwks`.
    pub(crate) fn remote_jwks_needed(
        &self,
        issuer: &Issuer,
        req: &TokenRequest,
    ) -> Option<(JwksSource, Option<String>)> {
        if req.params.get("grant_type") != Some(crate::config::TOKEN_EXCHANGE) {
            return None;
        }
        let (header, claims) = jwt::decode_unverified(req.params.get("subject_token")?)?;
        let iss = claims.get("iss").and_then(Value::as_str)?;
        let source = issuer.trusted.iter().find(|t| t.issuer == iss)?.remote()?;
        let kid = header
            .get("kid")
            .and_then(Value::as_str)
            .map(str::to_string);
        Some((source.clone(), kid))
    }

    /// RFC 8693 §2.1: checks a `subject_token` from this server or from a trusted external
    /// issuer (with its remote JWKS as fetched, if it has one); returns its claims. Every
    /// failure is `invalid_request` (§2.2.2).
    pub(crate) fn check_subject_token(
        &self,
        issuer: &Issuer,
        token: &str,
        what: &str,
        remote_jwks: Option<&Result<Arc<super::jwk_set::JwkSet>, String>>,
    ) -> Result<Object, OAuthError> {
        let bad = |why: String| OAuthError::invalid_request(format!("{what} {why}"));
        let (header, claims) = jwt::decode_unverified(token)
            .ok_or_else(|| bad("is not a JWT (header.payload.signature)".into()))?;
        let iss = claims
            .get("iss")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let Some(trusted) = issuer.trusted.iter().find(|t| t.issuer == iss) else {
            // Not an external issuer: one of ours, if our key signed it and we trust it.
            let issuers = self.issuers();
            let hosted = issuers
                .by_issuer_url(&iss, self.prefix())
                .filter(|h| h.name() == issuer.name() || issuer.config.trust_hosted_issuers);
            return match hosted {
                Some(h) if self.verify_jwt(token).is_some() => self
                    .check_access_token(h, token)
                    .map(|p| p.claims)
                    .map_err(|e| bad(format!("is not valid: {}", e.description))),
                // A path of ours on any host: this server's token with a bad signature, or
                // another IdP's token; say both.
                Some(_) => Err(bad(format!(
                    "names issuer {iss:?} but its signature (alg {:?}) is not this server's, \
                     and that issuer is not trusted (add a [[issuer.trusted_issuer]])",
                    header.get("alg").and_then(Value::as_str).unwrap_or("none")
                ))),
                None => Err(bad(format!(
                    "was issued by {iss:?}, which this issuer does not trust \
                     (add a [[issuer.trusted_issuer]])"
                ))),
            };
        };
        let alg = header.get("alg").and_then(Value::as_str).unwrap_or("none");
        let kid = header.get("kid").and_then(Value::as_str);
        let (input, sig) = jwt::signing_input(token).ok_or_else(|| bad("is malformed".into()))?;
        let now = self.clock.now();
        trusted
            .verify(alg, kid, (input.as_bytes(), &sig), remote_jwks)
            .map_err(|e| bad(format!("signature is invalid: {e}")))?;
        let exp = claims.get("exp").and_then(Value::as_u64);
        if exp.is_some_and(|e| e <= now) {
            return Err(bad("is expired".into()));
        }
        if claims
            .get("nbf")
            .and_then(Value::as_u64)
            .is_some_and(|n| n > now + 60)
        {
            return Err(bad("is not valid yet (nbf)".into()));
        }
        Ok(claims)
    }
}

/// The scopes a token's claims grant (`scope` as a space-separated string or an array).
pub(crate) fn claimed_scopes(claims: &Object) -> Vec<String> {
    match claims.get("scope") {
        Some(Value::String(s)) => s
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    }
}

/// The client a token was issued to (`client_id`, else `azp`).
pub(crate) fn claimed_client(claims: &Object) -> Option<&str> {
    claims
        .get("client_id")
        .or_else(|| claims.get("azp"))
        .and_then(Value::as_str)
}
