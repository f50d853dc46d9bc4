//! `authorization_code` (RFC 6749 §4.1.3, RFC 7636): redeem once, to the client it was issued to,
//! with the same `redirect_uri` and the PKCE verifier; a replay revokes where Keycloak does.

use super::{Idp, refused};
use crate::error::ErrorCode;

const CB: &str = "http%3A%2F%2Fapp.test%2Fcb";
/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn query(client: &str, extra: &str) -> String {
    format!("response_type=code&client_id={client}&redirect_uri={CB}&scope=openid{extra}")
}

fn redeem(client: &str, code: &str, extra: &str) -> String {
    format!(
        "grant_type=authorization_code&client_id={client}&client_secret={client}-secret\
         &code={code}&redirect_uri={CB}{extra}"
    )
}

#[test]
fn success_issues_tokens_for_the_user() {
    let idp = Idp::new();
    let code = idp.code("kc", &query("web", "&nonce=n-1"));
    let issued = idp.tokens("kc", &redeem("web", &code, ""));
    assert!(issued.refresh_token.is_some() && issued.id_token.is_some());
    let id = super::claims(&idp, issued.id_token.as_deref().unwrap_or(""));
    assert_eq!(id["nonce"], "n-1");
    assert_eq!(id["iss"], "http://idp.test/realms/kc");
    assert!(
        idp.engine
            .check_access_token(&idp.issuer("kc"), &issued.access_token)
            .is_ok()
    );
}

#[test]
fn success_with_pkce_s256() {
    let idp = Idp::new();
    let pkce = format!("&code_challenge={CHALLENGE}&code_challenge_method=S256");
    let code = idp.code("kc", &query("web", &pkce));
    idp.tokens(
        "kc",
        &redeem("web", &code, &format!("&code_verifier={VERIFIER}")),
    );
}

/// A code for `web` at `kc` with this PKCE challenge (S256).
fn pkce_code(idp: &Idp) -> String {
    let pkce = format!("&code_challenge={CHALLENGE}&code_challenge_method=S256");
    idp.code("kc", &query("web", &pkce))
}

refusals! {
    invalid_request_without_code: "kc",
        |_i| format!("grant_type=authorization_code&client_id=web&client_secret=web-secret")
        => InvalidRequest, "Missing parameter: code";
    invalid_grant_for_an_unknown_code: "kc", |_i| redeem("web", "no-such-code", "")
        => InvalidGrant, "unknown, expired or already used";
    invalid_grant_for_an_expired_code: "kc", |idp| {
        let code = idp.code("kc", &query("web", ""));
        idp.clock.advance(i64::try_from(idp.issuer("kc").dialect.profile().lifetimes.code).unwrap_or(60));
        redeem("web", &code, "")
    } => InvalidGrant;
    invalid_grant_for_another_redirect_uri: "kc", |idp| {
        let code = idp.code("kc", &query("web", ""));
        redeem("web", &code, "").replace("%2Fcb", "%2Fother")
    } => InvalidGrant, "Incorrect redirect_uri";
    invalid_grant_for_a_missing_code_verifier: "kc", |idp| redeem("web", &pkce_code(&idp), "")
        => InvalidGrant, "Missing parameter: code_verifier";
    invalid_grant_for_a_malformed_code_verifier: "kc",
        |idp| redeem("web", &pkce_code(&idp), "&code_verifier=short")
        => InvalidGrant, "Invalid code verifier";
    invalid_grant_for_a_wrong_code_verifier: "kc",
        |idp| redeem("web", &pkce_code(&idp), &format!("&code_verifier={}", VERIFIER.replace('d', "e")))
        => InvalidGrant, "does not match";
    invalid_grant_for_a_code_verifier_without_a_challenge: "kc",
        |idp| redeem("web", &idp.code("kc", &query("web", "")), &format!("&code_verifier={VERIFIER}"))
        => InvalidGrant, "had no code_challenge";
}

#[test]
fn invalid_grant_for_a_code_of_another_issuer_which_stays_usable() {
    let idp = Idp::new();
    let code = idp.code("is3", &query("web", ""));
    idp.refuse("kc", &redeem("web", &code, ""), ErrorCode::InvalidGrant);
    idp.tokens("is3", &redeem("web", &code, ""));
}

#[test]
fn invalid_grant_for_a_code_of_another_client_which_is_burnt() {
    let idp = Idp::new();
    let code = idp.code("kc", &query("web", ""));
    let e = idp.refuse("kc", &redeem("other", &code, ""), ErrorCode::InvalidGrant);
    super::says(&e, "another client");
    idp.refuse("kc", &redeem("web", &code, ""), ErrorCode::InvalidGrant);
}

/// The tokens of a code of `web` at `issuer` (with more `scope`), once that code was presented
/// again and refused.
fn replayed(idp: &Idp, issuer: &str, scope: &str) -> crate::engine::issue::Issued {
    let code = idp.code(issuer, &query("web", scope));
    let first = idp.tokens(issuer, &redeem("web", &code, ""));
    idp.refuse(issuer, &redeem("web", &code, ""), ErrorCode::InvalidGrant);
    first
}

/// Keycloak (`code_replay_revokes_tokens`): the second redemption fails and every token of the
/// first stops working.
#[test]
fn invalid_grant_for_a_replayed_code_which_revokes_its_tokens() {
    let idp = Idp::new();
    let first = replayed(&idp, "kc", "");
    let e = refused(
        idp.engine
            .check_access_token(&idp.issuer("kc"), &first.access_token),
        ErrorCode::InvalidToken,
    );
    assert_eq!(e.description, "The access token was revoked");
    let refresh = format!(
        "grant_type=refresh_token&client_id=web&client_secret=web-secret&refresh_token={}",
        first.refresh_token.unwrap_or_default()
    );
    let e = idp.refuse("kc", &refresh, ErrorCode::InvalidGrant);
    super::says(&e, "revoked");
}

/// IdentityServer3 refuses the replay but leaves the first tokens alone.
#[test]
fn invalid_grant_for_a_replayed_code_without_revoking_where_the_product_does_not() {
    let idp = Idp::new();
    let first = replayed(&idp, "is3", "%20offline_access");
    assert!(
        idp.engine
            .check_access_token(&idp.issuer("is3"), &first.access_token)
            .is_ok()
    );
}
