//! `berth`: the tablet side: the shell (`berth shell`, what the tablet
//! runs at boot), installing bundles and documents, status, sync, the
//! audit log, recovery, and (desktop build) the demo.

#[allow(unused_imports)]
use berth::{quiet_print as print, quiet_println as println};

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use berth::device::clock::SystemClock;
use berth::domain::{GroupId, TabletModel};
use berth::install::{DataDir, Outcome};
use berth::sync::BundleSource;
use berth::sync::transport::{FileSource, directory_sources};
use berth::tablet::{DEFAULT_MODEL, DocOutcome, Tablet, TabletOptions};

#[derive(Parser)]
#[command(
    name = "berth",
    version,
    about = "Berth tablet: the shell, and the tools that set a tablet up",
    arg_required_else_help = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where a tablet built into the image keeps its facility root and board.
const IMAGE_ROOT: &str = "/usr/share/berth/root.json";

#[cfg(feature = "staff")]
const ASSETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo");

#[derive(Subcommand)]
enum Command {
    /// Open the tablet shell on a tablet's data directory: what the tablet
    /// runs at boot. It never makes demo data. A directory with no tablet
    /// in it is set up from --trust (the facility root built into the
    /// image) and shows "not set up" until the dock enrols it.
    Shell {
        /// The tablet's data directory.
        #[arg(long)]
        data: PathBuf,
        /// The facility's root.json, for a tablet that has none yet.
        #[arg(long)]
        trust: Option<PathBuf>,
        /// The dock to sync with, e.g. 10.0.2.2:7443.
        #[arg(long, value_name = "ADDR")]
        dock: Option<String>,
        /// The board profile (input devices, rotation, how docking shows).
        #[arg(long, value_name = "FILE")]
        board: Option<PathBuf>,
    },
    /// Verify and install a bundle file, or every *.berth file in a directory.
    Install {
        /// The tablet's data directory.
        #[arg(long)]
        data: PathBuf,
        /// The facility's root.json (required the first time; a newer one rotates the root).
        #[arg(long)]
        trust: Option<PathBuf>,
        /// Groups this tablet belongs to (besides `facility`), e.g. unit:b-east.
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<GroupId>,
        /// This tablet's hardware model.
        #[arg(long, default_value = DEFAULT_MODEL)]
        model: TabletModel,
        /// A bundle file or a directory of them (e.g. a USB stick).
        bundle: PathBuf,
    },
    /// Verify and accept signed rosters and policies (from the dock or a USB stick).
    Accept {
        #[arg(long)]
        data: PathBuf,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Show or check the tablet's audit log.
    Audit {
        #[arg(long)]
        data: PathBuf,
        /// Only this person's entries.
        #[arg(long)]
        person: Option<String>,
        /// Check the hash chain; exit non-zero if it is broken.
        #[arg(long)]
        verify: bool,
        /// Write a signed export of the entries after --since to this file.
        #[arg(long)]
        export: Option<PathBuf>,
        #[arg(long, default_value_t = 0)]
        since: u64,
    },
    /// Set a damaged database aside (kept for inspection) so the tablet can
    /// start clean; the next dock restores people, policies and content.
    Recover {
        #[arg(long)]
        data: PathBuf,
    },
    /// Sync with the dock now: send letters and reports, receive letters,
    /// documents and content.
    Sync {
        #[arg(long)]
        data: PathBuf,
        /// The dock's address, e.g. 127.0.0.1:7443.
        #[arg(long)]
        dock: String,
    },
    /// The tablet's facility, groups, device key, last dock and bundles.
    Status {
        #[arg(long)]
        data: PathBuf,
    },
    /// Run the whole pipeline in a fresh directory: facility, vendor, pack,
    /// approve, install. Safe to run again. With --open, then open the
    /// shell on the demo tablet; with --screenshot, render every page.
    #[cfg(feature = "staff")]
    Demo {
        /// Where the demo keeps its facility, vendor, bundles and tablet.
        #[arg(long, default_value = "berth-demo")]
        dir: PathBuf,
        /// The demo course sources.
        #[arg(long, default_value = ASSETS)]
        assets: PathBuf,
        /// Open the shell on the demo tablet.
        #[arg(long)]
        open: bool,
        /// With --open: the dock to sync with (the tablet counts as docked).
        #[arg(long, value_name = "ADDR", requires = "open")]
        dock: Option<String>,
        /// Instead: render every page without a display (software
        /// renderer) as PNG files into DIR, at a fixed demo time.
        #[arg(long, value_name = "DIR", conflicts_with = "open")]
        screenshot: Option<PathBuf>,
    },
}

/// A data directory with no tablet in it yet, and what it held.
struct Fresh {
    dir: PathBuf,
    existed: bool,
    before: std::collections::BTreeSet<std::ffi::OsString>,
}

impl Fresh {
    fn note(dir: &std::path::Path) -> Option<Fresh> {
        if DataDir::new(dir).db().exists() {
            return None;
        }
        let before = std::fs::read_dir(dir)
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
            .unwrap_or_default();
        Some(Fresh {
            dir: dir.to_path_buf(),
            existed: dir.exists(),
            before,
        })
    }

