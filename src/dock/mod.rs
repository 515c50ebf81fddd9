//! The facility dock: one process with an embedded SQLite database that
//! tablets sync with, staff review letters in, the mail gateway writes
//! `.eml` files from, and vendors upload bundles to.
//!
//! Layout of the dock's data directory `D`:
//! ```text
//! D/dock.db            the database (WAL, synchronous=FULL)
//! D/dock.toml          optional settings: mail_domain, keywords, max_upload_bytes
//! D/bundles/           uploaded bundles by manifest SHA-256 (pending and approved)
//! D/incoming/          vendor uploads in progress
//! D/gateway/outbox/    approved letters as RFC 5322 .eml files for a relay
//! D/gateway/maildir/   a Maildir (tmp/, new/, cur/) the relay delivers into;
//!                      messages in new/ are imported into review
//! D/gateway/processed/ imported messages, as SHA256.eml
//! D/gateway/refused/   refused messages, as SHA256.eml with a .reason file
//! ```
//! Invariant: SQL for the dock lives in `db.rs` only.

mod bundles;
pub mod contacts;
mod db;
pub mod gateway;
pub mod mail;
mod review;
pub mod server;
mod session;
pub mod staff;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use serde::Deserialize;

use crate::domain::sync::FeedEntry;
use crate::domain::{GroupId, PublicKey};
use crate::facility::Facility;
use crate::trust::{SigningKey, TrustedRoot, payload_type as pt, signed};

