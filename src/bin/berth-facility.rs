//! `berth-facility`: facility IT's keys, delegations and approvals.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::{Duration, Utc};
use clap::{Parser, Subcommand};

use berth::domain::time::parse_expiry_date;
use berth::domain::{ContentType, FacilityId, GroupId, VendorId};
use berth::facility::{Facility, read_public_key, write_atomic};

#[derive(Parser)]
#[command(
    name = "berth-facility",
    version,
    about = "Facility keys, vendor delegations and bundle approvals"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a facility: root keys (2 of 3), role keys, and root.json.
    Init {
        #[arg(long)]
        dir: PathBuf,
        /// Facility id (lowercase letters, digits, -).
        #[arg(long, default_value = "facility")]
        facility: FacilityId,
        /// Root expiry (YYYY-MM-DD); default one year from today.
        #[arg(long)]
        expires: Option<String>,
    },
    /// Delegate content types and a size limit to a vendor's key.
    Delegate {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        vendor: VendorId,
        /// File with the vendor's public key (from `berth-vendor keygen`).
        #[arg(long)]
        pubkey: PathBuf,
        /// Comma-separated: education, books, music.
        #[arg(long, value_delimiter = ',', required = true)]
        types: Vec<ContentType>,
        /// Largest payload the vendor may publish, in bytes.
        #[arg(long)]
        max_bytes: u64,
        /// Last day of the delegation (YYYY-MM-DD).
        #[arg(long)]
        expires: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify a vendor bundle completely and add this facility's approval.
    Approve {
        #[arg(long)]
        dir: PathBuf,
        /// Comma-separated groups: facility, unit:NAME, person:ID.
        #[arg(long, value_delimiter = ',', required = true)]
        groups: Vec<GroupId>,
        bundle: PathBuf,
        #[arg(short = 'o', long = "out")]
        out: PathBuf,
    },
    /// Verify a bundle: signatures, delegation scope, every payload chunk, approvals.
    Verify {
        #[arg(long)]
        dir: PathBuf,
        bundle: PathBuf,
    },
    /// Sign the roster of people enrolled on a group's tablets.
    Roster {
        #[command(subcommand)]
        command: RosterCommand,
    },
    /// Sign a person's approved contacts.
    Contacts {
        #[command(subcommand)]
        command: RosterCommand,
    },
    /// Sign and explain policies.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Replace the root keys with new ones (root N+1 signed by old and new).
    RotateRoot {
        #[arg(long)]
        dir: PathBuf,
        /// New root expiry (YYYY-MM-DD); default one year from today.
        #[arg(long)]
        expires: Option<String>,
    },
}

