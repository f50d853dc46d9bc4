//! Minting tokens. A grant decides *what* is granted (a [`Grant`]); this module turns it into an
//! access token, an ID token and a refresh token, with the dialect deciding their claims and
//! formats and the fixtures adding theirs.

use std::sync::Arc;

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::control::{DefectKind, TokenTarget};
use super::response_type::ResponseType;
use super::users::{User, claims_for_scopes};
use super::{Engine, Issuer, RequestContext};
use crate::config::{ClientConfig, IMPLICIT, TOKEN_EXCHANGE, TokenFormat};
use crate::dialect::TokenKind;
use crate::error::OAuthError;
use crate::jwt::{self, Object};

/// RFC 8693 §3: the token type URI of access tokens.
pub(crate) const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// What a grant decided: whom the tokens are about, for which client and scopes. Codes and
/// refresh tokens keep one so that redeeming them issues the same thing again.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub(crate) client_id: String,
    /// `None` for tokens about the client itself (client credentials).
    pub(crate) user: Option<Arc<User>>,
    pub(crate) scopes: Vec<String>,
    /// The browser session the grant came from (`sid`).
    pub(crate) sid: Option<String>,
    /// When the user logged in (`auth_time`).
    pub(crate) auth_time: Option<u64>,
    /// The client's `nonce`, echoed in the ID token.
    pub(crate) nonce: Option<String>,
    /// RFC 8693 §4.1: who acts on the subject's behalf (token exchange).
    pub(crate) act: Option<serde_json::Value>,
    /// `aud` asked for in a token exchange.
    pub(crate) audience: Option<Vec<String>>,
    /// Ties together the tokens of one login across refreshes, so revoking a refresh token
    /// can revoke its access tokens too.
    pub(crate) chain: Option<String>,
}

impl Grant {
    /// A grant about the client itself.
    pub(crate) fn for_client(client: &ClientConfig, scopes: Vec<String>) -> Self {
        Self {
            client_id: client.id.clone(),
            user: None,
            scopes,
            sid: None,
            auth_time: None,
            nonce: None,
            act: None,
            audience: None,
            chain: None,
        }
    }

    pub(crate) fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// Everything a dialect may put in a token.
pub(crate) struct TokenContext<'a> {
    pub(crate) issuer: &'a Issuer,
    pub(crate) request: &'a RequestContext,
    pub(crate) client: &'a ClientConfig,
    pub(crate) grant: &'a Grant,
    pub(crate) grant_type: &'a str,
    pub(crate) issued_at: u64,
    pub(crate) expires_at: u64,
    /// A fresh random id for `jti`.
    pub(crate) jti: String,
    /// Where more generated values come from (the engine's).
    pub(crate) ids: &'a crate::ids::IdSource,
}

impl TokenContext<'_> {
    pub(crate) fn user(&self) -> Option<&User> {
        self.grant.user.as_deref()
    }

    pub(crate) fn scopes(&self) -> &[String] {
        &self.grant.scopes
    }

    /// The user's claims that the granted scopes release.
    pub(crate) fn user_claims(&self) -> Object {
        self.user()
            .map(|u| claims_for_scopes(u, self.scopes()))
            .unwrap_or_default()
    }
}

/// A successful token response before its dialect shapes it.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub(crate) access_token: String,
    pub(crate) expires_in: u64,
    pub(crate) scopes: Vec<String>,
    pub(crate) refresh_token: Option<String>,
    pub(crate) refresh_expires_in: Option<u64>,
    pub(crate) id_token: Option<String>,
    /// The browser session id (Keycloak's `session_state`).
    pub(crate) session_state: Option<String>,
    /// RFC 8693 §2.2.1 `issued_token_type`, for token exchange.
    pub(crate) issued_token_type: Option<&'static str>,
    /// The chain ([`Grant::chain`]) these tokens belong to, to revoke them together.
    pub(crate) chain: Option<String>,
}

/// What an implicit or hybrid response is to carry besides the code.
#[derive(Debug, Clone, Copy)]
pub struct FrontRequest<'a> {
    pub response_type: ResponseType,
    /// The code issued with the tokens (hybrid), for `c_hash`.
    pub code: Option<&'a str>,
    /// The request's `state`, for `s_hash` where the product adds it.
    pub state: Option<&'a str>,
}

