//! Letters: approved contacts, the states a message passes through, and
//! the rules for sending. Pure: no I/O, no clock of its own.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

use super::names::FacilityId;
use super::people::PersonId;
use super::{Error, PublicKey};

/// Most contacts one person may have.
pub const MAX_CONTACTS: usize = 100;

/// A contact's id within one person's list, e.g. `mom` or `c-0042`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContactId(String);

impl ContactId {
    pub fn parse(s: &str) -> Result<Self, Error> {
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-');
        if !ok {
            return Err(Error::BadName {
                what: "contact id",
                value: s.chars().take(40).collect(),
                why: "use 1 to 32 of a-z 0-9 -".into(),
            });
        }
        Ok(ContactId(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ContactId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        ContactId::parse(&s)
    }
}
impl From<ContactId> for String {
    fn from(c: ContactId) -> String {
        c.0
    }
}
impl fmt::Display for ContactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub id: ContactId,
    pub name: String,
    pub email: String,
    pub relationship: String,
    /// Legal mail: privileged, never read by staff, never counted.
    #[serde(default)]
    pub attorney: bool,
}

/// One person's approved contacts, signed by the contacts role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactListDoc {
    pub facility: FacilityId,
    pub person: PersonId,
    pub version: u64,
    pub issued: DateTime<Utc>,
    pub contacts: Vec<Contact>,
}

pub(crate) fn plausible_email(e: &str) -> bool {
    let mut parts = e.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    e.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"')
        })
}

impl ContactListDoc {
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |why: String| Error::Invalid {
            doc: "contact list",
            why,
        };
        if self.version == 0 {
            return Err(bad("version must be 1 or more".into()));
        }
        if self.contacts.len() > MAX_CONTACTS {
            return Err(bad(format!("at most {MAX_CONTACTS} contacts")));
        }
        let mut ids = BTreeSet::new();
        for c in &self.contacts {
            if !ids.insert(&c.id) {
                return Err(bad(format!("contact {} is listed twice", c.id)));
            }
            let n = c.name.chars().count();
            if n == 0 || n > 64 || c.name.chars().any(char::is_control) {
                return Err(bad(format!("{}: name must be 1 to 64 characters", c.id)));
            }
            if !plausible_email(&c.email) {
                return Err(bad(format!(
                    "{}: {:?} is not an email address",
                    c.id, c.email
                )));
            }
            if c.relationship.chars().count() > 40 {
                return Err(bad(format!(
                    "{}: relationship is longer than 40 characters",
                    c.id
                )));
            }
        }
        Ok(())
    }

    pub fn contact(&self, id: &ContactId) -> Option<&Contact> {
        self.contacts.iter().find(|c| &c.id == id)
    }
}

/// The reason on a letter returned because its contact was removed.
pub const RETURNED_REASON: &str = "contact-removed";

/// Where a letter is. Every state is shown to the person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutState {
    /// Waiting on the tablet for the next dock.
    Queued,
    /// The dock has it (acknowledged).
    Uploaded,
    /// Staff are reviewing it.
    InReview,
    /// Staff approved it; it waits for the facility's mail relay.
    Approved,
    /// The facility's mail relay accepted it for the contact. (Whether the
    /// contact's mailbox took it, nobody here can know.)
    Sent,
    /// The contact's mail system confirmed it. Berth never sets this now;
    /// letters of earlier versions may carry it.
    Delivered,
    /// Staff refused it, with a reason.
    Rejected,
    /// The contact was removed before it left; it came back to the writer.
    Returned,
}

impl OutState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutState::Queued => "queued",
            OutState::Uploaded => "uploaded",
            OutState::InReview => "in-review",
            OutState::Approved => "approved",
            OutState::Sent => "sent",
            OutState::Delivered => "delivered",
            OutState::Rejected => "rejected",
            OutState::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Queued,
            Self::Uploaded,
            Self::InReview,
            Self::Approved,
            Self::Sent,
            Self::Delivered,
            Self::Rejected,
            Self::Returned,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// How far along a letter is; states only move forward.
    fn rank(self) -> u8 {
        match self {
            OutState::Queued => 0,
            OutState::Uploaded => 1,
            OutState::InReview => 2,
            OutState::Approved => 3,
            OutState::Sent => 4,
            OutState::Delivered => 5,
            // Ends: nothing follows them.
            OutState::Rejected | OutState::Returned => 6,
        }
    }

    /// May a letter move from `self` to `next`? States only move forward.
    /// A later word from the dock stands in for one lost on the way (a
    /// queued letter may learn at once that it was sent).
    pub fn can_become(self, next: OutState) -> bool {
        use OutState::*;
        match (self, next) {
            (_, Queued) => false,
            (Rejected | Returned, _) => false,
            // Only a letter still on the tablet can come back to it.
            (_, Returned) => self == Queued,
            // Refused at review: only before review ended.
            (_, Rejected) => self.rank() <= InReview.rank(),
            _ => next.rank() > self.rank(),
        }
    }
}

/// Where a letter in a thread stands, as the person sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LetterState {
    /// A letter the person wrote, in its state.
    Out(OutState),
    /// A letter from the contact, on this tablet.
    Received,
}

impl LetterState {
    pub fn as_str(self) -> &'static str {
        match self {
            LetterState::Out(s) => s.as_str(),
            LetterState::Received => "received",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "received" => Some(LetterState::Received),
            other => OutState::parse(other).map(LetterState::Out),
        }
    }
}

