//! Namespaces: isolated copies of a server's issuers, one per test (or per CI worker), served
//! under `/ns/{id}/` on the same port. Each is one more [`Engine`] (own issuers, stores, queued
//! rules, journal and clock; the server's keys unless it asked for its own), so everything the
//! server does a namespace does the same way. The registry is bounded and forgets a namespace
//! nobody used for its idle time (measured in real time: a namespace's own clock may be frozen).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use super::Engine;
use crate::config::Config;
use crate::error::Error;
use crate::keys::SigningKey;

/// Where a namespace is served: its id and the path prefix `/ns/{id}`.
#[derive(Debug, Clone)]
pub(crate) struct Mount {
    pub(crate) id: String,
    pub(crate) prefix: String,
}

/// The path segment namespaces are served under.
pub(crate) const PATH_PREFIX: &str = "/ns/";

/// Default cap on live namespaces: one per test of a large parallel suite.
pub(crate) const DEFAULT_LIMIT: usize = 10_000;
/// Default idle time after which a namespace is forgotten: an hour.
pub(crate) const DEFAULT_IDLE_SECS: u64 = 3600;
/// Longest id a caller may choose.
const MAX_ID_LEN: usize = 64;

/// How many namespaces may live, and for how long unused.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max: usize,
    pub(crate) idle_secs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max: DEFAULT_LIMIT,
            idle_secs: DEFAULT_IDLE_SECS,
        }
    }
}

impl Limits {
    /// No namespaces at all (inside a namespace: they do not nest).
    pub(crate) fn none() -> Self {
        Self {
            max: 0,
            idle_secs: 0,
        }
    }
}

/// One live namespace.
pub(crate) struct Namespace {
    pub(crate) engine: Arc<Engine>,
    /// Milliseconds since the registry's start when it was last used.
    last_used_ms: AtomicU64,
}

impl Namespace {
    /// Seconds since it was last used.
    pub(crate) fn idle_secs(&self, registry: &Namespaces) -> u64 {
        registry
            .now_ms()
            .saturating_sub(self.last_used_ms.load(Ordering::Relaxed))
            / 1000
    }
}

/// Why a namespace was not created.
#[derive(Debug)]
pub(crate) enum CreateError {
    /// The cap is reached.
    Full(usize),
    /// The chosen id is taken.
    Taken(String),
    /// The chosen id is not `[A-Za-z0-9_-]{1,64}`.
    BadId,
    /// The namespace's fixtures do not load.
    Fixtures(Error),
}

impl std::fmt::Display for CreateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Full(max) => write!(
                f,
                "{max} namespaces exist already (the limit): delete some, or raise \
                 namespace_limit (--namespace-limit)"
            ),
            Self::Taken(id) => write!(f, "namespace {id:?} exists already"),
            Self::BadId => write!(
                f,
                "a namespace id is 1 to {MAX_ID_LEN} characters of A-Z, a-z, 0-9, '-' and '_'"
            ),
            Self::Fixtures(e) => write!(f, "the namespace's fixtures: {e}"),
        }
    }
}

/// What a new namespace is made of.
#[derive(Default)]
pub(crate) struct Spec {
    /// Its id; `None`: a random one.
    pub(crate) id: Option<String>,
    /// Its fixtures; `None`: a copy of the server's loaded fixtures.
    pub(crate) fixtures: Option<Config>,
    /// A signing key of its own instead of the server's.
    pub(crate) own_key: Option<SigningKey>,
}

/// The live namespaces of one server.
pub(crate) struct Namespaces {
    limits: Limits,
    started: Instant,
    live: RwLock<HashMap<String, Arc<Namespace>>>,
}

