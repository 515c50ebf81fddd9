//! Every limit docs/bundle-format.md §6 states can be reached, and all of
//! them at once fit in the manifest envelope's cap: 10,000 files with the
//! longest paths the spec allows really pack, approve and install, and a
//! manifest for a 64 GiB payload at 4 MiB chunks with 10,000 such files is
//! accepted by a tablet's header checks.

use berth::domain::ContentType;
use berth::domain::names::{MAX_PATH_DEPTH, MAX_PATH_LEN};
use berth::install::{Error, Outcome};
use berth::trust::envelope::MAX_MANIFEST_ENVELOPE_BYTES;

use crate::helpers::*;

const FILES: usize = 10_000;

/// The `i`th of 10,000 distinct paths, each 8 components and 255 bytes.
fn longest_path(i: usize) -> String {
    let dirs: Vec<String> = (0..MAX_PATH_DEPTH - 1)
        .map(|d| format!("{}{d}", "d".repeat(30)))
        .collect();
    let used = dirs.iter().map(|d| d.len() + 1).sum::<usize>();
    let name = format!("f{i:05}{}", "x".repeat(MAX_PATH_LEN - used - 6));
    let p = format!("{}/{name}", dirs.join("/"));
    assert_eq!(p.len(), MAX_PATH_LEN);
    p
}

#[test]
fn ten_thousand_files_with_the_longest_paths_pack_and_install() {
    let w = World::new();
    let src = w.path("many");
    for i in 0..FILES {
        let p = src.join(longest_path(i));
        if i == 0 {
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        }
        std::fs::write(&p, [(i % 251) as u8]).unwrap();
    }
    let raw = w.pack(
        &src,
        &w.spec("acme.many", 1, ContentType::Education),
        "many.berth",
    );
    let bytes = std::fs::read(&raw).unwrap();
    let (header, _) = berth::bundle::RawHeader::parse(&bytes).unwrap();
    assert!(
        header.manifest.len() > 1 << 20,
        "this manifest ({} bytes) is over the old 1 MiB cap",
        header.manifest.len()
    );
    let approved = w.approve(&raw, &["facility"]);
    let mut tablet = w.open_tablet("tablet");
    let out = tablet
        .install(&mut berth::sync::FileSource::new(&approved))
        .unwrap();
    assert!(
        matches!(out, Outcome::Installed { files: FILES, .. }),
        "{out:?}"
    );
}

#[test]
fn a_manifest_at_every_limit_at_once_fits_and_is_accepted() {
    const CHUNK: u64 = 4 << 20;
    const TOTAL: u64 = 1 << 36; // 64 GiB
    let w = World::with_types(vec![ContentType::Music], TOTAL);
    let chunks = TOTAL / CHUNK;
    assert_eq!(chunks, 16_384);
    let per_file = TOTAL / FILES as u64;
    let files: Vec<serde_json::Value> = (0..FILES)
        .map(|i| {
            let size = if i == FILES - 1 {
                TOTAL - per_file * (FILES as u64 - 1)
            } else {
                per_file
            };
            serde_json::json!({"path": longest_path(i), "size": size, "sha256": "ab".repeat(32)})
        })
        .collect();
    let created = t0().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let expires =
        (t0() + chrono::Duration::days(30)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let manifest = serde_json::json!({
        "bundle_id": "acme.max", "version": u64::MAX, "content_type": "music",
        "vendor": "acme", "title": "T".repeat(200), "tablet_model": "any",
        "created": created, "expires": expires,
        "chunk_size": CHUNK, "total_size": TOTAL,
        "chunks": vec!["cd".repeat(32); chunks as usize],
        "files": files,
    });
    let crafted = w.craft(&manifest, &[]);
    let (header, hlen) = berth::bundle::RawHeader::parse(&crafted).unwrap();
    assert!(header.manifest.len() <= MAX_MANIFEST_ENVELOPE_BYTES);
    assert_eq!(hlen, crafted.len(), "header only: no payload follows");
    let mut tablet = w.open_tablet("tablet");
    // Every header check passes; the install stops only for want of bytes.
    let err = tablet.install(&mut MemSource::new(crafted)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Truncated {
                got: 0,
                expected: TOTAL
            }
        ),
        "{err}"
    );
}
