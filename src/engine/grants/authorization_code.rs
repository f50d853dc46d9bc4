//! RFC 6749 §4.1.3: redeeming an authorization code, with RFC 7636 PKCE. A code is single use:
//! of concurrent redemptions exactly one wins, and any failure after taking it burns it.

use crate::config::ClientConfig;
use crate::engine::issue::Issued;
use crate::engine::{Engine, Issuer, RequestContext, TokenRequest, pkce};
use crate::error::OAuthError;

pub(super) fn grant(
    engine: &Engine,
    issuer: &Issuer,
    client: &ClientConfig,
    req: &TokenRequest,
    ctx: &RequestContext,
) -> Result<Issued, OAuthError> {
    let code = req.params.require("code")?;
    // Only this issuer's code is consumed: presenting it elsewhere does not burn it.
    let record = engine
        .codes
        .take_if(code, engine.clock.now(), |r| r.issuer == issuer.name())
        .ok_or_else(|| {
            OAuthError::invalid_grant("Code not valid: unknown, expired or already used")
        })?;
    if record.grant.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "Code not valid: it was issued to another client",
        ));
    }
    let redirect_uri = req.params.get("redirect_uri");
    if let Some(expected) = &record.redirect_uri
        && redirect_uri != Some(expected.as_str())
    {
        return Err(OAuthError::invalid_grant(
            "Incorrect redirect_uri: it must be the one sent to the authorization endpoint",
        ));
    }
    match &record.pkce {
        Some((challenge, method)) => {
            pkce::verify(challenge, *method, req.params.get("code_verifier"))?
        }
        None if req.params.get("code_verifier").is_some() => {
            return Err(OAuthError::invalid_grant(
                "PKCE verification failed: code_verifier sent but the authorization request had no code_challenge",
            ));
        }
        None => {}
    }
    engine.issue(issuer, ctx, client, record.grant, "authorization_code")
}
