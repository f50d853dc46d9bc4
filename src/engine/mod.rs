//! The OAuth 2.0 engine: clients, grants, scopes and token issuance, with no HTTP and no product
//! knowledge. The HTTP edge hands it a parsed [`TokenRequest`]; the issuer's dialect shapes what
//! comes out.

pub(crate) mod account;
pub(crate) mod authorize;
pub(crate) mod client_assertion;
pub(crate) mod client_auth;
pub(crate) mod code_store;
pub(crate) mod consent;
pub(crate) mod control;
pub(crate) mod device;
pub(crate) mod grants;
pub(crate) mod introspect;
pub(crate) mod issue;
pub(crate) mod issuers;
pub(crate) mod jwk_set;
pub(crate) mod mint;
pub(crate) mod namespaces;
pub(crate) mod params;
pub(crate) mod pkce;
pub(crate) mod response_type;
pub(crate) mod scope;
pub(crate) mod session;
pub(crate) mod tokens;
pub(crate) mod trust;
pub(crate) mod userinfo;
pub(crate) mod users;

use std::sync::{Arc, RwLock, RwLockReadGuard};

use crate::clock::Clock;
use crate::config::{Config, IssuerConfig};
use crate::error::Error;
use crate::jwt::Object;
use crate::keys::{KeyRing, SigningKey};
use crate::store::TtlStore;

use issue::{Grant, RefreshRecord};
use session::{PendingLogin, Session};

pub(crate) use issuers::{Issuer, Issuers};
pub(crate) use params::Params;

/// How many entries each store keeps at most: generous for any test suite, bounded for a
/// server left running for weeks.
const STORE_CAPACITY: usize = 100_000;

/// Issuers one server (or one namespace) holds at most, fixtures and realms created at
/// runtime together.
const MAX_ISSUERS: usize = 200;

/// Everything one set of issuers knows: the server's own (the default namespace) or one
/// namespace's (`POST /_mockidp/namespaces`). Every piece of per-issuer-set state (issuers,
/// stores, queued rules, journal, clock) is a field here, so a namespace is one more `Engine`,
/// not a new code path; the signing keys, the refresh HMAC key and the metrics are shared
/// through `Arc`s. Shared behind an `Arc` by all workers.
pub(crate) struct Engine {
    /// The configuration loaded at start, for resets.
    fixtures: Arc<Config>,
    /// The issuers of `fixtures`, built once: resets and new namespaces start from them (an
    /// `Arc` clone until the admin API changes an issuer).
    fixture_issuers: Arc<Issuers>,
    /// Whether the clock was handed over frozen, so that a reset freezes it again.
    clock_frozen_at_start: bool,
    issuers: RwLock<Arc<Issuers>>,
    /// The key ring, shared with every namespace that did not ask for keys of its own.
    keys: Arc<RwLock<Arc<KeyRing>>>,
    /// Whether `keys` belongs to this engine alone (the server's, or a namespace's own), so
    /// that rotating and resetting them touches nobody else.
    owns_keys: bool,
    /// `None` for the server's own issuers; a namespace's id and the path prefix it is served at.
    pub(crate) namespace: Option<namespaces::Mount>,
    /// The namespaces of this server (empty and unused inside a namespace).
    pub(crate) namespaces: namespaces::Namespaces,
    pub(crate) clock: Clock,
    /// Claims behind each opaque access token, until it expires.
    pub(crate) opaque_tokens: TtlStore<Object>,
    /// The grant behind each user access token (by `issue::token_key`).
    pub(crate) user_tokens: TtlStore<Grant>,
    /// Live refresh tokens (the whole token is the key).
    pub(crate) refresh_tokens: TtlStore<RefreshRecord>,
    /// Unredeemed authorization codes.
    pub(crate) codes: code_store::CodeStore,
    /// Redeemed codes (by `issue::token_key`) and the token chain they started, so that a
    /// replayed code revokes what it issued (RFC 6749 §4.1.2).
    pub(crate) redeemed_codes: TtlStore<String>,
    /// Browser sessions by `sid`.
    pub(crate) sessions: TtlStore<Session>,
    /// Login pages shown and not yet completed.
    pub(crate) pending_logins: TtlStore<PendingLogin>,
    /// Consent pages shown and not yet answered.
    pub(crate) pending_consents: TtlStore<consent::PendingConsent>,
    /// Consent decisions the product remembers, per issuer, user and client.
    pub(crate) consents: TtlStore<consent::ConsentRecord>,
    /// Single-use links that put an admin-made session's cookie in a browser, to the `sid`.
    pub(crate) session_links: TtlStore<String>,
    /// Device authorizations by device code.
    pub(crate) device_codes: TtlStore<device::DeviceRecord>,
    /// Device codes by (normalised) user code.
    pub(crate) user_codes: TtlStore<String>,
    /// Wrong user codes per issuer and address, for rate limiting.
    pub(crate) wrong_user_codes: TtlStore<u32>,
    /// Client assertion ids (`jti`) already used, until their assertion expires.
    pub(crate) client_assertions: TtlStore<()>,
    /// Revoked access tokens (by `issue::token_key`) until they would have expired.
    pub(crate) revoked: TtlStore<()>,
    /// Revoked token chains (`Grant::chain`): every access token of that login is refused.
    pub(crate) revoked_chains: TtlStore<()>,
    /// What the admin API queued: overrides, defects, failures; and the request journal.
    pub(crate) control: control::Control,
    /// Request, token and latency counters for `/_mockidp/metrics` (the whole server's).
    pub(crate) metrics: Arc<crate::metrics::Metrics>,
    /// Bearer token the admin API requires, if any.
    pub(crate) admin_token: Option<String>,
    /// The key the server started with, for resets.
    initial_key: Arc<SigningKey>,
    /// Signs Keycloak's refresh tokens (HS512), as a realm's HMAC key does.
    pub(crate) refresh_key: Arc<aws_lc_rs::hmac::Key>,
    /// Where codes, ids and opaque tokens come from: random, or the seed's stream.
    pub(crate) ids: crate::ids::IdSource,
}

