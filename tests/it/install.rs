//! Streaming install: cut transfers, resume, transports.

use berth::install::{Error, Outcome};
use berth::sync::transport::directory_sources;
use proptest::prelude::*;

use crate::helpers::*;

/// Install `good` after a transfer cut at `cut` bytes; returns the offsets
/// the resumed attempt asked for and the outcome.
fn cut_then_resume(w: &World, good: &[u8], cut: usize, name: &str) -> (Vec<u64>, Outcome) {
    let mut tablet = w.open_tablet(name);
    let err = tablet
        .install(&mut MemSource::cut_at(good.to_vec(), cut))
        .expect_err("a cut transfer must not install");
    assert!(
        matches!(
            err,
            Error::Transfer { .. } | Error::Container { .. } | Error::Truncated { .. }
        ),
        "cut at {cut}: {err}"
    );
    assert!(
        tablet.installed().unwrap().is_empty(),
        "cut at {cut}: installed"
    );
    assert!(tree(&tablet.data().content_store()).is_empty());
    drop(tablet);
    // Re-open, as after a reboot, and finish.
    let mut tablet = w.open_tablet(name);
    let mut full = MemSource::new(good.to_vec());
    let out = tablet.install(&mut full).unwrap();
    assert_eq!(tablet.installed().unwrap().len(), 1);
    (full.opened_at, out)
}

#[test]
fn stream_cut_at_every_boundary_installs_nothing_and_resume_fetches_only_the_rest() {
    let w = World::new();
    let approved = w.bundle("acme.cut", 1, 9, &[2000, 1500, 300]);
    let good = std::fs::read(&approved).unwrap();
    let h = header_len(&good);
    let c = CHUNK as usize;
    let total = good.len();
    let cuts = [
        0,
        30,
        h - 1,
        h,
        h + 1,
        h + c - 1,
        h + c,
        h + c + 1,
        h + 2 * c,
        h + 3 * c - 1,
        total - 1,
    ];
    for (i, &cut) in cuts.iter().enumerate() {
        let (opened, out) = cut_then_resume(&w, &good, cut, &format!("t{i}"));
        let done = cut.saturating_sub(h) / c;
        assert_eq!(opened, vec![0, (h + done * c) as u64], "cut at {cut}");
        let Outcome::Installed {
            resumed_at_chunk, ..
        } = out
        else {
            panic!("{out:?}")
        };
        assert_eq!(resumed_at_chunk, done as u64, "cut at {cut}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]
    #[test]
    fn any_cut_point_resumes_to_identical_files(cut_frac in 0.0f64..1.0) {
        let w = World::new();
        let approved = w.bundle("acme.prop", 1, 5, &[2100, 0, 900]);
        let good = std::fs::read(&approved).unwrap();
        let cut = ((good.len() - 1) as f64 * cut_frac) as usize;
        let (_, out) = cut_then_resume(&w, &good, cut, "t");
        let Outcome::Installed { manifest_sha256, .. } = out else { panic!() };
        let tablet = w.open_tablet("t");
        let src = w.path("src-acme.prop-1-5");
        prop_assert_eq!(tree(&tablet.content_path(&manifest_sha256)), tree(&src));
    }
}

#[test]
fn usb_directory_bundle_signed_by_an_unknown_key_is_refused_through_the_same_entry_point() {
    let w = World::new();
    let stranger = World::new();
    let usb = w.path("usb");
    std::fs::create_dir_all(&usb).unwrap();
    let good = w.bundle("acme.good", 1, 1, &[100]);
    let evil = stranger.bundle("acme.evil", 1, 2, &[100]);
    std::fs::copy(&good, usb.join("a-good.berth")).unwrap();
    std::fs::copy(&evil, usb.join("b-evil.berth")).unwrap();
    std::fs::write(usb.join("notes.txt"), b"ignored").unwrap();
    let mut tablet = w.open_tablet("tablet");
    let mut results = Vec::new();
    for mut s in directory_sources(&usb).unwrap() {
        results.push(tablet.install(&mut s));
    }
    assert_eq!(results.len(), 2, "only *.berth files are sources");
    assert!(installed(results[0].as_ref().unwrap()));
    let err = results[1].as_ref().unwrap_err().to_string();
    assert!(
        err.contains("vendor delegation") && err.contains("approval role"),
        "{err}"
    );
    let rows = tablet.installed().unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| r.bundle_id.as_str())
            .collect::<Vec<_>>(),
        ["acme.good"]
    );
}

#[test]
fn staged_partial_transfer_survives_restart_and_orphans_are_removed() {
    let w = World::new();
    let approved = w.bundle("acme.orph", 1, 4, &[5000]);
    let good = std::fs::read(&approved).unwrap();
    let h = header_len(&good);
    let mut tablet = w.open_tablet("t");
    let _ = tablet.install(&mut MemSource::cut_at(
        good.clone(),
        h + 2 * CHUNK as usize + 10,
    ));
    let data = tablet.data().clone();
    drop(tablet);
    // Plant leftovers a crash could leave: an unreferenced store dir and a
    // staging dir with no durable progress.
    std::fs::create_dir_all(data.content_store().join("deadbeef/x")).unwrap();
    std::fs::create_dir_all(data.staging().join("cafe/files")).unwrap();
    let (_, report) = berth::tablet::Tablet::open(
        data.clone(),
        berth::tablet::TabletOptions {
            trust_file: Some(w.root_json()),
            ..Default::default()
        },
        Box::new(w.clock.clone()),
    )
    .unwrap();
    let removed: Vec<String> = report
        .orphans_removed
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    assert!(
        removed.contains(&"deadbeef".to_string()) && removed.contains(&"cafe".to_string()),
        "{removed:?}"
    );
    assert_eq!(
        tree(&data.staging())
            .iter()
            .filter(|(p, _)| p.ends_with("progress"))
            .count(),
        1,
        "the resumable transfer is kept"
    );
}

#[test]
fn second_process_on_the_same_data_dir_is_refused_while_the_first_holds_it() {
    let w = World::new();
    let _first = w.open_tablet("t");
    let err = berth::tablet::Tablet::open(
        w.tablet_dir("t"),
        berth::tablet::TabletOptions {
            trust_file: Some(w.root_json()),
            ..Default::default()
        },
        Box::new(w.clock.clone()),
    )
    .err()
    .expect("the data directory is locked");
    assert!(matches!(err, Error::Busy(_)), "{err}");
}
