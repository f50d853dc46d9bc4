//! The `mockidp` binary: parse flags, set up logging, serve.

mod cli;

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use mockidp::Server;

/// mimalloc gives memory back to the system once a burst's entries expire (glibc's malloc
/// kept it: bench/README.md, "Memory after a burst").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// mimalloc.h: `void mi_collect(bool force)`, linked in by the `mimalloc` crate's C library.
#[allow(unsafe_code)]
unsafe extern "C" {
    /// Frees the calling thread's empty pages and, with `force`, returns them to the system.
    safe fn mi_collect(force: bool);
}

/// After a sweep, each worker thread gives back the pages its burst's entries held, which the
/// sweeping thread freed (mimalloc returns a page only from its owner thread): this takes RSS
/// back near idle once a burst has expired (bench/README.md, "Memory after a burst").
fn release_swept_memory() {
    mi_collect(true);
}

fn main() -> ExitCode {
    mockidp::set_sweep_hook(release_swept_memory);
    let cli = cli::Cli::parse();
    init_logging(cli.log_format);
    let result = match cli.command {
        Some(cli::Command::Serve(args)) => run(args),
        None => run(cli.serve),
        Some(cli::Command::Token(args)) => token(args),
        Some(cli::Command::Check { file }) => check(&file),
        Some(cli::Command::Health { url }) => health(&url),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mockidp: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Logs on stderr, filtered by `RUST_LOG` (default `info`), as text or one JSON object a line.
fn init_logging(format: cli::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        cli::LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        cli::LogFormat::Json => logs.json().with_ansi(false).init(),
    }
}

fn run(args: cli::ServeArgs) -> Result<(), mockidp::Error> {
    let config = args.load_config()?;
    if !args.bind.is_loopback() && config.admin_token.is_none() {
        tracing::warn!(
            "WARNING: listening on {} with an open admin API: anyone who can reach this port can \
             change clients, mint tokens and read the journal. Set --admin-token (MOCKIDP_ADMIN_TOKEN).",
            args.bind
        );
        eprintln!(
            "\n!!! mockidp: the admin API (/_mockidp/) is open on {} — set --admin-token !!!\n",
            args.bind
        );
    }
    if !args.bind.is_loopback()
        && let Some(admin) = config.master_admin()
    {
        tracing::warn!(
            "WARNING: listening on {} with Keycloak's admin REST API (/admin/realms/): anyone \
             who can reach this port and knows the master admin {admin:?}'s password can change \
             every realm. Set --bootstrap-admin-password (KC_BOOTSTRAP_ADMIN_PASSWORD).",
            args.bind
        );
        eprintln!(
            "\n!!! mockidp: Keycloak's admin REST API (/admin/realms/) is open on {} to the master admin {admin:?} — set --bootstrap-admin-password !!!\n",
            args.bind
        );
    }
    let source = args
        .config
        .as_ref()
        .map_or("built-in fixtures/default.toml".to_string(), |p| {
            p.display().to_string()
        });
    let server = Server::new(config)?;
    let workers = args
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let tls = args.tls();
    let scheme = if tls.is_some() { "https" } else { "http" };
    actix_web::rt::System::new().block_on(server.serve(
        args.addr(),
        workers,
        tls.as_ref(),
        |server, addr| print_banner(server, addr, scheme, &source),
    ))
}

/// Start-up summary on stdout: every issuer's URL, token endpoint and sample clients, then
/// `ready`. Secrets are not printed: they are in the fixture file.
fn print_banner(server: &Server, addr: SocketAddr, scheme: &str, source: &str) {
    let host = if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    };
    let base = format!("{scheme}://{host}");
    let mut out = format!(
        "mockidp {} listening on {base} (fixtures: {source}, key id {})\n",
        env!("CARGO_PKG_VERSION"),
        server.key_id()
    );
    out.push_str(&server.banner(&base));
    out.push_str("ready\n");
    print!("{out}");
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
}

/// `mockidp token`: a signed token from the fixtures' keys, printed on stdout.
fn token(args: cli::TokenArgs) -> Result<(), mockidp::Error> {
    let config = match &args.config {
        Some(path) => mockidp::Config::from_file(path)?,
        None => mockidp::Config::default_fixtures()?,
    };
    let mut claims = serde_json::Map::new();
    for c in &args.claims {
        let (k, v) = c
            .split_once('=')
            .ok_or_else(|| mockidp::Error::Config(format!("--claim {c:?}: expected NAME=VALUE")))?;
        let value = serde_json::from_str(v).unwrap_or_else(|_| serde_json::json!(v));
        claims.insert(k.to_string(), value);
    }
    let server = Server::new(config)?;
    let request = mockidp::MintRequest {
        issuer: args.issuer,
        client_id: args.client,
        username: args.user,
        claims,
        ttl_secs: args.ttl,
        scope: args.scope,
        base_url: None,
    };
    let token = server.mint(&request, &args.url)?;
    println!("{token}");
    Ok(())
}

/// `mockidp check`: validates a fixture file.
fn check(file: &std::path::Path) -> Result<(), mockidp::Error> {
    let summary = mockidp::config::check_file(file).map_err(mockidp::Error::Message)?;
    println!("{summary}");
    Ok(())
}

/// `mockidp health`: exit status tells whether the server answers.
fn health(url: &str) -> Result<(), mockidp::Error> {
    let target = format!("{}/_mockidp/health", url.trim_end_matches('/'));
    match mockidp::fetch_status(&target) {
        Ok(200) => Ok(()),
        Ok(status) => Err(mockidp::Error::Config(format!("{target}: HTTP {status}"))),
        Err(e) => Err(mockidp::Error::Config(format!("{target}: {e}"))),
    }
}
