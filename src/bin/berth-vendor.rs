//! `berth-vendor`: content vendors make keys, pack and sign bundles, and
//! inspect them.

#[allow(unused_imports)]
use berth::{quiet_print as print, quiet_println as println};

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use chrono::Utc;
use clap::{Parser, Subcommand};

use berth::bundle::{self, pack};
use berth::domain::time::parse_expiry_date;
use berth::domain::{BundleId, ContentType, DelegationDoc, Manifest, RoleKeys, TabletModel};
use berth::facility::{read_capped, write_atomic};
use berth::trust::{Envelope, MAX_ENVELOPE_BYTES, SigningKey, TrustedRoot, payload_type};

#[derive(Parser)]
#[command(
    name = "berth-vendor",
    version,
    about = "Pack and sign Berth content bundles"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a signing key (PKCS#8, mode 0600) and print its public key.
    /// The public key is also written to KEY.pub for the facility.
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// Pack a directory into a signed bundle.
    Pack {
        /// Your private key (from `keygen`).
        #[arg(long)]
        key: PathBuf,
        /// The delegation the facility gave you for that key.
        #[arg(long)]
        delegation: PathBuf,
        /// Content type: education, books or music.
        #[arg(long = "type")]
        content_type: ContentType,
        /// Bundle id, e.g. acme.algebra-1 (lowercase letters, digits, . _ -).
        #[arg(long)]
        id: BundleId,
        /// Version; must be higher than any version tablets have.
        #[arg(long)]
        version: u64,
        /// Last day the bundle may be installed (YYYY-MM-DD, end of day UTC).
        #[arg(long)]
        expires: String,
        /// Human title shown on the tablet (defaults to the id).
        #[arg(long)]
        title: Option<String>,
        /// Tablet model the bundle is for, or `any`.
        #[arg(long, default_value = "any")]
        model: TabletModel,
        /// Payload chunk size in bytes (power of two, 1 KiB to 4 MiB).
        #[arg(long, default_value_t = pack::DEFAULT_CHUNK_SIZE)]
        chunk_size: u32,
        /// The facility's root.json, to check the delegation fully before packing.
        #[arg(long)]
        root: Option<PathBuf>,
        /// The directory to pack.
        src_dir: PathBuf,
        /// Where to write the bundle.
        #[arg(short = 'o', long = "out")]
        out: PathBuf,
    },
    /// Upload a signed bundle to a facility's dock; it waits there for
    /// facility IT's approval. An interrupted upload resumes.
    Upload {
        bundle: PathBuf,
        /// The dock's address, e.g. dock.facility.example:7443.
        #[arg(long)]
        dock: String,
        /// The vendor's private key (the delegated one).
        #[arg(long)]
        key: PathBuf,
        /// The facility's root.json: it names the dock's key.
        #[arg(long)]
        root: PathBuf,
    },
    /// Show what a bundle holds and who signed it.
    Inspect {
        bundle: PathBuf,
        /// The facility's root.json, to verify everything.
        #[arg(long)]
        root: Option<PathBuf>,
    },
}

