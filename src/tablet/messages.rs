//! Letters on the tablet: contact lists, drafts and the outbox. Sending to
//! the dock arrives with the sync issue; until then letters wait, queued,
//! with their state visible.

use chrono::{DateTime, Utc};

use super::Tablet;
use super::people::{Error, Result, Session};
use crate::domain::messages::{Contact, ContactId, ContactListDoc, OutboundMessage, check_send};
use crate::domain::people::PersonId;
use crate::store::{NewLetter, OutboxRow};
use crate::trust::{Envelope, payload_type, sha256};

/// Shown on a letter returned because its contact was removed.
pub const RETURNED_REASON: &str = "contact-removed";

impl Tablet {
    /// Verify a contact list and bind it to a person on this tablet's
    /// roster; queued letters to removed contacts come back to the writer.
    pub(super) fn accept_contacts(
        &mut self,
        bytes: &[u8],
        now: DateTime<Utc>,
    ) -> Result<super::DocOutcome> {
        let doc = self.root.verify_contacts(bytes)?;
        let person = self
            .store
            .person(doc.person.as_str())?
            .filter(|p| p.active)
            .ok_or_else(|| {
                Error::Refused(format!(
                    "this contact list is for {}, who is not on this tablet's roster",
                    doc.person
                ))
            })?;
        let scope = doc.person.group().to_string();
        let hash = sha256(&serde_json::to_vec(&doc).expect("serializes")).to_hex();
        if let Some((v, h, _)) = self.store.document("contacts", &scope)? {
            if doc.version < v {
                return Err(Error::Refused(format!(
                    "contact list for {} version {} is older than version {v} on this tablet; replay refused",
                    doc.person, doc.version
                )));
            }
            if doc.version == v && h != hash {
                return Err(Error::Refused(format!(
                    "contact list for {} version {v} differs from the one already accepted; refused",
                    doc.person
                )));
            }
            if doc.version == v {
                return Ok(super::DocOutcome::AlreadyCurrent {
                    kind: "contacts",
                    scope,
                    version: v,
                });
            }
        }
        let kept: Vec<String> = doc.contacts.iter().map(|c| c.id.to_string()).collect();
        self.store.accept_contacts(
            &person.id,
            doc.version,
            &hash,
            bytes,
            &kept,
            RETURNED_REASON,
            now,
        )?;
        Ok(super::DocOutcome::Accepted {
            kind: "contacts",
            scope,
            version: doc.version,
        })
    }

    fn contact_list(&self, person: &str) -> Result<Option<ContactListDoc>> {
        let scope = PersonId::parse(person)?.group().to_string();
        match self.store.document("contacts", &scope)? {
            Some((_, _, bytes)) => Ok(Some(self.root.verify_contacts(&bytes)?)),
            None => Ok(None),
        }
    }

    /// The logged-in person's approved contacts.
    pub fn contacts_for(&self, session: &Session) -> Result<Vec<Contact>> {
        Ok(self
            .contact_list(&session.person)?
            .map(|d| d.contacts)
            .unwrap_or_default())
    }

    pub fn save_draft(&mut self, session: &Session, contact: &str, body: &str) -> Result<()> {
        let now = self.trusted_now()?;
        self.store.save_draft(&session.person, contact, body, now)?;
        Ok(())
    }

    pub fn draft(&self, session: &Session, contact: &str) -> Result<Option<String>> {
        Ok(self.store.draft(&session.person, contact)?)
    }

    /// Queue a letter for the next dock: the contact must be approved, the
    /// letter within the policy's length (in graphemes) and, unless it is
    /// attorney mail, within today's quota. It is signed by the device key.
    pub fn queue_letter(
        &mut self,
        session: &Session,
        contact: &str,
        body: &str,
    ) -> Result<OutboxRow> {
        let contact_id = ContactId::parse(contact)?;
        let list = self.contact_list(&session.person)?;
        let c = list
            .as_ref()
            .and_then(|l| l.contact(&contact_id))
            .cloned()
            .ok_or_else(|| {
                Error::Refused(
                    crate::domain::messages::SendRefusal::NotAContact(contact.into()).to_string(),
                )
            })?;
        let d = self.decision_for(&session.person)?;
        if !d
            .allowed
            .contains(&crate::domain::policy::Feature::Messages)
        {
            return Err(Error::Refused(format!("messages are closed now: {d}")));
        }
        let e = self.effective_for(&session.person)?;
        let now = self.trusted_now()?;
        let day = now.with_timezone(&e.tz).date_naive().to_string();
        let sent_today = self.store.usage(&session.person, &day)?.messages_today;
        check_send(
            body,
            e.message_max_graphemes,
            sent_today,
            e.daily_message_quota,
            c.attorney,
        )
        .map_err(|r| Error::Refused(r.to_string()))?;
        let id = uuid::Uuid::new_v4().to_string();
        let person = PersonId::parse(&session.person)?;
        let tablet = self.device_key.public();
        let key = &self.device_key;
        let seq = self.store.queue_letter(
            &NewLetter {
                id: &id,
                person: &session.person,
                contact,
                attorney: c.attorney,
                body,
                written_at: now,
                day: &day,
            },
            |seq| {
                let msg = OutboundMessage {
                    id: id.clone(),
                    tablet,
                    seq,
                    person,
                    contact: contact_id,
                    attorney: c.attorney,
                    body: body.to_string(),
                    written_at: now,
                };
                let payload = serde_json::to_vec(&msg).expect("message serializes");
                Envelope::sign(payload_type::MESSAGE, payload, &[key]).to_bytes()
            },
        )?;
        self.store
            .outbox_for(&session.person)?
            .into_iter()
            .find(|r| r.seq == seq)
            .ok_or_else(|| Error::Refused("the queued letter could not be read back".into()))
    }

    /// The person's letters, newest first, each with its state.
    pub fn outbox_for(&self, session: &Session) -> Result<Vec<OutboxRow>> {
        Ok(self.store.outbox_for(&session.person)?)
    }
}
