//! Contact requests at the dock: a tablet's signed request, staff's
//! approval or refusal, the invitation through the mail gateway, the
//! contact's answer, and the signed contact list the dock publishes on
//! acceptance (with the facility's contacts key, one of the online keys
//! it holds). Also suspension by staff, attorney contacts set by the legal
//! mail officer, and the no-contact list (victims first).
//!
//! Every decision is one transaction (`db::ContactChange`): the request's
//! state, the new signed list, the person's feed entry and the staff audit
//! row commit together or not at all.

use chrono::{DateTime, Utc};

use super::db::{
    self, ContactChange, ContactRequestRow, ListPublish, NewContactRequest, NoContactRow,
};
use super::staff::Actor;
use super::{Dock, Error, Result};
use crate::domain::contacts::{
    self as rules, ContactAsk, ContactRequestDoc, InviteAnswer, NoContactEntry, NoContactKind,
    RequestState,
};
use crate::domain::messages::{Contact, ContactId, ContactListDoc, MAX_CONTACTS};
use crate::domain::people::PersonId;
use crate::domain::sync::{FeedEntry, FeedItem};
use crate::trust::{payload_type as pt, signed};

/// What the person reads when the no-contact list refused a request. It
/// says no more than any other refusal: the list is never revealed.
pub const REFUSED: &str = "This request was refused. / Esta solicitud fue rechazada.";
/// The contact said no (or blocked the facility); the person reads only this.
pub const DECLINED: &str =
    "The contact did not accept the invitation. / El contacto no aceptó la invitación.";
/// The reasons staff pick from when refusing a request (the person reads
/// them, so each is written for them, in English and Spanish).
pub const REFUSE_REASONS: [&str; 4] = [
    REFUSED,
    "The address could not be checked; ask again with another one. / No se pudo verificar la dirección; pida de nuevo con otra.",
    "The facility's rules do not allow this contact. / Las reglas del centro no permiten este contacto.",
    "Write the contact's full name as it is on their ID. / Escriba el nombre completo del contacto como en su identificación.",
];

/// Who the dock's own decisions are recorded as in the staff trail.
pub const DOCK_ACTOR: &str = "dock";

/// The local part of an invitation's reply address: `invite+TOKEN`.
pub const INVITE_PREFIX: &str = "invite+";

fn person_id(s: &str) -> Result<PersonId> {
    Ok(PersonId::parse(s)?)
}

fn state_item(r: &ContactRequestRow, state: RequestState, reason: &str) -> (String, FeedItem) {
    (
        r.person.clone(),
        FeedItem::ContactRequest {
            id: r.id.clone(),
            name: r.name.clone(),
            state,
            reason: reason.to_string(),
        },
    )
}

fn check_reason(reason: &str) -> Result<&str> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::Refused(
            "give the reason the person will read, e.g. --reason \"not a verified address\"; nothing was changed"
                .into(),
        ));
    }
    if reason.chars().count() > rules::MAX_REASON_CHARS {
        return Err(Error::Refused(format!(
            "keep the reason under {} characters; nothing was changed",
            rules::MAX_REASON_CHARS
        )));
    }
    Ok(reason)
}

impl Dock {
    fn sign_feed(&self) -> impl Fn(&FeedEntry) -> Vec<u8> + use<> {
        let shared = self.shared.clone();
        move |e: &FeedEntry| Dock::sign_entry(&shared.messaging_key, e)
    }

    /// The person as a published roster names them, or a clear error.
    fn roster_person(&self, person: &str) -> Result<(String, String)> {
        self.db.person(person)?.ok_or_else(|| Error::NotFound {
            what: "person",
            id: person.to_string(),
            hint: "publish a roster that lists them first (`berth-facility publish --data D FILE`)",
        })
    }

