//! The conformance generator: every case in `tests/conformance/cases.json`
//! and the bytes of every file it names, built from fixed seeds and fixed
//! times, so the files are reproducible byte for byte.
//!
//! A vendor's packer or a second verifier is held against the same files:
//! install (or verify) each `bundles/NAME.berth` under the case's root and
//! compare the verdict, and the field the refusal names, with `cases.json`.
//! docs/bundle-format.md §8 explains how.
//!
//! Rewrite the files after a deliberate change with
//! `BERTH_CONFORMANCE_WRITE=1 cargo test --test it conformance`; the test
//! fails whenever the checked-in files and this generator disagree.
//!
//! Everything here is built by hand from the spec (JSON values, base64,
//! SHA-256, the 24-byte header) rather than by Berth's packer, so that a
//! case can break exactly one rule. The library is used for two things
//! only: Ed25519 signing over PAE (`Envelope::sign`, `trust::envelope::pae`)
//! and SHA-256.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use berth::trust::{Envelope, SigningKey, payload_type, sha256};
use serde_json::{Value, json};

/// Seeds of the keys (RFC 8032 private keys of 32 equal bytes).
pub mod seed {
    pub const ROOT: [u8; 3] = [0x11, 0x12, 0x13];
    pub const APPROVAL: u8 = 0x14;
    pub const POLICY: u8 = 0x15;
    pub const ROSTER: u8 = 0x16;
    pub const CONTACTS: u8 = 0x17;
    pub const MESSAGING: u8 = 0x18;
    pub const DOCK: u8 = 0x19;
    pub const VENDOR: u8 = 0x1a;
    /// A key no role names.
    pub const STRANGER: u8 = 0x1c;
    /// Root keys of version 2 in the rotation cases.
    pub const NEW_ROOT: [u8; 3] = [0x21, 0x22, 0x23];
}

pub const FACILITY: &str = "conformance";
/// The tablet's model (`berth install --model`, Berth's default).
pub const MODEL: &str = "berth-t1";
/// The groups the tablet is in besides `facility`.
pub const GROUPS: [&str; 2] = ["unit:b-east", "person:A12345"];
pub const ISSUED: &str = "2026-01-01T00:00:00Z";
pub const EXPIRES: &str = "2099-01-01T00:00:00Z";
/// A time every tablet's clock has passed.
pub const PAST: &str = "2026-06-01T00:00:00Z";
const CHUNK: usize = 1024;

pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_seed(&[seed; 32])
}

pub fn hex_key(seed: u8) -> String {
    key(seed).public().to_hex()
}

fn sha(bytes: &[u8]) -> String {
    sha256(bytes).to_hex()
}

/// What a tool must answer for a case.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// Exit 0: the bundle installs (tablet) or verifies (facility).
    Accepted,
    /// Exit 0 on the tablet, "already current", nothing new installed.
    Current,
    /// Non-zero exit; the message names `names`.
    Refused { names: &'static str },
}

/// Where the tablet starts.
#[derive(Clone, Debug)]
pub enum Start {
    /// Enrolled under `root.json` with `bundles/base.berth` installed,
    /// then each of `before` installed in order.
    Enrolled { before: Vec<String> },
    /// A data directory that does not exist yet; the case's root is
    /// offered with the bundle (`--trust`).
    Fresh,
}

pub struct Case {
    pub name: String,
    /// The rule, with its section of docs/bundle-format.md.
    pub rule: &'static str,
    /// The bundle offered (written to `bundles/NAME.berth`), or the name
    /// of another case's bundle when `offer` is set.
    pub bundle: Option<Vec<u8>>,
    pub offer: Option<String>,
    /// A root offered with the bundle (`roots/NAME.json`).
    pub root: Option<Vec<u8>>,
    pub start: Start,
    pub tablet: Verdict,
    /// `berth-facility verify` under the facility directory holding the
    /// case's root (or `root.json`); `None` when the rule is the tablet's
    /// alone (rollback, rotation, model and groups are not the facility's
    /// to check).
    pub facility: Option<Verdict>,
}

impl Case {
    /// The bundle file this case offers.
    pub fn bundle_name(&self) -> String {
        self.offer.clone().unwrap_or_else(|| self.name.clone())
    }
}

// ---------------------------------------------------------------------------
// Envelopes

/// A signed envelope's JSON, as Berth writes it.
fn envelope(ptype: &str, payload: &[u8], signers: &[u8]) -> Vec<u8> {
    let keys: Vec<SigningKey> = signers.iter().map(|s| key(*s)).collect();
    let refs: Vec<&SigningKey> = keys.iter().collect();
    Envelope::sign(ptype, payload.to_vec(), &refs).to_bytes()
}

fn envelope_value(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("own envelope")
}

// ---------------------------------------------------------------------------
// Roots

pub fn root_doc(version: u64, root_seeds: &[u8; 3], expires: &str) -> Value {
    let one = |s: u8| json!({"keys": [hex_key(s)], "threshold": 1});
    json!({
        "facility": FACILITY,
        "version": version,
        "expires": expires,
        "roles": {
            "root": {"keys": root_seeds.iter().map(|s| hex_key(*s)).collect::<Vec<_>>(), "threshold": 2},
            "approval": one(seed::APPROVAL),
            "policy": one(seed::POLICY),
            "roster": one(seed::ROSTER),
            "contacts": one(seed::CONTACTS),
            "messaging": one(seed::MESSAGING),
            "dock": one(seed::DOCK),
        }
    })
}

fn root_with(edit: impl FnOnce(&mut Value), signers: &[u8]) -> Vec<u8> {
    let mut doc = root_doc(1, &seed::ROOT, EXPIRES);
    edit(&mut doc);
    envelope(payload_type::ROOT, &to_bytes(&doc), signers)
}

/// The facility's root: version 1, threshold 2 of three root keys.
pub fn root() -> Vec<u8> {
    root_with(|_| {}, &seed::ROOT[..2])
}

fn to_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("json")
}

// ---------------------------------------------------------------------------
// Bundles

type Edit = Box<dyn Fn(&mut Value)>;

/// A bundle under construction: valid until an edit breaks one rule.
pub struct Craft {
    id: String,
    version: u64,
    content_type: &'static str,
    files: Vec<(String, Vec<u8>)>,
    chunk_size: usize,
    manifest_edits: Vec<Edit>,
    manifest_bytes: Option<Box<dyn Fn(&[u8]) -> Vec<u8>>>,
    manifest_type: &'static str,
    manifest_signers: Vec<u8>,
    manifest_envelope: Option<Edit>,
    delegation_edits: Vec<Edit>,
    delegation_signers: Vec<u8>,
    delegation_type: &'static str,
    approvals: Vec<(Edit, Vec<u8>)>,
    header: Option<Box<dyn Fn(&mut [u8; 24])>>,
    payload: Option<Box<dyn Fn(&mut Vec<u8>)>>,
    whole: Option<Box<dyn Fn(&mut Vec<u8>)>>,
}

