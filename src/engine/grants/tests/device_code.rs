//! `urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4–3.5): pending until decided,
//! `slow_down` where the product enforces the interval, denied, expired, tokens exactly once.

use super::{Idp, request};
use crate::engine::Authorization;
use crate::engine::device::{DeviceCodes, DeviceScript};
use crate::error::{Cause, ErrorCode};

fn start(idp: &Idp, issuer: &str, client: &str) -> DeviceCodes {
    let req = request(&format!("client_id={client}"), Authorization::None);
    match idp.engine.device_authorization(&idp.issuer(issuer), &req) {
        Ok(codes) => codes,
        Err(e) => panic!("device authorization refused: {}", e.description),
    }
}

fn poll(client: &str, device_code: &str) -> String {
    format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id={client}&device_code={device_code}"
    )
}

fn decide(idp: &Idp, issuer: &str, codes: &DeviceCodes, approve: bool) {
    let session = idp.session(issuer);
    idp.engine
        .decide_device(&idp.issuer(issuer), &codes.device_code, &session, approve);
}

#[test]
fn success_after_approval_exactly_once() {
    let idp = Idp::new();
    let codes = start(&idp, "kc", "dev");
    decide(&idp, "kc", &codes, true);
    let issued = idp.tokens("kc", &poll("dev", &codes.device_code));
    let claims = super::claims(&idp, &issued.access_token);
    assert_eq!(claims["preferred_username"], "alice");
    let e = idp.refuse(
        "kc",
        &poll("dev", &codes.device_code),
        ErrorCode::InvalidGrant,
    );
    assert_eq!(e.cause, Cause::UnknownDeviceCode);
}

#[test]
fn invalid_request_without_device_code() {
    let idp = Idp::new();
    let e = idp.refuse("kc", &poll("dev", ""), ErrorCode::InvalidRequest);
    assert_eq!(e.description, "Missing parameter: device_code");
}

#[test]
fn invalid_grant_for_an_unknown_device_code() {
    let idp = Idp::new();
    let e = idp.refuse("kc", &poll("dev", "nope"), ErrorCode::InvalidGrant);
    assert_eq!(e.cause, Cause::UnknownDeviceCode);
}

#[test]
fn invalid_grant_for_a_device_code_of_another_issuer() {
    let idp = Idp::new();
    let codes = start(&idp, "dot", "gdev");
    let e = idp.refuse(
        "kc",
        &poll("dev", &codes.device_code),
        ErrorCode::InvalidGrant,
    );
    assert_eq!(e.cause, Cause::UnknownDeviceCode);
}

#[test]
fn invalid_grant_for_a_device_code_of_another_client() {
    let idp = Idp::new();
    let codes = start(&idp, "kc", "dev");
    let form = format!(
        "{}&client_secret=other-secret",
        poll("other", &codes.device_code)
    );
    let e = idp.refuse("kc", &form, ErrorCode::InvalidGrant);
    assert!(
        e.description.contains("another client"),
        "{}",
        e.description
    );
}

#[test]
fn authorization_pending_until_the_user_decides() {
    let idp = Idp::new();
    let codes = start(&idp, "kc", "dev");
    idp.refuse(
        "kc",
        &poll("dev", &codes.device_code),
        ErrorCode::AuthorizationPending,
    );
    idp.clock
        .advance(i64::try_from(codes.interval).unwrap_or(5));
    idp.refuse(
        "kc",
        &poll("dev", &codes.device_code),
        ErrorCode::AuthorizationPending,
    );
}

/// The admin API's held polls answer pending even after an approval; then the tokens come.
#[test]
fn authorization_pending_for_held_polls() {
    let idp = Idp::new();
    let codes = start(&idp, "kc", "dev");
    decide(&idp, "kc", &codes, true);
    let scripted = idp.engine.script_device(
        &idp.issuer("kc"),
        &codes.user_code,
        DeviceScript::Pending(1),
    );
    assert!(scripted.is_ok());
    idp.refuse(
        "kc",
        &poll("dev", &codes.device_code),
        ErrorCode::AuthorizationPending,
    );
    idp.tokens("kc", &poll("dev", &codes.device_code));
}

/// Keycloak: a poll inside the interval is `slow_down`, and the interval grows by 5 s.
#[test]
fn slow_down_when_polled_faster_than_the_interval() {
    let idp = Idp::new();
    let codes = start(&idp, "kc", "dev");
    idp.refuse(
        "kc",
        &poll("dev", &codes.device_code),
        ErrorCode::AuthorizationPending,
    );
    let e = idp.refuse("kc", &poll("dev", &codes.device_code), ErrorCode::SlowDown);
    let grown = codes.interval + 5;
    assert!(
        e.description.contains(&format!("{grown} seconds")),
        "{}",
        e.description
    );
    idp.clock.advance(i64::try_from(grown).unwrap_or(10));
    idp.refuse(
        "kc",
        &poll("dev", &codes.device_code),
        ErrorCode::AuthorizationPending,
    );
}

/// Django OAuth Toolkit has no `slow_down`: fast polls stay pending.
#[test]
fn no_slow_down_where_the_product_has_none() {
    let idp = Idp::new();
    let codes = start(&idp, "dot", "gdev");
    for _ in 0..3 {
        idp.refuse(
            "dot",
            &poll("gdev", &codes.device_code),
            ErrorCode::AuthorizationPending,
        );
    }
}

#[test]
fn access_denied_after_a_denial_then_unknown() {
    let idp = Idp::new();
    let codes = start(&idp, "kc", "dev");
    decide(&idp, "kc", &codes, false);
    idp.refuse(
        "kc",
        &poll("dev", &codes.device_code),
        ErrorCode::AccessDenied,
    );
    idp.refuse(
        "kc",
        &poll("dev", &codes.device_code),
        ErrorCode::InvalidGrant,
    );
}

#[test]
fn expired_token_once_the_codes_expire() {
    let idp = Idp::new();
    let codes = start(&idp, "kc", "dev");
    idp.clock
        .advance(i64::try_from(codes.expires_in).unwrap_or(600));
    idp.refuse(
        "kc",
        &poll("dev", &codes.device_code),
        ErrorCode::ExpiredToken,
    );
    // The expired code is forgotten with that answer.
    idp.refuse(
        "kc",
        &poll("dev", &codes.device_code),
        ErrorCode::InvalidGrant,
    );
}

#[test]
fn expired_token_after_an_approval_that_came_too_late_to_redeem() {
    let idp = Idp::new();
    let codes = start(&idp, "kc", "dev");
    decide(&idp, "kc", &codes, true);
    idp.clock
        .advance(i64::try_from(codes.expires_in).unwrap_or(600));
    idp.refuse(
        "kc",
        &poll("dev", &codes.device_code),
        ErrorCode::ExpiredToken,
    );
}
