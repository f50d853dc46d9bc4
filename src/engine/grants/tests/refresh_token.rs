//! `refresh_token` (RFC 6749 §6): the same client, scopes only narrowed, the session alive where
//! the product ties tokens to it; rotation per product (IdentityServer3 single use, Keycloak
//! reusable until it expires).

use super::Idp;
use crate::error::{Cause, ErrorCode};

fn refresh(client: &str, token: &str, extra: &str) -> String {
    format!(
        "grant_type=refresh_token&client_id={client}&client_secret={client}-secret\
         &refresh_token={token}{extra}"
    )
}

fn refresh_token(issued: &crate::engine::issue::Issued) -> String {
    issued.refresh_token.clone().expect("a refresh token")
}

#[test]
fn success_keeps_the_grant() {
    let idp = Idp::new();
    let first = idp.alice("kc", "web", "");
    let next = idp.tokens("kc", &refresh("web", &refresh_token(&first), ""));
    assert_eq!(next.scopes, first.scopes);
    let claims = super::claims(&idp, &next.access_token);
    assert_eq!(claims["preferred_username"], "alice");
}

/// Keycloak: the old refresh token stays valid after use.
#[test]
fn success_twice_with_the_same_token_where_the_product_does_not_rotate() {
    let idp = Idp::new();
    let token = refresh_token(&idp.alice("kc", "web", ""));
    idp.tokens("kc", &refresh("web", &token, ""));
    idp.tokens("kc", &refresh("web", &token, ""));
}

/// IdentityServer3 (OneTimeOnly): a used refresh token is refused; its successor works.
#[test]
fn invalid_grant_for_a_used_token_where_the_product_rotates() {
    let idp = Idp::new();
    let token = is3_token(&idp);
    let next = idp.tokens("is3", &refresh("web", &token, ""));
    idp.refuse("is3", &refresh("web", &token, ""), ErrorCode::InvalidGrant);
    idp.tokens("is3", &refresh("web", &refresh_token(&next), ""));
}

#[test]
fn success_narrowing_the_scopes() {
    let idp = Idp::new();
    let token = refresh_token(&idp.alice("is3", "web", "&scope=openid%20profile%20offline_access"));
    let next = idp.tokens(
        "is3",
        &refresh("web", &token, "&scope=openid%20offline_access"),
    );
    assert_eq!(next.scopes, ["openid", "offline_access"]);
}

/// Alice's refresh token at IdentityServer3 (`offline_access`).
fn is3_token(idp: &Idp) -> String {
    refresh_token(&idp.alice("is3", "web", "&scope=openid%20offline_access"))
}

refusals! {
    invalid_scope_for_a_scope_not_granted_originally: "is3",
        |idp| refresh("web", &is3_token(&idp), "&scope=openid%20profile")
        => InvalidScope, "\"profile\"";
    invalid_request_without_refresh_token: "kc",
        |_i| "grant_type=refresh_token&client_id=web&client_secret=web-secret".into()
        => InvalidRequest, "Missing parameter: refresh_token";
    invalid_grant_for_an_unknown_token: "kc", |_i| refresh("web", "nope", "")
        => InvalidGrant, "unknown, expired or already used";
    invalid_grant_for_a_token_of_another_issuer: "kc", |idp| refresh("web", &is3_token(&idp), "")
        => InvalidGrant, "unknown, expired or already used";
    invalid_grant_for_a_token_of_another_client: "kc",
        |idp| refresh("other", &refresh_token(&idp.alice("kc", "web", "")), "")
        => InvalidGrant, "another client";
}

/// Keycloak's refresh JWT tells why it is no longer held: "Token is not active".
#[test]
fn invalid_grant_token_is_not_active_once_expired() {
    let idp = Idp::new();
    let issued = idp.alice("kc", "web", "");
    let lives = issued.refresh_expires_in.unwrap_or(1800);
    idp.clock.advance(i64::try_from(lives).unwrap_or(i64::MAX));
    let e = idp.refuse(
        "kc",
        &refresh("web", &refresh_token(&issued), ""),
        ErrorCode::InvalidGrant,
    );
    assert_eq!(e.cause, Cause::RefreshTokenExpired);
}

/// Keycloak: after logout the refresh token is refused ("Session not active"), held or not.
#[test]
fn invalid_grant_session_not_active_after_logout() {
    let idp = Idp::new();
    let issued = idp.alice("kc", "web", "");
    idp.engine
        .end_session(issued.session_state.as_deref().unwrap_or(""));
    let token = refresh_token(&issued);
    let e = idp.refuse("kc", &refresh("web", &token, ""), ErrorCode::InvalidGrant);
    assert_eq!(e.cause, Cause::SessionNotActive);
    // The first refusal dropped it; the JWT itself still tells why.
    let e = idp.refuse("kc", &refresh("web", &token, ""), ErrorCode::InvalidGrant);
    assert_eq!(e.cause, Cause::SessionNotActive);
}

#[test]
fn invalid_grant_for_a_revoked_token() {
    let idp = Idp::new();
    let issued = idp.alice("kc", "web", "");
    let token = refresh_token(&issued);
    let revoke = super::request(
        &format!("client_id=web&client_secret=web-secret&token={token}"),
        crate::engine::Authorization::None,
    );
    assert!(idp.engine.revoke(&idp.issuer("kc"), &revoke).is_ok());
    idp.refuse("kc", &refresh("web", &token, ""), ErrorCode::InvalidGrant);
}
