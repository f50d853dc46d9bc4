//! Running mockidp: the embedded [`MockIdp`] handle for test suites (own thread, own actix
//! runtime, random port, stops on drop) and [`serve`] for the command line.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer};

use crate::clock::Clock;
use crate::config::Config;
use crate::engine::Engine;
use crate::error::Error;
use crate::http;

/// A running mockidp server. It listens until dropped.
///
/// ```no_run
/// # async fn demo() -> Result<(), mockidp::Error> {
/// let idp = mockidp::MockIdp::start().await?;
/// let token_url = format!("{}/realms/iopole/protocol/openid-connect/token", idp.url());
/// # let _ = token_url; Ok(()) }
/// ```
pub struct MockIdp {
    addr: SocketAddr,
    handle: ServerHandle,
    engine: Arc<Engine>,
}

/// Configures a [`MockIdp`] before starting it.
#[derive(Default)]
pub struct MockIdpBuilder {
    config: Option<Config>,
    addr: Option<SocketAddr>,
}

impl MockIdpBuilder {
    /// Serve these fixtures instead of the default ones.
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// Listen here instead of a random loopback port.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = Some(addr);
        self
    }

    /// Starts the server on its own thread and returns once it accepts connections.
    pub async fn start(self) -> Result<MockIdp, Error> {
        self.start_blocking()
    }

    /// [`MockIdpBuilder::start`] for callers outside an async runtime.
    pub fn start_blocking(self) -> Result<MockIdp, Error> {
        let config = match self.config {
            Some(c) => c,
            None => Config::default_fixtures()?,
        };
        let engine = Arc::new(Engine::new(config, Clock::default())?);
        let listener = TcpListener::bind(
            self.addr
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0))),
        )?;
        let addr = listener.local_addr()?;
        let (tx, rx) = std::sync::mpsc::channel();
        let server_engine = engine.clone();
        std::thread::Builder::new()
            .name(format!("mockidp-{}", addr.port()))
            .spawn(move || {
                let system = actix_web::rt::System::new();
                system.block_on(async move {
                    let server = HttpServer::new(move || {
                        App::new().configure(http::configure(server_engine.clone()))
                    })
                    .workers(1)
                    .disable_signals()
                    .shutdown_timeout(1)
                    .listen(listener);
                    match server {
                        Ok(server) => {
                            let server = server.run();
                            let _ = tx.send(Ok(server.handle()));
                            let _ = server.await;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                        }
                    }
                });
            })?;
        let handle = rx
            .recv()
            .map_err(|_| Error::Io(std::io::Error::other("server thread died")))??;
        Ok(MockIdp {
            addr,
            handle,
            engine,
        })
    }
}

impl MockIdp {
    /// Starts a server with the default fixtures on a random loopback port.
    pub async fn start() -> Result<Self, Error> {
        Self::builder().start().await
    }

    pub fn builder() -> MockIdpBuilder {
        MockIdpBuilder::default()
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// The issuer URL of the issuer named `name` (as tokens carry it in `iss`).
    pub fn issuer_url(&self, name: &str) -> Option<String> {
        let issuers = self.engine.issuers();
        let issuer = issuers.by_name(name)?;
        Some(match &issuer.config.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("{}{}", self.url(), issuer.path),
        })
    }

    /// The server's clock: advance it to expire tokens without sleeping.
    pub fn clock(&self) -> &Clock {
        &self.engine.clock
    }
}

impl Drop for MockIdp {
    fn drop(&mut self) {
        // actix sends the stop command now; the returned future only waits for completion.
        drop(self.handle.stop(false));
    }
}

/// Serves `engine` on `addr` until SIGINT or SIGTERM; calls `on_ready` once listening.
pub async fn serve(
    engine: Arc<Engine>,
    addr: SocketAddr,
    workers: usize,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<(), Error> {
    let server = HttpServer::new(move || App::new().configure(http::configure(engine.clone())))
        .workers(workers.max(1))
        .shutdown_timeout(2)
        .bind(addr)?;
    let bound = server.addrs().first().copied().unwrap_or(addr);
    let running = server.run();
    on_ready(bound);
    running.await?;
    Ok(())
}

/// A human summary of every issuer: URL, discovery, token endpoint and clients (no secrets).
pub fn banner(engine: &Engine, base: &str) -> String {
    use crate::dialect::{Endpoint, endpoint_url};
    let mut out = String::new();
    for issuer in engine.issuers().iter() {
        let url = issuer
            .config
            .public_url
            .clone()
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
