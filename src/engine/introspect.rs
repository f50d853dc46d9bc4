//! RFC 7662 introspection, RFC 7009 revocation and the protected resource: what an API under
//! test asks about a token.

use serde_json::{Value, json};

use super::client_auth;
use super::issue::{Grant, token_key};
use super::tokens::{claimed_client, claimed_scopes};
use super::{Authorization, Engine, Issuer, TokenRequest};
use crate::config::ResourceConfig;
use crate::error::{ErrorCode, OAuthError};
use crate::jwt::Object;

impl Engine {
    /// RFC 7662 §2: `{"active": false}` for anything not live; the token's claims otherwise.
    pub(crate) fn introspect(
        &self,
        issuer: &Issuer,
        req: &TokenRequest,
    ) -> Result<Value, OAuthError> {
        self.authorize_introspection(issuer, req)?;
        let token = req.params.require("token")?;
        let now = self.clock.now();
        // Keycloak's checkTokenValidForIntrospection: a token of a client that no longer
        // exists (deleted through the admin REST API) is not active.
        if let Ok(p) = self.check_access_token(issuer, token)
            && p.grant
                .as_ref()
                .map(|g| g.client_id.as_str())
                .or_else(|| claimed_client(&p.claims))
                .is_none_or(|c| issuer.client(c).is_some())
        {
            let mut out = Object::new();
            out.insert("active".into(), json!(true));
            out.extend(p.claims.clone());
            let scopes = p
                .grant
                .as_ref()
                .map_or_else(|| claimed_scopes(&p.claims), |g| g.scopes.clone());
            out.insert("scope".into(), json!(scopes.join(" ")));
            if let Some(client) = p
                .grant
                .as_ref()
                .map(|g| g.client_id.clone())
                .or_else(|| claimed_client(&p.claims).map(String::from))
            {
                out.insert("client_id".into(), json!(client));
            }
            if let Some(user) = p.grant.as_ref().and_then(|g| g.user.as_ref()) {
                out.insert("username".into(), json!(user.username));
                out.insert("sub".into(), json!(user.sub));
            }
            out.insert("token_type".into(), json!(crate::dialect::BEARER));
            return Ok(Value::Object(out));
        }
        if let Some((exp, r)) = self.refresh_tokens.get_with_expiry(token, now)
            && r.issuer == issuer.name()
            && !self.chain_revoked(&r.grant, now)
        {
            let g = &r.grant;
            return Ok(json!({
                "active": true,
                "token_type": "refresh_token",
                "client_id": g.client_id,
                "scope": g.scopes.join(" "),
                "sub": g.user.as_ref().map(|u| &u.sub),
                "username": g.user.as_ref().map(|u| &u.username),
                "exp": exp,
            }));
        }
        Ok(json!({ "active": false }))
    }

    /// RFC 7662 §2.1: the caller must be authorized. A confidential client, or where the
    /// product allows it (Django OAuth Toolkit's resource servers) a bearer token carrying its
    /// introspection scope; a public client proves nothing.
    fn authorize_introspection(
        &self,
        issuer: &Issuer,
        req: &TokenRequest,
    ) -> Result<(), OAuthError> {
        let refused = match client_auth::authenticate(self, issuer, req, false) {
            Ok(client) if !client.is_public() => return Ok(()),
            Ok(_) => OAuthError::invalid_client(
                "public clients cannot introspect tokens: authenticate a confidential client",
            ),
            Err(e) => e,
        };
        // Django OAuth Toolkit falls back to a bearer token carrying its introspection scope.
        let (Some(scope), Authorization::Other(value)) = (
            issuer.dialect.profile().introspection_scope,
            &req.authorization,
        ) else {
            return Err(refused);
        };
        let p = self
            .check_access_token(issuer, client_auth::bearer(value))
            .map_err(|e| {
                OAuthError::invalid_client(format!(
                    "the token in Authorization cannot introspect: {}",
                    e.description
                ))
            })?;
        let scopes = p
            .grant
            .map_or_else(|| claimed_scopes(&p.claims), |g| g.scopes);
        if !scopes.iter().any(|s| s == scope) {
            return Err(OAuthError::new(
                ErrorCode::InsufficientScope,
                format!("the token in Authorization lacks the {scope:?} scope"),
            ));
        }
        Ok(())
    }

    /// Keycloak's back-channel logout (`POST …/logout` with the client's own refresh token, as
    /// python-keycloak's `logout()` sends it): ends the browser session the token belongs to
    /// and revokes what was issued in it.
    pub(crate) fn logout_by_refresh_token(
        &self,
        issuer: &Issuer,
        req: &TokenRequest,
    ) -> Result<(), OAuthError> {
        let client = client_auth::authenticate(self, issuer, req, false)?;
        let token = req.params.require("refresh_token")?;
        let now = self.clock.now();
        let (exp, record) = self
            .refresh_tokens
            .get_with_expiry(token, now)
            .filter(|(_, r)| r.issuer == issuer.name())
            .ok_or_else(|| OAuthError::invalid_grant("Invalid refresh token"))?;
        if record.grant.client_id != client.id {
            return Err(OAuthError::invalid_grant(
                "Invalid refresh token: it was issued to another client",
            ));
        }
        self.retire_refresh_token(token, &record.grant, exp, now, true);
        if let Some(sid) = &record.grant.sid {
            self.end_session(sid);
        }
        tracing::info!(
            issuer = issuer.name(),
            client_id = client.id.as_str(),
            "logged out by the client (back channel)"
        );
        Ok(())
    }

