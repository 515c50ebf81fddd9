//! The JSON rules every signed document meets before it is read into its
//! type (docs/bundle-format.md §3): an object at the top; no member named
//! twice in any object; every time in UTC, written `YYYY-MM-DDTHH:MM:SS`
//! with optional fractions and a capital `Z`; every number a whole number
//! from 0 to 2^64 − 1. A refusal names the field and what is allowed, so a
//! vendor's packer can be fixed from the message alone.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Members that hold a time, wherever they appear.
pub const TIME_FIELDS: &[&str] = &[
    "expires",
    "issued",
    "created",
    "approved_at",
    "completed",
    "written_at",
    "dock_time",
    "sent_at",
    "at",
];

/// How Berth writes a time: `2026-06-01T00:00:00Z`, fractions allowed.
pub fn is_utc_z(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return false;
    }
    let shape = b[..19].iter().enumerate().all(|(i, c)| match i {
        4 | 7 => *c == b'-',
        10 => *c == b'T',
        13 | 16 => *c == b':',
        _ => c.is_ascii_digit(),
    });
    let frac = &b[19..b.len() - 1];
    let frac_ok = frac.is_empty()
        || (frac[0] == b'.'
            && (2..=10).contains(&frac.len())
            && frac[1..].iter().all(u8::is_ascii_digit));
    shape && frac_ok && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

/// Check `bytes` against the rules. The error text names the field.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    let mut d = serde_json::Deserializer::from_slice(bytes);
    Walk {
        path: String::new(),
        key: None,
        top: true,
    }
    .deserialize(&mut d)
    .map_err(|e| e.to_string())?;
    d.end()
        .map_err(|_| "there is data after the JSON object; nothing may follow it".to_string())
}

struct Walk {
    /// Where we are, as `files[3].size` (empty at the top).
    path: String,
    /// The member name this value is under, if any.
    key: Option<String>,
    top: bool,
}

impl Walk {
    fn field(&self) -> String {
        if self.path.is_empty() {
            "the document".into()
        } else {
            format!("field `{}`", self.path)
        }
    }
    fn is_time(&self) -> bool {
        self.key
            .as_deref()
            .is_some_and(|k| TIME_FIELDS.contains(&k))
    }
    fn not_top<E: de::Error>(&self, found: &str) -> Result<(), E> {
        if self.top {
            return Err(E::custom(format!(
                "the document must be a JSON object, not {found}"
            )));
        }
        Ok(())
    }
    fn no_time<E: de::Error>(&self, found: &str) -> Result<(), E> {
        if self.is_time() {
            return Err(E::custom(format!(
                "{} must be a UTC time written like 2026-06-01T00:00:00Z, not {found}",
                self.field()
            )));
        }
        Ok(())
    }
    fn whole<E: de::Error>(&self, found: &str) -> E {
        E::custom(format!(
            "{} must be a whole number from 0 to 18446744073709551615, not {found}",
            self.field()
        ))
    }
    fn child(&self, part: &str, key: Option<String>) -> Walk {
        Walk {
            path: if self.path.is_empty() || part.starts_with('[') {
                format!("{}{part}", self.path)
            } else {
                format!("{}.{part}", self.path)
            },
            key,
            top: false,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Walk {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.not_top("true or false")?;
        self.no_time("true or false")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.not_top("a number")?;
        self.no_time(&format!("the number {v}"))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.not_top("a number")?;
        self.no_time(&format!("the number {v}"))?;
        Err(self.whole(&v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.not_top("a number")?;
        self.no_time(&format!("the number {v}"))?;
        // A fraction, an exponent or a number past u64: say which rule,
        // and show the value as a number with a point (`1.0`, not `1`).
        Err(self.whole(&format!(
            "{v:?}, a number with a fraction, an exponent or past 2^64 − 1"
        )))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.not_top("a string")?;
        if self.is_time() && !is_utc_z(v) {
            let shown: String = v.chars().take(40).collect();
            return Err(E::custom(format!(
                "{} must be a UTC time written like 2026-06-01T00:00:00Z (capital T and Z, \
                 no offset), not {shown:?}",
                self.field()
            )));
        }
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.not_top("null")?;
        self.no_time("null")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.not_top("an array")?;
        self.no_time("an array")?;
        let mut i = 0usize;
        while seq
            .next_element_seed(self.child(&format!("[{i}]"), None))?
            .is_some()
        {
            i += 1;
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.no_time("an object")?;
        let mut seen = HashSet::new();
        while let Some(k) = map.next_key::<String>()? {
            if !seen.insert(k.clone()) {
                return Err(de::Error::custom(format!(
                    "member `{k}` appears twice in {}; each member may appear once",
                    self.field()
                )));
            }
            let child = self.child(&k, Some(k.clone()));
            map.next_value_seed(child)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> String {
        check(json.as_bytes()).unwrap_err()
    }

    #[test]
    fn berths_own_documents_pass() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let json = serde_json::to_string(&serde_json::json!({
            "expires": t, "version": u64::MAX, "files": [{"path": "a", "size": 0}],
            "title": {"en": "Hi", "es": "¡Hola!"}, "free": true, "note": null
        }))
        .unwrap();
        assert!(json.contains("2026-01-01T00:00:00Z"));
        assert_eq!(check(json.as_bytes()), Ok(()));
        assert_eq!(
            check(br#"{"at": "2026-01-01T00:00:00.123456789Z"}"#),
            Ok(())
        );
    }

    #[test]
    fn times_must_be_utc_with_a_capital_z() {
        for bad in [
            "2026-01-01T00:00:00+01:00",
            "2026-01-01t00:00:00z",
            "2026-01-01T00:00:00z",
            "2028-06-01 00:00:00",
            "2026-13-01T00:00:00Z",
            "2026-01-01T00:00Z",
        ] {
            let e = err(&format!(
                r#"{{"created": "2026-01-01T00:00:00Z", "expires": "{bad}"}}"#
            ));
            assert!(
                e.contains("field `expires` must be a UTC time"),
                "{bad}: {e}"
            );
        }
        let e = err(r#"{"files": [{"at": 5}]}"#);
        assert!(e.contains("field `files[0].at` must be a UTC time"), "{e}");
    }

    #[test]
    fn numbers_are_whole_and_within_u64() {
        let e = err(r#"{"version": 18446744073709551616}"#);
        assert!(e.contains("field `version` must be a whole number"), "{e}");
        assert!(err(r#"{"chunks": [1, -2]}"#).contains("field `chunks[1]`"));
        assert!(err(r#"{"size": 1.5}"#).contains("field `size`"));
    }

    #[test]
    fn the_top_is_an_object_and_members_appear_once() {
        assert!(err("[1, 2]").contains("must be a JSON object, not an array"));
        assert!(err(r#""x""#).contains("not a string"));
        let e = err(r#"{"a": {"b": 1, "b": 2}}"#);
        assert!(e.contains("member `b` appears twice in field `a`"), "{e}");
        assert!(err(r#"{"a": 1} x"#).contains("data after the JSON object"));
    }
}
