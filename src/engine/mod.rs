//! The OAuth 2.0 engine: clients, grants, scopes and token issuance, with no HTTP and no product
//! knowledge. The HTTP edge hands it a parsed [`TokenRequest`]; the issuer's dialect shapes what
//! comes out.

pub mod authorize;
pub mod client_auth;
pub mod device;
pub mod grants;
pub mod introspect;
pub mod issue;
pub mod params;
pub mod pkce;
pub mod scope;
pub mod session;
pub mod tokens;
pub mod trust;
pub mod userinfo;
pub mod users;

use std::collections::HashMap;

use crate::clock::Clock;
use crate::config::{ClientConfig, Config, IssuerConfig, ResourceConfig};
use crate::dialect::{self, Dialect};
use crate::error::Error;
use crate::jwt::Object;
use crate::keys::SigningKey;
use crate::store::TtlStore;

use authorize::CodeRecord;
use issue::{Grant, RefreshRecord};
use session::{PendingLogin, Session};

pub use params::Params;

/// How many entries each store keeps at most: generous for any test suite, bounded for a
/// server left running for weeks.
const STORE_CAPACITY: usize = 100_000;

/// Everything one mockidp server knows. Shared behind an `Arc` by all workers.
pub struct Engine {
    pub issuers: Vec<Issuer>,
    pub key: SigningKey,
    pub clock: Clock,
    /// Claims behind each opaque access token, until it expires.
    pub opaque_tokens: TtlStore<Object>,
    /// The grant behind each user access token (by [`issue::token_key`]).
    pub user_tokens: TtlStore<Grant>,
    /// Live refresh tokens (the whole token is the key).
    pub refresh_tokens: TtlStore<RefreshRecord>,
    /// Unredeemed authorization codes.
    pub codes: TtlStore<CodeRecord>,
    /// Browser sessions by `sid`.
    pub sessions: TtlStore<Session>,
    /// Login pages shown and not yet completed.
    pub pending_logins: TtlStore<PendingLogin>,
    /// Device authorizations by device code.
    pub device_codes: TtlStore<device::DeviceRecord>,
    /// Device codes by (normalised) user code.
    pub user_codes: TtlStore<String>,
    /// Wrong user codes per issuer and address, for rate limiting.
    pub wrong_user_codes: TtlStore<u32>,
    /// Revoked access tokens (by [`issue::token_key`]) until they would have expired.
    pub revoked: TtlStore<()>,
    /// Revoked token chains ([`Grant::chain`]): every access token of that login is refused.
    pub revoked_chains: TtlStore<()>,
    /// Signs Keycloak's refresh tokens (HS512), as a realm's HMAC key does.
    pub refresh_key: aws_lc_rs::hmac::Key,
}

/// One configured issuer with its dialect and a client index.
pub struct Issuer {
    pub config: IssuerConfig,
    /// Mount path without trailing slash; `""` for the root.
    pub path: String,
    pub dialect: &'static dyn Dialect,
    clients: HashMap<String, usize>,
    /// External issuers whose tokens token exchange accepts.
    pub trusted: Vec<trust::TrustedIssuer>,
    /// Protected resources: the configured ones, else the product's default.
    pub resources: Vec<ResourceConfig>,
}

impl Issuer {
    fn new(config: IssuerConfig, trusted: Vec<trust::TrustedIssuer>) -> Self {
        let mut clients = HashMap::new();
        for (i, c) in config.clients.iter().enumerate() {
            for id in std::iter::once(&c.id).chain(&c.aliases) {
                clients.insert(id.clone(), i);
            }
        }
        let path = config.mount_path();
        let dialect = dialect::for_kind(config.dialect);
        let resources = if config.resources.is_empty() {
            dialect.default_resources(&path)
        } else {
            config.resources.clone()
        };
        Self {
            path,
            dialect,
            config,
            clients,
            trusted,
            resources,
        }
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The client registered under `id` (or one of its aliases).
    pub fn client(&self, id: &str) -> Option<&ClientConfig> {
        self.clients.get(id).map(|&i| &self.config.clients[i])
    }

    /// Refresh token lifetime: the issuer's, else the product's for this grant.
    pub fn refresh_token_ttl(&self, grant: &Grant) -> u64 {
        self.config
            .refresh_token_ttl
            .unwrap_or_else(|| self.dialect.default_refresh_token_ttl(grant))
    }

    /// Absolute path of the page that shows who is logged in.
    pub fn home_path(&self) -> String {
        self.config
            .home_path
            .clone()
            .unwrap_or_else(|| self.dialect.default_home_path(&self.path))
    }

    /// Access token lifetime for `client`: its own, else the issuer's, else the product's.
    pub fn access_token_ttl(&self, client: &ClientConfig) -> u64 {
        client
            .access_token_ttl
            .or(self.config.access_token_ttl)
            .unwrap_or_else(|| self.dialect.default_access_token_ttl())
    }
}

/// Facts about the HTTP request that tokens may mention.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// This issuer's URL as the caller sees it (`iss`).
    pub issuer_url: String,
    /// The caller's IP address (Keycloak puts it in service-account tokens).
    pub client_addr: String,
}

