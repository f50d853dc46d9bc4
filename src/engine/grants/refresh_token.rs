//! RFC 6749 §6: refreshing. Each use returns a new refresh token; where the product retires the
//! old one (IdentityServer3's OneTimeOnly, Django OAuth Toolkit's ROTATE_REFRESH_TOKEN) it is
//! refused from then on (`invalid_grant`), while Keycloak's stays valid until it expires.

use super::GrantCall;
use crate::engine::issue::Issued;
use crate::engine::{Engine, Issuer};
use crate::error::{Cause, OAuthError};

pub(super) fn grant(call: GrantCall<'_>) -> Result<Issued, OAuthError> {
    let (engine, issuer, client, req) = call.parts();
    let token = req.params.require("refresh_token")?;
    let now = engine.clock.now();
    let invalid =
        || OAuthError::invalid_grant("Invalid refresh token: unknown, expired or already used");
    let record = engine
        .refresh_tokens
        .get(token, now)
        .filter(|r| r.issuer == issuer.name())
        .ok_or_else(|| why_unknown(engine, issuer, token, now).unwrap_or_else(invalid))?;
    if record.grant.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "Invalid refresh token: it was issued to another client",
        ));
    }
    let mut grant = record.grant;
    if engine.chain_revoked(&grant, now) {
        engine.refresh_tokens.remove(token);
        return Err(OAuthError::invalid_grant(
            "Invalid refresh token: it was revoked",
        ));
    }
    if let Some(asked) = req.params.get("scope") {
        let asked: Vec<String> = asked
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        if let Some(extra) = asked.iter().find(|s| !grant.has_scope(s)) {
            return Err(OAuthError::invalid_scope(format!(
                "scope {extra:?} was not granted originally; a refresh can only narrow scopes"
            )));
        }
        grant.scopes = asked;
    }
    if engine.session_ended(issuer, &grant, now) {
        engine.refresh_tokens.remove(token);
        return Err(session_not_active());
    }
    if issuer.dialect.profile().features.refresh_single_use {
        // Rotation: exactly one concurrent use wins.
        engine.refresh_tokens.take(token, now).ok_or_else(invalid)?;
    }
    grant.nonce = None;
    call.issue(grant, "refresh_token")
}

/// The user's session is gone (logout, or its lifetime passed): Keycloak's "Session not active".
fn session_not_active() -> OAuthError {
    OAuthError::invalid_grant("Session not active: the user logged out or the session expired")
        .because(Cause::SessionNotActive)
}

/// Why a refresh token this server no longer holds is refused, when the token itself can tell:
/// a refresh JWT of ours (Keycloak's, HS512) that expired ("Token is not active"), or whose
/// session ended ("Session not active"). Opaque handles cannot tell: `None`.
fn why_unknown(engine: &Engine, issuer: &Issuer, token: &str, now: u64) -> Option<OAuthError> {
    let claims = crate::jwt::verify_hs512(token, &engine.refresh_key)?;
    let exp = claims.get("exp").and_then(serde_json::Value::as_u64);
    if exp.is_some_and(|exp| exp <= now) {
        return Some(
            OAuthError::invalid_grant("Token is not active: the refresh token expired")
                .because(Cause::RefreshTokenExpired),
        );
    }
    let sid = claims.get("sid").and_then(serde_json::Value::as_str)?;
    let profile = issuer.dialect.profile();
    let offline = claims.get("typ").and_then(serde_json::Value::as_str) == profile.typ.offline;
    (profile.features.tokens_need_session && !offline && engine.session(issuer, sid).is_none())
        .then(session_not_active)
}
