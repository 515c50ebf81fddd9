//! The bundle rows of the threat table in shared/DESIGN.md, one test each,
//! named for the property it proves.

use berth::domain::ContentType;
use berth::install::{Error, Outcome};
use berth::sync::FileSource;
use berth::trust::{Envelope, SigningKey, TrustedRoot, payload_type};
use chrono::Duration;

use crate::helpers::*;
use berth::domain::Error as RuleError;
use berth::install::Error as InstallError;
use berth::trust::Error as TrustError;

/// The rule an install broke, wherever the error carries it.
fn rule_of(e: &InstallError) -> Option<&RuleError> {
    match e {
        InstallError::Rule(r) | InstallError::Trust(TrustError::Rule(r)) => Some(r),
        _ => None,
    }
}

/// The bundle's bytes with its header edited.
fn with_header(bytes: &[u8], edit: impl FnOnce(&mut berth::bundle::RawHeader)) -> Vec<u8> {
    let (mut header, hlen) = berth::bundle::RawHeader::parse(bytes).unwrap();
    edit(&mut header);
    let mut out = Vec::new();
    header.write_to(&mut out).unwrap();
    out.extend_from_slice(&bytes[hlen..]);
    out
}

/// Install a vendor bundle with a facility approval forced onto it, as if
/// facility IT had been fooled; returns the tablet and the refusal.
fn refusal_with_forced_approval(
    w: &World,
    raw: &std::path::Path,
) -> (berth::tablet::Tablet, Error) {
    let bytes = std::fs::read(raw).unwrap();
    let crafted = w.craft(&manifest_json(&bytes), &bytes[header_len(&bytes)..]);
    let mut tablet = w.open_tablet("tablet");
    let err = tablet.install(&mut MemSource::new(crafted)).unwrap_err();
    (tablet, err)
}

fn assert_store_empty(tablet: &berth::tablet::Tablet) {
    assert!(
        tablet.installed().unwrap().is_empty(),
        "nothing may be installed"
    );
    assert!(
        tree(&tablet.data().content_store()).is_empty(),
        "store must be empty"
    );
}

#[test]
fn valid_vendor_bundle_with_approval_installs_with_matching_files_and_one_record() {
    let w = World::new();
    let src = w.source("src", 7, &[3000, 0, 1024, 5]);
    let raw = w.pack(
        &src,
        &w.spec("acme.course", 1, ContentType::Education),
        "b.berth",
    );
    let approved = w.approve(&raw, &["facility"]);
    let mut tablet = w.open_tablet("tablet");
    let out = tablet.install(&mut FileSource::new(&approved)).unwrap();
    let Outcome::Installed {
        manifest_sha256,
        files,
        ..
    } = out
    else {
        panic!("{out:?}")
    };
    assert_eq!(files, 4);
    assert_eq!(tree(&tablet.content_path(&manifest_sha256)), tree(&src));
    let rows = tablet.installed().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].bundle_id, "acme.course");
    assert_eq!(rows[0].title, "Título acme.course");
    // Installing the same bundle again changes nothing.
    let again = tablet.install(&mut FileSource::new(&approved)).unwrap();
    assert!(matches!(again, Outcome::AlreadyCurrent { .. }));
    assert_eq!(tablet.installed().unwrap().len(), 1);
}

