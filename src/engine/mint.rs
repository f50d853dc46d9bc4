//! Minting a token directly, without a grant: for the admin API (`POST /_mockidp/tokens`), the
//! `mockidp token` command and the embedded library. The token is the one the issuer would issue
//! to that client (and user), plus any claims asked for.

use std::sync::Arc;

use serde::Deserialize;

use super::issue::{Grant, TokenContext};
use super::{Engine, RequestContext};
use crate::jwt::Object;

/// What to mint.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    pub issuer: String,
    pub client_id: String,
    /// A fixture user, or any username (with the issuer's default claims).
    pub username: Option<String>,
    /// Claims set on top of the issuer's.
    #[serde(default)]
    pub claims: Object,
    /// Lifetime in seconds (default: the client's access token lifetime).
    pub ttl_secs: Option<u64>,
    /// Scopes (default: the client's default scopes).
    pub scope: Option<String>,
    /// Base URL the issuer URL is built on (default: the server's own).
    pub base_url: Option<String>,
}

impl Engine {
    /// Mints an access token; errors name what is unknown.
    pub(crate) fn mint(&self, m: &MintRequest, default_base: &str) -> Result<String, String> {
        if m.ttl_secs.is_some_and(|t| t > crate::config::MAX_SECS) {
            return Err(format!(
                "ttl_secs is over {} (10 years)",
                crate::config::MAX_SECS
            ));
        }
        let issuers = self.issuers();
        let issuer = issuers
            .by_name(&m.issuer)
            .ok_or_else(|| format!("no issuer named {:?}", m.issuer))?;
        let client = issuer
            .client(&m.client_id)
            .ok_or_else(|| format!("no client {:?} at issuer {:?}", m.client_id, m.issuer))?;
        let user = m.username.as_deref().map(|u| issuer.user_named(u));
        let scopes = match &m.scope {
            Some(s) => s
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            None => client
                .default_scopes
                .clone()
                .unwrap_or_else(|| client.scopes.clone()),
        };
        let base = m
            .base_url
            .as_deref()
            .unwrap_or(default_base)
            .trim_end_matches('/');
        let request = RequestContext {
            issuer_url: issuer
                .fixed_url()
                .unwrap_or_else(|| format!("{base}{}", issuer.path)),
            client_addr: "127.0.0.1".into(),
        };
        let now = self.clock.now();
        let grant = Grant {
            auth_time: user.as_ref().map(|_| now),
            ..Grant::for_client(client, scopes)
        };
        let grant = Grant {
            user: user.map(Arc::new),
            ..grant
        };
        let ctx = TokenContext {
            issuer,
            request: &request,
            client,
            grant: &grant,
            grant_type: "mint",
            issued_at: now,
            expires_at: now
                + m.ttl_secs
                    .unwrap_or_else(|| issuer.access_token_ttl(client)),
            jti: self.ids.uuid(),
            ids: &self.ids,
        };
        self.mint_access_token(&ctx, &m.claims)
            .map_err(|e| e.description.to_string())
    }
}
