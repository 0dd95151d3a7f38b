//! `pacta serve`: run the service on a data directory.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use pacta_server::auth::Tokens;
use pacta_server::config::{parse_proxy, IpNet};
use pacta_server::{Config, DataDir, Server, SystemClock};

use super::EXIT_OK;

/// Serve the HTTP API, the log (checkpoint, tiles, proofs) and the dashboard from DIR.
///
/// DIR holds `agreement/` (a copy of the agreement), `log/` (the transparency log, the
/// source of truth), `log.key.json` (the log signing key, mode 0600) and `pacta.sqlite3`
/// (the store, rebuilt from the log when behind). `--init` creates DIR from `--agreement`.
///
/// Configuration, highest precedence first: flags; environment variables (`PACTA_DATA`,
/// `PACTA_LISTEN`, `PACTA_CLOCK_SKEW_SECONDS`, `PACTA_CHECKPOINT_INTERVAL_MS`,
/// `PACTA_ASSESSMENT_INTERVAL_SECONDS`, `PACTA_TOKENS_FILE`, `PACTA_WRITE_RATE_PER_SECOND`,
/// `PACTA_WRITE_BURST`, `PACTA_TRUSTED_PROXIES`, `PACTA_CONFIG`); a TOML file given by
/// `--config` with the keys `data`, `listen`, `clock_skew_seconds`, `checkpoint_interval_ms`,
/// `assessment_interval_seconds`, `tokens_file`, `write_rate_per_second`, `write_burst`,
/// `trusted_proxies` (a list of strings) and `derived_interval_ms` (least milliseconds
/// between refreshes of the store's incidents, findings and obligations, default 1000; a
/// refresh also waits four times as long as the last one took, so that refreshing a large
/// log never takes more than a fifth of a core from ingest); the defaults shown.
///
/// Limits (fixed): request body 16 MiB, batch 10,000 lines, entry 64 KiB (413 beyond).
///
/// Write guard (reads stay public): with `--tokens-file` (`PACTA_TOKENS_FILE`, key
/// `tokens_file`) every write needs `Authorization: Bearer <secret>` of a token listed in
/// that TOML file with the endpoint's role (reports and retractions: monitor; actions:
/// guarantor; objections: party; rulings: panel); 401 without a known token, 403 for a token
/// without the role. The file holds each secret's SHA-256, never the secret: make one with
/// `pacta token new`. Writes are rate-limited per client address (`--write-rate-per-second`,
/// `--write-burst`, keys `write_rate_per_second` and `write_burst`; 0 disables); over the
/// limit → 429 with `Retry-After`. Behind a reverse proxy, name it with `--trusted-proxy`
/// so that each client it forwards (`X-Forwarded-For`) has its own limit. See
/// docs/server-security.md.
///
/// Exit codes: 0 stopped cleanly (Ctrl-C or SIGTERM); 2 the directory, agreement, log,
/// tokens file or address could not be opened or read (the server refuses to start on a log
/// that disagrees with its last checkpoint, or on a directory another server holds).
#[derive(clap::Args)]
pub struct Args {
    /// The data directory.
    #[arg(long, value_name = "DIR", env = "PACTA_DATA")]
    data: Option<PathBuf>,
    /// Create DIR from this agreement directory (with --init).
    #[arg(long, value_name = "PATH", env = "PACTA_AGREEMENT")]
    agreement: Option<PathBuf>,
    /// Create the data directory first (from --agreement), then serve.
    #[arg(long)]
    init: bool,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR", env = "PACTA_LISTEN")]
    listen: Option<SocketAddr>,
    /// A TOML configuration file.
    #[arg(long, value_name = "FILE", env = "PACTA_CONFIG")]
    config: Option<PathBuf>,
    /// Seconds a `submitted_at` may be ahead of the server's clock [default: 300].
    #[arg(long, value_name = "SECONDS", env = "PACTA_CLOCK_SKEW_SECONDS")]
    clock_skew_seconds: Option<i64>,
    /// Milliseconds between signed checkpoints [default: 1000].
    #[arg(long, value_name = "MS", env = "PACTA_CHECKPOINT_INTERVAL_MS")]
    checkpoint_interval_ms: Option<u64>,
    /// Seconds between assessment digests appended to the log [default: 60].
    #[arg(
        long,
        value_name = "SECONDS",
        env = "PACTA_ASSESSMENT_INTERVAL_SECONDS"
    )]
    assessment_interval_seconds: Option<u64>,
    /// TOML file of role-scoped bearer tokens; when given, writes need a token [default: none,
    /// writes need only their signature].
    #[arg(long, value_name = "FILE", env = "PACTA_TOKENS_FILE")]
    tokens_file: Option<PathBuf>,
    /// Sustained write requests per second from one client address; 0 disables the limit
    /// [default: 200].
    #[arg(long, value_name = "N", env = "PACTA_WRITE_RATE_PER_SECOND")]
    write_rate_per_second: Option<u32>,
    /// Write requests one client address may send at once before the rate applies
    /// [default: 400].
    #[arg(long, value_name = "N", env = "PACTA_WRITE_BURST")]
    write_burst: Option<u32>,
    /// A reverse proxy (address or CIDR range) trusted to name the client in
    /// `X-Forwarded-For`, for the rate limits; repeat for several (the environment variable
    /// takes a comma-separated list) [default: none, the header is ignored].
    #[arg(
        long = "trusted-proxy",
        value_name = "ADDR|CIDR",
        env = "PACTA_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = parse_proxy
    )]
    trusted_proxies: Vec<IpNet>,
}

