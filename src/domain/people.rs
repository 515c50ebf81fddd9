//! People on a tablet: the signed roster and its entries.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Error;
use super::names::{FacilityId, GroupId};

/// Most people one roster may list.
pub const MAX_ROSTER: usize = 1000;

/// A person's facility id, e.g. `A12345`: 1–32 of `A-Z a-z 0-9 -`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PersonId(String);

impl PersonId {
    pub fn parse(s: &str) -> Result<Self, Error> {
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && s.as_bytes()[0].is_ascii_alphanumeric();
        if !ok {
            return Err(Error::BadName {
                what: "person id",
                value: s.chars().take(40).collect(),
                why: "use 1 to 32 letters, digits or -".into(),
            });
        }
        Ok(PersonId(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The policy and approval group naming this person.
    pub fn group(&self) -> GroupId {
        GroupId::parse(&format!("person:{}", self.0.to_ascii_lowercase()))
            .expect("person ids are valid group names")
    }
}

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}
impl Serialize for PersonId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}
impl<'de> Deserialize<'de> for PersonId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        PersonId::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}
impl std::str::FromStr for PersonId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        PersonId::parse(s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    Es,
}

impl Language {
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Es => "es",
        }
    }
}

/// The one-time enrolment code, stretched by the facility with PBKDF2 so
/// the roster never carries it in the clear.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentSecret {
    /// 16 bytes, hex.
    pub salt: String,
    pub iterations: u32,
    /// 32 bytes, hex.
    pub hash: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterEntry {
    pub id: PersonId,
    pub display_name: String,
    pub language: Language,
    /// The person's housing unit, e.g. `unit:b-east`.
    pub unit: GroupId,
    pub enrolment: EnrolmentSecret,
}

/// The people enrolled on the tablets of one group, signed by the roster role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterDoc {
    pub facility: FacilityId,
    /// The tablet group this roster is for (`facility` or `unit:NAME`).
    pub group: GroupId,
    pub version: u64,
    pub issued: DateTime<Utc>,
    pub people: Vec<RosterEntry>,
}

impl RosterDoc {
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |why: String| Error::Invalid { doc: "roster", why };
        if self.version == 0 {
            return Err(bad("version must be 1 or more".into()));
        }
        if self.people.len() > MAX_ROSTER {
            return Err(bad(format!("at most {MAX_ROSTER} people")));
        }
        let mut seen = BTreeSet::new();
        for p in &self.people {
            if !seen.insert(p.id.as_str().to_ascii_lowercase()) {
                return Err(bad(format!("{} is listed twice", p.id)));
            }
            let n = p.display_name.chars().count();
            if n == 0 || n > 64 || p.display_name.chars().any(char::is_control) {
                return Err(bad(format!(
                    "{}: display name must be 1 to 64 characters",
                    p.id
                )));
            }
            if !p.unit.as_str().starts_with("unit:") {
                return Err(bad(format!("{}: unit must look like unit:NAME", p.id)));
            }
            let e = &p.enrolment;
            let hex_len = |s: &str, n: usize| {
                s.len() == n
                    && s.bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            };
            if !hex_len(&e.salt, 32)
                || !hex_len(&e.hash, 64)
                || !(100_000..=2_000_000).contains(&e.iterations)
            {
                return Err(bad(format!("{}: enrolment secret is malformed", p.id)));
            }
        }
        Ok(())
    }
}

/// What a person chooses for themselves on the Settings page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PersonalSettings {
    /// Overrides the roster's language when set.
    pub language: Option<String>,
    pub large_text: bool,
    pub high_contrast: bool,
}