#[test]
fn vendor_signature_without_facility_approval_is_refused_and_store_unchanged() {
    let w = World::new();
    let src = w.source("src", 1, &[100]);
    let raw = w.pack(
        &src,
        &w.spec("acme.x", 1, ContentType::Education),
        "raw.berth",
    );
    let mut tablet = w.open_tablet("tablet");
    let err = tablet.install(&mut FileSource::new(&raw)).unwrap_err();
    assert!(
        err.to_string().contains("no valid facility approval"),
        "{err}"
    );
    assert_store_empty(&tablet);
    assert_eq!(
        tablet
            .people()
            .audit_of_kind("bundle-refused")
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn approval_for_other_groups_is_refused() {
    let w = World::new();
    let src = w.source("src", 1, &[100]);
    let raw = w.pack(
        &src,
        &w.spec("acme.x", 1, ContentType::Education),
        "raw.berth",
    );
    let approved = w.approve(&raw, &["unit:b-east"]);
    let mut tablet = w.open_tablet("tablet");
    let err = tablet.install(&mut FileSource::new(&approved)).unwrap_err();
    assert!(err.to_string().contains("unit:b-east"), "{err}");
    assert_store_empty(&tablet);
}

#[test]
fn vendor_signing_outside_its_content_types_is_refused() {
    let w = World::with_types(vec![ContentType::Music], 1 << 20);
    let src = w.source("src", 1, &[100]);
    let raw = w.pack(
        &src,
        &w.spec("acme.x", 1, ContentType::Education),
        "raw.berth",
    );
    // The facility will not approve it either.
    let err = w
        .facility
        .approve(
            &raw,
            vec!["facility".parse().unwrap()],
            &w.path("a.berth"),
            t0(),
        )
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("not delegated content type education"),
        "{err}"
    );
    // And a tablet refuses it even with an approval forced onto it.
    let (tablet, err) = refusal_with_forced_approval(&w, &raw);
    assert!(
        err.to_string().contains("not delegated content type"),
        "{err}"
    );
    assert_store_empty(&tablet);
}

#[test]
fn vendor_exceeding_its_delegated_size_is_refused() {
    let w = World::with_types(vec![ContentType::Education], 2000);
    let src = w.source("src", 1, &[1500, 1500]);
    let raw = w.pack(
        &src,
        &w.spec("acme.x", 1, ContentType::Education),
        "raw.berth",
    );
    let (tablet, err) = refusal_with_forced_approval(&w, &raw);
    assert!(err.to_string().contains("publish at most 2000"), "{err}");
    assert_store_empty(&tablet);
}

#[test]
fn threshold_met_by_one_key_counted_twice_is_refused() {
    let w = World::new();
    // Root needs 2 of 3. Sign a root with one root key, twice.
    let root_bytes = std::fs::read(w.root_json()).unwrap();
    let root = TrustedRoot::bootstrap(&root_bytes).unwrap();
    let payload = serde_json::to_vec(root.doc()).unwrap();
    let k1 = w.facility.key("root-1").unwrap();
    let mut env = Envelope::sign(payload_type::ROOT, payload, &[&k1]);
    env.add_signature(&k1);
    let err = TrustedRoot::bootstrap(&env.to_bytes()).unwrap_err();
    assert!(
        err.to_string()
            .contains("1 valid signature(s) from the root role, 2 needed"),
        "{err}"
    );
}

#[test]
fn bit_flip_anywhere_is_refused_and_no_bad_byte_is_written() {
    let w = World::new();
    let approved = w.bundle("acme.flip", 1, 3, &[2500, 700]);
    let good = std::fs::read(&approved).unwrap();
    let hlen = header_len(&good);
    let mut tablet = w.open_tablet("tablet");
    let mut refused = 0;
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x01;
        let err = tablet
            .install(&mut MemSource::new(bad))
            .expect_err(&format!("flip at byte {i} must be refused"));
        refused += 1;
        if i < hlen {
            // Header flips are caught before any staging exists.
            assert!(
                tree(&tablet.data().staging()).is_empty(),
                "flip at {i} wrote staging data: {err}"
            );
        } else {
            let chunk = ((i - hlen) / CHUNK as usize) as u64;
            assert!(
                matches!(err, Error::ChunkMismatch { index } if index == chunk),
                "flip at {i}: {err}"
            );
            let written: usize = tree(&tablet.data().staging())
                .iter()
                .filter(|(p, _)| !p.ends_with("progress"))
                .map(|(_, b)| b.len())
                .sum();
            assert!(
                written as u64 <= chunk * CHUNK as u64,
                "flip at {i}: {written} bytes staged"
            );
        }
        assert!(tablet.installed().unwrap().is_empty());
    }
    assert_eq!(refused, good.len());
    // The intact bundle still installs, resuming from verified chunks.
    assert!(installed(
        &tablet.install(&mut MemSource::new(good)).unwrap()
    ));
}

#[test]
fn wrong_payload_type_is_refused_even_when_validly_signed() {
    let w = World::new();
    let approved = w.bundle("acme.x", 1, 3, &[100]);
    let bytes = std::fs::read(&approved).unwrap();
    // Re-sign the manifest payload as an approval: right key, wrong type.
    let m = serde_json::to_vec(&manifest_json(&bytes)).unwrap();
    let out = with_header(&bytes, |h| {
        h.manifest = Envelope::sign(payload_type::APPROVAL, m, &[&w.vendor]).to_bytes()
    });
    let mut tablet = w.open_tablet("tablet");
    let err = tablet.install(&mut MemSource::new(out)).unwrap_err();
    assert!(
        matches!(
            &err,
            InstallError::Trust(TrustError::WrongPayloadType { found, .. }) if found == payload_type::APPROVAL
        ),
        "{err}"
    );
    assert_store_empty(&tablet);
}