/// Merges the configuration file (if any) and the flags and environment over the defaults.
fn config(args: &Args) -> anyhow::Result<Config> {
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read config file {}", path.display()))?;
            Config::from_toml(&text)
                .with_context(|| format!("config file {} is invalid", path.display()))?
        }
        None => Config::default(),
    };
    let from_file = args.config.is_some();
    match &args.data {
        Some(data) => config.data = data.clone(),
        None if from_file => {}
        None => anyhow::bail!("give the data directory: --data DIR (or PACTA_DATA)"),
    }
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(skew) = args.clock_skew_seconds {
        config.clock_skew_seconds = skew;
    }
    if let Some(ms) = args.checkpoint_interval_ms {
        config.checkpoint_interval_ms = ms;
    }
    if let Some(seconds) = args.assessment_interval_seconds {
        config.assessment_interval_seconds = seconds;
    }
    if let Some(path) = &args.tokens_file {
        config.tokens_file = Some(path.clone());
    }
    if let Some(rate) = args.write_rate_per_second {
        config.write_rate_per_second = rate;
    }
    if let Some(burst) = args.write_burst {
        config.write_burst = burst;
    }
    if !args.trusted_proxies.is_empty() {
        config.trusted_proxies = args.trusted_proxies.clone();
    }
    // Read before anything starts, so a bad file is reported before "listening".
    if let Some(path) = &config.tokens_file {
        let tokens = Tokens::load(path)?;
        if tokens.is_empty() {
            eprintln!(
                "warning: {} lists no token; every write will be refused",
                path.display()
            );
        }
    }
    Ok(config)
}

fn init(data: &Path, agreement: Option<&Path>) -> anyhow::Result<()> {
    let agreement = agreement.context("--init needs --agreement PATH (an agreement directory)")?;
    DataDir::create(data, agreement)
        .with_context(|| format!("cannot create the data directory {}", data.display()))?;
    eprintln!(
        "created {} from {} (log key in {})",
        data.display(),
        agreement.display(),
        DataDir::at(data).key_path().display()
    );
    Ok(())
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = config(&args)?;
    if args.init {
        init(&config.data, args.agreement.as_deref())?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let data = config.data.clone();
        let server = Server::start(config, Arc::new(SystemClock))
            .await
            .with_context(|| format!("cannot start on {}", data.display()))?;
        let address = server.local_addr()?;
        eprintln!(
            "pacta serve: listening on http://{address}/ (data {})",
            data.display()
        );
        server.serve(shutdown_signal()).await?;
        eprintln!("pacta serve: stopped");
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(EXIT_OK)
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
