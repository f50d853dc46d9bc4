//! RFC 8693 token exchange. Delegation as the generic seed does it: the client authenticates
//! with its own client-credentials token and passes it again as `actor_token`; the new token is
//! about the subject and names the actor in `act` (nested when the subject already had one).
//! Keycloak's standard token exchange is stricter: same-realm subjects, no actor, `audience`
//! must be a client of the realm.

use std::sync::Arc;

use serde_json::{Value, json};

use super::GrantCall;
use crate::dialect::ExchangeStyle;
use crate::engine::issue::{ACCESS_TOKEN_TYPE, Grant, Issued};
use crate::engine::scope;
use crate::engine::tokens::claimed_client;
use crate::engine::users::User;
use crate::error::OAuthError;
use crate::jwt::Object;

/// Token types accepted as `subject_token_type` / `actor_token_type`.
const ACCEPTED_TYPES: &[&str] = &[ACCESS_TOKEN_TYPE, "urn:ietf:params:oauth:token-type:jwt"];

pub(super) fn grant(call: GrantCall<'_>) -> Result<Issued, OAuthError> {
    let (engine, issuer, client, req) = call.parts();
    let p = &req.params;
    let style = issuer.dialect.profile().exchange_style;
    let subject_token = p.require("subject_token")?;
    token_type(p.get("subject_token_type"), "subject_token_type")?;
    let subject = engine.check_subject_token(
        issuer,
        subject_token,
        "subject_token",
        req.remote_jwks.as_ref(),
    )?;
    if style == ExchangeStyle::SameIssuer {
        let same = engine
            .issuers()
            .by_issuer_url(
                subject.get("iss").and_then(Value::as_str).unwrap_or(""),
                engine.prefix(),
            )
            .is_some_and(|i| i.name() == issuer.name());
        if !same {
            return Err(OAuthError::invalid_request(
                "subject_token must be issued by this realm (standard token exchange)",
            ));
        }
        let audience_ok = claimed_client(&subject) == Some(client.id.as_str())
            || match subject.get("aud") {
                Some(Value::String(a)) => *a == client.id,
                Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(&client.id)),
                _ => false,
            };
        if !audience_ok {
            return Err(OAuthError::invalid_request(
                "Client is not within the token audience",
            ));
        }
    }
    let act = match (p.get("actor_token"), p.get("actor_token_type")) {
        (None, None) => None,
        (Some(_), None) => {
            return Err(OAuthError::invalid_request(
                "Missing parameter: actor_token_type (required with actor_token)",
            ));
        }
        (None, Some(_)) => {
            return Err(OAuthError::invalid_request(
                "actor_token_type was sent without actor_token",
            ));
        }
        (Some(_), Some(_)) if style == ExchangeStyle::SameIssuer => {
            return Err(OAuthError::invalid_request(
                "Parameter 'actor_token' not supported",
            ));
        }
        (Some(actor_token), Some(t)) => {
            token_type(Some(t), "actor_token_type")?;
            let actor = engine
                .check_access_token(issuer, actor_token)
                .map_err(|e| {
                    OAuthError::invalid_request(format!(
                        "actor_token is not valid: {}",
                        e.description
                    ))
                })?
                .claims;
            if claimed_client(&actor) != Some(client.id.as_str()) {
                return Err(OAuthError::invalid_request(
                    "actor_token was not issued to the authenticated client",
                ));
            }
            Some(actor_claim(&actor, &client.id, subject.get("act")))
        }
    };
    if let Some(t) = p.get("requested_token_type")
        && t != ACCESS_TOKEN_TYPE
    {
        return Err(OAuthError::invalid_request(format!(
            "requested_token_type {t:?} is not supported: only {ACCESS_TOKEN_TYPE}"
        )));
    }
    let audience = match p.get("audience") {
        None => None,
        Some(aud) if style == ExchangeStyle::SameIssuer && issuer.client(aud).is_none() => {
            return Err(OAuthError::invalid_request(format!(
                "Requested audience not available: {aud}"
            )));
        }
        Some(aud) => Some(vec![aud.to_string()]),
    };
    let scopes = scope::granted(issuer, client, p.get("scope"))?;
    let grant = Grant {
        client_id: client.id.clone(),
        user: Some(Arc::new(subject_user(&subject)?)),
        scopes,
        sid: subject.get("sid").and_then(Value::as_str).map(String::from),
        auth_time: subject.get("auth_time").and_then(Value::as_u64),
        nonce: None,
        act,
        audience,
        chain: None,
    };
    call.issue(grant, crate::config::TOKEN_EXCHANGE)
}

fn token_type(value: Option<&str>, name: &str) -> Result<(), OAuthError> {
    match value {
        None => Err(OAuthError::invalid_request(format!(
            "Missing parameter: {name}"
        ))),
        Some(t) if ACCEPTED_TYPES.contains(&t) => Ok(()),
        Some(t) => Err(OAuthError::invalid_request(format!(
            "{name} {t:?} is not supported: use {ACCESS_TOKEN_TYPE}"
        ))),
    }
}

/// RFC 8693 §4.1: `act` names the actor; a previous `act` of the subject nests inside it.
fn actor_claim(actor: &Object, client_id: &str, prior: Option<&Value>) -> Value {
    let mut act = json!({
        "sub": actor.get("sub").and_then(Value::as_str).unwrap_or(client_id),
        "client_id": client_id,
    });
    if let (Some(prior), Some(obj)) = (prior, act.as_object_mut()) {
        obj.insert("act".into(), prior.clone());
    }
    act
}

/// The person a subject token is about, with the profile claims it carries.
fn subject_user(claims: &Object) -> Result<User, OAuthError> {
    // A client-credentials token (IdentityServer3's have no `sub`) stands for its client.
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .or_else(|| claimed_client(claims))
        .ok_or_else(|| OAuthError::invalid_request("subject_token has no sub claim"))?;
    let username = claims
        .get("preferred_username")
        .and_then(Value::as_str)
        .unwrap_or(sub);
    let mut profile = Object::new();
    for k in [
        "email",
        "email_verified",
        "name",
        "given_name",
        "family_name",
    ] {
        if let Some(v) = claims.get(k) {
            profile.insert(k.into(), v.clone());
        }
    }
    Ok(User {
        username: username.to_string(),
        sub: sub.to_string(),
        roles: Vec::new(),
        client_roles: Default::default(),
        claims: profile,
    })
}
