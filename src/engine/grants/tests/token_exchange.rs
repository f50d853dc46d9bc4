//! `urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693): Keycloak's standard exchange
//! (same realm, the client in the subject's audience, no actor) and Django OAuth Toolkit's
//! delegation (an `actor_token`, named in `act`).

use super::{Idp, refused};
use crate::engine::Authorization;
use crate::error::ErrorCode;

const AT: &str = "urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token";
const GRANT: &str = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange";

/// An exchange by `client` (secret in the form) of `subject`, with `extra` form fields.
fn exchange(client: &str, subject: &str, extra: &str) -> String {
    format!(
        "{GRANT}&client_id={client}&client_secret={client}-secret&subject_token={subject}\
         &subject_token_type={AT}{extra}"
    )
}

/// At `dot`: alice's token, and `gen`'s own client-credentials token as the actor.
fn delegation(idp: &Idp) -> (String, String) {
    let subject = idp.alice("dot", "gen", "").access_token;
    (subject, idp.client_token("dot", "gen"))
}

#[test]
fn success_same_realm() {
    let idp = Idp::new();
    let subject = idp.client_token("kc", "svc");
    let issued = idp.tokens("kc", &exchange("svc", &subject, ""));
    assert_eq!(
        issued.issued_token_type,
        Some(crate::engine::issue::ACCESS_TOKEN_TYPE)
    );
}

#[test]
fn success_same_realm_with_an_audience_of_the_realm() {
    let idp = Idp::new();
    let subject = idp.client_token("kc", "svc");
    let issued = idp.tokens("kc", &exchange("svc", &subject, "&audience=web"));
    let claims = super::claims(&idp, &issued.access_token);
    assert!(
        claims["aud"].to_string().contains("web"),
        "{}",
        claims["aud"]
    );
}

/// Delegation: the client authenticates with its own token and names itself the actor; a
/// second exchange nests the first actor.
#[test]
fn success_delegation_names_the_actor_in_act() {
    let idp = Idp::new();
    let (subject, actor) = delegation(&idp);
    let form = format!(
        "{GRANT}&subject_token={subject}&subject_token_type={AT}&actor_token={actor}&actor_token_type={AT}"
    );
    let issued = match idp.token_with("dot", &form, Authorization::Other(actor.clone())) {
        Ok(issued) => issued,
        Err(e) => panic!("{}", e.description),
    };
    let claims = super::claims(&idp, &issued.access_token);
    assert_eq!(claims["act"]["client_id"], "gen");
    let again = format!(
        "{GRANT}&subject_token={}&subject_token_type={AT}&actor_token={actor}&actor_token_type={AT}",
        issued.access_token
    );
    let nested = idp
        .token_with("dot", &again, Authorization::Other(actor.clone()))
        .map(|i| super::claims(&idp, &i.access_token));
    assert!(nested.is_ok_and(|c| c["act"]["act"]["client_id"] == "gen"));
}

#[test]
fn invalid_request_without_subject_token() {
    let idp = Idp::new();
    let form = format!("{GRANT}&client_id=svc&client_secret=svc-secret&subject_token_type={AT}");
    let e = idp.refuse("kc", &form, ErrorCode::InvalidRequest);
    assert_eq!(e.description, "Missing parameter: subject_token");
}

#[test]
fn invalid_request_without_subject_token_type() {
    let idp = Idp::new();
    let subject = idp.client_token("kc", "svc");
    let form = format!("{GRANT}&client_id=svc&client_secret=svc-secret&subject_token={subject}");
    let e = idp.refuse("kc", &form, ErrorCode::InvalidRequest);
    assert_eq!(e.description, "Missing parameter: subject_token_type");
}

#[test]
fn invalid_request_for_an_unsupported_subject_token_type() {
    let idp = Idp::new();
    let subject = idp.client_token("kc", "svc");
    let form = format!(
        "{GRANT}&client_id=svc&client_secret=svc-secret&subject_token={subject}\
         &subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Asaml2"
    );
    let e = idp.refuse("kc", &form, ErrorCode::InvalidRequest);
    assert!(
        e.description.contains("is not supported"),
        "{}",
        e.description
    );
}

#[test]
fn invalid_request_for_a_subject_token_that_is_no_jwt() {
    let idp = Idp::new();
    let e = idp.refuse(
        "kc",
        &exchange("svc", "opaque", ""),
        ErrorCode::InvalidRequest,
    );
    assert!(e.description.contains("is not a JWT"), "{}", e.description);
}

#[test]
fn invalid_request_for_an_expired_subject_token() {
    let idp = Idp::new();
    let subject = idp.client_token("kc", "svc");
    idp.clock.advance(86_400);
    let e = idp.refuse(
        "kc",
        &exchange("svc", &subject, ""),
        ErrorCode::InvalidRequest,
    );
    assert!(e.description.contains("expired"), "{}", e.description);
}

