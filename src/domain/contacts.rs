//! Contact requests and the no-contact list: pure rules.
//!
//! TRULINCS is the model: the person asks for a contact on the tablet,
//! staff approve the request at the dock, the contact accepts by answering
//! an invitation (or refuses, or blocks the facility), and only then does
//! the dock sign the person's new contact list. A request moves forward
//! only: asked → in review → invited → active, or refused (with a reason
//! the person reads), and an active contact can be removed.
//!
//! Victims come first: each person has a no-contact list (court orders,
//! victims, witnesses). A request that matches it is refused without
//! staff seeing it first, and flagged to them; the person is told only that
//! it was refused. Mail from a listed address is never imported.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Error;
use super::PublicKey;
use super::messages::{ContactId, plausible_email};
use super::people::PersonId;

/// Longest name on a request or a no-contact entry, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest relationship ("mother", "abogada"), in characters.
pub const MAX_RELATIONSHIP_CHARS: usize = 40;
/// Longest postal address on a no-contact entry, in characters.
pub const MAX_ADDRESS_CHARS: usize = 200;
/// Requests one person may have open (not active, refused or removed).
pub const MAX_OPEN_REQUESTS: usize = 10;
/// Longest reason staff give (the person reads it).
pub const MAX_REASON_CHARS: usize = 500;

/// What the person asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ContactAsk {
    /// A new contact.
    Add {
        name: String,
        relationship: String,
        email: String,
    },
    /// Take an approved contact off the list.
    Remove { contact: ContactId },
}

/// A request as the tablet signs it with its device key. `id` is the
/// tablet's and stays the same through every resend; the dock keeps one
/// row per id, so a resend after a lost ack changes nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactRequestDoc {
    pub id: String,
    pub tablet: PublicKey,
    pub person: PersonId,
    pub ask: ContactAsk,
    pub asked_at: DateTime<Utc>,
}

/// Why a request cannot be made; each says what to change.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AskRefusal {
    #[error("write the contact's name")]
    NoName,
    #[error("the name is longer than {MAX_NAME_CHARS} characters")]
    NameTooLong,
    #[error("the relationship is longer than {MAX_RELATIONSHIP_CHARS} characters")]
    RelationshipTooLong,
    #[error("{0:?} is not an email address; it looks like name@example.org")]
    BadEmail(String),
    #[error("{0} is already one of your contacts")]
    AlreadyAContact(String),
    #[error("you already asked for {0}; the request is waiting")]
    AlreadyAsked(String),
    #[error(
        "you have {MAX_OPEN_REQUESTS} requests waiting; wait for an answer before asking again"
    )]
    TooManyOpen,
}

/// A name as people write it: whitespace collapsed, control characters out.
pub fn clean_name(s: &str) -> String {
    s.split_whitespace()
        .map(|w| w.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// An email address as stored and compared: trimmed, lowercased.
pub fn clean_email(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Check a new contact's details, as the tablet's form and the dock both do.
/// Returns the cleaned (name, relationship, email).
pub fn check_add(
    name: &str,
    relationship: &str,
    email: &str,
) -> Result<(String, String, String), AskRefusal> {
    let name = clean_name(name);
    let relationship = clean_name(relationship);
    let email = clean_email(email);
    if name.is_empty() {
        return Err(AskRefusal::NoName);
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(AskRefusal::NameTooLong);
    }
    if relationship.chars().count() > MAX_RELATIONSHIP_CHARS {
        return Err(AskRefusal::RelationshipTooLong);
    }
    if !plausible_email(&email) {
        return Err(AskRefusal::BadEmail(email));
    }
    Ok((name, relationship, email))
}

impl ContactRequestDoc {
    /// The rules a signed request meets before the dock stores it.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |why: String| Error::Invalid {
            doc: "contact request",
            why,
        };
        if self.id.is_empty()
            || self.id.len() > 64
            || !self
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(bad("id must be 1 to 64 of A-Z a-z 0-9 -".into()));
        }
        if let ContactAsk::Add {
            name,
            relationship,
            email,
        } = &self.ask
        {
            let (n, r, e) = check_add(name, relationship, email).map_err(|e| bad(e.to_string()))?;
            if &n != name || &r != relationship || &e != email {
                return Err(bad(
                    "name, relationship and email must be sent cleaned".into()
                ));
            }
        }
        Ok(())
    }
}

/// Where a contact request is. Every state is shown to the person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestState {
    /// Waiting on the tablet for the next dock.
    Asked,
    /// At the dock; staff are looking at it.
    InReview,
    /// Staff approved; the contact was sent an invitation.
    Invited,
    /// The contact accepted; they are on the signed list.
    Active,
    /// Refused by staff, by the contact, or by the no-contact list (the
    /// reason says only what the person may know).
    Refused,
    /// Taken off the list: by the person, or suspended by staff.
    Removed,
}

