//! A facility, a vendor and a tablet in a temp dir, built with the real
//! library: real keys, real signatures, a real SQLite file.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use berth::bundle::RawHeader;
use berth::bundle::pack::{self, PackSpec};
use berth::device::clock::ManualClock;
use berth::domain::{
    ApprovalDoc, BundleId, ContentType, FacilityId, GroupId, TabletModel, VendorId,
};
use berth::facility::Facility;
use berth::install::{DataDir, Outcome};
use berth::sync::BundleSource;
use berth::tablet::{Tablet, TabletOptions};
use berth::trust::{Envelope, SigningKey, payload_type};
use chrono::{DateTime, Duration, Utc};

pub const CHUNK: u32 = 1024;

/// Test worlds start now (to the second), so the binaries, which read the
/// system clock, agree with the library tests, which use a manual clock.
pub fn t0() -> DateTime<Utc> {
    use std::sync::OnceLock;
    static T0: OnceLock<DateTime<Utc>> = OnceLock::new();
    *T0.get_or_init(|| DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap())
}

pub struct World {
    pub dir: tempfile::TempDir,
    pub facility: Facility,
    pub vendor: SigningKey,
    pub delegation: Vec<u8>,
    pub clock: Arc<ManualClock>,
}

impl World {
    pub fn new() -> Self {
        Self::with_types(vec![ContentType::Education, ContentType::Books], 1 << 20)
    }

