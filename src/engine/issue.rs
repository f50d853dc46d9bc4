//! Minting access tokens: the dialect decides the claims, the fixtures add theirs, then the token
//! is signed (JWT) or remembered (opaque).

use super::{Engine, Issuer, RequestContext};
use crate::config::{ClientConfig, TokenFormat, UserConfig};
use crate::error::OAuthError;
use crate::ids;
use crate::jwt::{self, Object};

/// Everything a dialect may put in an access token.
pub struct TokenContext<'a> {
    pub issuer: &'a Issuer,
    pub request: &'a RequestContext,
    pub client: &'a ClientConfig,
    /// `None` for a token about the client itself (client credentials).
    pub user: Option<&'a UserConfig>,
    pub scopes: &'a [String],
    pub grant_type: &'a str,
    pub issued_at: u64,
    pub expires_at: u64,
    /// A fresh random id for `jti`.
    pub jti: String,
}

/// A successful token response before its dialect shapes it.
#[derive(Debug, Clone)]
pub struct Issued {
    pub access_token: String,
    pub expires_in: u64,
    pub scopes: Vec<String>,
    pub refresh_token: Option<String>,
    pub refresh_expires_in: Option<u64>,
    pub id_token: Option<String>,
}

impl Engine {
    /// A token context for `client` at `issuer`, valid from now for the client's lifetime.
    pub fn token_context<'a>(
        &self,
        issuer: &'a Issuer,
        request: &'a RequestContext,
        client: &'a ClientConfig,
        scopes: &'a [String],
        grant_type: &'a str,
    ) -> TokenContext<'a> {
        let now = self.clock.now();
        TokenContext {
            issuer,
            request,
            client,
            user: None,
            scopes,
            grant_type,
            issued_at: now,
            expires_at: now + issuer.access_token_ttl(client),
            jti: ids::random_uuid(),
        }
    }

    /// Mints the access token described by `ctx`.
    pub fn mint_access_token(&self, ctx: &TokenContext) -> Result<String, OAuthError> {
        let dialect = ctx.issuer.dialect;
        let mut claims = dialect.access_token_claims(ctx);
        merge(&mut claims, &ctx.issuer.config.claims);
        merge(&mut claims, &ctx.client.claims);
        if let Some(user) = ctx.user {
            merge(&mut claims, &user.claims);
        }
        match ctx.issuer.config.token_format {
            TokenFormat::Jwt => jwt::sign(&dialect.jwt_header(&self.key), &claims, &self.key)
                .ok_or_else(|| OAuthError::server_error("signing the token failed")),
            TokenFormat::Opaque => {
                let token = ids::random_alnum(30);
                self.opaque_tokens
                    .insert(token.clone(), claims, ctx.expires_at, ctx.issued_at);
                Ok(token)
            }
        }
    }
}

/// Copies `extra` over `claims`: fixtures win over the dialect's defaults.
fn merge(claims: &mut Object, extra: &Object) {
    for (k, v) in extra {
        claims.insert(k.clone(), v.clone());
    }
}