/// Where a seeded server's clock starts, frozen: 2026-01-01T00:00:00Z.
pub(crate) const SEEDED_START: u64 = 1_767_225_600;

/// What an engine is built from; the stores always start empty.
struct Parts {
    metrics: Arc<crate::metrics::Metrics>,
    fixture_issuers: Arc<Issuers>,
    keys: Arc<RwLock<Arc<KeyRing>>>,
    owns_keys: bool,
    initial_key: Arc<SigningKey>,
    admin_token: Option<String>,
    fixtures: Arc<Config>,
    clock: Clock,
    namespace: Option<namespaces::Mount>,
    namespaces: namespaces::Namespaces,
    refresh_key: Arc<aws_lc_rs::hmac::Key>,
    ids: crate::ids::IdSource,
}

/// Facts about the HTTP request that tokens may mention.
#[derive(Debug, Clone)]
pub(crate) struct RequestContext {
    /// This issuer's URL as the caller sees it (`iss`).
    pub(crate) issuer_url: String,
    /// The caller's IP address (Keycloak puts it in service-account tokens).
    pub(crate) client_addr: String,
}

/// What the `Authorization` header of a token request held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Authorization {
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
pub(crate) struct TokenRequest {
    pub(crate) params: Params,
    pub(crate) authorization: Authorization,
    /// The client's keys, when the HTTP edge fetched them for this request (the `jwks_url`
    /// that [`client_assertion::remote_keys_needed`] named), or why it could not; otherwise
    /// the issuer's fixture keys are used.
    pub(crate) client_keys: Option<Result<Arc<jwk_set::JwkSet>, String>>,
    /// The trusted issuer's keys [`Engine::remote_jwks_needed`] asked for, as the edge
    /// fetched them.
    pub(crate) remote_jwks: Option<Result<Arc<jwk_set::JwkSet>, String>>,
}

impl Engine {
    /// Whether the fixtures let proxy headers shape URLs (`trust_forwarded`).
    pub(crate) fn trust_forwarded(&self) -> bool {
        self.fixtures.trust_forwarded
    }

