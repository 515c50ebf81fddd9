//! Letters on the tablet: contact lists, drafts and the outbox. Sending to
//! the dock arrives with the sync issue; until then letters wait, queued,
//! with their state visible.

use chrono::{DateTime, Utc};

use super::Tablet;
use super::people::{Refusal, Result, Session};
use crate::domain::messages::SendRefusal;
use crate::domain::messages::{
    Contact, ContactId, ContactListDoc, OutboundMessage, RETURNED_REASON, check_send,
};
use crate::domain::people::PersonId;
use crate::domain::policy::Feature;
use crate::store::{NewLetter, OutboxRow, ThreadItem, ThreadSummary};
use crate::trust::{Envelope, payload_type, sha256};

/// A letter queued for the next dock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queued {
    pub id: String,
    /// The tablet's outbox sequence number (the dock's `UNIQUE(tablet, seq)`).
    pub seq: u64,
    /// Letters the person may still queue today (attorney mail is free).
    pub letters_left_today: u32,
}

/// Letters: contacts, drafts, the outbox and threads.
pub struct Letters<'a> {
    pub(super) t: &'a mut Tablet,
}

impl Tablet {
    pub fn letters(&mut self) -> Letters<'_> {
        Letters { t: self }
    }
}

impl Letters<'_> {
    /// Verify a contact list and bind it to a person on this tablet's
    /// roster; queued letters to removed contacts come back to the writer.
    pub(super) fn accept_contacts(
        &mut self,
        bytes: &[u8],
        now: DateTime<Utc>,
    ) -> Result<super::DocOutcome> {
        let doc = self.t.root.verify_contacts(bytes)?;
        let person = self
            .t
            .store
            .person(doc.person.as_str())?
            .filter(|p| p.active)
            .ok_or_else(|| Refusal::ContactsForAnotherPerson {
                person: doc.person.to_string(),
            })?;
        let scope = doc.person.group().to_string();
        let hash = sha256(&serde_json::to_vec(&doc).expect("serializes")).to_hex();
        if let Some((v, h, _)) = self.t.store.document("contacts", &scope)? {
            if doc.version < v {
                return Err(Refusal::Replay {
                    kind: "contact list",
                    scope: doc.person.to_string(),
                    offered: doc.version,
                    held: v,
                }
                .into());
            }
            if doc.version == v && h != hash {
                return Err(Refusal::SameVersionDiffers {
                    kind: "contact list",
                    scope: doc.person.to_string(),
                    version: v,
                }
                .into());
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
        self.t.store.accept_contacts(
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
        match self.t.store.document("contacts", &scope)? {
            Some((_, _, bytes)) => Ok(Some(self.t.root.verify_contacts(&bytes)?)),
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
        let now = self.t.trusted_now()?;
        self.t
            .store
            .save_draft(&session.person, contact, body, now)?;
        Ok(())
    }

    pub fn draft(&self, session: &Session, contact: &str) -> Result<Option<String>> {
        Ok(self.t.store.draft(&session.person, contact)?)
    }

    /// Queue a letter for the next dock: the contact must be approved, the
    /// letter within the policy's length (in graphemes) and, unless it is
    /// attorney mail, within today's quota. It is signed by the device key.
    pub fn queue_letter(&mut self, session: &Session, contact: &str, body: &str) -> Result<Queued> {
        let contact_id = ContactId::parse(contact)?;
        let list = self.contact_list(&session.person)?;
        let c = list
            .as_ref()
            .and_then(|l| l.contact(&contact_id))
            .cloned()
            .ok_or_else(|| SendRefusal::NotAContact(contact.into()))
            .map_err(Refusal::from)?;
        let st = self.t.people().standing(&session.person)?;
        if !st.decision.allowed.contains(&Feature::Messages) {
            return Err(Refusal::Closed(Feature::Messages, st.decision.reason).into());
        }
        let e = &st.effective;
        check_send(
            body,
            e.message_max_graphemes,
            st.usage.messages_sent_today,
            e.daily_message_quota,
            c.attorney,
        )
        .map_err(Refusal::from)?;
        let (now, day) = (st.now, st.day.as_str());
        let id = uuid::Uuid::new_v4().to_string();
        let person = PersonId::parse(&session.person)?;
        let tablet = self.t.device_key.public();
        let key = &self.t.device_key;
        let seq = self.t.store.queue_letter(
            &NewLetter {
                id: &id,
                person: &session.person,
                contact,
                attorney: c.attorney,
                body,
                written_at: now,
                day,
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
        let counted = u32::from(!c.attorney);
        Ok(Queued {
            id,
            seq,
            letters_left_today: st.decision.messages_left_today.saturating_sub(counted),
        })
    }

    /// Ask for a new contact: checked here as the dock will check it,
    /// signed by the device key, and queued for the next dock. Returns the
    /// request's id.
    pub fn ask_contact(
        &mut self,
        session: &Session,
        name: &str,
        relationship: &str,
        email: &str,
    ) -> Result<String> {
        use crate::domain::contacts::{AskRefusal, ContactAsk, MAX_OPEN_REQUESTS, check_add};
        let (name, relationship, email) =
            check_add(name, relationship, email).map_err(Refusal::from)?;
        self.open_for_letters(session)?;
        if let Some(c) = self
            .contacts_for(session)?
            .into_iter()
            .find(|c| c.email == email)
        {
            return Err(Refusal::from(AskRefusal::AlreadyAContact(c.name)).into());
        }
        let requests = self.t.store.contact_requests_for(&session.person)?;
        let open: Vec<_> = requests.iter().filter(|r| r.state.is_open()).collect();
        if open.iter().any(|r| r.kind == "add" && r.email == email) {
            return Err(Refusal::from(AskRefusal::AlreadyAsked(email)).into());
        }
        if open.len() >= MAX_OPEN_REQUESTS {
            return Err(Refusal::from(AskRefusal::TooManyOpen).into());
        }
        let ask = ContactAsk::Add {
            name: name.clone(),
            relationship: relationship.clone(),
            email: email.clone(),
        };
        self.sign_request(session, ask, ("add", &name, &relationship, &email, ""))
    }

    /// Ask the dock to take a contact off the person's list. It takes
    /// effect at the next dock; until then letters to them still queue.
    pub fn ask_remove_contact(&mut self, session: &Session, contact: &str) -> Result<String> {
        let id = ContactId::parse(contact)?;
        let c = self
            .contacts_for(session)?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| Refusal::from(SendRefusal::NotAContact(contact.into())))?;
        let ask = crate::domain::contacts::ContactAsk::Remove {
            contact: id.clone(),
        };
        self.sign_request(
            session,
            ask,
            ("remove", &c.name, &c.relationship, &c.email, id.as_str()),
        )
    }

    fn open_for_letters(&mut self, session: &Session) -> Result<()> {
        let st = self.t.people().standing(&session.person)?;
        if !st.decision.allowed.contains(&Feature::Messages) {
            return Err(Refusal::Closed(Feature::Messages, st.decision.reason).into());
        }
        Ok(())
    }

    fn sign_request(
        &mut self,
        session: &Session,
        ask: crate::domain::contacts::ContactAsk,
        (kind, name, relationship, email, contact): (&str, &str, &str, &str, &str),
    ) -> Result<String> {
        let now = self.t.trusted_now()?;
        let id = uuid::Uuid::new_v4().to_string();
        let doc = crate::domain::contacts::ContactRequestDoc {
            id: id.clone(),
            tablet: self.t.device_key.public(),
            person: PersonId::parse(&session.person)?,
            ask,
            asked_at: now,
        };
        let payload = serde_json::to_vec(&doc).expect("request serializes");
        let envelope = Envelope::sign(
            payload_type::CONTACT_REQUEST,
            payload,
            &[&self.t.device_key],
        )
        .to_bytes();
        self.t
            .store
            .add_contact_request(&crate::store::NewContactRequest {
                id: &id,
                person: &session.person,
                kind,
                name,
                relationship,
                email,
                contact,
                asked_at: now,
                envelope: &envelope,
            })?;
        Ok(id)
    }

    /// The person's contact requests, newest first, each with its state.
    pub fn contact_requests_for(
        &self,
        session: &Session,
    ) -> Result<Vec<crate::store::ContactRequestRow>> {
        Ok(self.t.store.contact_requests_for(&session.person)?)
    }

    /// The person's letters, newest first, each with its state.
    pub fn outbox_for(&self, session: &Session) -> Result<Vec<OutboxRow>> {
        Ok(self.t.store.outbox_for(&session.person)?)
    }

    /// The logged-in person's threads, most recent first.
    pub fn threads_for(&self, session: &Session) -> Result<Vec<ThreadSummary>> {
        Ok(self.t.store.threads(&session.person)?)
    }

    /// One thread, oldest first; opening it marks its letters read.
    pub fn open_thread(&mut self, session: &Session, contact: &str) -> Result<Vec<ThreadItem>> {
        let items = self.t.store.thread(&session.person, contact)?;
        self.t.store.mark_thread_read(&session.person, contact)?;
        Ok(items)
    }
}
