//! The mail gateway: approved letters leave as RFC 5322 `.eml` files that
//! any relay can pick up; replies come back as `.eml` files, accepted only
//! from a person's approved contacts, and go through the same review.
//!
//! A letter from person `A12345` leaves from `a12345@MAIL_DOMAIN`, so a
//! reply to it names its person. Message-IDs are `<letter-id@MAIL_DOMAIN>`:
//! writing the same letter twice gives the same file and the same id.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::Utc;
use mail_builder::MessageBuilder;

use super::db::InboundRow;
use super::{Dock, Error, Result, io};
use crate::domain::messages::OutboundMessage;
use crate::domain::time::ts;

pub use super::mail::{MAX_BODY_CHARS, MAX_EML_BYTES, ParsedMail, Removed, parse_mail};

/// Write `bytes` as `dir/ID.eml`: temporary file, fsync, rename.
pub fn write_eml(dir: &Path, id: &str, bytes: &[u8]) -> Result<()> {
    let path = dir.join(format!("{id}.eml"));
    crate::facility::write_atomic(&path, bytes)?;
    Ok(())
}

/// Deliver `bytes` into the Maildir at `root` the way a mail system does:
/// write and fsync `tmp/NAME`, then rename it into `new/`. Returns NAME.
/// (Tests and tools use this; Postfix does the same itself.)
pub fn deliver_to_maildir(root: &Path, bytes: &[u8]) -> Result<String> {
    use std::io::Write;
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    for sub in ["tmp", "new", "cur"] {
        let p = root.join(sub);
        fs::create_dir_all(&p).map_err(io(&p))?;
    }
    let now = Utc::now();
    let name = format!(
        "{}.M{}P{}Q{}.berth",
        now.timestamp(),
        now.timestamp_subsec_micros(),
        std::process::id(),
        COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    );
    let tmp = root.join("tmp").join(&name);
    let mut f = fs::File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    drop(f);
    let new = root.join("new").join(&name);
    fs::rename(&tmp, &new).map_err(io(&new))?;
    sync_dir(&root.join("new"))?;
    Ok(name)
}

/// What one import run did. Every message found in `new/` is in exactly
/// one of `accepted`, `duplicates` or `refused`.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// Messages that entered review for at least one person.
    pub accepted: Vec<String>,
    /// Messages whose content was already imported for every recipient.
    pub duplicates: Vec<String>,
    /// (message, reason): nobody received it.
    pub refused: Vec<(String, String)>,
    /// (message, person, reason): accepted for others, refused for these.
    pub refused_for: Vec<(String, String, String)>,
    /// (message, what it did): answers to contact invitations.
    pub answers: Vec<(String, String)>,
}

impl ImportReport {
    pub fn total(&self) -> usize {
        self.accepted.len() + self.answers.len() + self.duplicates.len() + self.refused.len()
    }
}

/// How a facility trusts the From address of inbound mail.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SenderCheck {
    /// The From header is taken as it is. Only for a relay that accepts
    /// mail from nowhere but trusted senders; the dock warns at start.
    #[default]
    None,
    /// The facility's relay checks DKIM and DMARC (for example OpenDKIM
    /// and OpenDMARC as Postfix milters) and adds an
    /// `Authentication-Results` header with its `authserv_id`. The topmost
    /// such header must say `dmarc=pass` for the From domain (or
    /// `dkim=pass` with `header.d` of that domain).
    AuthenticationResults,
}

enum Outcome {
    /// Entered review for these people (some may have been refused).
    Accepted,
    Duplicate,
    /// An answer to a contact invitation (in `report.answers`).
    Answered,
}

impl Dock {
    /// The `.eml` for an approved letter.
    pub(crate) fn render_letter(&self, msg: &OutboundMessage) -> Result<Vec<u8>> {
        let domain = &self.shared.config.mail_domain;
        let (pid, name) = self
            .db
            .person(msg.person.as_str())?
            .unwrap_or_else(|| (msg.person.to_string(), msg.person.to_string()));
        let contacts = self.db.contacts_of(msg.person.as_str())?;
        let (_, cname, email, _) = contacts
            .into_iter()
            .find(|c| c.0 == msg.contact.as_str())
            .ok_or_else(|| {
                Error::Refused(format!(
                    "{} is no longer an approved contact of {}; the letter cannot be delivered. Reject it instead",
                    msg.contact, msg.person
                ))
            })?;
        let from = format!("{}@{domain}", pid.to_ascii_lowercase());
        let privileged = if msg.attorney {
            "Privileged legal mail. It was not read by facility staff.\n\n"
        } else {
            ""
        };
        MessageBuilder::new()
            .from((name.clone(), from.clone()))
            .reply_to((name.clone(), from))
            .to((cname, email))
            .subject(format!("Letter from {name}"))
            .message_id(format!("{}@{domain}", msg.id))
            .date(msg.written_at.timestamp())
            .header(
                "X-Berth-Letter",
                mail_builder::headers::raw::Raw::new(msg.id.clone()),
            )
            .text_body(format!("{privileged}{}", msg.body))
            .write_to_vec()
            .map_err(|e| Error::Refused(format!("could not write the letter as email: {e}")))
    }