    /// The person's contact list as the dock holds it signed: (version,
    /// contacts). Verified again, so a changed database row is refused.
    pub fn contact_list(&self, person: &str) -> Result<(u64, Vec<Contact>)> {
        match self.db.contact_list(person)? {
            None => Ok((0, Vec::new())),
            Some((_, bytes)) => {
                let doc = self.shared.root.verify_contacts(&bytes)?;
                Ok((doc.version, doc.contacts))
            }
        }
    }

    /// Sign `contacts` as the person's list, one version above `held`.
    fn sign_list(
        &self,
        person: &str,
        held: u64,
        contacts: Vec<Contact>,
        now: DateTime<Utc>,
    ) -> Result<(u64, Vec<u8>, Vec<db::ContactRow>)> {
        let doc = ContactListDoc {
            facility: self.shared.root.doc().facility.clone(),
            person: person_id(person)?,
            version: held + 1,
            issued: now,
            contacts,
        };
        doc.validate()?;
        let rows = doc
            .contacts
            .iter()
            .map(|c| db::ContactRow {
                contact: c.id.to_string(),
                name: c.name.clone(),
                email: c.email.clone(),
                attorney: c.attorney,
            })
            .collect();
        let bytes = signed::sign(&self.shared.contacts_key, pt::CONTACTS, &doc);
        Ok((doc.version, bytes, rows))
    }

    /// The no-contact entry this name or address matches, for this person.
    fn no_contact_hit(
        &self,
        person: &str,
        name: &str,
        email: &str,
    ) -> Result<Option<NoContactRow>> {
        let rows = self.db.no_contact(Some(person))?;
        let entries: Vec<NoContactEntry> = rows
            .iter()
            .map(|r| NoContactEntry {
                kind: NoContactKind::parse(&r.kind).unwrap_or(NoContactKind::CourtOrder),
                name: r.name.clone(),
                email: r.email.clone(),
                address: r.address.clone(),
            })
            .collect();
        Ok(rules::matches_no_contact(&entries, name, email)
            .and_then(|hit| rows.iter().zip(&entries).find(|(_, e)| *e == hit))
            .map(|(r, _)| r.clone()))
    }

