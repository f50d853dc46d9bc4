//! Running mockidp: the embedded [`MockIdp`] handle for test suites (threads and actix
//! runtimes of its own, random port, stops on drop: [`crate::embedded`]) and the server of the
//! command line
//! ([`crate::Server`]).

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::{App, HttpServer};

use crate::clock::Clock;
use crate::config::{ClientConfig, Config, IssuerConfig, UserConfig};
use crate::engine::mint::MintRequest;
use crate::engine::{Engine, Issuers};
use crate::error::Error;
use crate::http;
use crate::tls::TlsFiles;

/// A running mockidp server on its own thread and runtime, so it works the same from
/// `#[tokio::test]`, `#[actix_web::test]` or plain threads. It stops when dropped.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), mockidp::Error> {
/// // Arrange: the default fixtures (Iopole's Keycloak realm, Inqom, a generic server).
/// let idp = mockidp::MockIdp::start().await?;
/// // Act: a client-credentials token and a hand-made user token, in one line each.
/// let service = idp.client_credentials_token("iopole", "clientId")?;
/// let user = idp.token("iopole", "clientId").user("alice").claim("tenant", "acme").ttl(60).sign()?;
/// // Assert: both are RS256 JWTs whose issuer is the realm URL.
/// assert_eq!(service.split('.').count(), 3);
/// assert!(user.len() > 100);
/// assert_eq!(idp.issuer_url("iopole").unwrap(), format!("{}/realms/iopole", idp.url()));
/// # Ok(()) }
/// ```
///
/// Its helpers (tokens, issuer URLs, the clock) are those of its default [`Namespace`], which it
/// dereferences to; [`MockIdp::namespace`] makes more.
pub struct MockIdp {
    addr: SocketAddr,
    /// Stops the serving threads when dropped.
    _running: crate::embedded::Running,
    root: Namespace,
}

/// A set of issuers with its own clients, users, sessions, tokens, queued rules, journal and
/// clock: the server's own (a [`MockIdp`] dereferences to it), or one made by
/// [`MockIdp::namespace`], served under `{url}/ns/{id}` and deleted when dropped.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), mockidp::Error> {
/// let idp = mockidp::MockIdp::start().await?;
/// let ns = idp.namespace()?;
/// ns.clock().advance(3600); // the server's own clock does not move
/// assert!(ns.issuer_url("iopole").unwrap().ends_with(&format!("/ns/{}/realms/iopole", ns.id())));
/// # Ok(()) }
/// ```
pub struct Namespace {
    /// Base URL of its issuers: the server's, plus `/ns/{id}` for a namespace.
    base: String,
    /// Base URL of the server.
    server: String,
    engine: Arc<Engine>,
    /// The server that holds it, for a namespace: it is removed from there on drop.
    owner: Option<Arc<Engine>>,
}

/// Configures a [`MockIdp`] before starting it: fixtures, extra issuers, clients and users.
#[derive(Default)]
pub struct MockIdpBuilder {
    config: Option<Result<Config, Error>>,
    issuers: Vec<IssuerConfig>,
    clients: Vec<(String, ClientConfig)>,
    users: Vec<(String, UserConfig)>,
    admin_token: Option<String>,
    addr: Option<SocketAddr>,
    tls: Option<TlsFiles>,
    clock: Option<Clock>,
    namespace_limits: Option<(usize, u64)>,
    seed: Option<u64>,
    workers: Option<usize>,
}

impl MockIdpBuilder {
    /// Deterministic mode: every generated value derives from `seed` and the clock starts
    /// frozen at 2026-01-01T00:00:00Z, so the same requests give byte-identical answers.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// At most `max` namespaces at once, each forgotten after `idle_secs` unused.
    pub fn namespace_limits(mut self, max: usize, idle_secs: u64) -> Self {
        self.namespace_limits = Some((max, idle_secs));
        self
    }