/// Why a letter cannot be sent now.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendRefusal {
    #[error("the letter is empty")]
    Empty,
    #[error("the letter is {count} characters; the limit is {max}")]
    TooLong { count: usize, max: usize },
    #[error("today's {quota} letters are used; attorney mail is not counted")]
    QuotaUsed { quota: u32 },
    #[error("{0} is not on your approved contacts")]
    NotAContact(String),
}

/// Length as a person counts it: user-perceived characters (graphemes), so
/// "ñ", "é" or an emoji with a skin tone counts once.
pub fn graphemes(text: &str) -> usize {
    text.graphemes(true).count()
}

/// Does the next letter typed after `text` start a sentence, so it should
/// be a capital? At the start, after `.`, `?` or `!` and a space, after a
/// new line, and after a Spanish opening `¿` or `¡`.
pub fn starts_sentence(text: &str) -> bool {
    let Some(last) = text.chars().next_back() else {
        return true;
    };
    if last == '\n' {
        return true;
    }
    if last == '¿' || last == '¡' {
        let before = text[..text.len() - last.len_utf8()].chars().next_back();
        return before.is_none_or(char::is_whitespace)
            || before.is_some_and(|c| c == '¿' || c == '¡');
    }
    if !last.is_whitespace() {
        return false;
    }
    match text.trim_end().chars().next_back() {
        None => true,
        Some(c) => matches!(c, '.' | '?' | '!'),
    }
}

/// May this letter be queued? Attorney mail is never counted against the
/// daily quota.
pub fn check_send(
    body: &str,
    max_graphemes: u32,
    sent_today: u32,
    quota: u32,
    attorney: bool,
) -> Result<(), SendRefusal> {
    if body.trim().is_empty() {
        return Err(SendRefusal::Empty);
    }
    let count = graphemes(body);
    if count > max_graphemes as usize {
        return Err(SendRefusal::TooLong {
            count,
            max: max_graphemes as usize,
        });
    }
    if !attorney && sent_today >= quota {
        return Err(SendRefusal::QuotaUsed { quota });
    }
    Ok(())
}

/// A queued letter as the tablet signs it with its device key. The dock
/// keeps `UNIQUE(tablet, seq)`; `id` stays the same through every resend.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundMessage {
    pub id: String,
    pub tablet: PublicKey,
    pub seq: u64,
    pub person: PersonId,
    pub contact: ContactId,
    pub attorney: bool,
    pub body: String,
    pub written_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sentence_starts_with_a_capital() {
        for (text, capital) in [
            ("", true),
            ("Hola", false),
            ("Hola ", false),
            ("Hola, Ana.", false),
            ("Hola, Ana. ", true),
            ("¿Cómo estás? ", true),
            ("¡Qué bien! ", true),
            ("Te quiero\n", true),
            ("Dime ¿", true),
            ("¿", true),
            ("3.5", false),
            ("Sr. ", true),
        ] {
            assert_eq!(starts_sentence(text), capital, "{text:?}");
        }
    }

    #[test]
    fn graphemes_count_what_a_person_sees() {
        assert_eq!(graphemes("año"), 3);
        assert_eq!(graphemes("an\u{303}o"), 3, "n + combining tilde is one");
        assert_eq!(graphemes("👍🏽"), 1);
        assert_eq!(graphemes("¿Qué tal?"), 9);
    }

    #[test]
    fn send_rules() {
        assert_eq!(check_send("  ", 10, 0, 5, false), Err(SendRefusal::Empty));
        assert!(matches!(
            check_send("ñññññ", 4, 0, 5, false),
            Err(SendRefusal::TooLong { count: 5, max: 4 })
        ));
        assert!(check_send("ñññññ", 5, 0, 5, false).is_ok());
        assert_eq!(
            check_send("hola", 10, 5, 5, false),
            Err(SendRefusal::QuotaUsed { quota: 5 })
        );
        assert!(
            check_send("hola", 10, 5, 5, true).is_ok(),
            "attorney mail is never counted"
        );
    }

    #[test]
    fn states_only_move_forward() {
        use OutState::*;
        assert!(
            Queued.can_become(Uploaded)
                && Uploaded.can_become(InReview)
                && InReview.can_become(Approved)
                && Approved.can_become(Sent)
                && Queued.can_become(Sent)
        );
        assert!(Queued.can_become(Returned) && InReview.can_become(Rejected));
        assert!(
            !Delivered.can_become(Queued)
                && !Sent.can_become(Approved)
                && !Approved.can_become(Rejected)
                && !Uploaded.can_become(Returned)
                && !Rejected.can_become(Delivered)
                && !Returned.can_become(Sent)
        );
        for s in [
            Queued, Uploaded, InReview, Approved, Sent, Delivered, Rejected, Returned,
        ] {
            assert_eq!(OutState::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn contact_list_rules() {
        let c = |id: &str, email: &str| Contact {
            id: ContactId::parse(id).unwrap(),
            name: "Ana".into(),
            email: email.into(),
            relationship: "hermana".into(),
            attorney: false,
        };
        let doc = |contacts| ContactListDoc {
            facility: FacilityId::parse("f").unwrap(),
            person: PersonId::parse("A1").unwrap(),
            version: 1,
            issued: DateTime::from_timestamp(0, 0).unwrap(),
            contacts,
        };
        assert!(doc(vec![c("ana", "ana@example.org")]).validate().is_ok());
        assert!(
            doc(vec![c("ana", "ana@example.org"), c("ana", "b@example.org")])
                .validate()
                .is_err()
        );
        for bad in [
            "ana",
            "a@b",
            "a b@example.org",
            "a@@example.org",
            "<a@example.org>",
        ] {
            assert!(doc(vec![c("ana", bad)]).validate().is_err(), "{bad}");
        }
        assert!(ContactId::parse("Mom").is_err());
    }
}
