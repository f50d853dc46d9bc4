//! The OAuth 2.0 engine: clients, grants, scopes and token issuance, with no HTTP and no product
//! knowledge. The HTTP edge hands it a parsed [`TokenRequest`]; the issuer's dialect shapes what
//! comes out.

pub mod account;
pub mod authorize;
pub mod client_assertion;
pub mod client_auth;
pub mod control;
pub mod device;
pub mod grants;
pub mod introspect;
pub mod issue;
pub mod issuers;
pub mod jwk_set;
pub mod mint;
pub mod params;
pub mod pkce;
pub mod scope;
pub mod session;
pub mod tokens;
pub mod trust;
pub mod userinfo;
pub mod users;

use std::sync::{Arc, RwLock, RwLockReadGuard};

use crate::clock::Clock;
use crate::config::{Config, IssuerConfig};
use crate::error::Error;
use crate::jwt::Object;
use crate::keys::{KeyRing, SigningKey};
use crate::store::TtlStore;

use authorize::CodeRecord;
use issue::{Grant, RefreshRecord};
use session::{PendingLogin, Session};

pub use issuers::{Issuer, Issuers};
pub use params::Params;

/// How many entries each store keeps at most: generous for any test suite, bounded for a
/// server left running for weeks.
const STORE_CAPACITY: usize = 100_000;

/// Issuers one server holds at most, fixtures and realms created at runtime together.
const MAX_ISSUERS: usize = 200;

/// Everything one mockidp server knows. Shared behind an `Arc` by all workers.
pub struct Engine {
    /// The configuration loaded at start, for resets.
    fixtures: Config,
    /// Whether the clock was handed over frozen, so that a reset freezes it again.
    clock_frozen_at_start: bool,
    issuers: RwLock<Arc<Issuers>>,
    keys: RwLock<Arc<KeyRing>>,
    pub clock: Clock,
    /// Claims behind each opaque access token, until it expires.
    pub opaque_tokens: TtlStore<Object>,
    /// The grant behind each user access token (by `issue::token_key`).
    pub user_tokens: TtlStore<Grant>,
    /// Live refresh tokens (the whole token is the key).
    pub refresh_tokens: TtlStore<RefreshRecord>,
    /// Unredeemed authorization codes.
    pub codes: TtlStore<CodeRecord>,
    /// Redeemed codes (by `issue::token_key`) and the token chain they started, so that a
    /// replayed code revokes what it issued (RFC 6749 §4.1.2).
    pub redeemed_codes: TtlStore<String>,
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
    /// Client assertion ids (`jti`) already used, until their assertion expires.
    pub client_assertions: TtlStore<()>,
    /// Revoked access tokens (by `issue::token_key`) until they would have expired.
    pub revoked: TtlStore<()>,
    /// Revoked token chains (`Grant::chain`): every access token of that login is refused.
    pub revoked_chains: TtlStore<()>,
    /// What the admin API queued: overrides, defects, failures; and the request journal.
    pub control: control::Control,
    /// Request, token and latency counters for `/_mockidp/metrics`.
    pub metrics: crate::metrics::Metrics,
    /// Bearer token the admin API requires, if any.
    pub admin_token: Option<String>,
    /// The key the server started with, for resets.
    initial_key: Arc<SigningKey>,
    /// Signs Keycloak's refresh tokens (HS512), as a realm's HMAC key does.
    pub refresh_key: aws_lc_rs::hmac::Key,
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
    /// The client's keys, when the HTTP edge fetched them for this request (the `jwks_url`
    /// that [`client_assertion::remote_keys_needed`] named), or why it could not; otherwise
    /// the issuer's fixture keys are used.
    pub client_keys: Option<Result<Arc<jwk_set::JwkSet>, String>>,
    /// The trusted issuer's keys [`Engine::remote_jwks_needed`] asked for, as the edge
    /// fetched them.
    pub remote_jwks: Option<Result<Arc<jwk_set::JwkSet>, String>>,
}