/// What a refresh token stands for until it is used (and rotated) or expires.
#[derive(Debug, Clone)]
pub(crate) struct RefreshRecord {
    pub(crate) issuer: String,
    pub(crate) grant: Grant,
}

impl Engine {
    /// Issues the access token, and the ID and refresh tokens where the grant and the product
    /// call for them.
    pub(crate) fn issue(
        &self,
        issuer: &Issuer,
        request: &RequestContext,
        client: &ClientConfig,
        mut grant: Grant,
        grant_type: &str,
    ) -> Result<Issued, OAuthError> {
        let dialect = issuer.dialect;
        let profile = dialect.profile();
        if grant.user.is_some() && grant.chain.is_none() {
            grant.chain = Some(self.ids.uuid());
        }
        let exchange = grant_type == TOKEN_EXCHANGE;
        let now = self.clock.now();
        let ctx = self.token_context(issuer, request, client, &grant, grant_type);
        let access_token = self.mint_access_token(&ctx, &Object::new())?;
        if grant.user.is_some() {
            self.user_tokens
                .insert(token_key(&access_token), grant.clone(), ctx.expires_at, now);
        }
        let id_token = match &grant.user {
            Some(_)
                if grant.has_scope("openid")
                    && !exchange
                    && profile.issues_id_token(grant_type) =>
            {
                let hashes = [("at_hash", at_hash(&access_token))];
                Some(self.mint_id_token(&ctx, &hashes)?)
            }
            _ => None,
        };
        let (refresh_token, refresh_expires_in) = if client.allows_grant("refresh_token")
            && !exchange
            && grant.user.is_some()
            && (!profile.features.refresh_needs_offline_access || grant.has_scope("offline_access"))
        {
            let ttl = issuer.refresh_token_ttl(&grant);
            let token = dialect
                .refresh_token(&ctx, now + ttl, &self.refresh_key)
                .ok_or_else(|| OAuthError::server_error("signing the refresh token failed"))?;
            let record = RefreshRecord {
                issuer: issuer.name().to_string(),
                grant: grant.clone(),
            };
            self.refresh_tokens
                .insert(token.clone(), record, now + ttl, now);
            (Some(token), Some(ttl))
        } else {
            (None, None)
        };
        // DEBUG, not INFO: a line per token costs ~8% of the token rate and floods CI logs;
        // refusals (the lines people need) stay at INFO.
        tracing::debug!(
            issuer = issuer.name(),
            client_id = client.id.as_str(),
            grant_type,
            user = grant.user.as_ref().map(|u| u.username.as_str()),
            scope = grant.scopes.join(" "),
            id_token = id_token.is_some(),
            refresh_token = refresh_token.is_some(),
            "tokens issued"
        );
        Ok(Issued {
            access_token,
            expires_in: ctx.expires_at - ctx.issued_at,
            scopes: grant.scopes.clone(),
            refresh_token,
            refresh_expires_in,
            id_token,
            session_state: grant.sid.clone(),
            issued_token_type: exchange.then_some(ACCESS_TOKEN_TYPE),
            chain: grant.chain.clone(),
        })
    }

