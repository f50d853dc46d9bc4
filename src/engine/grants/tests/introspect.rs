//! RFC 7662 introspection ([`crate::engine::Engine::introspect`]): a confidential client (or,
//! at Django OAuth Toolkit, a token with its introspection scope) learns whether a token is
//! live and what it grants.

use serde_json::Value;

use super::{Idp, request};
use crate::engine::Authorization;
use crate::error::{Cause, OAuthError};

fn introspect(
    idp: &Idp,
    issuer: &str,
    form: &str,
    auth: Authorization,
) -> Result<Value, OAuthError> {
    idp.engine
        .introspect(&idp.issuer(issuer), &request(form, auth))
}

fn by_svc(idp: &Idp, token: &str) -> Value {
    let form = format!("client_id=svc&client_secret=svc-secret&token={token}");
    match introspect(idp, "kc", &form, Authorization::None) {
        Ok(v) => v,
        Err(e) => panic!("{}", e.description),
    }
}

#[test]
fn success_active_access_token() {
    let idp = Idp::new();
    let issued = idp.alice("kc", "web", "");
    let out = by_svc(&idp, &issued.access_token);
    assert_eq!(out["active"], true);
    assert_eq!(out["client_id"], "web");
    assert_eq!(out["username"], "alice");
}

#[test]
fn success_active_refresh_token() {
    let idp = Idp::new();
    let issued = idp.alice("kc", "web", "");
    let out = by_svc(&idp, issued.refresh_token.as_deref().unwrap_or(""));
    assert_eq!(out["active"], true);
    assert_eq!(out["token_type"], "refresh_token");
}

#[test]
fn inactive_for_an_unknown_token() {
    let idp = Idp::new();
    assert_eq!(by_svc(&idp, "nope"), serde_json::json!({"active": false}));
}

#[test]
fn inactive_once_expired() {
    let idp = Idp::new();
    let token = idp.client_token("kc", "svc");
    idp.clock.advance(86_400);
    assert_eq!(by_svc(&idp, &token)["active"], false);
}

#[test]
fn inactive_for_a_token_of_another_issuer() {
    let idp = Idp::new();
    let token = idp.client_token("dot", "gen");
    assert_eq!(by_svc(&idp, &token)["active"], false);
}

#[test]
fn inactive_once_its_client_is_deleted() {
    let idp = Idp::new();
    let token = idp.client_token("kc", "other");
    let deleted = idp.engine.update_issuer("kc", |c| {
        c.clients.retain(|c| c.id != "other");
        Ok(())
    });
    assert!(deleted.is_ok());
    assert_eq!(by_svc(&idp, &token)["active"], false);
}

/// A bearer token of Django OAuth Toolkit's resource server `rs`, with `scope`.
fn rs_bearer(idp: &Idp, scope: &str) -> Authorization {
    let form =
        format!("grant_type=client_credentials&client_id=rs&client_secret=rs-secret&scope={scope}");
    Authorization::Other(format!("Bearer {}", idp.tokens("dot", &form).access_token))
}

/// Introspection of `token=x` at `issuer` by whoever `auth` names.
fn of_x(idp: &Idp, issuer: &str, auth: Authorization) -> Result<Value, OAuthError> {
    introspect(idp, issuer, "token=x", auth)
}

refusals! {
    invalid_request_without_token:
        |idp| introspect(&idp, "kc", "client_id=svc&client_secret=svc-secret", Authorization::None)
        => InvalidRequest, "Missing parameter: token";
    invalid_client_without_client_authentication: |idp| of_x(&idp, "kc", Authorization::None)
        => InvalidClient, Cause::MissingClientId;
    invalid_client_for_a_public_client:
        |idp| introspect(&idp, "kc", "client_id=dev&token=x", Authorization::None)
        => InvalidClient, "public clients cannot introspect";
    insufficient_scope_for_a_bearer_token_without_the_introspection_scope:
        |idp| of_x(&idp, "dot", rs_bearer(&idp, "read")) => InsufficientScope, "introspection";
    invalid_client_for_an_invalid_bearer_token:
        |idp| of_x(&idp, "dot", Authorization::Other("Bearer nope".into()))
        => InvalidClient, "cannot introspect";
    /// Keycloak has no bearer fallback: the same header is an unsupported scheme.
    invalid_client_for_a_bearer_token_where_the_product_has_no_fallback:
        |idp| of_x(&idp, "kc", Authorization::Other(format!("Bearer {}", idp.client_token("kc", "svc"))))
        => InvalidClient, Cause::UnsupportedAuthScheme;
}

/// Django OAuth Toolkit: a resource server's token with the `introspection` scope.
#[test]
fn success_by_a_bearer_token_with_the_introspection_scope() {
    let idp = Idp::new();
    let token = idp.client_token("dot", "gen");
    let out = introspect(
        &idp,
        "dot",
        &format!("token={token}"),
        rs_bearer(&idp, "introspection"),
    );
    assert!(out.is_ok_and(|v| v["active"] == true));
}