    /// Builds the engine for `config`, loading or generating its signing key.
    pub(crate) fn new(config: Config, clock: Clock) -> Result<Self, Error> {
        let issuers = Arc::new(Issuers::load(&config)?);
        Self::loaded(Arc::new(config), issuers, clock)
    }

    /// [`Engine::new`] for fixtures already loaded into `issuers` (theirs: an engine shares
    /// both, and copies an issuer only when it changes). The embedded server loads its default
    /// fixtures once per process (bench/README.md, "Stop 23").
    pub(crate) fn loaded(
        config: Arc<Config>,
        issuers: Arc<Issuers>,
        clock: Clock,
    ) -> Result<Self, Error> {
        let ids = match config.seed {
            Some(seed) => {
                clock.freeze();
                clock.set(SEEDED_START);
                crate::ids::IdSource::seeded(seed, "")
            }
            None => crate::ids::IdSource::System,
        };
        let limits = namespaces::Limits {
            max: config.namespace_limit.unwrap_or(namespaces::DEFAULT_LIMIT),
            idle_secs: config
                .namespace_idle_secs
                .unwrap_or(namespaces::DEFAULT_IDLE_SECS),
        };
        let keys = &config.keys;
        let key = if keys.generate {
            Arc::new(SigningKey::generate()?)
        } else if let Some(path) = &keys.private_key {
            // Read with the fixtures (config/load.rs): the engine reads no files.
            let pem = keys.private_key_pem.as_deref().ok_or_else(|| {
                Error::Config(format!(
                    "keys.private_key {}: not read (fixtures are read by Config::from_file, \
                     from_toml or from_json)",
                    path.display()
                ))
            })?;
            Arc::new(SigningKey::from_pem(pem, keys.certificate_pem.as_deref())?)
        } else {
            SigningKey::shared_fixture()?
        };
        let refresh_key = match config.seed {
            // Its own stream, so that a reset (which restarts `ids`) replays the same values.
            Some(seed) => aws_lc_rs::hmac::Key::new(
                aws_lc_rs::hmac::HMAC_SHA512,
                &crate::ids::IdSource::seeded(seed, "refresh-key").key_bytes(),
            ),
            None => aws_lc_rs::hmac::Key::generate(
                aws_lc_rs::hmac::HMAC_SHA512,
                &aws_lc_rs::rand::SystemRandom::new(),
            )
            .map_err(|_| Error::Config("cannot generate an HMAC key".into()))?,
        };
        Ok(Self::assemble(Parts {
            metrics: Arc::new(crate::metrics::Metrics::new(
                issuers.iter().map(|i| i.name()),
            )),
            fixture_issuers: issuers,
            keys: Arc::new(RwLock::new(Arc::new(KeyRing::new(key.clone())))),
            owns_keys: true,
            initial_key: key,
            admin_token: config.admin_token.clone(),
            fixtures: config,
            clock,
            namespace: None,
            namespaces: namespaces::Namespaces::new(limits),
            refresh_key: Arc::new(refresh_key),
            ids,
        }))
    }

    /// An engine from its parts, with empty stores, queues and journal.
    fn assemble(p: Parts) -> Self {
        Self {
            metrics: p.metrics,
            issuers: RwLock::new(p.fixture_issuers.clone()),
            fixture_issuers: p.fixture_issuers,
            keys: p.keys,
            owns_keys: p.owns_keys,
            initial_key: p.initial_key,
            admin_token: p.admin_token,
            control: control::Control::default(),
            fixtures: p.fixtures,
            clock_frozen_at_start: p.clock.is_frozen(),
            clock: p.clock,
            namespace: p.namespace,
            namespaces: p.namespaces,
            refresh_key: p.refresh_key,
            ids: p.ids,
            opaque_tokens: TtlStore::new(STORE_CAPACITY),
            user_tokens: TtlStore::new(STORE_CAPACITY),
            refresh_tokens: TtlStore::new(STORE_CAPACITY),
            codes: code_store::CodeStore::new(STORE_CAPACITY),
            redeemed_codes: TtlStore::new(STORE_CAPACITY),
            sessions: TtlStore::new(STORE_CAPACITY),
            pending_logins: TtlStore::new(STORE_CAPACITY / 10),
            pending_consents: TtlStore::new(STORE_CAPACITY / 10),
            consents: TtlStore::new(STORE_CAPACITY),
            session_links: TtlStore::new(STORE_CAPACITY / 10),
            device_codes: TtlStore::new(STORE_CAPACITY),
            user_codes: TtlStore::new(STORE_CAPACITY),
            wrong_user_codes: TtlStore::new(STORE_CAPACITY),
            client_assertions: TtlStore::new(STORE_CAPACITY),
            revoked: TtlStore::new(STORE_CAPACITY),
            revoked_chains: TtlStore::new(STORE_CAPACITY),
        }
    }

