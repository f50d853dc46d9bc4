//! Keycloak's account REST API (`AccountRestService.account()`): the logged-in user's profile,
//! which keycloak-js `loadUserProfile()` reads with the user's access token.

use serde_json::{Value, json};

use super::users::SCOPE_CLAIMS;
use super::{Engine, Issuer};
use crate::error::OAuthError;
use crate::jwt::Object;

impl Engine {
    /// The profile of the user `token` was issued to, as a Keycloak `UserRepresentation`:
    /// `id`, `username`, `firstName`, `lastName`, `email`, `emailVerified` and the user's other
    /// claims as `attributes` (each a list of strings, as Keycloak keeps attributes).
    pub(crate) fn account_profile(
        &self,
        issuer: &Issuer,
        token: &str,
    ) -> Result<Object, OAuthError> {
        let presented = self.check_access_token(issuer, token)?;
        let Some(user) = presented.grant.and_then(|g| g.user) else {
            return Err(OAuthError::invalid_token(
                "This token is not a user's token, or its session is unknown here",
            ));
        };
        let claim = |k: &str| user.claims.get(k).cloned();
        let standard = |k: &str| SCOPE_CLAIMS.iter().any(|(_, cs)| cs.contains(&k));
        let attributes: Object = user
            .claims
            .iter()
            .filter(|(k, _)| !standard(k))
            .map(|(k, v)| (k.clone(), attribute_values(v)))
            .collect();
        let mut out = crate::dialect::object(json!({
            "id": user.sub,
            "username": user.username,
            "firstName": claim("given_name"),
            "lastName": claim("family_name"),
            "email": claim("email"),
            "emailVerified": claim("email_verified").unwrap_or(Value::Bool(false)),
        }));
        if !attributes.is_empty() {
            out.insert("attributes".into(), Value::Object(attributes));
        }
        Ok(out)
    }
}

/// A claim as Keycloak attribute values: a list of strings.
fn attribute_values(v: &Value) -> Value {
    let text = |v: &Value| match v {
        Value::String(s) => Value::String(s.clone()),
        other => Value::String(other.to_string()),
    };
    match v {
        Value::Array(items) => Value::Array(items.iter().map(text).collect()),
        one => Value::Array(vec![text(one)]),
    }
}
