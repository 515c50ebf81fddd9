//! Content end to end on a real dock: a vendor uploads a course, a book
//! and an album; facility IT approves them; tablets sync and install them;
//! a person passes the quiz and gets a certificate the facility verifies
//! offline; music entitlements follow the person to a new tablet; a
//! withdrawn approval removes content but keeps records.

use std::path::{Path, PathBuf};
use std::process::Command;

use berth::domain::ContentType;
use berth::domain::content::EntitledItem;
use berth::domain::people::PersonId;
use berth::sync::client;
use berth::tablet::Completed;

use crate::helpers::*;
use crate::sync::{DockWorld, maria};

fn demo(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/demo")
        .join(sub)
}

/// Pack a content tree (checked against its format first), upload it to
/// the dock as the vendor, and approve it there for unit b-east.
fn ship(dw: &DockWorld, src: &Path, id: &str, ct: ContentType) {
    assert!(berth::content::validate(src, ct).is_empty());
    let raw =
        dw.w.pack(src, &dw.w.spec(id, 1, ct), &format!("{id}.berth"));
    let root =
        berth::trust::TrustedRoot::bootstrap(&std::fs::read(dw.w.root_json()).unwrap()).unwrap();
    let vendor = berth::trust::SigningKey::load(&dw.w.path("vendor.pk8")).unwrap();
    client::upload_bundle(&dw.addr, vendor, root, &raw).unwrap();
    dw.dock()
        .approve_bundle(id, &["unit:b-east".parse().unwrap()])
        .unwrap();
}

fn grant(dw: &DockWorld, person: &str, item: &str) {
    let (env, _) =
        dw.w.facility
            .sign_entitlement(
                PersonId::parse(person).unwrap(),
                EntitledItem::parse(item).unwrap(),
                t0(),
            )
            .unwrap();
    dw.dock().publish(&env).unwrap();
}

