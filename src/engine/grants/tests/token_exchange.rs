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

/// `svc`'s exchange at `kc` of its own token, with `extra` form fields.
fn own(idp: &Idp, extra: &str) -> String {
    exchange("svc", &idp.client_token("kc", "svc"), extra)
}

/// `gen`'s exchange at `dot` of alice's token, with `extra` form fields (`{actor}` there is
/// `actor`'s own client-credentials token).
fn delegated(idp: &Idp, actor: &str, extra: &str) -> String {
    let subject = delegation(idp).0;
    let extra = extra.replace("{actor}", &idp.client_token("dot", actor));
    exchange("gen", &subject, &extra)
}

refusals! {
    invalid_request_without_subject_token: "kc",
        |_i| format!("{GRANT}&client_id=svc&client_secret=svc-secret&subject_token_type={AT}")
        => InvalidRequest, "Missing parameter: subject_token";
    invalid_request_without_subject_token_type: "kc",
        |idp| own(&idp, "").replace(&format!("&subject_token_type={AT}"), "")
        => InvalidRequest, "Missing parameter: subject_token_type";
    invalid_request_for_an_unsupported_subject_token_type: "kc",
        |idp| own(&idp, "").replace("token-type%3Aaccess_token", "token-type%3Asaml2")
        => InvalidRequest, "is not supported";
    invalid_request_for_a_subject_token_that_is_no_jwt: "kc", |_i| exchange("svc", "opaque", "")
        => InvalidRequest, "is not a JWT";
    invalid_request_for_an_expired_subject_token: "kc", |idp| {
        let form = own(&idp, "");
        idp.clock.advance(86_400);
        form
    } => InvalidRequest, "expired";
    invalid_request_for_a_subject_of_an_untrusted_issuer: "dot",
        |idp| exchange("gen", &idp.client_token("kc", "svc"), "") => InvalidRequest, "does not trust";
    /// Keycloak's standard exchange: a hosted issuer the realm trusts is still another realm.
    invalid_request_for_a_subject_of_another_realm: "kc",
        |idp| exchange("svc", &idp.client_token("dot", "gen"), "")
        => InvalidRequest, "issued by this realm";
    invalid_request_when_the_client_is_not_in_the_audience: "kc",
        |idp| exchange("svc", &idp.client_token("kc", "other"), "")
        => InvalidRequest, "Client is not within the token audience";
    invalid_request_for_an_actor_token_in_a_same_realm_exchange: "kc",
        |idp| own(&idp, &format!("&actor_token=x&actor_token_type={AT}"))
        => InvalidRequest, "Parameter 'actor_token' not supported";
    invalid_request_for_an_actor_token_without_type: "dot",
        |idp| delegated(&idp, "gen", "&actor_token={actor}") => InvalidRequest, "actor_token_type";
    invalid_request_for_an_actor_token_type_without_token: "dot",
        |idp| delegated(&idp, "gen", &format!("&actor_token_type={AT}"))
        => InvalidRequest, "actor_token_type was sent without actor_token";
    invalid_request_for_an_invalid_actor_token: "dot",
        |idp| delegated(&idp, "gen", &format!("&actor_token=nope&actor_token_type={AT}"))
        => InvalidRequest, "actor_token is not valid";
    invalid_request_for_an_actor_token_of_another_client: "dot",
        |idp| delegated(&idp, "rs", &format!("&actor_token={{actor}}&actor_token_type={AT}"))
        => InvalidRequest, "not issued to the authenticated client";
    invalid_request_for_an_unsupported_requested_token_type: "kc",
        |idp| own(&idp, "&requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aid_token")
        => InvalidRequest, "requested_token_type";
    invalid_request_for_an_audience_not_in_the_realm: "kc", |idp| own(&idp, "&audience=nobody")
        => InvalidRequest, "Requested audience not available: nobody";
    invalid_scope_for_a_scope_the_client_lacks: "kc", |idp| own(&idp, "&scope=admin")
        => InvalidScope;
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
