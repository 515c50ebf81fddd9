//! Dock sync end to end: a real dock server on loopback (TLS, SQLite),
//! real tablets with their own data directories, staff review, and the
//! mail gateway's .eml files both ways.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use berth::dock::server::RunningDock;
use berth::dock::{Dock, ReviewKind};
use berth::domain::ContentType;
use berth::sync::client::{self, SyncError, SyncSummary};
use berth::tablet::{LoginOutcome, Session, Tablet};

use crate::helpers::*;
use berth::domain::messages::{LetterState, OutState};

pub const ROSTER: &str = "group = \"unit:b-east\"\nversion = 1\n\
[[person]]\nid = \"A12345\"\nname = \"María González\"\nlanguage = \"es\"\nunit = \"unit:b-east\"\ncode = \"731904\"\n\
[[person]]\nid = \"B20417\"\nname = \"James Carter\"\nlanguage = \"en\"\nunit = \"unit:b-east\"\ncode = \"582316\"\n";

pub const POLICY: &str = "scope = \"facility\"\nversion = 1\n[rules]\ntimezone = \"UTC\"\nmessage_max_graphemes = 2000\ndaily_message_quota = 1000\n";

pub fn contacts(version: u64, with_ana: bool) -> String {
    let mut s = format!("person = \"A12345\"\nversion = {version}\n");
    if with_ana {
        s += "[[contact]]\nid = \"ana\"\nname = \"Ana González\"\nemail = \"ana.gonzalez@example.org\"\nrelationship = \"hermana\"\n";
    }
    s += "[[contact]]\nid = \"lawyer\"\nname = \"Lic. Ramírez\"\nemail = \"ramirez@law.example.org\"\nrelationship = \"abogado\"\nattorney = true\n";
    s
}

/// A facility with a dock serving on loopback, the roster, policy and
/// María's contacts published.
pub struct DockWorld {
    pub w: World,
    pub data: PathBuf,
    pub _running: Option<RunningDock>,
    pub addr: String,
}

impl DockWorld {
    pub fn new() -> Self {
        Self::with_cuts(None)
    }

    pub fn with_cuts(cut: Option<berth::dock::CutHook>) -> Self {
        Self::with_world(World::new(), cut)
    }

    /// A dock whose vendor may ship education, books and music.
    pub fn for_content() -> Self {
        Self::with_world(
            World::with_types(
                vec![
                    ContentType::Education,
                    ContentType::Books,
                    ContentType::Music,
                ],
                8 << 20,
            ),
            None,
        )
    }

    pub fn with_world(w: World, cut: Option<berth::dock::CutHook>) -> Self {
        let data = w.path("dock");
        let mut dock = Dock::init(&w.path("facility"), &data).unwrap();
        for (name, text, kind) in [
            ("roster.toml", ROSTER.to_string(), "roster"),
            ("policy.toml", POLICY.to_string(), "policy"),
            ("contacts.toml", contacts(1, true), "contacts"),
        ] {
            let bytes = sign_doc(&w, name, &text, kind);
            dock.publish(&bytes).unwrap();
        }
        if let Some(c) = cut {
            dock = dock.with_cuts(c);
        }
        let running = berth::dock::server::start(&dock, "127.0.0.1:0", false).unwrap();
        let addr = running.addr.to_string();
        DockWorld {
            w,
            data,
            _running: Some(running),
            addr,
        }
    }

    pub fn dock(&self) -> Dock {
        Dock::open(&self.w.path("facility"), &self.data).unwrap()
    }

    /// A unit tablet, enrolled, synced once (so it has the roster).
    pub fn tablet(&self, name: &str) -> Arc<Mutex<Tablet>> {
        let t = self.w.open_unit_tablet(name);
        self.dock()
            .enroll(
                &"cli:test".parse().unwrap(),
                t.device_public_key(),
                name,
                &["unit:b-east".parse().unwrap()],
            )
            .unwrap();
        let t = Arc::new(Mutex::new(t));
        self.sync(&t).unwrap();
        t
    }