#[test]
fn a_course_book_and_album_travel_from_vendor_to_person() {
    let dw = DockWorld::for_content();
    ship(&dw, &demo("course"), "acme.reading", ContentType::Education);
    ship(&dw, &demo("books"), "acme.books", ContentType::Books);
    ship(&dw, &demo("music"), "acme.music", ContentType::Music);
    grant(&dw, "A12345", "album:berth-open-air-0001");
    // Enrolment syncs once: the three bundles arrive with it.
    let t = dw.tablet("tab-1");
    assert_eq!(t.lock().unwrap().installed().unwrap().len(), 3);
    assert_eq!(dw.sync(&t).unwrap().bundles_installed, 0, "installed once");
    let s = maria(&t);

    // Catalogue, and accent-insensitive search both ways.
    {
        let mut tab = t.lock().unwrap();
        assert_eq!(tab.library().courses(&s).unwrap().len(), 1);
        assert_eq!(tab.library().books(&s).unwrap()[0].title, "Aesop’s Fables");
        let mut hits = |q: &str, kinds: &[&str]| -> Vec<String> {
            tab.library()
                .search(&s, q, kinds, None)
                .unwrap()
                .into_iter()
                .map(|r| r.item)
                .collect()
        };
        assert!(
            hits("lectura basica", &["course"])
                .iter()
                .any(|i| i.starts_with("course:"))
        );
        assert!(hits("xilófono", &[]).is_empty(), "nothing says xilófono");
        assert!(
            !hits("leccion", &["course"]).is_empty(),
            "leccion finds Lecciones"
        );
        assert!(
            !hits("sonidos", &["lesson"]).is_empty(),
            "Spanish lesson text is indexed"
        );
        assert!(
            !hits("fabulas", &["book"]).is_empty(),
            "fabulas finds Fábulas"
        );
        assert_eq!(
            hits("musica OR x", &[]).len(),
            0,
            "typed words are never query syntax"
        );
        let tracks = tab.library().tracks(&s).unwrap();
        assert_eq!(tracks.len(), 3);
        assert!(tracks.iter().all(|t| t.playable), "María owns the album");
        // The Music page's paged list: pages of two, the same tracks in
        // the same order, counted and grouped by artist by the store.
        let paged: Vec<_> = [0, 2]
            .iter()
            .flat_map(|&o| tab.library().tracks_page(&s, None, o, 2).unwrap())
            .collect();
        assert_eq!(paged, tracks);
        assert_eq!(tab.library().track_count(&s, None).unwrap(), 3);
        let artist = tracks[0].artist.clone();
        let of_artist = tracks.iter().filter(|t| t.artist == artist).count();
        assert_eq!(
            tab.library().track_count(&s, Some(&artist)).unwrap(),
            of_artist
        );
        assert_eq!(tab.library().track_count(&s, Some("nobody")).unwrap(), 0);
        let artists = tab.library().artists(&s).unwrap();
        assert_eq!(artists.iter().map(|a| a.1 as usize).sum::<usize>(), 3);
        assert!(artists.contains(&(artist, of_artist as u32)));
    }

    // The course: read both lessons, pass the quiz; the certificate is
    // signed by this tablet.
    let course = t.lock().unwrap().library().courses(&s).unwrap()[0]
        .item
        .clone();
    let mut tab = t.lock().unwrap();
    assert!(matches!(
        tab.library().complete_lesson(&s, &course, 0).unwrap(),
        Completed::Step
    ));
    let view = tab.library().course(&s, &course).unwrap();
    assert_eq!(
        view.resume.as_deref(),
        Some("lesson:1"),
        "the first step not done"
    );
    tab.library().lesson(&s, &course, 0).unwrap();
    assert_eq!(
        tab.library().course(&s, &course).unwrap().resume.as_deref(),
        Some("lesson:1"),
        "a done lesson read again: Continue goes on to the next step"
    );
    tab.library().lesson(&s, &course, 1).unwrap();
    assert_eq!(
        tab.library().course(&s, &course).unwrap().resume.as_deref(),
        Some("lesson:1"),
        "resume where she left off"
    );
    assert!(matches!(
        tab.library().complete_lesson(&s, &course, 1).unwrap(),
        Completed::Step
    ));
    let (fail, _) = tab
        .library()
        .submit_quiz(&s, &course, 0, &[vec![0], vec![1], vec![2]])
        .unwrap();
    assert!(!fail.passed);
    let (pass, done) = tab
        .library()
        .submit_quiz(&s, &course, 0, &[vec![1], vec![0], vec![1, 0]])
        .unwrap();
    assert!(pass.passed && pass.correct == 3, "{pass:?}");
    let Completed::Certified(cert) = done else {
        panic!("no certificate: {done:?}")
    };
    assert_eq!(cert.person.as_str(), "A12345");
    assert_eq!(cert.course, "reading-basics");
    assert_eq!(cert.score_percent, 100);
    assert_eq!(cert.tablet, tab.device_public_key());
    assert_eq!(tab.library().certificates(&s).unwrap().len(), 1);
    // Her certificate's page shows a check code for the signed file.
    let card = tab.library().certificate_cards(&s).unwrap().remove(0);
    assert_eq!(card.doc, cert);
    assert!(!card.uploaded, "not at the dock yet");
    drop(tab);

    // It reaches the dock at the next sync, once.
    assert_eq!(dw.sync(&t).unwrap().certificates_sent, 1);
    assert_eq!(dw.sync(&t).unwrap().certificates_sent, 0);
    let at_dock = dw.dock().certificates().unwrap();
    assert_eq!(at_dock.len(), 1);

    // Facility IT verifies the exported file offline, and a changed byte
    // is refused.
    let file = dw.w.path("cert.json");
    std::fs::write(&file, &at_dock[0].4).unwrap();
    let verify_with = |f: &Path, extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_berth-facility"))
            .args(["certificate", "verify"])
            .arg(f)
            .args(extra)
            .arg("--dir")
            .arg(dw.w.path("facility"))
            .arg("--data")
            .arg(&dw.data)
            .output()
            .unwrap()
    };
    let verify = |f: &Path| verify_with(f, &[]);
    let ok = verify_with(&file, &["--code", &card.code.to_lowercase()]);
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{out} {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        out.contains("María González") && out.contains("reading-basics") && out.contains("100%"),
        "{out}"
    );
    assert!(out.contains("signed by tablet tab-1"), "{out}");
    assert!(out.contains(&format!("code     {}", card.code)), "{out}");
    // The code from another certificate's page is refused.
    let other = verify_with(&file, &["--code", "0000-0000-0000"]);
    let err = String::from_utf8_lossy(&other.stderr);
    assert!(!other.status.success());
    assert!(
        err.contains("is not the certificate that was shown") && err.contains(&card.code),
        "{err}"
    );
    let mut bytes = at_dock[0].4.clone();
    let i = bytes.len() / 2;
    bytes[i] ^= 0x20;
    let bad = dw.w.path("bad-cert.json");
    std::fs::write(&bad, bytes).unwrap();
    let refused = verify(&bad);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not a valid certificate"));

    // Withdrawing the course removes it at the next sync; her progress
    // and certificate stay, and come back with the course.
    dw.dock().withdraw_bundle("acme.reading").unwrap();
    let sum = dw.sync(&t).unwrap();
    assert_eq!(sum.bundles_removed, 1, "{sum:?}");
    {
        let mut tab = t.lock().unwrap();
        assert!(tab.library().courses(&s).unwrap().is_empty());
        assert!(
            tab.library()
                .search(&s, "sounds", &[], None)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            tab.library().certificates(&s).unwrap().len(),
            1,
            "the certificate stays"
        );
        assert_eq!(
            tab.library().books(&s).unwrap().len(),
            1,
            "other bundles stay"
        );
    }
    dw.dock()
        .approve_bundle("acme.reading", &["unit:b-east".parse().unwrap()])
        .unwrap();
    dw.sync(&t).unwrap();
    let mut tab = t.lock().unwrap();
    let back = tab.library().courses(&s).unwrap();
    assert_eq!(back.len(), 1);
    assert!(back[0].certified && back[0].done == 2, "{:?}", back[0]);
}

