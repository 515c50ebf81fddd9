//! Bundles at the dock: vendor uploads (verified before they count) and
//! facility IT's approval for groups.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::path::PathBuf;

use chrono::Utc;

use super::db::BundleRow;
use super::{Dock, Error, Result, io};
use crate::domain::sync::ReplyBody;
use crate::domain::time::ts;
use crate::domain::{GroupId, PublicKey, Sha256};
use crate::facility::Facility;
use crate::trust::Hasher;

/// A bundle as `bundles pending` lists it.
pub type PendingBundle = BundleRow;

impl Dock {
    pub(crate) fn bundle_path(&self, manifest_sha256: &str) -> PathBuf {
        self.shared
            .data
            .join("bundles")
            .join(format!("{manifest_sha256}.berth"))
    }

    /// Take part of a vendor upload. The bytes are spooled under
    /// `incoming/` (never where tablets read) and, once all have come, the
    /// whole bundle is verified: digest, vendor signature and delegation,
    /// every chunk and file, and that the uploader holds the delegated key.
    pub(crate) fn receive_upload(
        &mut self,
        peer: &PublicKey,
        total: u64,
        sha256: Sha256,
        offset: u64,
        blobs: &[Vec<u8>],
    ) -> Result<(ReplyBody, Vec<Vec<u8>>)> {
        self.ensure_layout()?;
        let cap = self.shared.config.max_upload_bytes;
        if total > cap {
            return Err(Error::Refused(format!(
                "the bundle is {total} bytes; this dock takes at most {cap} (max_upload_bytes in dock.toml)"
            )));
        }
        let part = self.shared.data.join("incoming").join(format!(
            "{}.{}.part",
            sha256.to_hex(),
            peer.to_hex()
        ));
        let held = fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        if blobs.is_empty() {
            return Ok((ReplyBody::Received { bytes: held }, Vec::new()));
        }
        if offset != held {
            return Err(Error::Refused(format!(
                "upload offset {offset} but the dock holds {held} bytes; resume from {held}"
            )));
        }
        let incoming: u64 = blobs.iter().map(|b| b.len() as u64).sum();
        if held + incoming > total {
            let _ = fs::remove_file(&part);
            return Err(Error::Refused(format!(
                "the upload ran past its declared {total} bytes; it was discarded"
            )));
        }
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&part)
            .map_err(io(&part))?;
        for b in blobs {
            f.write_all(b).map_err(io(&part))?;
        }
        f.sync_all().map_err(io(&part))?;
        let now_held = held + incoming;
        if now_held < total {
            return Ok((ReplyBody::Received { bytes: now_held }, Vec::new()));
        }
        let outcome = self.accept_upload(peer, sha256, &part);
        let _ = fs::remove_file(&part);
        if let Err(e) = &outcome {
            let _ = self.db.log_refusal(
                Utc::now(),
                &format!("vendor upload from {peer}"),
                &e.to_string(),
            );
        }
        outcome
    }

    fn accept_upload(
        &mut self,
        peer: &PublicKey,
        sha256: Sha256,
        part: &std::path::Path,
    ) -> Result<(ReplyBody, Vec<Vec<u8>>)> {
        let mut h = Hasher::default();
        let mut f = fs::File::open(part).map_err(io(part))?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf).map_err(io(part))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        if h.finish() != sha256 {
            return Err(Error::Refused(
                "the uploaded bytes do not match the SHA-256 the upload declared; send it again"
                    .into(),
            ));
        }
        let facility = Facility::open(&self.shared.facility_dir)?;
        let report = facility.verify(part, Utc::now())?;
        if report.delegation.key != *peer {
            return Err(Error::Refused(format!(
                "the bundle is signed by vendor {}'s delegated key, but the uploader is {peer}; \
                 vendors upload their own bundles",
                report.delegation.vendor
            )));
        }
        let m = &report.manifest;
        let hex = report.manifest_sha256.to_hex();
        let dest = self.bundle_path(&hex);
        fs::rename(part, &dest).map_err(io(&dest))?;
        let size = fs::metadata(&dest).map_err(io(&dest))?.len();
        self.db.insert_bundle(&BundleRow {
            manifest_sha256: hex,
            bundle_id: m.bundle_id.to_string(),
            version: m.version,
            vendor: m.vendor.to_string(),
            content_type: m.content_type.to_string(),
            size,
            state: "pending".into(),
            groups: Vec::new(),
            uploaded_at: ts(&Utc::now()),
        })?;
        Ok((
            ReplyBody::Uploaded {
                bundle: m.bundle_id.clone(),
                version: m.version,
                manifest_sha256: report.manifest_sha256,
            },
            Vec::new(),
        ))
    }

    /// Add a bundle file that facility IT already holds (from a USB stick,
    /// say) to the pending list, verified like an upload.
    pub fn add_bundle_file(&mut self, path: &std::path::Path) -> Result<PendingBundle> {
        self.ensure_layout()?;
        let facility = Facility::open(&self.shared.facility_dir)?;
        let report = facility.verify(path, Utc::now())?;
        let hex = report.manifest_sha256.to_hex();
        let dest = self.bundle_path(&hex);
        let tmp = dest.with_extension("adding");
        fs::copy(path, &tmp).map_err(io(&tmp))?;
        fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(io(&tmp))?;
        fs::rename(&tmp, &dest).map_err(io(&dest))?;
        let m = &report.manifest;
        let row = BundleRow {
            manifest_sha256: hex,
            bundle_id: m.bundle_id.to_string(),
            version: m.version,
            vendor: m.vendor.to_string(),
            content_type: m.content_type.to_string(),
            size: fs::metadata(&dest).map_err(io(&dest))?.len(),
            state: "pending".into(),
            groups: Vec::new(),
            uploaded_at: ts(&Utc::now()),
        };
        self.db.insert_bundle(&row)?;
        Ok(row)
    }

    pub fn bundles(&self, state: Option<&str>) -> Result<Vec<PendingBundle>> {
        self.db.bundles(state)
    }

    /// Approve a pending bundle (by bundle id, or a manifest SHA-256 or its
    /// prefix) for groups; tablets in those groups get it at their next sync.
    pub fn approve_bundle(&mut self, id: &str, groups: &[GroupId]) -> Result<PendingBundle> {
        if groups.is_empty() {
            return Err(Error::Refused(
                "name the groups to approve for, e.g. --groups unit:b-east".into(),
            ));
        }
        let mut matches: Vec<BundleRow> = self
            .db
            .bundles(None)?
            .into_iter()
            .filter(|b| b.bundle_id == id || (id.len() >= 8 && b.manifest_sha256.starts_with(id)))
            .collect();
        matches.sort_by_key(|b| b.version);
        let row = matches.pop().ok_or_else(|| Error::NotFound {
            what: "bundle",
            id: id.into(),
            hint: "see `berth-facility bundles pending --data D`",
        })?;
        let facility = Facility::open(&self.shared.facility_dir)?;
        let path = self.bundle_path(&row.manifest_sha256);
        let tmp = path.with_extension("approving");
        facility.approve(&path, groups.to_vec(), &tmp, Utc::now())?;
        fs::rename(&tmp, &path).map_err(io(&path))?;
        let gs: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        let size = fs::metadata(&path).map_err(io(&path))?.len();
        self.db
            .mark_bundle_approved(&row.manifest_sha256, &gs, size, Utc::now())?;
        Ok(BundleRow {
            state: "approved".into(),
            groups: gs,
            size,
            ..row
        })
    }

    /// Withdraw a bundle's approval: tablets stop showing it at their next
    /// sync (people's records stay).
    pub fn withdraw_bundle(&mut self, id: &str) -> Result<usize> {
        let n = self.db.withdraw_bundle(id, Utc::now())?;
        if n == 0 {
            return Err(Error::NotFound {
                what: "approved bundle",
                id: id.into(),
                hint: "see `berth-facility bundles approved --data D`",
            });
        }
        Ok(n)
    }

    /// Bundles withdrawn for any of `groups` and not approved again for them.
    pub fn withdrawn_for(&self, groups: &[String]) -> Result<Vec<crate::domain::BundleId>> {
        let all = self.db.bundles(None)?;
        let mine = |b: &BundleRow| b.groups.iter().any(|g| groups.contains(g));
        let mut out: Vec<crate::domain::BundleId> = all
            .iter()
            .filter(|b| b.state == "withdrawn" && mine(b))
            .filter(|b| {
                !all.iter()
                    .any(|a| a.bundle_id == b.bundle_id && a.state == "approved" && mine(a))
            })
            .filter_map(|b| crate::domain::BundleId::parse(&b.bundle_id).ok())
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }
}

