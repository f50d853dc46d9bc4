//! `urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4–3.5): pending until decided,
//! `slow_down` where the product enforces the interval, denied, expired, tokens exactly once.

use super::{Idp, request};
use crate::engine::Authorization;
use crate::engine::device::{DeviceCodes, DeviceScript};
use crate::engine::issue::Issued;
use crate::error::{Cause, ErrorCode, OAuthError};

/// A poll of `client` for `device_code`, with `extra` form fields.
fn poll(client: &str, device_code: &str, extra: &str) -> String {
    format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id={client}\
         &device_code={device_code}{extra}"
    )
}

/// A device authorization of `client` at `issuer`, on a fresh [`Idp`].
struct Device {
    idp: Idp,
    issuer: &'static str,
    client: &'static str,
    codes: DeviceCodes,
}

impl Device {
    fn start(issuer: &'static str, client: &'static str) -> Self {
        let idp = Idp::new();
        let req = request(&format!("client_id={client}"), Authorization::None);
        let codes = match idp.engine.device_authorization(&idp.issuer(issuer), &req) {
            Ok(codes) => codes,
            Err(e) => panic!("device authorization refused: {}", e.description),
        };
        Self {
            idp,
            issuer,
            client,
            codes,
        }
    }

    /// Keycloak's public `dev`.
    fn kc() -> Self {
        Self::start("kc", "dev")
    }

    fn form(&self, client: &str, extra: &str) -> String {
        poll(client, &self.codes.device_code, extra)
    }

    /// A poll that must be refused with `code`.
    #[track_caller]
    fn refused(&self, code: ErrorCode) -> OAuthError {
        self.idp
            .refuse(self.issuer, &self.form(self.client, ""), code)
    }

    #[track_caller]
    fn tokens(&self) -> Issued {
        self.idp.tokens(self.issuer, &self.form(self.client, ""))
    }

    /// Alice approves (or denies) on the verification page.
    fn decide(&self, approve: bool) -> &Self {
        let session = self.idp.session(self.issuer);
        let issuer = self.idp.issuer(self.issuer);
        self.idp
            .engine
            .decide_device(&issuer, &self.codes.device_code, &session, approve);
        self
    }

    fn advance(&self, secs: u64) -> &Self {
        self.idp
            .clock
            .advance(i64::try_from(secs).unwrap_or(i64::MAX));
        self
    }
}

#[test]
fn success_after_approval_exactly_once() {
    let device = Device::kc();
    let issued = device.decide(true).tokens();
    let claims = super::claims(&device.idp, &issued.access_token);
    assert_eq!(claims["preferred_username"], "alice");
    let e = device.refused(ErrorCode::InvalidGrant);
    assert_eq!(e.cause, Cause::UnknownDeviceCode);
}

refusals! {
    invalid_request_without_device_code: "kc", |_i| poll("dev", "", "")
        => InvalidRequest, "Missing parameter: device_code";
    invalid_grant_for_an_unknown_device_code: "kc", |_i| poll("dev", "nope", "")
        => InvalidGrant, Cause::UnknownDeviceCode;
}

#[test]
fn invalid_grant_for_a_device_code_of_another_issuer() {
    let device = Device::start("dot", "gdev");
    let e = device
        .idp
        .refuse("kc", &device.form("dev", ""), ErrorCode::InvalidGrant);
    assert_eq!(e.cause, Cause::UnknownDeviceCode);
}

#[test]
fn invalid_grant_for_a_device_code_of_another_client() {
    let device = Device::kc();
    let form = device.form("other", "&client_secret=other-secret");
    let e = device.idp.refuse("kc", &form, ErrorCode::InvalidGrant);
    super::says(&e, "another client");
}

#[test]
fn authorization_pending_until_the_user_decides() {
    let device = Device::kc();
    device.refused(ErrorCode::AuthorizationPending);
    device.advance(device.codes.interval);
    device.refused(ErrorCode::AuthorizationPending);
}

/// The admin API's held polls answer pending even after an approval; then the tokens come.
#[test]
fn authorization_pending_for_held_polls() {
    let device = Device::kc();
    let held = DeviceScript::Pending(1);
    let issuer = device.idp.issuer("kc");
    let scripted =
        device
            .decide(true)
            .idp
            .engine
            .script_device(&issuer, &device.codes.user_code, held);
    assert!(scripted.is_ok());
    device.refused(ErrorCode::AuthorizationPending);
    device.tokens();
}

/// Keycloak: a poll inside the interval is `slow_down`, and the interval grows by 5 s.
#[test]
fn slow_down_when_polled_faster_than_the_interval() {
    let device = Device::kc();
    device.refused(ErrorCode::AuthorizationPending);
    let e = device.refused(ErrorCode::SlowDown);
    let grown = device.codes.interval + 5;
    super::says(&e, &format!("{grown} seconds"));
    device
        .advance(grown)
        .refused(ErrorCode::AuthorizationPending);
}

/// Django OAuth Toolkit has no `slow_down`: fast polls stay pending.
#[test]
fn no_slow_down_where_the_product_has_none() {
    let device = Device::start("dot", "gdev");
    for _ in 0..3 {
        device.refused(ErrorCode::AuthorizationPending);
    }
}

#[test]
fn access_denied_after_a_denial_then_unknown() {
    let device = Device::kc();
    device.decide(false).refused(ErrorCode::AccessDenied);
    device.refused(ErrorCode::InvalidGrant);
}

/// The expired code is forgotten with that answer.
#[test]
fn expired_token_once_the_codes_expire_then_unknown() {
    let device = Device::kc();
    device
        .advance(device.codes.expires_in)
        .refused(ErrorCode::ExpiredToken);
    device.refused(ErrorCode::InvalidGrant);
}

#[test]
fn expired_token_after_an_approval_that_came_too_late_to_redeem() {
    let device = Device::kc();
    let late = device.decide(true).advance(device.codes.expires_in);
    late.refused(ErrorCode::ExpiredToken);
}
