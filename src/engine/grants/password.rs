//! RFC 6749 §4.3: the resource owner password credentials grant (Keycloak's "direct access
//! grants", IdentityServer3's `ResourceOwner` flow, Django OAuth Toolkit's password grant).
//! Only fixture users log in this way ([`Issuer::fixture_login`]); the user gets a session,
//! as with a browser login, so logout ends what it issued (Keycloak's online session).

use super::GrantCall;
use crate::engine::issue::{Grant, Issued};
use crate::engine::scope;
use crate::engine::users::LoginError;
use crate::error::{Cause, OAuthError};

pub(super) fn grant(call: GrantCall<'_>) -> Result<Issued, OAuthError> {
    let (engine, issuer, client, req) = call.parts();
    let username = req
        .params
        .get("username")
        .filter(|u| !u.is_empty())
        .ok_or_else(missing_username)?;
    let password = req
        .params
        .get("password")
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            OAuthError::invalid_grant("Invalid user credentials: the password is missing")
                .because(Cause::MissingPassword)
        })?;
    let scopes = scope::granted(issuer, client, req.params.get("scope"))?;
    let user = issuer.fixture_login(username, password).map_err(|e| {
        // The username is the caller's own input; the password never appears anywhere.
        tracing::info!(
            issuer = issuer.name(),
            client_id = client.id.as_str(),
            username = crate::error::clipped(username, 100),
            reason = ?e,
            "password grant refused"
        );
        match e {
            LoginError::Disabled => OAuthError::invalid_grant(format!(
                "user {:?} is disabled (enabled = false in the fixtures)",
                crate::error::clipped(username, 100)
            ))
            .because(Cause::UserDisabled),
            LoginError::MissingUsername => missing_username(),
            LoginError::WrongPassword => invalid_credentials().because(Cause::WrongPassword),
            LoginError::UnknownUser => invalid_credentials().because(Cause::UnknownUser),
        }
    })?;
    let session = engine.start_session(issuer, user.clone());
    let grant = Grant {
        user: Some(user),
        sid: Some(session.sid),
        auth_time: Some(session.auth_time),
        ..Grant::for_client(client, scopes)
    };
    call.issue(grant, crate::config::PASSWORD)
}

/// Neither the username nor the password is said to be the wrong one, as every product does.
fn invalid_credentials() -> OAuthError {
    OAuthError::invalid_grant(
        "Invalid user credentials: unknown username or wrong password (only the fixture users \
         can use the password grant)",
    )
}

fn missing_username() -> OAuthError {
    OAuthError::invalid_request("Missing parameter: username").because(Cause::MissingUsername)
}