    /// The gateway's Maildir (`D/gateway/maildir`).
    pub fn maildir(&self) -> PathBuf {
        self.shared.data.join("gateway").join("maildir")
    }

    /// Import every message in `ROOT/new/` of the Maildir at `root`
    /// (default [`Dock::maildir`]). A mail system writes into `tmp/` and
    /// renames into `new/`, so a message half written is never seen.
    ///
    /// Each message is either accepted (in review for each recipient who
    /// approves the sender), a duplicate of one already imported (the same
    /// bytes: the hash of the raw message, not its Message-ID), or refused
    /// with a reason staff can see (`gateway refusals`, and a `.reason`
    /// file beside it in `gateway/refused/`). Accepted and duplicate
    /// messages move to `gateway/processed/SHA256.eml`. The database write
    /// comes first, so a crash between the two leaves a file that the next
    /// run sees as a duplicate: nothing is lost or imported twice.
    pub fn import_mail(&mut self, root: Option<&Path>) -> Result<ImportReport> {
        self.ensure_layout()?;
        let default_root = self.maildir();
        let root = root.unwrap_or(&default_root);
        let new = root.join("new");
        if !new.is_dir() {
            return Err(Error::Refused(format!(
                "{} is not a Maildir: it has no new/ folder. Deliver mail into ROOT/tmp/ and rename it into ROOT/new/",
                root.display()
            )));
        }
        let mut files: Vec<(String, PathBuf)> = Vec::new();
        for e in fs::read_dir(&new).map_err(io(&new))? {
            let e = e.map_err(io(&new))?;
            let name = e.file_name().to_string_lossy().into_owned();
            // Maildir readers skip dot files.
            if name.starts_with('.') {
                continue;
            }
            files.push((name, e.path()));
        }
        files.sort();
        let mut report = ImportReport::default();
        let gateway = self.shared.data.join("gateway");
        for (name, path) in files {
            let meta = fs::symlink_metadata(&path).map_err(io(&path))?;
            let read = if !meta.is_file() {
                Err(Error::Refused("this is not a regular file".into()))
            } else if meta.len() > MAX_EML_BYTES as u64 {
                Err(Error::Refused(format!(
                    "the message is {} bytes; the limit is {MAX_EML_BYTES}",
                    meta.len()
                )))
            } else {
                crate::facility::read_capped(&path, MAX_EML_BYTES).map_err(Error::from)
            };
            let (bytes, result) = match read {
                Ok(bytes) => {
                    let r = self.import_one(&name, &bytes, &mut report);
                    (bytes, r)
                }
                Err(e) => (Vec::new(), Err(e)),
            };
            let sha = crate::trust::sha256(&bytes).to_hex();
            match result {
                Ok(outcome) => {
                    match outcome {
                        Outcome::Accepted => report.accepted.push(name.clone()),
                        Outcome::Answered => {}
                        Outcome::Duplicate => report.duplicates.push(name.clone()),
                    }
                    let dest = gateway.join("processed").join(format!("{sha}.eml"));
                    move_file(&path, &dest)?;
                }
                // The database failing (busy, full disk) says nothing about
                // the message: it stays in new/ for the next run.
                Err(e @ (Error::Sqlite(_) | Error::Migration(_))) => return Err(e),
                Err(e) => {
                    let reason = e.to_string();
                    self.db
                        .log_refusal(Utc::now(), &format!("mail {name}"), &reason)?;
                    let stem = if bytes.is_empty() { name.clone() } else { sha };
                    let dest = gateway.join("refused").join(format!("{stem}.eml"));
                    crate::facility::write_atomic(
                        &dest.with_extension("reason"),
                        format!("{name}: {reason}\n").as_bytes(),
                    )?;
                    move_file(&path, &dest)?;
                    report.refused.push((name, reason));
                }
            }
        }
        Ok(report)
    }

