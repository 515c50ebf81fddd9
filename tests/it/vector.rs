//! The published test vector in docs/bundle-format.md: fixed seeds, fixed
//! times, so the bytes are reproducible. The test rebuilds the vector with
//! the library, compares it with the hex in the document, and installs the
//! document's bytes through the real installer.

use std::sync::Arc;

use berth::bundle::pack::{self, PackSpec};
use berth::device::clock::ManualClock;
use berth::domain::{
    ApprovalDoc, BundleId, ContentType, DelegationDoc, FacilityId, GroupId, RoleKeys, Roles,
    RootDoc, TabletModel, VendorId,
};
use berth::install::{DataDir, Outcome};
use berth::tablet::{Tablet, TabletOptions};
use berth::trust::{Envelope, SigningKey, payload_type};
use chrono::{DateTime, Utc};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_seed(&[seed; 32])
}

/// (root envelope, bundle bytes)
fn build_vector(dir: &std::path::Path) -> (Vec<u8>, Vec<u8>) {
    let roots = [key(1), key(2), key(3)];
    let doc = RootDoc {
        facility: FacilityId::parse("vector-facility").unwrap(),
        version: 1,
        expires: at("2030-01-01T00:00:00Z"),
        roles: Roles {
            root: RoleKeys {
                keys: roots.iter().map(|k| k.public()).collect(),
                threshold: 2,
            },
            approval: RoleKeys::single(key(4).public()),
            policy: RoleKeys::single(key(5).public()),
            roster: RoleKeys::single(key(6).public()),
            contacts: RoleKeys::single(key(7).public()),
            messaging: RoleKeys::single(key(8).public()),
            dock: RoleKeys::single(key(9).public()),
        },
    };
    let root = Envelope::sign(
        payload_type::ROOT,
        serde_json::to_vec(&doc).unwrap(),
        &[&roots[0], &roots[1]],
    )
    .to_bytes();
    let vendor = key(10);
    let delegation = DelegationDoc {
        facility: doc.facility.clone(),
        vendor: VendorId::parse("acme").unwrap(),
        key: vendor.public(),
        content_types: vec![ContentType::Education],
        max_bundle_bytes: 1 << 20,
        issued: at("2026-01-01T00:00:00Z"),
        expires: at("2029-01-01T00:00:00Z"),
    };
    let delegation = Envelope::sign(
        payload_type::DELEGATION,
        serde_json::to_vec(&delegation).unwrap(),
        &[&key(4)],
    )
    .to_bytes();
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("es")).unwrap();
    std::fs::write(src.join("hello.txt"), "Hello, Berth!\n").unwrap();
    std::fs::write(src.join("es").join("hola.txt"), "¡Hola, señora!\n").unwrap();
    let spec = PackSpec {
        bundle_id: BundleId::parse("acme.hello").unwrap(),
        version: 1,
        content_type: ContentType::Education,
        vendor: VendorId::parse("acme").unwrap(),
        title: "Hello".into(),
        tablet_model: TabletModel::parse("any").unwrap(),
        created: at("2026-01-01T00:00:00Z"),
        expires: at("2029-01-01T00:00:00Z"),
        chunk_size: 1024,
    };
    let raw = dir.join("raw.berth");
    let packed = pack::pack(&src, &spec, &vendor, &delegation, &raw).unwrap();
    let approval = ApprovalDoc {
        facility: doc.facility.clone(),
        bundle_id: spec.bundle_id.clone(),
        version: 1,
        manifest_sha256: packed.manifest_sha256,
        groups: vec![GroupId::parse("facility").unwrap()],
        approved_at: at("2026-01-02T00:00:00Z"),
    };
    let approval = Envelope::sign(
        payload_type::APPROVAL,
        serde_json::to_vec(&approval).unwrap(),
        &[&key(4)],
    )
    .to_bytes();
    let bytes = std::fs::read(&raw).unwrap();
    let (mut header, hlen) = berth::bundle::RawHeader::parse(&bytes).unwrap();
    header.approvals.push(approval);
    let mut out = Vec::new();
    header.write_to(&mut out).unwrap();
    out.extend_from_slice(&bytes[hlen..]);
    (root, out)
}

/// The hex between `<!-- vector:NAME -->` and the closing fence.
fn doc_hex(doc: &str, name: &str) -> Option<Vec<u8>> {
    let marker = format!("<!-- vector:{name} -->");
    let start = doc.find(&marker)? + marker.len();
    let rest = &doc[start..];
    let open = rest.find("```")? + 3;
    let body = &rest[open..];
    let body = &body[body.find('\n')? + 1..];
    let close = body.find("```")?;
    let hex: String = body[..close]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    hex::decode(hex).ok()
}

fn wrap(bytes: &[u8]) -> String {
    hex::encode(bytes)
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn published_test_vector_matches_the_library_and_installs() {
    let tmp = tempfile::tempdir().unwrap();
    let (root, bundle) = build_vector(tmp.path());
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/bundle-format.md"
    ))
    .unwrap();
    let (doc_root, doc_bundle) = (doc_hex(&doc, "root"), doc_hex(&doc, "bundle"));
    if doc_root.as_deref() != Some(&root[..]) || doc_bundle.as_deref() != Some(&bundle[..]) {
        let dump = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bundle-vector.txt");
        std::fs::write(
            &dump,
            format!("root:\n{}\n\nbundle:\n{}\n", wrap(&root), wrap(&bundle)),
        )
        .unwrap();
        panic!(
            "docs/bundle-format.md test vector differs from the library's output; new vector written to {}",
            dump.display()
        );
    }
    // The document's bytes install through the real installer.
    std::fs::write(tmp.path().join("root.json"), doc_root.unwrap()).unwrap();
    std::fs::write(tmp.path().join("vector.berth"), doc_bundle.unwrap()).unwrap();
    let clock = Arc::new(ManualClock::new(at("2026-06-01T00:00:00Z")));
    let (mut tablet, _) = Tablet::open(
        DataDir::new(tmp.path().join("tablet")),
        TabletOptions {
            trust_file: Some(tmp.path().join("root.json")),
            ..TabletOptions::default()
        },
        Box::new(clock),
    )
    .unwrap();
    let out = tablet
        .install(&mut berth::sync::FileSource::new(
            tmp.path().join("vector.berth"),
        ))
        .unwrap();
    let Outcome::Installed {
        manifest_sha256, ..
    } = out
    else {
        panic!("{out:?}")
    };
    let hola =
        std::fs::read_to_string(tablet.content_path(&manifest_sha256).join("es/hola.txt")).unwrap();
    assert_eq!(hola, "¡Hola, señora!\n");
}