    /// Drops refresh token `token` (which expires at `exp`) and, with `whole_chain`, revokes
    /// every token of its login until a day past that.
    fn retire_refresh_token(
        &self,
        token: &str,
        grant: &Grant,
        exp: u64,
        now: u64,
        whole_chain: bool,
    ) {
        self.refresh_tokens.remove(token);
        if let Some(chain) = grant.chain.as_ref().filter(|_| whole_chain) {
            self.revoked_chains
                .insert(chain.clone(), (), exp.max(now + 86_400), now);
        }
    }

    /// RFC 7009 §2: revokes a refresh or access token of the calling client. Unknown tokens are
    /// not an error (§2.2). Revoking a refresh token revokes the access tokens issued with it
    /// where the product does so.
    pub(crate) fn revoke(&self, issuer: &Issuer, req: &TokenRequest) -> Result<(), OAuthError> {
        let client = client_auth::authenticate(self, issuer, req, false)?;
        let token = req.params.require("token")?;
        let now = self.clock.now();
        let not_yours =
            || OAuthError::unauthorized_client("this token was issued to another client");
        if let Some((exp, r)) = self.refresh_tokens.get_with_expiry(token, now)
            && r.issuer == issuer.name()
        {
            if r.grant.client_id != client.id {
                return Err(not_yours());
            }
            let whole_chain =
                (issuer.dialect.profile().features).refresh_revocation_revokes_access_tokens;
            self.retire_refresh_token(token, &r.grant, exp, now, whole_chain);
            tracing::info!(
                issuer = issuer.name(),
                client_id = client.id.as_str(),
                "refresh token revoked"
            );
            return Ok(());
        }
        if let Ok(p) = self.check_access_token(issuer, token) {
            let owner = p
                .grant
                .as_ref()
                .map(|g| g.client_id.clone())
                .or_else(|| claimed_client(&p.claims).map(String::from));
            if owner.as_deref() != Some(client.id.as_str()) {
                return Err(not_yours());
            }
            let exp = p
                .claims
                .get("exp")
                .and_then(Value::as_u64)
                .unwrap_or(now + 86_400);
            self.revoked
                .insert(token_key(token), (), exp.max(now + 1), now);
            self.opaque_tokens.remove(token);
            tracing::info!(
                issuer = issuer.name(),
                client_id = client.id.as_str(),
                "access token revoked"
            );
        }
        Ok(())
    }

    /// A protected resource's answer for `token`: who is calling, or RFC 6750 errors (403
    /// `insufficient_scope` when the resource's scope or role is missing).
    pub(crate) fn resource(
        &self,
        issuer: &Issuer,
        resource: &ResourceConfig,
        token: &str,
    ) -> Result<Value, OAuthError> {
        let p = self.check_access_token(issuer, token)?;
        let scopes = p
            .grant
            .as_ref()
            .map_or_else(|| claimed_scopes(&p.claims), |g| g.scopes.clone());
        if let Some(needed) = &resource.scope
            && !scopes.iter().any(|s| s == needed)
        {
            return Err(OAuthError::new(
                ErrorCode::InsufficientScope,
                format!("this resource needs the scope {needed:?}"),
            ));
        }
        if let Some(role) = &resource.role
            && !roles_of(&p.claims).iter().any(|r| r == role)
        {
            return Err(OAuthError::new(
                ErrorCode::InsufficientScope,
                format!("this resource needs the role {role:?}"),
            ));
        }
        let client = p
            .grant
            .as_ref()
            .map(|g| g.client_id.clone())
            .or_else(|| claimed_client(&p.claims).map(String::from));
        Ok(json!({
            "resource": resource.path,
            "sub": p.claims.get("sub"),
            "client_id": client,
            "username": p.grant.as_ref().and_then(|g| g.user.as_ref()).map(|u| &u.username),
            "scope": scopes.join(" "),
            "act": p.claims.get("act"),
            "iss": p.claims.get("iss"),
            "exp": p.claims.get("exp"),
        }))
    }
}

/// Roles a token carries: Keycloak's `realm_access`/`resource_access`, or `roles`/`role`.
fn roles_of(claims: &Object) -> Vec<String> {
    let mut out = Vec::new();
    let mut take = |v: Option<&Value>| match v {
        Some(Value::Array(a)) => out.extend(a.iter().filter_map(Value::as_str).map(String::from)),
        Some(Value::String(s)) => out.push(s.clone()),
        _ => {}
    };
    take(claims.get("realm_access").and_then(|r| r.get("roles")));
    if let Some(Value::Object(clients)) = claims.get("resource_access") {
        for c in clients.values() {
            take(c.get("roles"));
        }
    }
    take(claims.get("roles"));
    take(claims.get("role"));
    out
}
