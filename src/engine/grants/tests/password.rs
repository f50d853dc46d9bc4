//! `password` (RFC 6749 §4.3): fixture users only; the login starts a session.

use super::Idp;
use crate::error::Cause;

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
fn invalid_grant_for_a_wrong_password_which_is_never_echoed() {
    let idp = Idp::new();
    let form = format!("{BASE}&username=alice&password=s3cr3t-x");
    let e = idp.refuse("kc", &form, crate::error::ErrorCode::InvalidGrant);
    assert_eq!(e.cause, Cause::WrongPassword);
    assert!(!e.description.contains("s3cr3t-x"));
}

refusals! {
    invalid_request_without_username: "kc", |_i| format!("{BASE}&password=alice")
        => InvalidRequest, Cause::MissingUsername;
    invalid_grant_without_password: "kc", |_i| format!("{BASE}&username=alice")
        => InvalidGrant, Cause::MissingPassword;
    invalid_grant_for_an_unknown_user: "kc", |_i| format!("{BASE}&username=mallory&password=x")
        => InvalidGrant, Cause::UnknownUser;
    invalid_grant_for_a_disabled_user: "kc", |_i| format!("{BASE}&username=carol&password=carol")
        => InvalidGrant, Cause::UserDisabled;
    invalid_scope_for_a_scope_the_client_lacks: "kc",
        |_i| format!("{BASE}&username=alice&password=alice&scope=admin") => InvalidScope;
}
