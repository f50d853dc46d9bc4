//! OpenID Connect Core §5.3: the UserInfo endpoint.

use serde_json::json;

use super::users::claims_for_scopes;
use super::{Engine, Issuer};
use crate::error::{ErrorCode, OAuthError};
use crate::jwt::Object;

impl Engine {
    /// The claims `token` may see: `sub` plus what its scopes release. The token must carry the
    /// `openid` scope (403 `insufficient_scope` otherwise, as Keycloak and IdentityServer do).
    pub(crate) fn userinfo(&self, issuer: &Issuer, token: &str) -> Result<Object, OAuthError> {
        let presented = self.check_access_token(issuer, token)?;
        let Some(grant) = presented.grant else {
            let claims = &presented.claims;
            let profile = issuer.dialect.profile();
            let about_a_client = about_a_client(claims, profile.service_account_username);
            if about_a_client && profile.features.userinfo_for_service_accounts {
                return service_account(claims);
            }
            return Err(if about_a_client {
                OAuthError::new(
                    ErrorCode::InsufficientScope,
                    "This token is not about a user (client credentials)",
                )
            } else {
                OAuthError::invalid_token(
                    "This token's user session is unknown here: it was issued before a reset or \
                     a restart of this server",
                )
            });
        };
        if !grant.has_scope("openid") {
            return Err(OAuthError::new(
                ErrorCode::InsufficientScope,
                "Missing openid scope",
            ));
        }
        let mut out = Object::new();
        if let Some(user) = &grant.user {
            out.insert("sub".into(), json!(user.sub));
            out.extend(claims_for_scopes(user, &grant.scopes));
        }
        Ok(out)
    }
}

/// Keycloak's UserInfoEndpoint for a client-credentials token: the service-account user
/// (`sub`, `email_verified`, `preferred_username` = `service-account-{client}`), once the
/// token carries `openid`, as for any user.
fn service_account(claims: &Object) -> Result<Object, OAuthError> {
    if !super::tokens::claimed_scopes(claims)
        .iter()
        .any(|s| s == "openid")
    {
        return Err(OAuthError::new(
            ErrorCode::InsufficientScope,
            "Missing openid scope",
        ));
    }
    let mut out = Object::new();
    for name in ["sub", "email_verified", "preferred_username"] {
        if let Some(v) = claims.get(name) {
            out.insert(name.into(), v.clone());
        }
    }
    Ok(out)
}

/// Whether a signed token this server holds no grant for is a client-credentials token (no
/// `sub`, `sub` = its client, or a service-account user, named with the product's
/// `service_account` prefix) rather than a user's token whose grant was forgotten (admin
/// reset, restart).
fn about_a_client(claims: &Object, service_account: Option<&str>) -> bool {
    let sub = claims.get("sub").and_then(serde_json::Value::as_str);
    let service_account = claims
        .get("preferred_username")
        .and_then(serde_json::Value::as_str)
        .zip(service_account)
        .is_some_and(|(u, prefix)| u.starts_with(prefix));
    sub.is_none() || sub == super::tokens::claimed_client(claims) || service_account
}
