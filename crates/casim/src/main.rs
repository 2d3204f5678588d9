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
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("casim: {error:#}");
            ExitCode::from(2)
        }
    }
}