/// Three files across two directories, one of them over three chunks.
fn default_files() -> Vec<(String, Vec<u8>)> {
    let big: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
    vec![
        ("data/table.bin".into(), big),
        ("es/hola.txt".into(), "¡Hola, señora!\n".as_bytes().to_vec()),
        ("hello.txt".into(), b"Hello, Berth!\n".to_vec()),
    ]
}

impl Craft {
    pub fn new(name: &str) -> Self {
        Craft {
            id: format!("acme.{name}"),
            version: 1,
            content_type: "education",
            files: default_files(),
            chunk_size: CHUNK,
            manifest_edits: vec![],
            manifest_bytes: None,
            manifest_type: payload_type::MANIFEST,
            manifest_signers: vec![seed::VENDOR],
            manifest_envelope: None,
            delegation_edits: vec![],
            delegation_signers: vec![seed::APPROVAL],
            delegation_type: payload_type::DELEGATION,
            approvals: vec![(Box::new(|_| {}), vec![seed::APPROVAL])],
            header: None,
            payload: None,
            whole: None,
        }
    }
    pub fn version(mut self, v: u64) -> Self {
        self.version = v;
        self
    }
    pub fn files(mut self, files: Vec<(String, Vec<u8>)>) -> Self {
        self.files = files;
        self
    }
    pub fn chunk_size(mut self, c: usize) -> Self {
        self.chunk_size = c;
        self
    }
    pub fn manifest(mut self, e: impl Fn(&mut Value) + 'static) -> Self {
        self.manifest_edits.push(Box::new(e));
        self
    }
    /// Replace the manifest payload's bytes (after edits) with these.
    pub fn manifest_bytes(mut self, e: impl Fn(&[u8]) -> Vec<u8> + 'static) -> Self {
        self.manifest_bytes = Some(Box::new(e));
        self
    }
    pub fn manifest_type(mut self, t: &'static str) -> Self {
        self.manifest_type = t;
        self
    }
    pub fn manifest_signers(mut self, s: &[u8]) -> Self {
        self.manifest_signers = s.to_vec();
        self
    }
    pub fn manifest_envelope(mut self, e: impl Fn(&mut Value) + 'static) -> Self {
        self.manifest_envelope = Some(Box::new(e));
        self
    }
    pub fn delegation(mut self, e: impl Fn(&mut Value) + 'static) -> Self {
        self.delegation_edits.push(Box::new(e));
        self
    }
    pub fn delegation_signers(mut self, s: &[u8]) -> Self {
        self.delegation_signers = s.to_vec();
        self
    }
    pub fn delegation_type(mut self, t: &'static str) -> Self {
        self.delegation_type = t;
        self
    }
    /// Replace the approvals with none.
    pub fn no_approvals(mut self) -> Self {
        self.approvals.clear();
        self
    }
    /// Replace the approvals with one, edited, signed by `signers`.
    pub fn approval(mut self, e: impl Fn(&mut Value) + 'static, signers: &[u8]) -> Self {
        self.approvals = vec![(Box::new(e), signers.to_vec())];
        self
    }
    /// Add one more approval.
    pub fn and_approval(mut self, e: impl Fn(&mut Value) + 'static, signers: &[u8]) -> Self {
        self.approvals.push((Box::new(e), signers.to_vec()));
        self
    }
    pub fn header(mut self, e: impl Fn(&mut [u8; 24]) + 'static) -> Self {
        self.header = Some(Box::new(e));
        self
    }
    pub fn payload(mut self, e: impl Fn(&mut Vec<u8>) + 'static) -> Self {
        self.payload = Some(Box::new(e));
        self
    }
    /// Edit the finished file's bytes.
    pub fn whole(mut self, e: impl Fn(&mut Vec<u8>) + 'static) -> Self {
        self.whole = Some(Box::new(e));
        self
    }

    pub fn build(&self) -> Vec<u8> {
        let payload: Vec<u8> = self.files.iter().flat_map(|(_, b)| b.clone()).collect();
        let chunks: Vec<String> = payload.chunks(self.chunk_size).map(sha).collect();
        let mut manifest = json!({
            "bundle_id": self.id,
            "version": self.version,
            "content_type": self.content_type,
            "vendor": "acme",
            "title": "Conformance",
            "tablet_model": "any",
            "created": ISSUED,
            "expires": EXPIRES,
            "chunk_size": self.chunk_size,
            "total_size": payload.len(),
            "chunks": chunks,
            "files": self.files.iter().map(|(p, b)| json!({"path": p, "size": b.len(), "sha256": sha(b)})).collect::<Vec<_>>(),
        });
        for e in &self.manifest_edits {
            e(&mut manifest);
        }
        let mut m_bytes = to_bytes(&manifest);
        if let Some(f) = &self.manifest_bytes {
            m_bytes = f(&m_bytes);
        }
        let manifest_hash = sha(&m_bytes);
        let mut m_env = envelope(self.manifest_type, &m_bytes, &self.manifest_signers);
        if let Some(e) = &self.manifest_envelope {
            let mut v = envelope_value(&m_env);
            e(&mut v);
            m_env = to_bytes(&v);
        }

        let mut delegation = json!({
            "facility": FACILITY,
            "vendor": "acme",
            "key": hex_key(seed::VENDOR),
            "content_types": ["books", "education"],
            "max_bundle_bytes": 1u64 << 20,
            "issued": ISSUED,
            "expires": EXPIRES,
        });
        for e in &self.delegation_edits {
            e(&mut delegation);
        }
        let d_env = envelope(
            self.delegation_type,
            &to_bytes(&delegation),
            &self.delegation_signers,
        );

        let approvals: Vec<Vec<u8>> = self
            .approvals
            .iter()
            .map(|(edit, signers)| {
                let mut a = json!({
                    "facility": FACILITY,
                    "bundle_id": self.id,
                    "version": self.version,
                    "manifest_sha256": manifest_hash,
                    "groups": ["facility"],
                    "approved_at": ISSUED,
                });
                edit(&mut a);
                envelope(payload_type::APPROVAL, &to_bytes(&a), signers)
            })
            .collect();

        let mut header = [0u8; 24];
        header[..8].copy_from_slice(b"BERTHBN1");
        header[8..10].copy_from_slice(&1u16.to_le_bytes());
        header[12..16].copy_from_slice(&(m_env.len() as u32).to_le_bytes());
        header[16..20].copy_from_slice(&(d_env.len() as u32).to_le_bytes());
        header[20..22].copy_from_slice(&(approvals.len() as u16).to_le_bytes());
        if let Some(e) = &self.header {
            e(&mut header);
        }
        let mut out = header.to_vec();
        out.extend_from_slice(&m_env);
        out.extend_from_slice(&d_env);
        for a in &approvals {
            out.extend_from_slice(&(a.len() as u32).to_le_bytes());
            out.extend_from_slice(a);
        }
        let mut payload = payload;
        if let Some(e) = &self.payload {
            e(&mut payload);
        }
        out.extend_from_slice(&payload);
        if let Some(e) = &self.whole {
            e(&mut out);
        }
        out
    }
}

