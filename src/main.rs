//! The `mockidp` binary: parse flags, set up logging, serve.

mod cli;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use mockidp::{Clock, Engine};

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = match cli.command {
        Some(cli::Command::Serve(args)) => args,
        None => cli.serve,
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mockidp: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: cli::ServeArgs) -> Result<(), mockidp::Error> {
    let config = args.load_config()?;
    let source = args
        .config
        .as_ref()
        .map_or("built-in fixtures/default.toml".to_string(), |p| {
            p.display().to_string()
        });
    let engine = Arc::new(Engine::new(config, Clock::default())?);
    let workers = args
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let banner_engine = engine.clone();
    actix_web::rt::System::new().block_on(mockidp::serve(
        engine,
        args.addr(),
        workers,
        move |addr| print_banner(&banner_engine, addr, &source),
    ))
}

/// Start-up summary on stdout: every issuer's URL, token endpoint and sample clients, then
/// `ready`. Secrets are not printed: they are in the fixture file.
fn print_banner(engine: &Engine, addr: SocketAddr, source: &str) {
    let host = if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    };
    let base = format!("http://{host}");
    let mut out = format!(
        "mockidp {} listening on {base} (fixtures: {source}, key id {})\n",
        env!("CARGO_PKG_VERSION"),
        engine.keys().current.kid
    );
    out.push_str(&mockidp::banner(engine, &base));
    out.push_str("ready\n");
    print!("{out}");
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
}