#[test]
fn older_version_replayed_is_refused_and_current_stays() {
    let w = World::new();
    let v1 = w.bundle("acme.x", 1, 1, &[100]);
    let v2 = w.bundle("acme.x", 2, 2, &[200]);
    let mut tablet = w.open_tablet("tablet");
    tablet.install(&mut FileSource::new(&v1)).unwrap();
    let out = tablet.install(&mut FileSource::new(&v2)).unwrap();
    let Outcome::Installed {
        replaced: Some(old),
        manifest_sha256,
        ..
    } = out
    else {
        panic!()
    };
    assert!(
        !tablet.content_path(&old).exists(),
        "old version's files are removed"
    );
    let err = tablet.install(&mut FileSource::new(&v1)).unwrap_err();
    assert!(err.to_string().contains("rollback refused"), "{err}");
    let rows = tablet.installed().unwrap();
    assert_eq!((rows.len(), rows[0].version), (1, 2));
    assert!(tablet.content_path(&manifest_sha256).exists());
}

#[test]
fn same_version_with_other_content_is_refused() {
    let w = World::new();
    let a = w.bundle("acme.x", 3, 1, &[100]);
    let b = w.bundle("acme.x", 3, 2, &[100]);
    let mut tablet = w.open_tablet("tablet");
    tablet.install(&mut FileSource::new(&a)).unwrap();
    let err = tablet.install(&mut FileSource::new(&b)).unwrap_err();
    assert!(
        err.to_string()
            .contains("already installed with different content"),
        "{err}"
    );
    assert_eq!(tablet.installed().unwrap().len(), 1);
}

#[test]
fn expired_manifest_is_refused_and_old_state_kept() {
    let w = World::new();
    let v1 = w.bundle("acme.x", 1, 1, &[100]);
    let v2 = w.bundle("acme.x", 2, 2, &[100]);
    let mut tablet = w.open_tablet("tablet");
    tablet.install(&mut FileSource::new(&v1)).unwrap();
    w.clock.advance(Duration::days(31));
    let err = tablet.install(&mut FileSource::new(&v2)).unwrap_err();
    assert!(
        matches!(rule_of(&err), Some(RuleError::Expired { what, .. }) if what == "bundle acme.x version 2"),
        "{err}"
    );
    assert_eq!(tablet.installed().unwrap()[0].version, 1);
}

#[test]
fn expired_delegation_is_refused() {
    let w = World::new();
    let src = w.source("src", 1, &[100]);
    let mut spec = w.spec("acme.x", 1, ContentType::Education);
    spec.expires = t0() + Duration::days(300);
    let raw = w.pack(&src, &spec, "raw.berth");
    let approved = w.approve(&raw, &["facility"]);
    let mut tablet = w.open_tablet("tablet");
    w.clock.advance(Duration::days(101));
    let err = tablet.install(&mut FileSource::new(&approved)).unwrap_err();
    assert!(
        err.to_string()
            .contains("delegation for vendor acme expired"),
        "{err}"
    );
}

#[test]
fn expired_root_is_refused() {
    let w = World::new();
    let approved = w.bundle("acme.x", 1, 1, &[100]);
    let mut tablet = w.open_tablet("tablet");
    w.clock.advance(Duration::days(366));
    let err = tablet.install(&mut FileSource::new(&approved)).unwrap_err();
    assert!(
        matches!(rule_of(&err), Some(RuleError::Expired { what, .. }) if what == "facility root version 1"),
        "{err}"
    );
}

