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
                  --log-format json writes one JSON object a line for log collectors.\n\
                  With no subcommand, `serve` runs."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// How log lines on stderr look: `text` for people, `json` (one object a line) for log
    /// collectors. RUST_LOG picks what is logged either way.
    #[arg(
        long,
        global = true,
        env = "MOCKIDP_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text
    )]
    pub log_format: LogFormat,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve(ServeArgs),
    /// Print a signed access token from the fixtures' keys, with no server running.
    Token(TokenArgs),
    /// Validate a fixture file; errors name the line and column of their culprit.
    Check {
        /// The TOML fixture file.
        file: PathBuf,
    },
    /// Exit 0 if a mockidp server answers its health check (for container HEALTHCHECKs).
    Health {
        /// Base URL of the server.
        #[arg(long, env = "MOCKIDP_URL", default_value = "http://127.0.0.1:8180")]
        url: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// Issuer name, as in the fixtures (e.g. iopole, inqom, generic).
    #[arg(long)]
    pub issuer: String,
    /// Client id the token is issued to.
    #[arg(long)]
    pub client: String,
    /// Make it a user's token (a fixture user or any username).
    #[arg(long)]
    pub user: Option<String>,
    /// Extra claim, `name=value`; the value is JSON if it parses as JSON, else a string.
    /// Repeat for more.
    #[arg(long = "claim", value_name = "NAME=VALUE")]
    pub claims: Vec<String>,
    /// Lifetime: seconds, or with a unit: 90s, 15m, 1h, 2d.
    #[arg(long, value_parser = parse_duration)]
    pub ttl: Option<u64>,
    /// Space-separated scopes (default: the client's default scopes).
    #[arg(long)]
    pub scope: Option<String>,
    /// Base URL of the server the token claims to come from (its `iss` is built on it).
    #[arg(long, env = "MOCKIDP_URL", default_value = "http://127.0.0.1:8180")]
    pub url: String,
    /// TOML fixture file (default: the built-in fixtures).
    #[arg(long, short, env = "MOCKIDP_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `90`, `90s`, `15m`, `1h`, `2d` as seconds.
fn parse_duration(s: &str) -> Result<u64, String> {
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 90s, 15m, 1h, 2d"))?;
    let factor = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit {unit:?} in {s:?}: use s, m, h or d")),
    };
    Ok(n * factor)
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
    /// Serve HTTPS with this PEM certificate (chain); needs --tls-key.
    #[arg(
        long,
        env = "MOCKIDP_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(
        long,
        env = "MOCKIDP_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    /// Require `Authorization: Bearer <TOKEN>` on the admin API (/_mockidp/...).
    #[arg(long, env = "MOCKIDP_ADMIN_TOKEN", value_name = "TOKEN")]
    pub admin_token: Option<String>,
    /// Deterministic mode: codes, ids, opaque tokens and refresh handles derive from this seed
    /// and the clock starts frozen at 2026-01-01T00:00:00Z, so the same requests give
    /// byte-identical answers (snapshot tests) [default: the fixtures' seed, else random].
    #[arg(long, env = "MOCKIDP_SEED", value_name = "N")]
    pub seed: Option<u64>,
    /// Most namespaces (POST /_mockidp/namespaces) alive at once [default: 10000, or the
    /// fixtures' namespace_limit].
    #[arg(long, env = "MOCKIDP_NAMESPACE_LIMIT", value_name = "N")]
    pub namespace_limit: Option<usize>,
    /// Forget a namespace nobody used for this long: seconds, or 90s, 15m, 1h, 2d [default:
    /// 1h, or the fixtures' namespace_idle_secs].
    #[arg(long, env = "MOCKIDP_NAMESPACE_IDLE", value_name = "DURATION", value_parser = parse_duration)]
    pub namespace_idle: Option<u64>,
    /// Ignore Forwarded / X-Forwarded-* headers: URLs follow the Host header only.
    #[arg(long, env = "MOCKIDP_NO_FORWARDED_HEADERS")]
    pub no_forwarded_headers: bool,
    /// Username of the master realm's admin (Keycloak's admin REST API); default `admin`.
    #[arg(long, env = "KC_BOOTSTRAP_ADMIN_USERNAME", value_name = "USER")]
    pub bootstrap_admin_username: Option<String>,
    /// Password of the master realm's admin; default `admin`.
    #[arg(long, env = "KC_BOOTSTRAP_ADMIN_PASSWORD", value_name = "PASSWORD")]
    pub bootstrap_admin_password: Option<String>,
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
        if self.admin_token.is_some() {
            config.admin_token = self.admin_token.clone();
        }
        if self.seed.is_some() {
            config.seed = self.seed;
        }
        if self.namespace_limit.is_some() {
            config.namespace_limit = self.namespace_limit;
        }
        if self.namespace_idle.is_some() {
            config.namespace_idle_secs = self.namespace_idle;
        }
        if self.no_forwarded_headers {
            config.trust_forwarded = false;
        }
        config.set_master_admin(
            self.bootstrap_admin_username.as_deref(),
            self.bootstrap_admin_password.as_deref(),
        )?;
        Ok(config)
    }

    /// The TLS files, when both flags are given.
    pub fn tls(&self) -> Option<mockidp::TlsFiles> {
        Some(mockidp::TlsFiles {
            cert: self.tls_cert.clone()?,
            key: self.tls_key.clone()?,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.bind, self.port)
    }
}