/// Largest `album.json` read when listing what the dock carries.
const MAX_ALBUM_JSON: u64 = 1 << 20;

#[derive(serde::Deserialize)]
struct AlbumIds {
    id: String,
    #[serde(default)]
    tracks: Vec<TrackId>,
}

#[derive(serde::Deserialize)]
struct TrackId {
    id: String,
}

impl Dock {
    /// Every `album:ID` and `track:ID` that an approved music bundle at
    /// this dock carries. Each bundle's vendor signature and delegation
    /// are checked, and each `album.json` against its signed SHA-256,
    /// before it is parsed.
    pub fn carried_music(&self) -> Result<std::collections::BTreeSet<String>> {
        use std::io::{Seek, SeekFrom};
        let mut out = std::collections::BTreeSet::new();
        for b in self.db.bundles(Some("approved"))? {
            if b.content_type != crate::domain::ContentType::Music.as_str() {
                continue;
            }
            let path = self.bundle_path(&b.manifest_sha256);
            let (header, mut r) = crate::bundle::open_bundle(&path)?;
            let v = self.shared.root.verify_vendor_part(
                &header.manifest,
                &header.delegation,
                Utc::now(),
            )?;
            let start = header.encoded_len();
            let mut offset = 0u64;
            for f in &v.manifest.files {
                let at = offset;
                offset += f.size;
                let is_album =
                    f.path.as_str() == "album.json" || f.path.as_str().ends_with("/album.json");
                if !is_album || f.size > MAX_ALBUM_JSON {
                    continue;
                }
                r.seek(SeekFrom::Start(start + at)).map_err(io(&path))?;
                let mut bytes = vec![0u8; f.size as usize];
                r.read_exact(&mut bytes).map_err(io(&path))?;
                if crate::trust::sha256(&bytes) != f.sha256 {
                    return Err(Error::Refused(format!(
                        "{}: {} does not match its signed SHA-256; the stored bundle is damaged",
                        path.display(),
                        f.path.as_str()
                    )));
                }
                if let Ok(a) = serde_json::from_slice::<AlbumIds>(&bytes) {
                    out.insert(format!("album:{}", a.id));
                    out.extend(a.tracks.into_iter().map(|t| format!("track:{}", t.id)));
                }
            }
        }
        Ok(out)
    }
}
