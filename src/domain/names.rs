//! Validated names. Each type can only hold a value that passed its rules,
//! so code that receives one never re-checks it (tough's `TargetName` idea).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Error;

/// Maximum number of components in a [`SafePath`].
pub const MAX_PATH_DEPTH: usize = 8;
/// Maximum length in bytes of one [`SafePath`] component.
pub const MAX_COMPONENT_LEN: usize = 100;
/// Maximum length in bytes of a whole [`SafePath`].
pub const MAX_PATH_LEN: usize = 255;

/// A relative path inside a bundle: 1–8 components of `[A-Za-z0-9._-]`,
/// separated by `/`, never `.` or `..`. Absolute paths, backslashes, NUL
/// and non-ASCII bytes cannot be represented.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SafePath(String);

impl SafePath {
    pub fn parse(s: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::UnsafePath {
            path: s.escape_debug().to_string(),
            why: why.to_string(),
        };
        if s.is_empty() {
            return Err(bad("it is empty"));
        }
        if s.len() > MAX_PATH_LEN {
            return Err(bad("it is longer than 255 bytes"));
        }
        if s.starts_with('/') {
            return Err(bad("absolute paths are not allowed"));
        }
        let components: Vec<&str> = s.split('/').collect();
        if components.len() > MAX_PATH_DEPTH {
            return Err(bad("it has more than 8 components"));
        }
        for c in &components {
            if c.is_empty() {
                return Err(bad("it has an empty component (`//` or a trailing `/`)"));
            }
            if *c == "." || *c == ".." {
                return Err(bad("`.` and `..` components are not allowed"));
            }
            if c.len() > MAX_COMPONENT_LEN {
                return Err(bad("a component is longer than 100 bytes"));
            }
            if let Some(ch) = c
                .chars()
                .find(|ch| !(ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-')))
            {
                return Err(bad(&format!(
                    "character {:?} is not allowed (only A-Z a-z 0-9 . _ -)",
                    ch
                )));
            }
        }
        Ok(SafePath(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The components, in order. Each is a plain file or directory name.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

/// Declares a string newtype with a validating `parse`, `Display`, and serde
/// that runs the same validation on deserialize.
macro_rules! validated_name {
    ($(#[$doc:meta])* $name:ident, $what:literal, $check:expr) => {
        validated_name!($(#[$doc])* $name, $what, $check, |s: &str| s.to_string());
    };
    ($(#[$doc:meta])* $name:ident, $what:literal, $check:expr, $canon:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, Error> {
                let check: fn(&str) -> Result<(), String> = $check;
                check(s).map_err(|why| Error::BadName {
                    what: $what,
                    value: s.escape_debug().to_string(),
                    why,
                })?;
                let canon: fn(&str) -> String = $canon;
                Ok(Self(canon(s)))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", self.0)
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse(&s).map_err(serde::de::Error::custom)
            }
        }
        impl std::str::FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                $name::parse(s)
            }
        }
    };
}

fn ident_rule(s: &str, max: usize, extra: &[char]) -> Result<(), String> {
    if s.is_empty() || s.len() > max {
        return Err(format!("it must be 1 to {max} characters long"));
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
        return Err("it must start with a lowercase letter or a digit".into());
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || extra.contains(c)))
    {
        let allowed: String = extra.iter().collect();
        return Err(format!(
            "character {c:?} is not allowed (use a-z 0-9 -{allowed})"
        ));
    }
    Ok(())
}

validated_name!(
    /// A bundle's identity across versions, e.g. `acme.algebra-1`.
    BundleId,
    "bundle id",
    |s| ident_rule(s, 64, &['.', '_'])
);
validated_name!(
    /// A content vendor's identity, e.g. `acme`.
    VendorId,
    "vendor id",
    |s| ident_rule(s, 32, &[])
);
validated_name!(
    /// A facility's identity, e.g. `riverside-cc`.
    FacilityId,
    "facility id",
    |s| ident_rule(s, 64, &[])
);
validated_name!(
    /// A group a tablet or person belongs to: `facility`, `unit:b-east`,
    /// `person:A12345`. A person's id may be written as the facility issues
    /// it (capitals included); person ids are matched without regard to
    /// case, so the group is kept in lowercase (`person:a12345`).
    GroupId,
    "group",
    |s| match s.strip_prefix("person:") {
        Some(id) => crate::domain::people::PersonId::parse(id)
            .map(|_| ())
            .map_err(|_| "a person group is person: and a person id of 1 to 32 letters, digits or -".into()),
        None => ident_rule(s, 64, &[':', '.', '_']),
    },
    |s: &str| match s.strip_prefix("person:") {
        Some(id) => format!("person:{}", id.to_ascii_lowercase()),
        None => s.to_string(),
    }
);
validated_name!(
    /// A tablet hardware model, e.g. `berth-t1`, or `any`.
    TabletModel,
    "tablet model",
    |s| ident_rule(s, 32, &['.', '_'])
);

impl TabletModel {
    /// A manifest naming this model installs on every model.
    pub const ANY: &'static str = "any";

    pub fn accepts(&self, tablet: &TabletModel) -> bool {
        self.0 == Self::ANY || self.0 == tablet.0
    }
}

impl fmt::Display for SafePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for SafePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}
impl Serialize for SafePath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}
impl<'de> Deserialize<'de> for SafePath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        SafePath::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// What a content bundle holds. Vendor delegations are scoped to these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentType {
    Education,
    Books,
    Music,
}

impl ContentType {
    pub const ALL: [ContentType; 3] = [
        ContentType::Education,
        ContentType::Books,
        ContentType::Music,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::Education => "education",
            ContentType::Books => "books",
            ContentType::Music => "music",
        }
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ContentType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        ContentType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| Error::BadName {
                what: "content type",
                value: s.escape_debug().to_string(),
                why: "use one of: education, books, music".into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn person_groups_can_be_written_as_the_facility_issues_ids() {
        let g = GroupId::parse("person:A12345").unwrap();
        assert_eq!(g.as_str(), "person:a12345");
        assert_eq!(
            g,
            crate::domain::people::PersonId::parse("A12345")
                .unwrap()
                .group()
        );
        let back: GroupId = serde_json::from_str("\"person:A12345\"").unwrap();
        assert_eq!(back, g);
        // Other groups stay lowercase-only, and a person id keeps its rules.
        assert!(GroupId::parse("Unit:B-East").is_err());
        assert!(GroupId::parse("person:").is_err());
        assert!(GroupId::parse("person:a b").is_err());
    }

    proptest! {
        #[test]
        fn safe_path_parser_never_panics_and_accepts_only_safe_paths(s in "\\PC{0,40}") {
            if let Ok(p) = SafePath::parse(&s) {
                let comps: Vec<&str> = p.components().collect();
                prop_assert!(!comps.is_empty() && comps.len() <= MAX_PATH_DEPTH);
                for c in comps {
                    prop_assert!(c != "." && c != ".." && !c.is_empty());
                    prop_assert!(c.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)));
                }
                prop_assert_eq!(p.as_str(), s.as_str());
            }
        }

        #[test]
        fn safe_path_accepts_every_well_formed_path(
            comps in proptest::collection::vec("[A-Za-z0-9_-][A-Za-z0-9._-]{0,20}", 1..=8)
        ) {
            let s = comps.join("/");
            prop_assert!(SafePath::parse(&s).is_ok(), "{}", s);
        }

        #[test]
        fn safe_path_rejects_any_dotdot_component(
            before in proptest::collection::vec("[a-z]{1,5}", 0..4),
            after in proptest::collection::vec("[a-z]{1,5}", 0..3)
        ) {
            let mut comps = before.clone();
            comps.push("..".into());
            comps.extend(after);
            prop_assert!(SafePath::parse(&comps.join("/")).is_err());
        }
    }

    #[test]
    fn target_path_safety_rejects_traversal_and_odd_bytes() {
        for bad in [
            "../x",
            "/etc/x",
            "a/../../b",
            "a\\b",
            "a\0b",
            "a/b/c/d/e/f/g/h/i",
            "",
            ".",
            "a//b",
            "a/",
            "caf\u{e9}.txt",
            "a/./b",
        ] {
            assert!(SafePath::parse(bad).is_err(), "{bad:?} must be refused");
        }
        for good in [
            "a",
            "lessons/01-intro.md",
            "a/b/c/d/e/f/g/h",
            "..a",
            "a..b",
            "_x-y.z",
        ] {
            assert_eq!(SafePath::parse(good).unwrap().as_str(), good);
        }
    }

    #[test]
    fn names_reject_uppercase_and_separators() {
        assert!(BundleId::parse("acme.algebra-1").is_ok());
        assert!(BundleId::parse("Acme").is_err());
        assert!(BundleId::parse("a/b").is_err());
        assert!(VendorId::parse("acme.x").is_err());
        assert!(GroupId::parse("unit:b-east").is_ok());
        assert!(
            TabletModel::parse("any")
                .unwrap()
                .accepts(&TabletModel::parse("berth-t1").unwrap())
        );
        assert!(
            !TabletModel::parse("berth-t2")
                .unwrap()
                .accepts(&TabletModel::parse("berth-t1").unwrap())
        );
    }
}

/// The short code a tablet shows on its "not enrolled" screen and staff
/// type to enrol it: 60 bits of the SHA-256 of its device key (hashed in
/// `trust`), as twelve Crockford base-32 digits in groups of four, e.g.
/// `7KQ2-M9XD-4TRA`. Typed codes are read leniently (case, dashes and
/// spaces do not matter; O reads as 0, I and L as 1), so a code read off
/// a screen and typed by hand still matches.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeviceCode(String);

/// Crockford's base-32 alphabet: no I, L, O or U.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl DeviceCode {
    /// The code of a key's digest (the first 60 bits of it).
    pub fn from_digest(digest: &[u8; 32]) -> Self {
        let mut bits = 0u64;
        for b in &digest[..8] {
            bits = (bits << 8) | u64::from(*b);
        }
        let bits = bits >> 4;
        let mut s = String::with_capacity(14);
        for i in 0..12 {
            if i > 0 && i % 4 == 0 {
                s.push('-');
            }
            let digit = (bits >> (55 - 5 * i)) & 0x1f;
            s.push(CROCKFORD[digit as usize] as char);
        }
        DeviceCode(s)
    }