/// What the `Authorization` header of a token request held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    None,
    /// RFC 6749 §2.3.1 HTTP Basic, already base64- and form-decoded.
    Basic {
        id: String,
        secret: String,
    },
    /// `Basic` with a value that does not decode to `id:secret`.
    MalformedBasic,
    /// Any other scheme (or a raw token), kept for grants that take one.
    Other(String),
}

/// A token endpoint request, parsed but not yet judged.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub params: Params,
    pub authorization: Authorization,
}

impl Engine {
    /// Builds the engine for `config`, loading or generating its signing key.
    pub fn new(config: Config, clock: Clock) -> Result<Self, Error> {
        let keys = &config.keys;
        let key = if keys.generate {
            SigningKey::generate()?
        } else if let Some(path) = &keys.private_key {
            let read = |p: &std::path::Path| {
                std::fs::read_to_string(config.resolve(p)).map_err(|e| {
                    Error::Config(format!("cannot read {}: {e}", config.resolve(p).display()))
                })
            };
            let cert = keys.certificate.as_deref().map(read).transpose()?;
            SigningKey::from_pem(&read(path)?, cert.as_deref())?
        } else {
            SigningKey::fixture()?
        };
        let mut issuers = Vec::new();
        for issuer in &config.issuers {
            let trusted = issuer
                .trusted_issuers
                .iter()
                .map(|t| trust::TrustedIssuer::load(t, &config))
                .collect::<Result<Vec<_>, _>>()?;
            issuers.push(Issuer::new(issuer.clone(), trusted));
        }
        Ok(Self {
            issuers,
            key,
            clock,
            opaque_tokens: TtlStore::new(STORE_CAPACITY),
            user_tokens: TtlStore::new(STORE_CAPACITY),
            refresh_tokens: TtlStore::new(STORE_CAPACITY),
            codes: TtlStore::new(STORE_CAPACITY),
            sessions: TtlStore::new(STORE_CAPACITY),
            pending_logins: TtlStore::new(STORE_CAPACITY),
            device_codes: TtlStore::new(STORE_CAPACITY),
            user_codes: TtlStore::new(STORE_CAPACITY),
            wrong_user_codes: TtlStore::new(STORE_CAPACITY),
            revoked: TtlStore::new(STORE_CAPACITY),
            revoked_chains: TtlStore::new(STORE_CAPACITY),
            refresh_key: aws_lc_rs::hmac::Key::generate(
                aws_lc_rs::hmac::HMAC_SHA512,
                &aws_lc_rs::rand::SystemRandom::new(),
            )
            .map_err(|_| Error::Config("cannot generate an HMAC key".into()))?,
        })
    }

    /// The issuer named `name`.
    pub fn issuer(&self, name: &str) -> Option<&Issuer> {
        self.issuers.iter().find(|i| i.name() == name)
    }

    /// The protected resource at `path`, and its issuer.
    pub fn resource_at(&self, path: &str) -> Option<(&Issuer, &ResourceConfig)> {
        let trimmed = path.trim_end_matches('/');
        self.issuers.iter().find_map(|i| {
            i.resources
                .iter()
                .find(|r| r.path.trim_end_matches('/') == trimmed)
                .map(|r| (i, r))
        })
    }

    /// The issuer whose SSO landing page (Inqom's `/home`) is at `path`.
    pub fn home_of(&self, path: &str) -> Option<&Issuer> {
        let path = path.trim_end_matches('/');
        self.issuers
            .iter()
            .find(|i| i.home_path().trim_end_matches('/') == path)
    }

    /// Finds the issuer mounted at the longest prefix of `path` (already slash-normalised) and
    /// the rest of the path below it. Keycloak issuers also answer under the legacy `/auth`.
    pub fn route<'p>(&self, path: &'p str) -> Option<(&Issuer, &'p str)> {
        let mut best: Option<(&Issuer, &'p str)> = None;
        for issuer in &self.issuers {
            let candidates = [Some(path), path.strip_prefix("/auth")];
            let legacy_ok = issuer.dialect.accepts_auth_prefix();
            for (i, p) in candidates.into_iter().enumerate() {
                let Some(p) = p else { continue };
                if i == 1 && !legacy_ok {
                    continue;
                }
                if let Some(rest) = p.strip_prefix(issuer.path.as_str())
                    && (rest.is_empty() || rest.starts_with('/'))
                    && best.is_none_or(|(b, _)| b.path.len() < issuer.path.len())
                {
                    best = Some((issuer, rest));
                }
            }
        }
        best
    }
}