impl Engine {
    /// Whether the fixtures let proxy headers shape URLs (`trust_forwarded`).
    pub fn trust_forwarded(&self) -> bool {
        self.fixtures.trust_forwarded
    }

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
        let key = Arc::new(key);
        let issuers = Issuers::load(&config)?;
        Ok(Self {
            metrics: crate::metrics::Metrics::new(issuers.iter().map(|i| i.name())),
            issuers: RwLock::new(Arc::new(issuers)),
            keys: RwLock::new(Arc::new(KeyRing::new(key.clone()))),
            initial_key: key,
            admin_token: config.admin_token.clone(),
            control: control::Control::default(),
            fixtures: config,
            clock_frozen_at_start: clock.is_frozen(),
            clock,
            opaque_tokens: TtlStore::new(STORE_CAPACITY),
            user_tokens: TtlStore::new(STORE_CAPACITY),
            refresh_tokens: TtlStore::new(STORE_CAPACITY),
            codes: TtlStore::new(STORE_CAPACITY),
            redeemed_codes: TtlStore::new(STORE_CAPACITY),
            sessions: TtlStore::new(STORE_CAPACITY),
            pending_logins: TtlStore::new(STORE_CAPACITY / 10),
            device_codes: TtlStore::new(STORE_CAPACITY),
            user_codes: TtlStore::new(STORE_CAPACITY),
            wrong_user_codes: TtlStore::new(STORE_CAPACITY),
            client_assertions: TtlStore::new(STORE_CAPACITY),
            revoked: TtlStore::new(STORE_CAPACITY),
            revoked_chains: TtlStore::new(STORE_CAPACITY),
            refresh_key: aws_lc_rs::hmac::Key::generate(
                aws_lc_rs::hmac::HMAC_SHA512,
                &aws_lc_rs::rand::SystemRandom::new(),
            )
            .map_err(|_| Error::Config("cannot generate an HMAC key".into()))?,
        })
    }

    /// The issuers as they are now (fixtures plus runtime changes); a snapshot, cheap to take.
    pub fn issuers(&self) -> Arc<Issuers> {
        read(&self.issuers).clone()
    }

    /// The signing keys as they are now.
    pub fn keys(&self) -> Arc<KeyRing> {
        read(&self.keys).clone()
    }

    /// Header and claims of a JWT that one of this server's live keys signed.
    /// The key is the one the header's `kid` names (by thumbprint or, as IdentityServer3 names
    /// keys, by `x5t`); a token without `kid` is tried against every live key.
    pub fn verify_jwt(&self, token: &str) -> Option<(Object, Object)> {
        let (header, _) = crate::jwt::decode_unverified(token)?;
        let kid = header.get("kid").and_then(|k| k.as_str());
        let keys = self.keys();
        keys.live(self.clock.now())
            .into_iter()
            .filter(|k| kid.is_none_or(|kid| kid == k.kid || kid == k.x5t))
            .find_map(|k| crate::jwt::verify(token, k))
    }

    /// Changes the configuration of issuer `name` at runtime (admin API); `change` may refuse.
    pub fn update_issuer(
        &self,
        name: &str,
        change: impl FnOnce(&mut IssuerConfig) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut guard = self.issuers.write().unwrap_or_else(|e| e.into_inner());
        let current = guard
            .by_name(name)
            .ok_or_else(|| format!("no issuer named {name:?}"))?;
        let mut config = current.config.clone();
        change(&mut config)?;
        let updated = Issuer::new(config, current.trusted.clone());
        *guard = Arc::new(guard.replaced(updated));
        Ok(())
    }

    /// Adds an issuer at runtime (Keycloak's admin REST API creating a realm); refused when
    /// the name is taken or the issuer is invalid.
    pub fn add_issuer(&self, config: IssuerConfig) -> Result<(), String> {
        config.validate()?;
        let mut guard = self.issuers.write().unwrap_or_else(|e| e.into_inner());
        if guard.by_name(&config.name).is_some() {
            return Err(format!("an issuer named {:?} exists", config.name));
        }
        if guard.iter().count() >= MAX_ISSUERS {
            return Err(format!("mockidp serves at most {MAX_ISSUERS} issuers"));
        }
        let issuer = Issuer::new(config, Arc::new(Vec::new()));
        *guard = Arc::new(guard.with(issuer));
        Ok(())
    }

    /// Removes issuer `name` at runtime (Keycloak's admin REST API deleting a realm).
    pub fn remove_issuer(&self, name: &str) -> bool {
        let mut guard = self.issuers.write().unwrap_or_else(|e| e.into_inner());
        if guard.by_name(name).is_none() {
            return false;
        }
        *guard = Arc::new(guard.without(name));
        true
    }

    /// Back to the fixtures: issuers and key as loaded, clock on real time (frozen there if it
    /// came frozen), every token, code, session, queued rule and journal entry forgotten.
    pub fn reset(&self) -> Result<(), Error> {
        let fresh = Issuers::load(&self.fixtures)?;
        *self.issuers.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(fresh);
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) =
            Arc::new(KeyRing::new(self.initial_key.clone()));
        self.clock.reset();
        if self.clock_frozen_at_start {
            self.clock.freeze();
        }
        self.control.clear();
        self.forget_state();
        Ok(())
    }

    /// Makes `key` the signing key; the previous one stays in the JWKS for `grace` seconds.
    pub fn rotate_key(&self, key: SigningKey, grace: u64) {
        let now = self.clock.now();
        let mut guard = self.keys.write().unwrap_or_else(|e| e.into_inner());
        *guard = Arc::new(guard.rotated(key, now, grace));
    }
}

impl Engine {
    /// Every store of issued artefacts.
    fn stores(&self) -> [&dyn crate::store::Store; 13] {
        [
            &self.opaque_tokens,
            &self.user_tokens,
            &self.refresh_tokens,
            &self.codes,
            &self.redeemed_codes,
            &self.sessions,
            &self.pending_logins,
            &self.device_codes,
            &self.user_codes,
            &self.wrong_user_codes,
            &self.client_assertions,
            &self.revoked,
            &self.revoked_chains,
        ]
    }

    /// Drops every token, code, session and pending login.
    fn forget_state(&self) {
        self.stores().iter().for_each(|s| s.clear());
    }

    /// Drops what expired from every store, giving its memory back (stores otherwise purge
    /// only when written to): the server calls this periodically.
    pub fn purge_expired(&self) {
        let now = self.clock.now();
        let before: usize = self.stores().iter().map(|s| s.len()).sum();
        self.stores().iter().for_each(|s| s.purge(now));
        let after: usize = self.stores().iter().map(|s| s.len()).sum();
        if after < before {
            tracing::debug!(
                purged = before - after,
                kept = after,
                "expired entries swept"
            );
        }
    }
}

/// A read lock that survives a panicked writer (the data is replaced whole, never half-written).
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}
