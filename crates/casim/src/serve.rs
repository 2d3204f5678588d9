//! `casim serve`: options, fleet loading, start-up banner and shutdown.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use casim_fleet::FleetSpec;
use casim_fleet::Retention;
use casim_model::{ErrorEra, Timestamp};
use casim_server::{AccessKeys, ClockMode, DEFAULT_PORT, ServerConfig};
use clap::{Args, ValueEnum};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port to listen on; 0 picks a free one (the bound address is printed).
    #[arg(long, default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Address to listen on. Only loopback is safe: the mock has no access control.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,
    /// Fleet file (TOML, or JSON when it ends in .json). Without it, a small
    /// built-in fleet of Linux instances in cn-hangzhou.
    #[arg(long, value_name = "FILE")]
    fleet: Option<PathBuf>,
    /// Master seed for every random choice (delays, ids).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// `wall`: virtual time follows the wall clock; `manual`: time stands
    /// still until POST /_casim/clock/advance.
    #[arg(long, value_enum, default_value_t = ClockArg::Wall)]
    clock: ClockArg,
    /// Virtual seconds per real second, with `--clock wall`.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Virtual start time, e.g. 2020-09-11T08:30:55Z (default: now).
    #[arg(long, value_name = "TIME")]
    start: Option<String>,
    /// HTTP statuses of the codes the documentation moved from 403 to 400.
    #[arg(long, value_enum, default_value_t = EraArg::Seed)]
    error_era: EraArg,
    /// Require signed requests: `ID:SECRET[,ID:SECRET…]`. Also read from the
    /// CASIM_ACCESS_KEYS environment variable. Without keys, signatures are
    /// not checked.
    #[arg(
        long,
        value_name = "ID:SECRET",
        env = "CASIM_ACCESS_KEYS",
        hide_env_values = true
    )]
    access_keys: Option<String>,
    /// Require signed requests with the keys in FILE (one `ID:SECRET` a line).
    #[arg(long, value_name = "FILE")]
    access_key_file: Option<PathBuf>,
    /// Forget records older than this many hours (default: two weeks).
    #[arg(long, default_value_t = 14 * 24)]
    retention_hours: u64,
    /// Keep at most this many records; the oldest go first.
    #[arg(long, default_value_t = 100_000)]
    max_records: usize,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ClockArg {
    Wall,
    Manual,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum EraArg {
    /// 403, as the seed documentation says.
    Seed,
    /// 400, as the current documentation says.
    Current,
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    let config = config(&args)?;

    if !args.bind.is_loopback() {
        eprintln!(
            "casim: warning: listening on {}, beyond this machine; the mock has no access \
             control, and its control API can change everything (use 127.0.0.1 unless you mean it)",
            args.bind
        );
    }
    let server = casim_server::start(config.clone()).await?;
    println!("casim listening on http://{}", server.addr());
    for instance in &config.fleet.instances {
        println!(
            "  instance {} ({}, {}, {:?})",
            instance.id,
            instance.region,
            instance.os.as_str().to_ascii_lowercase(),
            instance.state
        );
    }
    println!(
        "control API: http://{}/_casim/  (Ctrl-C stops)",
        server.addr()
    );

    shutdown_signal().await;
    eprintln!("casim: shutting down");
    if tokio::time::timeout(Duration::from_secs(5), server.shutdown())
        .await
        .is_err()
    {
        eprintln!("casim: requests still running after 5 s; stopping anyway");
    }
    Ok(ExitCode::SUCCESS)
}

fn config(args: &ServeArgs) -> anyhow::Result<ServerConfig> {
    if !(args.speed.is_finite() && args.speed > 0.0) {
        anyhow::bail!("--speed must be a positive number, got {}", args.speed);
    }
    let fleet = match &args.fleet {
        Some(path) => load_fleet(path)?,
        None => casim_server::demo::fleet(),
    };
    let start_time = match &args.start {
        Some(text) => Timestamp::parse(text).context("--start")?,
        None => casim_server::signature::wall_now(),
    };
    Ok(ServerConfig {
        bind: SocketAddr::new(args.bind, args.port),
        fleet,
        seed: args.seed,
        start_time,
        clock: match args.clock {
            ClockArg::Wall => ClockMode::Wall { speed: args.speed },
            ClockArg::Manual => ClockMode::Manual,
        },
        error_era: match args.error_era {
            EraArg::Seed => ErrorEra::Seed,
            EraArg::Current => ErrorEra::Current,
        },
        access_keys: access_keys(args)?,
        retention: Retention {
            max_age_ms: args.retention_hours.saturating_mul(3_600_000),
            max_records: args.max_records,
        },
    })
}

/// The keys from `--access-keys` and `--access-key-file`, if any; errors
/// name the flag, never the secret.
fn access_keys(args: &ServeArgs) -> anyhow::Result<Option<AccessKeys>> {
    let mut keys = AccessKeys::new();
    if let Some(text) = &args.access_keys {
        keys.extend(AccessKeys::parse(text).context("--access-keys")?);
    }
    if let Some(path) = &args.access_key_file {
        keys.extend(AccessKeys::from_file(path).context("--access-key-file")?);
    }
    Ok((!keys.is_empty()).then_some(keys))
}

/// Reads a fleet file; JSON by extension, TOML otherwise.
pub fn load_fleet(path: &Path) -> anyhow::Result<FleetSpec> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read fleet file {}", path.display()))?;
    let fleet = if path.extension().is_some_and(|ext| ext == "json") {
        serde_json::from_str(&text)
            .with_context(|| format!("invalid fleet file {}", path.display()))?
    } else {
        toml::from_str(&text).with_context(|| format!("invalid fleet file {}", path.display()))?
    };
    Ok(fleet)
}

fn init_logging() {
    // One line per request, and the simulator's decisions (logged at DEBUG
    // under `casim::decision`) so a person at an SDK prompt sees why a
    // task ended as it did. RUST_LOG overrides both.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,casim::decision=debug"));
    // Colour only for a person at a terminal, never into a file or pipe.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
}

async fn shutdown_signal() {
    let ctrl_c = async {
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
        () = ctrl_c => {}
        () = terminate => {}
    }
}