    /// An email from `from` to María, dropped where the relay puts mail.
    pub fn drop_reply(&self, file: &str, from: &str, body: &str) -> String {
        let _ = file;
        berth::dock::gateway::deliver_to_maildir(
            &self.data.join("gateway/maildir"),
            &reply_eml(from, "a12345@letters.berth.invalid", "Re", body),
        )
        .unwrap()
    }

    /// Import the mail waiting at the gateway and approve every inbound
    /// letter in review.
    pub fn approve_replies(&self, dock: &mut Dock) {
        dock.import_mail(None).unwrap();
        for item in dock.review_list().unwrap() {
            if item.kind == ReviewKind::Inbound {
                dock.review_approve(&item.id, &"officer".parse().unwrap())
                    .unwrap();
            }
        }
    }

    pub fn sync(&self, t: &Mutex<Tablet>) -> Result<SyncSummary, SyncError> {
        client::sync(t, &self.addr, &mut |_| {})
    }
}

pub fn sign_doc(w: &World, name: &str, text: &str, kind: &str) -> Vec<u8> {
    let p = w.path(name);
    std::fs::write(&p, text).unwrap();
    match kind {
        "contacts" => w.facility.sign_contacts(&p, t0()).unwrap().0,
        "policy" => w.facility.sign_policy(&p, t0()).unwrap().0,
        _ => w.facility.sign_roster(&p, t0()).unwrap().0,
    }
}

/// Log María in (setting her PIN the first time).
pub fn maria(t: &Mutex<Tablet>) -> Session {
    let mut t = t.lock().unwrap();
    match t.people().login("A12345", "731904") {
        Ok(LoginOutcome::SetPin(ticket)) => t.people().set_pin(ticket, "4821").unwrap(),
        _ => match t.people().login("A12345", "4821").unwrap() {
            LoginOutcome::Session(s) => s,
            _ => panic!("María cannot log in"),
        },
    }
}

pub fn state_of(t: &Mutex<Tablet>, s: &Session, id: &str) -> (OutState, String) {
    let mut t = t.lock().unwrap();
    let row = t
        .letters()
        .outbox_for(s)
        .unwrap()
        .into_iter()
        .find(|r| r.id == id)
        .expect("letter on the tablet");
    (row.state, row.reason)
}

pub fn reply_eml(from: &str, to: &str, subject: &str, body: &str) -> Vec<u8> {
    mail_builder::MessageBuilder::new()
        .from(("Ana", from))
        .to(to)
        .subject(subject)
        .message_id(format!("{}@example.org", uuid::Uuid::new_v4()))
        .text_body(body)
        .write_to_vec()
        .unwrap()
}