#[test]
fn entitlements_follow_the_person_to_a_new_empty_tablet() {
    let dw = DockWorld::for_content();
    ship(&dw, &demo("music"), "acme.music", ContentType::Music);
    let first = dw.tablet("tab-1");
    let s = maria(&first);
    assert!(
        first
            .lock()
            .unwrap()
            .library()
            .tracks(&s)
            .unwrap()
            .iter()
            .all(|t| !t.playable),
        "nothing bought yet"
    );
    grant(&dw, "A12345", "track:berth-oa-02");
    dw.sync(&first).unwrap();
    let playable: Vec<String> = first
        .lock()
        .unwrap()
        .library()
        .tracks(&s)
        .unwrap()
        .into_iter()
        .filter(|t| t.playable)
        .map(|t| t.ref_id)
        .collect();
    assert_eq!(playable, vec!["berth-oa-02"]);

    // The tablet is lost. A new, empty one is enrolled; its first sync
    // brings the music and the receipt.
    drop(first);
    let second = dw.tablet("tab-2");
    let s2 = maria(&second);
    let mut tab = second.lock().unwrap();
    assert_eq!(
        tab.library().entitlements(&s2).unwrap(),
        vec!["track:berth-oa-02"]
    );
    let t = tab
        .library()
        .track_by_ref(&s2, "berth-oa-02")
        .unwrap()
        .unwrap();
    assert!(t.playable);
    assert!(tab.library().track_file(&s2, &t.item).unwrap().is_file());
    let other = tab
        .library()
        .track_by_ref(&s2, "berth-oa-01")
        .unwrap()
        .unwrap();
    assert!(
        tab.library().track_file(&s2, &other.item).is_err(),
        "an unbought track does not play"
    );
}