impl RequestState {
    pub const ALL: [RequestState; 6] = [
        RequestState::Asked,
        RequestState::InReview,
        RequestState::Invited,
        RequestState::Active,
        RequestState::Refused,
        RequestState::Removed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Asked => "asked",
            RequestState::InReview => "in-review",
            RequestState::Invited => "invited",
            RequestState::Active => "active",
            RequestState::Refused => "refused",
            RequestState::Removed => "removed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    fn rank(self) -> u8 {
        match self {
            RequestState::Asked => 0,
            RequestState::InReview => 1,
            RequestState::Invited => 2,
            RequestState::Active => 3,
            RequestState::Refused | RequestState::Removed => 4,
        }
    }

    /// Is the request still waiting for someone?
    pub fn is_open(self) -> bool {
        matches!(
            self,
            RequestState::Asked | RequestState::InReview | RequestState::Invited
        )
    }

    /// States only move forward; refused and removed are ends. An active
    /// contact can be removed (and a removal the person asked for goes
    /// from asked or in review straight to removed); only an open request
    /// can be refused.
    pub fn can_become(self, next: RequestState) -> bool {
        use RequestState::*;
        match (self, next) {
            (Refused | Removed, _) | (_, Asked) => false,
            (_, Removed) => matches!(self, Active | Asked | InReview),
            (_, Refused) => self.is_open(),
            _ => next.rank() > self.rank(),
        }
    }
}

/// Why a no-contact entry exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoContactKind {
    CourtOrder,
    Victim,
    Witness,
}

impl NoContactKind {
    pub const ALL: [NoContactKind; 3] = [
        NoContactKind::CourtOrder,
        NoContactKind::Victim,
        NoContactKind::Witness,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            NoContactKind::CourtOrder => "court-order",
            NoContactKind::Victim => "victim",
            NoContactKind::Witness => "witness",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }
}

/// Someone a person must not contact. At least one of name and email.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoContactEntry {
    pub kind: NoContactKind,
    pub name: String,
    pub email: String,
    pub address: String,
}

impl NoContactEntry {
    /// A cleaned entry, or what is wrong with it.
    pub fn new(kind: NoContactKind, name: &str, email: &str, address: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::Invalid {
            doc: "no-contact entry",
            why: why.into(),
        };
        let (name, email, address) = (clean_name(name), clean_email(email), clean_name(address));
        if name.is_empty() && email.is_empty() {
            return Err(bad("give a name or an email address (or both)"));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(bad("the name is longer than 64 characters"));
        }
        if !email.is_empty() && !plausible_email(&email) {
            return Err(bad(
                "the email address is not one; it looks like name@example.org",
            ));
        }
        if address.chars().count() > MAX_ADDRESS_CHARS {
            return Err(bad("the address is longer than 200 characters"));
        }
        Ok(NoContactEntry {
            kind,
            name,
            email,
            address,
        })
    }
}

/// A name folded for comparison: lowercase, accents and punctuation
/// dropped, words in order: "María  Pérez-Soto" and "maria perez soto"
/// fold the same.
pub fn fold_name(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Does a contact (by name and email) match an entry of the list? The
/// email matches ignoring case; the name matches folded (see
/// [`fold_name`]), so an accent or a hyphen does not slip past the list.
pub fn matches_no_contact<'a>(
    list: &'a [NoContactEntry],
    name: &str,
    email: &str,
) -> Option<&'a NoContactEntry> {
    let (name, email) = (fold_name(name), clean_email(email));
    list.iter().find(|e| {
        (!e.email.is_empty() && e.email == email)
            || (!e.name.is_empty() && !name.is_empty() && fold_name(&e.name) == name)
    })
}

/// How a contact answered an invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InviteAnswer {
    Accept,
    Refuse,
    /// Refuse, and every future request from this facility.
    Block,
}

impl InviteAnswer {
    pub fn as_str(self) -> &'static str {
        match self {
            InviteAnswer::Accept => "accept",
            InviteAnswer::Refuse => "refuse",
            InviteAnswer::Block => "block",
        }
    }
}

/// The answer in a reply to an invitation: the first word of the first
/// line that is not quoted (`>`) and not blank, in English or Spanish.
/// Anything else is no answer, and the invitation keeps waiting.
pub fn read_answer(body: &str) -> Option<InviteAnswer> {
    let line = body
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('>'))?;
    let word = fold_name(line.split_whitespace().next()?);
    match word.as_str() {
        "accept" | "yes" | "acepto" | "aceptar" | "si" => Some(InviteAnswer::Accept),
        "refuse" | "no" | "rechazo" | "rechazar" => Some(InviteAnswer::Refuse),
        "block" | "bloquear" | "bloqueo" => Some(InviteAnswer::Block),
        _ => None,
    }
}