    /// Serve these fixtures instead of the default ones.
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(Ok(config));
        self
    }

    /// Serve the fixtures of this TOML file (relative paths in it are relative to it).
    pub fn fixtures(mut self, path: impl AsRef<std::path::Path>) -> Self {
        self.config = Some(Config::from_file(path.as_ref()));
        self
    }

    /// Add an issuer (replacing one of the same name).
    pub fn issuer(mut self, issuer: IssuerConfig) -> Self {
        self.issuers.push(issuer);
        self
    }

    /// Add a client to the issuer named `issuer` (replacing one with the same id).
    pub fn client(mut self, issuer: &str, client: ClientConfig) -> Self {
        self.clients.push((issuer.to_string(), client));
        self
    }

    /// Add a user to the issuer named `issuer` (replacing one with the same username).
    pub fn user(mut self, issuer: &str, user: UserConfig) -> Self {
        self.users.push((issuer.to_string(), user));
        self
    }

    /// Require this bearer token on the admin API.
    pub fn admin_token(mut self, token: &str) -> Self {
        self.admin_token = Some(token.to_string());
        self
    }

    /// Serve HTTPS with this PEM certificate chain and key.
    pub fn tls(
        mut self,
        cert: impl Into<std::path::PathBuf>,
        key: impl Into<std::path::PathBuf>,
    ) -> Self {
        self.tls = Some(TlsFiles {
            cert: cert.into(),
            key: key.into(),
        });
        self
    }

    /// Read time from this clock (e.g. [`Clock::frozen`]) instead of real time; keep a clone
    /// to move it, or use [`Namespace::clock`] (a [`MockIdp`] dereferences to one).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Listen here instead of a random loopback port.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = Some(addr);
        self
    }

    /// Serve on `n` worker threads instead of one. One serves a test's requests, as
    /// wiremock-rs's single thread does, and starts fastest (each worker is a thread and an
    /// async runtime of its own); more let requests that sign tokens run in parallel, for a
    /// server shared by many concurrent tests.
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = Some(n);
        self
    }

    /// The fixtures with every addition applied, checked and loaded into issuers; the default
    /// ones, loaded once per process, when there is no addition.
    fn build_fixtures(self) -> Result<(Arc<Config>, Arc<Issuers>), Error> {
        if self.adds_nothing() {
            return default_loaded();
        }
        let config = self.build_config()?;
        let issuers = Arc::new(Issuers::load(&config)?);
        Ok((Arc::new(config), issuers))
    }

    /// Whether the fixtures are the default ones as they are.
    fn adds_nothing(&self) -> bool {
        // Every field named, so that a new one is considered here.
        let Self {
            config,
            issuers,
            clients,
            users,
            admin_token,
            namespace_limits,
            seed,
            addr: _,
            tls: _,
            clock: _,
            workers: _,
        } = self;
        config.is_none()
            && issuers.is_empty()
            && clients.is_empty()
            && users.is_empty()
            && admin_token.is_none()
            && namespace_limits.is_none()
            && seed.is_none()
    }

    /// The configuration with every addition applied and checked.
    fn build_config(self) -> Result<Config, Error> {
        let mut config = match self.config {
            Some(c) => c?,
            None => default_fixtures()?,
        };
        for issuer in self.issuers {
            config.issuers.retain(|i| i.name != issuer.name);
            config.issuers.push(issuer);
        }
        for (name, client) in self.clients {
            let issuer = find(&mut config, &name)?;
            issuer.clients.retain(|c| c.id != client.id);
            issuer.clients.push(client);
        }
        for (name, user) in self.users {
            let issuer = find(&mut config, &name)?;
            issuer.users.retain(|u| u.username != user.username);
            issuer.users.push(user);
        }
        if self.admin_token.is_some() {
            config.admin_token = self.admin_token;
        }
        if self.seed.is_some() {
            config.seed = self.seed;
        }
        if let Some((max, idle)) = self.namespace_limits {
            config.namespace_limit = Some(max);
            config.namespace_idle_secs = Some(idle);
        }
        config.read_files().map_err(|r| Error::Config(r.message))?;
        config.check()?;
        Ok(config)
    }

    /// Starts the server on threads of its own and returns once its port is bound (connections
    /// wait there until a thread accepts them).
    pub async fn start(self) -> Result<MockIdp, Error> {
        self.start_blocking()
    }

    /// [`MockIdpBuilder::start`] for callers outside an async runtime.
    pub fn start_blocking(self) -> Result<MockIdp, Error> {
        // The port and the serving threads first: the threads start while the engine is built.
        let bind = self
            .addr
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = TcpListener::bind(bind)?;
        let addr = listener.local_addr()?;
        let threads = crate::embedded::start(addr.port(), self.workers.unwrap_or(1))?;
        let tls = self
            .tls
            .as_ref()
            .map(crate::tls::server_config)
            .transpose()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let clock = self.clock.clone().unwrap_or_default();
        let (fixtures, issuers) = self.build_fixtures()?;
        let edge = Arc::new(http::Edge::new(fixtures.trust_forwarded));
        let engine = Arc::new(Engine::loaded(fixtures, issuers, clock)?);
        let running = threads.serve(engine.clone(), edge, listener, tls)?;
        let url = format!("{scheme}://{addr}");
        Ok(MockIdp {
            addr,
            _running: running,
            root: Namespace {
                base: url.clone(),
                server: url,
                engine,
                owner: None,
            },
        })
    }
}

