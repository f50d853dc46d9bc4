//! `password` (RFC 6749 §4.3): fixture users only; the login starts a session.

use super::Idp;
use crate::error::{Cause, ErrorCode};

const BASE: &str = "grant_type=password&client_id=web&client_secret=web-secret";

#[test]
fn success_starts_a_session() {
    let idp = Idp::new();
    let issued = idp.alice("kc", "web", "&scope=openid");
    let sid = issued.session_state.clone().unwrap_or_default();
    assert!(idp.engine.session(&idp.issuer("kc"), &sid).is_some());
    let claims = super::claims(&idp, &issued.access_token);
    assert_eq!(claims["preferred_username"], "alice");
    assert_eq!(claims["sid"], sid.as_str());
}

#[test]
fn invalid_request_without_username() {
    let idp = Idp::new();
    let e = idp.refuse(
        "kc",
        &format!("{BASE}&password=alice"),
        ErrorCode::InvalidRequest,
    );
    assert_eq!(e.cause, Cause::MissingUsername);
}

#[test]
fn invalid_grant_without_password() {
    let idp = Idp::new();
    let e = idp.refuse(
        "kc",
        &format!("{BASE}&username=alice"),
        ErrorCode::InvalidGrant,
    );
    assert_eq!(e.cause, Cause::MissingPassword);
}

#[test]
fn invalid_grant_for_a_wrong_password() {
    let idp = Idp::new();
    let e = idp.refuse(
        "kc",
        &format!("{BASE}&username=alice&password=s3cr3t-x"),
        ErrorCode::InvalidGrant,
    );
    assert_eq!(e.cause, Cause::WrongPassword);
    assert!(
        !e.description.contains("s3cr3t-x"),
        "the password is never echoed"
    );
}

#[test]
fn invalid_grant_for_an_unknown_user() {
    let idp = Idp::new();
    let e = idp.refuse(
        "kc",
        &format!("{BASE}&username=mallory&password=x"),
        ErrorCode::InvalidGrant,
    );
    assert_eq!(e.cause, Cause::UnknownUser);
}

#[test]
fn invalid_grant_for_a_disabled_user() {
    let idp = Idp::new();
    let e = idp.refuse(
        "kc",
        &format!("{BASE}&username=carol&password=carol"),
        ErrorCode::InvalidGrant,
    );
    assert_eq!(e.cause, Cause::UserDisabled);
}

#[test]
fn invalid_scope_for_a_scope_the_client_lacks() {
    let idp = Idp::new();
    idp.refuse(
        "kc",
        &format!("{BASE}&username=alice&password=alice&scope=admin"),
        ErrorCode::InvalidScope,
    );
}