/// A contact id for a new contact: from the name, made unique in the list
/// (`ana-lopez`, `ana-lopez-2`).
pub fn new_contact_id(name: &str, taken: &[ContactId]) -> ContactId {
    let mut base: String = fold_name(name)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    base.truncate(24);
    let base = base.trim_end_matches('-').to_string();
    let base = if base.is_empty() {
        "contact".to_string()
    } else {
        base
    };
    let mut n = 1;
    loop {
        let id = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let id = ContactId::parse(&id).expect("built from a-z 0-9 -");
        if !taken.contains(&id) {
            return id;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_only_move_forward() {
        use RequestState::*;
        assert!(Asked.can_become(InReview) && InReview.can_become(Invited));
        assert!(Invited.can_become(Active) && Asked.can_become(Active));
        assert!(Asked.can_become(Refused) && Invited.can_become(Refused));
        assert!(
            !Active.can_become(Refused),
            "an active contact is removed, not refused"
        );
        assert!(Active.can_become(Removed) && !Invited.can_become(Removed));
        assert!(!Refused.can_become(Active) && !Removed.can_become(Active));
        assert!(!Invited.can_become(InReview) && !InReview.can_become(Asked));
        for s in RequestState::ALL {
            assert_eq!(RequestState::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn names_fold_past_accents_case_and_hyphens() {
        assert_eq!(fold_name("María  Pérez-Soto"), "maria perez soto");
        assert_eq!(fold_name("MARIA PEREZ SOTO"), "maria perez soto");
        assert_eq!(fold_name("Núñez"), "nunez");
        assert_ne!(fold_name("Maria Perez"), fold_name("Mario Perez"));
    }

    #[test]
    fn the_no_contact_list_matches_email_or_folded_name() {
        let list = vec![
            NoContactEntry::new(NoContactKind::Victim, "Rosa Díaz", "", "").unwrap(),
            NoContactEntry::new(NoContactKind::CourtOrder, "", "Ex@Example.org", "").unwrap(),
        ];
        assert!(matches_no_contact(&list, "rosa diaz", "a@b.org").is_some());
        assert!(matches_no_contact(&list, "ROSA  DÍAZ", "a@b.org").is_some());
        assert!(matches_no_contact(&list, "Someone", " ex@example.ORG ").is_some());
        assert!(matches_no_contact(&list, "Rosa Diaz Ruiz", "r@b.org").is_none());
        assert!(matches_no_contact(&[], "Rosa Díaz", "ex@example.org").is_none());
        assert!(NoContactEntry::new(NoContactKind::Witness, " ", "", "").is_err());
        assert!(NoContactEntry::new(NoContactKind::Witness, "", "not-an-email", "").is_err());
    }

    #[test]
    fn answers_are_read_from_the_first_unquoted_line() {
        assert_eq!(
            read_answer("ACCEPT\n\n> Reply ACCEPT"),
            Some(InviteAnswer::Accept)
        );
        assert_eq!(read_answer("\n  Sí, acepto"), Some(InviteAnswer::Accept));
        assert_eq!(
            read_answer("> ACCEPT\nno thanks"),
            Some(InviteAnswer::Refuse)
        );
        assert_eq!(read_answer("Block."), Some(InviteAnswer::Block));
        assert_eq!(read_answer("bloquear"), Some(InviteAnswer::Block));
        assert_eq!(read_answer("who is this?"), None);
        assert_eq!(read_answer("> ACCEPT"), None);
    }

    #[test]
    fn requests_are_checked_and_cleaned() {
        assert_eq!(
            check_add("  Ana   López ", "hermana", " Ana@Example.ORG ").unwrap(),
            (
                "Ana López".into(),
                "hermana".into(),
                "ana@example.org".into()
            )
        );
        assert_eq!(check_add(" ", "", "a@b.org"), Err(AskRefusal::NoName));
        assert!(matches!(
            check_add("Ana", "", "ana"),
            Err(AskRefusal::BadEmail(_))
        ));
        assert_eq!(
            check_add(&"a".repeat(65), "", "a@b.org"),
            Err(AskRefusal::NameTooLong)
        );
    }

    #[test]
    fn new_ids_come_from_the_name_and_are_unique() {
        let taken = vec![ContactId::parse("ana-lopez").unwrap()];
        assert_eq!(new_contact_id("Ana López", &taken).as_str(), "ana-lopez-2");
        assert_eq!(new_contact_id("José", &[]).as_str(), "jose");
        assert_eq!(new_contact_id("李", &[]).as_str(), "contact");
    }
}