    /// Remove what opening the tablet made.
    fn restore(self) -> Result<()> {
        if !self.existed {
            return match std::fs::remove_dir_all(&self.dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(e).with_context(|| format!("removing {}", self.dir.display()))
                }
                _ => Ok(()),
            };
        }
        for e in std::fs::read_dir(&self.dir)? {
            let e = e?;
            if self.before.contains(&e.file_name()) {
                continue;
            }
            let p = e.path();
            if e.file_type()?.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            }
            .with_context(|| format!("removing {}", p.display()))?;
        }
        Ok(())
    }
}

/// `status` and `sync` read an existing tablet: on a directory that holds
/// none they say so (and create nothing), rather than ask for a --trust
/// they do not take.
fn never_set_up(data: &std::path::Path) -> Result<()> {
    if !DataDir::new(data).db().exists() {
        bail!(
            "{} holds no tablet: it was never set up, or this is the wrong --data. Nothing was changed. \
             A tablet is set up by its first `berth install --trust root.json --data {} BUNDLE`",
            data.display(),
            data.display()
        );
    }
    Ok(())
}

fn open_tablet(
    data: PathBuf,
    trust: Option<PathBuf>,
    groups: Vec<GroupId>,
    model: TabletModel,
) -> Result<Tablet> {
    let mut opts = TabletOptions {
        trust_file: trust,
        model,
        ..TabletOptions::default()
    };
    opts.groups.extend(groups);
    let (tablet, report) = Tablet::open(DataDir::new(&data), opts, Box::new(SystemClock))
        .with_context(|| format!("opening tablet data directory {}", data.display()))?;
    for p in report.orphans_removed {
        eprintln!(
            "removed leftover from an interrupted install: {}",
            p.display()
        );
    }
    if let Some((from, to)) = report.root_rotated {
        println!("facility root rotated from version {from} to {to}");
    }
    Ok(tablet)
}

/// `berth shell`: the tablet's own data, set up from the image's root the
/// first time.
fn open_shell_tablet(data: &std::path::Path, trust: Option<PathBuf>) -> Result<Tablet> {
    let trust = match trust {
        Some(t) => Some(t),
        None if !DataDir::new(data).db().exists() => {
            let image = PathBuf::from(IMAGE_ROOT);
            if !image.exists() {
                bail!(
                    "{} holds no tablet, and there is no facility root to set one up from. Nothing was changed. \
                     Pass --trust root.json (the image provides {IMAGE_ROOT}), or set it up with \
                     `berth install --trust root.json --data {} BUNDLE`",
                    data.display(),
                    data.display()
                );
            }
            Some(image)
        }
        None => None,
    };
    open_tablet(
        data.to_path_buf(),
        trust,
        vec![],
        TabletModel::parse(DEFAULT_MODEL)?,
    )
}

fn run_shell(
    tablet: Tablet,
    dock: Option<String>,
    board: Option<berth::device::board::Board>,
) -> Result<bool> {
    use berth::device::board::DockSense;
    let board = board.unwrap_or_default();
    let shell = std::rc::Rc::new(
        berth::ui::Shell::new(
            tablet,
            Box::new(berth::device::power::PowerSupply::default()),
        )
        .context(
            "opening the window (no display? `berth demo --screenshot DIR` renders without one)",
        )?,
    );
    if let Some(addr) = &dock {
        shell.set_dock_address(Some(addr.clone()));
        // A desktop has no dock switch: --dock means it sits in the dock;
        // a board says how it knows.
        if cfg!(not(feature = "device")) || board.dock == DockSense::Always {
            shell.set_docked(Some(true));
        }
    }
    #[cfg(feature = "device")]
    berth::ui::input::attach_devices(shell.clone(), board);
    #[cfg(not(feature = "device"))]
    drop(board);
    shell.run().context("running the shell")?;
    Ok(true)
}

