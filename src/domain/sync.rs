//! The dock sync protocol's messages: pure data. Framing lives in
//! `wire`, signing in `trust`, and each side's effects in `dock` and
//! `tablet`.
//!
//! A session is: the dock's signed `Hello` (nonce and dock time), then
//! requests signed by the device key that carry that nonce, each answered
//! by one reply signed by the dock key. Letters, feed entries and documents
//! travel as blobs beside the signed header, each already signed end to
//! end by its author; the header carries the SHA-256 over all blobs.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::contacts::RequestState;
use super::messages::{ContactId, OutState, OutboundMessage};
use super::people::PersonId;
use super::{BundleId, FacilityId, GroupId, PublicKey, Sha256};

pub const PROTOCOL_VERSION: u32 = 1;
/// Letters per upload frame, and feed entries per reply.
pub const MAX_BATCH: usize = 1000;
/// Bundle bytes per download frame.
pub const BUNDLE_RANGE: u64 = 1 << 20;

/// What a device signs: one request of the session named by `nonce`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub nonce: String,
    pub tablet: PublicKey,
    /// SHA-256 over the frame's blobs (see `wire::blobs_digest`).
    pub blobs: Sha256,
    pub body: RequestBody,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum RequestBody {
    /// The blobs are this many signed letters, in sequence order.
    Upload {
        count: u32,
    },
    /// State of the tablet; one blob, the signed audit export since
    /// `audit_from`, when there is something new.
    Report {
        report: TabletReport,
        audit_from: u64,
    },
    /// Feed entries after each person's cursor, documents newer than the
    /// versions held (key `kind/scope`), and bundles not installed.
    Pull {
        cursors: BTreeMap<PersonId, u64>,
        documents: BTreeMap<String, u64>,
        installed: Vec<Sha256>,
    },
    /// Bytes of an offered bundle from `offset`.
    Bundle {
        manifest_sha256: Sha256,
        offset: u64,
    },
    /// The blobs are this many course certificates, each signed by this
    /// tablet's device key.
    Certificates {
        count: u32,
    },
    /// The blobs are this many contact requests (`ContactRequestDoc`),
    /// each signed by this tablet's device key.
    ContactRequests {
        count: u32,
    },
    /// Part of a vendor's upload of a `total`-byte bundle whose SHA-256 is
    /// `sha256`: the blobs are its bytes from `offset`. A frame with no
    /// blobs asks where an interrupted upload stands.
    VendorUpload {
        total: u64,
        sha256: Sha256,
        offset: u64,
    },
    Bye,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TabletReport {
    pub app_version: String,
    pub battery_percent: Option<u8>,
    pub tamper_events: u64,
    /// Each person's use per facility-local day (the last two weeks).
    pub usage: Vec<UsageDay>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageDay {
    pub person: PersonId,
    /// `YYYY-MM-DD`, facility-local.
    pub day: String,
    pub metered_secs: u64,
    pub free_secs: u64,
    pub letters: u32,
}

/// What a dock signs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    pub nonce: String,
    pub blobs: Sha256,
    pub body: ReplyBody,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ReplyBody {
    /// The first frame. `dock_time` feeds the tablet's trusted clock.
    Hello {
        protocol: u32,
        facility: FacilityId,
        dock_time: DateTime<Utc>,
    },
    /// Every letter of the upload is stored (`stored` new, `already` held
    /// from an earlier try); the tablet may mark them all uploaded.
    Ack {
        through_seq: u64,
        stored: u32,
        already: u32,
    },
    /// The report is stored; audit entries through `audit_through` are kept.
    ReportAck {
        audit_through: u64,
    },
    /// Blobs: `entries` feed entries, then `documents` signed documents.
    /// `more` says another pull would return more entries.
    /// `cursors` is how far the dock looked for each person (copies of the
    /// tablet's own letters are left out), so the tablet's cursors pass
    /// entries it was not sent.
    Feed {
        entries: u32,
        documents: u32,
        more: bool,
        cursors: BTreeMap<PersonId, u64>,
        bundles: Vec<BundleOffer>,
        /// Bundles whose approval for the tablet's groups was withdrawn:
        /// the tablet stops showing them (records stay).
        #[serde(default)]
        withdrawn: Vec<BundleId>,
        /// The groups the dock enrolled the tablet in; the tablet adopts
        /// them before it reads the documents and offers.
        #[serde(default)]
        groups: Vec<GroupId>,
    },
    /// One blob of bundle bytes starting at `offset`.
    BundleRange {
        manifest_sha256: Sha256,
        offset: u64,
        total: u64,
    },
    /// The dock holds the first `bytes` of a vendor upload.
    Received {
        bytes: u64,
    },
    /// Every certificate of the upload is stored (`stored` new, `already`
    /// held from an earlier try).
    CertificatesAck {
        stored: u32,
        already: u32,
    },
    /// Every contact request of the upload is stored (`stored` new,
    /// `already` held from an earlier try).
    ContactRequestsAck {
        stored: u32,
        already: u32,
    },
    /// The vendor upload is stored and waits for approval.
    Uploaded {
        bundle: BundleId,
        version: u64,
        manifest_sha256: Sha256,
    },
    /// The request was refused; nothing changed. The reason says why and
    /// what to do.
    Refused {
        reason: String,
    },
    /// The tablet is not enrolled at this dock (yet); nothing changed.
    /// `code` is the device code its "not enrolled" screen shows, which
    /// staff enrol it by.
    NotEnrolled {
        code: String,
        reason: String,
    },
    Bye,
}

/// A bundle approved for one of the tablet's groups.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleOffer {
    pub bundle: BundleId,
    pub version: u64,
    pub manifest_sha256: Sha256,
    pub size: u64,
}

/// One entry of a person's message feed, signed by the messaging key.
/// `seq` is the dock's; a tablet's cursor for the person only rises.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedEntry {
    pub seq: u64,
    pub person: PersonId,
    pub at: DateTime<Utc>,
    pub item: FeedItem,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum FeedItem {
    /// A letter from a contact that staff approved (attorney mail without
    /// reading it).
    Received {
        id: String,
        contact: ContactId,
        attorney: bool,
        body: String,
        sent_at: DateTime<Utc>,
        /// The email's subject ("" when it had none).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        subject: String,
        /// Attachments the gateway could not show and left out.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        removed: Vec<RemovedPart>,
    },
    /// A letter the person wrote, on any tablet.
    Sent { message: OutboundMessage },
    /// A music entitlement receipt (an envelope signed by the facility's
    /// approval role), in base64.
    Entitlement { receipt: String },
    /// Where a letter the person wrote is now.
    State {
        id: String,
        state: OutState,
        reason: String,
    },
    /// Where a contact request the person made is now (on any tablet:
    /// `name` lets another tablet show it).
    ContactRequest {
        id: String,
        name: String,
        state: RequestState,
        reason: String,
    },
}

/// A part of an email that the gateway left out, so the person knows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemovedPart {
    /// The file name the sender gave, or the MIME type.
    pub name: String,
    pub bytes: u64,
}

