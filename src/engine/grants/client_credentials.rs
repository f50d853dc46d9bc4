//! RFC 6749 §4.4: the client credentials grant. A confidential client gets a token about itself;
//! no refresh token (§4.4.3).

use super::GrantCall;
use crate::engine::issue::{Grant, Issued};
use crate::engine::scope;
use crate::error::{Cause, OAuthError};

pub(super) fn grant(call: GrantCall<'_>) -> Result<Issued, OAuthError> {
    let (_, issuer, client, req) = call.parts();
    if client.is_public() {
        return Err(OAuthError::unauthorized_client(format!(
            "client {:?} is public (no secret): it cannot use client_credentials",
            client.id
        ))
        .because(Cause::PublicClientCredentials));
    }
    let scopes = scope::granted(issuer, client, req.params.get("scope"))?;
    call.issue(Grant::for_client(client, scopes), "client_credentials")
}