#[derive(Subcommand)]
enum RosterCommand {
    /// Sign a TOML file (see assets/examples/).
    Sign {
        file: PathBuf,
        #[arg(long)]
        dir: PathBuf,
        #[arg(short = 'o', long = "out")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Sign a policy TOML file (see assets/examples/policy.toml).
    Sign {
        file: PathBuf,
        #[arg(long)]
        dir: PathBuf,
        #[arg(short = 'o', long = "out")]
        out: PathBuf,
    },
    /// Show what a signed policy decides for a person at a time, and why.
    Explain {
        #[arg(long)]
        dir: PathBuf,
        /// The signed policy file.
        policy: PathBuf,
        #[arg(long)]
        person: berth::domain::people::PersonId,
        /// When, as RFC 3339 (e.g. 2026-06-03T23:00:00-05:00).
        #[arg(long)]
        at: String,
    },
}

fn explain(
    f: &Facility,
    policy: &std::path::Path,
    person: &berth::domain::people::PersonId,
    at: &str,
) -> Result<()> {
    use berth::domain::policy::{Usage, decide, effective};
    let at = chrono::DateTime::parse_from_rfc3339(at)
        .with_context(|| {
            format!("--at {at:?} is not an RFC 3339 time such as 2026-06-03T23:00:00-05:00")
        })?
        .with_timezone(&Utc);
    let p = f.read_policy(policy)?;
    let e = effective(&[&p]);
    let scope = p.scope.as_str();
    println!(
        "policy version {} for scope {scope}, time zone {}",
        p.version, e.tz
    );
    if scope.starts_with("person:") && p.scope != person.group() {
        println!(
            "note: this policy is for {scope}, so it does not apply to {person}; showing it anyway"
        );
    }
    let d = decide(&e, &Usage::default(), at);
    let local = |t: chrono::DateTime<Utc>| {
        t.with_timezone(&e.tz)
            .format("%a %Y-%m-%d %H:%M %Z")
            .to_string()
    };
    println!("at {} for {person} (no time used today):", local(at));
    println!("decision: {d}");
    let allowed: Vec<String> = d
        .allowed
        .iter()
        .map(|f| format!("{f:?}").to_lowercase())
        .collect();
    println!(
        "allowed: {}",
        if allowed.is_empty() {
            "nothing".to_string()
        } else {
            allowed.join(", ")
        }
    );
    println!(
        "free content (public domain): {}",
        if d.free_content { "open" } else { "closed" }
    );
    if let Some(m) = d.remaining_minutes {
        println!("session minutes left: {m}");
    }
    println!("messages left today: {}", d.messages_left_today);
    match d.next_change {
        Some(t) => println!("next change: {}", local(t)),
        None => println!("next change: none scheduled"),
    }
    Ok(())
}

/// Write a signed document and say what it was.
fn write_signed(out: &std::path::Path, env: &[u8], what: &str) -> Result<()> {
    write_atomic(out, env).with_context(|| format!("writing {}", out.display()))?;
    println!("signed {what}; wrote {}", out.display());
    Ok(())
}

fn expiry(arg: Option<String>) -> Result<chrono::DateTime<Utc>> {
    Ok(match arg {
        Some(s) => parse_expiry_date(&s)?,
        None => Utc::now() + Duration::days(365),
    })
}

fn run(cli: Cli) -> Result<()> {
    let now = Utc::now();
    match cli.command {
        Command::Init {
            dir,
            facility,
            expires,
        } => {
            let f = Facility::init(&dir, facility, expiry(expires)?)?;
            let doc = f.root().doc();
            println!("created facility {} in {}", doc.facility, dir.display());
            println!(
                "root version 1, {} of {} root keys, expires {}",
                doc.roles.root.threshold,
                doc.roles.root.keys.len(),
                doc.expires.to_rfc3339()
            );
            println!("give tablets {}", Facility::root_path(&dir).display());
        }
        Command::Delegate {
            dir,
            vendor,
            pubkey,
            types,
            max_bytes,
            expires,
            out,
        } => {
            let f = Facility::open(&dir)?;
            let key = read_public_key(&pubkey)?;
            let env = f.delegate(
                vendor.clone(),
                key,
                types.clone(),
                max_bytes,
                parse_expiry_date(&expires)?,
                now,
            )?;
            write_atomic(&out, &env).with_context(|| format!("writing {}", out.display()))?;
            println!(
                "delegated [{}] up to {max_bytes} bytes to vendor {vendor} key {key} until {expires}; wrote {}",
                types
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                out.display()
            );
        }
        Command::Approve {
            dir,
            groups,
            bundle,
            out,
        } => {
            let f = Facility::open(&dir)?;
            let a = f.approve(&bundle, groups, &out, now)?;
            println!(
                "approved {} version {} (manifest {}) for [{}]; wrote {}",
                a.bundle_id,
                a.version,
                a.manifest_sha256,
                a.groups
                    .iter()
                    .map(|g| g.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                out.display()
            );
        }
        Command::Verify { dir, bundle } => {
            let f = Facility::open(&dir)?;
            let r = f.verify(&bundle, now)?;
            println!(
                "{} version {} from vendor {}: signatures, scope and all {} chunks verified",
                r.manifest.bundle_id,
                r.manifest.version,
                r.delegation.vendor,
                r.manifest.chunks.len()
            );
            println!("manifest sha256 {}", r.manifest_sha256);
            if r.approvals.is_empty() {
                println!("not approved yet");
            }
            for a in r.approvals {
                match a {
                    Ok(a) => println!(
                        "approved for [{}] at {}",
                        a.groups
                            .iter()
                            .map(|g| g.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        a.approved_at.to_rfc3339()
                    ),
                    Err(e) => println!("invalid approval: {e}"),
                }
            }
        }
        Command::Contacts {
            command: RosterCommand::Sign { file, dir, out },
        } => {
            let (env, d) = Facility::open(&dir)?.sign_contacts(&file, now)?;
            let what = format!(
                "contact list version {} for {}: {} contacts",
                d.version,
                d.person,
                d.contacts.len()
            );
            write_signed(&out, &env, &what)?;
        }
        Command::Roster {
            command: RosterCommand::Sign { file, dir, out },
        } => {
            let (env, d) = Facility::open(&dir)?.sign_roster(&file, now)?;
            let what = format!(
                "roster version {} for {}: {} people",
                d.version,
                d.group,
                d.people.len()
            );
            write_signed(&out, &env, &what)?;
        }
        Command::Policy {
            command: PolicyCommand::Sign { file, dir, out },
        } => {
            let (env, d) = Facility::open(&dir)?.sign_policy(&file, now)?;
            write_signed(
                &out,
                &env,
                &format!("policy version {} for {}", d.version, d.scope),
            )?;
        }
        Command::Policy {
            command:
                PolicyCommand::Explain {
                    dir,
                    policy,
                    person,
                    at,
                },
        } => {
            explain(&Facility::open(&dir)?, &policy, &person, &at)?;
        }
        Command::RotateRoot { dir, expires } => {
            let mut f = Facility::open(&dir)?;
            let (old, new) = f.rotate_root(expiry(expires)?)?;
            println!(
                "rotated root from version {old} to {new}; new root keys are in {}/keys, old ones in keys/retired/v{old}",
                dir.display()
            );
            println!(
                "tablets accept it at their next install or sync with --trust {}",
                Facility::root_path(&dir).display()
            );
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", berth::describe_chain(e.chain()));
            ExitCode::FAILURE
        }
    }
}
