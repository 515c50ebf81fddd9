//! The mail gateway: approved letters leave as RFC 5322 `.eml` files that
//! any relay can pick up; replies come back as `.eml` files, accepted only
//! from a person's approved contacts, and go through the same review.
//!
//! A letter from person `A12345` leaves from `a12345@MAIL_DOMAIN`, so a
//! reply to it names its person. Message-IDs are `<letter-id@MAIL_DOMAIN>`:
//! writing the same letter twice gives the same file and the same id.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use mail_builder::MessageBuilder;

use super::db::InboundRow;
use super::{Dock, Error, Result, io};
use crate::domain::messages::OutboundMessage;
use crate::domain::time::ts;

/// Largest `.eml` file imported.
pub const MAX_EML_BYTES: usize = 1 << 20;
/// Longest body imported, in characters.
pub const MAX_BODY_CHARS: usize = 20_000;

/// Write `bytes` as `dir/ID.eml`: temporary file, fsync, rename.
pub fn write_eml(dir: &Path, id: &str, bytes: &[u8]) -> Result<()> {
    let path = dir.join(format!("{id}.eml"));
    crate::facility::write_atomic(&path, bytes)?;
    Ok(())
}

/// What one import run did.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub accepted: Vec<String>,
    pub duplicates: Vec<String>,
    /// (file, reason)
    pub refused: Vec<(String, String)>,
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

    /// Import every `.eml` file in `dir` (default `D/gateway/inbound`).
    /// Accepted mail enters review; refused mail moves to
    /// `gateway/refused/` with a `.reason` file and a logged refusal.
    pub fn import_mail(&mut self, dir: Option<&Path>) -> Result<ImportReport> {
        let default_dir = self.shared.data.join("gateway").join("inbound");
        let dir = dir.unwrap_or(&default_dir);
        let mut files: Vec<PathBuf> = fs::read_dir(dir)
            .map_err(io(dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml") && p.is_file())
            .collect();
        files.sort();
        let mut report = ImportReport::default();
        let gateway = self.shared.data.join("gateway");
        for path in files {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            match self.import_one(&path) {
                Ok(true) => {
                    report.accepted.push(name.clone());
                    let dest = gateway.join("processed").join(&name);
                    fs::rename(&path, &dest).map_err(io(&dest))?;
                }
                Ok(false) => {
                    report.duplicates.push(name.clone());
                    let dest = gateway.join("processed").join(&name);
                    fs::rename(&path, &dest).map_err(io(&dest))?;
                }
                Err(e) => {
                    let reason = e.to_string();
                    self.db
                        .log_refusal(Utc::now(), &format!("mail {name}"), &reason)?;
                    let dest = gateway.join("refused").join(&name);
                    crate::facility::write_atomic(
                        &dest.with_extension("reason"),
                        format!("{reason}\n").as_bytes(),
                    )?;
                    fs::rename(&path, &dest).map_err(io(&dest))?;
                    report.refused.push((name, reason));
                }
            }
        }
        Ok(report)
    }

    /// Ok(true) accepted, Ok(false) already imported.
    fn import_one(&mut self, path: &Path) -> Result<bool> {
        let bytes = crate::facility::read_capped(path, MAX_EML_BYTES)?;
        let ParsedMail {
            sender,
            recipients,
            subject,
            body,
            message_id,
            sent_at,
        } = parse_mail(&bytes)?;
        let domain = self.shared.config.mail_domain.to_ascii_lowercase();
        let person = recipients
            .iter()
            .filter_map(|r| r.strip_suffix(&format!("@{domain}")))
            .find_map(|local| self.db.person(local).ok().flatten())
            .map(|(id, _)| id)
            .ok_or_else(|| {
                Error::Refused(format!(
                    "no recipient is a person at {domain} (To: {})",
                    recipients.join(", ")
                ))
            })?;
        let contact = self
            .db
            .contacts_of(&person)?
            .into_iter()
            .find(|c| c.2 == sender)
            .ok_or_else(|| {
                Error::Refused(format!(
                    "{sender} is not on {person}'s approved contact list; the message was not delivered"
                ))
            })?;
        let message_id = message_id.unwrap_or_else(|| crate::trust::sha256(&bytes).to_hex());
        let sent_at = sent_at.unwrap_or_else(Utc::now);
        let now = Utc::now();
        self.db.insert_inbound(&InboundRow {
            id: uuid::Uuid::new_v4().to_string(),
            message_id,
            person,
            contact: contact.0,
            attorney: contact.3,
            sender,
            subject,
            body,
            sent_at: ts(&sent_at),
            received_at: ts(&now),
            state: "in-review".into(),
            reason: String::new(),
        })
    }
}

/// What the gateway reads from one message before it looks anyone up: no
/// I/O, so the fuzzer runs exactly this.
#[derive(Debug)]
pub struct ParsedMail {
    /// The From address, lowercased.
    pub sender: String,
    /// The To addresses, lowercased.
    pub recipients: Vec<String>,
    /// At most 200 characters.
    pub subject: String,
    /// The text, at most [`MAX_BODY_CHARS`] characters, never empty.
    pub body: String,
    pub message_id: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Read one RFC 5322 message of at most [`MAX_EML_BYTES`].
pub fn parse_mail(bytes: &[u8]) -> Result<ParsedMail> {
    if bytes.len() > MAX_EML_BYTES {
        return Err(Error::Refused(format!(
            "the message is over {MAX_EML_BYTES} bytes"
        )));
    }
    let msg = mail_parser::MessageParser::default()
        .parse(bytes)
        .ok_or_else(|| Error::Refused("not an RFC 5322 message".into()))?;
    let sender = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(|a| a.trim().to_ascii_lowercase())
        .ok_or_else(|| Error::Refused("the message has no From address".into()))?;
    let recipients: Vec<String> = msg
        .to()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.address())
                .map(|x| x.trim().to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let body: String = msg
        .body_text(0)
        .map(|b| b.trim_end().to_string())
        .unwrap_or_default();
    if body.trim().is_empty() {
        return Err(Error::Refused("the message has no text".into()));
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(Error::Refused(format!(
            "the message is longer than {MAX_BODY_CHARS} characters"
        )));
    }
    Ok(ParsedMail {
        sender,
        recipients,
        subject: msg.subject().unwrap_or("").chars().take(200).collect(),
        body,
        message_id: msg.message_id().map(str::to_string),
        sent_at: msg
            .date()
            .and_then(|d| DateTime::from_timestamp(d.to_timestamp(), 0)),
    })
}