    /// A namespace of this server: `config`'s issuers (`None`: a copy of the loaded fixtures),
    /// empty stores, queues and journal, its own clock (frozen if the server's came frozen),
    /// and this server's keys unless `own_key` is given.
    pub(crate) fn namespace_engine(
        &self,
        config: Option<Config>,
        own_key: Option<SigningKey>,
        mount: namespaces::Mount,
    ) -> Result<Self, Error> {
        let (fixtures, fixture_issuers) = match config {
            None => (self.fixtures.clone(), self.fixture_issuers.clone()),
            Some(c) => {
                let issuers = Arc::new(Issuers::load(&c)?);
                (Arc::new(c), issuers)
            }
        };
        let (keys, initial_key, owns_keys) = match own_key {
            None => (self.keys.clone(), self.initial_key.clone(), false),
            Some(key) => {
                let key = Arc::new(key);
                let ring = Arc::new(RwLock::new(Arc::new(KeyRing::new(key.clone()))));
                (ring, key, true)
            }
        };
        // A seeded server's namespaces start where it started; others on real time.
        let clock = match self.ids.seed() {
            Some(_) => Clock::frozen_at(SEEDED_START),
            None => Clock::default(),
        };
        if self.clock_frozen_at_start {
            clock.freeze();
        }
        let ids = self.ids.for_namespace(&mount.id);
        Ok(Self::assemble(Parts {
            metrics: self.metrics.clone(),
            fixture_issuers,
            keys,
            owns_keys,
            initial_key,
            admin_token: self.admin_token.clone(),
            fixtures,
            clock,
            namespace: Some(mount),
            namespaces: namespaces::Namespaces::new(namespaces::Limits::none()),
            refresh_key: self.refresh_key.clone(),
            ids,
        }))
    }

    /// Whether this engine's signing keys are its own (the server's, or a namespace created
    /// with keys of its own) rather than shared with the server.
    pub(crate) fn owns_keys(&self) -> bool {
        self.owns_keys
    }

    /// The path prefix this engine's issuers are served under: `""`, or `/ns/{id}`.
    pub(crate) fn prefix(&self) -> &str {
        self.namespace.as_ref().map_or("", |m| m.prefix.as_str())
    }

    /// The issuers as they are now (fixtures plus runtime changes); a snapshot, cheap to take.
    pub(crate) fn issuers(&self) -> Arc<Issuers> {
        read(&self.issuers).clone()
    }

    /// The signing keys as they are now.
    pub(crate) fn keys(&self) -> Arc<KeyRing> {
        read(&self.keys).clone()
    }

    /// Header and claims of a JWT that one of this server's live keys signed.
    /// The key is the one the header's `kid` names (by thumbprint or, as IdentityServer3 names
    /// keys, by `x5t`); a token without `kid` is tried against every live key.
    pub(crate) fn verify_jwt(&self, token: &str) -> Option<(Object, Object)> {
        let (header, _) = crate::jwt::decode_unverified(token)?;
        let kid = header.get("kid").and_then(|k| k.as_str());
        let keys = self.keys();
        keys.live(self.clock.now())
            .into_iter()
            .filter(|k| kid.is_none_or(|kid| kid == k.kid || kid == k.x5t))
            .find_map(|k| crate::jwt::verify(token, k))
    }

