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
        /// Address the tablets and vendors connect to.
        #[arg(long, default_value = "0.0.0.0:7443")]
        listen: String,
        /// Address of the staff console (HTTPS, for browsers on the
        /// facility LAN). Its certificate is DATA/console/cert.pem: a
        /// self-signed one is made on the first start; put the facility's
        /// own certificate and key there instead to use its CA.
        #[arg(long, default_value = "0.0.0.0:8443")]
        console_listen: String,
        /// Host names and addresses the self-signed certificate names
        /// (repeat the option); by default this machine's host name and
        /// localhost.
        #[arg(long = "console-name", value_name = "NAME")]
        console_names: Vec<String>,
        /// Minutes a staff session may sit unused before it ends.
        #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u32).range(1..=480))]
        console_idle: u32,
        /// Serve only the tablets, with no staff console.
        #[arg(long)]
        no_console: bool,
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
        Command::Serve {
            dir,
            data,
            listen,
            console_listen,
            console_names,
            console_idle,
            no_console,
        } => {
            let dock = berth::dock::Dock::open(&dir, &data)
                .with_context(|| format!("opening the dock in {}", data.display()))?;
            dock.check_integrity()?;
            let running = berth::dock::server::start(&dock, &listen, true)?;
            let console = if no_console {
                None
            } else {
                let mut config = berth::console::ConsoleConfig::for_data(&data, &console_listen);
                config.idle = chrono::Duration::minutes(i64::from(console_idle));
                let names = if console_names.is_empty() {
                    default_names()
                } else {
                    console_names
                };
                let fingerprint = berth::console::ensure_certificate(&config, &names)
                    .context("preparing the staff console's certificate")?;
                let console = berth::console::start(&dock, &config)?;
                Some((console, config.cert, fingerprint))
            };
            // Both lines at once, once both listeners are up. A dock whose
            // stdout was closed (its starter read the address and left) goes
            // on serving: these lines are news, not work.
            let mut news = format!(
                "dock {} listening on {} (data in {}); mail: {}/gateway\n",
                dock.public_key(),
                running.addr,
                data.display(),
                data.display()
            );
            if let Some((console, cert, fingerprint)) = &console {
                news += &format!(
                    "staff console on https://{} (certificate {}, SHA-256 {}); the first IT admin comes from `berth-facility staff add`\n",
                    console.addr,
                    cert.display(),
                    fingerprint
                );
            }
            {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(news.as_bytes()).and_then(|()| out.flush());
            }
            running.wait();
            drop(console);
        }
    }
    Ok(())
}

/// The names a self-signed console certificate carries by default.
fn default_names() -> Vec<String> {
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    if let Ok(h) = std::fs::read_to_string("/etc/hostname") {
        let h = h.trim();
        if !h.is_empty() && !names.iter().any(|n| n == h) {
            names.push(h.to_string());
        }
    }
    names
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