    /// A request from a tablet, verified by the session. Stored once (a
    /// resend finds it held: `Ok(false)`). A request that matches the
    /// person's no-contact list, or an address that blocked the facility,
    /// is refused at once and flagged to staff; a removal takes effect at
    /// once (the person may always drop a contact).
    pub(crate) fn receive_contact_request(
        &mut self,
        doc: &ContactRequestDoc,
        envelope: &[u8],
    ) -> Result<bool> {
        if self.db.contact_request(&doc.id)?.is_some() {
            return Ok(false);
        }
        let now = Utc::now();
        let person = doc.person.as_str();
        let tablet = doc.tablet.to_hex();
        let (version, list) = self.contact_list(person)?;
        let sign = self.sign_feed();
        let item = |name: &str, state: RequestState, reason: &str| {
            (
                person.to_string(),
                FeedItem::ContactRequest {
                    id: doc.id.clone(),
                    name: name.to_string(),
                    state,
                    reason: reason.to_string(),
                },
            )
        };
        match &doc.ask {
            ContactAsk::Add {
                name,
                relationship,
                email,
            } => {
                let hit = self.no_contact_hit(person, name, email)?;
                let open = self
                    .db
                    .contact_requests(None, Some(person))?
                    .into_iter()
                    .filter(|r| RequestState::parse(&r.state).is_some_and(RequestState::is_open))
                    .count();
                let (state, reason, flag) = if let Some(hit) = &hit {
                    (
                        RequestState::Refused,
                        REFUSED.to_string(),
                        format!(
                            "matches no-contact entry {} ({}: {})",
                            hit.id,
                            hit.kind,
                            [hit.name.as_str(), hit.email.as_str()]
                                .into_iter()
                                .filter(|s| !s.is_empty())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                } else if self.db.is_blocked(email)? {
                    (
                        RequestState::Refused,
                        DECLINED.to_string(),
                        format!("{email} blocked every request from this facility"),
                    )
                } else if list.iter().any(|c| c.email == *email) {
                    (
                        RequestState::Refused,
                        format!(
                            "{email} is already one of your contacts. / {email} ya es uno de sus contactos."
                        ),
                        String::new(),
                    )
                } else if list.len() >= MAX_CONTACTS {
                    (
                        RequestState::Refused,
                        format!(
                            "You have {MAX_CONTACTS} contacts, the most allowed; remove one first. / \
                             Tiene {MAX_CONTACTS} contactos, el máximo; quite uno primero."
                        ),
                        String::new(),
                    )
                } else if open >= rules::MAX_OPEN_REQUESTS {
                    (
                        RequestState::Refused,
                        format!(
                            "You have {} requests waiting; wait for an answer. / Tiene {} solicitudes pendientes; espere una respuesta.",
                            rules::MAX_OPEN_REQUESTS,
                            rules::MAX_OPEN_REQUESTS
                        ),
                        String::new(),
                    )
                } else {
                    (RequestState::InReview, String::new(), String::new())
                };
                let audit_detail = format!("{flag}; request by {person} on tablet {tablet}");
                let mut change = ContactChange {
                    insert: Some((
                        NewContactRequest {
                            id: &doc.id,
                            tablet: &tablet,
                            person,
                            kind: "add",
                            name,
                            relationship,
                            email,
                            contact: "",
                            asked_at: doc.asked_at,
                            envelope,
                        },
                        state,
                    )),
                    insert_reason: &reason,
                    insert_flag: &flag,
                    feed: vec![item(name, state, &reason)],
                    ..Default::default()
                };
                if !flag.is_empty() {
                    change.audit.push(db::StaffAuditNew {
                        at: now,
                        actor: DOCK_ACTOR,
                        action: "contact.auto-refuse",
                        target: &doc.id,
                        detail: &audit_detail,
                    });
                    change.refusal = Some((
                        format!("contact request {} from {person}", doc.id),
                        flag.clone(),
                    ));
                }
                self.db.contact_change(change, now, &sign, || Ok(()))
            }
            ContactAsk::Remove { contact } => {
                let found = list.iter().find(|c| &c.id == contact).cloned();
                let Some(found) = found else {
                    let reason = format!(
                        "{contact} is not on your contact list. / {contact} no está en su lista."
                    );
                    let change = ContactChange {
                        insert: Some((
                            NewContactRequest {
                                id: &doc.id,
                                tablet: &tablet,
                                person,
                                kind: "remove",
                                name: contact.as_str(),
                                relationship: "",
                                email: "",
                                contact: contact.as_str(),
                                asked_at: doc.asked_at,
                                envelope,
                            },
                            RequestState::Refused,
                        )),
                        insert_reason: &reason,
                        feed: vec![item(contact.as_str(), RequestState::Refused, &reason)],
                        ..Default::default()
                    };
                    return self.db.contact_change(change, now, &sign, || Ok(()));
                };
                let rest: Vec<Contact> = list.into_iter().filter(|c| &c.id != contact).collect();
                let (v, bytes, rows) = self.sign_list(person, version, rest, now)?;
                // The request that made the contact, if one did, ends too.
                let origin = self
                    .db
                    .contact_requests(Some(RequestState::Active.as_str()), Some(person))?
                    .into_iter()
                    .find(|r| r.contact == contact.as_str());
                let mut change = ContactChange {
                    insert: Some((
                        NewContactRequest {
                            id: &doc.id,
                            tablet: &tablet,
                            person,
                            kind: "remove",
                            name: &found.name,
                            relationship: &found.relationship,
                            email: &found.email,
                            contact: contact.as_str(),
                            asked_at: doc.asked_at,
                            envelope,
                        },
                        RequestState::Removed,
                    )),
                    list: Some(ListPublish {
                        person,
                        version: v,
                        envelope: &bytes,
                        rows,
                    }),
                    feed: vec![item(&found.name, RequestState::Removed, "")],
                    ..Default::default()
                };
                if let Some(o) = &origin {
                    change.updates.push(db::RequestUpdate {
                        id: &o.id,
                        state: RequestState::Removed,
                        reason: "",
                        contact: None,
                        token_sha256: None,
                        decided_by: "",
                    });
                    change.feed.push(state_item(o, RequestState::Removed, ""));
                }
                self.db.contact_change(change, now, &sign, || Ok(()))
            }
        }
    }

    /// Contact requests, oldest first: those refused by the no-contact
    /// list are among them, with their flag.
    pub fn contact_requests(
        &self,
        state: Option<RequestState>,
        person: Option<&str>,
    ) -> Result<Vec<ContactRequestRow>> {
        self.db
            .contact_requests(state.map(RequestState::as_str), person)
    }

    pub fn contact_request(&self, id: &str) -> Result<ContactRequestRow> {
        self.db.contact_request(id)?.ok_or_else(|| Error::NotFound {
            what: "contact request",
            id: id.to_string(),
            hint: "see `berth-facility contacts requests --data D`",
        })
    }

    /// Approve a request: the contact is sent an invitation with a token
    /// (through the gateway's outbox, and the relay when one is set). The
    /// no-contact list and the blocks are checked again first.
    pub fn contact_approve(&mut self, id: &str, actor: &Actor) -> Result<ContactRequestRow> {
        self.ensure_layout()?;
        let r = self.contact_request(id)?;
        if r.kind != "add" || r.state != RequestState::InReview.as_str() {
            return Err(Error::Refused(format!(
                "contact request {id} is {}, not waiting for review; nothing was changed",
                r.state
            )));
        }
        if let Some(hit) = self.no_contact_hit(&r.person, &r.name, &r.email)? {
            return Err(Error::Refused(format!(
                "{} matches {}'s no-contact list (entry {}, {}); it cannot be approved. Refuse it instead; nothing was changed",
                r.email, r.person, hit.id, hit.kind
            )));
        }
        if self.db.is_blocked(&r.email)? {
            return Err(Error::Refused(format!(
                "{} blocked every request from this facility; it cannot be approved. Nothing was changed",
                r.email
            )));
        }
        let token = hex::encode(crate::trust::secret::random_bytes::<16>()?);
        let digest = crate::trust::password::token_digest(&token);
        let eml = self.render_invitation(&r, &token)?;
        let outbox = self.shared.data.join("gateway").join("outbox");
        let label = actor.label();
        let now = Utc::now();
        let detail = format!("invitation to {}", r.email);
        let change = ContactChange {
            updates: vec![db::RequestUpdate {
                id,
                state: RequestState::Invited,
                reason: "",
                contact: None,
                token_sha256: Some(&digest),
                decided_by: &label,
            }],
            feed: vec![state_item(&r, RequestState::Invited, "")],
            audit: vec![db::StaffAuditNew {
                at: now,
                actor: &label,
                action: "contact.approve",
                target: id,
                detail: &detail,
            }],
            ..Default::default()
        };
        let sign = self.sign_feed();
        self.db.contact_change(change, now, &sign, || {
            super::gateway::write_eml(&outbox, &format!("invite-{id}"), &eml)
        })?;
        self.contact_request(id)
    }

    /// Refuse a request with a reason the person reads.
    pub fn contact_refuse(
        &mut self,
        id: &str,
        reason: &str,
        actor: &Actor,
    ) -> Result<ContactRequestRow> {
        let reason = check_reason(reason)?;
        let r = self.contact_request(id)?;
        let label = actor.label();
        let now = Utc::now();
        let change = ContactChange {
            updates: vec![db::RequestUpdate {
                id,
                state: RequestState::Refused,
                reason,
                contact: None,
                token_sha256: None,
                decided_by: &label,
            }],
            feed: vec![state_item(&r, RequestState::Refused, reason)],
            audit: vec![db::StaffAuditNew {
                at: now,
                actor: &label,
                action: "contact.refuse",
                target: id,
                detail: reason,
            }],
            ..Default::default()
        };
        let sign = self.sign_feed();
        self.db.contact_change(change, now, &sign, || Ok(()))?;
        self.contact_request(id)
    }

    /// Take a contact off a person's list (staff), with a reason the
    /// person reads. Letters still queued to them come back to the writer
    /// when the tablet takes the new list.
    pub fn contact_suspend(
        &mut self,
        person: &str,
        contact: &str,
        reason: &str,
        actor: &Actor,
    ) -> Result<u64> {
        let reason = check_reason(reason)?;
        let label = actor.label();
        let action = "contact.suspend";
        self.remove_contact(person, contact, reason, &label, action, reason)
    }

    fn remove_contact(
        &mut self,
        person: &str,
        contact: &str,
        reason: &str,
        label: &str,
        action: &str,
        detail: &str,
    ) -> Result<u64> {
        let (person, _) = self.roster_person(person)?;
        let (version, list) = self.contact_list(&person)?;
        let id = ContactId::parse(contact)?;
        if !list.iter().any(|c| c.id == id) {
            return Err(Error::NotFound {
                what: "contact",
                id: format!("{contact} of {person}"),
                hint: "see `berth-facility contacts list --person ID --data D`",
            });
        }
        let now = Utc::now();
        let rest: Vec<Contact> = list.into_iter().filter(|c| c.id != id).collect();
        let (v, bytes, rows) = self.sign_list(&person, version, rest, now)?;
        let origin = self
            .db
            .contact_requests(Some(RequestState::Active.as_str()), Some(&person))?
            .into_iter()
            .find(|r| r.contact == contact);
        let target = format!("{person}/{contact}");
        let mut change = ContactChange {
            list: Some(ListPublish {
                person: &person,
                version: v,
                envelope: &bytes,
                rows,
            }),
            audit: vec![db::StaffAuditNew {
                at: now,
                actor: label,
                action,
                target: &target,
                detail,
            }],
            ..Default::default()
        };
        if let Some(o) = &origin {
            change.updates.push(db::RequestUpdate {
                id: &o.id,
                state: RequestState::Removed,
                reason,
                contact: None,
                token_sha256: None,
                decided_by: label,
            });
            change
                .feed
                .push(state_item(o, RequestState::Removed, reason));
        }
        let sign = self.sign_feed();
        self.db.contact_change(change, now, &sign, || Ok(()))?;
        Ok(v)
    }

    /// Add an attorney contact to a person's list (the legal mail
    /// officer): letters to and from it are privileged. Returns its id.
    pub fn contact_attorney(
        &mut self,
        person: &str,
        name: &str,
        email: &str,
        actor: &Actor,
    ) -> Result<ContactId> {
        let (name, _, email) = rules::check_add(name, "attorney", email)
            .map_err(|e| Error::Refused(format!("{e}; nothing was changed")))?;
        let (person, _) = self.roster_person(person)?;
        if let Some(hit) = self.no_contact_hit(&person, &name, &email)? {
            return Err(Error::Refused(format!(
                "{email} matches {person}'s no-contact list (entry {}, {}); nothing was changed",
                hit.id, hit.kind
            )));
        }
        let (version, mut list) = self.contact_list(&person)?;
        if list.iter().any(|c| c.email == email) {
            return Err(Error::Refused(format!(
                "{email} is already a contact of {person}; nothing was changed"
            )));
        }
        let taken: Vec<ContactId> = list.iter().map(|c| c.id.clone()).collect();
        let id = rules::new_contact_id(&name, &taken);
        list.push(Contact {
            id: id.clone(),
            name: name.clone(),
            email: email.clone(),
            relationship: "attorney".into(),
            attorney: true,
        });
        let now = Utc::now();
        let (v, bytes, rows) = self.sign_list(&person, version, list, now)?;
        let label = actor.label();
        let target = format!("{person}/{id}");
        let detail = format!("{name} <{email}>");
        let change = ContactChange {
            list: Some(ListPublish {
                person: &person,
                version: v,
                envelope: &bytes,
                rows,
            }),
            audit: vec![db::StaffAuditNew {
                at: now,
                actor: &label,
                action: "contact.attorney",
                target: &target,
                detail: &detail,
            }],
            ..Default::default()
        };
        let sign = self.sign_feed();
        self.db.contact_change(change, now, &sign, || Ok(()))?;
        Ok(id)
    }

    /// A person's no-contact list (all of them with `None`).
    pub fn no_contact_list(&self, person: Option<&str>) -> Result<Vec<NoContactRow>> {
        self.db.no_contact(person)
    }

    /// Put someone on a person's no-contact list. Any contact of theirs
    /// that matches it is suspended at once, and any open request for it
    /// refused. Returns the entry's id and the contacts suspended.
    pub fn no_contact_add(
        &mut self,
        person: &str,
        entry: &NoContactEntry,
        actor: &Actor,
    ) -> Result<(i64, Vec<String>)> {
        let (person, _) = self.roster_person(person)?;
        let label = actor.label();
        let detail = format!("{}: {} {}", entry.kind.as_str(), entry.name, entry.email);
        let id = self.db.no_contact_add(
            &person,
            entry,
            &db::StaffAuditNew {
                at: Utc::now(),
                actor: &label,
                action: "no-contact.add",
                target: &person,
                detail: &detail,
            },
        )?;
        let list = [entry.clone()];
        let (_, contacts) = self.contact_list(&person)?;
        let mut suspended = Vec::new();
        for c in contacts {
            if rules::matches_no_contact(&list, &c.name, &c.email).is_some() {
                self.remove_contact(
                    &person,
                    c.id.as_str(),
                    REFUSED,
                    DOCK_ACTOR,
                    "contact.auto-suspend",
                    &format!("matches no-contact entry {id}"),
                )?;
                suspended.push(c.id.to_string());
            }
        }
        for r in self.db.contact_requests(None, Some(&person))? {
            let open = RequestState::parse(&r.state).is_some_and(RequestState::is_open);
            if open
                && r.kind == "add"
                && rules::matches_no_contact(&list, &r.name, &r.email).is_some()
            {
                let now = Utc::now();
                let flag = format!("matches no-contact entry {id}");
                let change = ContactChange {
                    updates: vec![db::RequestUpdate {
                        id: &r.id,
                        state: RequestState::Refused,
                        reason: REFUSED,
                        contact: None,
                        token_sha256: None,
                        decided_by: DOCK_ACTOR,
                    }],
                    feed: vec![state_item(&r, RequestState::Refused, REFUSED)],
                    audit: vec![db::StaffAuditNew {
                        at: now,
                        actor: DOCK_ACTOR,
                        action: "contact.auto-refuse",
                        target: &r.id,
                        detail: &flag,
                    }],
                    ..Default::default()
                };
                let sign = self.sign_feed();
                self.db.contact_change(change, now, &sign, || Ok(()))?;
            }
        }
        Ok((id, suspended))
    }

    pub fn no_contact_remove(&mut self, id: i64, actor: &Actor) -> Result<()> {
        let label = actor.label();
        let target = id.to_string();
        self.db.no_contact_remove(
            id,
            &db::StaffAuditNew {
                at: Utc::now(),
                actor: &label,
                action: "no-contact.remove",
                target: &target,
                detail: "",
            },
        )
    }

    /// The invitation email: who asks, what accepting means, and the three
    /// answers, in English and Spanish. Replies go to `invite+TOKEN@`.
    fn render_invitation(&self, r: &ContactRequestRow, token: &str) -> Result<Vec<u8>> {
        let domain = &self.shared.config.mail_domain;
        let (_, pname) = self.roster_person(&r.person)?;
        let facility = self.shared.root.doc().facility.to_string();
        let reply = format!("{INVITE_PREFIX}{token}@{domain}");
        let body = format!(
            "{pname} ({person}) at {facility} asks to add you as a contact, to exchange letters \
             through the facility's mail. Facility staff approved the request.\n\n\
             Reply to this message with one word on the first line:\n\n\
             \x20 ACCEPT  to exchange letters with {pname}\n\
             \x20 REFUSE  to say no to this request\n\
             \x20 BLOCK   to say no, and never be asked again by anyone at this facility\n\n\
             Letters are read by facility staff before they are delivered. {pname} is told only \
             whether you accepted.\n\n\
             ---\n\n\
             {pname} ({person}), en {facility}, pide agregarle como contacto para intercambiar \
             cartas por el correo del centro. El personal aprobó la solicitud.\n\n\
             Responda a este mensaje con una palabra en la primera línea:\n\n\
             \x20 ACEPTO    para intercambiar cartas con {pname}\n\
             \x20 RECHAZO   para decir que no\n\
             \x20 BLOQUEAR  para decir que no y no recibir más solicitudes de este centro\n\n\
             El personal lee las cartas antes de entregarlas. A {pname} solo se le dice si usted aceptó.\n\n\
             Code / Código: {token}\n",
            person = r.person,
        );
        mail_builder::MessageBuilder::new()
            .from((facility.clone(), format!("contacts@{domain}")))
            .reply_to((facility.clone(), reply))
            .to((r.name.clone(), r.email.clone()))
            .subject(format!("{pname} asks to write to you [berth:{token}]"))
            .message_id(format!("invite-{}@{domain}", r.id))
            .header(
                "X-Berth-Invitation",
                mail_builder::headers::raw::Raw::new(r.id.clone()),
            )
            .text_body(body)
            .write_to_vec()
            .map_err(|e| Error::Refused(format!("could not write the invitation as email: {e}")))
    }

    /// The token an answer carries: in its recipients (`invite+TOKEN@`)
    /// or its subject (`[berth:TOKEN]`).
    pub(crate) fn invitation_token(&self, recipients: &[String], subject: &str) -> Option<String> {
        let domain = self.shared.config.mail_domain.to_ascii_lowercase();
        let ok = |t: &str| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit());
        recipients
            .iter()
            .filter_map(|r| r.strip_suffix(&format!("@{domain}")))
            .filter_map(|l| l.strip_prefix(INVITE_PREFIX))
            .map(str::to_ascii_lowercase)
            .find(|t| ok(t))
            .or_else(|| {
                let lower = subject.to_ascii_lowercase();
                let at = lower.find("[berth:")?;
                let t = lower[at + 7..].split(']').next()?.trim().to_string();
                ok(&t).then_some(t)
            })
    }

    /// The contact's answer to an invitation, from the mail gateway. The
    /// sender must be the invited address. On acceptance the dock signs and
    /// publishes the person's new list. Returns what it did, for staff.
    pub(crate) fn answer_invitation(
        &mut self,
        token: &str,
        sender: &str,
        body: &str,
    ) -> Result<Option<String>> {
        let digest = crate::trust::password::token_digest(token);
        let r = self.db.request_by_token(&digest)?.ok_or_else(|| {
            Error::Refused("the invitation code in this answer is not one the dock issued".into())
        })?;
        if r.state != RequestState::Invited.as_str() && sender.eq_ignore_ascii_case(&r.email) {
            // This address answered already (a second reply, or the same
            // message again after a crash): nothing to do.
            return Ok(None);
        }
        if r.state != RequestState::Invited.as_str() {
            return Err(Error::Refused(format!(
                "the invitation of request {} was already answered (it is {}); nothing was changed",
                r.id, r.state
            )));
        }
        if !sender.eq_ignore_ascii_case(&r.email) {
            return Err(Error::Refused(format!(
                "the answer to request {} came from {sender}, not from the invited address {}; nothing was changed",
                r.id, r.email
            )));
        }
        let answer = rules::read_answer(body).ok_or_else(|| {
            Error::Refused(format!(
                "the answer to request {} does not start with ACCEPT, REFUSE or BLOCK; the invitation still waits",
                r.id
            ))
        })?;
        let now = Utc::now();
        let sign = self.sign_feed();
        let action = format!("contact.{}", answer.as_str());
        let detail = format!("answered by {sender}");
        let audit = vec![db::StaffAuditNew {
            at: now,
            actor: DOCK_ACTOR,
            action: &action,
            target: &r.id,
            detail: &detail,
        }];
        match answer {
            InviteAnswer::Accept => {
                if let Some(hit) = self.no_contact_hit(&r.person, &r.name, &r.email)? {
                    return Err(Error::Refused(format!(
                        "{} accepted, but is now on {}'s no-contact list (entry {}); nothing was changed",
                        r.email, r.person, hit.id
                    )));
                }
                let (version, mut list) = self.contact_list(&r.person)?;
                let taken: Vec<ContactId> = list.iter().map(|c| c.id.clone()).collect();
                let id = rules::new_contact_id(&r.name, &taken);
                list.push(Contact {
                    id: id.clone(),
                    name: r.name.clone(),
                    email: r.email.clone(),
                    relationship: r.relationship.clone(),
                    attorney: false,
                });
                let (v, bytes, rows) = self.sign_list(&r.person, version, list, now)?;
                let change = ContactChange {
                    updates: vec![db::RequestUpdate {
                        id: &r.id,
                        state: RequestState::Active,
                        reason: "",
                        contact: Some(id.as_str()),
                        token_sha256: None,
                        decided_by: "",
                    }],
                    list: Some(ListPublish {
                        person: &r.person,
                        version: v,
                        envelope: &bytes,
                        rows,
                    }),
                    feed: vec![state_item(&r, RequestState::Active, "")],
                    audit,
                    ..Default::default()
                };
                self.db.contact_change(change, now, &sign, || Ok(()))?;
                Ok(Some(format!(
                    "{} accepted request {}: contact {id} of {}, list version {v}",
                    r.email, r.id, r.person
                )))
            }
            InviteAnswer::Refuse | InviteAnswer::Block => {
                let block = matches!(answer, InviteAnswer::Block);
                let change = ContactChange {
                    updates: vec![db::RequestUpdate {
                        id: &r.id,
                        state: RequestState::Refused,
                        reason: DECLINED,
                        contact: None,
                        token_sha256: None,
                        decided_by: "",
                    }],
                    feed: vec![state_item(&r, RequestState::Refused, DECLINED)],
                    audit,
                    block: block.then_some((r.email.as_str(), r.id.as_str())),
                    ..Default::default()
                };
                self.db.contact_change(change, now, &sign, || Ok(()))?;
                Ok(Some(format!(
                    "{} {} request {}",
                    r.email,
                    if block {
                        "blocked the facility at"
                    } else {
                        "refused"
                    },
                    r.id
                )))
            }
        }
    }

    /// When this request's invitation was sent, or why not yet.
    pub fn invitation_status(&self, r: &ContactRequestRow) -> String {
        match (&r.invite_sent_at, r.invite_error.is_empty()) {
            (Some(at), _) => format!("sent {at}"),
            (None, false) => format!("not sent yet: {}", r.invite_error),
            (None, true) if r.invited_at.is_some() => {
                "waiting in gateway/outbox for the relay".to_string()
            }
            _ => String::new(),
        }
    }
}
