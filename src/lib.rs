//! # mockidp
//!
//! A fake OAuth 2.0 / OpenID Connect identity provider for tests and local development. It keeps
//! everything in memory, starts in milliseconds, signs real RS256 JWTs and speaks the dialects of
//! real products, so a client runs against it unchanged: only the base URL differs.
//!
//! One server hosts any number of issuers, each at its product's native path:
//!
//! | dialect | default path | token endpoint |
//! |---|---|---|
//! | `keycloak` | `/realms/{realm}` | `/realms/{realm}/protocol/openid-connect/token` |
//! | `identityserver` | `/identity` | `/identity/connect/token` |
//! | `generic` (Django OAuth Toolkit) | `/` | `/token/` |
//!
//! ## In a Rust test
//!
//! ```no_run
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let idp = mockidp::MockIdp::start().await?; // default fixtures, random loopback port
//! let issuer = idp.issuer_url("iopole").expect("fixture issuer");
//! // POST {issuer}/protocol/openid-connect/token with client_id=clientId&client_secret=clientSecret
//! # let _ = issuer; Ok(()) }
//! ```
//!
//! Fixtures are TOML ([`Config`]); `fixtures/default.toml` is compiled in.

mod admin;
pub mod clock;
pub mod config;
mod dialect;
mod embedded;
mod engine;
pub mod error;
mod http;
mod ids;
mod jwt;
mod keycloak_admin;
mod keys;
mod metrics;
mod server;
mod standalone;
mod store;
mod tls;

pub use clock::Clock;
pub use config::{Config, DialectKind};
pub use engine::mint::MintRequest;

/// The HTTP status of a GET to `url` (for `mockidp health`), within 3 seconds; `https://`
/// with the webpki roots.
pub fn fetch_status(url: &str) -> Result<u16, String> {
    actix_web::rt::System::new().block_on(async {
        let client = http_client::Client::builder()
            .use_preconfigured_tls(tls::client_config(&[])?)
            .timeout(std::time::Duration::from_secs(3))
            .redirect(http_client::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        let resp = client.get(url).send().await.map_err(|e| {
            let cause = std::error::Error::source(&e).map(ToString::to_string);
            format!("{e}{}", cause.map(|c| format!(": {c}")).unwrap_or_default())
        })?;
        Ok(resp.status().as_u16())
    })
}
pub use error::Error;
pub use server::{MockIdp, MockIdpBuilder, Namespace, TokenBuilder};
pub use standalone::Server;
pub use store::set_sweep_hook;
pub use tls::TlsFiles;