    /// Changes the configuration of issuer `name` at runtime (admin API); `change` may refuse.
    pub(crate) fn update_issuer(
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
    pub(crate) fn add_issuer(&self, config: IssuerConfig) -> Result<(), String> {
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
    pub(crate) fn remove_issuer(&self, name: &str) -> bool {
        let mut guard = self.issuers.write().unwrap_or_else(|e| e.into_inner());
        if guard.by_name(name).is_none() {
            return false;
        }
        *guard = Arc::new(guard.without(name));
        true
    }

    /// Back to the fixtures: issuers and key as loaded, clock on real time (frozen there if it
    /// came frozen), every token, code, session, queued rule and journal entry forgotten.
    pub(crate) fn reset(&self) -> Result<(), Error> {
        *self.issuers.write().unwrap_or_else(|e| e.into_inner()) = self.fixture_issuers.clone();
        // A namespace sharing the server's keys leaves them alone: they are not its to reset.
        if self.owns_keys {
            *self.keys.write().unwrap_or_else(|e| e.into_inner()) =
                Arc::new(KeyRing::new(self.initial_key.clone()));
        }
        self.clock.reset();
        if self.clock_frozen_at_start {
            self.clock.freeze();
        }
        if self.ids.seed().is_some() {
            self.clock.set(SEEDED_START);
            self.ids.restart();
        }
        self.control.clear();
        self.forget_state();
        Ok(())
    }

    /// Makes `key` the signing key; the previous one stays in the JWKS for `grace` seconds.
    pub(crate) fn rotate_key(&self, key: SigningKey, grace: u64) {
        let now = self.clock.now();
        let mut guard = self.keys.write().unwrap_or_else(|e| e.into_inner());
        *guard = Arc::new(guard.rotated(key, now, grace));
    }
}

impl Engine {
    /// Every store of issued artefacts, by name.
    fn named_stores(&self) -> [(&'static str, &dyn crate::store::Store); 16] {
        [
            ("opaque_tokens", &self.opaque_tokens),
            ("user_tokens", &self.user_tokens),
            ("refresh_tokens", &self.refresh_tokens),
            ("codes", &self.codes),
            ("redeemed_codes", &self.redeemed_codes),
            ("sessions", &self.sessions),
            ("pending_logins", &self.pending_logins),
            ("pending_consents", &self.pending_consents),
            ("consents", &self.consents),
            ("session_links", &self.session_links),
            ("device_codes", &self.device_codes),
            ("user_codes", &self.user_codes),
            ("wrong_user_codes", &self.wrong_user_codes),
            ("client_assertions", &self.client_assertions),
            ("revoked", &self.revoked),
            ("revoked_chains", &self.revoked_chains),
        ]
    }

    /// Every store of issued artefacts.
    fn stores(&self) -> [&dyn crate::store::Store; 16] {
        self.named_stores().map(|(_, s)| s)
    }

    /// How many entries each store holds, and the journal, by name: this engine's and every
    /// live namespace's together (the memory they take is the server's).
    pub(crate) fn store_sizes(&self) -> Vec<(&'static str, usize)> {
        let mut sizes: Vec<(&'static str, usize)> = self
            .named_stores()
            .iter()
            .map(|(name, s)| (*name, s.len()))
            .collect();
        sizes.push(("journal", self.control.journal_len()));
        for ns in self.namespaces.list() {
            for ((_, total), (_, n)) in sizes.iter_mut().zip(ns.engine.store_sizes()) {
                *total = total.saturating_add(n);
            }
        }
        sizes
    }

    /// Drops every token, code, session and pending login.
    fn forget_state(&self) {
        self.stores().iter().for_each(|s| s.clear());
    }

    /// Drops what expired from every store, giving its memory back (stores otherwise purge
    /// only when written to): the server calls this periodically, and this sweeps every live
    /// namespace's stores too (each by its own clock).
    pub(crate) fn purge_expired(&self) {
        self.namespaces
            .list()
            .iter()
            .for_each(|ns| ns.engine.purge_expired());
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