#[test]
fn letter_goes_out_as_eml_and_the_reply_comes_back_with_spanish_and_emoji() {
    let dw = DockWorld::new();
    let t = dw.tablet("tab-1");
    let s = maria(&t);
    let text = "¡Hola Ana! Te extraño mucho 💛 — ñandú, corazón, acción. 👍🏽";
    let row = t
        .lock()
        .unwrap()
        .letters()
        .queue_letter(&s, "ana", text)
        .unwrap();
    assert_eq!(state_of(&t, &s, &row.id).0, OutState::Queued);

    let sum = dw.sync(&t).unwrap();
    assert_eq!(sum.letters_sent, 1);
    assert_eq!(state_of(&t, &s, &row.id).0, OutState::InReview);

    let mut dock = dw.dock();
    let list = dock.review_list().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, row.id);
    assert_eq!(list[0].kind, ReviewKind::Outbound);
    assert_eq!(list[0].body.as_deref(), Some(text));
    dock.review_approve(&row.id, &"officer".parse().unwrap())
        .unwrap();

    let eml_path = dw
        .data
        .join("gateway/outbox")
        .join(format!("{}.eml", row.id));
    let eml = std::fs::read(&eml_path).unwrap();
    let parsed = mail_parser::MessageParser::default().parse(&eml).unwrap();
    assert_eq!(parsed.body_text(0).unwrap().trim_end(), text);
    assert_eq!(
        parsed.to().unwrap().first().unwrap().address(),
        Some("ana.gonzalez@example.org")
    );
    let from = parsed
        .from()
        .unwrap()
        .first()
        .unwrap()
        .address()
        .unwrap()
        .to_string();
    assert_eq!(from, "a12345@letters.berth.invalid");
    assert_eq!(
        parsed.from().unwrap().first().unwrap().name(),
        Some("María González")
    );

    dw.sync(&t).unwrap();
    assert_eq!(state_of(&t, &s, &row.id).0, OutState::Approved);

    // Ana replies; the gateway imports it into review.
    let reply = "¡Gracias, María! 🌻 Aquí todos bien. Ñoño te manda saludos.";
    let name = berth::dock::gateway::deliver_to_maildir(
        &dw.data.join("gateway/maildir"),
        &reply_eml("ana.gonzalez@example.org", &from, "Re: Carta", reply),
    )
    .unwrap();
    let report = dock.import_mail(None).unwrap();
    assert_eq!(report.accepted, vec![name]);
    let list = dock.review_list().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].kind, ReviewKind::Inbound);
    assert_eq!(list[0].body.as_deref(), Some(reply));
    // Before approval, the tablet sees nothing new.
    dw.sync(&t).unwrap();
    assert_eq!(
        t.lock().unwrap().letters().threads_for(&s).unwrap()[0].unread,
        0
    );
    dock.review_approve(&list[0].id, &"officer".parse().unwrap())
        .unwrap();

    let sum = dw.sync(&t).unwrap();
    assert!(sum.entries_applied >= 1);
    let threads = t.lock().unwrap().letters().threads_for(&s).unwrap();
    assert_eq!(threads.len(), 1);
    assert_eq!(threads[0].contact, "ana");
    assert_eq!(threads[0].unread, 1);
    assert_eq!(threads[0].letters, 2);
    let items = t.lock().unwrap().letters().open_thread(&s, "ana").unwrap();
    assert_eq!(items.len(), 2);
    assert!(items[0].outgoing && items[0].body == text);
    assert!(!items[1].outgoing && items[1].body == reply);
    // The email's subject reaches the tablet with the letter.
    assert_eq!(items[1].subject, "Re: Carta");
    assert!(items[0].subject.is_empty() && items[1].removed.is_empty());
    assert_eq!(
        t.lock().unwrap().letters().threads_for(&s).unwrap()[0].unread,
        0
    );
    // Syncing again changes nothing.
    let again = dw.sync(&t).unwrap();
    assert_eq!((again.letters_sent, again.entries_applied), (0, 0));
    assert_eq!(
        t.lock()
            .unwrap()
            .letters()
            .open_thread(&s, "ana")
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn rejected_letter_shows_the_staff_reason() {
    let dw = DockWorld::new();
    let t = dw.tablet("tab-1");
    let s = maria(&t);
    let row = t
        .lock()
        .unwrap()
        .letters()
        .queue_letter(&s, "ana", "una carta")
        .unwrap();
    dw.sync(&t).unwrap();
    let mut dock = dw.dock();
    assert!(
        dock.review_reject(&row.id, "  ", &"officer".parse().unwrap())
            .is_err()
    );
    dock.review_reject(
        &row.id,
        "Menciona el caso de otra persona",
        &"officer".parse().unwrap(),
    )
    .unwrap();
    assert!(
        dock.review_approve(&row.id, &"officer".parse().unwrap())
            .is_err(),
        "decided once"
    );
    dw.sync(&t).unwrap();
    assert_eq!(
        state_of(&t, &s, &row.id),
        (
            OutState::Rejected,
            "Menciona el caso de otra persona".to_string()
        )
    );
    assert!(
        std::fs::read_dir(dw.data.join("gateway/outbox"))
            .unwrap()
            .next()
            .is_none(),
        "nothing left for the relay"
    );
}

#[test]
fn attorney_body_is_unreadable_to_review_but_reaches_the_attorney() {
    let dw = DockWorld::new();
    let t = dw.tablet("tab-1");
    let s = maria(&t);
    let secret = "Licenciado: los hechos del 3 de marzo fueron así…";
    let row = t
        .lock()
        .unwrap()
        .letters()
        .queue_letter(&s, "lawyer", secret)
        .unwrap();
    dw.sync(&t).unwrap();
    let mut dock = dw.dock();
    let item = dock.review_show(&row.id).unwrap();
    assert!(item.attorney);
    assert_eq!(item.body, None);
    assert_eq!(
        (item.person.as_str(), item.contact.as_str()),
        ("A12345", "lawyer")
    );
    let listed = dock.review_list().unwrap();
    assert_eq!(listed[0].body, None);
    assert!(!format!("{listed:?}").contains("hechos"));
    dock.review_approve(&row.id, &"officer".parse().unwrap())
        .unwrap();
    let eml = std::fs::read(
        dw.data
            .join("gateway/outbox")
            .join(format!("{}.eml", row.id)),
    )
    .unwrap();
    let parsed = mail_parser::MessageParser::default().parse(&eml).unwrap();
    assert!(parsed.body_text(0).unwrap().contains(secret));
}

#[test]
fn mail_from_a_sender_not_on_the_list_is_refused_with_a_logged_reason() {
    let dw = DockWorld::new();
    let _t = dw.tablet("tab-1");
    let mut dock = dw.dock();
    let stranger = reply_eml(
        "stranger@example.net",
        "a12345@letters.berth.invalid",
        "hola",
        "¿Me recuerdas?",
    );
    berth::dock::gateway::deliver_to_maildir(&dw.data.join("gateway/maildir"), &stranger).unwrap();
    let report = dock.import_mail(None).unwrap();
    assert!(report.accepted.is_empty());
    assert_eq!(report.refused.len(), 1);
    assert!(
        report.refused[0]
            .1
            .contains("not on A12345's approved contact list")
    );
    assert!(dock.review_list().unwrap().is_empty());
    let sha = berth::trust::sha256(&stranger).to_hex();
    assert!(dw.data.join(format!("gateway/refused/{sha}.eml")).exists());
    assert!(
        dw.data
            .join(format!("gateway/refused/{sha}.reason"))
            .exists()
    );
    let reason =
        std::fs::read_to_string(dw.data.join(format!("gateway/refused/{sha}.reason"))).unwrap();
    assert!(reason.contains("stranger@example.net"));
    assert_eq!(dock.refusals().unwrap().len(), 1);
}

#[test]
fn two_tablets_used_by_the_same_person_see_the_same_thread() {
    let dw = DockWorld::new();
    let a = dw.tablet("tab-a");
    let b = dw.tablet("tab-b");
    let sa = maria(&a);
    let row = a
        .lock()
        .unwrap()
        .letters()
        .queue_letter(&sa, "ana", "desde A")
        .unwrap();
    dw.sync(&a).unwrap();
    let mut dock = dw.dock();
    dock.review_approve(&row.id, &"officer".parse().unwrap())
        .unwrap();
    dw.drop_reply("r", "ana.gonzalez@example.org", "respuesta");
    dw.approve_replies(&mut dock);
    dw.sync(&a).unwrap();
    dw.sync(&b).unwrap();
    let sb = maria(&b);
    let ta = a.lock().unwrap().letters().open_thread(&sa, "ana").unwrap();
    let tb = b.lock().unwrap().letters().open_thread(&sb, "ana").unwrap();
    let view = |v: &[berth::store::ThreadItem]| {
        v.iter()
            .map(|i| (i.id.clone(), i.outgoing, i.body.clone(), i.state.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(view(&ta), view(&tb));
    assert_eq!(ta.len(), 2);
    assert_eq!(ta[0].state, LetterState::Out(OutState::Approved));
}

#[test]
fn contact_removed_before_upload_means_the_letter_is_not_delivered() {
    let dw = DockWorld::new();
    let t = dw.tablet("tab-1");
    let s = maria(&t);
    let row = t
        .lock()
        .unwrap()
        .letters()
        .queue_letter(&s, "ana", "hola")
        .unwrap();
    // The facility removes Ana before the tablet docks.
    let mut dock = dw.dock();
    dock.publish(&sign_doc(&dw.w, "c2.toml", &contacts(2, false), "contacts"))
        .unwrap();
    dw.sync(&t).unwrap();
    let (state, reason) = state_of(&t, &s, &row.id);
    assert_eq!(
        (state, reason.as_str()),
        (OutState::Rejected, berth::domain::messages::RETURNED_REASON)
    );
    assert!(dock.review_list().unwrap().is_empty());
    // The new list reached the tablet too: Ana is gone from the picker.
    let names: Vec<String> = t
        .lock()
        .unwrap()
        .letters()
        .contacts_for(&s)
        .unwrap()
        .into_iter()
        .map(|c| c.id.to_string())
        .collect();
    assert_eq!(names, vec!["lawyer".to_string()]);
}

#[test]
fn unknown_and_revoked_tablets_are_refused() {
    let dw = DockWorld::new();
    let stranger = Mutex::new(dw.w.open_unit_tablet("stranger"));
    match dw.sync(&stranger) {
        Err(SyncError::NotEnrolled { reason, .. }) => {
            assert!(reason.contains("not enrolled"), "{reason}")
        }
        other => panic!("unexpected {other:?}"),
    }
    let t = dw.tablet("tab-1");
    let s = maria(&t);
    t.lock()
        .unwrap()
        .letters()
        .queue_letter(&s, "ana", "hola")
        .unwrap();
    dw.dock()
        .revoke(&"cli:test".parse().unwrap(), "tab-1")
        .unwrap();
    match dw.sync(&t) {
        Err(SyncError::Refused(r)) => assert!(r.contains("revoked"), "{r}"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(dw.dock().review_list().unwrap().is_empty());
    assert_eq!(
        t.lock().unwrap().letters().outbox_for(&s).unwrap()[0].state,
        OutState::Queued
    );
}

#[test]
fn a_dock_of_another_facility_is_refused_by_the_tablet() {
    let ours = DockWorld::new();
    let theirs = DockWorld::new();
    let t = ours.tablet("tab-1");
    match client::sync(&t, &theirs.addr, &mut |_| {}) {
        Err(SyncError::UnknownDock(r)) => assert!(r.contains("not one this facility"), "{r}"),
        other => panic!("unexpected {other:?}"),
    }
}

/// Rewrite the payload of a stored envelope, keeping its signatures.
fn tamper(envelope: &[u8], from: &str, to: &str) -> Vec<u8> {
    use base64::Engine;
    let mut v: serde_json::Value = serde_json::from_slice(envelope).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = b64.decode(v["payload"].as_str().unwrap()).unwrap();
    let text = String::from_utf8(payload).unwrap();
    assert!(text.contains(from));
    v["payload"] = b64.encode(text.replace(from, to)).into();
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn a_body_changed_at_the_dock_is_refused_both_ways() {
    let dw = DockWorld::new();
    let t = dw.tablet("tab-1");
    let s = maria(&t);
    let row = t
        .lock()
        .unwrap()
        .letters()
        .queue_letter(&s, "ana", "te quiero")
        .unwrap();
    dw.sync(&t).unwrap();
    let db = rusqlite::Connection::open(dw.data.join("dock.db")).unwrap();
    let env: Vec<u8> = db
        .query_row(
            "SELECT envelope FROM letters WHERE id = ?1",
            [&row.id],
            |r| r.get(0),
        )
        .unwrap();
    db.execute(
        "UPDATE letters SET envelope = ?2 WHERE id = ?1",
        rusqlite::params![row.id, tamper(&env, "te quiero", "mándame dinero")],
    )
    .unwrap();
    let mut dock = dw.dock();
    let shown = dock.review_show(&row.id).unwrap();
    assert!(shown.problem.is_some() && shown.body.is_none());
    let err = dock
        .review_approve(&row.id, &"officer".parse().unwrap())
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("changed after the tablet signed it")
    );
    assert!(
        !dw.data
            .join("gateway/outbox")
            .join(format!("{}.eml", row.id))
            .exists()
    );

    // Inbound: approved mail altered in the feed never reaches the screen.
    dw.drop_reply("r", "ana.gonzalez@example.org", "todo bien");
    dw.approve_replies(&mut dock);
    let (seq, env): (i64, Vec<u8>) = db
        .query_row(
            "SELECT seq, envelope FROM feed ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    db.execute(
        "UPDATE feed SET envelope = ?2 WHERE seq = ?1",
        rusqlite::params![seq, tamper(&env, "todo bien", "ven a verme")],
    )
    .unwrap();
    let sum = dw.sync(&t).unwrap();
    assert_eq!(sum.entries_refused, 1);
    let items = t.lock().unwrap().letters().open_thread(&s, "ana").unwrap();
    assert!(
        items.iter().all(|i| i.outgoing),
        "the altered letter is not shown"
    );
}

#[test]
fn vendor_uploads_are_verified_and_approved_bundles_reach_the_unit() {
    let dw = DockWorld::new();
    let t = dw.tablet("tab-1");
    let root =
        berth::trust::TrustedRoot::bootstrap(&std::fs::read(dw.w.root_json()).unwrap()).unwrap();
    let raw = dw.w.bundle("acme.algebra", 1, 3, &[3000, 5000]);
    let vendor = || berth::trust::SigningKey::load(&dw.w.path("vendor.pk8")).unwrap();
    let up = client::upload_bundle(&dw.addr, vendor(), root.clone(), &raw).unwrap();
    assert_eq!(up.bundle.to_string(), "acme.algebra");
    let mut dock = dw.dock();
    assert_eq!(dock.bundles(Some("pending")).unwrap().len(), 1);

    // A bundle uploaded by a key that is not its vendor's is refused.
    let other = berth::trust::SigningKey::generate_to_file(&dw.w.path("other.pk8")).unwrap();
    let raw2 = dw.w.bundle("acme.geometry", 1, 4, &[1000]);
    match client::upload_bundle(&dw.addr, other, root.clone(), &raw2) {
        Err(SyncError::Refused(r)) => assert!(r.contains("vendors upload their own"), "{r}"),
        other => panic!("unexpected {other:?}"),
    }
    // A bundle with a flipped payload bit is refused at upload.
    let mut bytes = std::fs::read(&raw2).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 1;
    let bad = dw.w.path("bad.berth");
    std::fs::write(&bad, bytes).unwrap();
    assert!(matches!(
        client::upload_bundle(&dw.addr, vendor(), root, &bad),
        Err(SyncError::Refused(_))
    ));
    assert_eq!(dock.bundles(None).unwrap().len(), 1);

    // Not approved yet: nothing arrives.
    assert_eq!(dw.sync(&t).unwrap().bundles_installed, 0);
    dock.approve_bundle("acme.algebra", &["unit:b-east".parse().unwrap()])
        .unwrap();
    let sum = dw.sync(&t).unwrap();
    assert_eq!(sum.bundles_installed, 1, "{sum:?}");
    let installed = t.lock().unwrap().installed().unwrap();
    assert_eq!(installed[0].bundle_id, "acme.algebra");
    assert_eq!(dw.sync(&t).unwrap().bundles_installed, 0, "installed once");
}

#[test]
fn tablets_report_their_state_to_the_dock() {
    let dw = DockWorld::new();
    let _t = dw.tablet("tab-1");
    let rows = dw.dock().tablets().unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].last_sync.is_some());
    assert_eq!(rows[0].app_version, env!("CARGO_PKG_VERSION"));
    assert!(rows[0].audit_through > 0, "the audit log was exported");
}

#[test]
fn usage_reaches_the_dock_and_a_repeated_report_does_not_double_it() {
    let dw = DockWorld::new();
    let t = dw.tablet("tab-1");
    let s = maria(&t);
    t.lock()
        .unwrap()
        .letters()
        .queue_letter(&s, "ana", "hola")
        .unwrap();
    t.lock()
        .unwrap()
        .people()
        .record_activity(&s, 600, true)
        .unwrap();
    dw.sync(&t).unwrap();
    dw.sync(&t).unwrap();
    let usage = dw.dock().usage_of("A12345").unwrap();
    assert_eq!(usage.len(), 1);
    let (_, metered, _, letters) = usage[0].clone();
    assert_eq!((metered, letters), (600, 1));
}

/// A freshly flashed tablet holds only the facility's root. Docked, it is
/// refused with the code its screen shows, and the dock remembers it; IT
/// enrols it by that code for a unit, and its next sync brings the unit's
/// groups, roster and policy.
#[test]
fn a_fresh_tablet_is_enrolled_by_the_code_on_its_screen_and_takes_its_units_groups() {
    let dw = DockWorld::new();
    let fresh = Mutex::new(dw.w.open_tablet("fresh"));
    let key = fresh.lock().unwrap().device_public_key();
    let code = berth::trust::device_code(&key);
    assert!(fresh.lock().unwrap().people().roster().unwrap().is_empty());
    for _ in 0..2 {
        match dw.sync(&fresh) {
            Err(SyncError::NotEnrolled { code: c, reason }) => {
                assert_eq!(c, code.to_string());
                assert!(reason.contains(code.as_str()), "{reason}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let pending = dw.dock().pending_tablets().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].key, key.to_hex());
    assert_eq!(pending[0].code, code.as_str());
    assert_eq!(pending[0].attempts, 2);

    // A code typed wrong enrols nothing.
    let wrong = berth::domain::DeviceCode::parse("0000-0000-0000").unwrap();
    let err = dw
        .dock()
        .enroll_by_code(
            &"cli:test".parse().unwrap(),
            &wrong,
            "b-east-07",
            &["unit:b-east".parse().unwrap()],
        )
        .unwrap_err();
    assert!(err.to_string().contains("0000-0000-0000"), "{err}");
    assert!(dw.dock().tablets().unwrap().is_empty());

    // Typed from the screen in lower case with spaces.
    let typed =
        berth::domain::DeviceCode::parse(&code.as_str().to_lowercase().replace('-', " ")).unwrap();
    let enrolled = dw
        .dock()
        .enroll_by_code(
            &"cli:test".parse().unwrap(),
            &typed,
            "b-east-07",
            &["unit:b-east".parse().unwrap()],
        )
        .unwrap();
    assert_eq!(enrolled, key);
    assert!(dw.dock().pending_tablets().unwrap().is_empty());

    let summary = dw.sync(&fresh).unwrap();
    assert!(summary.documents_accepted >= 2, "{summary:?}");
    let mut t = fresh.lock().unwrap();
    let groups: Vec<String> = t.groups().iter().map(|g| g.to_string()).collect();
    assert_eq!(
        groups,
        vec!["facility".to_string(), "unit:b-east".to_string()]
    );
    let mut names: Vec<String> = t
        .people()
        .roster()
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    names.sort();
    assert_eq!(names, vec!["A12345".to_string(), "B20417".to_string()]);
    drop(t);
    // The groups are the tablet's own now: they survive a restart.
    drop(fresh);
    let again = dw.w.open_tablet("fresh");
    assert!(
        again
            .groups()
            .iter()
            .any(|g| g.to_string() == "unit:b-east")
    );
}