impl Namespaces {
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            limits,
            started: Instant::now(),
            live: RwLock::new(HashMap::new()),
        }
    }

    pub(crate) fn limits(&self) -> Limits {
        self.limits
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn expired(&self, ns: &Namespace, now_ms: u64) -> bool {
        now_ms.saturating_sub(ns.last_used_ms.load(Ordering::Relaxed))
            > self.limits.idle_secs.saturating_mul(1000)
    }

    /// The live namespace `id`, marked as used now.
    pub(crate) fn get(&self, id: &str) -> Option<Arc<Engine>> {
        let now = self.now_ms();
        let live = self.live.read().unwrap_or_else(|e| e.into_inner());
        let ns = live.get(id).filter(|ns| !self.expired(ns, now))?;
        ns.last_used_ms.store(now, Ordering::Relaxed);
        Some(ns.engine.clone())
    }

    /// Creates a namespace of `server` as `spec` says; its id is `random_id` unless the spec
    /// chose one.
    pub(crate) fn create(
        &self,
        server: &Engine,
        spec: Spec,
        random_id: impl FnOnce() -> String,
    ) -> Result<Arc<Engine>, CreateError> {
        let id = match spec.id {
            Some(id) if valid_id(&id) => id,
            Some(_) => return Err(CreateError::BadId),
            None => random_id(),
        };
        // Built before taking the lock: loading fixtures may take a while.
        let mount = Mount {
            prefix: format!("{PATH_PREFIX}{id}"),
            id: id.clone(),
        };
        let engine = Arc::new(
            server
                .namespace_engine(spec.fixtures, spec.own_key, mount)
                .map_err(CreateError::Fixtures)?,
        );
        let now = self.now_ms();
        let mut live = self.live.write().unwrap_or_else(|e| e.into_inner());
        live.retain(|_, ns| !self.expired(ns, now));
        if live.contains_key(&id) {
            return Err(CreateError::Taken(id));
        }
        if live.len() >= self.limits.max {
            return Err(CreateError::Full(self.limits.max));
        }
        live.insert(
            id,
            Arc::new(Namespace {
                engine: engine.clone(),
                last_used_ms: AtomicU64::new(now),
            }),
        );
        Ok(engine)
    }

    /// Removes namespace `id`; whether it was there.
    pub(crate) fn remove(&self, id: &str) -> bool {
        let mut live = self.live.write().unwrap_or_else(|e| e.into_inner());
        live.remove(id).is_some()
    }

    /// The live namespaces, by id.
    pub(crate) fn list(&self) -> Vec<Arc<Namespace>> {
        let now = self.now_ms();
        let mut live = self.live.write().unwrap_or_else(|e| e.into_inner());
        live.retain(|_, ns| !self.expired(ns, now));
        let mut all: Vec<Arc<Namespace>> = live.values().cloned().collect();
        all.sort_by(|a, b| a.engine.prefix().cmp(b.engine.prefix()));
        all
    }

    pub(crate) fn len(&self) -> usize {
        self.live.read().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// `[A-Za-z0-9_-]{1,64}`: safe in a path segment, a cookie name and a log line.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;

    fn server(limits: Limits) -> Engine {
        let mut config = Config::default_fixtures().expect("default fixtures");
        config.namespace_limit = Some(limits.max);
        config.namespace_idle_secs = Some(limits.idle_secs);
        Engine::new(config, Clock::default()).expect("engine")
    }

    #[test]
    fn namespaces_are_capped_and_ids_checked() {
        let s = server(Limits {
            max: 2,
            idle_secs: 60,
        });
        let spec = |id: &str| Spec {
            id: Some(id.into()),
            ..Spec::default()
        };
        assert!(s.namespaces.create(&s, spec("a"), String::new).is_ok());
        assert!(matches!(
            s.namespaces.create(&s, spec("a"), String::new),
            Err(CreateError::Taken(_))
        ));
        assert!(matches!(
            s.namespaces.create(&s, spec("a/b"), String::new),
            Err(CreateError::BadId)
        ));
        assert!(s.namespaces.create(&s, spec("b"), String::new).is_ok());
        assert!(matches!(
            s.namespaces.create(&s, spec("c"), String::new),
            Err(CreateError::Full(2))
        ));
        assert!(s.namespaces.remove("a"));
        assert!(s.namespaces.create(&s, spec("c"), String::new).is_ok());
        let ns = s.namespaces.get("c").expect("live");
        assert_eq!(ns.prefix(), "/ns/c");
        assert!(!ns.owns_keys(), "keys are shared by default");
    }

    /// A server with room for 10 namespaces idle for at most `idle_secs`, and a spec of one
    /// named `x`.
    fn server_and_spec_x(idle_secs: u64) -> (Engine, Spec) {
        let spec = Spec {
            id: Some("x".into()),
            ..Spec::default()
        };
        (server(Limits { max: 10, idle_secs }), spec)
    }

    #[test]
    fn an_idle_namespace_expires() {
        let (s, spec) = server_and_spec_x(0);
        assert!(s.namespaces.create(&s, spec, String::new).is_ok());
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(s.namespaces.get("x").is_none());
        assert!(s.namespaces.list().is_empty());
    }

    #[test]
    fn the_servers_sweep_and_store_sizes_cover_every_namespace() {
        let (s, spec) = server_and_spec_x(3600);
        let ns = s.namespaces.create(&s, spec, String::new).expect("created");
        let now = ns.clock.now();
        ns.session_links
            .insert("link".into(), "sid".into(), now + 10, now);
        let links = |e: &Engine| {
            e.store_sizes()
                .into_iter()
                .find(|(name, _)| *name == "session_links")
                .map(|(_, n)| n)
        };
        assert_eq!(
            links(&s),
            Some(1),
            "the server counts its namespaces' entries"
        );
        // Expired by the namespace's own clock, not the server's.
        ns.clock.advance(11);
        s.purge_expired();
        assert_eq!(
            ns.session_links.len(),
            0,
            "the server's sweep reached the namespace"
        );
        assert_eq!(links(&s), Some(0));
    }
}