/// A copy of the compiled-in default fixtures, for a builder that adds to them: parsed once
/// per process with [`default_loaded`] (the TOML parse was the largest part of a start:
/// bench/README.md, "Embedding").
fn default_fixtures() -> Result<Config, Error> {
    Ok(Config::clone(&default_loaded()?.0))
}

/// The default fixtures, parsed, checked and loaded into issuers once per process: most tests
/// start a server on them as they are, and copying them for each was a third of a start
/// (bench/README.md, "Stop 23").
fn default_loaded() -> Result<(Arc<Config>, Arc<Issuers>), Error> {
    static LOADED: std::sync::OnceLock<(Arc<Config>, Arc<Issuers>)> = std::sync::OnceLock::new();
    if let Some((config, issuers)) = LOADED.get() {
        return Ok((config.clone(), issuers.clone()));
    }
    let mut config = Config::default_fixtures()?;
    config.read_files().map_err(|r| Error::Config(r.message))?;
    config.check()?;
    let issuers = Arc::new(Issuers::load(&config)?);
    let (config, issuers) = LOADED.get_or_init(|| (Arc::new(config), issuers));
    Ok((config.clone(), issuers.clone()))
}

fn find<'c>(config: &'c mut Config, name: &str) -> Result<&'c mut IssuerConfig, Error> {
    config
        .issuers
        .iter_mut()
        .find(|i| i.name == name)
        .ok_or_else(|| Error::Config(format!("no issuer named {name:?} to add to")))
}

/// A token being made by [`Namespace::token`].
pub struct TokenBuilder<'a> {
    idp: &'a Namespace,
    request: MintRequest,
}

impl TokenBuilder<'_> {
    /// About this user (a fixture user or any username) instead of the client.
    pub fn user(mut self, username: &str) -> Self {
        self.request.username = Some(username.to_string());
        self
    }

    /// Sets a claim (anything serde can turn into JSON).
    pub fn claim(mut self, name: &str, value: impl serde::Serialize) -> Self {
        let value = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        self.request.claims.insert(name.to_string(), value);
        self
    }

    /// Lifetime in seconds.
    pub fn ttl(mut self, secs: u64) -> Self {
        self.request.ttl_secs = Some(secs);
        self
    }

    /// Space-separated scopes.
    pub fn scope(mut self, scope: &str) -> Self {
        self.request.scope = Some(scope.to_string());
        self
    }

    /// The signed token.
    pub fn sign(self) -> Result<String, Error> {
        self.idp
            .engine
            .mint(&self.request, &self.idp.base)
            .map_err(Error::Config)
    }
}

impl Namespace {
    /// A token for `client_id` at `issuer`, as the client-credentials grant would issue it.
    pub fn client_credentials_token(&self, issuer: &str, client_id: &str) -> Result<String, Error> {
        self.token(issuer, client_id).sign()
    }

    /// Starts making a token for `client_id` at `issuer`: add a user, claims, a lifetime,
    /// then [`TokenBuilder::sign`].
    pub fn token(&self, issuer: &str, client_id: &str) -> TokenBuilder<'_> {
        TokenBuilder {
            idp: self,
            request: MintRequest {
                issuer: issuer.to_string(),
                client_id: client_id.to_string(),
                ..MintRequest::default()
            },
        }
    }

    /// The JWKS the issuer named `issuer` serves.
    pub fn jwks(&self, issuer: &str) -> Option<serde_json::Value> {
        let issuers = self.engine.issuers();
        let issuer = issuers.by_name(issuer)?;
        let keys = self.engine.keys();
        Some(crate::dialect::jwks(
            issuer.dialect,
            &keys.live(self.engine.clock.now()),
        ))
    }

    /// The admin API's base URL: `/_mockidp`, or `/_mockidp/ns/{id}` for a namespace.
    pub fn admin_url(&self) -> String {
        match &self.engine.namespace {
            Some(ns) => format!("{}/_mockidp/ns/{}", self.server, ns.id),
            None => format!("{}/_mockidp", self.server),
        }
    }

    /// Base URL of these issuers, without a trailing slash: the server's
    /// (`http://127.0.0.1:41234`), or for a namespace `http://127.0.0.1:41234/ns/{id}`.
    pub fn url(&self) -> String {
        self.base.clone()
    }

    /// The namespace's id; `""` for the server's own issuers.
    pub fn id(&self) -> &str {
        self.engine.namespace.as_ref().map_or("", |m| m.id.as_str())
    }

    /// The issuer URL of the issuer named `name` (as tokens carry it in `iss`).
    pub fn issuer_url(&self, name: &str) -> Option<String> {
        let issuers = self.engine.issuers();
        let issuer = issuers.by_name(name)?;
        Some(
            issuer
                .fixed_url()
                .unwrap_or_else(|| format!("{}{}", self.base, issuer.path)),
        )
    }

    /// This clock: freeze, set or advance it to expire tokens without sleeping. Each namespace
    /// has its own.
    pub fn clock(&self) -> &Clock {
        &self.engine.clock
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        if let (Some(owner), Some(ns)) = (&self.owner, &self.engine.namespace) {
            owner.namespaces.remove(&ns.id);
        }
    }
}