#[test]
fn rtc_moved_back_30_days_keeps_expiry_and_records_tamper() {
    let w = World::new();
    let approved = w.bundle("acme.x", 1, 1, &[100]);
    let mut tablet = w.open_tablet("tablet");
    w.clock.advance(Duration::days(31));
    assert!(
        tablet.install(&mut FileSource::new(&approved)).is_err(),
        "expired"
    );
    // Wind the RTC back 30 days: the bundle would look valid again.
    w.clock.set_rtc(t0() + Duration::days(1));
    let err = tablet.install(&mut FileSource::new(&approved)).unwrap_err();
    assert!(
        matches!(rule_of(&err), Some(RuleError::Expired { .. })),
        "{err}"
    );
    assert!(tablet.installed().unwrap().is_empty());
    let tamper = tablet.people().audit_of_kind("tamper").unwrap();
    assert!(!tamper.is_empty(), "RTC rollback must be recorded");
    // A reboot does not help either: the saved floor holds.
    drop(tablet);
    w.clock.reboot("boot-2");
    let mut tablet = w.open_tablet("tablet");
    assert!(tablet.install(&mut FileSource::new(&approved)).is_err());
    assert!(tablet.trusted_now().unwrap() >= t0() + Duration::days(31));
}

#[test]
fn policy_key_cannot_stand_in_for_the_approval_role() {
    let w = World::new();
    let src = w.source("src", 1, &[100]);
    let raw = w.pack(
        &src,
        &w.spec("acme.x", 1, ContentType::Education),
        "raw.berth",
    );
    let bytes = std::fs::read(&raw).unwrap();
    let good = w.approval_for(
        &serde_json::to_vec(&manifest_json(&bytes)).unwrap(),
        "acme.x",
        1,
    );
    let env = Envelope::from_bytes(&good).unwrap();
    let policy = w.facility.key("policy").unwrap();
    let forged = Envelope::sign(
        payload_type::APPROVAL,
        env.unverified_payload_for_display().to_vec(),
        &[&policy],
    );
    let out = with_header(&bytes, |h| h.approvals = vec![forged.to_bytes()]);
    let mut tablet = w.open_tablet("tablet");
    let err = tablet.install(&mut MemSource::new(out)).unwrap_err();
    // The approval check wraps the threshold failure in its refusal text.
    assert!(err.to_string().contains("approval role"), "{err}");
}

#[test]
fn target_path_safety_refuses_traversal_and_writes_nothing_outside_staging() {
    let w = World::new();
    let approved = w.bundle("acme.p", 1, 1, &[10]);
    let bytes = std::fs::read(&approved).unwrap();
    let payload = bytes[header_len(&bytes)..].to_vec();
    let mut tablet = w.open_tablet("tablet");
    let deep = "a/b/c/d/e/f/g/h/i";
    for bad in [
        "../x",
        "/etc/x",
        "a/../../b",
        "a\\b",
        "a\u{0}b",
        deep,
        "caf\u{e9}",
    ] {
        let mut m = manifest_json(&bytes);
        m["files"][0]["path"] = serde_json::Value::String(bad.into());
        let err = tablet
            .install(&mut MemSource::new(w.craft(&m, &payload)))
            .unwrap_err();
        // Caught while the signed manifest is parsed: serde carries it as text.
        assert!(err.to_string().contains("unsafe path"), "{bad:?}: {err}");
    }
    assert!(!w.path("x").exists() && !w.path("b").exists());
    assert!(tree(&tablet.data().staging()).is_empty());
    assert_store_empty(&tablet);
}

#[test]
fn envelope_over_the_cap_is_refused_before_reading_it() {
    let w = World::new();
    let approved = w.bundle("acme.x", 1, 1, &[100]);
    let mut bytes = std::fs::read(&approved).unwrap();
    // Claim a 16 MiB manifest envelope.
    bytes[12..16].copy_from_slice(&(16u32 << 20).to_le_bytes());
    let mut tablet = w.open_tablet("tablet");
    let err = tablet.install(&mut MemSource::new(bytes)).unwrap_err();
    assert!(
        err.to_string()
            .contains("manifest length is 16777216, allowed 1 to 8388608"),
        "{err}"
    );
}

#[test]
fn payload_longer_than_declared_is_refused() {
    let w = World::new();
    let approved = w.bundle("acme.x", 1, 1, &[100]);
    let mut bytes = std::fs::read(&approved).unwrap();
    bytes.extend_from_slice(b"extra");
    let mut tablet = w.open_tablet("tablet");
    let err = tablet.install(&mut MemSource::new(bytes)).unwrap_err();
    assert!(matches!(err, Error::TooLong { .. }), "{err}");
    assert!(tablet.installed().unwrap().is_empty());
}

