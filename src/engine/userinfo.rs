//! OpenID Connect Core §5.3: the UserInfo endpoint.

use serde_json::json;

use super::users::claims_for_scopes;
use super::{Engine, Issuer};
use crate::error::{ErrorCode, OAuthError};
use crate::jwt::Object;

impl Engine {
    /// The claims `token` may see: `sub` plus what its scopes release. The token must carry the
    /// `openid` scope (403 `insufficient_scope` otherwise, as Keycloak and IdentityServer do).
    pub fn userinfo(&self, issuer: &Issuer, token: &str) -> Result<Object, OAuthError> {
        let presented = self.check_access_token(issuer, token)?;
        let Some(grant) = presented.grant else {
            return Err(OAuthError::new(
                ErrorCode::InsufficientScope,
                "This token is not about a user (client credentials)",
            ));
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
