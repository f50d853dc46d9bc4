//! Command-line flags (each with an environment variable), turned into a validated [`Config`]
//! and a listen address. The library never sees clap.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use mockidp::{Config, Error};

/// A fake OAuth2 / OpenID Connect identity provider for tests: Keycloak, IdentityServer and
/// Django-OAuth-Toolkit dialects on one port.
#[derive(Debug, Parser)]
#[command(
    name = "mockidp",
    version,
    args_conflicts_with_subcommands = true,
    after_help = "Logging: set RUST_LOG (e.g. RUST_LOG=mockidp=debug); default is info.\n\
                  With no subcommand, `serve` runs."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve(ServeArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on. 8080 stays free for the apps under test.
    #[arg(long, env = "MOCKIDP_BIND", default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, short, env = "MOCKIDP_PORT", default_value_t = 8180)]
    pub port: u16,
    /// TOML fixture file to serve instead of the built-in fixtures/default.toml.
    #[arg(long, short, env = "MOCKIDP_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Sign with a freshly generated RSA key instead of the fixture key.
    #[arg(long, env = "MOCKIDP_GENERATE_KEYS")]
    pub generate_keys: bool,
    /// Worker threads (default: one per CPU core).
    #[arg(long, env = "MOCKIDP_WORKERS", value_name = "N")]
    pub workers: Option<usize>,
}

impl ServeArgs {
    /// The fixtures these flags select.
    pub fn load_config(&self) -> Result<Config, Error> {
        let mut config = match &self.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default_fixtures()?,
        };
        if self.generate_keys {
            config.keys.generate = true;
        }
        Ok(config)
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.bind, self.port)
    }
}
