//! Reading one inbound email, with no I/O: who sent it, to whom, and all of
//! its text. The gateway (`gateway.rs`) decides what to do with it; the
//! fuzzer runs exactly this.
//!
//! Invariants:
//! - every text part is kept, in the order it appears, nested messages
//!   and digests included; HTML is turned into text;
//! - a part that cannot be shown (an image, a PDF, an unknown type) is
//!   named in `removed`, so the person and staff both see what was taken
//!   out;
//! - a message with more than one `From` header, or more than one address
//!   in it, is refused: readers disagree on which one counts.

use chrono::{DateTime, Utc};
use mail_parser::{Address, HeaderName, HeaderValue, Message, MimeHeaders, PartType};

use super::{Error, Result};

/// Largest message imported.
pub const MAX_EML_BYTES: usize = 1 << 20;
/// Longest text imported, in characters (all parts together).
pub const MAX_BODY_CHARS: usize = 20_000;
/// Longest subject kept, in characters.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// Nested messages deeper than this are listed as removed, not read.
const MAX_DEPTH: usize = 8;
/// Multiparts nested deeper than this are not read (the walk is recursive;
/// this bounds its stack).
const MAX_NESTING: usize = 64;
/// Parts read in one message, nested messages included. A real letter has
/// a handful; past this the rest is listed as removed.
const MAX_PARTS: usize = 1_000;

/// A part of a message that could not be shown and was left out.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Removed {
    /// The file name the sender gave, or the MIME type when there is none.
    pub name: String,
    pub bytes: u64,
}

/// What the gateway reads from one message before it looks anyone up.
#[derive(Debug)]
pub struct ParsedMail {
    /// The one From address, lowercased.
    pub sender: String,
    /// The To and Cc addresses, lowercased, without repeats.
    pub recipients: Vec<String>,
    /// At most [`MAX_SUBJECT_CHARS`] characters; control characters removed.
    pub subject: String,
    /// All the text, at most [`MAX_BODY_CHARS`] characters, never empty.
    pub body: String,
    /// Attachments and other parts that were left out.
    pub removed: Vec<Removed>,
    pub message_id: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The `Authentication-Results` headers, topmost first (RFC 8601).
    pub auth_results: Vec<String>,
}

/// Read one RFC 5322 message of at most [`MAX_EML_BYTES`].
pub fn parse_mail(bytes: &[u8]) -> Result<ParsedMail> {
    if bytes.len() > MAX_EML_BYTES {
        return Err(Error::Refused(format!(
            "the message is {} bytes; the limit is {MAX_EML_BYTES}",
            bytes.len()
        )));
    }
    let fixed = end_headers(bytes);
    let fixed = add_missing_boundary(&fixed);
    let msg = mail_parser::MessageParser::default()
        .parse(&fixed[..])
        .ok_or_else(|| Error::Refused("this is not an RFC 5322 message".into()))?;
    let sender = one_sender(&msg)?;
    let mut recipients: Vec<String> = Vec::new();
    for list in [msg.to(), msg.cc()].into_iter().flatten() {
        for a in list.iter() {
            if let Some(x) = a.address() {
                let x = x.trim().to_ascii_lowercase();
                if !recipients.contains(&x) {
                    recipients.push(x);
                }
            }
        }
    }
    let mut text = Text::default();
    text.message(&msg, 0);
    let body = text.finish();
    if body.trim().is_empty() {
        return Err(Error::Refused(if text.removed.is_empty() {
            "the message has no text".into()
        } else {
            format!(
                "the message has no text, only {}",
                removed_sentence(&text.removed)
            )
        }));
    }
    let count = body.chars().count();
    if count > MAX_BODY_CHARS {
        return Err(Error::Refused(format!(
            "the message's text is {count} characters; the limit is {MAX_BODY_CHARS}"
        )));
    }
    let auth_results = msg
        .headers_raw()
        .filter(|(n, _)| n.eq_ignore_ascii_case("Authentication-Results"))
        .map(|(_, v)| unfold(v))
        .collect();
    Ok(ParsedMail {
        sender,
        recipients,
        subject: clean_line(msg.subject().unwrap_or(""))
            .chars()
            .take(MAX_SUBJECT_CHARS)
            .collect(),
        body,
        removed: text.removed,
        message_id: msg.message_id().map(str::to_string),
        sent_at: msg
            .date()
            .and_then(|d| DateTime::from_timestamp(d.to_timestamp(), 0)),
        auth_results,
    })
}

