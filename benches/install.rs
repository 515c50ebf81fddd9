//! Install throughput against its own baselines, measured in the same run.
//!
//!   cargo bench --bench install            (1 GiB; BERTH_BENCH_MIB=256 for less)
//!
//! Baselines over the very same bundle bytes:
//!   hash  = read + SHA-256 of the bundle file
//!   copy  = read + write + fsync of the bundle file
//! Reported: install / max(hash, copy). Goal ≤ 1.25 (hash and write overlap).

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use berth::bundle::pack::{self, PackSpec};
use berth::device::clock::SystemClock;
use berth::domain::{BundleId, ContentType, FacilityId, GroupId, TabletModel, VendorId};
use berth::facility::Facility;
use berth::install::{DataDir, Outcome};
use berth::sync::FileSource;
use berth::tablet::{Tablet, TabletOptions};
use berth::trust::{Hasher, SigningKey};
use chrono::{Duration as CDuration, Utc};

const REPS: usize = 7;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Flush all dirty pages so no earlier write-back runs into a measurement.
fn settle() {
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
}

fn hash_file(p: &Path) -> Duration {
    settle();
    let t = Instant::now();
    let mut f = File::open(p).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut h = Hasher::default();
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    std::hint::black_box(h.finish());
    t.elapsed()
}

fn copy_fsync(p: &Path, out: &Path) -> Duration {
    settle();
    let t = Instant::now();
    let mut f = File::open(p).unwrap();
    let mut w = File::create(out).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        w.write_all(&buf[..n]).unwrap();
    }
    w.sync_all().unwrap();
    let d = t.elapsed();
    std::fs::remove_file(out).unwrap();
    d
}

fn main() {
    let mib: u64 = std::env::var("BERTH_BENCH_MIB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1024);
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-install");
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let now = Utc::now();

    // Setup (not measured): facility, vendor, a bundle of `mib` MiB in 16 files.
    let facility = Facility::init(
        &base.join("facility"),
        FacilityId::parse("bench").unwrap(),
        now + CDuration::days(30),
    )
    .unwrap();
    let vendor = SigningKey::generate_to_file(&base.join("vendor.pk8")).unwrap();
    let delegation = facility
        .delegate(
            VendorId::parse("bench").unwrap(),
            vendor.public(),
            vec![ContentType::Music],
            1 << 36,
            now + CDuration::days(30),
            now,
        )
        .unwrap();
    let src = base.join("src");
    std::fs::create_dir_all(&src).unwrap();
    let per_file = mib * 1024 * 1024 / 16;
    let mut block = vec![0u8; 1 << 20];
    for i in 0..16u64 {
        let mut f = File::create(src.join(format!("track-{i:02}.flac"))).unwrap();
        let mut left = per_file;
        let mut x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        while left > 0 {
            for b in block.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            let n = left.min(block.len() as u64) as usize;
            f.write_all(&block[..n]).unwrap();
            left -= n as u64;
        }
    }
    let spec = PackSpec {
        bundle_id: BundleId::parse("bench.album").unwrap(),
        version: 1,
        content_type: ContentType::Music,
        vendor: VendorId::parse("bench").unwrap(),
        title: "Bench".into(),
        tablet_model: TabletModel::parse("any").unwrap(),
        created: now,
        expires: now + CDuration::days(30),
        chunk_size: pack::DEFAULT_CHUNK_SIZE,
    };
    let raw = base.join("bench.berth");
    let t = Instant::now();
    pack::pack(&src, &spec, &vendor, &delegation, &raw).unwrap();
    let pack_time = t.elapsed();
    let bundle = base.join("bench.approved.berth");
    facility
        .approve(
            &raw,
            vec![GroupId::parse("facility").unwrap()],
            &bundle,
            now,
        )
        .unwrap();
    std::fs::remove_file(&raw).unwrap();
    std::fs::remove_dir_all(&src).unwrap();
    let bytes = std::fs::metadata(&bundle).unwrap().len();

    // Warm the page cache once so every measurement reads the same way.
    hash_file(&bundle);
    let mut hash = Vec::new();
    let mut copy = Vec::new();
    let mut install = Vec::new();
    let install_once = |rep: usize| -> Duration {
        let data = base.join(format!("tablet-{rep}"));
        let (mut tablet, _) = Tablet::open(
            DataDir::new(&data),
            TabletOptions {
                trust_file: Some(base.join("facility/root.json")),
                ..TabletOptions::default()
            },
            Box::new(SystemClock),
        )
        .unwrap();
        settle();
        let t = Instant::now();
        let out = tablet.install(&mut FileSource::new(&bundle)).unwrap();
        let d = t.elapsed();
        assert!(matches!(out, Outcome::Installed { .. }));
        drop(tablet);
        std::fs::remove_dir_all(&data).unwrap();
        d
    };
    // Alternate the order within each round so slow drift in the disk
    // (throttling, write-back) falls on both sides, and compare within a round.
    let mut paired = Vec::new();
    for rep in 0..REPS {
        hash.push(hash_file(&bundle));
        if rep % 2 == 0 {
            copy.push(copy_fsync(&bundle, &base.join("copy.tmp")));
            install.push(install_once(rep));
        } else {
            install.push(install_once(rep));
            copy.push(copy_fsync(&bundle, &base.join("copy.tmp")));
        }
        paired.push(install[rep].as_secs_f64() / hash[rep].max(copy[rep]).as_secs_f64());
    }
    paired.sort_by(f64::total_cmp);
    let ms = |v: &[Duration]| {
        v.iter()
            .map(|d| format!("{:.0}", d.as_secs_f64() * 1000.0))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!(
        "runs (ms): sha256 [{}]  copy+fsync [{}]  install [{}]",
        ms(&hash),
        ms(&copy),
        ms(&install)
    );
    let best = |v: &[Duration]| *v.iter().min().unwrap();
    let best_ratio = best(&install).as_secs_f64() / best(&hash).max(best(&copy)).as_secs_f64();
    let (h, c, i) = (median(hash), median(copy), median(install));
    let mbps = |d: Duration| bytes as f64 / d.as_secs_f64() / 1e6;
    println!(
        "bundle: {} bytes ({mib} MiB payload), median of {REPS}",
        bytes
    );
    println!(
        "pack (two passes, not a goal): {:>8.3} s",
        pack_time.as_secs_f64()
    );
    println!(
        "baseline sha256:               {:>8.3} s  {:>7.0} MB/s",
        h.as_secs_f64(),
        mbps(h)
    );
    println!(
        "baseline copy+fsync:           {:>8.3} s  {:>7.0} MB/s",
        c.as_secs_f64(),
        mbps(c)
    );
    println!(
        "install (verify+stage+commit): {:>8.3} s  {:>7.0} MB/s",
        i.as_secs_f64(),
        mbps(i)
    );
    println!(
        "ratio install / max(sha256, copy+fsync) = {:.2} (goal <= 1.25)",
        i.as_secs_f64() / h.max(c).as_secs_f64()
    );
    println!("ratio of best runs (least disk noise) = {best_ratio:.2}");
    println!(
        "paired ratio per round: [{}], median {:.2}",
        paired
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(" "),
        paired[paired.len() / 2]
    );
    let _ = std::fs::remove_dir_all(&base);
}
