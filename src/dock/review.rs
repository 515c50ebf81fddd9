//! Staff review of letters both ways. Attorney mail is privileged: review
//! sees who wrote to whom and when, never the body.

use chrono::Utc;

use super::db::{InboundRow, LetterRow};
use super::{Dock, Error, Result};
use crate::domain::PublicKey;
use crate::domain::messages::{OutState, OutboundMessage};
use crate::domain::sync::keyword_flags;
use crate::trust::signed;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewKind {
    /// From a person on a tablet, to a contact.
    Outbound,
    /// From a contact, by email, to a person.
    Inbound,
}

/// One letter as a reviewer sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewItem {
    pub id: String,
    pub kind: ReviewKind,
    pub person: String,
    pub contact: String,
    pub attorney: bool,
    pub at: String,
    pub state: String,
    pub reason: String,
    pub flags: Vec<String>,
    /// `None` for attorney mail, and for a letter whose signature no longer
    /// verifies (then `problem` says so).
    pub body: Option<String>,
    pub problem: Option<String>,
    /// Inbound: the email's subject (not shown for privileged mail).
    pub subject: Option<String>,
    /// Inbound: attachments the gateway left out.
    pub removed: Vec<super::mail::Removed>,
    /// Inbound: the sender's address.
    pub sender: Option<String>,
    /// Outbound: (tries, last error, when the relay accepted it).
    pub relay: Option<(u32, String, Option<String>)>,
}

impl Dock {
    fn outbound_item(&self, l: &LetterRow) -> ReviewItem {
        let verified = PublicKey::from_hex(&l.tablet)
            .map_err(|e| e.to_string())
            .and_then(|k| signed::verify_letter(&k, &l.envelope).map_err(|e| e.to_string()))
            .and_then(|m| {
                if m.id == l.id && m.person.as_str() == l.person && m.contact.as_str() == l.contact
                {
                    Ok(m)
                } else {
                    Err("the stored letter does not match its signed copy".into())
                }
            });
        let (body, problem) = match verified {
            Ok(m) if !l.attorney => (Some(m.body), None),
            Ok(_) => (None, None),
            Err(e) => (None, Some(format!("signature check failed: {e}"))),
        };
        ReviewItem {
            id: l.id.clone(),
            kind: ReviewKind::Outbound,
            person: l.person.clone(),
            contact: l.contact.clone(),
            attorney: l.attorney,
            at: l.written_at.clone(),
            state: l.state.clone(),
            reason: l.reason.clone(),
            flags: body
                .as_deref()
                .map(|b| keyword_flags(b, &self.shared.config.keywords))
                .unwrap_or_default(),
            body,
            problem,
            subject: None,
            removed: Vec::new(),
            sender: None,
            relay: self.db.relay_status(&l.id).ok().flatten(),
        }
    }

    fn inbound_item(&self, m: &InboundRow) -> ReviewItem {
        let body = (!m.attorney).then(|| m.body.clone());
        ReviewItem {
            id: m.id.clone(),
            kind: ReviewKind::Inbound,
            person: m.person.clone(),
            contact: m.contact.clone(),
            attorney: m.attorney,
            at: m.sent_at.clone(),
            state: m.state.clone(),
            reason: m.reason.clone(),
            flags: body
                .as_deref()
                .map(|b| {
                    let mut f = keyword_flags(b, &self.shared.config.keywords);
                    f.extend(keyword_flags(&m.subject, &self.shared.config.keywords));
                    f.sort();
                    f.dedup();
                    f
                })
                .unwrap_or_default(),
            body,
            problem: None,
            subject: (!m.attorney).then(|| m.subject.clone()),
            removed: m.removed.clone(),
            sender: Some(m.sender.clone()),
            relay: None,
        }
    }

    /// Letters waiting for review: flagged first, then oldest first.
    pub fn review_list(&self) -> Result<Vec<ReviewItem>> {
        let mut items: Vec<ReviewItem> = self
            .db
            .letters(Some("in-review"))?
            .iter()
            .map(|l| self.outbound_item(l))
            .chain(
                self.db
                    .inbound(Some("in-review"))?
                    .iter()
                    .map(|m| self.inbound_item(m)),
            )
            .collect();
        items.sort_by(|a, b| {
            (a.flags.is_empty(), &a.at, &a.id).cmp(&(b.flags.is_empty(), &b.at, &b.id))
        });
        Ok(items)
    }

    pub fn review_show(&self, id: &str) -> Result<ReviewItem> {
        if let Some(l) = self.db.letter(id)? {
            return Ok(self.outbound_item(&l));
        }
        if let Some(m) = self.db.inbound_one(id)? {
            return Ok(self.inbound_item(&m));
        }
        Err(Error::NotFound {
            what: "letter",
            id: id.into(),
            hint: "see `berth-facility review list --data D`",
        })
    }

    /// Approve: an outbound letter leaves through the mail gateway as a
    /// `.eml` file; inbound mail goes into the person's feed. A letter whose
    /// signature no longer verifies (changed at the dock) is refused.
    pub fn review_approve(&mut self, id: &str, staff: &str) -> Result<ReviewItem> {
        self.ensure_layout()?;
        let now = Utc::now();
        let key = &self.shared.messaging_key;
        let sign = |e: &crate::domain::sync::FeedEntry| Dock::sign_entry(key, e);
        if let Some(l) = self.db.letter(id)? {
            let tablet = PublicKey::from_hex(&l.tablet)?;
            let msg: OutboundMessage =
                signed::verify_letter(&tablet, &l.envelope).map_err(|e| {
                    Error::Refused(format!(
                        "letter {id} was changed after the tablet signed it ({e}); it cannot be delivered. \
                         Reject it with a reason instead"
                    ))
                })?;
            if msg.id != l.id
                || msg.person.as_str() != l.person
                || msg.contact.as_str() != l.contact
            {
                return Err(Error::Refused(format!(
                    "letter {id} does not match its signed copy; it cannot be delivered. Reject it instead"
                )));
            }
            let eml = self.render_letter(&msg)?;
            let outbox = self.shared.data.join("gateway").join("outbox");
            self.db
                .decide_letter(id, OutState::Approved, "", staff, now, &sign, || {
                    super::gateway::write_eml(&outbox, &msg.id, &eml)
                })?;
        } else {
            self.db.decide_inbound(id, true, "", staff, now, &sign)?;
        }
        self.review_show(id)
    }

    pub fn review_reject(&mut self, id: &str, reason: &str, staff: &str) -> Result<ReviewItem> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Error::Refused(
                "give the reason the person will read, e.g. --reason \"mentions another person's case\"".into(),
            ));
        }
        if reason.chars().count() > 500 {
            return Err(Error::Refused(
                "keep the reason under 500 characters".into(),
            ));
        }
        let now = Utc::now();
        let key = &self.shared.messaging_key;
        let sign = |e: &crate::domain::sync::FeedEntry| Dock::sign_entry(key, e);
        if self.db.letter(id)?.is_some() {
            self.db
                .decide_letter(id, OutState::Rejected, reason, staff, now, &sign, || Ok(()))?;
        } else {
            self.db
                .decide_inbound(id, false, reason, staff, now, &sign)?;
        }
        self.review_show(id)
    }
}