/// Base64 whose last data character carries non-zero spare bits: the same
/// bytes to a lax decoder, refused by a canonical one (§ notation).
fn non_canonical_b64(s: &str) -> String {
    let trimmed = s.trim_end_matches('=');
    assert!(trimmed.len() < s.len(), "needs padding to have spare bits");
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let last = trimmed.as_bytes()[trimmed.len() - 1];
    let i = alphabet.iter().position(|c| *c == last).unwrap();
    let mut out = trimmed[..trimmed.len() - 1].to_string();
    out.push(alphabet[i | 1] as char);
    out.push_str(&s[trimmed.len()..]);
    out
}

fn path_files(paths: &[&str]) -> Vec<(String, Vec<u8>)> {
    paths
        .iter()
        .enumerate()
        .map(|(i, p)| (p.to_string(), format!("file {i}\n").into_bytes()))
        .collect()
}

/// A case whose file list holds one path of its own beside `hello.txt`.
fn path_case(name: &str, path: &str) -> Craft {
    Craft::new(name).files(path_files(&["hello.txt", path]))
}

fn refused(names: &'static str) -> Verdict {
    Verdict::Refused { names }
}

fn enrolled() -> Start {
    Start::Enrolled { before: vec![] }
}

fn after(names: &[&str]) -> Start {
    Start::Enrolled {
        before: names.iter().map(|s| s.to_string()).collect(),
    }
}