#[test]
fn a_receipt_for_someone_else_or_forged_is_refused() {
    let dw = DockWorld::for_content();
    let t = dw.tablet("tab-1");
    let s = maria(&t);
    // Signed by the vendor key instead of the facility's approval role.
    let doc = berth::domain::content::EntitlementDoc {
        facility: "test-facility".parse().unwrap(),
        id: "forged".into(),
        person: PersonId::parse("A12345").unwrap(),
        item: EntitledItem::parse("album:x").unwrap(),
        issued: t0(),
    };
    let vendor = berth::trust::SigningKey::load(&dw.w.path("vendor.pk8")).unwrap();
    let forged = berth::trust::signed::sign(&vendor, berth::trust::payload_type::ENTITLEMENT, &doc);
    assert!(dw.dock().publish(&forged).is_err(), "the dock refuses it");
    assert!(
        t.lock()
            .unwrap()
            .library()
            .accept_entitlement(&forged)
            .is_err(),
        "so does the tablet"
    );
    assert!(
        t.lock()
            .unwrap()
            .library()
            .entitlements(&s)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn malformed_content_that_arrives_is_skipped_and_logged_never_a_crash() {
    let dw = DockWorld::for_content();
    // A vendor that skipped validation: a broken EPUB and a broken track
    // beside good ones. The bundle is signed and approved, so it installs.
    let src = dw.w.path("bad-music");
    std::fs::create_dir_all(&src).unwrap();
    for f in [
        "album.json",
        "cover.png",
        "01-ode-to-joy.ogg",
        "03-amazing-grace.mp3",
    ] {
        std::fs::copy(demo("music").join(f), src.join(f)).unwrap();
    }
    std::fs::write(src.join("02-twinkle.flac"), b"fLaC but not really").unwrap();
    let raw = dw.w.pack(
        &src,
        &dw.w.spec("acme.bad", 1, ContentType::Music),
        "bad.berth",
    );
    let approved = dw.w.approve(&raw, &["facility"]);
    let books = dw.w.path("bad-books");
    std::fs::create_dir_all(&books).unwrap();
    std::fs::copy(demo("books/books.json"), books.join("books.json")).unwrap();
    std::fs::write(books.join("aesop-fables.epub"), b"PK\x03\x04 broken").unwrap();
    let rawb = dw.w.pack(
        &books,
        &dw.w.spec("acme.badbooks", 1, ContentType::Books),
        "badb.berth",
    );
    let approvedb = dw.w.approve(&rawb, &["facility"]);

    let tablet = dw.tablet("tab-x");
    let s = maria(&tablet);
    for b in [&approved, &approvedb] {
        let out = tablet
            .lock()
            .unwrap()
            .install(&mut berth::sync::FileSource::new(b))
            .unwrap();
        assert!(installed(&out));
    }
    let mut tab = tablet.lock().unwrap();
    let skipped = tab.people().audit_of_kind("content-skipped").unwrap();
    assert!(
        skipped.iter().any(|e| e.detail.contains("02-twinkle.flac")),
        "{skipped:?}"
    );
    assert!(
        skipped
            .iter()
            .any(|e| e.detail.contains("aesop-fables.epub")),
        "{skipped:?}"
    );
    // The good tracks show; the broken book and track do not.
    let titles: Vec<String> = tab
        .library()
        .tracks(&s)
        .unwrap()
        .into_iter()
        .map(|t| t.title)
        .collect();
    assert_eq!(titles, vec!["Ode to Joy", "Amazing Grace"]);
    assert!(tab.library().books(&s).unwrap().is_empty());
    // The decoder given the broken file directly returns an error.
    let dir = tab.content_path(
        &tab.installed()
            .unwrap()
            .iter()
            .find(|b| b.bundle_id == "acme.bad")
            .unwrap()
            .manifest_sha256,
    );
    assert!(berth::content::audio::probe(&dir.join("02-twinkle.flac")).is_err());
}

#[test]
fn a_track_shorter_than_its_listing_ends_with_its_bar_full() {
    use berth::player::{NullSink, Player};
    let track =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/music/02-twinkle.flac");
    let p = Player::new(Box::new(NullSink::new(false)));
    // Listed at ten minutes; it holds seconds.
    p.load("t", &track, 0, 600_000, true);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while p.status().ended == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the track never ended"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let st = p.status();
    assert!(st.position_ms > 1_000 && st.position_ms < 600_000, "{st:?}");
    assert_eq!(st.duration_ms, st.position_ms, "the bar ends full: {st:?}");
}

/// An output that fails: at `start`, or after some writes.
struct Failing {
    start_fails: bool,
    writes_left: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl berth::player::Sink for Failing {
    fn start(&mut self, _: u32, _: u16) -> std::io::Result<()> {
        if self.start_fails {
            return Err(std::io::Error::other("no such device"));
        }
        Ok(())
    }
    fn write(&mut self, _: &[f32]) -> std::io::Result<()> {
        if self
            .writes_left
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst)
            <= 0
        {
            return Err(std::io::Error::other("the device took no samples"));
        }
        Ok(())
    }
}

fn wait_for(p: &berth::player::Player, what: &str, f: impl Fn(&berth::player::Status) -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !f(&p.status()) {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: {:?}",
            p.status()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn an_output_that_stops_taking_samples_stops_the_player_and_says_why() {
    use berth::player::{PlayError, Player};
    let track =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/music/02-twinkle.flac");
    let left = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(20));
    let p = Player::new(Box::new(Failing {
        start_fails: false,
        writes_left: left.clone(),
    }));
    p.load("t", &track, 0, 7_000, true);
    wait_for(&p, "the output's failure", |s| s.error.is_some());
    let st = p.status();
    assert!(
        matches!(st.error, Some(PlayError::Output(ref e)) if e.contains("no samples")),
        "{st:?}"
    );
    assert!(
        !st.playing,
        "a stopped output does not show as playing: {st:?}"
    );
    assert_eq!(st.ended, 0, "the track did not end; the queue stays on it");
    assert!(st.position_ms > 0 && st.position_ms < 7_000, "{st:?}");
    // Played again (the output is back): it plays on, with no error.
    left.store(1_000_000, std::sync::atomic::Ordering::SeqCst);
    p.load("t", &track, st.position_ms, 7_000, true);
    wait_for(&p, "the end of the track", |s| s.ended == 1);
    assert_eq!(p.status().error, None);

    // An output that cannot open: the load says so, and nothing ends.
    let q = Player::new(Box::new(Failing {
        start_fails: true,
        writes_left: left,
    }));
    q.load("t", &track, 0, 7_000, true);
    wait_for(&q, "the failed open", |s| s.error.is_some());
    let st = q.status();
    assert!(matches!(st.error, Some(PlayError::Output(_))), "{st:?}");
    assert!(!st.playing);
    assert_eq!(st.ended, 0);
}

#[test]
fn a_track_that_will_not_decode_is_passed_over_and_says_why() {
    use berth::player::{NullSink, PlayError, Player};
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.flac");
    std::fs::write(&bad, b"fLaC this is not a stream").unwrap();
    let p = Player::new(Box::new(NullSink::new(false)));
    p.load("t", &bad, 0, 7_000, true);
    wait_for(&p, "the decode failure", |s| s.error.is_some());
    let st = p.status();
    assert!(matches!(st.error, Some(PlayError::Track(_))), "{st:?}");
    assert!(!st.playing);
    assert_eq!(st.ended, 1, "the controller moves on as at an end");
}

#[test]
fn a_grant_names_music_the_dock_carries_or_says_force() {
    let dw = DockWorld::for_content();
    ship(&dw, &demo("music"), "acme.music", ContentType::Music);
    let album: serde_json::Value =
        serde_json::from_slice(&std::fs::read(demo("music/album.json")).unwrap()).unwrap();
    let album = format!("album:{}", album["id"].as_str().unwrap());
    let carried = dw.dock().carried_music().unwrap();
    assert!(carried.contains(&album), "{carried:?}");
    let grant_cli = |item: &str, force: bool| {
        let mut c = std::process::Command::new(
            Path::new(env!("CARGO_BIN_EXE_berth"))
                .parent()
                .unwrap()
                .join("berth-facility"),
        );
        c.args([
            "entitlement",
            "grant",
            "--person",
            "A12345",
            "--item",
            item,
            "--dir",
        ])
        .arg(dw.w.path("facility"))
        .arg("--data")
        .arg(&dw.data);
        if force {
            c.arg("--force");
        }
        let out = c.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (ok, err) = grant_cli(&album, false);
    assert!(ok, "{err}");
    let (ok, err) = grant_cli("album:9999999999999", false);
    assert!(!ok);
    assert!(
        err.contains("no approved music bundle") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(dw.dock().entitlements_of("A12345").unwrap().len(), 1);
    let (ok, err) = grant_cli("album:9999999999999", true);
    assert!(ok, "{err}");
    assert_eq!(dw.dock().entitlements_of("A12345").unwrap().len(), 2);
}

/// A tablet upgraded from schema 7 (the catalogue keyed by text, its index
/// holding the text) finds its content again at the first start: migration
/// 8 empties the derived catalogue and the start-up indexing rebuilds it.
#[test]
fn an_upgraded_tablet_rebuilds_its_catalogue_and_finds_the_same_items() {
    use berth::demo::{DemoPaths, tablet_options};
    use berth::tablet::{LoginOutcome, Tablet};
    let dir = tempfile::tempdir().unwrap();
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
    let start = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(18, 0, 0)
        .unwrap()
        .and_utc();
    let clock = || Box::new(berth::device::clock::ManualClock::new(start));
    berth::demo::run_at(dir.path(), &assets, &mut std::io::sink(), start, clock()).unwrap();
    let p = DemoPaths::new(dir.path());
    let open = || {
        Tablet::open(
            berth::install::DataDir::new(p.tablet.clone()),
            tablet_options(&p),
            clock(),
        )
        .unwrap()
        .0
    };
    let hits = |t: &mut Tablet, s: &berth::tablet::Session| -> Vec<String> {
        ["fabulas", "leccion", "open air"]
            .iter()
            .flat_map(|q| t.library().search(s, q, &[], None).unwrap())
            .map(|r| r.item)
            .collect()
    };
    let mut t = open();
    let s = match t.people().login("A12345", "731904").unwrap() {
        LoginOutcome::SetPin(ticket) => t.people().set_pin(ticket, "4821").unwrap(),
        LoginOutcome::Session(s) => s,
    };
    let before = hits(&mut t, &s);
    assert!(before.len() >= 3, "the demo content is found: {before:?}");
    drop(t);

    // Put the catalogue back as schema 7 had it, empty, as of version 7
    // (and without the tables of later schemas).
    let db = rusqlite::Connection::open(p.tablet.join("berth.sqlite")).unwrap();
    db.execute_batch(
        "DROP TABLE contact_requests; DROP TABLE catalogue_fts; DROP TABLE catalogue_title_fts; DROP TABLE catalogue;
         CREATE TABLE catalogue (item TEXT PRIMARY KEY, kind TEXT NOT NULL, ref TEXT NOT NULL,
           bundle_id TEXT NOT NULL, manifest TEXT NOT NULL, parent TEXT,
           position INTEGER NOT NULL DEFAULT 0, title TEXT NOT NULL, title_es TEXT,
           subtitle TEXT NOT NULL DEFAULT '', subject TEXT NOT NULL DEFAULT '',
           path TEXT NOT NULL DEFAULT '', extra TEXT NOT NULL DEFAULT '{}') STRICT;
         CREATE VIRTUAL TABLE catalogue_fts USING fts5 (item UNINDEXED, title, body,
           tokenize = 'unicode61 remove_diacritics 2');
         PRAGMA user_version = 7;",
    )
    .unwrap();
    drop(db);

    let mut t = open();
    let s = match t.people().login("A12345", "4821").unwrap() {
        LoginOutcome::Session(s) => s,
        LoginOutcome::SetPin(_) => panic!("the PIN survives the upgrade"),
    };
    let mut after = hits(&mut t, &s);
    let mut before = before;
    before.sort();
    after.sort();
    assert_eq!(after, before);
}