impl std::ops::Deref for MockIdp {
    type Target = Namespace;

    fn deref(&self) -> &Namespace {
        &self.root
    }
}

impl MockIdp {
    /// A new namespace with a copy of the server's fixtures and its keys (see [`Namespace`]);
    /// it is deleted when dropped.
    pub fn namespace(&self) -> Result<Namespace, Error> {
        self.namespace_of(crate::engine::namespaces::Spec::default())
    }

    /// A new namespace serving these fixtures instead (with the server's keys).
    pub fn namespace_with(&self, fixtures: Config) -> Result<Namespace, Error> {
        fixtures.check()?;
        self.namespace_of(crate::engine::namespaces::Spec {
            fixtures: Some(fixtures),
            ..Default::default()
        })
    }

    fn namespace_of(&self, spec: crate::engine::namespaces::Spec) -> Result<Namespace, Error> {
        let server = &self.root.engine;
        let engine = server
            .namespaces
            .create(server, spec, || server.ids.alnum(12))
            .map_err(|e| Error::Config(e.to_string()))?;
        Ok(Namespace {
            base: format!("{}{}", self.root.server, engine.prefix()),
            server: self.root.server.clone(),
            engine,
            owner: Some(server.clone()),
        })
    }

    /// Starts a server with the default fixtures on a random loopback port.
    pub async fn start() -> Result<Self, Error> {
        Self::builder().start().await
    }

    pub fn builder() -> MockIdpBuilder {
        MockIdpBuilder::default()
    }

    pub fn address(&self) -> SocketAddr {
        self.addr
    }
}

/// Serves `engine` on `addr` until SIGINT or SIGTERM; calls `on_ready` once listening.
pub(crate) async fn serve(
    engine: Arc<Engine>,
    addr: SocketAddr,
    workers: usize,
    tls: Option<&TlsFiles>,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<(), Error> {
    let edge = Arc::new(http::Edge::new(engine.trust_forwarded()));
    let server = HttpServer::new(move || {
        App::new().configure(http::configure(engine.clone(), edge.clone()))
    })
    .workers(workers.max(1))
    .shutdown_timeout(2);
    let server = match tls {
        Some(files) => server.bind_rustls_0_23(addr, crate::tls::server_config(files)?)?,
        None => server.bind(addr)?,
    };
    let bound = server.addrs().first().copied().unwrap_or(addr);
    let running = server.run();
    on_ready(bound);
    running.await?;
    Ok(())
}

/// A human summary of every issuer: URL, discovery, token endpoint and clients (no secrets).
pub(crate) fn banner(engine: &Engine, base: &str) -> String {
    use crate::dialect::{Endpoint, endpoint_url};
    let mut out = String::new();
    for issuer in engine.issuers().iter() {
        if issuer.config.is_master_realm()
            && let Some(admin) = issuer.config.users.iter().find(|u| u.is_master_admin())
        {
            out.push_str(&format!(
                "  Keycloak admin REST API  {base}/admin/realms  (master admin {:?}, client admin-cli)\n",
                admin.username
            ));
        }
        let url = issuer
            .fixed_url()
            .unwrap_or_else(|| format!("{base}{}", issuer.path));
        let d = issuer.dialect;
        out.push_str(&format!(
            "  issuer {:?} ({})  {url}\n    discovery  {}\n    token      {}\n",
            issuer.name(),
            issuer.config.dialect.as_str(),
            endpoint_url(d, &url, Endpoint::Discovery),
            endpoint_url(d, &url, Endpoint::Token),
        ));
        for c in &issuer.config.clients {
            let kind = if c.is_public() {
                "public"
            } else {
                "confidential"
            };
            let roles = if c.roles.is_empty() {
                String::new()
            } else {
                format!("; roles {}", c.roles.join(","))
            };
            out.push_str(&format!(
                "    client {:<28} {kind}; grants {}{roles}\n",
                c.id,
                c.grants.join(",")
            ));
        }
    }
    out
}