    /// A code as staff typed it.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::BadName {
            what: "device code",
            value: s.escape_debug().to_string(),
            why: why.to_string(),
        };
        if s.len() > 64 {
            return Err(bad("it is longer than a device code"));
        }
        let mut digits = String::with_capacity(12);
        for c in s.chars() {
            let d = match c.to_ascii_uppercase() {
                '-' | ' ' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c if CROCKFORD.contains(&(c as u8)) && c.is_ascii() => c,
                _ => {
                    return Err(bad(
                        "it may hold only the digits and letters the tablet shows (twelve, e.g. 7KQ2-M9XD-4TRA)",
                    ));
                }
            };
            digits.push(d);
        }
        if digits.len() != 12 {
            return Err(bad(
                "a device code has twelve digits and letters, e.g. 7KQ2-M9XD-4TRA",
            ));
        }
        Ok(DeviceCode(format!(
            "{}-{}-{}",
            &digits[..4],
            &digits[4..8],
            &digits[8..]
        )))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeviceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for DeviceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceCode({})", self.0)
    }
}

#[cfg(test)]
mod device_code_tests {
    use super::*;

    #[test]
    fn a_code_is_twelve_crockford_digits_and_reads_back_leniently() {
        let mut d = [0u8; 32];
        d[..8].copy_from_slice(&[0xff, 0x00, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc]);
        let c = DeviceCode::from_digest(&d);
        assert_eq!(c.as_str().len(), 14);
        assert_eq!(c.as_str().matches('-').count(), 2);
        // 0xff0012345678 9ab >> 4 : the first digit is the top five bits (11111).
        assert!(c.as_str().starts_with('Z'), "{c}");
        let typed = c.as_str().to_lowercase().replace('-', " ");
        assert_eq!(DeviceCode::parse(&typed).unwrap(), c);
        assert_eq!(
            DeviceCode::parse("oooo-iiii-llll").unwrap().as_str(),
            "0000-1111-1111"
        );
        assert!(DeviceCode::parse("7KQ2-M9XD-4TR").is_err());
        assert!(
            DeviceCode::parse("7KQ2-M9XD-4TRU").is_err(),
            "U is not a digit"
        );
        assert!(DeviceCode::parse("7KQ2-M9XD-4TRÁ").is_err());
        let other = {
            let mut e = d;
            e[7] ^= 0x10;
            DeviceCode::from_digest(&e)
        };
        assert_ne!(other, c, "the 60th bit counts");
    }
}
