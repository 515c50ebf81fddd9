//! `berth-dock`: the facility dock server. One process, an embedded SQLite
//! database, no other service to start.

#[allow(unused_imports)]
use berth::{quiet_print as print, quiet_println as println};

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "berth-dock",
    version,
    about = "The facility dock: tablets sync here, staff review here, mail leaves here"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make a new dock database in DATA for the facility in DIR. Run once;
    /// `serve` never makes one, so a wrong path cannot start an empty dock.
    Init {
        /// The facility directory (root.json and the dock and messaging keys).
        #[arg(long)]
        dir: PathBuf,
        /// The dock's data directory (created if missing).
        #[arg(long)]
        data: PathBuf,
    },
    /// Serve tablets and vendors over TLS until stopped.
    Serve {
        /// The facility directory (root.json and the dock and messaging keys).
        #[arg(long)]
        dir: PathBuf,
        /// The dock's data directory, made by `berth-dock init`.
        #[arg(long)]
        data: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "0.0.0.0:7443")]
        listen: String,
    },
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init { dir, data } => {
            let dock = berth::dock::Dock::init(&dir, &data)
                .with_context(|| format!("making a dock in {}", data.display()))?;
            println!(
                "made a new dock in {} for facility {} (dock key {}); start it with `berth-dock serve --dir {} --data {}`",
                data.display(),
                dock.facility(),
                dock.public_key(),
                dir.display(),
                data.display()
            );
        }
        Command::Serve { dir, data, listen } => {
            let dock = berth::dock::Dock::open(&dir, &data)
                .with_context(|| format!("opening the dock in {}", data.display()))?;
            dock.check_integrity()?;
            let running = berth::dock::server::start(&dock, &listen, true)?;
            println!(
                "dock {} listening on {} (data in {}); mail: {}/gateway",
                dock.public_key(),
                running.addr,
                data.display(),
                data.display()
            );
            running.wait();
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BERTH_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", berth::describe_chain(e.chain()));
            ExitCode::FAILURE
        }
    }
}
