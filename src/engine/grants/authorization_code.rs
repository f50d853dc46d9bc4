//! RFC 6749 §4.1.3: redeeming an authorization code, with RFC 7636 PKCE. A code is single use:
//! of concurrent redemptions exactly one wins, and any failure after taking it burns it. Where
//! the product does (Keycloak), a code presented again revokes every token issued from it
//! (§4.1.2: it may have been stolen).

use super::GrantCall;
use crate::engine::issue::{Issued, token_key};
use crate::engine::pkce;
use crate::error::OAuthError;

pub(super) fn grant(call: GrantCall<'_>) -> Result<Issued, OAuthError> {
    let (engine, issuer, client, req) = call.parts();
    let code = req.params.require("code")?;
    let now = engine.clock.now();
    // Only this issuer's code is consumed: presenting it elsewhere does not burn it.
    let Some(record) = engine
        .codes
        .take_if(code, now, |r| r.issuer == issuer.name())
    else {
        if let Some((until, chain)) = engine.redeemed_codes.get_with_expiry(&token_key(code), now)
            && issuer.dialect.profile().features.code_replay_revokes_tokens
        {
            engine.revoked_chains.insert(chain, (), until, now);
            tracing::info!(
                issuer = issuer.name(),
                "authorization code replayed: the tokens issued from it are revoked"
            );
        }
        return Err(OAuthError::invalid_grant(
            "Code not valid: unknown, expired or already used",
        ));
    };
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
    let issued = call.issue(record.grant, "authorization_code")?;
    if let Some(chain) = issued
        .chain
        .as_ref()
        .filter(|_| issuer.dialect.profile().features.code_replay_revokes_tokens)
    {
        // Kept as long as anything issued from the code can live (refreshes stop once revoked).
        let lives = issued
            .expires_in
            .max(issued.refresh_expires_in.unwrap_or(0));
        engine
            .redeemed_codes
            .insert(token_key(code), chain.clone(), now + lives.max(1), now);
    }
    Ok(issued)
}
