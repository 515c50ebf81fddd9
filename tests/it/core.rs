//! Tablet core: roster, login, policy documents, trusted clock, audit log,
//! migrations.

use std::path::{Path, PathBuf};
use std::process::Command;

use berth::domain::policy::{Feature, Reason};
use berth::tablet::{DocOutcome, LoginError, LoginOutcome, Tablet};
use chrono::{Duration, Utc};

use crate::helpers::*;
use berth::domain::login::PinRule;
use berth::tablet::{CoreError, Refusal};

fn write(w: &World, name: &str, text: &str) -> PathBuf {
    let p = w.path(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn roster_toml(version: u64, group: &str, code_a: &str) -> String {
    format!(
        r#"group = "{group}"
version = {version}

[[person]]
id = "A12345"
name = "María González"
language = "es"
unit = "unit:b-east"
code = "{code_a}"

[[person]]
id = "B20417"
name = "James Carter"
language = "en"
unit = "unit:b-east"
code = "582316"
"#
    )
}

fn signed_roster(w: &World, version: u64, group: &str, code_a: &str) -> Vec<u8> {
    let src = write(
        w,
        &format!("roster-{version}-{group}.toml"),
        &roster_toml(version, group, code_a),
    );
    w.facility.sign_roster(&src, t0()).unwrap().0
}

fn signed_policy(w: &World, name: &str, toml: &str) -> Vec<u8> {
    let src = write(w, name, toml);
    w.facility.sign_policy(&src, t0()).unwrap().0
}

/// A tablet in unit:b-east with the roster accepted.
fn unit_tablet(w: &World) -> Tablet {
    let mut t = w.open_unit_tablet("tablet");
    let r = signed_roster(w, 1, "unit:b-east", "731904");
    assert!(matches!(
        t.people().accept_document(&r).unwrap(),
        DocOutcome::Accepted { .. }
    ));
    t
}

fn enrol(t: &mut Tablet, id: &str, code: &str, pin: &str) -> berth::tablet::Session {
    let LoginOutcome::SetPin(ticket) = t.people().login(id, code).unwrap() else {
        panic!("expected first login")
    };
    t.people().set_pin(ticket, pin).unwrap()
}

#[test]
fn first_login_with_enrolment_code_sets_a_pin_and_the_code_works_once() {
    let w = World::new();
    let mut t = unit_tablet(&w);
    assert_eq!(t.people().roster().unwrap().len(), 2);
    assert!(t.people().login("A12345", "000000").is_err(), "wrong code");
    let LoginOutcome::SetPin(ticket) = t.people().login("a12345", "731904").unwrap() else {
        panic!()
    };
    assert_eq!(
        ticket.person(),
        "A12345",
        "ids match without regard to case"
    );
    let e = t.people().set_pin(ticket, "1234").unwrap_err();
    assert!(matches!(e, CoreError::Pin(PinRule::Run)), "{e}");
    let LoginOutcome::SetPin(ticket) = t.people().login("A12345", "731904").unwrap() else {
        panic!()
    };
    let s = t.people().set_pin(ticket, "4821").unwrap();
    assert_eq!((s.display_name(), s.language()), ("María González", "es"));
    t.people().logout(s).unwrap();
    // The code is spent; the PIN works.
    assert_eq!(
        t.people().login("A12345", "731904"),
        Err(LoginError::Invalid)
    );
    assert!(matches!(
        t.people().login("A12345", "4821").unwrap(),
        LoginOutcome::Session(_)
    ));
    // PIN change.
    let LoginOutcome::Session(s) = t.people().login("A12345", "4821").unwrap() else {
        panic!()
    };
    assert!(t.people().change_pin(&s, "0000", "5930").is_err());
    t.people().change_pin(&s, "4821", "5930").unwrap();
    t.people().logout(s).unwrap();
    assert!(matches!(
        t.people().login("A12345", "5930").unwrap(),
        LoginOutcome::Session(_)
    ));
    // The facility issues a new code (a forgotten PIN): the old PIN stops working.
    let r2 = signed_roster(&w, 2, "unit:b-east", "112358");
    t.people().accept_document(&r2).unwrap();
    assert_eq!(t.people().login("A12345", "5930"), Err(LoginError::Invalid));
    assert!(matches!(
        t.people().login("A12345", "112358").unwrap(),
        LoginOutcome::SetPin(_)
    ));
}

#[test]
fn wrong_pins_lock_out_then_let_back_in_after_the_backoff() {
    let w = World::new();
    let mut t = unit_tablet(&w);
    let s = enrol(&mut t, "B20417", "582316", "4821");
    t.people().logout(s).unwrap();
    assert_eq!(t.people().login("B20417", "1111"), Err(LoginError::Invalid));
    assert_eq!(t.people().login("B20417", "2222"), Err(LoginError::Invalid));
    let Err(LoginError::LockedOut { until }) = t.people().login("B20417", "3333") else {
        panic!("third failure locks")
    };
    assert_eq!(
        until - berth::device::clock::ClockSource::read(&*w.clock).rtc,
        Duration::seconds(30)
    );
    // Even the right PIN waits.
    assert!(matches!(
        t.people().login("B20417", "4821"),
        Err(LoginError::LockedOut { .. })
    ));
    w.clock.advance(Duration::seconds(31));
    assert!(matches!(
        t.people().login("B20417", "4821").unwrap(),
        LoginOutcome::Session(_)
    ));
    // The next failure starts counting from zero again.
    assert_eq!(t.people().login("B20417", "1111"), Err(LoginError::Invalid));
}

#[test]
fn unknown_ids_are_answered_exactly_like_wrong_pins() {
    let w = World::new();
    let mut t = unit_tablet(&w);
    let s = enrol(&mut t, "B20417", "582316", "4821");
    t.people().logout(s).unwrap();
    let known: Vec<_> = (0..4).map(|_| t.people().login("B20417", "9999")).collect();
    let unknown: Vec<_> = (0..4).map(|_| t.people().login("Z99999", "9999")).collect();
    let shape = |v: &[Result<LoginOutcome, LoginError>]| {
        v.iter()
            .map(|r| matches!(r, Err(LoginError::LockedOut { .. })))
            .collect::<Vec<_>>()
    };
    assert_eq!(shape(&known), shape(&unknown));
    assert_eq!(known[0], unknown[0]);
    assert_eq!(
        t.people().login("Z99999", "1").unwrap_err().to_string(),
        t.people().login("B20417", "1").unwrap_err().to_string()
    );
}

#[test]
fn older_policy_replayed_is_refused_and_same_version_other_content_too() {
    let w = World::new();
    let mut t = unit_tablet(&w);
    let v1 = signed_policy(
        &w,
        "p1.toml",
        "scope = \"facility\"\nversion = 1\n[rules]\nsession_minutes = 30\n",
    );
    let v2 = signed_policy(
        &w,
        "p2.toml",
        "scope = \"facility\"\nversion = 2\n[rules]\nsession_minutes = 60\n",
    );
    let v2b = signed_policy(
        &w,
        "p2b.toml",
        "scope = \"facility\"\nversion = 2\n[rules]\nsession_minutes = 45\n",
    );
    t.people().accept_document(&v1).unwrap();
    t.people().accept_document(&v2).unwrap();
    let e = t.people().accept_document(&v1).unwrap_err();
    assert!(
        matches!(
            e,
            CoreError::Refused(Refusal::Replay {
                kind: "policy",
                offered: 1,
                held: 2,
                ..
            })
        ),
        "{e}"
    );
    assert!(matches!(
        t.people().accept_document(&v2).unwrap(),
        DocOutcome::AlreadyCurrent { .. }
    ));
    let e = t.people().accept_document(&v2b).unwrap_err();
    assert!(
        matches!(
            e,
            CoreError::Refused(Refusal::SameVersionDiffers { version: 2, .. })
        ),
        "{e}"
    );
    let LoginOutcome::SetPin(ticket) = t.people().login("B20417", "582316").unwrap() else {
        panic!()
    };
    let s = t.people().set_pin(ticket, "4821").unwrap();
    assert_eq!(
        t.people()
            .decision_for(s.person())
            .unwrap()
            .remaining_minutes,
        Some(60)
    );
    assert_eq!(
        t.people().audit_of_kind("document-refused").unwrap().len(),
        2
    );
}

#[test]
fn policy_or_roster_for_another_unit_or_person_is_refused() {
    let w = World::new();
    let mut t = unit_tablet(&w);
    let other_unit = signed_policy(
        &w,
        "u.toml",
        "scope = \"unit:c-west\"\nversion = 1\n[rules]\nsession_minutes = 30\n",
    );
    let e = t.people().accept_document(&other_unit).unwrap_err();
    assert!(
        matches!(&e, CoreError::Refused(Refusal::PolicyForAnotherTablet { scope, .. }) if scope == "unit:c-west"),
        "{e}"
    );
    let stranger = signed_policy(
        &w,
        "s.toml",
        "scope = \"person:z99999\"\nversion = 1\n[rules]\nsession_minutes = 30\n",
    );
    let e = t.people().accept_document(&stranger).unwrap_err();
    assert!(
        matches!(&e, CoreError::Refused(Refusal::PolicyForAnotherTablet { scope, .. }) if scope == "person:z99999"),
        "{e}"
    );
    let roster = signed_roster(&w, 5, "unit:c-west", "731904");
    let e = t.people().accept_document(&roster).unwrap_err();
    assert!(
        matches!(&e, CoreError::Refused(Refusal::RosterForAnotherTablet { roster, .. }) if roster == "unit:c-west"),
        "{e}"
    );
    // A policy for a person on this tablet's roster is accepted and wins.
    let mine = signed_policy(
        &w,
        "m.toml",
        "scope = \"person:a12345\"\nversion = 1\n[rules]\nsession_minutes = 45\n",
    );
    t.people().accept_document(&mine).unwrap();
    let fac = signed_policy(
        &w,
        "f.toml",
        "scope = \"facility\"\nversion = 1\n[rules]\nsession_minutes = 30\n",
    );
    t.people().accept_document(&fac).unwrap();
    assert_eq!(
        t.people().decision_for("A12345").unwrap().remaining_minutes,
        Some(45)
    );
    assert_eq!(
        t.people().decision_for("B20417").unwrap().remaining_minutes,
        Some(30)
    );
    // A policy signed by the wrong role is refused.
    let env = berth::trust::Envelope::from_bytes(&fac).unwrap();
    let forged = berth::trust::Envelope::sign(
        berth::trust::payload_type::POLICY,
        env.unverified_payload_for_display().to_vec(),
        &[&w.facility.key("roster").unwrap()],
    );
    assert!(
        t.people()
            .accept_document(&forged.to_bytes())
            .unwrap_err()
            .to_string()
            .contains("policy role")
    );
}

const CURFEW_POLICY: &str = r#"scope = "facility"
version = 1
[rules]
timezone = "UTC"
session_minutes = 30
cooldown_minutes = 30
[[rules.curfew]]
days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
start = "22:00"
end = "06:00"
"#;

#[test]
fn rtc_moved_back_30_days_does_not_extend_a_session_or_reopen_curfew() {
    let w = World::new();
    let mut t = unit_tablet(&w);
    t.people()
        .accept_document(&signed_policy(&w, "c.toml", CURFEW_POLICY))
        .unwrap();
    // Start at the first 12:00 UTC at or after t0 (the real time the test
    // began): the trusted clock never runs behind t0, so a noon earlier
    // that day would be read as t0 itself, in curfew after 22:00.
    let noon = {
        let n = t0().date_naive().and_hms_opt(12, 0, 0).unwrap().and_utc();
        if n < t0() { n + Duration::days(1) } else { n }
    };
    w.clock.set_rtc(noon);
    let s = enrol(&mut t, "B20417", "582316", "4821");
    t.people().record_activity(&s, 30 * 60, true).unwrap();
    let d = t.people().decision_for("B20417").unwrap();
    assert!(matches!(d.reason, Reason::Cooldown { .. }), "{d}");
    w.clock.set_rtc(noon - Duration::days(30));
    let d = t.people().decision_for("B20417").unwrap();
    assert!(
        matches!(d.reason, Reason::Cooldown { .. }),
        "the session is not extended: {d}"
    );
    assert!(d.allowed.is_empty());
    // Curfew: at 23:00, moving the RTC back to a morning a month ago does not reopen.
    w.clock.set_rtc(noon + Duration::hours(11));
    assert!(matches!(
        t.people().decision_for("B20417").unwrap().reason,
        Reason::Curfew { .. }
    ));
    w.clock
        .set_rtc(noon - Duration::days(30) - Duration::hours(2));
    let d = t.people().decision_for("B20417").unwrap();
    assert!(matches!(d.reason, Reason::Curfew { .. }), "{d}");
    assert!(!t.people().audit_of_kind("tamper").unwrap().is_empty());
}

#[test]
fn free_content_is_never_metered() {
    let w = World::new();
    let mut t = unit_tablet(&w);
    t.people().accept_document(&signed_policy(
        &w,
        "p.toml",
        "scope = \"facility\"\nversion = 1\n[rules]\nsession_minutes = 30\ntimezone = \"UTC\"\n",
    ))
    .unwrap();
    w.clock
        .set_rtc(t0().date_naive().and_hms_opt(12, 0, 0).unwrap().and_utc());
    let s = enrol(&mut t, "B20417", "582316", "4821");
    t.people().record_activity(&s, 3 * 3600, false).unwrap();
    let d = t.people().decision_for("B20417").unwrap();
    assert_eq!(
        (d.reason.clone(), d.remaining_minutes),
        (Reason::Open, Some(30)),
        "{d}"
    );
    t.people().record_activity(&s, 10 * 60, true).unwrap();
    assert_eq!(
        t.people().decision_for("B20417").unwrap().remaining_minutes,
        Some(20)
    );
    assert!(
        t.people()
            .decision_for("B20417")
            .unwrap()
            .allowed
            .contains(&Feature::Messages)
    );
}

#[test]
fn audit_log_records_the_person_own_entries_and_editing_a_row_is_detected() {
    let w = World::new();
    let mut t = unit_tablet(&w);
    let s = enrol(&mut t, "A12345", "731904", "4821");
    t.people().logout(s).unwrap();
    let _ = t.people().login("A12345", "0000");
    let LoginOutcome::Session(s) = t.people().login("A12345", "4821").unwrap() else {
        panic!()
    };
    let mine: Vec<String> = t
        .people()
        .audit_for(&s)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        mine,
        ["enrolled", "login", "logout", "login-failed", "login"]
    );
    assert!(
        t.people()
            .audit_for(&s)
            .unwrap()
            .iter()
            .all(|e| e.person.as_deref() == Some("A12345"))
    );
    let n = t.people().verify_audit().unwrap().unwrap();
    assert!(n >= 7, "root, roster and logins: {n}");
    // The export is signed by the device key.
    let export = t.people().export_audit(0).unwrap();
    let env = berth::trust::Envelope::from_bytes(&export).unwrap();
    let role = berth::domain::RoleKeys::single(t.device_public_key());
    assert!(
        env.verify(
            berth::trust::payload_type::AUDIT_EXPORT,
            "audit",
            "device",
            &role
        )
        .is_ok()
    );
    let db = t.data().db();
    drop(t);

    let conn = rusqlite::Connection::open(&db).unwrap();
    // The table refuses edits outright...
    let e = conn
        .execute("UPDATE audit SET detail = 'x' WHERE seq = 2", [])
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    // ...and if someone with the raw file removes that guard, the chain tells.
    conn.execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;")
        .unwrap();
    conn.execute("UPDATE audit SET person = 'B20417' WHERE seq = 4", [])
        .unwrap();
    drop(conn);
    let mut t = w.open_tablet("tablet");
    let brk = t.people().verify_audit().unwrap().unwrap_err();
    assert_eq!(brk.seq, 4, "{brk}");
    drop(t);
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("UPDATE audit SET person = 'A12345' WHERE seq = 4", [])
        .unwrap();
    conn.execute("DELETE FROM audit WHERE seq = 3", []).unwrap();
    drop(conn);
    let brk = w
        .open_tablet("tablet")
        .people()
        .verify_audit()
        .unwrap()
        .unwrap_err();
    assert_eq!(brk.seq, 4, "deletion: {brk}");
}

#[test]
fn kill_9_during_an_audit_append_leaves_a_valid_chain() {
    let w = World::new();
    let mut t = unit_tablet(&w);
    let before = t.people().audit_log(None).unwrap().len();
    let data = t.data().root.clone();
    drop(t);
    let policy = w.path("p.signed");
    std::fs::write(&policy, signed_policy(&w, "p.toml", CURFEW_POLICY)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args([
            "accept",
            "--data",
            data.to_str().unwrap(),
            policy.to_str().unwrap(),
        ])
        .env("BERTH_FAILPOINT", "audit:after-insert")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), None, "killed mid-append");
    let mut t = w.open_tablet("tablet");
    assert_eq!(t.integrity_check().unwrap(), "ok");
    assert_eq!(
        t.people().verify_audit().unwrap().unwrap(),
        before,
        "the interrupted entry left no trace"
    );
    assert!(
        t.people()
            .document_version("policy", "facility")
            .unwrap()
            .is_none(),
        "nor did its document"
    );
    drop(t);
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args([
            "accept",
            "--data",
            data.to_str().unwrap(),
            policy.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut t = w.open_tablet("tablet");
    assert_eq!(t.people().verify_audit().unwrap().unwrap(), before + 1);
}

#[test]
fn migrations_run_on_an_empty_database_and_on_one_from_the_previous_schema() {
    let tmp = tempfile::tempdir().unwrap();
    // Empty.
    let fresh = tmp.path().join("fresh.sqlite");
    let s = berth::store::Store::open(&fresh).unwrap();
    assert_eq!(s.integrity_check().unwrap(), "ok");
    drop(s);
    // Schema 1, with events, as a tablet of the previous release left it.
    let old = tmp.path().join("old.sqlite");
    let mut conn = rusqlite::Connection::open(&old).unwrap();
    rusqlite_migration::Migrations::new(vec![rusqlite_migration::M::up(include_str!(
        "../../src/store/migrations/0001_init.sql"
    ))])
    .to_latest(&mut conn)
    .unwrap();
    for (i, kind) in ["root-accepted", "bundle-installed", "tamper"]
        .iter()
        .enumerate()
    {
        conn.execute(
            "INSERT INTO events (at, kind, detail) VALUES (?1, ?2, ?3)",
            rusqlite::params![
                (Utc::now() + Duration::seconds(i as i64)).to_rfc3339(),
                kind,
                format!("old {i}")
            ],
        )
        .unwrap();
    }
    drop(conn);
    let s = berth::store::Store::open(&old).unwrap();
    let log = s.audit_log().unwrap();
    assert_eq!(
        log.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["root-accepted", "bundle-installed", "tamper"]
    );
    assert_eq!(log[2].detail, "old 2");
    berth::audit::verify_chain(&log).unwrap();
    assert!(berth::store::migrations().validate().is_ok());
}

fn facility_cli(args: &[&str]) -> (bool, String, String) {
    let bin = Path::new(env!("CARGO_BIN_EXE_berth"))
        .parent()
        .unwrap()
        .join("berth-facility");
    let out = Command::new(bin).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn policy_explain_gives_different_decisions_at_curfew_and_in_the_day() {
    let w = World::new();
    let f = w.path("facility");
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/examples/policy.toml");
    let signed = w.path("policy.signed");
    let (ok, out, err) = facility_cli(&[
        "policy",
        "sign",
        example,
        "--dir",
        f.to_str().unwrap(),
        "-o",
        signed.to_str().unwrap(),
    ]);
    assert!(ok, "{out}{err}");
    let explain = |at: &str| {
        let (ok, out, err) = facility_cli(&[
            "policy",
            "explain",
            "--dir",
            f.to_str().unwrap(),
            signed.to_str().unwrap(),
            "--person",
            "A12345",
            "--at",
            at,
        ]);
        assert!(ok, "{err}");
        out
    };
    let night = explain("2026-06-03T23:00:00-05:00");
    let day = explain("2026-06-03T10:00:00-05:00");
    assert!(
        night.contains("decision: Curfew until Thu 06:00"),
        "{night}"
    );
    assert!(
        night.contains("allowed: books, record"),
        "quiet reading stays open: {night}"
    );
    assert!(day.contains("decision: Open"), "{day}");
    assert!(
        day.contains("allowed: messages, learn, books, music, record"),
        "{day}"
    );
    assert!(
        day.contains("next change: Wed 2026-06-03 22:00 CDT"),
        "{day}"
    );
    let (ok, _, err) = facility_cli(&[
        "policy",
        "explain",
        "--dir",
        f.to_str().unwrap(),
        signed.to_str().unwrap(),
        "--person",
        "A12345",
        "--at",
        "tonight",
    ]);
    assert!(!ok && err.contains("RFC 3339"), "{err}");
    // The example roster signs too, and a bad one says what is wrong.
    let roster = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/examples/roster.toml");
    let (ok, out, err) = facility_cli(&[
        "roster",
        "sign",
        roster,
        "--dir",
        f.to_str().unwrap(),
        "-o",
        w.path("r.signed").to_str().unwrap(),
    ]);
    assert!(ok && out.contains("3 people"), "{out}{err}");
    let bad = write(
        &w,
        "bad.toml",
        "group = \"unit:x\"\nversion = 1\n[[person]]\nid = \"A1\"\nname = \"A\"\nlanguage = \"fr\"\nunit = \"unit:x\"\ncode = \"123456\"\n",
    );
    let (ok, _, err) = facility_cli(&[
        "roster",
        "sign",
        bad.to_str().unwrap(),
        "--dir",
        f.to_str().unwrap(),
        "-o",
        w.path("b.signed").to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("unknown variant `fr`"), "{err}");
}

#[test]
fn damaged_database_names_the_recovery_and_recover_sets_it_aside() {
    let w = World::new();
    let t = unit_tablet(&w);
    let data = t.data().root.clone();
    let db = t.data().db();
    drop(t);
    // Checkpoint the WAL away, then scribble over the database header.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    drop(conn);
    let mut bytes = std::fs::read(&db).unwrap();
    bytes[..100].fill(0x5a);
    std::fs::write(&db, bytes).unwrap();
    let berth = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_berth"))
            .args(args)
            .output()
            .unwrap()
    };
    let out = berth(&["status", "--data", data.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("berth recover"),
        "{err}"
    );
    let out = berth(&["recover", "--data", data.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kept = std::fs::read_dir(&data)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".damaged-")
        })
        .count();
    assert!(kept >= 1, "the damaged file is kept for inspection");
    // Starting clean needs the root again, as at enrolment.
    let t = w.open_tablet("tablet");
    assert_eq!(t.integrity_check().unwrap(), "ok");
}

/// Opening checks the tables that cannot be rebuilt; the catalogue (most
/// of a full tablet's file) is checked by the full check the shell runs in
/// the background, whose finding the next open refuses.
#[test]
fn damage_the_background_check_finds_is_refused_at_the_next_start() {
    let w = World::new();
    let t = unit_tablet(&w);
    let db = t.data().db();
    drop(t);
    // Damage only an integrity check finds, in a derived table: an index
    // whose stored order no longer matches its definition.
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(
            "CREATE TABLE catalogue_junk (x INTEGER); CREATE INDEX catalogue_junk_x ON catalogue_junk (x);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
             INSERT INTO catalogue_junk SELECT i FROM n;
             PRAGMA writable_schema = ON;
             UPDATE sqlite_schema SET sql = 'CREATE INDEX catalogue_junk_x ON catalogue_junk (x DESC)'
               WHERE name = 'catalogue_junk_x';
             PRAGMA writable_schema = OFF;",
        )
        .unwrap();
    }
    // A database the check cannot read (here: none at all) is an error,
    // never a damage record that would refuse the next start.
    let gone = w.path("no-such.sqlite");
    assert!(berth::store::Store::check_all(&gone).is_err());
    assert!(!berth::store::damage_marker(&gone).exists());
    let t = w.open_tablet("tablet");
    let found = t
        .check_in_background(std::time::Duration::ZERO)
        .join()
        .unwrap()
        .unwrap();
    assert_ne!(found, "ok");
    assert!(berth::store::damage_marker(&db).exists());
    drop(t);
    let e = berth::store::Store::open(&db).err().expect("refused");
    assert!(
        e.to_string().contains("found by the full check")
            && e.to_string().contains("berth recover"),
        "{e}"
    );

    // The same damage in a table that cannot be rebuilt is refused at open.
    std::fs::remove_file(berth::store::damage_marker(&db)).unwrap();
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(
            "PRAGMA writable_schema = ON;
             UPDATE sqlite_schema SET name = 'junk_x', tbl_name = 'junk',
               sql = 'CREATE INDEX junk_x ON junk (x DESC)' WHERE name = 'catalogue_junk_x';
             UPDATE sqlite_schema SET name = 'junk', tbl_name = 'junk',
               sql = 'CREATE TABLE junk (x INTEGER)' WHERE name = 'catalogue_junk';
             PRAGMA writable_schema = OFF;",
        )
        .unwrap();
    }
    let e = berth::store::Store::open(&db)
        .err()
        .expect("refused at open");
    assert!(e.to_string().contains("integrity check"), "{e}");
}

/// The lock screen speaks the facility's default on a new tablet, then the
/// language last chosen there, across a restart; an unknown language is
/// refused and changes nothing.
#[test]
fn the_lock_screen_language_is_the_tablets_and_survives_a_restart() {
    let w = World::new();
    let mut t = unit_tablet(&w);
    assert_eq!(
        t.people().lock_language().unwrap(),
        "en",
        "no policy: English"
    );
    t.people()
        .accept_document(&signed_policy(
            &w,
            "lang.toml",
            "scope = \"facility\"\nversion = 1\n[rules]\ndefault_language = \"es\"\n",
        ))
        .unwrap();
    assert_eq!(
        t.people().lock_language().unwrap(),
        "es",
        "the facility's default"
    );
    t.people().set_lock_language("en").unwrap();
    let err = t.people().set_lock_language("fr").unwrap_err().to_string();
    assert!(err.contains("en and es"), "{err}");
    drop(t);
    let mut t = w.open_unit_tablet("tablet");
    assert_eq!(
        t.people().lock_language().unwrap(),
        "en",
        "the last choice, after a restart"
    );
}

/// The root verifies a document once and remembers it by the digest of its
/// exact bytes; bytes that differ in any place are verified again, and
/// refused, even right after the original was remembered.
#[test]
fn a_remembered_verification_never_covers_altered_bytes() {
    let w = World::new();
    let root =
        berth::trust::TrustedRoot::bootstrap(&std::fs::read(w.root_json()).unwrap()).unwrap();
    let good = signed_policy(&w, "c.toml", CURFEW_POLICY);
    let first = root.verify_policy(&good).unwrap();
    assert_eq!(root.verify_policy(&good).unwrap(), first, "remembered");
    assert_eq!(root.clone().verify_policy(&good).unwrap(), first);
    let mut flips = 0;
    for at in (0..good.len()).step_by(7) {
        let mut bad = good.clone();
        bad[at] ^= 0x01;
        assert!(
            root.verify_policy(&bad).is_err(),
            "byte {at} altered and still accepted"
        );
        flips += 1;
    }
    assert!(flips > 10);
    // Nor is a policy's signature good for a contact list.
    assert!(root.verify_contacts(&good).is_err());
    assert_eq!(root.verify_policy(&good).unwrap(), first);
}