    fn import_one(
        &mut self,
        name: &str,
        bytes: &[u8],
        report: &mut ImportReport,
    ) -> Result<Outcome> {
        let mail = parse_mail(bytes)?;
        self.check_sender(&mail)?;
        if let Some(token) = self.invitation_token(&mail.recipients, &mail.subject) {
            if !self.db.no_contact_by_email(&mail.sender)?.is_empty() {
                return Err(Error::Refused(format!(
                    "{} is on a no-contact list; the answer was not imported",
                    mail.sender
                )));
            }
            return Ok(
                match self.answer_invitation(&token, &mail.sender, &mail.body)? {
                    Some(what) => {
                        report.answers.push((name.to_string(), what));
                        Outcome::Answered
                    }
                    None => Outcome::Duplicate,
                },
            );
        }
        let domain = self.shared.config.mail_domain.to_ascii_lowercase();
        let people: Vec<String> = mail
            .recipients
            .iter()
            .filter_map(|r| r.strip_suffix(&format!("@{domain}")))
            .filter_map(|local| self.db.person(local).ok().flatten())
            .map(|(id, _)| id)
            .fold(Vec::new(), |mut v, p| {
                if !v.contains(&p) {
                    v.push(p);
                }
                v
            });
        if people.is_empty() {
            return Err(Error::Refused(format!(
                "no recipient is a person at {domain} (To and Cc: {})",
                if mail.recipients.is_empty() {
                    "none".into()
                } else {
                    mail.recipients.join(", ")
                }
            )));
        }
        let content_sha256 = crate::trust::sha256(bytes).to_hex();
        let sent_at = mail.sent_at.unwrap_or_else(Utc::now);
        let now = Utc::now();
        let (mut stored, mut already) = (0, 0);
        let mut refusals = Vec::new();
        let listed = self.db.no_contact_by_email(&mail.sender)?;
        for person in &people {
            if listed.iter().any(|(p, _)| p.eq_ignore_ascii_case(person)) {
                refusals.push((
                    person.clone(),
                    format!(
                        "{} is on {person}'s no-contact list; the message was never imported for {person}",
                        mail.sender
                    ),
                ));
                continue;
            }
            let contact = self
                .db
                .contacts_of(person)?
                .into_iter()
                .find(|c| c.2 == mail.sender);
            let Some(contact) = contact else {
                refusals.push((
                    person.clone(),
                    format!(
                        "{} is not on {person}'s approved contact list; the message was not delivered to {person}",
                        mail.sender
                    ),
                ));
                continue;
            };
            let inserted = self.db.insert_inbound(&InboundRow {
                id: uuid::Uuid::new_v4().to_string(),
                content_sha256: content_sha256.clone(),
                message_id: mail.message_id.clone().unwrap_or_default(),
                person: person.clone(),
                contact: contact.0,
                attorney: contact.3,
                sender: mail.sender.clone(),
                subject: mail.subject.clone(),
                body: mail.body.clone(),
                removed: mail.removed.clone(),
                sent_at: ts(&sent_at),
                received_at: ts(&now),
                state: "in-review".into(),
                reason: String::new(),
            })?;
            if inserted { stored += 1 } else { already += 1 }
        }
        if stored + already == 0 {
            let reasons: Vec<String> = refusals.into_iter().map(|(_, r)| r).collect();
            return Err(Error::Refused(reasons.join("; ")));
        }
        for (person, reason) in refusals {
            // Logged only the first time this content is seen, so a
            // re-run after a crash does not log it twice.
            if stored > 0 {
                self.db
                    .log_refusal(now, &format!("mail {name} for {person}"), &reason)?;
            }
            report.refused_for.push((name.to_string(), person, reason));
        }
        Ok(if stored > 0 {
            Outcome::Accepted
        } else {
            Outcome::Duplicate
        })
    }

    fn check_sender(&self, mail: &ParsedMail) -> Result<()> {
        match self.shared.config.sender_check {
            SenderCheck::None => Ok(()),
            SenderCheck::AuthenticationResults => super::mail::check_authentication_results(
                &mail.auth_results,
                &self.shared.config.authserv_id,
                &mail.sender,
            ),
        }
    }
}

/// Rename, or copy and remove when `from` is on another file system.
fn move_file(from: &Path, to: &Path) -> Result<()> {
    if fs::rename(from, to).is_ok() {
        if let Some(dir) = to.parent() {
            sync_dir(dir)?;
        }
        return Ok(());
    }
    let bytes = fs::read(from).map_err(io(from))?;
    crate::facility::write_atomic(to, &bytes)?;
    fs::remove_file(from).map_err(io(from))
}

fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))
}

/// What one pass of the relay sender did.
#[derive(Debug, Default)]
pub struct SendReport {
    pub sent: Vec<String>,
    /// (letter, why): tried again later.
    pub failed: Vec<(String, String)>,
}

/// How long to wait after the `attempts`-th failure: 30 s, doubling, at
/// most an hour.
pub fn backoff(attempts: u32) -> chrono::Duration {
    let secs = 30u64.saturating_mul(1u64 << attempts.saturating_sub(1).min(16));
    chrono::Duration::seconds(secs.min(3600) as i64)
}