/// Every case, in the order of the spec.
pub fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    // A bundle case: both tools see the same file.
    let mut b = |name: &str,
                 rule: &'static str,
                 craft: Craft,
                 tablet: Verdict,
                 facility: Option<Verdict>| {
        let bundle = craft.build();
        out.push(Case {
            name: name.into(),
            rule,
            bundle: Some(bundle),
            offer: None,
            root: None,
            start: enrolled(),
            tablet,
            facility,
        });
    };
    let ok = || Some(Verdict::Accepted);
    use Verdict::Accepted;

    // -- valid bundles --------------------------------------------------
    b(
        "valid",
        "§3.3, §4: a valid bundle",
        Craft::new("valid"),
        Accepted,
        ok(),
    );
    b(
        "valid-empty-file",
        "§3.3: a file may be empty",
        Craft::new("valid-empty-file").files(vec![
            ("empty.txt".into(), vec![]),
            ("hello.txt".into(), b"Hello\n".to_vec()),
        ]),
        Accepted,
        ok(),
    );
    b(
        "valid-no-payload",
        "§3.3: total_size 0 has zero chunks",
        Craft::new("valid-no-payload").files(vec![("empty.txt".into(), vec![])]),
        Accepted,
        ok(),
    );
    b(
        "valid-exact-chunks",
        "§4: a payload of whole chunks (the last chunk is not short)",
        Craft::new("valid-exact-chunks").files(vec![("a.bin".into(), vec![7u8; 2048])]),
        Accepted,
        ok(),
    );
    b(
        "valid-largest-chunk-size",
        "§3.3: chunk_size 4,194,304 is allowed",
        Craft::new("valid-largest-chunk-size").chunk_size(4 << 20),
        Accepted,
        ok(),
    );
    b(
        "valid-member-order-and-space",
        "§2: member order and white space do not matter",
        Craft::new("valid-member-order-and-space").manifest_bytes(|bytes| {
            let v: serde_json::Map<String, Value> = serde_json::from_slice(bytes).unwrap();
            let mut entries: Vec<_> = v.into_iter().collect();
            entries.reverse();
            let body: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("\n  {} : {}", json!(k), v))
                .collect();
            format!("{{{}\n}}", body.join(" ,")).into_bytes()
        }),
        Accepted,
        ok(),
    );
    b(
        "valid-escaped-title",
        "JSON rules: \\u escapes are decoded (title `señora` written `se\\u00f1ora`)",
        Craft::new("valid-escaped-title").manifest_bytes(|bytes| {
            String::from_utf8(bytes.to_vec())
                .unwrap()
                .replace(
                    "\"title\":\"Conformance\"",
                    "\"title\":\"se\\u00f1ora \\ud83d\\udcda\"",
                )
                .into_bytes()
        }),
        Accepted,
        ok(),
    );
    b(
        "valid-future-created",
        "JSON rules: a `created` in the future is accepted",
        Craft::new("valid-future-created")
            .manifest(|m| m["created"] = json!("2098-01-01T00:00:00Z")),
        Accepted,
        ok(),
    );
    b(
        "valid-fraction-of-second",
        "JSON rules: a time may carry 1 to 9 digits of fraction",
        Craft::new("valid-fraction-of-second")
            .manifest(|m| m["expires"] = json!("2099-01-01T00:00:00.123456789Z")),
        Accepted,
        ok(),
    );
    b(
        "valid-model",
        "§3.3: tablet_model equal to the tablet's",
        Craft::new("valid-model").manifest(|m| m["tablet_model"] = json!(MODEL)),
        Accepted,
        ok(),
    );
    b(
        "valid-unit-group",
        "§3.4: an approval for the tablet's unit",
        Craft::new("valid-unit-group")
            .approval(|a| a["groups"] = json!(["unit:b-east"]), &[seed::APPROVAL]),
        Accepted,
        ok(),
    );
    b(
        "valid-person-group",
        "§3.4: an approval for one person (`person:a12345` names the tablet's `person:A12345`)",
        Craft::new("valid-person-group").approval(
            |a| a["groups"] = json!(["unit:c-west", "person:a12345"]),
            &[seed::APPROVAL],
        ),
        Accepted,
        ok(),
    );
    b(
        "valid-one-good-approval",
        "§3.4: at least one approval must verify; a bad one beside it is ignored",
        Craft::new("valid-one-good-approval")
            .approval(|_| {}, &[seed::STRANGER])
            .and_approval(|_| {}, &[seed::APPROVAL]),
        Accepted,
        ok(),
    );
    b(
        "valid-extra-signature",
        "§2: a signature by a key the role does not list is not counted, and does no harm",
        Craft::new("valid-extra-signature").manifest_signers(&[seed::STRANGER, seed::VENDOR]),
        Accepted,
        ok(),
    );
    b(
        "valid-safe-path-limits",
        "§3.3 safe paths: 8 components, 100-byte components, 255 bytes in all",
        path_case(
            "valid-safe-path-limits",
            &format!(
                "{}/{}/b/c/d/e/f/{}",
                "a".repeat(100),
                "B".repeat(100),
                "x_-.9".repeat(8) + "z"
            ),
        ),
        Accepted,
        ok(),
    );

    // -- §4 container -----------------------------------------------------
    b(
        "header-magic",
        "§4: magic is BERTHBN1",
        Craft::new("header-magic").header(|h| h[7] = b'2'),
        refused("magic"),
        Some(refused("magic")),
    );
    b(
        "header-version",
        "§4: format version is 1",
        Craft::new("header-version").header(|h| h[8] = 2),
        refused("version"),
        Some(refused("version")),
    );
    b(
        "header-flags",
        "§4: flags are 0",
        Craft::new("header-flags").header(|h| h[10] = 1),
        refused("flags"),
        Some(refused("flags")),
    );
    b(
        "header-reserved",
        "§4: reserved is 0",
        Craft::new("header-reserved").header(|h| h[23] = 1),
        refused("reserved"),
        Some(refused("reserved")),
    );
    b(
        "header-manifest-length-zero",
        "§4: M is 1 to 8,388,608",
        Craft::new("header-manifest-length-zero")
            .header(|h| h[12..16].copy_from_slice(&0u32.to_le_bytes())),
        refused("manifest"),
        Some(refused("manifest")),
    );
    b(
        "header-manifest-length-over-cap",
        "§4: M over 8 MiB is refused before it is read",
        Craft::new("header-manifest-length-over-cap")
            .header(|h| h[12..16].copy_from_slice(&(8u32 * 1024 * 1024 + 1).to_le_bytes())),
        refused("manifest"),
        Some(refused("manifest")),
    );
    b(
        "header-delegation-length-over-cap",
        "§4: D is 1 to 65,536",
        Craft::new("header-delegation-length-over-cap")
            .header(|h| h[16..20].copy_from_slice(&65_537u32.to_le_bytes())),
        refused("delegation"),
        Some(refused("delegation")),
    );
    b(
        "header-too-many-approvals",
        "§4: N is 0 to 16",
        Craft::new("header-too-many-approvals")
            .header(|h| h[20..22].copy_from_slice(&17u16.to_le_bytes())),
        refused("approval"),
        Some(refused("approval")),
    );
    {
        // The first approval's length field says 65,537.
        let base = Craft::new("header-approval-length-over-cap");
        let good = base.build();
        let (m, d) = (
            u32::from_le_bytes(good[12..16].try_into().unwrap()) as usize,
            u32::from_le_bytes(good[16..20].try_into().unwrap()) as usize,
        );
        let at = 24 + m + d;
        b(
            "header-approval-length-over-cap",
            "§4: an approval envelope is 1 to 65,536 bytes",
            base.whole(move |f| f[at..at + 4].copy_from_slice(&65_537u32.to_le_bytes())),
            refused("approval"),
            Some(refused("approval")),
        );
    }
    b(
        "header-cut",
        "§4: a file that ends inside the header",
        Craft::new("header-cut").whole(|f| f.truncate(20)),
        refused("header"),
        Some(refused("header")),
    );
    b(
        "header-cut-in-manifest",
        "§4: a file that ends inside the manifest envelope",
        Craft::new("header-cut-in-manifest").whole(|f| f.truncate(100)),
        refused("manifest"),
        Some(refused("manifest")),
    );

    // -- §2 envelopes -----------------------------------------------------
    b(
        "envelope-unknown-member",
        "§2: an envelope has exactly three members",
        Craft::new("envelope-unknown-member").manifest_envelope(|e| e["note"] = json!("hi")),
        refused("note"),
        Some(refused("note")),
    );
    b(
        "envelope-not-json",
        "§2: the envelope is JSON",
        Craft::new("envelope-not-json").whole(|f| f[24] = b'['),
        refused("envelope"),
        Some(refused("envelope")),
    );
    b(
        "envelope-payload-type",
        "§2: a manifest signed as another payload type never verifies as a manifest",
        Craft::new("envelope-payload-type").manifest_type(payload_type::APPROVAL),
        refused("payload type"),
        Some(refused("payload type")),
    );
    b(
        "envelope-non-canonical-base64",
        "notation: base64 with non-zero spare bits is refused",
        Craft::new("envelope-non-canonical-base64").manifest_envelope(|e| {
            let s = e["payload"].as_str().unwrap().to_string();
            e["payload"] = json!(non_canonical_b64(&s));
        }),
        refused("base64"),
        Some(refused("base64")),
    );
    b(
        "envelope-short-signature",
        "§2: a signature is 64 bytes",
        Craft::new("envelope-short-signature").manifest_envelope(|e| {
            e["signatures"][0]["sig"] = json!(B64.encode([0u8; 63]));
        }),
        refused("64"),
        Some(refused("64")),
    );
    b(
        "envelope-17-signatures",
        "§2: at most 16 signatures",
        Craft::new("envelope-17-signatures").manifest_envelope(|e| {
            let s = e["signatures"][0].clone();
            e["signatures"] = Value::Array(vec![s; 17]);
        }),
        refused("16"),
        Some(refused("16")),
    );
    b(
        "envelope-bad-signature",
        "§2: a signature over other bytes does not verify",
        Craft::new("envelope-bad-signature").manifest_envelope(|e| {
            let p = B64.decode(e["payload"].as_str().unwrap()).unwrap();
            let mut v: Value = serde_json::from_slice(&p).unwrap();
            v["title"] = json!("Changed after signing");
            e["payload"] = json!(B64.encode(to_bytes(&v)));
        }),
        refused("signature"),
        Some(refused("signature")),
    );
    b(
        "envelope-unsigned",
        "§2: a manifest with no signature",
        Craft::new("envelope-unsigned").manifest_signers(&[]),
        refused("signature"),
        Some(refused("signature")),
    );
    b(
        "manifest-not-delegated-key",
        "§3.2: the manifest is signed by the delegated vendor key",
        Craft::new("manifest-not-delegated-key").manifest_signers(&[seed::STRANGER]),
        refused("signature"),
        Some(refused("signature")),
    );
    b(
        "delegation-signed-by-vendor",
        "§2: a delegation is signed by the approval role, not the vendor",
        Craft::new("delegation-signed-by-vendor").delegation_signers(&[seed::VENDOR]),
        refused("delegation"),
        Some(refused("delegation")),
    );
    b(
        "delegation-signed-by-policy-role",
        "§3.1: no role stands in for another (the policy key signs a delegation)",
        Craft::new("delegation-signed-by-policy-role").delegation_signers(&[seed::POLICY]),
        refused("delegation"),
        Some(refused("delegation")),
    );
    b(
        "delegation-payload-type",
        "§2: a delegation signed as a manifest",
        Craft::new("delegation-payload-type").delegation_type(payload_type::MANIFEST),
        refused("payload type"),
        Some(refused("payload type")),
    );
    b(
        "approval-signed-by-vendor",
        "§3.4: an approval verifies under the approval role only",
        Craft::new("approval-signed-by-vendor").approval(|_| {}, &[seed::VENDOR]),
        refused("approval"),
        ok(),
    );
    b(
        "approval-signed-by-dock-role",
        "§3.4: the dock key cannot approve",
        Craft::new("approval-signed-by-dock-role").approval(|_| {}, &[seed::DOCK]),
        refused("approval"),
        ok(),
    );

    // -- JSON rules -------------------------------------------------------
    b(
        "json-array-payload",
        "JSON rules: the payload is one JSON object",
        Craft::new("json-array-payload")
            .manifest_bytes(|bytes| [b"[".as_slice(), bytes, b"]"].concat()),
        refused("object"),
        Some(refused("object")),
    );
    b(
        "json-trailing-data",
        "JSON rules: nothing follows the object",
        Craft::new("json-trailing-data")
            .manifest_bytes(|bytes| [bytes, b" {}".as_slice()].concat()),
        refused("after the JSON object"),
        Some(refused("after the JSON object")),
    );
    b(
        "json-duplicate-member",
        "JSON rules: no member is named twice",
        Craft::new("json-duplicate-member")
            .manifest_bytes(|bytes| [b"{\"version\":9,".as_slice(), &bytes[1..]].concat()),
        refused("version"),
        Some(refused("version")),
    );
    b(
        "json-unknown-member",
        "§2: unknown payload members are an error",
        Craft::new("json-unknown-member").manifest(|m| m["license"] = json!("free")),
        refused("license"),
        Some(refused("license")),
    );
    b(
        "json-missing-member",
        "§3.3: every member is required",
        Craft::new("json-missing-member").manifest(|m| {
            m.as_object_mut().unwrap().remove("title");
        }),
        refused("title"),
        Some(refused("title")),
    );
    b(
        "json-time-offset",
        "JSON rules: times are UTC with `Z`, not an offset",
        Craft::new("json-time-offset")
            .manifest(|m| m["expires"] = json!("2099-01-01T01:00:00+01:00")),
        refused("expires"),
        Some(refused("expires")),
    );
    b(
        "json-time-lowercase",
        "JSON rules: a capital `T` and `Z`",
        Craft::new("json-time-lowercase")
            .manifest(|m| m["expires"] = json!("2099-01-01t00:00:00z")),
        refused("expires"),
        Some(refused("expires")),
    );
    b(
        "json-time-space",
        "JSON rules: `T`, not a space, between date and time",
        Craft::new("json-time-space").manifest(|m| m["created"] = json!("2026-01-01 00:00:00")),
        refused("created"),
        Some(refused("created")),
    );
    b(
        "json-number-fraction",
        "JSON rules: whole numbers without fraction or exponent",
        Craft::new("json-number-fraction").manifest_bytes(|bytes| {
            String::from_utf8(bytes.to_vec())
                .unwrap()
                .replacen("\"version\":1", "\"version\":1.0", 1)
                .into_bytes()
        }),
        refused("version"),
        Some(refused("version")),
    );
    b(
        "json-number-too-large",
        "JSON rules: numbers up to 2^64 − 1",
        Craft::new("json-number-too-large").manifest_bytes(|bytes| {
            String::from_utf8(bytes.to_vec())
                .unwrap()
                .replacen("\"version\":1", "\"version\":18446744073709551616", 1)
                .into_bytes()
        }),
        refused("version"),
        Some(refused("version")),
    );
    b(
        "json-number-negative",
        "JSON rules: numbers from 0",
        Craft::new("json-number-negative").manifest_bytes(|bytes| {
            String::from_utf8(bytes.to_vec())
                .unwrap()
                .replacen("\"version\":1", "\"version\":-1", 1)
                .into_bytes()
        }),
        refused("version"),
        Some(refused("version")),
    );
    b(
        "json-string-for-number",
        "§3.3: a size is a number, not a string",
        Craft::new("json-string-for-number").manifest(|m| m["files"][0]["size"] = json!("3000")),
        refused("size"),
        Some(refused("size")),
    );

    // -- §3.3 manifest fields ---------------------------------------------
    let m = |name: &str, rule: &'static str, edit: fn(&mut Value), names: &'static str| {
        (
            name.to_string(),
            rule,
            Craft::new(name).manifest(edit),
            names,
        )
    };
    for (name, rule, craft, names) in [
        m(
            "bundle-id-uppercase",
            "§3.3: bundle_id is a-z 0-9 - . _",
            |m| m["bundle_id"] = json!("acme.Hello"),
            "bundle_id",
        ),
        m(
            "bundle-id-too-long",
            "§3.3: bundle_id is 1 to 64 bytes",
            |m| m["bundle_id"] = json!(format!("a{}", "b".repeat(64))),
            "bundle_id",
        ),
        m(
            "bundle-id-leading-dot",
            "§3.3: bundle_id starts with a letter or digit",
            |m| m["bundle_id"] = json!(".acme"),
            "bundle_id",
        ),
        m(
            "version-zero",
            "§3.3: version ≥ 1",
            |m| m["version"] = json!(0),
            "version",
        ),
        m(
            "content-type-unknown",
            "§3.2: content types are education, books, music",
            |m| m["content_type"] = json!("firmware"),
            "content_type",
        ),
        m(
            "title-too-long",
            "§3.3: title at most 200 bytes",
            |m| m["title"] = json!("t".repeat(201)),
            "title",
        ),
        m(
            "title-control-character",
            "§3.3: no control characters in the title",
            |m| m["title"] = json!("Hello\u{7}"),
            "title",
        ),
        m(
            "model-name-invalid",
            "§3.3: a model name is a-z 0-9 - . _",
            |m| m["tablet_model"] = json!("Berth T1"),
            "tablet_model",
        ),
        m(
            "expires-before-created",
            "§3.3: expires after created",
            |m| m["expires"] = json!("2025-01-01T00:00:00Z"),
            "expires",
        ),
        m(
            "chunk-size-not-power-of-two",
            "§3.3: chunk_size is a power of two",
            |m| m["chunk_size"] = json!(1536),
            "chunk_size",
        ),
        m(
            "chunk-size-too-small",
            "§3.3: chunk_size at least 1,024",
            |m| m["chunk_size"] = json!(512),
            "chunk_size",
        ),
        m(
            "chunk-size-too-large",
            "§3.3: chunk_size at most 4,194,304",
            |m| m["chunk_size"] = json!(8 << 20),
            "chunk_size",
        ),
        m(
            "total-size-not-sum",
            "§3.3: total_size is the sum of the file sizes",
            |m| m["total_size"] = json!(m["total_size"].as_u64().unwrap() + 1),
            "total_size",
        ),
        m(
            "chunks-too-few",
            "§3.3: ceil(total_size / chunk_size) chunk hashes",
            |m| {
                m["chunks"].as_array_mut().unwrap().pop();
            },
            "chunks",
        ),
        m(
            "chunks-too-many",
            "§3.3: ceil(total_size / chunk_size) chunk hashes",
            |m| {
                let c = m["chunks"][0].clone();
                m["chunks"].as_array_mut().unwrap().push(c);
            },
            "chunks",
        ),
        m(
            "chunk-hash-not-hex",
            "§3: hashes are 64 lowercase hex digits",
            |m| m["chunks"][0] = json!("AB".repeat(32)),
            "chunks",
        ),
        m(
            "files-empty",
            "§3.3: 1 to 10,000 files",
            |m| {
                m["files"] = json!([]);
                m["total_size"] = json!(0);
                m["chunks"] = json!([]);
            },
            "files",
        ),
        m(
            "vendor-mismatch",
            "§3.3: vendor equals the delegation's",
            |m| m["vendor"] = json!("other"),
            "vendor",
        ),
    ] {
        b(&name, rule, craft, refused(names), Some(refused(names)));
    }
    b(
        "content-type-not-delegated",
        "§3.2: content_type is in the delegation's content_types",
        Craft::new("content-type-not-delegated").manifest(|m| m["content_type"] = json!("music")),
        refused("music"),
        Some(refused("music")),
    );
    b(
        "manifest-expired",
        "§3.3: refused at or after expires",
        Craft::new("manifest-expired").manifest(|m| m["expires"] = json!(PAST)),
        refused("expired"),
        Some(refused("expired")),
    );
    b(
        "model-other",
        "§3.3: a model that is not the tablet's",
        Craft::new("model-other").manifest(|m| m["tablet_model"] = json!("berth-t9")),
        refused("berth-t9"),
        ok(),
    );
    b(
        "over-delegated-size",
        "§3.2: total_size at most max_bundle_bytes",
        Craft::new("over-delegated-size").delegation(|d| d["max_bundle_bytes"] = json!(2048)),
        refused("max_bundle_bytes"),
        Some(refused("max_bundle_bytes")),
    );
    {
        // 10,001 empty files: one over the cap.
        let files: Vec<(String, Vec<u8>)> =
            (0..10_001).map(|i| (format!("f/{i:05}"), vec![])).collect();
        b(
            "files-too-many",
            "§3.3: 1 to 10,000 files",
            Craft::new("files-too-many").files(files),
            refused("files"),
            Some(refused("files")),
        );
    }

    // -- §3.3 safe paths --------------------------------------------------
    for (name, path, names) in [
        ("path-absolute", "/etc/passwd", "path"),
        ("path-dot-dot", "../escape.txt", "path"),
        ("path-inner-dot-dot", "a/../../escape.txt", "path"),
        ("path-dot", "./hello2.txt", "path"),
        ("path-backslash", "a\\b.txt", "path"),
        ("path-nul", "a\u{0}b.txt", "path"),
        ("path-non-ascii", "señora.txt", "path"),
        ("path-space", "a b.txt", "path"),
        ("path-empty-component", "a//b.txt", "path"),
        ("path-trailing-slash", "a/", "path"),
        ("path-empty", "", "path"),
        ("path-nine-components", "a/b/c/d/e/f/g/h/i", "path"),
        ("path-component-101-bytes", "x", "path"),
        ("path-256-bytes", "x", "path"),
    ] {
        let path = match name {
            "path-component-101-bytes" => "c".repeat(101),
            "path-256-bytes" => {
                format!("{}/{}/{}", "a".repeat(100), "b".repeat(100), "c".repeat(54))
            }
            _ => path.to_string(),
        };
        b(
            name,
            "§3.3 safe paths",
            path_case(name, &path),
            refused(names),
            Some(refused(names)),
        );
    }
    b(
        "path-duplicate",
        "§3.3 safe paths: paths are unique",
        Craft::new("path-duplicate").files(path_files(&["a.txt", "a.txt"])),
        refused("path"),
        Some(refused("path")),
    );
    b(
        "path-file-and-directory",
        "§3.3 safe paths: no path is also a directory of another",
        Craft::new("path-file-and-directory").files(path_files(&["a", "a/b"])),
        refused("path"),
        Some(refused("path")),
    );

    // -- §3.2 delegation --------------------------------------------------
    let d = |name: &str, rule: &'static str, edit: fn(&mut Value), names: &'static str| {
        (
            name.to_string(),
            rule,
            Craft::new(name).delegation(edit),
            names,
        )
    };
    for (name, rule, craft, names) in [
        d(
            "delegation-expired",
            "§3.2: an expired delegation",
            |d| d["expires"] = json!(PAST),
            "expired",
        ),
        d(
            "delegation-other-facility",
            "§3.2: the delegation names this facility",
            |d| d["facility"] = json!("elsewhere"),
            "facility",
        ),
        d(
            "delegation-expires-before-issued",
            "§3.2: expires after issued",
            |d| d["expires"] = json!("2025-01-01T00:00:00Z"),
            "expires",
        ),
        d(
            "delegation-no-content-types",
            "§3.2: a non-empty subset",
            |d| d["content_types"] = json!([]),
            "content_types",
        ),
        d(
            "delegation-unknown-content-type",
            "§3.2: education, books or music",
            |d| d["content_types"] = json!(["education", "firmware"]),
            "content_types",
        ),
        d(
            "delegation-max-bytes-zero",
            "§3.2: max_bundle_bytes from 1",
            |d| d["max_bundle_bytes"] = json!(0),
            "max_bundle_bytes",
        ),
        d(
            "delegation-max-bytes-over-64-gib",
            "§3.2: max_bundle_bytes at most 2^36",
            |d| d["max_bundle_bytes"] = json!((1u64 << 36) + 1),
            "max_bundle_bytes",
        ),
        d(
            "delegation-vendor-invalid",
            "§3.2: vendor is a-z 0-9 -",
            |d| d["vendor"] = json!("Acme"),
            "vendor",
        ),
        d(
            "delegation-other-key",
            "§3.2: the manifest's key is the delegated one",
            |d| d["key"] = json!(hex_key(seed::STRANGER)),
            "signature",
        ),
    ] {
        b(&name, rule, craft, refused(names), Some(refused(names)));
    }

    // -- §3.4 approvals ---------------------------------------------------
    b(
        "approval-none",
        "§3.4: a tablet installs only approved bundles",
        Craft::new("approval-none").no_approvals(),
        refused("approv"),
        ok(),
    );
    let a = |name: &str, rule: &'static str, edit: fn(&mut Value), names: &'static str| {
        (
            name.to_string(),
            rule,
            Craft::new(name).approval(edit, &[seed::APPROVAL]),
            names,
        )
    };
    for (name, rule, craft, names) in [
        a(
            "approval-other-group",
            "§3.4: shares a group with the tablet",
            |a| a["groups"] = json!(["unit:c-west"]),
            "approv",
        ),
        a(
            "approval-other-manifest",
            "§3.4: names this manifest hash",
            |a| a["manifest_sha256"] = json!("00".repeat(32)),
            "approv",
        ),
        a(
            "approval-other-bundle",
            "§3.4: names this bundle_id",
            |a| a["bundle_id"] = json!("acme.other"),
            "approv",
        ),
        a(
            "approval-other-version",
            "§3.4: names this version",
            |a| a["version"] = json!(2),
            "approv",
        ),
        a(
            "approval-other-facility",
            "§3.4: names this facility",
            |a| a["facility"] = json!("elsewhere"),
            "approv",
        ),
        a(
            "approval-no-groups",
            "§3.4: 1 to 64 groups",
            |a| a["groups"] = json!([]),
            "approv",
        ),
        a(
            "approval-65-groups",
            "§3.4: 1 to 64 groups",
            |a| a["groups"] = json!((0..65).map(|i| format!("unit:u{i}")).collect::<Vec<_>>()),
            "approv",
        ),
        a(
            "approval-group-invalid",
            "§3.4: a group is 1 to 64 of a-z 0-9 - : . _",
            |a| a["groups"] = json!(["unit:b east"]),
            "approv",
        ),
    ] {
        b(&name, rule, craft, refused(names), ok());
    }

    // -- §4, §5 payload -----------------------------------------------------
    b(
        "payload-chunk-lie",
        "§5 step 3: each chunk matches its hash (one byte flipped)",
        Craft::new("payload-chunk-lie").payload(|p| p[1500] ^= 1),
        refused("chunk 1"),
        Some(refused("chunk 1")),
    );
    b(
        "payload-file-hash-lie",
        "§5 step 3: each file matches its SHA-256 (chunk hashes are right)",
        Craft::new("payload-file-hash-lie")
            .manifest(|m| m["files"][1]["sha256"] = json!("00".repeat(32))),
        refused("es/hola.txt"),
        Some(refused("es/hola.txt")),
    );
    b(
        "payload-file-size-lie",
        "§5 step 3: file sizes that shift bytes between files (the sum is right)",
        Craft::new("payload-file-size-lie").manifest(|m| {
            m["files"][0]["size"] = json!(3005);
            m["files"][1]["size"] = json!(m["files"][1]["size"].as_u64().unwrap() - 5);
        }),
        refused("data/table.bin"),
        Some(refused("data/table.bin")),
    );
    b(
        "payload-trailing-byte",
        "§4: the file ends exactly after total_size payload bytes",
        Craft::new("payload-trailing-byte").whole(|f| f.push(0)),
        refused("longer than"),
        Some(refused("longer than")),
    );
    b(
        "payload-short",
        "§4: a file shorter than its payload",
        Craft::new("payload-short").whole(|f| {
            f.truncate(f.len() - 10);
        }),
        refused("ends after 3021"),
        Some(refused("ends after 3021")),
    );

    // -- rollback and re-offers (the tablet's own state) -------------------
    let mut t = |name: &str,
                 rule: &'static str,
                 craft: Option<Craft>,
                 offer: Option<&str>,
                 start: Start,
                 tablet: Verdict,
                 facility: Option<Verdict>| {
        out.push(Case {
            name: name.into(),
            rule,
            bundle: craft.map(|c| c.build()),
            offer: offer.map(str::to_string),
            root: None,
            start,
            tablet,
            facility,
        });
    };
    t(
        "update-v2",
        "§3.3: a higher version replaces the installed one",
        Some(Craft::new("update").version(2)),
        None,
        after(&["update-v1"]),
        Accepted,
        ok(),
    );
    t(
        "update-v1",
        "§3.3: (set-up) version 1",
        Some(Craft::new("update")),
        None,
        enrolled(),
        Accepted,
        ok(),
    );
    t(
        "rollback-older-version",
        "§3.3: a version lower than the highest installed is refused",
        None,
        Some("update-v1"),
        after(&["update-v2"]),
        refused("version"),
        ok(),
    );
    t(
        "rollback-same-version-other-content",
        "§3.3: the same version with another manifest hash is refused",
        Some(Craft::new("update").manifest(|m| m["title"] = json!("Other"))),
        None,
        after(&["update-v1"]),
        refused("version 1"),
        ok(),
    );
    t(
        "reoffer-same",
        "§5 step 6: the installed bundle offered again is already current",
        None,
        Some("update-v1"),
        after(&["update-v1"]),
        Verdict::Current,
        ok(),
    );
    t(
        "reoffer-damaged",
        "§5 step 6: an installed bundle offered again with a flipped payload byte is refused as damaged",
        Some(Craft::new("update").payload(|p| p[10] ^= 0x20)),
        None,
        after(&["update-v1"]),
        refused("chunk 0"),
        Some(refused("chunk 0")),
    );
    t(
        "reoffer-trailing",
        "§5 step 6: an installed bundle offered again with a byte appended is refused",
        Some(Craft::new("update").whole(|f| f.push(b'\n'))),
        None,
        after(&["update-v1"]),
        refused("longer than"),
        Some(refused("longer than")),
    );

    // -- §3.1 roots ---------------------------------------------------------
    let mut r = |name: &str,
                 rule: &'static str,
                 root: Vec<u8>,
                 start: Start,
                 names: Option<&'static str>,
                 facility: bool| {
        let verdict = match names {
            Some(n) => refused(n),
            None => Accepted,
        };
        out.push(Case {
            name: name.into(),
            rule,
            bundle: None,
            offer: Some("valid".into()),
            root: Some(root),
            start,
            tablet: verdict.clone(),
            facility: facility.then_some(verdict),
        });
    };
    let [r1, r2, r3] = seed::ROOT;
    r(
        "root-valid-first",
        "§3.1: a first root that meets its own threshold",
        root(),
        Start::Fresh,
        None,
        true,
    );
    r(
        "root-expired",
        "§3.1: an expired root",
        root_with(|d| d["expires"] = json!(PAST), &[r1, r2]),
        Start::Fresh,
        Some("expired"),
        true,
    );
    r(
        "root-below-threshold",
        "§3.1: threshold 2 signed by one key",
        root_with(|_| {}, &[r1]),
        Start::Fresh,
        Some("2 needed"),
        true,
    );
    r(
        "root-one-key-twice",
        "§1: one key signing twice counts once",
        root_with(|_| {}, &[r1, r1]),
        Start::Fresh,
        Some("2 needed"),
        true,
    );
    r(
        "root-signed-by-other-keys",
        "§3.1: signatures by keys the root does not list",
        root_with(|_| {}, &[seed::STRANGER, seed::APPROVAL]),
        Start::Fresh,
        Some("2 needed"),
        true,
    );
    r(
        "root-key-in-two-roles",
        "§3.1: no key appears in two roles",
        root_with(
            |d| d["roles"]["dock"]["keys"] = json!([hex_key(seed::POLICY)]),
            &[r1, r2],
        ),
        Start::Fresh,
        Some("role"),
        true,
    );
    r(
        "root-role-missing",
        "§3.1: all seven roles are present",
        root_with(
            |d| {
                d["roles"].as_object_mut().unwrap().remove("dock");
            },
            &[r1, r2],
        ),
        Start::Fresh,
        Some("dock"),
        true,
    );
    r(
        "root-threshold-zero",
        "§3.1: threshold from 1",
        root_with(
            |d| d["roles"]["approval"]["threshold"] = json!(0),
            &[r1, r2],
        ),
        Start::Fresh,
        Some("threshold"),
        true,
    );
    r(
        "root-threshold-over-keys",
        "§3.1: threshold at most the number of keys",
        root_with(
            |d| d["roles"]["root"]["threshold"] = json!(4),
            &[r1, r2, r3],
        ),
        Start::Fresh,
        Some("threshold"),
        true,
    );
    r(
        "root-duplicate-key",
        "§3.1: a role's keys are distinct",
        root_with(
            |d| d["roles"]["root"]["keys"] = json!([hex_key(r1), hex_key(r1), hex_key(r2)]),
            &[r1, r2],
        ),
        Start::Fresh,
        Some("key"),
        true,
    );
    r(
        "root-17-keys",
        "§3.1: 1 to 16 keys per role",
        root_with(
            |d| {
                d["roles"]["policy"]["keys"] =
                    json!((0x40..0x51u8).map(hex_key).collect::<Vec<_>>())
            },
            &[r1, r2],
        ),
        Start::Fresh,
        Some("16"),
        true,
    );
    r(
        "root-version-zero",
        "§3.1: version ≥ 1",
        root_with(|d| d["version"] = json!(0), &[r1, r2]),
        Start::Fresh,
        Some("version"),
        true,
    );
    r(
        "root-facility-invalid",
        "§3.1: facility is a-z 0-9 -",
        root_with(|d| d["facility"] = json!("River Side"), &[r1, r2]),
        Start::Fresh,
        Some("facility"),
        true,
    );
    r(
        "root-role-unknown-member",
        "§3.1: a role has exactly keys and threshold",
        root_with(|d| d["roles"]["dock"]["note"] = json!("x"), &[r1, r2]),
        Start::Fresh,
        Some("note"),
        true,
    );
    r(
        "root-payload-type",
        "§2: a root signed as a delegation",
        envelope(
            payload_type::DELEGATION,
            &to_bytes(&root_doc(1, &seed::ROOT, EXPIRES)),
            &[r1, r2],
        ),
        Start::Fresh,
        Some("payload type"),
        true,
    );
    // Rotation: the enrolled tablet trusts version 1.
    let v2 = |edit: fn(&mut Value), signers: &[u8]| {
        let mut doc = root_doc(2, &seed::NEW_ROOT, EXPIRES);
        edit(&mut doc);
        envelope(payload_type::ROOT, &to_bytes(&doc), signers)
    };
    let [n1, n2, _] = seed::NEW_ROOT;
    r(
        "rotation-valid",
        "§3.1: version 2 signed by the threshold of version 1 and of version 2",
        v2(|_| {}, &[r1, r2, n1, n2]),
        enrolled(),
        None,
        false,
    );
    r(
        "rotation-new-keys-only",
        "§3.1: version 2 must meet version 1's threshold",
        v2(|_| {}, &[n1, n2]),
        enrolled(),
        Some("2 needed"),
        false,
    );
    r(
        "rotation-old-keys-only",
        "§3.1: version 2 must meet its own threshold",
        v2(|_| {}, &[r1, r2]),
        enrolled(),
        Some("2 needed"),
        false,
    );
    r(
        "rotation-skips-a-version",
        "§3.1: version exactly N+1",
        v2(|d| d["version"] = json!(3), &[r1, r2, n1, n2]),
        enrolled(),
        Some("version"),
        false,
    );
    r(
        "rotation-other-facility",
        "§3.1: the same facility",
        v2(|d| d["facility"] = json!("elsewhere"), &[r1, r2, n1, n2]),
        enrolled(),
        Some("facility"),
        false,
    );
    r(
        "rotation-expired",
        "§3.1: an expired root",
        v2(|d| d["expires"] = json!(PAST), &[r1, r2, n1, n2]),
        enrolled(),
        Some("expired"),
        false,
    );

    out
}

