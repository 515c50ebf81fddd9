//! The tablet's half of a dock sync: what to send, and applying what came
//! back. The network half is `sync::client`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::Tablet;
use super::people::Result;
use crate::domain::people::PersonId;
use crate::domain::sync::{FeedEntry, TabletReport};
use crate::domain::time;
use crate::store::{ThreadItem, ThreadSummary};

/// Cursor names in the store.
pub const LAST_DOCK: &str = "last-dock";
pub const AUDIT_ACKED: &str = "audit-acked";
/// Most usage rows in one report (a roster's people over two weeks).
const USAGE_ROWS: usize = 2000;

impl Tablet {
    pub fn store_mut(&mut self) -> &mut crate::store::Store {
        &mut self.store
    }

    pub(crate) fn device_key(&self) -> &crate::trust::SigningKey {
        &self.device_key
    }

    /// The dock's signed time raises the trusted clock and is remembered as
    /// the last dock (for grace mode and the status bar).
    pub fn accept_dock_time(&mut self, dock_time: DateTime<Utc>) -> Result<()> {
        let (now, state) = self.read_clock()?;
        let state = time::with_signed_time(state, dock_time);
        self.store.save_clock(&state)?;
        let at = now.max(dock_time);
        self.store
            .set_cursor(LAST_DOCK, at.timestamp().max(0) as u64)?;
        Ok(())
    }

    /// When the tablet last synced with a dock.
    pub fn last_dock(&self) -> Result<Option<DateTime<Utc>>> {
        let secs = self.store.cursor(LAST_DOCK)?;
        Ok((secs > 0)
            .then(|| DateTime::from_timestamp(secs as i64, 0))
            .flatten())
    }

    /// The people whose letters this tablet carries: everyone active on its
    /// roster.
    pub fn sync_people(&self) -> Result<Vec<String>> {
        Ok(self
            .store
            .people()?
            .into_iter()
            .filter(|p| p.active)
            .map(|p| p.id)
            .collect())
    }

    pub fn report(&self) -> Result<TabletReport> {
        let tamper = self.store.audit_of_kind(crate::audit::kind::TAMPER)?.len() as u64;
        let usage = self
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
        let now = self.trusted_now()?;
        let mut good: Vec<FeedEntry> = Vec::with_capacity(blobs.len());
        let mut refused = 0;
        let root = &self.root;
        let verified = crate::sync::par_map(blobs, |b| root.verify_feed_entry(b));
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
                    self.store
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
                        self.store.audit(
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
            .store
            .apply_feed_with(&good, &receipts, &through, now)?;
        Ok((applied, refused))
    }

    /// The logged-in person's threads, most recent first.
    pub fn threads_for(&self, session: &super::Session) -> Result<Vec<ThreadSummary>> {
        Ok(self.store.threads(&session.person)?)
    }

    /// One thread, oldest first; opening it marks its letters read.
    pub fn open_thread(
        &mut self,
        session: &super::Session,
        contact: &str,
    ) -> Result<Vec<ThreadItem>> {
        let items = self.store.thread(&session.person, contact)?;
        self.store.mark_thread_read(&session.person, contact)?;
        Ok(items)
    }
}
