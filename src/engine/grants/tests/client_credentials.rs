//! `client_credentials` (RFC 6749 §4.4): confidential clients only, no refresh token.

use super::Idp;
use crate::error::{Cause, ErrorCode};

#[test]
fn success_is_a_token_about_the_client_without_refresh_token() {
    let idp = Idp::new();
    let issued = idp.tokens(
        "kc",
        "grant_type=client_credentials&client_id=svc&client_secret=svc-secret&scope=email",
    );
    assert!(issued.refresh_token.is_none());
    assert!(issued.scopes.iter().any(|s| s == "email"));
    let claims = super::claims(&idp, &issued.access_token);
    assert_eq!(claims["azp"], "svc");
}

#[test]
fn success_with_http_basic() {
    let idp = Idp::new();
    let basic = crate::engine::Authorization::Basic {
        id: "svc".into(),
        secret: "svc-secret".into(),
    };
    assert!(
        idp.token_with("kc", "grant_type=client_credentials", basic)
            .is_ok()
    );
}

#[test]
fn unauthorized_client_for_a_public_client() {
    let idp = Idp::new();
    let e = idp.refuse(
        "kc",
        "grant_type=client_credentials&client_id=pub-cc",
        ErrorCode::UnauthorizedClient,
    );
    assert_eq!(e.cause, Cause::PublicClientCredentials);
}

#[test]
fn invalid_scope_for_a_scope_the_client_lacks() {
    let idp = Idp::new();
    idp.refuse(
        "kc",
        "grant_type=client_credentials&client_id=svc&client_secret=svc-secret&scope=admin",
        ErrorCode::InvalidScope,
    );
}

#[test]
fn invalid_scope_for_a_scope_with_forbidden_characters() {
    let idp = Idp::new();
    let e = idp.refuse(
        "kc",
        "grant_type=client_credentials&client_id=svc&client_secret=svc-secret&scope=a%22b",
        ErrorCode::InvalidScope,
    );
    assert!(e.description.contains("§3.3"), "{}", e.description);
}

#[test]
fn invalid_client_for_a_wrong_secret() {
    let idp = Idp::new();
    let e = idp.refuse(
        "kc",
        "grant_type=client_credentials&client_id=svc&client_secret=nope",
        ErrorCode::InvalidClient,
    );
    assert_eq!(e.cause, Cause::BadClientSecret);
}