/// The bundle the enrolled tablet starts with.
pub fn base() -> Vec<u8> {
    Craft::new("base").build()
}

/// `cases.json`: the manifest of every case.
pub fn manifest(cases: &[Case]) -> Value {
    let verdict = |v: &Verdict| match v {
        Verdict::Accepted => json!({"verdict": "accepted"}),
        Verdict::Current => json!({"verdict": "current"}),
        Verdict::Refused { names } => json!({"verdict": "refused", "names": names}),
    };
    let list: Vec<Value> = cases
        .iter()
        .map(|c| {
            let (start, before) = match &c.start {
                Start::Fresh => ("fresh", vec![]),
                Start::Enrolled { before } => ("enrolled", before.clone()),
            };
            let mut v = json!({
                "name": c.name,
                "rule": c.rule,
                "bundle": format!("bundles/{}.berth", c.bundle_name()),
                "tablet": {
                    "start": start,
                    "before": before.iter().map(|b| format!("bundles/{b}.berth")).collect::<Vec<_>>(),
                    "expect": verdict(&c.tablet),
                },
                "facility": match &c.facility {
                    Some(f) => json!({"expect": verdict(f)}),
                    None => Value::Null,
                },
            });
            if c.root.is_some() {
                v["root"] = json!(format!("roots/{}.json", c.name));
            }
            v
        })
        .collect();
    json!({
        "format": "berth-bundle-1",
        "facility": FACILITY,
        "root": "root.json",
        "base": "bundles/base.berth",
        "tablet": {"model": MODEL, "groups": GROUPS},
        "cases": list,
    })
}
