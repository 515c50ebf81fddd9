//! Staff review of letters both ways. Attorney mail is privileged: review
//! sees who wrote to whom and when, never the body.

use chrono::Utc;

use super::db::{InboundRow, LetterRow, StaffAuditNew};
use super::staff::Actor;
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
    pub fn review_approve(&mut self, id: &str, actor: &Actor) -> Result<ReviewItem> {
        self.ensure_layout()?;
        let now = Utc::now();
        let label = actor.label();
        let by = StaffAuditNew {
            at: now,
            actor: &label,
            action: "review.approve",
            target: id,
            detail: "",
        };
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
                .decide_letter(id, OutState::Approved, "", &by, &sign, || {
                    super::gateway::write_eml(&outbox, &msg.id, &eml)
                })?;
        } else {
            self.db.decide_inbound(id, true, "", &by, &sign)?;
        }
        self.review_show(id)
    }

    pub fn review_reject(&mut self, id: &str, reason: &str, actor: &Actor) -> Result<ReviewItem> {
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
        let label = actor.label();
        let by = StaffAuditNew {
            at: Utc::now(),
            actor: &label,
            action: "review.reject",
            target: id,
            detail: reason,
        };
        let key = &self.shared.messaging_key;
        let sign = |e: &crate::domain::sync::FeedEntry| Dock::sign_entry(key, e);
        if self.db.letter(id)?.is_some() {
            self.db
                .decide_letter(id, OutState::Rejected, reason, &by, &sign, || Ok(()))?;
        } else {
            self.db.decide_inbound(id, false, reason, &by, &sign)?;
        }
        self.review_show(id)
    }
}

/// What the console's review queue asks for. Empty fields match all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReviewFilter {
    /// A state (`in-review`, `approved`, `sent`, `delivered`, `rejected`);
    /// `None` for every state.
    pub state: Option<String>,
    /// Part of the person's id, ignoring case.
    pub person: String,
    /// Part of the contact's id or the sender's address, ignoring case.
    pub contact: String,
    /// Written or sent on or after this day (UTC, `YYYY-MM-DD`).
    pub from: Option<chrono::NaiveDate>,
    /// … and on or before this day.
    pub to: Option<chrono::NaiveDate>,
    /// Privileged mail only (`Some(true)`), ordinary mail only
    /// (`Some(false)`), or both.
    pub attorney: Option<bool>,
}

impl ReviewFilter {
    fn matches(&self, i: &ReviewItem) -> bool {
        let has = |hay: &str, needle: &str| {
            needle.trim().is_empty() || hay.to_lowercase().contains(&needle.trim().to_lowercase())
        };
        let day = chrono::DateTime::parse_from_rfc3339(&i.at)
            .ok()
            .map(|t| t.with_timezone(&Utc).date_naive());
        has(&i.person, &self.person)
            && (has(&i.contact, &self.contact)
                || i.sender.as_deref().is_some_and(|s| has(s, &self.contact)))
            && self.from.is_none_or(|f| day.is_some_and(|d| d >= f))
            && self.to.is_none_or(|t| day.is_some_and(|d| d <= t))
            && self.attorney.is_none_or(|a| a == i.attorney)
    }
}

/// One page of letters, and how many matched in all.
#[derive(Clone, Debug)]
pub struct ReviewPage {
    pub items: Vec<ReviewItem>,
    pub total: usize,
}

/// One line of a letter's history: when, who, what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryLine {
    pub at: String,
    pub who: String,
    pub what: String,
    pub detail: String,
}

impl Dock {
    /// Letters matching the filter, a page at a time: those waiting for
    /// review flagged first then oldest first, the rest newest first.
    pub fn review_search(
        &self,
        filter: &ReviewFilter,
        offset: usize,
        limit: usize,
    ) -> Result<ReviewPage> {
        let state = filter.state.as_deref();
        let mut items: Vec<ReviewItem> = self
            .db
            .letters(state)?
            .iter()
            .map(|l| self.outbound_item(l))
            .chain(self.db.inbound(state)?.iter().map(|m| self.inbound_item(m)))
            .filter(|i| filter.matches(i))
            .collect();
        items.sort_by(|a, b| {
            let waiting = |i: &ReviewItem| i.state == "in-review";
            (!waiting(a), waiting(a) && a.flags.is_empty())
                .cmp(&(!waiting(b), waiting(b) && b.flags.is_empty()))
                .then_with(|| {
                    if waiting(a) && waiting(b) {
                        (&a.at, &a.id).cmp(&(&b.at, &b.id))
                    } else {
                        (&b.at, &b.id).cmp(&(&a.at, &a.id))
                    }
                })
        });
        let total = items.len();
        let items = items.into_iter().skip(offset).take(limit).collect();
        Ok(ReviewPage { items, total })
    }

    /// What happened to a letter: its arrival, every staff action on it
    /// (from the staff trail), and the relay's hand-over.
    pub fn review_history(&self, id: &str) -> Result<Vec<HistoryLine>> {
        let item = self.review_show(id)?;
        let mut out = vec![HistoryLine {
            at: item.at.clone(),
            who: match item.kind {
                ReviewKind::Outbound => item.person.clone(),
                ReviewKind::Inbound => item.sender.clone().unwrap_or_else(|| item.contact.clone()),
            },
            what: match item.kind {
                ReviewKind::Outbound => "written".into(),
                ReviewKind::Inbound => "sent".into(),
            },
            detail: String::new(),
        }];
        for r in self.db.staff_audit_target(id)? {
            out.push(HistoryLine {
                at: r.at,
                who: r.actor,
                what: r.action,
                detail: r.detail,
            });
        }
        if let Some((tries, error, sent)) = &item.relay {
            if let Some(at) = sent {
                out.push(HistoryLine {
                    at: at.clone(),
                    who: "mail relay".into(),
                    what: "accepted".into(),
                    detail: String::new(),
                });
            } else if *tries > 0 {
                out.push(HistoryLine {
                    at: String::new(),
                    who: "mail relay".into(),
                    what: format!("{tries} tries failed"),
                    detail: error.clone(),
                });
            }
        }
        Ok(out)
    }
}