#[cfg(feature = "staff")]
fn demo(
    dir: &std::path::Path,
    assets: &std::path::Path,
    open: bool,
    dock: Option<String>,
    screenshot: Option<PathBuf>,
) -> Result<bool> {
    if let Some(out) = screenshot {
        let work = tempfile::tempdir().context("making a scratch directory")?;
        let files = berth::demo::screenshots(work.path(), assets, &out)?;
        for f in files {
            println!("wrote {}", f.display());
        }
        return Ok(true);
    }
    println!("Berth demo in {}", dir.display());
    berth::demo::run(dir, assets, &mut std::io::stdout())?;
    if !open {
        println!("done. Run it again: it finds the bundle already current.");
        return Ok(true);
    }
    let paths = berth::demo::DemoPaths::new(dir);
    let (tablet, _) = Tablet::open(
        DataDir::new(&paths.tablet),
        berth::demo::tablet_options(&paths),
        Box::new(SystemClock),
    )?;
    run_shell(tablet, dock, None)
}

fn run(cli: Cli) -> Result<bool> {
    match cli.command {
        Command::Shell {
            data,
            trust,
            dock,
            board,
        } => {
            let board = board
                .map(|b| berth::device::board::Board::load(&b))
                .transpose()?;
            let tablet = open_shell_tablet(&data, trust)
                .with_context(|| format!("opening the tablet in {}", data.display()))?;
            run_shell(tablet, dock, board)
        }
        Command::Install {
            data,
            trust,
            groups,
            model,
            bundle,
        } => {
            // A first install that is refused leaves the directory as it
            // was: no database, no device key, no trust root.
            let fresh = Fresh::note(&data);
            let mut tablet = match open_tablet(data, trust, groups, model) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: {}", berth::describe_chain(e.chain()));
                    match fresh {
                        Some(fresh) => {
                            fresh.restore()?;
                            eprintln!(
                                "nothing was changed: this tablet had no data before, and has none now"
                            );
                        }
                        None => eprintln!(
                            "nothing was installed, and the tablet keeps the facility root it trusted"
                        ),
                    }
                    return Ok(false);
                }
            };
            let mut sources: Vec<FileSource> = if bundle.is_dir() {
                directory_sources(&bundle)
                    .with_context(|| format!("listing bundles in {}", bundle.display()))?
            } else {
                vec![FileSource::new(bundle)]
            };
            if sources.is_empty() {
                anyhow::bail!("no *.berth files found in that directory");
            }
            let mut ok = true;
            let mut any = false;
            for s in &mut sources {
                let installed = tablet.install(s);
                any |= installed.is_ok();
                match installed {
                    Ok(Outcome::Installed {
                        bundle_id,
                        version,
                        files,
                        bytes,
                        resumed_at_chunk,
                        ..
                    }) => {
                        let resumed = if resumed_at_chunk > 0 {
                            format!(", resumed at chunk {resumed_at_chunk}")
                        } else {
                            String::new()
                        };
                        println!(
                            "installed {bundle_id} version {version}: {files} files, {bytes} bytes{resumed}"
                        );
                    }
                    Ok(Outcome::AlreadyCurrent { bundle_id, version }) => {
                        println!("{bundle_id} version {version} is already current");
                    }
                    Err(e) => {
                        ok = false;
                        eprintln!("refused {}: {e}", s.describe());
                        eprintln!(
                            "{}",
                            if e.resumable() {
                                "nothing was installed; the refusal is in the audit log, and \
                                 what was verified is kept so the next try resumes"
                            } else {
                                "nothing was installed; the refusal is in the audit log"
                            }
                        );
                    }
                }
            }
            if !any && let Some(fresh) = fresh {
                drop(tablet);
                fresh.restore()?;
                eprintln!(
                    "this tablet had no data before, and has none now: it is not tied to the \
                     facility until a bundle installs"
                );
            }
            Ok(ok)
        }
        Command::Accept { data, files } => {
            let mut tablet = open_tablet(data, None, vec![], TabletModel::parse(DEFAULT_MODEL)?)?;
            let mut ok = true;
            for f in files {
                let bytes = match std::fs::read(&f) {
                    Ok(b) => b,
                    Err(e) => {
                        eprintln!("refused {}: {e}", f.display());
                        ok = false;
                        continue;
                    }
                };
                match tablet.people().accept_document(&bytes) {
                    Ok(DocOutcome::Accepted {
                        kind,
                        scope,
                        version,
                    }) => println!("accepted {kind} for {scope} version {version}"),
                    Ok(DocOutcome::AlreadyCurrent {
                        kind,
                        scope,
                        version,
                    }) => println!("{kind} for {scope} version {version} is already current"),
                    Err(e) => {
                        ok = false;
                        eprintln!(
                            "refused {}: {}",
                            f.display(),
                            berth::describe_chain(std::iter::once(
                                &e as &(dyn std::error::Error + 'static)
                            ))
                        );
                    }
                }
            }
            Ok(ok)
        }
        Command::Audit {
            data,
            person,
            verify,
            export,
            since,
        } => {
            let mut tablet = open_tablet(data, None, vec![], TabletModel::parse(DEFAULT_MODEL)?)?;
            if verify {
                match tablet.people().verify_audit()? {
                    Ok(n) => println!("audit log intact: {n} entries"),
                    Err(b) => {
                        eprintln!("audit log BROKEN: {b}");
                        return Ok(false);
                    }
                }
            }
            if let Some(out) = export {
                berth::bundle::write_atomic(&out, &tablet.people().export_audit(since)?)?;
                println!("wrote signed audit export to {}", out.display());
            }
            if !verify {
                let entries = tablet.people().audit_log(person.as_deref())?;
                for e in entries {
                    println!(
                        "{:>5} {} {:<16} {:<10} {}",
                        e.seq,
                        e.at.format("%Y-%m-%d %H:%M:%S"),
                        e.kind,
                        e.person.as_deref().unwrap_or("-"),
                        e.detail
                    );
                }
            }
            Ok(true)
        }
        Command::Recover { data } => {
            let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
            let db = DataDir::new(&data).db();
            if !db.exists() {
                anyhow::bail!("{} holds no database; nothing to recover", data.display());
            }
            for suffix in ["", "-wal", "-shm", "-damaged"] {
                let from = PathBuf::from(format!("{}{suffix}", db.display()));
                if from.exists() {
                    let to = PathBuf::from(format!("{}.damaged-{stamp}{suffix}", db.display()));
                    std::fs::rename(&from, &to)
                        .with_context(|| format!("moving {}", from.display()))?;
                    println!("set aside {} as {}", from.display(), to.display());
                }
            }
            println!(
                "the tablet starts clean at its next start; dock it to restore its documents and content"
            );
            Ok(true)
        }
        Command::Status { data } => {
            never_set_up(&data)?;
            let mut tablet = open_tablet(data, None, vec![], TabletModel::parse(DEFAULT_MODEL)?)?;
            let root = tablet.root().doc().clone();
            println!("facility {} (root version {})", root.facility, root.version);
            println!(
                "groups: {}",
                tablet
                    .groups()
                    .iter()
                    .map(|g| g.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            println!("device key: {}", tablet.device_public_key());
            println!(
                "last dock: {}",
                tablet
                    .sync()
                    .last_dock()?
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| "never".into())
            );
            println!("people: {}", tablet.people().roster()?.len());
            for b in tablet.installed()? {
                println!(
                    "{} version {} [{}] from {}: {} files, {} bytes, manifest {}",
                    b.bundle_id,
                    b.version,
                    b.content_type,
                    b.vendor,
                    b.file_count,
                    b.total_size,
                    b.manifest_sha256
                );
            }
            Ok(true)
        }
        Command::Sync { data, dock } => {
            never_set_up(&data)?;
            let tablet = open_tablet(data, None, vec![], TabletModel::parse(DEFAULT_MODEL)?)?;
            let (_, result) = berth::sync::client::sync_owned(tablet, &dock);
            let s = result?;
            println!(
                "synced with {dock}: {} letter(s) sent, {} feed entries, {} document(s), {} bundle(s) installed",
                s.letters_sent, s.entries_applied, s.documents_accepted, s.bundles_installed
            );
            for d in &s.documents_refused {
                eprintln!("refused a document: {d}");
            }
            for b in &s.bundles_refused {
                eprintln!("refused a bundle: {b}");
            }
            if s.entries_refused > 0 {
                eprintln!(
                    "refused {} feed entr(ies) that did not verify; see `berth audit`",
                    s.entries_refused
                );
            }
            Ok(s.documents_refused.is_empty()
                && s.bundles_refused.is_empty()
                && s.entries_refused == 0)
        }
        #[cfg(feature = "staff")]
        #[cfg(feature = "staff")]
        Command::Demo {
            dir,
            assets,
            open,
            dock,
            screenshot,
        } => demo(&dir, &assets, open, dock, screenshot),
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BERTH_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .init();
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {}", berth::describe_chain(e.chain()));
            ExitCode::FAILURE
        }
    }
}
