//! The server of the `mockidp` binary: fixtures in, served until a signal. Test suites embed a
//! [`crate::MockIdp`] instead (own thread, random port, stops on drop).

use std::net::SocketAddr;
use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::engine::Engine;
use crate::engine::mint::MintRequest;
use crate::error::Error;
use crate::tls::TlsFiles;

/// A mockidp server for a process of its own: built from fixtures on real time, then
/// [`Server::serve`]d until SIGINT or SIGTERM.
///
/// ```no_run
/// # fn main() -> Result<(), mockidp::Error> {
/// let server = mockidp::Server::new(mockidp::Config::default_fixtures()?)?;
/// let addr = "127.0.0.1:8080".parse().expect("an address");
/// actix_web::rt::System::new().block_on(server.serve(addr, 2, None, |server, bound| {
///     print!("{}", server.banner(&format!("http://{bound}")));
/// }))
/// # }
/// ```
pub struct Server {
    engine: Arc<Engine>,
}

impl Server {
    /// The server of `config`, with its signing key loaded or generated.
    pub fn new(config: Config) -> Result<Self, Error> {
        Ok(Self {
            engine: Arc::new(Engine::new(config, Clock::default())?),
        })
    }

    /// The `kid` of the key that signs now.
    pub fn key_id(&self) -> String {
        self.engine.keys().current.kid.clone()
    }

    /// A human summary of every issuer as served at `base`: URL, discovery, token endpoint and
    /// clients (no secrets).
    pub fn banner(&self, base: &str) -> String {
        crate::server::banner(&self.engine, base)
    }

    /// A token minted without a grant (`mockidp token`), with issuer URLs on `base`.
    pub fn mint(&self, request: &MintRequest, base: &str) -> Result<String, Error> {
        self.engine.mint(request, base).map_err(Error::Config)
    }

    /// Serves on `addr` with `workers` threads (HTTPS with `tls`) until SIGINT or SIGTERM;
    /// calls `on_ready` once listening, with the address bound.
    pub async fn serve(
        self,
        addr: SocketAddr,
        workers: usize,
        tls: Option<&TlsFiles>,
        on_ready: impl FnOnce(&Server, SocketAddr),
    ) -> Result<(), Error> {
        let engine = self.engine.clone();
        crate::server::serve(engine, addr, workers, tls, |bound| on_ready(&self, bound)).await
    }
}