#[test]
fn bundle_for_another_tablet_model_is_refused() {
    let w = World::new();
    let src = w.source("src", 1, &[100]);
    let mut spec = w.spec("acme.x", 1, ContentType::Education);
    spec.tablet_model = "berth-t9".parse().unwrap();
    let approved = w.approve(&w.pack(&src, &spec, "raw.berth"), &["facility"]);
    let mut tablet = w.open_tablet("tablet");
    let err = tablet.install(&mut FileSource::new(&approved)).unwrap_err();
    assert!(err.to_string().contains("tablet model berth-t9"), "{err}");
}

#[test]
fn rotated_root_is_followed_and_a_root_not_signed_by_the_old_keys_is_refused() {
    let mut w = World::new();
    let approved = w.bundle("acme.x", 1, 1, &[100]);
    let mut tablet = w.open_tablet("tablet");
    tablet.install(&mut FileSource::new(&approved)).unwrap();
    drop(tablet);
    // Two rotations: the tablet at v1 catches up to v3 through roots/2.root.json.
    let dir = w.path("facility");
    w.facility.rotate_root(t0() + Duration::days(400)).unwrap();
    w.facility.rotate_root(t0() + Duration::days(400)).unwrap();
    let (tablet, report) = berth::tablet::Tablet::open(
        w.tablet_dir("tablet"),
        berth::tablet::TabletOptions {
            trust_file: Some(w.root_json()),
            ..Default::default()
        },
        Box::new(w.clock.clone()),
    )
    .unwrap();
    assert_eq!(report.root_rotated, Some((1, 3)));
    assert_eq!(tablet.root().doc().version, 3);
    let v3 = tablet.root().clone();
    drop(tablet);
    // Old root keys were retired; their files still sign nothing valid now.
    assert!(dir.join("keys/retired/v1/root-1.pk8").exists());
    // An attacker with only fresh keys cannot make version 4.
    let mut doc = v3.doc().clone();
    doc.version = 4;
    let evil: Vec<SigningKey> = (0..3)
        .map(|i| SigningKey::from_seed(&[90 + i; 32]))
        .collect();
    doc.roles.root.keys = evil.iter().map(|k| k.public()).collect();
    let env = Envelope::sign(
        payload_type::ROOT,
        serde_json::to_vec(&doc).unwrap(),
        &evil.iter().collect::<Vec<_>>(),
    );
    let err = v3.update(&env.to_bytes()).unwrap_err();
    assert!(matches!(err, TrustError::Rotation(_)), "{err}");
    // Nor can it skip a version.
    std::fs::write(w.path("evil-root.json"), env.to_bytes()).unwrap();
    let err = berth::tablet::Tablet::open(
        w.tablet_dir("tablet"),
        berth::tablet::TabletOptions {
            trust_file: Some(w.path("evil-root.json")),
            ..Default::default()
        },
        Box::new(w.clock.clone()),
    )
    .err()
    .expect("evil root refused");
    // Refused as a rotation, or because the intermediate roots it would
    // need are not there: either way the evil root is not followed.
    assert!(
        matches!(&err, Error::Trust(TrustError::Rotation(_)))
            || matches!(&err, Error::Io { path, .. } if path.ends_with("roots/4.root.json")),
        "{err}"
    );
}

#[test]
fn root_of_another_facility_cannot_replace_the_trusted_one() {
    let w = World::new();
    let other = World::new();
    let tablet = w.open_tablet("tablet");
    drop(tablet);
    let err = berth::tablet::Tablet::open(
        w.tablet_dir("tablet"),
        berth::tablet::TabletOptions {
            trust_file: Some(other.root_json()),
            ..Default::default()
        },
        Box::new(w.clock.clone()),
    )
    .err()
    .expect("refused");
    assert!(
        err.to_string()
            .contains("differs from the version 1 this tablet trusts"),
        "{err}"
    );
}

/// A bundle whose manifest was edited after packing, approved as if
/// facility IT had been fooled: its chunk hashes are still right.
fn with_manifest_edit(
    w: &World,
    raw: &std::path::Path,
    edit: impl FnOnce(&mut serde_json::Value),
) -> Vec<u8> {
    let bytes = std::fs::read(raw).unwrap();
    let mut m = manifest_json(&bytes);
    edit(&mut m);
    w.craft(&m, &bytes[header_len(&bytes)..])
}

fn staged(tablet: &berth::tablet::Tablet) -> Vec<(String, Vec<u8>)> {
    tree(&tablet.data().staging())
}