impl Dock {
    /// Submit every approved letter that is due to the relay in
    /// `dock.toml` (`smtp_relay`). A letter becomes "sent" only once the
    /// relay accepted it; a failure is recorded and tried again later
    /// ([`backoff`]). With no relay set, nothing is sent.
    ///
    /// Crash safety: the state changes after the relay's answer. A crash
    /// between the two submits the letter again at the next start, with
    /// the same Message-ID, which mail systems take as the same message.
    pub fn send_approved(&mut self) -> Result<SendReport> {
        let mut report = SendReport::default();
        let Some(relay) = self.shared.config.smtp_relay.clone() else {
            return Ok(report);
        };
        let (host, port) = match relay.rsplit_once(':').map(|(h, p)| (h, p.parse::<u16>())) {
            Some((h, Ok(p))) if !h.is_empty() => (h.to_string(), p),
            _ => {
                return Err(Error::Config {
                    path: self.shared.data.join("dock.toml"),
                    why: format!("smtp_relay = {relay:?}: write HOST:PORT, e.g. \"127.0.0.1:25\""),
                });
            }
        };
        let now = Utc::now();
        let due = self.db.letters_to_send(now, 100)?;
        let invitations = self.db.invitations_to_send(now, 100)?;
        if due.is_empty() && invitations.is_empty() {
            return Ok(report);
        }
        let transport = lettre::SmtpTransport::builder_dangerous(host)
            .port(port)
            .timeout(Some(std::time::Duration::from_secs(30)))
            .build();
        let outbox = self.shared.data.join("gateway").join("outbox");
        let sent_dir = outbox.join("sent");
        fs::create_dir_all(&sent_dir).map_err(io(&sent_dir))?;
        let shared = self.shared.clone();
        for (id, attempts) in due {
            let path = outbox.join(format!("{id}.eml"));
            let result = fs::read(&path)
                .map_err(|e| format!("{}: {e}", path.display()))
                .and_then(|bytes| submit(&transport, &bytes).map(|()| bytes));
            match result {
                Ok(_) => {
                    let sign = |e: &crate::domain::sync::FeedEntry| {
                        Dock::sign_entry(&shared.messaging_key, e)
                    };
                    self.db.mark_sent(&id, Utc::now(), &sign)?;
                    move_file(&path, &sent_dir.join(format!("{id}.eml")))?;
                    report.sent.push(id);
                }
                Err(why) => {
                    let attempts = attempts + 1;
                    self.db
                        .mark_send_failed(&id, attempts, now + backoff(attempts), &why)?;
                    report.failed.push((id, why));
                }
            }
        }
        // Contact invitations: the same relay, the same back-off. Their
        // state is the request's ("invited") whether or not the relay has
        // taken the message yet; staff see where it is.
        for (id, attempts) in invitations {
            let file = format!("invite-{id}.eml");
            let path = outbox.join(&file);
            let result = fs::read(&path)
                .map_err(|e| format!("{}: {e}", path.display()))
                .and_then(|bytes| submit(&transport, &bytes));
            match result {
                Ok(()) => {
                    self.db.mark_invitation_sent(&id, Utc::now())?;
                    move_file(&path, &sent_dir.join(&file))?;
                    report.sent.push(format!("invite-{id}"));
                }
                Err(why) => {
                    let attempts = attempts + 1;
                    self.db
                        .mark_invitation_failed(&id, attempts, now + backoff(attempts), &why)?;
                    report.failed.push((format!("invite-{id}"), why));
                }
            }
        }
        Ok(report)
    }

    /// (tries, last error, sent at) of an outbound letter.
    pub fn relay_status(&self, id: &str) -> Result<Option<(u32, String, Option<String>)>> {
        self.db.relay_status(id)
    }
}

/// One message to the relay: the envelope from the message's own From and
/// To (the dock wrote them), the bytes as they are.
fn submit(transport: &lettre::SmtpTransport, bytes: &[u8]) -> std::result::Result<(), String> {
    use lettre::Transport;
    let msg = mail_parser::MessageParser::default()
        .parse(bytes)
        .ok_or("the stored letter is not a message")?;
    let addr = |a: Option<&mail_parser::Address<'_>>| {
        a.and_then(|a| a.first())
            .and_then(|a| a.address())
            .and_then(|a| a.parse::<lettre::Address>().ok())
    };
    let from = addr(msg.from()).ok_or("the stored letter has no usable From address")?;
    let to = addr(msg.to()).ok_or("the stored letter has no usable To address")?;
    let envelope =
        lettre::address::Envelope::new(Some(from), vec![to]).map_err(|e| e.to_string())?;
    transport
        .send_raw(&envelope, bytes)
        .map(|_| ())
        .map_err(|e| {
            if e.is_permanent() {
                format!("the relay refused it: {e}")
            } else {
                format!("the relay could not take it now: {e}")
            }
        })
}
