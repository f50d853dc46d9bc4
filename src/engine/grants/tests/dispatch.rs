//! The token endpoint's own checks before any grant runs ([`crate::engine::Engine::token`]):
//! the grant type, then the client, then whether the client may use that grant.

use super::Idp;
use crate::error::{Cause, ErrorCode};

#[test]
fn invalid_request_without_grant_type() {
    let idp = Idp::new();
    let e = idp.refuse(
        "kc",
        "client_id=svc&client_secret=svc-secret",
        ErrorCode::InvalidRequest,
    );
    assert_eq!(e.cause, Cause::MissingGrantType);
}

#[test]
fn unsupported_grant_type_for_an_unknown_grant() {
    let idp = Idp::new();
    let e = idp.refuse(
        "kc",
        "grant_type=magic&client_id=svc&client_secret=svc-secret",
        ErrorCode::UnsupportedGrantType,
    );
    assert_eq!(e.cause, Cause::UnsupportedGrantType);
}

#[test]
fn unsupported_grant_type_for_a_quoted_grant() {
    let idp = Idp::new();
    let e = idp.refuse(
        "kc",
        "grant_type=%22client_credentials%22&client_id=svc&client_secret=svc-secret",
        ErrorCode::UnsupportedGrantType,
    );
    assert!(e.description.contains("quotes"), "{}", e.description);
}

#[test]
fn unauthorized_client_for_a_grant_not_registered() {
    let idp = Idp::new();
    let e = idp.refuse(
        "kc",
        "grant_type=password&client_id=svc&client_secret=svc-secret&username=alice&password=alice",
        ErrorCode::UnauthorizedClient,
    );
    assert_eq!(e.cause, Cause::PasswordNotAllowed);
    let e = idp.refuse(
        "kc",
        "grant_type=client_credentials&client_id=web&client_secret=web-secret",
        ErrorCode::UnauthorizedClient,
    );
    assert_eq!(e.cause, Cause::ClientCredentialsNotAllowed);
}

#[test]
fn invalid_client_for_an_unknown_client() {
    let idp = Idp::new();
    let e = idp.refuse(
        "kc",
        "grant_type=client_credentials&client_id=nobody",
        ErrorCode::InvalidClient,
    );
    assert_eq!(e.cause, Cause::UnknownClient);
}
