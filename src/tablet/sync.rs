//! The tablet's half of a dock sync: what to send, and applying what came
//! back. The network half is `sync::client`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::Tablet;
use super::people::Result;
use crate::domain::people::PersonId;
use crate::domain::sync::{FeedEntry, TabletReport};
use crate::domain::time;
use crate::domain::{GroupId, Sha256};

/// Cursor names in the store.
const LAST_DOCK: &str = "last-dock";
const AUDIT_ACKED: &str = "audit-acked";
/// Most usage rows in one report (a roster's people over two weeks).
const USAGE_ROWS: usize = 2000;

/// The tablet's half of a dock sync: what to send, and applying what
/// came back. The sync client reaches the store only through this.
pub struct SyncSide<'a> {
    pub(super) t: &'a mut Tablet,
}

impl Tablet {
    pub fn sync(&mut self) -> SyncSide<'_> {
        SyncSide { t: self }
    }
}

impl SyncSide<'_> {
    /// The groups the dock enrolled this tablet in (a signed reply of the
    /// facility's dock): they replace the ones it had, so a tablet
    /// enrolled at the dock, or moved to another unit there, takes the
    /// roster, policy and content of its unit. `facility` always stays.
    /// Returns whether anything changed.
    pub fn adopt_groups(&mut self, groups: &[GroupId]) -> Result<bool> {
        let facility = GroupId::parse("facility").expect("valid group");
        let mut want: Vec<GroupId> = groups.to_vec();
        if !want.contains(&facility) {
            want.push(facility);
        }
        want.sort();
        want.dedup();
        let mut have = self.t.target.groups.clone();
        have.sort();
        if have == want {
            return Ok(false);
        }
        let names: Vec<String> = want.iter().map(|g| g.to_string()).collect();
        let now = self.t.trusted_now()?;
        self.t.store.set_tablet_groups(&names, now)?;
        self.t.target.groups = want;
        Ok(true)
    }

    /// The dock's signed time raises the trusted clock and is remembered as
    /// the last dock (for grace mode and the status bar).
    pub fn accept_dock_time(&mut self, dock_time: DateTime<Utc>) -> Result<()> {
        let (now, state) = self.t.read_clock()?;
        let state = time::with_signed_time(state, dock_time);
        self.t.store.save_clock(&state)?;
        let at = now.max(dock_time);
        self.t
            .store
            .set_cursor(LAST_DOCK, at.timestamp().max(0) as u64)?;
        Ok(())
    }

    /// When the tablet last synced with a dock.
    pub fn last_dock(&self) -> Result<Option<DateTime<Utc>>> {
        let secs = self.t.store.cursor(LAST_DOCK)?;
        Ok((secs > 0)
            .then(|| DateTime::from_timestamp(secs as i64, 0))
            .flatten())
    }

    /// The people whose letters this tablet carries: everyone active on its
    /// roster.
    pub fn sync_people(&self) -> Result<Vec<String>> {
        Ok(self
            .t
            .store
            .people()?
            .into_iter()
            .filter(|p| p.active)
            .map(|p| p.id)
            .collect())
    }

    pub fn report(&self) -> Result<TabletReport> {
        let tamper = self
            .t
            .store
            .audit_of_kind(crate::audit::kind::TAMPER)?
            .len() as u64;
        let usage = self
            .t
            .store
            .usage_days(USAGE_ROWS)?
            .into_iter()
            .filter_map(|(person, day, metered_secs, free_secs, letters)| {
                Some(crate::domain::sync::UsageDay {
                    person: PersonId::parse(&person).ok()?,
                    day,
                    metered_secs,
                    free_secs,
                    letters,
                })
            })
            .collect();
        Ok(TabletReport {
            app_version: env!("CARGO_PKG_VERSION").to_string(),
            battery_percent: None,
            tamper_events: tamper,
            usage,
        })
    }

    /// Verify feed entries from the dock and apply those for people this
    /// tablet asked about, with their cursors, in one transaction. Entries
    /// that fail verification are refused and logged, never shown.
    /// Returns (applied, refused).
    pub fn apply_feed(
        &mut self,
        blobs: &[Vec<u8>],
        asked: &BTreeMap<PersonId, u64>,
    ) -> Result<(usize, usize)> {
        self.apply_feed_through(blobs, asked, &BTreeMap::new())
    }

    /// [`Tablet::apply_feed`], also moving each person's cursor to how far
    /// the dock looked (`through`, from its signed reply) in the same
    /// transaction: entries the dock left out (this tablet's own letters)
    /// are not asked for again.
    pub fn apply_feed_through(
        &mut self,
        blobs: &[Vec<u8>],
        asked: &BTreeMap<PersonId, u64>,
        through: &BTreeMap<PersonId, u64>,
    ) -> Result<(usize, usize)> {
        let now = self.t.trusted_now()?;
        let mut good: Vec<FeedEntry> = Vec::with_capacity(blobs.len());
        let mut refused = 0;
        let root = &self.t.root;
        let verified = crate::trust::par_map(blobs, |b| root.verify_feed_entry(b));
        for v in verified {
            let checked = v.map_err(|e| e.to_string()).and_then(|e| {
                if asked.contains_key(&e.person) {
                    Ok(e)
                } else {
                    Err(format!(
                        "entry {} is for {}, who was not asked for",
                        e.seq, e.person
                    ))
                }
            });
            match checked {
                Ok(e) => good.push(e),
                Err(why) => {
                    refused += 1;
                    self.t
                        .store
                        .audit(now, None, crate::audit::kind::FEED_REFUSED, &why)?;
                }
            }
        }
        // Entitlement receipts are checked against the facility's
        // approval role and must name the person whose feed carries them.
        let mut receipts = BTreeMap::new();
        for e in &good {
            if let crate::domain::sync::FeedItem::Entitlement { receipt } = &e.item {
                let checked =
                    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, receipt)
                        .map_err(|e| e.to_string())
                        .and_then(|bytes| {
                            let doc = self
                                .t
                                .root
                                .verify_entitlement(&bytes)
                                .map_err(|e| e.to_string())?;
                            if doc.person != e.person {
                                return Err(format!(
                                    "receipt {} is for {}, not {}",
                                    doc.id, doc.person, e.person
                                ));
                            }
                            Ok((doc.id, doc.item.to_string(), bytes))
                        });
                match checked {
                    Ok(r) => {
                        receipts.insert((e.person.to_string(), e.seq), r);
                    }
                    Err(why) => {
                        refused += 1;
                        self.t.store.audit(
                            now,
                            None,
                            crate::audit::kind::FEED_REFUSED,
                            &format!("entry {}: entitlement refused: {why}", e.seq),
                        )?;
                    }
                }
            }
        }
        let through: BTreeMap<String, u64> = through
            .iter()
            .filter(|(p, _)| asked.contains_key(*p))
            .map(|(p, v)| (p.to_string(), *v))
            .collect();
        let applied = self
            .t
            .store
            .apply_feed_with(&good, &receipts, &through, now)?;
        Ok((applied, refused))
    }

    /// The device key and trust root a session is opened with.
    pub fn credentials(&self) -> Result<(crate::trust::SigningKey, crate::trust::TrustedRoot)> {
        Ok((self.t.device_key.try_clone()?, self.t.root.clone()))
    }

    /// The report, where the audit export starts (the dock's last
    /// acknowledgement), and the signed export from there.
    pub fn report_with_audit(&mut self) -> Result<(TabletReport, u64, Vec<u8>)> {
        let from = self.t.store.cursor(AUDIT_ACKED)?;
        let export = self.t.people().export_audit(from)?;
        Ok((self.report()?, from, export))
    }

    /// The dock holds the audit log through `through`; the cursor only rises.
    pub fn audit_acked(&mut self, through: u64) -> Result<()> {
        if through > self.t.store.cursor(AUDIT_ACKED)? {
            self.t.store.set_cursor(AUDIT_ACKED, through)?;
        }
        Ok(())
    }

    /// Letters waiting for the dock.
    pub fn queued_count(&self) -> Result<usize> {
        Ok(self.t.store.queued_count()?)
    }

    /// The oldest queued letters after sequence number `after`, at most
    /// `max`: (sequence number, signed envelope).
    pub fn queued_letters(&self, after: u64, max: usize) -> Result<Vec<(u64, Vec<u8>)>> {
        Ok(self.t.store.queued_letters(after, max)?)
    }

    /// The dock's signed ack covers these letters through `through`: mark
    /// them uploaded (at trusted time) in one transaction. Returns how
    /// many moved.
    pub fn letters_acked(&mut self, seqs: &[u64], through: u64) -> Result<usize> {
        let now = self.t.trusted_now()?;
        Ok(self.t.store.mark_uploaded(seqs, through, now)?)
    }

    /// Certificates not yet at the dock, at most `max`: (id, signed envelope).
    pub fn pending_certificates(&self, max: usize) -> Result<Vec<(String, Vec<u8>)>> {
        Ok(self
            .t
            .store
            .pending_certificates(max)?
            .into_iter()
            .map(|c| (c.id, c.envelope))
            .collect())
    }

    /// The dock acknowledged these certificates.
    pub fn certificates_acked(&mut self, ids: &[String]) -> Result<usize> {
        let now = self.t.trusted_now()?;
        Ok(self.t.store.mark_certificates_uploaded(ids, now)?)
    }

    /// Contact requests not yet at the dock, at most `max`: (id, signed envelope).
    pub fn pending_contact_requests(&self, max: usize) -> Result<Vec<(String, Vec<u8>)>> {
        Ok(self.t.store.pending_contact_requests(max)?)
    }

    /// The dock acknowledged these contact requests.
    pub fn contact_requests_acked(&mut self, ids: &[String]) -> Result<usize> {
        let now = self.t.trusted_now()?;
        Ok(self.t.store.mark_contact_requests_uploaded(ids, now)?)
    }

    /// What a pull asks for: each carried person's feed cursor, the
    /// version of every accepted document, and the installed manifests.
    pub fn pull_state(&self) -> Result<PullState> {
        let people = self.sync_people()?;
        let cursors = self
            .t
            .store
            .feed_cursors(&people)?
            .into_iter()
            .filter_map(|(p, c)| PersonId::parse(&p).ok().map(|p| (p, c)))
            .collect();
        let installed = self
            .t
            .store
            .current_bundles()?
            .iter()
            .filter_map(|b| Sha256::from_hex(&b.manifest_sha256).ok())
            .collect();
        Ok(PullState {
            cursors,
            documents: self.t.store.document_versions()?,
            installed,
        })
    }

    /// How far this tablet has read a person's feed.
    pub fn feed_cursor(&self, person: &PersonId) -> Result<u64> {
        Ok(self.t.store.cursor(&format!("feed:{person}"))?)
    }

    /// Record a finished session in the audit log.
    pub fn record_session(&mut self, what: &str) -> Result<()> {
        let now = self.t.trusted_now()?;
        self.t
            .store
            .audit(now, None, crate::audit::kind::SYNC, what)?;
        Ok(())
    }
}

/// What a pull asks the dock for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PullState {
    pub cursors: BTreeMap<PersonId, u64>,
    /// Accepted documents' versions, keyed `kind/scope`.
    pub documents: BTreeMap<String, u64>,
    pub installed: Vec<Sha256>,
}