fn delegation_of(bytes: &[u8], root: Option<&Path>) -> Result<(DelegationDoc, bool)> {
    if let Some(root) = root {
        let root = TrustedRoot::bootstrap(&read_capped(root, MAX_ENVELOPE_BYTES)?)?;
        return Ok((root.verify_delegation(bytes, Utc::now())?, true));
    }
    let env = Envelope::from_bytes(bytes)?;
    if env.payload_type() != payload_type::DELEGATION {
        bail!(
            "this is not a delegation (payload type {:?})",
            env.payload_type()
        );
    }
    let d: DelegationDoc = serde_json::from_slice(env.unverified_payload_for_display())
        .context("the delegation does not parse")?;
    Ok((d, false))
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Keygen { out } => {
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("making the folder {} for the key", dir.display()))?;
            }
            let key = SigningKey::generate_to_file(&out)
                .with_context(|| format!("writing the key to {}", out.display()))?;
            let pub_path = PathBuf::from(format!("{}.pub", out.display()));
            write_atomic(&pub_path, format!("{}\n", key.public()).as_bytes())?;
            println!("{}", key.public());
            eprintln!("private key: {} (keep it secret)", out.display());
            eprintln!(
                "public key:  {} (send it to the facility)",
                pub_path.display()
            );
        }
        Command::Pack {
            key,
            delegation,
            content_type,
            id,
            version,
            expires,
            title,
            model,
            chunk_size,
            root,
            src_dir,
            out,
        } => {
            let key = SigningKey::load(&key)?;
            let delegation =
                read_capped(&delegation, bundle::container::MAX_SMALL_ENVELOPE as usize)
                    .context("reading the delegation")?;
            let (d, verified) = delegation_of(&delegation, root.as_deref())?;
            if d.key != key.public() {
                bail!(
                    "the delegation is for key {}, but --key is {}; use the key the facility delegated",
                    d.key,
                    key.public()
                );
            }
            if !d.content_types.contains(&content_type) {
                bail!(
                    "the delegation does not allow content type {content_type}; ask the facility to extend it"
                );
            }
            let expires = parse_expiry_date(&expires)?;
            let spec = pack::PackSpec {
                title: title.unwrap_or_else(|| id.to_string()),
                bundle_id: id,
                version,
                content_type,
                vendor: d.vendor.clone(),
                tablet_model: model,
                created: Utc::now(),
                expires,
                chunk_size,
            };
            // Every file must be packable, and the content must follow its
            // format (docs/content-format.md), before anything is signed.
            pack::scan_source(&src_dir)?;
            let problems = berth::content::validate(&src_dir, spec.content_type);
            if !problems.is_empty() {
                for p in &problems {
                    eprintln!("{}: {p}", src_dir.display());
                }
                bail!(
                    "{} problem(s) in {}; fix them and pack again (nothing was signed)",
                    problems.len(),
                    src_dir.display()
                );
            }
            let packed = pack::pack(&src_dir, &spec, &key, &delegation, &out)?;
            if packed.manifest.total_size > d.max_bundle_bytes {
                std::fs::remove_file(&out).ok();
                bail!(
                    "the bundle's payload is {} bytes but the delegation allows {}; nothing was written",
                    packed.manifest.total_size,
                    d.max_bundle_bytes
                );
            }
            println!(
                "packed {} version {}: {} files, {} payload bytes, {} chunks",
                packed.manifest.bundle_id,
                packed.manifest.version,
                packed.manifest.files.len(),
                packed.manifest.total_size,
                packed.manifest.chunks.len()
            );
            println!("manifest sha256 {}", packed.manifest_sha256);
            println!("wrote {} ({} bytes)", out.display(), packed.bundle_bytes);
            if !verified {
                eprintln!(
                    "note: the delegation was not checked against the facility root (pass --root to check it)"
                );
            }
        }
        Command::Inspect { bundle: path, root } => inspect(&path, root.as_deref())?,
        Command::Upload {
            bundle,
            dock,
            key,
            root,
        } => {
            let key = berth::trust::SigningKey::load(&key)?;
            let root = berth::trust::TrustedRoot::bootstrap(&berth::facility::read_capped(
                &root,
                berth::trust::MAX_ENVELOPE_BYTES,
            )?)?;
            let u = berth::sync::client::upload_bundle(&dock, key, root, &bundle)?;
            println!(
                "uploaded {} version {} (manifest {}){}; it waits for the facility's approval",
                u.bundle,
                u.version,
                u.manifest_sha256,
                if u.resumed_at > 0 {
                    format!(", resumed at byte {}", u.resumed_at)
                } else {
                    String::new()
                }
            );
        }
    }
    Ok(())
}

fn inspect(path: &Path, root: Option<&Path>) -> Result<()> {
    let (header, _) = bundle::open_bundle(path)?;
    println!("bundle     {}", path.display());
    println!(
        "format     BERTHBN1 version 1, header {} bytes",
        header.encoded_len()
    );
    let (d, verified) = delegation_of(&header.delegation, root)?;
    println!(
        "delegation vendor {} key {} types [{}] max {} bytes, expires {}{}",
        d.vendor,
        d.key,
        d.content_types
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        d.max_bundle_bytes,
        d.expires.to_rfc3339(),
        if verified {
            " (verified against the root)"
        } else {
            " (not verified: pass --root)"
        }
    );
    let env = Envelope::manifest_from_bytes(&header.manifest)?;
    let v = env
        .verify(
            payload_type::MANIFEST,
            "manifest",
            "vendor",
            &RoleKeys::single(d.key),
        )
        .context("the manifest is not validly signed by the delegated vendor key")?;
    let digest = berth::trust::sha256(v.bytes());
    let m: Manifest = v.parse("manifest")?;
    m.validate()?;
    println!("manifest   sha256 {digest} (signature by {} valid)", d.key);
    println!(
        "  id       {} version {} ({})",
        m.bundle_id, m.version, m.content_type
    );
    println!("  title    {}", m.title);
    println!("  model    {}", m.tablet_model);
    println!(
        "  created  {}  expires {}",
        m.created.to_rfc3339(),
        m.expires.to_rfc3339()
    );
    println!(
        "  payload  {} bytes in {} chunks of {}",
        m.total_size,
        m.chunks.len(),
        m.chunk_size
    );
    for f in &m.files {
        println!("  file     {:>10}  {}  {}", f.size, f.sha256, f.path);
    }
    if header.approvals.is_empty() {
        println!("approvals  none (a tablet will refuse it until facility IT approves it)");
    }
    let root = root
        .map(|r| -> Result<TrustedRoot> {
            Ok(TrustedRoot::bootstrap(&read_capped(
                r,
                MAX_ENVELOPE_BYTES,
            )?)?)
        })
        .transpose()?;
    for a in &header.approvals {
        match &root {
            Some(root) => match root.verify_approval(a) {
                Ok(doc) if doc.manifest_sha256 == digest => println!(
                    "approval   groups [{}] at {} (verified)",
                    doc.groups
                        .iter()
                        .map(|g| g.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    doc.approved_at.to_rfc3339()
                ),
                Ok(_) => println!("approval   for a different manifest (ignored by tablets)"),
                Err(e) => println!("approval   INVALID: {e}"),
            },
            None => println!("approval   {} bytes (pass --root to verify)", a.len()),
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