    pub fn with_types(types: Vec<ContentType>, max_bytes: u64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let facility = Facility::init(
            &dir.path().join("facility"),
            FacilityId::parse("test-facility").unwrap(),
            t0() + Duration::days(365),
        )
        .unwrap();
        let vendor = SigningKey::generate_to_file(&dir.path().join("vendor.pk8")).unwrap();
        let delegation = facility
            .delegate(
                VendorId::parse("acme").unwrap(),
                vendor.public(),
                types,
                max_bytes,
                t0() + Duration::days(100),
                t0(),
            )
            .unwrap();
        World {
            dir,
            facility,
            vendor,
            delegation,
            clock: Arc::new(ManualClock::new(t0())),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn root_json(&self) -> PathBuf {
        self.path("facility/root.json")
    }

    /// A source tree with a few files of known content.
    pub fn source(&self, name: &str, seed: u8, sizes: &[usize]) -> PathBuf {
        let src = self.path(name);
        for (i, size) in sizes.iter().enumerate() {
            let p = if i % 2 == 0 {
                src.join(format!("f{i}.bin"))
            } else {
                src.join("sub").join(format!("f{i}.bin"))
            };
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            let bytes: Vec<u8> = (0..*size)
                .map(|j| (j as u8).wrapping_mul(31).wrapping_add(seed))
                .collect();
            std::fs::write(p, bytes).unwrap();
        }
        src
    }

    pub fn spec(&self, id: &str, version: u64, content_type: ContentType) -> PackSpec {
        PackSpec {
            bundle_id: BundleId::parse(id).unwrap(),
            version,
            content_type,
            vendor: VendorId::parse("acme").unwrap(),
            title: format!("Título {id}"),
            tablet_model: TabletModel::parse("any").unwrap(),
            created: t0(),
            expires: t0() + Duration::days(30),
            chunk_size: CHUNK,
        }
    }

    /// Pack without approval.
    pub fn pack(&self, src: &Path, spec: &PackSpec, out: &str) -> PathBuf {
        let out = self.path(out);
        pack::pack(src, spec, &self.vendor, &self.delegation, &out).unwrap();
        out
    }

    /// Pack and approve for `facility`.
    pub fn bundle(&self, id: &str, version: u64, seed: u8, sizes: &[usize]) -> PathBuf {
        let src = self.source(&format!("src-{id}-{version}-{seed}"), seed, sizes);
        let raw = self.pack(
            &src,
            &self.spec(id, version, ContentType::Education),
            &format!("{id}-{version}-{seed}.raw.berth"),
        );
        self.approve(&raw, &["facility"])
    }

    pub fn approve(&self, raw: &Path, groups: &[&str]) -> PathBuf {
        let out = raw.with_extension("approved.berth");
        self.facility
            .approve(
                raw,
                groups.iter().map(|g| GroupId::parse(g).unwrap()).collect(),
                &out,
                t0(),
            )
            .unwrap();
        out
    }

    /// Sign an approval for any manifest hash (for crafted bundles).
    pub fn approval_for(&self, manifest_payload: &[u8], id: &str, version: u64) -> Vec<u8> {
        let doc = ApprovalDoc {
            facility: FacilityId::parse("test-facility").unwrap(),
            bundle_id: BundleId::parse(id).unwrap(),
            version,
            manifest_sha256: berth::trust::sha256(manifest_payload),
            groups: vec![GroupId::parse("facility").unwrap()],
            approved_at: t0(),
        };
        let key = self.facility.key("approval").unwrap();
        Envelope::sign(
            payload_type::APPROVAL,
            serde_json::to_vec(&doc).unwrap(),
            &[&key],
        )
        .to_bytes()
    }

    /// A bundle from a raw manifest JSON value, signed by the vendor and
    /// approved, with `payload` appended as is.
    pub fn craft(&self, manifest: &serde_json::Value, payload: &[u8]) -> Vec<u8> {
        let bytes = serde_json::to_vec(manifest).unwrap();
        let id = manifest["bundle_id"].as_str().unwrap();
        let version = manifest["version"].as_u64().unwrap();
        let approval = self.approval_for(&bytes, id, version);
        let env = Envelope::sign(payload_type::MANIFEST, bytes, &[&self.vendor]).to_bytes();
        let header = RawHeader {
            manifest: env,
            delegation: self.delegation.clone(),
            approvals: vec![approval],
        };
        let mut out = Vec::new();
        header.write_to(&mut out).unwrap();
        out.extend_from_slice(payload);
        out
    }

    pub fn tablet_dir(&self, name: &str) -> DataDir {
        DataDir::new(self.path(name))
    }

    /// A tablet of unit b-east (the unit the example rosters use).
    pub fn open_unit_tablet(&self, name: &str) -> Tablet {
        Tablet::open(
            self.tablet_dir(name),
            TabletOptions {
                trust_file: Some(self.root_json()),
                groups: vec!["facility".parse().unwrap(), "unit:b-east".parse().unwrap()],
                ..TabletOptions::default()
            },
            Box::new(self.clock.clone()),
        )
        .unwrap()
        .0
    }

    pub fn open_tablet(&self, name: &str) -> Tablet {
        Tablet::open(
            self.tablet_dir(name),
            TabletOptions {
                trust_file: Some(self.root_json()),
                ..TabletOptions::default()
            },
            Box::new(self.clock.clone()),
        )
        .unwrap()
        .0
    }
}

/// The manifest JSON of a bundle file (test inspection only).
pub fn manifest_json(bundle: &[u8]) -> serde_json::Value {
    let (h, _) = RawHeader::parse(bundle).unwrap();
    let env = Envelope::from_bytes(&h.manifest).unwrap();
    serde_json::from_slice(env.unverified_payload_for_display()).unwrap()
}

pub fn header_len(bundle: &[u8]) -> usize {
    RawHeader::parse(bundle).unwrap().1
}

/// A bundle held in memory. Records every offset asked for and can stop
/// after `cut` bytes, as a pulled cable would.
pub struct MemSource {
    pub bytes: Vec<u8>,
    pub cut: Option<usize>,
    pub opened_at: Vec<u64>,
}

impl MemSource {
    pub fn new(bytes: Vec<u8>) -> Self {
        MemSource {
            bytes,
            cut: None,
            opened_at: Vec::new(),
        }
    }
    pub fn cut_at(bytes: Vec<u8>, cut: usize) -> Self {
        MemSource {
            bytes,
            cut: Some(cut),
            opened_at: Vec::new(),
        }
    }
}

struct CutReader<'a> {
    data: &'a [u8],
    pos: usize,
    end: usize,
    cut: bool,
}

impl Read for CutReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.end {
            if self.cut {
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "cable pulled",
                ));
            }
            return Ok(0);
        }
        let n = buf.len().min(self.end - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl BundleSource for MemSource {
    fn describe(&self) -> String {
        "memory".into()
    }
    fn open_at(&mut self, offset: u64) -> io::Result<Box<dyn Read + '_>> {
        self.opened_at.push(offset);
        let end = self.cut.unwrap_or(self.bytes.len()).min(self.bytes.len());
        Ok(Box::new(CutReader {
            data: &self.bytes,
            pos: (offset as usize).min(end),
            end,
            cut: self.cut.is_some(),
        }))
    }
}

/// Every regular file under `dir`, relative, with its bytes.
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    fn walk(base: &Path, d: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push((
                    p.strip_prefix(base).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

pub fn installed(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Installed { .. })
}

/// Every file under `dir` (recursively) whose name ends in `.ext`.
pub fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, ext, out);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, ext, &mut out);
    out.sort();
    out
}

/// Wait until `f` holds, for at most `secs`; false if it never did. (A
/// deadline for a condition, not a timing assertion.)
pub fn eventually(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    f()
}
