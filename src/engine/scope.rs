//! RFC 6749 §3.3 scopes: parsing the request and deciding what is granted.

use super::Issuer;
use crate::config::ClientConfig;
use crate::error::OAuthError;

/// [`grant`] with the rules of `issuer`'s product (Keycloak's always-allowed `openid`, its
/// default scopes extended by the asked ones).
pub(crate) fn granted(
    issuer: &Issuer,
    client: &ClientConfig,
    requested: Option<&str>,
) -> Result<Vec<String>, OAuthError> {
    let p = issuer.dialect.profile();
    grant(
        client,
        requested,
        p.always_allowed_scopes,
        p.scopes_extend_defaults,
    )
}

/// The scopes granted to `client` for a request asking for `requested`.
///
/// Nothing asked: the client's default scopes. Otherwise every asked scope must be registered for
/// the client (or be one the product always allows, like Keycloak's `openid`); with
/// `extend_defaults` the defaults are granted too, as Keycloak does with default client scopes.
pub(crate) fn grant(
    client: &ClientConfig,
    requested: Option<&str>,
    always_allowed: &[&str],
    extend_defaults: bool,
) -> Result<Vec<String>, OAuthError> {
    let defaults = client.default_scopes.as_ref().unwrap_or(&client.scopes);
    let Some(requested) = requested else {
        return Ok(defaults.clone());
    };
    let mut asked: Vec<&str> = Vec::new();
    for s in requested.split(' ').filter(|s| !s.is_empty()) {
        if !s
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
        {
            return Err(OAuthError::invalid_scope(
                "scope contains characters RFC 6749 §3.3 does not allow",
            ));
        }
        if !asked.contains(&s) {
            asked.push(s);
        }
    }
    let unknown: Vec<&str> = asked
        .iter()
        .copied()
        .filter(|s| !client.scopes.iter().any(|c| c == s) && !always_allowed.contains(s))
        .collect();
    if !unknown.is_empty() {
        return Err(OAuthError::invalid_scope(format!(
            "Invalid scopes: {} (client {:?} may ask for: {})",
            unknown.join(" "),
            client.id,
            client.scopes.join(" ")
        )));
    }
    let mut granted: Vec<String> = if extend_defaults {
        defaults.clone()
    } else {
        Vec::new()
    };
    for s in asked {
        if !granted.iter().any(|g| g == s) {
            granted.push(s.to_string());
        }
    }
    Ok(granted)
}
