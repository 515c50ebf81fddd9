//! One sync session on the dock side, over any byte stream whose peer key
//! the channel established. Each request is verified against that key and
//! the session nonce before a field of it is used; each reply is signed by
//! the dock key. A refused request changes nothing and says why.

use std::collections::BTreeSet;
use std::io::{Read, Seek, SeekFrom, Write};

use chrono::Utc;

use super::db::{BundleRow, NewLetter, TabletRow};
use super::{Dock, Error, Result, io};
use crate::domain::sync::{
    BUNDLE_RANGE, BundleOffer, MAX_BATCH, PROTOCOL_VERSION, Reply, ReplyBody, Request, RequestBody,
    TabletReport,
};
use crate::domain::{GroupId, PublicKey, Sha256};
use crate::trust::{payload_type as pt, signed};
use crate::wire::{self, Frame, WireError};

/// What a session did, for the log.
#[derive(Debug, Default)]
pub struct SessionSummary {
    pub peer: String,
    pub letters_stored: u32,
    pub letters_already: u32,
    pub entries_sent: u32,
    pub bundle_bytes: u64,
    pub refused: Option<String>,
}

struct Session<'a> {
    dock: &'a mut Dock,
    peer: PublicKey,
    nonce: String,
    summary: SessionSummary,
}