pub use bundles::PendingBundle;
pub use db::{ContactRequestRow, LetterRow, NoContactRow, PendingTablet, StaffAuditRow, TabletRow};
pub use review::{HistoryLine, ReviewFilter, ReviewItem, ReviewKind, ReviewPage};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("dock database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("dock database could not be migrated: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Facility(#[from] crate::facility::Error),
    #[error(transparent)]
    Trust(#[from] crate::trust::Error),
    #[error(transparent)]
    Domain(#[from] crate::domain::Error),
    #[error(transparent)]
    Bundle(#[from] crate::bundle::Error),
    #[error("{0}")]
    Refused(String),
    #[error("no {what} {id}; {hint}")]
    NotFound {
        what: &'static str,
        id: String,
        hint: &'static str,
    },
    #[error("{path}: {why}")]
    Config { path: PathBuf, why: String },
    #[error("connection cut at {0}")]
    Cut(String),
    #[error("{0}; nothing was changed")]
    Staff(#[from] crate::domain::staff::StaffError),
    #[error(
        "tablet {code} is not enrolled at this dock; facility IT enrols it by the code on its screen: \
         `berth-facility enroll --code {code} --name NAME --groups G --data D`"
    )]
    NotEnrolled { code: crate::domain::DeviceCode },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A damaged dock database: what was found, and the recovery.
fn damaged(path: &Path, found: &str) -> Error {
    Error::Refused(format!(
        "{} is damaged ({found}); the dock will not use it. Stop the dock, keep a copy of the damaged file, \
         and restore dock.db from the last backup (docs/mail.md, \"Backups\"). Tablets keep their letters \
         and send them again when the dock is back",
        path.display()
    ))
}

pub(crate) fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Settings from `D/dock.toml`; every field has a default.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DockConfig {
    /// Letters leave as `PERSON@mail_domain`, and replies come back there.
    pub mail_domain: String,
    /// Words that put a letter first in the review queue.
    pub keywords: Vec<String>,
    /// Largest vendor upload accepted, in bytes.
    pub max_upload_bytes: u64,
    /// How the From address of inbound mail is trusted.
    pub sender_check: gateway::SenderCheck,
    /// The facility's mail relay, `HOST:PORT`, that approved letters are
    /// submitted to by SMTP. Unset: they wait in `gateway/outbox/` as
    /// `.eml` files, and stay "approved".
    pub smtp_relay: Option<String>,
    /// Sessions of known tablets and vendors at once.
    pub max_sessions: usize,
    /// Connections whose peer is not yet known (TLS handshake, or a key
    /// the dock does not know), in all.
    pub max_unknown_connections: usize,
    /// … and from one address.
    pub max_unknown_per_address: usize,
    /// Seconds a connection may take from accept to a known key; a
    /// stranger's whole connection must fit in it.
    pub handshake_seconds: u64,
    /// With `sender_check = "authentication-results"`: the relay's
    /// authserv-id, the first word of the `Authentication-Results` header
    /// it adds.
    pub authserv_id: String,
    /// The reasons a reviewer picks from when rejecting a letter (the
    /// writer reads the reason, so each is written for them).
    pub reject_reasons: Vec<String>,
    /// The reasons a legal mail officer picks from for privileged mail,
    /// which nobody reads: each is about the sender or the recipient.
    pub legal_reject_reasons: Vec<String>,
}

impl Default for DockConfig {
    fn default() -> Self {
        DockConfig {
            mail_domain: "letters.berth.invalid".into(),
            keywords: Vec::new(),
            max_upload_bytes: 4 << 30,
            smtp_relay: None,
            max_sessions: 128,
            max_unknown_connections: 32,
            max_unknown_per_address: 8,
            handshake_seconds: 10,
            sender_check: gateway::SenderCheck::None,
            authserv_id: String::new(),
            reject_reasons: [
                "Mentions another person's case / Menciona el caso de otra persona",
                "Threatens or harasses someone / Amenaza o acosa a alguien",
                "Plans to break a facility rule / Planea romper una regla del centro",
                "Asks the contact to pass a message on / Pide reenviar un mensaje a otra persona",
                "Contains coded or unreadable text / Contiene texto en clave o ilegible",
            ]
            .map(String::from)
            .to_vec(),
            legal_reject_reasons: [
                "The sender is not the attorney on file / El remitente no es el abogado registrado",
                "The attorney is no longer on your contact list / El abogado ya no está en su lista de contactos",
                "Not legal mail: send it as an ordinary letter / No es correo legal: envíelo como carta normal",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

/// What every connection shares: facility trust, keys and settings.
pub(crate) struct Shared {
    pub facility_dir: PathBuf,
    pub data: PathBuf,
    pub root: TrustedRoot,
    pub dock_key: SigningKey,
    pub messaging_key: SigningKey,
    /// Signs the contact lists the dock publishes when a contact accepts.
    pub contacts_key: SigningKey,
    pub config: DockConfig,
    /// Test hook: returning true for a step name drops the connection
    /// there (see `Dock::with_cuts`).
    pub cut: Option<CutHook>,
}

pub type CutHook = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// The dock: shared state and one database connection.
pub struct Dock {
    shared: Arc<Shared>,
    db: db::DockDb,
}

impl Dock {
    /// Make a new dock in `data` (created if missing) for the facility in
    /// `facility_dir`. Refused when `data` already holds a dock database.
    pub fn init(facility_dir: &Path, data: &Path) -> Result<Self> {
        // The facility is checked before anything is written.
        Facility::open(facility_dir)?;
        let db_path = data.join("dock.db");
        if db_path.exists() {
            return Err(Error::Refused(format!(
                "{} already exists; nothing was changed. This data directory already holds a dock",
                db_path.display()
            )));
        }
        std::fs::create_dir_all(data).map_err(io(data))?;
        db::DockDb::create(&db_path)?;
        let dock = Self::open(facility_dir, data)?;
        dock.ensure_layout()?;
        Ok(dock)
    }

    /// Make the dock's folders (bundles, uploads, the gateway's Maildir,
    /// outbox, processed and refused) where they are missing. Only what
    /// writes calls this (`init`, `serve`, imports, approvals, uploads):
    /// a read-only command creates nothing.
    pub fn ensure_layout(&self) -> Result<()> {
        for sub in [
            "bundles",
            "incoming",
            "gateway/outbox",
            "gateway/maildir/tmp",
            "gateway/maildir/new",
            "gateway/maildir/cur",
            "gateway/processed",
            "gateway/refused",
        ] {
            let p = self.shared.data.join(sub);
            std::fs::create_dir_all(&p).map_err(io(&p))?;
        }
        Ok(())
    }

    /// Open the dock, or make it if `data` holds none (the demo set-up).
    pub fn open_or_init(facility_dir: &Path, data: &Path) -> Result<Self> {
        if data.join("dock.db").exists() {
            Self::open(facility_dir, data)
        } else {
            Self::init(facility_dir, data)
        }
    }

    /// Open the dock in `data` for the facility in `facility_dir`. The
    /// database must exist (see [`Dock::init`]); nothing is created when it
    /// does not.
    pub fn open(facility_dir: &Path, data: &Path) -> Result<Self> {
        let facility = Facility::open(facility_dir)?;
        let db_path = data.join("dock.db");
        let db = db::DockDb::open(&db_path).map_err(|e| match &e {
            Error::Sqlite(rusqlite::Error::SqliteFailure(f, _))
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
                ) =>
            {
                damaged(&db_path, &e.to_string())
            }
            Error::Migration(m) if m.to_string().contains("malformed") => {
                damaged(&db_path, &m.to_string())
            }
            _ => e,
        })?;
        let config_path = data.join("dock.toml");
        let config = if config_path.exists() {
            let bytes = crate::facility::read_capped(&config_path, 1 << 20)?;
            let text = String::from_utf8(bytes).map_err(|_| Error::Config {
                path: config_path.clone(),
                why: "not UTF-8 text".into(),
            })?;
            toml::from_str(&text).map_err(|e| Error::Config {
                path: config_path.clone(),
                why: e.to_string(),
            })?
        } else {
            DockConfig::default()
        };
        let shared = Shared {
            facility_dir: facility_dir.to_path_buf(),
            data: data.to_path_buf(),
            root: facility.root().clone(),
            dock_key: facility.key("dock")?,
            messaging_key: facility.key("messaging")?,
            contacts_key: facility.key("contacts")?,
            config,
            cut: None,
        };
        Ok(Dock {
            shared: Arc::new(shared),
            db,
        })
    }

    /// Another handle on the same dock with its own database connection,
    /// for a connection thread.
    pub fn handle(&self) -> Result<Dock> {
        Ok(Dock {
            shared: self.shared.clone(),
            db: db::DockDb::open(&self.shared.data.join("dock.db"))?,
        })
    }

    /// Install a cut hook before the dock is shared: each named server step
    /// is a crash-test failpoint, and `cut(step)` returning true drops the
    /// connection there, as a crash or a pulled cable would.
    pub fn with_cuts(mut self, cut: CutHook) -> Self {
        if let Some(s) = Arc::get_mut(&mut self.shared) {
            s.cut = Some(cut);
        }
        self
    }

    pub(crate) fn step(&self, name: &str) -> Result<()> {
        crate::failpoint(name);
        match &self.shared.cut {
            Some(cut) if cut(name) => Err(Error::Cut(name.to_string())),
            _ => Ok(()),
        }
    }

    /// SQLite's full integrity check of `dock.db`. A dock that fails it
    /// must not serve: the error names the recovery.
    pub fn check_integrity(&self) -> Result<()> {
        match self.db.integrity_check()? {
            Ok(()) => Ok(()),
            Err(found) => Err(damaged(
                &self.shared.data.join("dock.db"),
                &format!("it failed SQLite's integrity check: {found}"),
            )),
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.shared.data
    }

    pub fn config(&self) -> &DockConfig {
        &self.shared.config
    }

    /// The dock's public key, which tablets pin through the root.
    /// The facility this dock serves.
    pub fn facility(&self) -> String {
        self.shared.root.doc().facility.to_string()
    }

    pub fn public_key(&self) -> PublicKey {
        self.shared.dock_key.public()
    }

    /// Register a tablet's device key under a name, bound to groups.
    pub fn enroll(
        &mut self,
        actor: &staff::Actor,
        key: PublicKey,
        name: &str,
        groups: &[GroupId],
    ) -> Result<()> {
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            return Err(Error::Refused(format!(
                "tablet name {name:?} is not valid; use 1-64 of A-Z a-z 0-9 . _ -"
            )));
        }
        if groups.is_empty() {
            return Err(Error::Refused(
                "name at least one group, e.g. --groups unit:b-east".into(),
            ));
        }
        let mut gs: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        if !gs.iter().any(|g| g == "facility") {
            gs.insert(0, "facility".into());
        }
        let groups = gs.join(" ");
        let label = actor.label();
        let detail = format!("key={}; groups={groups}", key.to_hex());
        self.db.enroll(
            &key.to_hex(),
            name,
            &groups,
            &db::StaffAuditNew {
                at: Utc::now(),
                actor: &label,
                action: "tablet.enrol",
                target: name,
                detail: &detail,
            },
        )
    }

    /// Enrol the tablet that showed `code` on its screen: one that tried
    /// to sync here before it was enrolled (so the dock holds its key).
    pub fn enroll_by_code(
        &mut self,
        actor: &staff::Actor,
        code: &crate::domain::DeviceCode,
        name: &str,
        groups: &[GroupId],
    ) -> Result<PublicKey> {
        let found: Vec<PendingTablet> = self
            .db
            .pending_tablets()?
            .into_iter()
            .filter(|p| p.code == code.as_str())
            .collect();
        let key = match found.as_slice() {
            [one] => PublicKey::from_hex(&one.key).map_err(|e| {
                Error::Refused(format!("the dock holds a damaged key for {code}: {e}"))
            })?,
            [] => {
                return Err(Error::NotFound {
                    what: "tablet waiting to be enrolled with code",
                    id: code.to_string(),
                    hint: "put the tablet in the dock so it tries to sync, then check the code on its screen; \
                           `berth-facility tablets --data D` lists the tablets waiting",
                });
            }
            _ => {
                return Err(Error::Refused(format!(
                    "more than one waiting tablet shows {code}; enrol it by its key with --key \
                     (`berth-facility tablets --data D` lists them). Nothing was changed"
                )));
            }
        };
        self.enroll(actor, key, name, groups)?;
        Ok(key)
    }

    /// Tablets that tried to sync before they were enrolled.
    pub fn pending_tablets(&self) -> Result<Vec<PendingTablet>> {
        self.db.pending_tablets()
    }

    /// Revoke a tablet by name or key; it is refused from its next sync.
    pub fn revoke(&mut self, actor: &staff::Actor, tablet: &str) -> Result<()> {
        let label = actor.label();
        self.db.revoke(
            tablet,
            &db::StaffAuditNew {
                at: Utc::now(),
                actor: &label,
                action: "tablet.revoke",
                target: tablet,
                detail: "",
            },
        )
    }

    pub fn tablets(&self) -> Result<Vec<TabletRow>> {
        self.db.tablets()
    }

    /// A person's use per day as the tablets reported it:
    /// (day, metered secs, free secs, letters).
    pub fn usage_of(&self, person: &str) -> Result<Vec<(String, u64, u64, u32)>> {
        self.db.usage_of(person)
    }

    /// Publish a signed roster, policy or contact list for tablets to pull.
    /// It is verified against the facility root first; an older version
    /// than the one held is refused.
    pub fn publish(&mut self, bytes: &[u8]) -> Result<(String, String, u64)> {
        let env = crate::trust::Envelope::from_bytes(bytes)?;
        let root = &self.shared.root;
        let now = Utc::now();
        match env.payload_type() {
            pt::ROSTER => {
                let r = root.verify_roster(bytes)?;
                let scope = r.group.to_string();
                let people: Vec<(String, String)> = r
                    .people
                    .iter()
                    .map(|p| (p.id.to_string(), p.display_name.clone()))
                    .collect();
                self.db
                    .publish("roster", &scope, r.version, bytes, now, |tx| {
                        db::set_roster_people(tx, &scope, &people)
                    })?;
                Ok(("roster".into(), scope, r.version))
            }
            pt::POLICY => {
                let p = root.verify_policy(bytes)?;
                let scope = p.scope.to_string();
                self.db
                    .publish("policy", &scope, p.version, bytes, now, |_| Ok(()))?;
                Ok(("policy".into(), scope, p.version))
            }
            pt::CONTACTS => {
                let c = root.verify_contacts(bytes)?;
                let scope = c.person.group().to_string();
                let person = c.person.to_string();
                let rows: Vec<db::ContactRow> = c
                    .contacts
                    .iter()
                    .map(|x| db::ContactRow {
                        contact: x.id.to_string(),
                        name: x.name.clone(),
                        email: x.email.clone(),
                        attorney: x.attorney,
                    })
                    .collect();
                self.db
                    .publish("contacts", &scope, c.version, bytes, now, |tx| {
                        db::set_contacts(tx, &person, &rows)
                    })?;
                Ok(("contacts".into(), scope, c.version))
            }
            pt::ENTITLEMENT => {
                let e = root.verify_entitlement(bytes)?;
                let key = &self.shared.messaging_key;
                let sign = |x: &FeedEntry| Dock::sign_entry(key, x);
                self.db.grant_entitlement(
                    &e.id,
                    e.person.as_str(),
                    &e.item.to_string(),
                    bytes,
                    now,
                    &sign,
                )?;
                Ok(("entitlement".into(), e.person.to_string(), 1))
            }
            other => Err(Error::Refused(format!(
                "a {other:?} document cannot be published to the dock; publish a signed roster, policy, contact list or entitlement"
            ))),
        }
    }

    /// Certificates tablets uploaded: (id, person, course, received, envelope).
    pub fn certificates(&self) -> Result<Vec<db::CertificateRecord>> {
        self.db.certificates()
    }

    /// Does the dock know this key: an enrolled, unrevoked tablet, or a
    /// vendor key the facility delegated to (`F/delegations/KEY.delegation`,
    /// still valid)?
    pub fn is_known_peer(&self, key: &PublicKey) -> Result<bool> {
        if let Some(t) = self.db.tablet(&key.to_hex())? {
            return Ok(t.revoked_at.is_none());
        }
        let path = self
            .shared
            .facility_dir
            .join("delegations")
            .join(format!("{}.delegation", key.to_hex()));
        let Ok(bytes) = crate::facility::read_capped(&path, crate::trust::MAX_ENVELOPE_BYTES)
        else {
            return Ok(false);
        };
        Ok(self
            .shared
            .root
            .verify_delegation(&bytes, Utc::now())
            .is_ok_and(|d| d.key == *key))
    }

    /// The person's id and name as a published roster gives them, if any
    /// roster at this dock lists them.
    pub fn person(&self, id: &str) -> Result<Option<(String, String)>> {
        self.db.person(id)
    }

    /// A person's entitlements: (receipt id, item, issued).
    pub fn entitlements_of(&self, person: &str) -> Result<Vec<(String, String, String)>> {
        self.db.entitlements_of(person)
    }

    /// Sign a feed entry with the messaging key. `seq` is filled by the
    /// database in the same transaction.
    pub(crate) fn sign_entry(key: &SigningKey, entry: &FeedEntry) -> Vec<u8> {
        signed::sign(key, pt::FEED_ENTRY, entry)
    }

    /// Refusals logged for staff (unapproved senders, refused uploads).
    pub fn refusals(&self) -> Result<Vec<(String, String, String)>> {
        self.db.refusals()
    }
}
