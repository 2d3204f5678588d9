//! `casim`: serve the mock ECS endpoint, or replay scenarios against it.
//!
//! `main` reads top-down: parse the command line, run the one function for
//! the chosen command, and exit with its code.

mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A local, deterministic stand-in for Alibaba Cloud ECS Cloud Assistant
/// file sending (SendFile, DescribeSendFileResults).
#[derive(Debug, Parser)]
#[command(name = "casim", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the ECS RPC endpoint on 127.0.0.1 for SDKs, the CLI or curl.
    Serve(serve::ServeArgs),
    /// Replay scenarios (names in scenarios/ or paths; all of them when none
    /// is given) and report what happened. Exit 1 when an expectation fails.
    Run {
        /// Scenario names (`seed-sample`) or paths (`scenarios/seed-sample.toml`).
        targets: Vec<String>,
        /// Also print the raw DescribeSendFileResults bodies in this format.
        #[arg(long, value_name = "json|xml", value_parser = casim_scenario::parse_format)]
        raw: Option<casim_model::Format>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("casim: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    let outcome = match cli.command {
        Command::Serve(args) => runtime.block_on(serve::serve(args)),
        Command::Run { targets, raw } => {
            let args = casim_scenario::RunArgs {
                targets,
                raw,
                ..Default::default()
            };
            runtime
                .block_on(casim_scenario::run_cli(&args))
                .map_err(anyhow::Error::from)
        }
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("casim: {error:#}");
            ExitCode::from(2)
        }
    }
}