/// Run a session until the peer says bye or the stream ends.
pub fn serve_session(
    dock: &mut Dock,
    stream: &mut (impl Read + Write),
    peer: PublicKey,
    max_frame: usize,
) -> Result<SessionSummary> {
    let nonce = hex::encode(crate::trust::channel::nonce());
    let mut s = Session {
        dock,
        peer,
        nonce,
        summary: SessionSummary {
            peer: peer.to_hex(),
            ..Default::default()
        },
    };
    let hello = ReplyBody::Hello {
        protocol: PROTOCOL_VERSION,
        facility: s.dock.shared.root.doc().facility.clone(),
        dock_time: Utc::now(),
    };
    s.send(stream, hello, Vec::new())?;
    loop {
        let frame = match wire::read_frame_within(stream, max_frame) {
            Ok(f) => f,
            Err(WireError::Closed) => break,
            Err(e) => return Err(Error::Refused(e.to_string())),
        };
        let req = match signed::verify_request(&s.peer, &frame.header) {
            Ok(r) => r,
            Err(e) => {
                let reason = format!("request refused: {e}");
                s.refuse(stream, &reason)?;
                break;
            }
        };
        if req.nonce != s.nonce || req.blobs != wire::blobs_digest(&frame.blobs) {
            s.refuse(
                stream,
                "request refused: it does not belong to this session or its blobs do not match its signature",
            )?;
            break;
        }
        if req.body == RequestBody::Bye {
            s.send(stream, ReplyBody::Bye, Vec::new())?;
            break;
        }
        match s.handle(req, frame) {
            Ok((body, blobs)) => {
                s.dock.step("dock:before-reply")?;
                s.send(stream, body, blobs)?
            }
            Err(Error::Cut(step)) => return Err(Error::Cut(step)),
            Err(Error::NotEnrolled { code }) => {
                let reason = Error::NotEnrolled { code: code.clone() }.to_string();
                s.refuse_with(
                    stream,
                    &reason,
                    ReplyBody::NotEnrolled {
                        code: code.to_string(),
                        reason: reason.clone(),
                    },
                )?;
                break;
            }
            Err(e) => {
                let reason = crate::describe_chain(std::iter::successors(
                    Some(&e as &(dyn std::error::Error + 'static)),
                    |e| e.source(),
                ));
                s.refuse(stream, &reason)?;
                break;
            }
        }
    }
    Ok(s.summary)
}

impl Session<'_> {
    fn send(
        &mut self,
        stream: &mut impl Write,
        body: ReplyBody,
        blobs: Vec<Vec<u8>>,
    ) -> Result<()> {
        let reply = Reply {
            nonce: self.nonce.clone(),
            blobs: wire::blobs_digest(&blobs),
            body,
        };
        let header = signed::sign(&self.dock.shared.dock_key, pt::SYNC_REPLY, &reply);
        wire::write_frame(stream, &Frame { header, blobs })
            .map_err(|e| Error::Refused(format!("sending to the tablet failed: {e}")))
    }

    fn refuse(&mut self, stream: &mut impl Write, reason: &str) -> Result<()> {
        let body = ReplyBody::Refused {
            reason: reason.to_string(),
        };
        self.refuse_with(stream, reason, body)
    }

    fn refuse_with(
        &mut self,
        stream: &mut impl Write,
        reason: &str,
        body: ReplyBody,
    ) -> Result<()> {
        tracing::warn!(peer = %self.peer, "{reason}");
        self.summary.refused = Some(reason.to_string());
        let _ = self
            .dock
            .db
            .log_refusal(Utc::now(), &format!("sync from {}", self.peer), reason);
        self.send(stream, body, Vec::new())
    }

    /// The peer as an enrolled, unrevoked tablet.
    /// One that is not enrolled is remembered, with the code its screen
    /// shows, for staff to enrol it by.
    fn tablet(&mut self) -> Result<TabletRow> {
        match self.dock.db.tablet(&self.peer.to_hex())? {
            None => {
                let code = crate::trust::device_code(&self.peer);
                self.dock
                    .db
                    .note_unenrolled(&self.peer.to_hex(), code.as_str(), Utc::now())?;
                Err(Error::NotEnrolled { code })
            }
            Some(t) if t.revoked_at.is_some() => Err(Error::Refused(format!(
                "tablet {} ({}) was revoked on {}; it may not sync",
                t.name,
                self.peer,
                t.revoked_at.as_deref().unwrap_or("")
            ))),
            Some(t) => Ok(t),
        }
    }

    fn handle(&mut self, req: Request, frame: Frame) -> Result<(ReplyBody, Vec<Vec<u8>>)> {
        match req.body {
            RequestBody::Upload { count } => self.upload(count, frame.blobs),
            RequestBody::Report { report, audit_from } => {
                self.report(report, audit_from, frame.blobs)
            }
            RequestBody::Pull {
                cursors,
                documents,
                installed,
            } => self.pull(cursors, documents, installed),
            RequestBody::Bundle {
                manifest_sha256,
                offset,
            } => self.bundle_range(manifest_sha256, offset),
            RequestBody::VendorUpload {
                total,
                sha256,
                offset,
            } => self.vendor_upload(total, sha256, offset, frame.blobs),
            RequestBody::Certificates { count } => self.certificates(count, frame.blobs),
            RequestBody::ContactRequests { count } => self.contact_requests(count, frame.blobs),
            RequestBody::Bye => unreachable!("handled by the loop"),
        }
    }

    fn upload(&mut self, count: u32, blobs: Vec<Vec<u8>>) -> Result<(ReplyBody, Vec<Vec<u8>>)> {
        let tablet = self.tablet()?;
        if count as usize != blobs.len() || blobs.len() > MAX_BATCH {
            return Err(Error::Refused(format!(
                "upload names {count} letters but carries {} (at most {MAX_BATCH} per frame)",
                blobs.len()
            )));
        }
        let people = self.dock.db.people_for(&tablet.groups)?;
        let mut msgs = Vec::with_capacity(blobs.len());
        let peer = self.peer;
        let verified = crate::trust::par_map(&blobs, |b| signed::verify_letter(&peer, b));
        let mut contacts: std::collections::HashMap<String, Vec<String>> = Default::default();
        for m in verified {
            let m = m?;
            if !people.iter().any(|p| p == m.person.as_str()) {
                return Err(Error::Refused(format!(
                    "letter {} is from {}, who is not on a roster of this tablet's groups; nothing was stored",
                    m.id, m.person
                )));
            }
            if !contacts.contains_key(m.person.as_str()) {
                let list = self.dock.db.contacts_of(m.person.as_str())?;
                contacts.insert(
                    m.person.to_string(),
                    list.into_iter().map(|c| c.0).collect(),
                );
            }
            let approved = contacts[m.person.as_str()]
                .iter()
                .any(|c| c == m.contact.as_str());
            msgs.push((m, approved));
        }
        let letters: Vec<NewLetter<'_>> = msgs
            .iter()
            .zip(&blobs)
            .map(|((m, approved), env)| NewLetter {
                id: &m.id,
                seq: m.seq,
                person: m.person.as_str(),
                contact: m.contact.as_str(),
                attorney: m.attorney,
                written_at: m.written_at,
                envelope: env,
                rejected: (!approved).then_some(crate::domain::messages::RETURNED_REASON),
                message: m,
            })
            .collect();
        let key = &self.dock.shared.messaging_key;
        let sign = |e: &crate::domain::sync::FeedEntry| Dock::sign_entry(key, e);
        let (stored, already) =
            self.dock
                .db
                .store_letters(&self.peer.to_hex(), &letters, Utc::now(), &sign)?;
        self.dock.step("dock:after-store-letters")?;
        self.summary.letters_stored += stored;
        self.summary.letters_already += already;
        let through_seq = msgs.iter().map(|(m, _)| m.seq).max().unwrap_or(0);
        Ok((
            ReplyBody::Ack {
                through_seq,
                stored,
                already,
            },
            Vec::new(),
        ))
    }

    /// Course certificates: each must be signed by this session's tablet
    /// for a person on its rosters. All are stored, or none.
    fn certificates(
        &mut self,
        count: u32,
        blobs: Vec<Vec<u8>>,
    ) -> Result<(ReplyBody, Vec<Vec<u8>>)> {
        let tablet = self.tablet()?;
        if count as usize != blobs.len() || blobs.len() > MAX_BATCH {
            return Err(Error::Refused(format!(
                "upload names {count} certificates but carries {} (at most {MAX_BATCH} per frame)",
                blobs.len()
            )));
        }
        let people = self.dock.db.people_for(&tablet.groups)?;
        let mut docs = Vec::with_capacity(blobs.len());
        for b in &blobs {
            let c = signed::verify_certificate(b)?;
            if c.tablet != self.peer {
                return Err(Error::Refused(format!(
                    "certificate {} was signed by tablet {}, not by this one; nothing was stored",
                    c.id, c.tablet
                )));
            }
            if !people.iter().any(|p| p == c.person.as_str()) {
                return Err(Error::Refused(format!(
                    "certificate {} is for {}, who is not on a roster of this tablet's groups; nothing was stored",
                    c.id, c.person
                )));
            }
            docs.push(c);
        }
        let (stored, already) = self.dock.db.store_certificates(
            &self.peer.to_hex(),
            &docs
                .iter()
                .zip(&blobs)
                .map(|(c, b)| {
                    (
                        c.id.as_str(),
                        c.person.as_str(),
                        c.course.as_str(),
                        b.as_slice(),
                    )
                })
                .collect::<Vec<_>>(),
            Utc::now(),
        )?;
        Ok((ReplyBody::CertificatesAck { stored, already }, Vec::new()))
    }

    /// Contact requests: each signed by this session's tablet for a person
    /// on its rosters, and checked before any is stored. Each is stored
    /// once by its id, so a resend after a cut stores nothing twice.
    fn contact_requests(
        &mut self,
        count: u32,
        blobs: Vec<Vec<u8>>,
    ) -> Result<(ReplyBody, Vec<Vec<u8>>)> {
        let tablet = self.tablet()?;
        if count as usize != blobs.len() || blobs.len() > MAX_BATCH {
            return Err(Error::Refused(format!(
                "upload names {count} contact requests but carries {} (at most {MAX_BATCH} per frame)",
                blobs.len()
            )));
        }
        let people = self.dock.db.people_for(&tablet.groups)?;
        let mut docs = Vec::with_capacity(blobs.len());
        for b in &blobs {
            let r = signed::verify_contact_request(&self.peer, b)?;
            if !people.iter().any(|p| p == r.person.as_str()) {
                return Err(Error::Refused(format!(
                    "contact request {} is from {}, who is not on a roster of this tablet's groups; nothing was stored",
                    r.id, r.person
                )));
            }
            docs.push(r);
        }
        let (mut stored, mut already) = (0, 0);
        for (r, b) in docs.iter().zip(&blobs) {
            if self.dock.receive_contact_request(r, b)? {
                stored += 1;
            } else {
                already += 1;
            }
            self.dock.step("dock:after-store-contact-request")?;
        }
        Ok((
            ReplyBody::ContactRequestsAck { stored, already },
            Vec::new(),
        ))
    }

    fn report(
        &mut self,
        report: TabletReport,
        audit_from: u64,
        blobs: Vec<Vec<u8>>,
    ) -> Result<(ReplyBody, Vec<Vec<u8>>)> {
        self.tablet()?;
        if blobs.len() > 1 {
            return Err(Error::Refused(
                "a report carries at most one audit export".into(),
            ));
        }
        let audit = match blobs.first() {
            Some(b) => {
                #[derive(serde::Deserialize)]
                struct Export {
                    entries: Vec<crate::audit::AuditEntry>,
                }
                let e: Export = signed::verify_by(&self.peer, b, pt::AUDIT_EXPORT, "audit export")?;
                let through = e.entries.iter().map(|x| x.seq).max().unwrap_or(audit_from);
                Some((audit_from, through, b.as_slice()))
            }
            None => None,
        };
        let audit_through =
            self.dock
                .db
                .record_report(&self.peer.to_hex(), Utc::now(), &report, audit)?;
        Ok((ReplyBody::ReportAck { audit_through }, Vec::new()))
    }

    fn pull(
        &mut self,
        cursors: std::collections::BTreeMap<crate::domain::people::PersonId, u64>,
        held: std::collections::BTreeMap<String, u64>,
        installed: Vec<Sha256>,
    ) -> Result<(ReplyBody, Vec<Vec<u8>>)> {
        let tablet = self.tablet()?;
        let people = self.dock.db.people_for(&tablet.groups)?;
        let mut blobs = Vec::new();
        let mut more = false;
        let mut through = std::collections::BTreeMap::new();
        let me = self.peer.to_hex();
        // Entries examined per reply, sent or left out.
        let mut room = MAX_BATCH;
        for (person, cursor) in &cursors {
            if !people.iter().any(|p| p == person.as_str()) {
                return Err(Error::Refused(format!(
                    "{person} is not on a roster of this tablet's groups; their letters stay at the dock"
                )));
            }
            if room == 0 {
                more = true;
                break;
            }
            let page = self
                .dock
                .db
                .feed_after(person.as_str(), *cursor, room, &me)?;
            room -= page.examined;
            if page.through > *cursor {
                through.insert(person.clone(), page.through);
            }
            blobs.extend(page.entries);
            if page.more {
                more = true;
                break;
            }
        }
        let entries = blobs.len() as u32;
        self.summary.entries_sent += entries;
        let mut documents = 0;
        for (kind, scope, version, env) in self.dock.db.documents_for(&tablet.groups, &people)? {
            if held
                .get(&format!("{kind}/{scope}"))
                .is_none_or(|v| *v < version)
            {
                blobs.push(env);
                documents += 1;
            }
        }
        let installed: BTreeSet<String> = installed.iter().map(|s| s.to_hex()).collect();
        let bundles = self
            .dock
            .db
            .bundles(Some("approved"))?
            .into_iter()
            .filter(|b| b.groups.iter().any(|g| tablet.groups.contains(g)))
            .filter(|b| !installed.contains(&b.manifest_sha256))
            .filter_map(|b| offer(&b))
            .collect();
        let withdrawn = self.dock.withdrawn_for(&tablet.groups)?;
        self.dock.db.touch(&self.peer.to_hex(), Utc::now())?;
        Ok((
            ReplyBody::Feed {
                entries,
                documents,
                more,
                cursors: through,
                bundles,
                withdrawn,
                groups: tablet
                    .groups
                    .iter()
                    .filter_map(|g| GroupId::parse(g).ok())
                    .collect(),
            },
            blobs,
        ))
    }

    fn bundle_range(&mut self, sha: Sha256, offset: u64) -> Result<(ReplyBody, Vec<Vec<u8>>)> {
        let tablet = self.tablet()?;
        let hex = sha.to_hex();
        let row = self
            .dock
            .db
            .bundles(Some("approved"))?
            .into_iter()
            .find(|b| {
                b.manifest_sha256 == hex && b.groups.iter().any(|g| tablet.groups.contains(g))
            })
            .ok_or_else(|| {
                Error::Refused(format!(
                    "bundle {hex} is not approved for this tablet's groups"
                ))
            })?;
        let path = self.dock.bundle_path(&hex);
        let mut f = std::fs::File::open(&path).map_err(io(&path))?;
        let total = f.metadata().map_err(io(&path))?.len();
        if offset > total {
            return Err(Error::Refused(format!(
                "offset {offset} is past the end of bundle {} ({total} bytes)",
                row.bundle_id
            )));
        }
        f.seek(SeekFrom::Start(offset)).map_err(io(&path))?;
        let mut buf = Vec::with_capacity(BUNDLE_RANGE.min(total - offset) as usize);
        (&mut f)
            .take(BUNDLE_RANGE)
            .read_to_end(&mut buf)
            .map_err(io(&path))?;
        self.summary.bundle_bytes += buf.len() as u64;
        Ok((
            ReplyBody::BundleRange {
                manifest_sha256: sha,
                offset,
                total,
            },
            vec![buf],
        ))
    }

    fn vendor_upload(
        &mut self,
        total: u64,
        sha256: Sha256,
        offset: u64,
        blobs: Vec<Vec<u8>>,
    ) -> Result<(ReplyBody, Vec<Vec<u8>>)> {
        let got = self
            .dock
            .receive_upload(&self.peer, total, sha256, offset, &blobs)?;
        Ok(got)
    }
}

fn offer(b: &BundleRow) -> Option<BundleOffer> {
    Some(BundleOffer {
        bundle: crate::domain::BundleId::parse(&b.bundle_id).ok()?,
        version: b.version,
        manifest_sha256: Sha256::from_hex(&b.manifest_sha256).ok()?,
        size: b.size,
    })
}
