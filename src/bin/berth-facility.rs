//! `berth-facility`: facility IT's keys, delegations and approvals.

#[allow(unused_imports)]
use berth::{quiet_print as print, quiet_println as println};

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use chrono::{Duration, Utc};
use clap::{Parser, Subcommand};

use berth::dock::staff::Actor;
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
    /// Contacts: sign a list, and the request workflow at the dock
    /// (requests, approve, refuse, suspend, attorneys, the no-contact list).
    Contacts {
        #[command(subcommand)]
        command: ContactsCommand,
    },
    /// Sign and explain policies.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Register a tablet's device key at the dock, bound to groups.
    Enroll {
        #[command(flatten)]
        dock: DockArgs,
        /// The code on the tablet's "not enrolled" screen (it must have
        /// tried to sync at this dock): e.g. 7KQ2-M9XD-4TRA.
        #[arg(long, required_unless_present = "key", conflicts_with = "key")]
        code: Option<String>,
        /// Or the tablet's device key (64 hex digits; `berth status` prints it).
        #[arg(long)]
        key: Option<String>,
        /// A name for the tablet, e.g. b-east-07.
        #[arg(long)]
        name: String,
        /// Comma-separated groups: unit:NAME (facility is implied).
        #[arg(long, value_delimiter = ',', required = true)]
        groups: Vec<GroupId>,
    },
    /// Revoke a tablet (by name or key); it is refused from its next sync.
    Revoke {
        #[command(flatten)]
        dock: DockArgs,
        tablet: String,
    },
    /// Enrolled tablets: last sync, version, battery, tamper events.
    Tablets {
        #[command(flatten)]
        dock: DockArgs,
    },
    /// Publish signed rosters, policies and contact lists for tablets to pull.
    Publish {
        #[command(flatten)]
        dock: DockArgs,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Review letters in both directions.
    Review {
        #[command(subcommand)]
        command: ReviewCommand,
    },
    /// Bundles at the dock: pending vendor uploads and approvals.
    Bundles {
        #[command(subcommand)]
        command: BundlesCommand,
    },
    /// The mail gateway.
    Gateway {
        #[command(subcommand)]
        command: GatewayCommand,
    },
    /// Music entitlements: signed receipts that reach the person's tablets.
    Entitlement {
        #[command(subcommand)]
        command: EntitlementCommand,
    },
    /// Course certificates tablets sign and upload.
    Certificate {
        #[command(subcommand)]
        command: CertificateCommand,
    },
    /// Staff accounts for the console, and the staff audit trail.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Write the dock's kit: the roots, the delegations and the online keys
    /// (approval, policy, roster, contacts, messaging, dock), never a root
    /// key. Give the dock this directory as its --dir.
    DockKit {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        out: PathBuf,
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

/// Where the dock is: the facility directory and the dock's data.
#[derive(clap::Args)]
struct DockArgs {
    #[arg(long)]
    dir: PathBuf,
    /// The dock's data directory (as given to `berth-dock serve --data`).
    #[arg(long)]
    data: PathBuf,
}

impl DockArgs {
    fn open(&self) -> Result<berth::dock::Dock> {
        berth::dock::Dock::open(&self.dir, &self.data)
            .with_context(|| format!("opening the dock in {}", self.data.display()))
    }
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Create an account. Its password is made for it and printed once
    /// (or read from standard input with --password-stdin); the holder
    /// changes it at the first login. The first IT admin is made here.
    Add {
        #[command(flatten)]
        dock: DockArgs,
        /// Login name: 2-32 of a-z, 0-9, '.', '-', '_'.
        username: String,
        /// The name the console shows, e.g. "Dana Ruiz".
        #[arg(long)]
        name: String,
        /// Comma-separated: mail-reviewer, legal-mail, education, it-admin, auditor.
        #[arg(long, value_delimiter = ',', required = true)]
        roles: Vec<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable an account: it cannot log in, and its sessions end.
    Disable {
        #[command(flatten)]
        dock: DockArgs,
        username: String,
    },
    /// Let a disabled account log in again (with its old password).
    Enable {
        #[command(flatten)]
        dock: DockArgs,
        username: String,
    },
    /// Set a new password (made and printed once, or --password-stdin);
    /// sessions end and the holder changes it at the next login.
    Reset {
        #[command(flatten)]
        dock: DockArgs,
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// The accounts and their roles.
    List {
        #[command(flatten)]
        dock: DockArgs,
    },
    /// The staff audit trail: who did what, when, on what.
    Audit {
        #[command(flatten)]
        dock: DockArgs,
        /// Only this actor's rows (a login name, or cli:USER).
        #[arg(long)]
        actor: Option<String>,
        /// As CSV (seq, at, actor, action, target, detail, sha256).
        #[arg(long)]
        csv: bool,
        /// Check the hash chain end to end; exit 1 if a row was changed or removed.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Subcommand)]
enum ReviewCommand {
    /// Letters waiting for review: flagged first, then oldest first.
    List {
        #[command(flatten)]
        dock: DockArgs,
    },
    /// One letter in full (attorney mail shows who, whom and when only).
    Show {
        #[command(flatten)]
        dock: DockArgs,
        id: String,
    },
    /// Approve: outbound letters leave as .eml; inbound reach the tablet.
    Approve {
        #[command(flatten)]
        dock: DockArgs,
        id: String,
    },
    /// Reject with a reason the person will read.
    Reject {
        #[command(flatten)]
        dock: DockArgs,
        id: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum BundlesCommand {
    /// Bundles uploaded by vendors, waiting for approval.
    Pending {
        #[command(flatten)]
        dock: DockArgs,
    },
    /// Bundles approved, with their groups.
    Approved {
        #[command(flatten)]
        dock: DockArgs,
    },
    /// Add a bundle file (e.g. from a vendor's USB stick) to the pending list.
    Add {
        #[command(flatten)]
        dock: DockArgs,
        bundle: PathBuf,
    },
    /// Approve a pending bundle (by id or manifest hash) for groups.
    Approve {
        #[command(flatten)]
        dock: DockArgs,
        id: String,
        #[arg(long, value_delimiter = ',', required = true)]
        groups: Vec<GroupId>,
    },
    /// Withdraw a bundle's approval: tablets remove it at their next sync,
    /// and keep people's progress, certificates and entitlements.
    Withdraw {
        #[command(flatten)]
        dock: DockArgs,
        id: String,
    },
}

#[derive(Subcommand)]
enum EntitlementCommand {
    /// Sign a receipt (album:ID or track:ID, the vendor-neutral ids in
    /// album.json) and publish it for the person's tablets.
    Grant {
        #[command(flatten)]
        dock: DockArgs,
        #[arg(long)]
        person: String,
        #[arg(long)]
        item: String,
        /// Grant an album or track no approved music bundle at this dock
        /// carries yet (a purchase a later bundle will bring).
        #[arg(long)]
        force: bool,
    },
    /// A person's receipts.
    List {
        #[command(flatten)]
        dock: DockArgs,
        #[arg(long)]
        person: String,
    },
}

#[derive(Subcommand)]
enum CertificateCommand {
    /// Check a certificate file offline: its signature, its facility and,
    /// with --data, that the tablet that signed it is enrolled here.
    Verify {
        file: PathBuf,
        /// The facility directory (checks the certificate is from it).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The dock's data directory (checks the signing tablet).
        #[arg(long, requires = "dir")]
        data: Option<PathBuf>,
        /// The check code from the person's certificate page (for example
        /// 3F9A-21C0-77BE): checks this file is that certificate.
        #[arg(long)]
        code: Option<String>,
    },
    /// Certificates uploaded to the dock.
    List {
        #[command(flatten)]
        dock: DockArgs,
    },
    /// Write one uploaded certificate to a file.
    Export {
        #[command(flatten)]
        dock: DockArgs,
        id: String,
        #[arg(short, long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum GatewayCommand {
    /// Submit approved letters to the mail relay now (the running dock
    /// does this by itself every few seconds).
    Send {
        #[command(flatten)]
        dock: DockArgs,
    },
    /// Import the mail in a Maildir's new/ folder (default:
    /// DATA/gateway/maildir) into review.
    Import {
        #[command(flatten)]
        dock: DockArgs,
        #[arg(long)]
        from: Option<PathBuf>,
    },
    /// Mail and uploads the dock refused, with reasons.
    Refusals {
        #[command(flatten)]
        dock: DockArgs,
    },
}

/// Text from outside, with control characters shown and not obeyed.
fn v(s: &str) -> String {
    berth::domain::text::visible(s, false)
}

fn print_item(i: &berth::dock::ReviewItem, full: bool) {
    let dir = match i.kind {
        berth::dock::ReviewKind::Outbound => format!("{} -> {}", i.person, i.contact),
        berth::dock::ReviewKind::Inbound => format!("{} -> {}", i.contact, i.person),
    };
    let flags = if i.flags.is_empty() {
        String::new()
    } else {
        format!(" FLAGGED [{}]", i.flags.join(", "))
    };
    let legal = if i.attorney {
        " LEGAL (privileged)"
    } else {
        ""
    };
    println!("{}  {}  {}  {}{legal}{flags}", i.id, i.at, dir, i.state);
    if let Some(p) = &i.problem {
        println!("    PROBLEM: {p}");
    }
    if full {
        if let Some(s) = &i.sender {
            println!("    from: {}", v(s));
        }
        if let Some(s) = &i.subject {
            println!("    subject: {}", v(s));
        }
        if !i.reason.is_empty() {
            println!("    reason: {}", v(&i.reason));
        }
        if let Some((tries, error, sent)) = &i.relay {
            match sent {
                Some(at) => println!("    sent: the relay accepted it at {at}"),
                None if *tries > 0 => {
                    println!("    relay: {tries} tries so far; last: {}", v(error))
                }
                None => {}
            }
        }
        if !i.removed.is_empty() {
            println!(
                "    {}",
                v(&berth::dock::mail::removed_sentence(&i.removed))
            );
        }
        match &i.body {
            Some(b) => {
                println!();
                println!("{}", berth::domain::text::visible(b, true));
            }
            None if i.attorney => {
                println!("    (privileged legal mail: the body is not shown to review)")
            }
            None => {}
        }
    }
}

fn print_bundle(b: &berth::dock::PendingBundle) {
    println!(
        "{} version {} [{}] from {}: {} bytes, manifest {}{}",
        b.bundle_id,
        b.version,
        b.content_type,
        b.vendor,
        b.size,
        b.manifest_sha256,
        if b.groups.is_empty() {
            String::new()
        } else {
            format!(", for [{}]", b.groups.join(", "))
        }
    );
}

/// A password from standard input's first line, or a new one to print.
fn password_for(from_stdin: bool) -> Result<(String, bool)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        let p = line.trim_end_matches(['\r', '\n']).to_string();
        if p.is_empty() {
            bail!("standard input held no password; nothing was changed");
        }
        Ok((p, false))
    } else {
        Ok((berth::trust::password::temporary()?, true))
    }
}

fn staff_accounts(command: StaffCommand) -> Result<()> {
    use berth::dock::staff::AuditCheck;
    use berth::domain::staff::{Role, Username};
    let actor = Actor::cli();
    let user = |u: &str| -> Result<Username> {
        u.parse::<Username>()
            .map_err(|e| anyhow::anyhow!("{e}; nothing was changed"))
    };
    match command {
        StaffCommand::Add {
            dock,
            username,
            name,
            roles,
            password_stdin,
        } => {
            let username = user(&username)?;
            let roles: Vec<Role> = roles
                .iter()
                .map(|r| r.parse::<Role>())
                .collect::<Result<_, _>>()
                .map_err(|e| anyhow::anyhow!("--roles: {e}; nothing was changed"))?;
            let (password, made) = password_for(password_stdin)?;
            let mut d = dock.open()?;
            let m = d.staff_add(&actor, &username, &name, &roles, &password, Utc::now())?;
            println!(
                "added {} ({}) with roles {}",
                m.username,
                m.display_name,
                berth::domain::staff::roles_list(&m.roles)
            );
            if made {
                println!("password (shown once; changed at the first login): {password}");
            }
        }
        StaffCommand::Disable { dock, username } => {
            let username = user(&username)?;
            dock.open()?.staff_disable(&actor, &username, Utc::now())?;
            println!("disabled {username}; it cannot log in, and its sessions have ended");
        }
        StaffCommand::Enable { dock, username } => {
            let username = user(&username)?;
            dock.open()?.staff_enable(&actor, &username, Utc::now())?;
            println!(
                "enabled {username}; it can log in again with its password (reset it if that may be known)"
            );
        }
        StaffCommand::Reset {
            dock,
            username,
            password_stdin,
        } => {
            let username = user(&username)?;
            let (password, made) = password_for(password_stdin)?;
            dock.open()?
                .staff_reset(&actor, &username, &password, Utc::now())?;
            println!("reset the password of {username}; its sessions have ended");
            if made {
                println!("password (shown once; changed at the next login): {password}");
            }
        }
        StaffCommand::List { dock } => {
            let all = dock.open()?.staff_list()?;
            if all.is_empty() {
                println!(
                    "no staff accounts; add the first IT admin with \
                     `berth-facility staff add NAME --name \"...\" --roles it-admin --dir F --data D`"
                );
            }
            for m in all {
                let roles: Vec<&str> = m.roles.iter().map(|r| r.as_str()).collect();
                println!(
                    "{:<16} {:<24} {:<40} since {}{}",
                    m.username.as_str(),
                    v(&m.display_name),
                    roles.join(","),
                    m.created_at,
                    m.disabled_at
                        .map(|d| format!("  DISABLED {d}"))
                        .unwrap_or_default()
                );
            }
        }
        StaffCommand::Audit {
            dock,
            actor,
            csv,
            check,
        } => {
            let d = dock.open()?;
            if check {
                match d.staff_audit_check()? {
                    AuditCheck::Intact { rows } => {
                        println!("the staff audit trail is intact: {rows} rows, every link holds");
                    }
                    AuditCheck::BrokenAt { seq } => bail!(
                        "the staff audit trail is broken at row {seq}: that row or the one before it \
                         was changed or removed after it was written"
                    ),
                }
                return Ok(());
            }
            let rows = d.staff_audit(actor.as_deref())?;
            if csv {
                print!("{}", berth::dock::staff::audit_csv(&rows));
            } else {
                if rows.is_empty() {
                    println!("the staff audit trail is empty");
                }
                for r in rows {
                    println!(
                        "{:>6}  {}  {:<16} {:<14} {}  {}",
                        r.seq,
                        r.at,
                        v(&r.actor),
                        r.action,
                        v(&r.target),
                        v(&r.detail)
                    );
                }
            }
        }
    }
    Ok(())
}

fn staff(command: Command) -> Result<()> {
    match command {
        Command::Enroll {
            dock,
            code,
            key,
            name,
            groups,
        } => {
            let k = match (code, key) {
                (Some(code), _) => {
                    let code = berth::domain::DeviceCode::parse(&code).with_context(|| {
                        "--code is the code on the tablet's screen, e.g. 7KQ2-M9XD-4TRA. Nothing was changed"
                    })?;
                    dock.open()?
                        .enroll_by_code(&Actor::cli(), &code, &name, &groups)?
                }
                (None, Some(key)) => {
                    let k = berth::domain::PublicKey::from_hex(key.trim()).with_context(|| {
                        "--key must be the tablet's 64-hex-digit device key, as `berth status --data D` prints it"
                    })?;
                    dock.open()?.enroll(&Actor::cli(), k, &name, &groups)?;
                    k
                }
                (None, None) => bail!("name the tablet with --code or --key. Nothing was changed"),
            };
            println!(
                "enrolled tablet {name} ({}, key {k}); it syncs at its next dock",
                berth::trust::device_code(&k)
            );
        }
        Command::Revoke { dock, tablet } => {
            dock.open()?.revoke(&Actor::cli(), &tablet)?;
            println!("revoked {tablet}; it is refused from its next sync");
        }
        Command::Tablets { dock } => {
            let d = dock.open()?;
            let rows = d.tablets()?;
            let pending = d.pending_tablets()?;
            if rows.is_empty() {
                println!("no tablets enrolled; use `berth-facility enroll`");
            }
            for p in &pending {
                println!(
                    "waiting to be enrolled: code {}  key {}  tried {} times, first {}, last {}",
                    p.code,
                    &p.key[..16.min(p.key.len())],
                    p.attempts,
                    p.first_seen,
                    p.last_seen
                );
            }
            if !pending.is_empty() {
                println!(
                    "enrol one with `berth-facility enroll --code CODE --name NAME --groups unit:U`"
                );
            }
            for t in rows {
                println!(
                    "{:<16} {}  groups [{}]  last sync {}  version {}  battery {}  tamper events {}{}",
                    t.name,
                    &t.key[..16],
                    t.groups.join(", "),
                    t.last_sync.as_deref().unwrap_or("never"),
                    if t.app_version.is_empty() {
                        "-"
                    } else {
                        &t.app_version
                    },
                    t.battery
                        .map(|b| format!("{b}%"))
                        .unwrap_or_else(|| "-".into()),
                    t.tamper_events,
                    t.revoked_at
                        .as_deref()
                        .map(|r| format!("  REVOKED {r}"))
                        .unwrap_or_default()
                );
            }
        }
        Command::Publish { dock, files } => {
            let mut d = dock.open()?;
            for f in files {
                let bytes = berth::facility::read_capped(&f, berth::trust::MAX_ENVELOPE_BYTES)?;
                let (kind, scope, version) = d
                    .publish(&bytes)
                    .with_context(|| format!("publishing {}", f.display()))?;
                println!("published {kind} for {scope} version {version}");
            }
        }
        Command::Review { command } => match command {
            ReviewCommand::List { dock } => {
                let items = dock.open()?.review_list()?;
                if items.is_empty() {
                    println!("nothing waits for review");
                }
                for i in &items {
                    print_item(i, false);
                }
            }
            ReviewCommand::Show { dock, id } => print_item(&dock.open()?.review_show(&id)?, true),
            ReviewCommand::Approve { dock, id } => {
                let d = dock.data.clone();
                let i = dock.open()?.review_approve(&id, &Actor::cli())?;
                match i.kind {
                    berth::dock::ReviewKind::Outbound => println!(
                        "approved {id}; wrote {}. The dock submits it to the mail relay (smtp_relay in dock.toml); \
                         the writer sees \"approved\", then \"sent\" once the relay accepts it",
                        d.join("gateway")
                            .join("outbox")
                            .join(format!("{id}.eml"))
                            .display()
                    ),
                    berth::dock::ReviewKind::Inbound => {
                        println!("approved {id}; it reaches {} at the next sync", i.person)
                    }
                }
            }
            ReviewCommand::Reject { dock, id, reason } => {
                dock.open()?.review_reject(&id, &reason, &Actor::cli())?;
                println!("rejected {id}; the writer sees the reason at the next sync");
            }
        },
        Command::Bundles { command } => match command {
            BundlesCommand::Pending { dock } => {
                let rows = dock.open()?.bundles(Some("pending"))?;
                if rows.is_empty() {
                    println!("no bundles wait for approval");
                }
                rows.iter().for_each(print_bundle);
            }
            BundlesCommand::Approved { dock } => {
                dock.open()?
                    .bundles(Some("approved"))?
                    .iter()
                    .for_each(print_bundle);
            }
            BundlesCommand::Add { dock, bundle } => {
                let b = dock.open()?.add_bundle_file(&bundle)?;
                print!("verified and added: ");
                print_bundle(&b);
            }
            BundlesCommand::Approve { dock, id, groups } => {
                let b = dock.open()?.approve_bundle(&id, &groups)?;
                print!("approved: ");
                print_bundle(&b);
            }
            BundlesCommand::Withdraw { dock, id } => {
                let n = dock.open()?.withdraw_bundle(&id)?;
                println!(
                    "withdrew {n} approved version(s) of {id}; tablets remove it at their next sync"
                );
            }
        },
        Command::Entitlement { command } => match command {
            EntitlementCommand::Grant {
                dock,
                person,
                item,
                force,
            } => {
                let person = berth::domain::people::PersonId::parse(&person)
                    .map_err(|e| anyhow::anyhow!("--person: {e}"))?;
                let item = berth::domain::content::EntitledItem::parse(&item)
                    .map_err(|e| anyhow::anyhow!("--item {e}"))?;
                let f = Facility::open(&dock.dir)?;
                let mut d = dock.open()?;
                if d.person(person.as_str())?.is_none() {
                    bail!(
                        "{person} is on no roster published at this dock; nothing was granted. \
                         Check the id (`berth-facility` roster files), or publish the roster that lists them first"
                    );
                }
                if !force && !d.carried_music()?.contains(&item.to_string()) {
                    bail!(
                        "no approved music bundle at this dock carries {item}; nothing was granted. \
                         Check the id (an album's UPC/EAN or a track's ISRC, as in its album.json), \
                         or pass --force to grant it anyway, for a purchase a later bundle will carry"
                    );
                }
                let (env, doc) = f.sign_entitlement(person, item, Utc::now())?;
                d.publish(&env)?;
                println!(
                    "granted {} to {} (receipt {}); it reaches their tablets at the next sync",
                    doc.item, doc.person, doc.id
                );
            }
            EntitlementCommand::List { dock, person } => {
                let rows = dock.open()?.entitlements_of(&person)?;
                if rows.is_empty() {
                    println!("{person} has no music entitlements");
                }
                for (id, item, at) in rows {
                    println!("{at}  {item}  receipt {id}");
                }
            }
        },
        Command::Certificate { command } => match command {
            CertificateCommand::Verify { .. } => unreachable!("handled offline"),
            CertificateCommand::List { dock } => {
                let rows = dock.open()?.certificates()?;
                if rows.is_empty() {
                    println!("no certificates have been uploaded");
                }
                for (id, person, course, at, env) in rows {
                    println!(
                        "{id}  {person}  {course}  code {}  received {at}",
                        certificate_code(&env)
                    );
                }
            }
            CertificateCommand::Export { dock, id, out } => {
                let rows = dock.open()?.certificates()?;
                let (_, _, _, _, env) = rows
                    .into_iter()
                    .find(|r| {
                        r.0 == id
                            || (id.len() >= 8 && r.0.starts_with(&id))
                            || berth::domain::content::same_certificate_code(
                                &id,
                                &certificate_code(&r.4),
                            )
                    })
                    .ok_or_else(|| anyhow::anyhow!(
                        "no certificate {id} at this dock (an id or a check code); nothing was written; see `berth-facility certificate list`"
                    ))?;
                write_atomic(&out, &env).with_context(|| format!("writing {}", out.display()))?;
                println!("wrote {}", out.display());
            }
        },
        Command::Gateway { command } => match command {
            GatewayCommand::Import { dock, from } => {
                let r = dock.open()?.import_mail(from.as_deref())?;
                for a in &r.accepted {
                    println!("imported {} into review", v(a));
                }
                for a in &r.duplicates {
                    println!("{} was imported before; skipped", v(a));
                }
                for (f, why) in &r.refused {
                    println!("refused {}: {}", v(f), v(why));
                }
                for (f, person, why) in &r.refused_for {
                    println!("{} was not delivered to {person}: {}", v(f), v(why));
                }
                for (f, what) in &r.answers {
                    println!("{} answered an invitation: {}", v(f), v(what));
                }
                println!(
                    "{} message(s): {} imported, {} invitation answers, {} already imported, {} refused",
                    r.total(),
                    r.accepted.len(),
                    r.answers.len(),
                    r.duplicates.len(),
                    r.refused.len()
                );
            }
            GatewayCommand::Send { dock } => {
                let r = dock.open()?.send_approved()?;
                for id in &r.sent {
                    println!("sent {id}: the relay accepted it");
                }
                for (id, why) in &r.failed {
                    println!("not sent {id}: {}; it is tried again later", v(why));
                }
                if r.sent.is_empty() && r.failed.is_empty() {
                    println!("no approved letter is waiting for the relay");
                }
            }
            GatewayCommand::Refusals { dock } => {
                for (at, what, why) in dock.open()?.refusals()? {
                    println!("{at}  {}: {}", v(&what), v(&why));
                }
            }
        },
        _ => unreachable!("only staff commands come here"),
    }
    Ok(())
}

#[derive(Subcommand)]
enum ContactsCommand {
    /// Sign a person's contact list from a TOML file (see assets/examples/).
    Sign {
        file: PathBuf,
        #[arg(long)]
        dir: PathBuf,
        #[arg(short = 'o', long = "out")]
        out: PathBuf,
    },
    /// Contact requests from tablets, oldest first (refused ones show why).
    Requests {
        #[command(flatten)]
        dock: DockArgs,
        /// Only this state: in-review, invited, active, refused, removed.
        #[arg(long)]
        state: Option<String>,
        /// Only this person's.
        #[arg(long)]
        person: Option<String>,
    },
    /// Approve a request: the contact is sent an invitation to accept.
    Approve {
        #[command(flatten)]
        dock: DockArgs,
        id: String,
    },
    /// Refuse a request with a reason the person will read.
    Refuse {
        #[command(flatten)]
        dock: DockArgs,
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// A person's approved contacts, as the dock holds them signed.
    List {
        #[command(flatten)]
        dock: DockArgs,
        #[arg(long)]
        person: String,
    },
    /// Take a contact off a person's list, with a reason the person reads.
    Suspend {
        #[command(flatten)]
        dock: DockArgs,
        #[arg(long)]
        person: String,
        #[arg(long)]
        contact: String,
        #[arg(long)]
        reason: String,
    },
    /// Add an attorney (privileged mail) to a person's list: the legal mail officer's.
    Attorney {
        #[command(flatten)]
        dock: DockArgs,
        #[arg(long)]
        person: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
    },
    /// The no-contact list: victims, witnesses, court orders.
    NoContact {
        #[command(subcommand)]
        command: NoContactCommand,
    },
}

#[derive(Subcommand)]
enum NoContactCommand {
    /// Add someone a person must not contact (a name, an email, or both).
    Add {
        #[command(flatten)]
        dock: DockArgs,
        #[arg(long)]
        person: String,
        /// court-order, victim or witness.
        #[arg(long)]
        kind: String,
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long, default_value = "")]
        email: String,
        #[arg(long, default_value = "")]
        address: String,
    },
    /// The entries (one person's with --person).
    List {
        #[command(flatten)]
        dock: DockArgs,
        #[arg(long)]
        person: Option<String>,
    },
    /// Remove an entry by its number.
    Remove {
        #[command(flatten)]
        dock: DockArgs,
        id: i64,
    },
}

fn print_request(r: &berth::dock::ContactRequestRow) {
    let v = |s: &str| berth::domain::text::visible(s, false);
    println!(
        "{} [{}] {} asks to {} {} <{}>{}, received {}",
        r.id,
        r.state,
        r.person,
        if r.kind == "add" { "add" } else { "remove" },
        v(&r.name),
        v(&r.email),
        if r.relationship.is_empty() {
            String::new()
        } else {
            format!(" ({})", v(&r.relationship))
        },
        r.received_at
    );
    if !r.reason.is_empty() {
        println!("    the person reads: {}", v(&r.reason));
    }
    if !r.flag.is_empty() {
        println!("    FLAGGED: {}", v(&r.flag));
    }
}

fn contacts(command: ContactsCommand) -> Result<()> {
    use berth::domain::contacts::{NoContactEntry, NoContactKind, RequestState};
    let actor = Actor::cli();
    match command {
        ContactsCommand::Sign { file, dir, out } => {
            let (env, d) = Facility::open(&dir)?.sign_contacts(&file, Utc::now())?;
            let what = format!(
                "contact list version {} for {}: {} contacts",
                d.version,
                d.person,
                d.contacts.len()
            );
            write_signed(&out, &env, &what)?;
        }
        ContactsCommand::Requests {
            dock,
            state,
            person,
        } => {
            let state = match state.as_deref() {
                None => None,
                Some(s) => Some(RequestState::parse(s).ok_or_else(|| {
                    anyhow::anyhow!(
                        "--state {s:?} is not a state; use one of in-review, invited, active, refused, removed"
                    )
                })?),
            };
            let rows = dock.open()?.contact_requests(state, person.as_deref())?;
            if rows.is_empty() {
                println!("no contact requests");
            }
            rows.iter().for_each(print_request);
        }
        ContactsCommand::Approve { dock, id } => {
            let d = dock.data.clone();
            let r = dock.open()?.contact_approve(&id, &actor)?;
            println!(
                "approved {id}; wrote the invitation to {} as {}. {} joins {}'s contacts when they answer ACCEPT",
                r.email,
                d.join("gateway")
                    .join("outbox")
                    .join(format!("invite-{id}.eml"))
                    .display(),
                r.name,
                r.person
            );
        }
        ContactsCommand::Refuse { dock, id, reason } => {
            let r = dock.open()?.contact_refuse(&id, &reason, &actor)?;
            println!(
                "refused {id}; {} sees the reason at the next sync",
                r.person
            );
        }
        ContactsCommand::List { dock, person } => {
            let (version, list) = dock.open()?.contact_list(&person)?;
            if version == 0 {
                println!("{person} has no contact list at this dock");
            } else {
                println!(
                    "{person}: contact list version {version}, {} contacts",
                    list.len()
                );
            }
            for c in list {
                println!(
                    "  {} {} <{}>{}{}",
                    c.id,
                    berth::domain::text::visible(&c.name, false),
                    c.email,
                    if c.relationship.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", c.relationship)
                    },
                    if c.attorney {
                        " [attorney: privileged]"
                    } else {
                        ""
                    }
                );
            }
        }
        ContactsCommand::Suspend {
            dock,
            person,
            contact,
            reason,
        } => {
            let v = dock
                .open()?
                .contact_suspend(&person, &contact, &reason, &actor)?;
            println!(
                "suspended {contact} of {person}; published contact list version {v}. Tablets take it at the next sync"
            );
        }
        ContactsCommand::Attorney {
            dock,
            person,
            name,
            email,
        } => {
            let id = dock
                .open()?
                .contact_attorney(&person, &name, &email, &actor)?;
            println!(
                "added attorney {id} to {person}'s contacts; their letters are privileged. Tablets take it at the next sync"
            );
        }
        ContactsCommand::NoContact { command } => {
            match command {
                NoContactCommand::Add {
                    dock,
                    person,
                    kind,
                    name,
                    email,
                    address,
                } => {
                    let kind = NoContactKind::parse(&kind).ok_or_else(|| {
                    anyhow::anyhow!("--kind {kind:?}: use court-order, victim or witness; nothing was changed")
                })?;
                    let entry = NoContactEntry::new(kind, &name, &email, &address)
                        .map_err(|e| anyhow::anyhow!("{e}; nothing was changed"))?;
                    let (id, suspended) = dock.open()?.no_contact_add(&person, &entry, &actor)?;
                    println!("added no-contact entry {id} for {person}");
                    for c in suspended {
                        println!("  suspended {c}: it matches the entry");
                    }
                }
                NoContactCommand::List { dock, person } => {
                    let rows = dock.open()?.no_contact_list(person.as_deref())?;
                    if rows.is_empty() {
                        println!("no entries");
                    }
                    for r in rows {
                        println!(
                            "{} {} [{}] {} {} {} (added by {} at {})",
                            r.id,
                            r.person,
                            r.kind,
                            berth::domain::text::visible(&r.name, false),
                            r.email,
                            berth::domain::text::visible(&r.address, false),
                            r.added_by,
                            r.added_at
                        );
                    }
                }
                NoContactCommand::Remove { dock, id } => {
                    dock.open()?.no_contact_remove(id, &actor)?;
                    println!("removed no-contact entry {id}");
                }
            }
        }
    }
    Ok(())
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

/// Check a certificate offline, and say what it certifies.
fn verify_certificate(
    file: &std::path::Path,
    dir: Option<&std::path::Path>,
    data: Option<&std::path::Path>,
    code: Option<&str>,
) -> Result<()> {
    let bytes = berth::facility::read_capped(file, berth::trust::MAX_ENVELOPE_BYTES)
        .with_context(|| format!("reading {}", file.display()))?;
    let c = berth::trust::signed::verify_certificate(&bytes)
        .map_err(|e| anyhow::anyhow!("{} is not a valid certificate: {e}", file.display()))?;
    let its_code = certificate_code(&bytes);
    if let Some(code) = code
        && !berth::domain::content::same_certificate_code(code, &its_code)
    {
        bail!(
            "{} is a valid certificate, but its check code is {its_code}, not {code}: \
             it is not the certificate that was shown. Ask for the file with code {code}",
            file.display()
        );
    }
    if let Some(dir) = dir {
        let f = Facility::open(dir)?;
        if c.facility != f.root().doc().facility {
            bail!(
                "{} is from facility {}, not {}",
                file.display(),
                c.facility,
                f.root().doc().facility
            );
        }
        if let Some(data) = data {
            let dock = berth::dock::Dock::open(dir, data)?;
            let t = dock.tablets()?;
            let Some(t) = t.iter().find(|t| t.key == c.tablet.to_hex()) else {
                bail!(
                    "the signature is valid, but tablet {} is not enrolled at this dock",
                    c.tablet
                );
            };
            println!("signed by tablet {} ({})", t.name, c.tablet);
        }
    }
    println!("valid certificate {}", c.id);
    println!("  person   {} ({})", c.person_name, c.person);
    println!("  course   {} ({})", c.course_title, c.course);
    println!("  date     {}", c.completed.format("%Y-%m-%d"));
    println!("  score    {}%", c.score_percent);
    println!("  facility {}", c.facility);
    println!("  code     {its_code}");
    Ok(())
}

/// The check code a tablet shows on the certificate's page.
fn certificate_code(envelope: &[u8]) -> String {
    berth::domain::content::certificate_code(&berth::trust::digest::sha256(envelope))
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
        c @ (Command::Enroll { .. }
        | Command::Revoke { .. }
        | Command::Tablets { .. }
        | Command::Publish { .. }
        | Command::Review { .. }
        | Command::Bundles { .. }
        | Command::Entitlement { .. }
        | Command::Certificate {
            command: CertificateCommand::List { .. } | CertificateCommand::Export { .. },
        }
        | Command::Gateway { .. }) => staff(c)?,
        Command::Staff { command } => staff_accounts(command)?,
        Command::Certificate {
            command:
                CertificateCommand::Verify {
                    file,
                    dir,
                    data,
                    code,
                },
        } => verify_certificate(&file, dir.as_deref(), data.as_deref(), code.as_deref())?,
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
        Command::Contacts { command } => contacts(command)?,
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
        Command::DockKit { dir, out } => {
            let files = Facility::open(&dir)?.export_dock_kit(&out)?;
            println!(
                "wrote the dock's kit to {}: {} files, the online keys and no root key.                  Start the dock with --dir {}",
                out.display(),
                files.len(),
                out.display()
            );
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
