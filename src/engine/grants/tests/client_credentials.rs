//! `client_credentials` (RFC 6749 §4.4): confidential clients only, no refresh token.

use super::Idp;
use crate::error::Cause;

const SVC: &str = "grant_type=client_credentials&client_id=svc&client_secret=svc-secret";

#[test]
fn success_is_a_token_about_the_client_without_refresh_token() {
    let idp = Idp::new();
    let issued = idp.tokens("kc", &format!("{SVC}&scope=email"));
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

refusals! {
    unauthorized_client_for_a_public_client: "kc",
        |_i| "grant_type=client_credentials&client_id=pub-cc".into()
        => UnauthorizedClient, Cause::PublicClientCredentials;
    invalid_scope_for_a_scope_the_client_lacks: "kc", |_i| format!("{SVC}&scope=admin")
        => InvalidScope, "admin";
    invalid_scope_for_a_scope_with_forbidden_characters: "kc", |_i| format!("{SVC}&scope=a%22b")
        => InvalidScope, "§3.3";
    invalid_client_for_a_wrong_secret: "kc",
        |_i| "grant_type=client_credentials&client_id=svc&client_secret=nope".into()
        => InvalidClient, Cause::BadClientSecret;
}