#[test]
fn a_file_hash_that_lies_is_refused_though_every_chunk_matches() {
    let w = World::new();
    let raw = w.bundle("acme.fh", 1, 4, &[3000, 900]);
    let bad = with_manifest_edit(&w, &raw, |m| {
        m["files"][1]["sha256"] = serde_json::json!("00".repeat(32));
    });
    let mut tablet = w.open_tablet("tablet");
    let err = tablet.install(&mut MemSource::new(bad)).unwrap_err();
    assert!(
        matches!(&err, Error::FileMismatch { path } if path == &m_path(&raw, 1)),
        "{err}"
    );
    assert_store_empty(&tablet);
    assert!(
        staged(&tablet).is_empty(),
        "a content refusal leaves no staging"
    );
}

fn m_path(raw: &std::path::Path, i: usize) -> String {
    manifest_json(&std::fs::read(raw).unwrap())["files"][i]["path"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn shifted_file_sizes_are_refused() {
    let w = World::new();
    let raw = w.bundle("acme.shift", 1, 5, &[3000, 900]);
    let bad = with_manifest_edit(&w, &raw, |m| {
        let a = m["files"][0]["size"].as_u64().unwrap();
        let b = m["files"][1]["size"].as_u64().unwrap();
        m["files"][0]["size"] = serde_json::json!(a + 7);
        m["files"][1]["size"] = serde_json::json!(b - 7);
    });
    let mut tablet = w.open_tablet("tablet");
    let err = tablet.install(&mut MemSource::new(bad)).unwrap_err();
    assert!(matches!(err, Error::FileMismatch { .. }), "{err}");
    assert_store_empty(&tablet);
}

#[test]
fn trailing_bytes_are_refused_on_every_try() {
    let w = World::new();
    // A payload that ends inside its last chunk.
    let approved = w.bundle("acme.trail", 1, 6, &[CHUNK as usize * 2 + 100]);
    let mut bytes = std::fs::read(&approved).unwrap();
    bytes.push(b'!');
    let mut tablet = w.open_tablet("tablet");
    for attempt in 1..=3 {
        let err = tablet
            .install(&mut MemSource::new(bytes.clone()))
            .expect_err(&format!("attempt {attempt} must be refused"));
        assert!(
            matches!(err, Error::TooLong { .. }),
            "attempt {attempt}: {err}"
        );
    }
    assert_store_empty(&tablet);
    assert!(staged(&tablet).is_empty());
}

#[test]
fn a_cut_transfer_keeps_its_staging_and_a_chunk_refusal_does_not() {
    let w = World::new();
    let approved = w.bundle("acme.keep", 1, 7, &[CHUNK as usize * 4]);
    let good = std::fs::read(&approved).unwrap();
    let hlen = header_len(&good);
    let mut tablet = w.open_tablet("tablet");
    let cut = hlen + CHUNK as usize * 2 + 10;
    let err = tablet
        .install(&mut MemSource::cut_at(good.clone(), cut))
        .unwrap_err();
    assert!(err.resumable(), "{err}");
    assert!(
        !staged(&tablet).is_empty(),
        "a cut transfer keeps what was verified"
    );
    let mut bad = good.clone();
    bad[hlen + CHUNK as usize * 3] ^= 1;
    let err = tablet.install(&mut MemSource::new(bad)).unwrap_err();
    assert!(matches!(err, Error::ChunkMismatch { index: 3 }), "{err}");
    assert!(!err.resumable());
    assert!(
        staged(&tablet).is_empty(),
        "a refused payload leaves nothing staged"
    );
    assert!(installed(
        &tablet.install(&mut MemSource::new(good)).unwrap()
    ));
}

#[test]
fn reoffering_an_installed_bundle_checks_it_again() {
    let w = World::new();
    let approved = w.bundle("acme.again", 1, 8, &[CHUNK as usize + 300, 40]);
    let good = std::fs::read(&approved).unwrap();
    let hlen = header_len(&good);
    let mut tablet = w.open_tablet("tablet");
    assert!(installed(
        &tablet.install(&mut MemSource::new(good.clone())).unwrap()
    ));

    let mut longer = good.clone();
    longer.extend_from_slice(b"garbage");
    let err = tablet.install(&mut MemSource::new(longer)).unwrap_err();
    assert!(matches!(err, Error::TooLong { .. }), "{err}");

    let mut flipped = good.clone();
    flipped[hlen + 5] ^= 0x80;
    let err = tablet.install(&mut MemSource::new(flipped)).unwrap_err();
    assert!(matches!(err, Error::ChunkMismatch { index: 0 }), "{err}");

    let cut = good[..good.len() - 10].to_vec();
    let err = tablet.install(&mut MemSource::new(cut)).unwrap_err();
    assert!(matches!(err, Error::Truncated { .. }), "{err}");

    assert!(matches!(
        tablet.install(&mut MemSource::new(good)).unwrap(),
        Outcome::AlreadyCurrent { .. }
    ));
    assert_eq!(
        tablet.installed().unwrap().len(),
        1,
        "the installed copy stays"
    );
}

#[test]
fn an_expired_root_is_never_stored_and_leaves_a_fresh_tablet_empty() {
    let w = World::new();
    w.clock.advance(Duration::days(366));
    let dir = w.tablet_dir("fresh");
    let err = berth::tablet::Tablet::open(
        dir.clone(),
        berth::tablet::TabletOptions {
            trust_file: Some(w.root_json()),
            ..Default::default()
        },
        Box::new(w.clock.clone()),
    )
    .err()
    .expect("an expired root is refused");
    assert!(
        matches!(
            &err,
            Error::Trust(TrustError::Rule(RuleError::Expired { what, .. }))
                if what == "facility root version 1"
        ),
        "{err}"
    );
    assert!(!dir.db().exists(), "no database");
    assert!(!dir.root.join("device.pk8").exists(), "no device key");
    assert!(!dir.root.exists() || tree(&dir.root).is_empty());
}

#[test]
fn times_with_an_offset_or_a_lowercase_z_are_refused_naming_the_field() {
    let w = World::new();
    let raw = w.bundle("acme.time", 1, 9, &[100]);
    for bad in ["+01:00", "z"] {
        let crafted = with_manifest_edit(&w, &raw, |m| {
            let created = m["created"]
                .as_str()
                .unwrap()
                .trim_end_matches('Z')
                .to_string();
            m["created"] = serde_json::json!(format!("{created}{bad}"));
        });
        let mut tablet = w.open_tablet("tablet");
        let err = tablet.install(&mut MemSource::new(crafted)).unwrap_err();
        let Error::Trust(TrustError::Payload { what, why }) = &err else {
            panic!("{bad}: {err}")
        };
        assert_eq!(*what, "manifest");
        assert!(
            why.contains("field `created` must be a UTC time"),
            "{bad}: {why}"
        );
        assert_store_empty(&tablet);
    }
}

#[test]
fn a_short_file_says_it_is_short_not_that_a_transfer_was_cut() {
    let w = World::new();
    let approved = w.bundle("acme.short", 1, 10, &[CHUNK as usize * 3]);
    let bytes = std::fs::read(&approved).unwrap();
    let short = w.path("short.berth");
    std::fs::write(&short, &bytes[..bytes.len() - 100]).unwrap();
    let mut tablet = w.open_tablet("tablet");
    let err = tablet.install(&mut FileSource::new(&short)).unwrap_err();
    assert!(
        matches!(err, Error::ShortFile { got, expected } if got + 100 == expected),
        "{err}"
    );
    assert!(!err.resumable(), "running again cannot help: {err}");
    assert!(
        staged(&tablet).is_empty(),
        "a short file keeps no staging: the refusal changed nothing"
    );
    // Copied again whole, it installs.
    std::fs::write(&short, &bytes).unwrap();
    assert!(installed(
        &tablet.install(&mut FileSource::new(&short)).unwrap()
    ));
}

#[test]
fn a_file_hash_that_lies_is_refused_after_a_resume_inside_that_file() {
    let w = World::new();
    let raw = w.bundle("acme.fhr", 1, 11, &[CHUNK as usize * 3 + 50, 20]);
    let bad = with_manifest_edit(&w, &raw, |m| {
        m["files"][0]["sha256"] = serde_json::json!("11".repeat(32));
    });
    let cut = header_len(&bad) + CHUNK as usize + 10;
    let mut tablet = w.open_tablet("tablet");
    let err = tablet
        .install(&mut MemSource::cut_at(bad.clone(), cut))
        .unwrap_err();
    assert!(err.resumable(), "{err}");
    let err = tablet.install(&mut MemSource::new(bad)).unwrap_err();
    assert!(matches!(err, Error::FileMismatch { .. }), "{err}");
    assert_store_empty(&tablet);
    assert!(staged(&tablet).is_empty());
}