    /// The context of tokens issued now for `grant`, living the client's access token lifetime.
    fn token_context<'a>(
        &'a self,
        issuer: &'a Issuer,
        request: &'a RequestContext,
        client: &'a ClientConfig,
        grant: &'a Grant,
        grant_type: &'a str,
    ) -> TokenContext<'a> {
        let now = self.clock.now();
        TokenContext {
            issuer,
            request,
            client,
            grant,
            grant_type,
            issued_at: now,
            expires_at: now + issuer.access_token_ttl(client),
            jti: self.ids.uuid(),
            ids: &self.ids,
        }
    }

    /// OpenID Connect Core §3.2.2.5 / §3.3.2.5: the tokens an implicit or hybrid response
    /// carries, as response parameters: an access token (never a refresh token, RFC 6749
    /// §4.2.2) and an ID token with the hashes of what comes with it.
    pub fn front_tokens(
        &self,
        issuer: &Issuer,
        request: &RequestContext,
        client: &ClientConfig,
        mut grant: Grant,
        want: &FrontRequest,
    ) -> Result<Vec<(String, String)>, OAuthError> {
        let flows = issuer.dialect.profile().front_channel;
        grant.chain = Some(self.ids.uuid());
        let now = self.clock.now();
        let ctx = self.token_context(issuer, request, client, &grant, IMPLICIT);
        let mut params = Vec::new();
        let mut hashes = Vec::new();
        if want.response_type.token {
            let token = self.mint_access_token(&ctx, &Object::new())?;
            self.user_tokens
                .insert(token_key(&token), grant.clone(), ctx.expires_at, now);
            hashes.push(("at_hash", at_hash(&token)));
            // RFC 6749 §4.2.2: with its type and lifetime, on every product.
            params.push(("access_token".to_string(), token));
            params.push(("token_type".into(), crate::dialect::BEARER.into()));
            let expires_in = ctx.expires_at - ctx.issued_at;
            params.push(("expires_in".into(), expires_in.to_string()));
        }
        if flows.scope {
            params.push(("scope".into(), grant.scopes.join(" ")));
        }
        if want.response_type.id_token {
            if let Some(code) = want.code {
                hashes.push(("c_hash", at_hash(code)));
            }
            if let Some(state) = want.state.filter(|s| flows.s_hash && !s.is_empty()) {
                hashes.push(("s_hash", at_hash(state)));
            }
            params.push(("id_token".into(), self.mint_id_token(&ctx, &hashes)?));
        }
        self.metrics.token_issued(issuer.name(), IMPLICIT);
        tracing::debug!(
            issuer = issuer.name(),
            client_id = client.id.as_str(),
            response_type = want.response_type.as_str(),
            "tokens issued at the authorization endpoint"
        );
        Ok(params)
    }

    /// Mints the access token described by `ctx`, with `extra` claims on top.
    pub(crate) fn mint_access_token(
        &self,
        ctx: &TokenContext,
        extra: &Object,
    ) -> Result<String, OAuthError> {
        let dialect = ctx.issuer.dialect;
        let mut claims = dialect.access_token_claims(ctx);
        if let Some(aud) = &ctx.grant.audience {
            claims.insert("aud".into(), json!(aud));
        }
        if let Some(act) = &ctx.grant.act {
            claims.insert("act".into(), act.clone());
        }
        merge(&mut claims, &ctx.issuer.config.claims);
        merge(&mut claims, &ctx.client.claims);
        merge(&mut claims, extra);
        match ctx.issuer.config.token_format {
            TokenFormat::Jwt => self.finish(ctx, TokenKind::Access, claims),
            TokenFormat::Opaque => {
                let (claims, defect) =
                    self.controlled(ctx, TokenTarget::AccessToken, claims, &mut Object::new());
                let token = self.ids.alnum(30);
                let expires_at = if defect == Some(DefectKind::Expired) {
                    ctx.issued_at
                } else {
                    ctx.expires_at
                };
                self.opaque_tokens
                    .insert(token.clone(), claims, expires_at, ctx.issued_at);
                Ok(token)
            }
        }
    }

    /// OpenID Connect Core §2: the ID token, with `hashes` binding it to what was issued with
    /// it (`at_hash` §3.1.3.6, `c_hash` §3.3.2.11, `s_hash`).
    fn mint_id_token(
        &self,
        ctx: &TokenContext,
        hashes: &[(&str, String)],
    ) -> Result<String, OAuthError> {
        let grant = ctx.grant;
        let lifetime = (ctx.issuer.config.id_token_ttl)
            .or(ctx.issuer.dialect.profile().lifetimes.id_token)
            .unwrap_or_else(|| ctx.issuer.access_token_ttl(ctx.client));
        let mut claims = Object::new();
        let mut put = |k: &str, v: serde_json::Value| {
            if !v.is_null() {
                claims.insert(k.to_string(), v);
            }
        };
        put("iss", json!(ctx.request.issuer_url));
        put("sub", json!(ctx.user().map(|u| &u.sub)));
        put("aud", json!(ctx.client.id));
        put("exp", json!(ctx.issued_at + lifetime));
        put("iat", json!(ctx.issued_at));
        put("auth_time", json!(grant.auth_time));
        put("nonce", json!(grant.nonce));
        for (name, hash) in hashes {
            put(name, json!(hash));
        }
        put("sid", json!(grant.sid));
        // RFC 8176: a password was used (IdentityServer3 rewrites it to its own "password").
        put("amr", json!(["pwd"]));
        merge(&mut claims, &ctx.user_claims());
        ctx.issuer.dialect.shape_id_token(&mut claims, ctx);
        self.finish(ctx, TokenKind::Id, claims)
    }

    /// Applies what the admin API queued for this token (claim and header overrides, then a
    /// defect), and signs it.
    fn finish(
        &self,
        ctx: &TokenContext,
        kind: TokenKind,
        claims: Object,
    ) -> Result<String, OAuthError> {
        let keys = self.keys();
        let mut header = ctx.issuer.dialect.jwt_header(&keys.current, kind);
        let target = match kind {
            TokenKind::Access => TokenTarget::AccessToken,
            TokenKind::Id => TokenTarget::IdToken,
        };
        let (claims, defect) = self.controlled(ctx, target, claims, &mut header);
        let failed = || OAuthError::server_error("signing the token failed");
        match defect {
            Some(DefectKind::AlgNone) => Ok(jwt::unsigned(&header, &claims).ok_or_else(failed)?),
            Some(DefectKind::BadSignature) => {
                let token = jwt::sign(&header, &claims, &keys.current).ok_or_else(failed)?;
                Ok(jwt::corrupt_signature(&token))
            }
            _ => jwt::sign(&header, &claims, &keys.current).ok_or_else(failed),
        }
    }

    /// Claims and header after the queued overrides and the claim-level part of a defect.
    fn controlled(
        &self,
        ctx: &TokenContext,
        target: TokenTarget,
        mut claims: Object,
        header: &mut Object,
    ) -> (Object, Option<DefectKind>) {
        let (issuer, client) = (ctx.issuer.name(), ctx.client.id.as_str());
        let user = ctx.user().map(|u| u.username.as_str());
        for o in self.control.take_overrides(target, issuer, client, user) {
            for (k, v) in o.claims {
                if v.is_null() {
                    claims.remove(&k);
                } else {
                    claims.insert(k, v);
                }
            }
            header.extend(o.header);
        }
        let defect = self.control.take_defect(target, issuer, client, user);
        let now = self.clock.now();
        match defect {
            // An hour out of range: beyond every library's default clock-skew leeway.
            Some(DefectKind::Expired) => {
                claims.insert("iat".into(), json!(now.saturating_sub(7200)));
                claims.insert("exp".into(), json!(now.saturating_sub(3600)));
            }
            Some(DefectKind::NotYetValid) => {
                let lifetime = ctx.expires_at - ctx.issued_at;
                claims.insert("iat".into(), json!(now + 3600));
                claims.insert("nbf".into(), json!(now + 3600));
                claims.insert("exp".into(), json!(now + 3600 + lifetime));
            }
            // With a path no issuer of this server is mounted at.
            Some(DefectKind::WrongIssuer) => {
                claims.insert(
                    "iss".into(),
                    json!("https://wrong-issuer.invalid/not-this-issuer"),
                );
            }
            Some(DefectKind::WrongAudience) => {
                claims.insert("aud".into(), json!("wrong-audience"));
            }
            Some(DefectKind::UnknownKid) => {
                header.insert("kid".into(), json!("unknown-kid"));
            }
            Some(DefectKind::AlgNone) => {
                header.insert("alg".into(), json!("none"));
            }
            Some(DefectKind::BadSignature) | None => {}
        }
        if let Some(d) = defect {
            tracing::info!(issuer, client_id = client, defect = ?d, "defective token issued on request");
        }
        (claims, defect)
    }
}

/// The key a token is remembered under: a digest, so stores hold 32 bytes per token whatever
/// its size, and never the token itself.
pub(crate) fn token_key(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(&digest(&SHA256, token.as_bytes()).as_ref()[..24])
}

/// Left half of the SHA-256 of the token, base64url (OpenID Connect Core §3.1.3.6; the same
/// for `c_hash` and `s_hash`).
pub(crate) fn at_hash(value: &str) -> String {
    let d = digest(&SHA256, value.as_bytes());
    URL_SAFE_NO_PAD.encode(&d.as_ref()[..16])
}

/// Copies `extra` over `claims`: fixtures win over the dialect's defaults.
pub(crate) fn merge(claims: &mut Object, extra: &Object) {
    for (k, v) in extra {
        claims.insert(k.clone(), v.clone());
    }
}