/// 2.1 MB, 30 KB, 512 bytes.
pub fn human_size(bytes: u64) -> String {
    if bytes >= 1_000_000 {
        format!("{:.1} MB", bytes as f64 / 1_000_000.0)
    } else if bytes >= 1_000 {
        format!("{} KB", bytes.div_ceil(1_000))
    } else if bytes == 1 {
        "1 byte".into()
    } else {
        format!("{bytes} bytes")
    }
}

/// Words that make a reviewer look first. Matching ignores case; the list
/// is the facility's.
pub fn keyword_flags(body: &str, keywords: &[String]) -> Vec<String> {
    let lower = body.to_lowercase();
    let mut out: Vec<String> = keywords
        .iter()
        .filter(|k| !k.trim().is_empty() && lower.contains(&k.trim().to_lowercase()))
        .map(|k| k.trim().to_string())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The body cut into runs, each marked whether it is one of the
/// keywords (matched as [`keyword_flags`] matches: ignoring case), for a
/// reviewer's highlighting. The runs joined are the body unchanged.
pub fn keyword_spans(body: &str, keywords: &[String]) -> Vec<(String, bool)> {
    let keys: Vec<Vec<char>> = keywords
        .iter()
        .map(|k| {
            k.trim()
                .chars()
                .flat_map(char::to_lowercase)
                .collect::<Vec<_>>()
        })
        .filter(|k| !k.is_empty())
        .collect();
    let chars: Vec<(usize, char)> = body.char_indices().collect();
    // The length in the body's chars of a keyword starting at `i`, if one does.
    let match_at = |i: usize| -> Option<usize> {
        keys.iter()
            .filter_map(|k| {
                let mut want = k.iter();
                let mut next = want.next();
                for (n, (_, c)) in chars[i..].iter().enumerate() {
                    for l in c.to_lowercase() {
                        match next {
                            Some(w) if *w == l => next = want.next(),
                            _ => return None,
                        }
                    }
                    if next.is_none() {
                        return Some(n + 1);
                    }
                }
                None
            })
            .max()
    };
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut push = |text: &str, hit: bool| match out.last_mut() {
        Some((t, h)) if *h == hit => t.push_str(text),
        _ => out.push((text.to_string(), hit)),
    };
    let end = |i: usize| chars.get(i).map_or(body.len(), |(b, _)| *b);
    let mut i = 0;
    while i < chars.len() {
        match match_at(i) {
            Some(n) => {
                push(&body[chars[i].0..end(i + n)], true);
                i += n;
            }
            None => {
                push(&body[chars[i].0..end(i + 1)], false);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_spans_mark_each_keyword_and_keep_the_text() {
        let kw = vec!["escape".to_string(), "Dinero".into(), " ".into()];
        let body = "Plan de ESCAPE, y dinero. Mamá";
        let spans = keyword_spans(body, &kw);
        assert_eq!(
            spans.iter().map(|(t, _)| t.as_str()).collect::<String>(),
            body
        );
        let hits: Vec<&str> = spans
            .iter()
            .filter(|(_, h)| *h)
            .map(|(t, _)| t.as_str())
            .collect();
        assert_eq!(hits, vec!["ESCAPE", "dinero"]);
        assert_eq!(
            keyword_spans("hola mamá", &kw),
            vec![("hola mamá".to_string(), false)]
        );
        assert!(keyword_spans("", &kw).is_empty());
    }

    #[test]
    fn keyword_flags_ignore_case_and_blanks() {
        let kw = vec!["Escape".to_string(), " ".into(), "dinero".into()];
        assert_eq!(
            keyword_flags("plan de ESCAPE y DINERO", &kw),
            vec!["Escape", "dinero"]
        );
        assert!(keyword_flags("hola mamá", &kw).is_empty());
    }

    #[test]
    fn request_kinds_are_tagged_and_strict() {
        let r: RequestBody = serde_json::from_str(r#"{"kind":"upload","count":3}"#).unwrap();
        assert_eq!(r, RequestBody::Upload { count: 3 });
        assert!(
            serde_json::from_str::<RequestBody>(r#"{"kind":"upload","count":3,"x":1}"#).is_err()
        );
        assert!(serde_json::from_str::<RequestBody>(r#"{"kind":"format-disk"}"#).is_err());
    }
}
