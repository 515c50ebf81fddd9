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