#[test]
fn invalid_request_for_a_subject_of_an_untrusted_issuer() {
    let idp = Idp::new();
    let subject = idp.client_token("kc", "svc");
    let e = idp.refuse(
        "dot",
        &exchange("gen", &subject, ""),
        ErrorCode::InvalidRequest,
    );
    assert!(
        e.description.contains("does not trust"),
        "{}",
        e.description
    );
}

/// Keycloak's standard exchange: a hosted issuer the realm trusts is still another realm.
#[test]
fn invalid_request_for_a_subject_of_another_realm() {
    let idp = Idp::new();
    let subject = idp.client_token("dot", "gen");
    let e = idp.refuse(
        "kc",
        &exchange("svc", &subject, ""),
        ErrorCode::InvalidRequest,
    );
    assert!(
        e.description.contains("issued by this realm"),
        "{}",
        e.description
    );
}

#[test]
fn invalid_request_when_the_client_is_not_in_the_audience() {
    let idp = Idp::new();
    let subject = idp.client_token("kc", "other");
    let e = idp.refuse(
        "kc",
        &exchange("svc", &subject, ""),
        ErrorCode::InvalidRequest,
    );
    assert_eq!(e.description, "Client is not within the token audience");
}

#[test]
fn invalid_request_for_an_actor_token_in_a_same_realm_exchange() {
    let idp = Idp::new();
    let subject = idp.client_token("kc", "svc");
    let extra = format!("&actor_token={subject}&actor_token_type={AT}");
    let e = idp.refuse(
        "kc",
        &exchange("svc", &subject, &extra),
        ErrorCode::InvalidRequest,
    );
    assert_eq!(e.description, "Parameter 'actor_token' not supported");
}

#[test]
fn invalid_request_for_an_actor_token_without_type() {
    let idp = Idp::new();
    let (subject, actor) = delegation(&idp);
    let extra = format!("&actor_token={actor}");
    let e = idp.refuse(
        "dot",
        &exchange("gen", &subject, &extra),
        ErrorCode::InvalidRequest,
    );
    assert!(
        e.description.contains("actor_token_type"),
        "{}",
        e.description
    );
}

#[test]
fn invalid_request_for_an_actor_token_type_without_token() {
    let idp = Idp::new();
    let (subject, _) = delegation(&idp);
    let extra = format!("&actor_token_type={AT}");
    let e = idp.refuse(
        "dot",
        &exchange("gen", &subject, &extra),
        ErrorCode::InvalidRequest,
    );
    assert_eq!(
        e.description,
        "actor_token_type was sent without actor_token"
    );
}

#[test]
fn invalid_request_for_an_invalid_actor_token() {
    let idp = Idp::new();
    let (subject, _) = delegation(&idp);
    let extra = format!("&actor_token=nope&actor_token_type={AT}");
    let e = idp.refuse(
        "dot",
        &exchange("gen", &subject, &extra),
        ErrorCode::InvalidRequest,
    );
    assert!(
        e.description.starts_with("actor_token is not valid"),
        "{}",
        e.description
    );
}

#[test]
fn invalid_request_for_an_actor_token_of_another_client() {
    let idp = Idp::new();
    let (subject, _) = delegation(&idp);
    let actor = idp.client_token("dot", "rs");
    let extra = format!("&actor_token={actor}&actor_token_type={AT}");
    let e = idp.refuse(
        "dot",
        &exchange("gen", &subject, &extra),
        ErrorCode::InvalidRequest,
    );
    assert!(
        e.description
            .contains("not issued to the authenticated client"),
        "{}",
        e.description
    );
}

#[test]
fn invalid_request_for_an_unsupported_requested_token_type() {
    let idp = Idp::new();
    let subject = idp.client_token("kc", "svc");
    let extra = "&requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aid_token";
    let e = idp.refuse(
        "kc",
        &exchange("svc", &subject, extra),
        ErrorCode::InvalidRequest,
    );
    assert!(
        e.description.starts_with("requested_token_type"),
        "{}",
        e.description
    );
}

#[test]
fn invalid_request_for_an_audience_not_in_the_realm() {
    let idp = Idp::new();
    let subject = idp.client_token("kc", "svc");
    let e = idp.refuse(
        "kc",
        &exchange("svc", &subject, "&audience=nobody"),
        ErrorCode::InvalidRequest,
    );
    assert_eq!(e.description, "Requested audience not available: nobody");
}

#[test]
fn invalid_scope_for_a_scope_the_client_lacks() {
    let idp = Idp::new();
    let subject = idp.client_token("kc", "svc");
    idp.refuse(
        "kc",
        &exchange("svc", &subject, "&scope=admin"),
        ErrorCode::InvalidScope,
    );
}

#[test]
fn invalid_client_for_a_user_token_in_authorization() {
    let idp = Idp::new();
    let (subject, _) = delegation(&idp);
    let form = format!("{GRANT}&subject_token={subject}&subject_token_type={AT}");
    refused(
        idp.token_with("dot", &form, Authorization::Other(subject.clone())),
        ErrorCode::InvalidClient,
    );
}