/// "1 attachment was removed: photo.jpg, 2.1 MB" (English; the tablet
/// translates from the structured list).
pub fn removed_sentence(removed: &[Removed]) -> String {
    let list: Vec<String> = removed
        .iter()
        .map(|r| format!("{}, {}", r.name, human_size(r.bytes)))
        .collect();
    match removed.len() {
        1 => format!("1 attachment was removed: {}", list[0]),
        n => format!("{n} attachments were removed: {}", list.join("; ")),
    }
}

pub use crate::domain::sync::human_size;

fn one_sender(msg: &Message<'_>) -> Result<String> {
    let froms: Vec<&HeaderValue<'_>> = msg.header_values(HeaderName::From).collect();
    if froms.len() > 1 {
        return Err(Error::Refused(format!(
            "the message has {} From headers; a message must have exactly one",
            froms.len()
        )));
    }
    let addrs: Vec<String> = match froms.first() {
        Some(HeaderValue::Address(Address::List(l))) => l
            .iter()
            .filter_map(|a| a.address())
            .map(str::to_string)
            .collect(),
        Some(HeaderValue::Address(Address::Group(g))) => g
            .iter()
            .flat_map(|g| g.addresses.iter())
            .filter_map(|a| a.address())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    match addrs.as_slice() {
        [] => Err(Error::Refused("the message has no From address".into())),
        [one] => Ok(one.trim().to_ascii_lowercase()),
        many => Err(Error::Refused(format!(
            "the From header names {} addresses ({}); a message must come from exactly one",
            many.len(),
            many.join(", ")
        ))),
    }
}

#[derive(Default)]
struct Text {
    parts: Vec<String>,
    removed: Vec<Removed>,
    /// Parts read so far, across nested messages (see [`MAX_PARTS`]).
    read: usize,
    /// Characters kept so far; past [`MAX_BODY_CHARS`] the message is
    /// refused anyway, so the walk stops.
    chars: usize,
}

impl Text {
    fn finish(&self) -> String {
        self.parts
            .iter()
            .map(|p| p.trim_end())
            .filter(|p| !p.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    fn message(&mut self, msg: &Message<'_>, depth: usize) {
        // mail-parser's part list is meant to be a tree in document order,
        // but a malformed message (nested parts sharing a boundary) can
        // make a part its own child or list a part twice: walked as given,
        // 2,303 bytes grew past 2 GiB. Each part is read at most once, and
        // only as a child of a part before it.
        let mut seen = vec![false; msg.parts.len()];
        self.part(msg, 0, None, &mut seen, depth, 0);
    }

    fn push(&mut self, text: String) {
        self.chars += text.chars().count();
        self.parts.push(text);
    }

    fn part(
        &mut self,
        msg: &Message<'_>,
        id: usize,
        parent: Option<usize>,
        seen: &mut [bool],
        depth: usize,
        nesting: usize,
    ) {
        let Some(part) = msg.parts.get(id) else {
            return;
        };
        if parent.is_some_and(|p| id <= p) || std::mem::replace(&mut seen[id], true) {
            return;
        }
        if self.chars > MAX_BODY_CHARS {
            return;
        }
        self.read += 1;
        if self.read > MAX_PARTS {
            if self.read == MAX_PARTS + 1 {
                self.removed.push(Removed {
                    name: format!("parts after the first {MAX_PARTS}"),
                    bytes: msg
                        .raw_message()
                        .len()
                        .saturating_sub(part.raw_header_offset() as usize)
                        as u64,
                });
            }
            return;
        }
        if nesting > MAX_NESTING {
            self.removed.push(Removed {
                name: "multipart nested too deep".into(),
                bytes: part.raw_len() as u64,
            });
            return;
        }
        match &part.body {
            PartType::Text(t) => self.push(clean_text(t)),
            PartType::Html(h) => {
                self.push(clean_text(&mail_parser::decoders::html::html_to_text(h)))
            }
            PartType::Multipart(children) => {
                let alternative = part
                    .content_type()
                    .and_then(|c| c.subtype())
                    .is_some_and(|s| s.eq_ignore_ascii_case("alternative"));
                if alternative {
                    // One of the alternatives: plain text first, then HTML,
                    // then whatever comes first.
                    let pick = children
                        .iter()
                        .find(|c| {
                            matches!(
                                msg.parts.get(**c as usize).map(|p| &p.body),
                                Some(PartType::Text(_))
                            )
                        })
                        .or_else(|| {
                            children.iter().find(|c| {
                                matches!(
                                    msg.parts.get(**c as usize).map(|p| &p.body),
                                    Some(PartType::Html(_))
                                )
                            })
                        })
                        .or(children.first());
                    if let Some(c) = pick {
                        self.part(msg, *c as usize, Some(id), seen, depth, nesting + 1);
                    }
                } else {
                    for c in children {
                        self.part(msg, *c as usize, Some(id), seen, depth, nesting + 1);
                    }
                }
            }
            PartType::Message(inner) => self.nested(inner, depth),
            PartType::Binary(b) | PartType::InlineBinary(b) => {
                let is_message = part.content_type().is_some_and(|c| {
                    c.ctype().eq_ignore_ascii_case("message")
                        && c.subtype()
                            .is_some_and(|s| s.eq_ignore_ascii_case("rfc822"))
                });
                let inner = is_message
                    .then(|| mail_parser::MessageParser::default().parse(&b[..]))
                    .flatten();
                match inner {
                    Some(inner) => self.nested(&inner, depth),
                    None => self.removed.push(Removed {
                        name: part_name(part),
                        bytes: b.len() as u64,
                    }),
                }
            }
        }
    }

    fn nested(&mut self, inner: &Message<'_>, depth: usize) {
        if depth >= MAX_DEPTH {
            self.removed.push(Removed {
                name: "message/rfc822".into(),
                bytes: inner.raw_message().len() as u64,
            });
            return;
        }
        let mut head = String::from("---------- Forwarded message ----------");
        if let Some(a) = inner.from().and_then(|a| a.first()) {
            head.push_str("\nFrom: ");
            if let Some(n) = a.name() {
                head.push_str(&clean_line(n));
                head.push(' ');
            }
            if let Some(x) = a.address() {
                head.push_str(&format!("<{}>", clean_line(x)));
            }
        }
        if let Some(s) = inner.subject() {
            head.push_str(&format!("\nSubject: {}", clean_line(s)));
        }
        self.push(head);
        self.message(inner, depth + 1);
    }
}

fn part_name(part: &mail_parser::MessagePart<'_>) -> String {
    part.attachment_name()
        .map(clean_line)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| {
            part.content_type()
                .map(|c| match c.subtype() {
                    Some(s) => format!("{}/{s}", c.ctype()),
                    None => c.ctype().to_string(),
                })
                .unwrap_or_else(|| "application/octet-stream".into())
        })
}

/// Text as the tablet may show it: newlines kept, tabs kept, every other
/// control character (ESC, BEL, bidi overrides, …) removed.
fn clean_text(s: &str) -> String {
    s.replace("\r\n", "\n")
        .chars()
        .filter(|c| *c == '\n' || *c == '\t' || !is_control(*c))
        .collect()
}

/// One line: no control characters at all, runs of white space as one.
fn clean_line(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !is_control(*c))
        .collect()
}

use crate::domain::text::is_hidden as is_control;

/// With the facility's relay checking senders: the topmost
/// `Authentication-Results` header (the one the relay added last) must be
/// the relay's own, and say that DMARC passed for the From domain, or that
/// a DKIM signature of that domain verified. Headers further down were
/// there before the relay saw the message, and may be forged.
pub fn check_authentication_results(
    headers: &[String],
    authserv_id: &str,
    sender: &str,
) -> Result<()> {
    let domain = sender.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    let not_ours = || {
        Error::Refused(format!(
            "the message has no Authentication-Results from the facility's relay ({authserv_id}); \
             it did not come through the relay, or the relay does not check senders"
        ))
    };
    let top = headers.first().ok_or_else(not_ours)?;
    let mut parts = top.split(';').map(str::trim);
    let id = parts
        .next()
        .and_then(|p| p.split_whitespace().next())
        .unwrap_or("");
    if authserv_id.is_empty() || !id.eq_ignore_ascii_case(authserv_id) {
        return Err(not_ours());
    }
    let mut seen = Vec::new();
    for result in parts {
        let mut words = result.split_whitespace();
        let Some((method, verdict)) = words.next().and_then(|w| w.split_once('=')) else {
            continue;
        };
        let method = method.to_ascii_lowercase();
        let verdict = verdict.to_ascii_lowercase();
        let props: Vec<(String, String)> = words
            .filter_map(|w| w.split_once('='))
            .map(|(k, v)| {
                (
                    k.to_ascii_lowercase(),
                    v.trim_matches('"').to_ascii_lowercase(),
                )
            })
            .collect();
        let prop = |k: &str| props.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let aligned = match method.as_str() {
            "dmarc" => prop("header.from") == Some(domain),
            "dkim" => {
                prop("header.d") == Some(domain)
                    || prop("header.i").is_some_and(|i| i.rsplit('@').next() == Some(domain))
            }
            _ => false,
        };
        if aligned && verdict == "pass" {
            return Ok(());
        }
        if method == "dmarc" || method == "dkim" {
            seen.push(format!("{method}={verdict}"));
        }
    }
    Err(Error::Refused(format!(
        "the facility's relay could not verify that {sender} sent this message ({}); it was not delivered",
        if seen.is_empty() {
            "no DKIM or DMARC result for that domain".into()
        } else {
            seen.join(", ")
        }
    )))
}

fn unfold(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A header block must end with a blank line. When a line that is neither
/// a header field nor a continuation comes first, the headers end there:
/// insert the blank line, so the body's first lines are not read as
/// headers (or lost).
fn end_headers(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let mut pos = 0;
    let mut first = true;
    while pos < bytes.len() {
        let end = bytes[pos..]
            .iter()
            .position(|b| *b == b'\n')
            .map(|i| pos + i + 1)
            .unwrap_or(bytes.len());
        let line = &bytes[pos..end];
        let bare = line.strip_suffix(b"\n").unwrap_or(line);
        let bare = bare.strip_suffix(b"\r").unwrap_or(bare);
        if bare.is_empty() {
            return bytes.into();
        }
        let continuation = !first && matches!(bare[0], b' ' | b'\t');
        let field = bare
            .iter()
            .position(|b| *b == b':')
            .is_some_and(|i| i > 0 && bare[..i].iter().all(|b| (33..=126).contains(b)));
        let mbox_from = first && bare.starts_with(b"From ");
        if !(continuation || field || mbox_from) {
            if first {
                // Not a message at all; let the parser say so.
                return bytes.into();
            }
            let mut out = Vec::with_capacity(bytes.len() + 2);
            out.extend_from_slice(&bytes[..pos]);
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&bytes[pos..]);
            return out.into();
        }
        first = false;
        pos = end;
    }
    bytes.into()
}

/// A `multipart/*` content type without its `boundary` parameter makes the
/// whole body one part of boundary lines and markup. When the body's first
/// `--` line gives the boundary, add it to the header.
fn add_missing_boundary(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let Some(head_end) = find(bytes, b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| find(bytes, b"\n\n").map(|i| i + 2))
    else {
        return bytes.into();
    };
    let head = &bytes[..head_end];
    let lower = head.to_ascii_lowercase();
    // The top-level Content-Type field, unfolded enough to find its end.
    let Some(ct) = find_field(&lower, b"content-type:") else {
        return bytes.into();
    };
    let ct_end = field_end(&lower, ct);
    let field = &lower[ct..ct_end];
    if find(field, b"multipart/").is_none() || find(field, b"boundary").is_some() {
        return bytes.into();
    }
    let body = &bytes[head_end..];
    let Some(boundary) = body
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .find(|l| l.starts_with(b"--") && l.len() > 2 && l.len() <= 72)
        .map(|l| &l[2..])
        .filter(|b| b.iter().all(|c| c.is_ascii_graphic() && *c != b'"'))
    else {
        return bytes.into();
    };
    let mut out = Vec::with_capacity(bytes.len() + boundary.len() + 16);
    // Insert before the field's line break.
    let mut insert = ct_end;
    while insert > ct && matches!(bytes[insert - 1], b'\r' | b'\n') {
        insert -= 1;
    }
    out.extend_from_slice(&bytes[..insert]);
    out.extend_from_slice(b"; boundary=\"");
    out.extend_from_slice(boundary);
    out.extend_from_slice(b"\"");
    out.extend_from_slice(&bytes[insert..]);
    out.into()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Where a header field named `name` (lowercase, with colon) starts, at the
/// start of a line.
fn find_field(lower_head: &[u8], name: &[u8]) -> Option<usize> {
    let mut pos = 0;
    while pos < lower_head.len() {
        if lower_head[pos..].starts_with(name) {
            return Some(pos);
        }
        pos += lower_head[pos..].iter().position(|b| *b == b'\n')? + 1;
    }
    None
}

/// The end of the field starting at `start`, continuation lines included.
fn field_end(head: &[u8], start: usize) -> usize {
    let mut pos = start;
    loop {
        let Some(nl) = head[pos..].iter().position(|b| *b == b'\n') else {
            return head.len();
        };
        pos += nl + 1;
        if !matches!(head.get(pos), Some(b' ' | b'\t')) {
            return pos;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<ParsedMail> {
        parse_mail(s.as_bytes())
    }

    #[test]
    fn every_text_part_is_kept_in_order() {
        let m = parse(
            "From: ana@example.org\r\nTo: a12345@x\r\nSubject: hi\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=b\r\n\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\none\r\n\
             --b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nJos=E9\r\n\
             --b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\nTWFy7WE=\r\n\
             --b\r\nContent-Type: image/jpeg; name=photo.jpg\r\nContent-Disposition: attachment; filename=photo.jpg\r\nContent-Transfer-Encoding: base64\r\n\r\n/9j/4AAQ\r\n\
             --b\r\nContent-Type: text/x-vcard\r\n\r\nBEGIN:VCARD\r\n\
             --b--\r\n",
        )
        .unwrap();
        assert_eq!(m.body, "one\n\nJosé\n\nMaría\n\nBEGIN:VCARD");
        assert_eq!(
            m.removed,
            vec![Removed {
                name: "photo.jpg".into(),
                bytes: 6
            }]
        );
        assert_eq!(
            removed_sentence(&m.removed),
            "1 attachment was removed: photo.jpg, 6 bytes"
        );
    }

    #[test]
    fn a_missing_blank_line_keeps_the_first_body_lines() {
        let m = parse("From: ana@example.org\nTo: a12345@x\nDear José,\nsee you soon.\n").unwrap();
        assert_eq!(m.body, "Dear José,\nsee you soon.");
    }

    #[test]
    fn two_from_headers_or_two_addresses_are_refused() {
        let e = parse("From: evil@x\r\nFrom: ana@example.org\r\n\r\nhi\r\n").unwrap_err();
        assert!(e.to_string().contains("2 From headers"), "{e}");
        let e = parse("From: ana@example.org, evil@x\r\n\r\nhi\r\n").unwrap_err();
        assert!(e.to_string().contains("names 2 addresses"), "{e}");
    }

    #[test]
    fn a_multipart_without_its_boundary_is_still_read() {
        let m = parse(
            "From: ana@example.org\r\nContent-Type: multipart/alternative\r\n\r\n\
             --xyz\r\nContent-Type: text/html\r\n\r\n<html><body><p>Hola <b>José</b></p></body></html>\r\n--xyz--\r\n",
        )
        .unwrap();
        assert_eq!(m.body, "Hola José");
    }

    #[test]
    fn control_characters_never_reach_the_text() {
        let m =
            parse("From: ana@example.org\r\nSubject: a\x1b[2Jb\r\n\r\nx\x1b[2Jy\u{202e}z\x07\r\n")
                .unwrap();
        assert_eq!(m.body, "x[2Jyz");
        assert!(!m.subject.contains('\x1b'));
    }

    #[test]
    fn only_the_relays_topmost_result_counts() {
        let ok = |h: &[&str]| {
            let h: Vec<String> = h.iter().map(|s| s.to_string()).collect();
            check_authentication_results(&h, "relay.example", "ana@example.org")
        };
        assert!(
            ok(&[
                "relay.example; dkim=pass header.d=example.org; dmarc=pass header.from=example.org"
            ])
            .is_ok()
        );
        assert!(ok(&["relay.example 1; dmarc=pass (p=reject) header.from=example.org"]).is_ok());
        // A forged header below the relay's own does not count.
        let e = ok(&[
            "relay.example; dmarc=fail header.from=example.org",
            "relay.example; dmarc=pass header.from=example.org",
        ])
        .unwrap_err();
        assert!(e.to_string().contains("dmarc=fail"), "{e}");
        // Another server's result, or a pass for another domain, does not count.
        assert!(ok(&["evil.example; dmarc=pass header.from=example.org"]).is_err());
        assert!(ok(&["relay.example; dkim=pass header.d=evil.example"]).is_err());
        assert!(ok(&[]).is_err());
    }

    #[test]
    fn a_base64_message_part_with_broken_boundaries_is_read_or_refused() {
        // Found by the fuzzer: mail-parser hit a debug assertion on it.
        let b = include_bytes!("../../fuzz/seeds/mail/fuzz-broken-rfc822-boundary.eml");
        match parse_mail(b) {
            Ok(m) => assert!(!m.body.trim().is_empty()),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn deep_nesting_is_bounded_not_a_stack_overflow() {
        let mut m = String::from(
            "From: ana@example.org\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n",
        );
        for i in 0..3000 {
            m.push_str(&format!(
                "--b{i}\r\nContent-Type: multipart/mixed; boundary=b{}\r\n\r\n",
                i + 1
            ));
        }
        m.push_str("--b3000\r\nContent-Type: text/plain\r\n\r\nfondo\r\n");
        // Past the bound the rest is listed as removed (here that leaves no
        // text, so the message is refused); before the bound, a stack
        // overflow killed the dock.
        let e = parse(&m).unwrap_err();
        assert!(e.to_string().contains("multipart nested too deep"), "{e}");
    }

    #[test]
    fn nested_messages_sharing_a_boundary_cannot_multiply_the_work() {
        // Found by the fuzzer: 2,303 bytes of nested multipart/mixed and
        // message/rfc822 parts sharing the boundary `m` grew past 2 GiB.
        let b = include_bytes!("../../fuzz/seeds/mail/nested-shared-boundary.eml");
        let m = parse_mail(b).unwrap();
        // Each part is read once: the text is the few lines the bytes hold,
        // not the same parts over and over.
        assert!(m.body.len() < b.len(), "{} bytes of text", m.body.len());
        assert!(m.body.contains("Forwarded message"), "{}", m.body);
    }

    #[test]
    fn past_a_thousand_parts_the_rest_is_listed_as_removed() {
        let mut m = String::from(
            "From: ana@example.org\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n",
        );
        for i in 0..1_200 {
            m.push_str(&format!("--b\r\nContent-Type: text/plain\r\n\r\n{i}\r\n"));
        }
        m.push_str("--b--\r\n");
        let m = parse(&m).unwrap();
        assert!(m.body.starts_with("0\n\n1\n\n2"), "{}", &m.body[..20]);
        // The multipart itself is the first of the thousand parts.
        assert!(
            m.body.ends_with("\n\n998"),
            "{}",
            &m.body[m.body.len() - 20..]
        );
        assert_eq!(m.removed.len(), 1);
        assert_eq!(m.removed[0].name, "parts after the first 1000");
    }

    #[test]
    fn nested_messages_and_digests_are_read() {
        let m = parse(
            "From: ana@example.org\r\nContent-Type: multipart/digest; boundary=d\r\n\r\n\
             --d\r\n\r\nFrom: luis@example.org\r\nSubject: first\r\n\r\nuno\r\n\
             --d\r\n\r\nFrom: eva@example.org\r\nSubject: second\r\n\r\ndos\r\n--d--\r\n",
        )
        .unwrap();
        assert!(
            m.body.contains("uno") && m.body.contains("dos"),
            "{}",
            m.body
        );
        assert!(m.body.find("uno") < m.body.find("dos"));
        assert!(m.body.contains("Subject: first"));
    }
}
