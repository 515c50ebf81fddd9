//! The contact workflow end to end, on a real dock on loopback with a real
//! tablet: the person asks on the tablet, staff approve, the contact
//! answers the invitation by mail, the dock signs the new list, and the
//! person writes to the new contact. And the no-contact list, on every
//! path: a matching request, a matching contact, mail from a listed
//! address.

use std::sync::{Arc, Mutex};

use berth::dock::Dock;
use berth::dock::contacts::{DECLINED, REFUSED};
use berth::dock::gateway::deliver_to_maildir;
use berth::domain::contacts::{NoContactEntry, NoContactKind, RequestState};
use berth::sync::client::{self, SyncError};
use berth::tablet::{Session, Tablet};

use crate::sync::{DockWorld, maria, reply_eml};

const LUIS: &str = "luis.perez@example.org";

fn officer() -> berth::dock::staff::Actor {
    "officer".parse().unwrap()
}

fn request_state(t: &Mutex<Tablet>, s: &Session, id: &str) -> (RequestState, String) {
    let mut t = t.lock().unwrap();
    let r = t
        .letters()
        .contact_requests_for(s)
        .unwrap()
        .into_iter()
        .find(|r| r.id == id)
        .expect("request on the tablet");
    (r.state, r.reason)
}

/// The invitation the dock wrote for `id`, and the token in its reply address.
fn invitation(dw: &DockWorld, id: &str) -> (String, String) {
    let eml = std::fs::read_to_string(dw.data.join(format!("gateway/outbox/invite-{id}.eml")))
        .expect("the invitation is in the gateway's outbox");
    let at = eml.find("invite+").expect("a reply address with a token");
    let token: String = eml[at + 7..].chars().take(32).collect();
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()), "{token}");
    (eml, token)
}

fn answer(dw: &DockWorld, from: &str, token: &str, body: &str) {
    deliver_to_maildir(
        &dw.data.join("gateway/maildir"),
        &reply_eml(
            from,
            &format!("invite+{token}@letters.berth.invalid"),
            "Re: María González asks to write to you",
            body,
        ),
    )
    .unwrap();
}

fn ask_luis(t: &Mutex<Tablet>, s: &Session) -> String {
    t.lock()
        .unwrap()
        .letters()
        .ask_contact(s, "  Luis   Pérez ", "primo", "Luis.Perez@Example.org")
        .unwrap()
}

fn count(dw: &DockWorld, sql: &str) -> i64 {
    rusqlite::Connection::open(dw.data.join("dock.db"))
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_request_runs_to_acceptance_and_the_person_writes_to_the_new_contact() {
    let dw = DockWorld::new();
    let t = dw.tablet("tab-1");
    let s = maria(&t);
    let id = ask_luis(&t, &s);
    assert_eq!(request_state(&t, &s, &id).0, RequestState::Asked);

    let sum = dw.sync(&t).unwrap();
    assert_eq!(sum.contact_requests_sent, 1);
    assert_eq!(request_state(&t, &s, &id).0, RequestState::InReview);
    let mut dock = dw.dock();
    let r = dock.contact_request(&id).unwrap();
    assert_eq!(
        (
            r.state.as_str(),
            r.name.as_str(),
            r.email.as_str(),
            r.relationship.as_str()
        ),
        ("in-review", "Luis Pérez", LUIS, "primo"),
        "stored cleaned, in review"
    );

    dock.contact_approve(&id, &officer()).unwrap();
    dw.sync(&t).unwrap();
    assert_eq!(request_state(&t, &s, &id).0, RequestState::Invited);
    let (eml, token) = invitation(&dw, &id);
    assert!(
        eml.contains(LUIS) && eml.contains("ACCEPT") && eml.contains("ACEPTO"),
        "{eml}"
    );
    assert_eq!(
        count(
            &dw,
            &format!("SELECT COUNT(*) FROM contact_requests WHERE token_sha256 = '{token}'")
        ),
        0,
        "the dock keeps only the token's hash"
    );

    // Luis answers; until then, no letter to him can be queued.
    assert!(
        t.lock()
            .unwrap()
            .letters()
            .queue_letter(&s, "luis-perez", "hola")
            .is_err()
    );
    answer(
        &dw,
        LUIS,
        &token,
        "Acepto.\n\n> Reply ACCEPT to exchange letters",
    );
    let report = dock.import_mail(None).unwrap();
    assert_eq!(report.answers.len(), 1, "{report:#?}");
    assert!(
        report.accepted.is_empty(),
        "an answer is not a letter for review"
    );
    assert!(
        dock.review_list().unwrap().is_empty(),
        "nothing enters review"
    );
    let r = dock.contact_request(&id).unwrap();
    assert_eq!(
        (r.state.as_str(), r.contact.as_str()),
        ("active", "luis-perez")
    );
    let (version, list) = dock.contact_list("A12345").unwrap();
    assert_eq!(version, 2, "the dock signed and published version 2");
    assert!(
        list.iter()
            .any(|c| c.id.as_str() == "luis-perez" && !c.attorney)
    );
    assert!(
        list.iter().any(|c| c.id.as_str() == "ana"),
        "the others stay"
    );

    // The tablet verifies the dock-signed list and María writes to Luis.
    dw.sync(&t).unwrap();
    assert_eq!(request_state(&t, &s, &id).0, RequestState::Active);
    let contacts = t.lock().unwrap().letters().contacts_for(&s).unwrap();
    assert!(
        contacts
            .iter()
            .any(|c| c.id.as_str() == "luis-perez" && c.name == "Luis Pérez")
    );
    let q = t
        .lock()
        .unwrap()
        .letters()
        .queue_letter(&s, "luis-perez", "¡Hola primo! Gracias por aceptar.")
        .unwrap();
    dw.sync(&t).unwrap();
    let mut dock = dw.dock();
    let item = dock.review_show(&q.id).unwrap();
    assert_eq!(item.contact, "luis-perez");
    dock.review_approve(&q.id, &officer()).unwrap();
    let eml =
        std::fs::read_to_string(dw.data.join(format!("gateway/outbox/{}.eml", q.id))).unwrap();
    assert!(eml.contains(LUIS), "the letter goes to Luis: {eml}");

    // The same answer again (a second reply, or the file after a crash)
    // changes nothing.
    answer(&dw, LUIS, &token, "ACCEPT");
    let again = dock.import_mail(None).unwrap();
    assert_eq!(again.duplicates.len(), 1, "{again:#?}");
    assert_eq!(dock.contact_list("A12345").unwrap().0, 2);

    // Every step is in the staff trail.
    let actions: Vec<String> = dock
        .staff_audit(None)
        .unwrap()
        .into_iter()
        .filter(|a| a.target == id)
        .map(|a| a.action)
        .collect();
    assert_eq!(actions, vec!["contact.approve", "contact.accept"]);
}

#[test]
fn a_request_that_matches_the_no_contact_list_is_refused_and_flagged_and_the_person_told_only_refused()
 {
    let dw = DockWorld::new();
    let t = dw.tablet("tab-1");
    let s = maria(&t);
    let mut dock = dw.dock();
    let victim =
        NoContactEntry::new(NoContactKind::Victim, "Rosa Díaz", "", "12 Calle Sol").unwrap();
    let order = NoContactEntry::new(NoContactKind::CourtOrder, "", "ex@example.net", "").unwrap();
    dock.no_contact_add("A12345", &victim, &officer()).unwrap();
    dock.no_contact_add("a12345", &order, &officer()).unwrap();

    // By name, with the accents left off and the case changed; by email.
    let by_name = t
        .lock()
        .unwrap()
        .letters()
        .ask_contact(&s, "ROSA DIAZ", "amiga", "rosa.other@example.org")
        .unwrap();
    let by_email = t
        .lock()
        .unwrap()
        .letters()
        .ask_contact(&s, "Pat", "", "EX@example.net")
        .unwrap();
    let fine = ask_luis(&t, &s);
    dw.sync(&t).unwrap();
    dw.sync(&t).unwrap();
    for id in [&by_name, &by_email] {
        let (state, reason) = request_state(&t, &s, id);
        assert_eq!((state, reason.as_str()), (RequestState::Refused, REFUSED));
        assert!(!reason.to_lowercase().contains("list") && !reason.contains("victim"));
        let r = dock.contact_request(id).unwrap();
        assert_eq!(r.state, "refused");
        assert!(
            r.flag.contains("no-contact"),
            "flagged to staff: {}",
            r.flag
        );
    }
    assert_eq!(
        request_state(&t, &s, &fine).0,
        RequestState::InReview,
        "others go on"
    );
    let trail = dock.staff_audit(None).unwrap();
    assert_eq!(
        trail
            .iter()
            .filter(|a| a.action == "contact.auto-refuse")
            .count(),
        2
    );
    assert!(
        dock.refusals()
            .unwrap()
            .iter()
            .any(|(_, what, why)| what.contains(&by_name) && why.contains("no-contact"))
    );
    // Staff cannot approve one by mistake later either.
    let err = dock
        .contact_approve(&by_name, &officer())
        .unwrap_err()
        .to_string();
    assert!(err.contains("not waiting for review"), "{err}");

    // An entry added after a request arrived: approval is refused, and
    // the open request is refused at once.
    let later = NoContactEntry::new(NoContactKind::Witness, "", LUIS, "").unwrap();
    dock.no_contact_add("A12345", &later, &officer()).unwrap();
    assert_eq!(dock.contact_request(&fine).unwrap().state, "refused");
    dw.sync(&t).unwrap();
    assert_eq!(
        request_state(&t, &s, &fine),
        (RequestState::Refused, REFUSED.into())
    );
}

#[test]
fn mail_from_a_no_contact_address_is_never_imported_and_a_listed_contact_is_suspended() {
    let dw = DockWorld::new();
    let t = dw.tablet("tab-1");
    let s = maria(&t);
    let mut dock = dw.dock();
    // Ana is an approved contact; a court order names her address.
    let order = NoContactEntry::new(
        NoContactKind::CourtOrder,
        "",
        "ana.gonzalez@example.org",
        "",
    )
    .unwrap();
    let (_, suspended) = dock.no_contact_add("A12345", &order, &officer()).unwrap();
    assert_eq!(suspended, vec!["ana".to_string()]);
    let (version, list) = dock.contact_list("A12345").unwrap();
    assert_eq!(version, 2);
    assert!(list.iter().all(|c| c.id.as_str() != "ana"));

    let name = dw.drop_reply("x", "ana.gonzalez@example.org", "Hola María");
    let report = dock.import_mail(None).unwrap();
    assert!(report.accepted.is_empty(), "{report:#?}");
    assert!(
        report
            .refused
            .iter()
            .any(|(n, why)| n == &name && why.contains("no-contact")),
        "{report:#?}"
    );
    assert!(
        dock.review_list().unwrap().is_empty(),
        "nothing reaches review"
    );
    assert_eq!(
        count(&dw, "SELECT COUNT(*) FROM inbound"),
        0,
        "never imported"
    );

    // The tablet takes the new list: Ana is gone, a letter to her cannot
    // be queued.
    dw.sync(&t).unwrap();
    assert!(
        t.lock()
            .unwrap()
            .letters()
            .contacts_for(&s)
            .unwrap()
            .iter()
            .all(|c| c.id.as_str() != "ana")
    );
    assert!(
        t.lock()
            .unwrap()
            .letters()
            .queue_letter(&s, "ana", "hola")
            .is_err()
    );
}

#[test]
fn a_contact_who_refuses_or_blocks_is_never_asked_again() {
    let dw = DockWorld::new();
    let t = dw.tablet("tab-1");
    let s = maria(&t);
    let id = ask_luis(&t, &s);
    dw.sync(&t).unwrap();
    let mut dock = dw.dock();
    dock.contact_approve(&id, &officer()).unwrap();
    let (_, token) = invitation(&dw, &id);

    // An answer from another address, or with no word we know, changes nothing.
    answer(&dw, "someone.else@example.org", &token, "ACCEPT");
    answer(&dw, LUIS, &token, "who is this?");
    let r = dock.import_mail(None).unwrap();
    assert_eq!(r.refused.len(), 2, "{r:#?}");
    assert!(
        r.refused
            .iter()
            .any(|(_, why)| why.contains("not from the invited address"))
    );
    assert!(r.refused.iter().any(|(_, why)| why.contains("still waits")));
    assert_eq!(dock.contact_request(&id).unwrap().state, "invited");
    assert_eq!(dock.contact_list("A12345").unwrap().0, 1, "no new list");

    answer(&dw, LUIS, &token, "BLOCK\n");
    dock.import_mail(None).unwrap();
    dw.sync(&t).unwrap();
    assert_eq!(
        request_state(&t, &s, &id),
        (RequestState::Refused, DECLINED.into())
    );

    // James (another person) asks for the same address: refused at once.
    let mut tl = t.lock().unwrap();
    let james = match tl.people().login("B20417", "582316").unwrap() {
        berth::tablet::LoginOutcome::SetPin(ticket) => tl.people().set_pin(ticket, "9153").unwrap(),
        berth::tablet::LoginOutcome::Session(s) => s,
    };
    let again = tl.letters().ask_contact(&james, "Luis", "", LUIS).unwrap();
    drop(tl);
    dw.sync(&t).unwrap();
    let r = dock.contact_request(&again).unwrap();
    assert_eq!((r.state.as_str(), r.reason.as_str()), ("refused", DECLINED));
    assert!(r.flag.contains("blocked"), "{}", r.flag);
    assert!(
        !std::path::Path::new(&dw.data.join(format!("gateway/outbox/invite-{again}.eml"))).exists(),
        "no invitation is sent"
    );
}

#[test]
fn a_person_removes_a_contact_and_staff_suspend_one_with_a_reason() {
    let dw = DockWorld::new();
    let t = dw.tablet("tab-1");
    let s = maria(&t);
    let rm = t
        .lock()
        .unwrap()
        .letters()
        .ask_remove_contact(&s, "ana")
        .unwrap();
    dw.sync(&t).unwrap();
    dw.sync(&t).unwrap();
    assert_eq!(request_state(&t, &s, &rm).0, RequestState::Removed);
    let contacts = t.lock().unwrap().letters().contacts_for(&s).unwrap();
    assert_eq!(
        contacts.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        vec!["lawyer"]
    );

    let mut dock = dw.dock();
    let err = dock
        .contact_suspend("A12345", "lawyer", " ", &officer())
        .unwrap_err()
        .to_string();
    assert!(err.contains("give the reason"), "{err}");
    assert_eq!(
        dock.contact_list("A12345").unwrap().0,
        2,
        "nothing was changed"
    );
    let v = dock
        .contact_suspend("A12345", "lawyer", "Not a licensed attorney", &officer())
        .unwrap();
    assert_eq!(v, 3);
    // Legal sets a new attorney contact.
    let id = dock
        .contact_attorney(
            "A12345",
            "Lic. Sofía Ortega",
            "ortega@law.example.org",
            &"legal".parse().unwrap(),
        )
        .unwrap();
    dw.sync(&t).unwrap();
    let contacts = t.lock().unwrap().letters().contacts_for(&s).unwrap();
    assert_eq!(contacts.len(), 1);
    assert_eq!(
        (contacts[0].id.as_str(), contacts[0].attorney),
        (id.as_str(), true)
    );
    let trail: Vec<String> = dock
        .staff_audit(None)
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert!(
        trail.contains(&"contact.suspend".into()) && trail.contains(&"contact.attorney".into())
    );
}

#[test]
fn the_tablet_checks_a_request_before_it_queues_it() {
    let dw = DockWorld::new();
    let t = dw.tablet("tab-1");
    let s = maria(&t);
    let mut tl = t.lock().unwrap();
    let mut l = tl.letters();
    assert!(l.ask_contact(&s, "", "", LUIS).is_err());
    assert!(l.ask_contact(&s, "Luis", "", "luis").is_err());
    let err = l
        .ask_contact(&s, "Ana", "", "ANA.gonzalez@example.org")
        .unwrap_err()
        .to_string();
    assert!(err.contains("already one of your contacts"), "{err}");
    l.ask_contact(&s, "Luis", "", LUIS).unwrap();
    let err = l
        .ask_contact(&s, "Luis P", "", LUIS)
        .unwrap_err()
        .to_string();
    assert!(err.contains("already asked"), "{err}");
    assert_eq!(
        l.contact_requests_for(&s).unwrap().len(),
        1,
        "nothing else was queued"
    );
}

#[test]
fn a_request_cut_after_the_dock_stored_it_is_stored_once() {
    let armed = Arc::new(Mutex::new(Some("dock:after-store-contact-request")));
    let a = armed.clone();
    let dw = DockWorld::with_cuts(Some(Arc::new(move |step: &str| {
        let mut g = a.lock().unwrap();
        if *g == Some(step) {
            *g = None;
            true
        } else {
            false
        }
    })));
    let t = dw.tablet("tab-1");
    let s = maria(&t);
    let id = ask_luis(&t, &s);
    assert!(matches!(dw.sync(&t), Err(SyncError::Broken(_))));
    assert_eq!(
        count(&dw, "SELECT COUNT(*) FROM contact_requests"),
        1,
        "committed"
    );
    assert_eq!(
        request_state(&t, &s, &id).0,
        RequestState::Asked,
        "no ack reached the tablet"
    );
    // The tablet's side cut after the ack arrived but before it was applied.
    let cut_once = Mutex::new(true);
    let r = client::sync_with_cuts(&t, &dw.addr, &mut |_| {}, &|step| {
        step == "sync:after-contact-requests-acked"
            && std::mem::take(&mut *cut_once.lock().unwrap())
    });
    assert!(r.is_err());
    let sum = dw.sync(&t).unwrap();
    assert_eq!(sum.contact_requests_sent, 1);
    assert_eq!(
        count(&dw, "SELECT COUNT(*) FROM contact_requests"),
        1,
        "stored once"
    );
    let mut dock: Dock = dw.dock();
    dock.contact_approve(&id, &officer()).unwrap();
    dw.sync(&t).unwrap();
    assert_eq!(request_state(&t, &s, &id).0, RequestState::Invited);
    let held = t
        .lock()
        .unwrap()
        .letters()
        .contact_requests_for(&s)
        .unwrap();
    assert_eq!(held.len(), 1, "one request on the tablet");
}

#[test]
fn the_dock_and_console_run_from_a_kit_that_holds_no_root_key() {
    use crate::helpers::World;
    use crate::sync::{POLICY, ROSTER, contacts, sign_doc};
    let w = World::new();
    let kit = w.path("dock-kit");
    let files = w.facility.export_dock_kit(&kit).unwrap();
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    assert!(
        names.iter().all(|n| !n.contains("root-")),
        "no root key: {names:?}"
    );
    let keys: Vec<&String> = names.iter().filter(|n| n.starts_with("keys/")).collect();
    assert_eq!(keys.len(), 6, "the online keys: {keys:?}");
    assert!(kit.join("root.json").exists());
    let walk = crate::helpers::tree(&kit);
    assert!(
        walk.iter().all(|(p, _)| !p.contains("root-")),
        "nothing else crept in"
    );
    // A root rotation cannot run from the kit, and says why.
    let err = berth::facility::Facility::open(&kit)
        .unwrap()
        .rotate_root(chrono::Utc::now() + chrono::Duration::days(30))
        .unwrap_err()
        .to_string();
    assert!(err.contains("root-1.pk8"), "{err}");

    // The dock serves from the kit: tablets sync, and an accepted contact's
    // list is signed with the kit's contacts key and verified by the tablet.
    let data = w.path("dock");
    let mut dock = Dock::init(&kit, &data).unwrap();
    for (name, text, kind) in [
        ("roster.toml", ROSTER.to_string(), "roster"),
        ("policy.toml", POLICY.to_string(), "policy"),
        ("contacts.toml", contacts(1, true), "contacts"),
    ] {
        dock.publish(&sign_doc(&w, name, &text, kind)).unwrap();
    }
    let running = berth::dock::server::start(&dock, "127.0.0.1:0", false).unwrap();
    let addr = running.addr.to_string();
    let t = w.open_unit_tablet("tab-1");
    dock.enroll(
        &officer(),
        t.device_public_key(),
        "tab-1",
        &["unit:b-east".parse().unwrap()],
    )
    .unwrap();
    let t = Mutex::new(t);
    let sync = || client::sync(&t, &addr, &mut |_| {}).unwrap();
    sync();
    let s = maria(&t);
    let id = ask_luis(&t, &s);
    sync();
    dock.contact_approve(&id, &officer()).unwrap();
    let eml =
        std::fs::read_to_string(data.join(format!("gateway/outbox/invite-{id}.eml"))).unwrap();
    let at = eml.find("invite+").unwrap();
    let token: String = eml[at + 7..].chars().take(32).collect();
    deliver_to_maildir(
        &data.join("gateway/maildir"),
        &reply_eml(
            LUIS,
            &format!("invite+{token}@letters.berth.invalid"),
            "Re",
            "ACCEPT",
        ),
    )
    .unwrap();
    assert_eq!(dock.import_mail(None).unwrap().answers.len(), 1);
    sync();
    assert!(
        t.lock()
            .unwrap()
            .letters()
            .contacts_for(&s)
            .unwrap()
            .iter()
            .any(|c| c.id.as_str() == "luis-perez")
    );
    // The console runs on the same kit: a reviewer signs in and sees the
    // request she may decide, now active.
    crate::console::member(
        &mut dock,
        "rosa",
        &[berth::domain::staff::Role::MailReviewer],
    );
    let console = crate::console::Console::start_on(&dock, &data);
    let mut b = crate::console::Browser::new(&console);
    assert_eq!(b.login("rosa", crate::console::PW).status, 303);
    let page = b.get("/contacts");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Luis Pérez"), "{}", page.text());
}

/// `berth-facility contacts …` as staff run it: the same calls, the same
/// trail; bad input says what was wrong and changes nothing.
#[test]
fn the_contacts_commands_work_and_refuse_bad_input_changing_nothing() {
    let dw = DockWorld::new();
    let t = dw.tablet("tab-1");
    let s = maria(&t);
    let id = ask_luis(&t, &s);
    dw.sync(&t).unwrap();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_berth"))
        .parent()
        .unwrap()
        .join("berth-facility");
    let (dir, data) = (dw.w.path("facility"), dw.data.clone());
    let run = |args: &[&str]| {
        let out = std::process::Command::new(&bin)
            .args(args)
            .args([
                "--dir",
                dir.to_str().unwrap(),
                "--data",
                data.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let (o, e) = (
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        );
        assert!(!e.contains("panicked"), "{args:?}: {e}");
        (out.status.success(), o, e)
    };
    let trail = || dw.dock().staff_audit(None).unwrap().len();
    let before = trail();
    for (args, says) in [
        (
            vec!["contacts", "requests", "--state", "pending"],
            "is not a state",
        ),
        (
            vec!["contacts", "refuse", id.as_str(), "--reason", "  "],
            "give the reason",
        ),
        (
            vec!["contacts", "approve", "no-such-request"],
            "no contact request",
        ),
        (
            vec![
                "contacts",
                "no-contact",
                "add",
                "--person",
                "A12345",
                "--kind",
                "enemy",
                "--name",
                "X",
            ],
            "court-order, victim or witness",
        ),
        (
            vec![
                "contacts",
                "no-contact",
                "add",
                "--person",
                "A12345",
                "--kind",
                "victim",
            ],
            "give a name or an email",
        ),
        (
            vec![
                "contacts",
                "no-contact",
                "add",
                "--person",
                "Z99999",
                "--kind",
                "victim",
                "--name",
                "X",
            ],
            "no person Z99999",
        ),
        (
            vec![
                "contacts",
                "suspend",
                "--person",
                "A12345",
                "--contact",
                "nobody",
                "--reason",
                "x",
            ],
            "no contact nobody of A12345",
        ),
        (
            vec![
                "contacts", "attorney", "--person", "A12345", "--name", "Lic. X", "--email", "x",
            ],
            "not an email address",
        ),
    ] {
        let (ok, _, err) = run(&args);
        assert!(!ok, "{args:?} succeeded");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert_eq!(trail(), before, "nothing was changed");
    assert_eq!(dw.dock().contact_request(&id).unwrap().state, "in-review");

    let (ok, out, err) = run(&["contacts", "requests", "--state", "in-review"]);
    assert!(ok, "{err}");
    assert!(out.contains(&id) && out.contains("Luis Pérez"), "{out}");
    let (ok, out, err) = run(&["contacts", "approve", &id]);
    assert!(ok, "{err}");
    assert!(out.contains("invite-") && out.contains(LUIS), "{out}");
    let (ok, out, _) = run(&[
        "contacts",
        "no-contact",
        "add",
        "--person",
        "A12345",
        "--kind",
        "victim",
        "--name",
        "Rosa Díaz",
    ]);
    assert!(ok && out.contains("added no-contact entry"), "{out}");
    let (ok, out, _) = run(&["contacts", "no-contact", "list", "--person", "a12345"]);
    assert!(
        ok && out.contains("Rosa Díaz") && out.contains("victim"),
        "{out}"
    );
    let (ok, out, _) = run(&["contacts", "list", "--person", "A12345"]);
    assert!(
        ok && out.contains("ana") && out.contains("[attorney: privileged]"),
        "{out}"
    );
    let actions: Vec<String> = dw
        .dock()
        .staff_audit(None)
        .unwrap()
        .into_iter()
        .skip(before)
        .map(|a| format!("{} {}", a.actor, a.action))
        .collect();
    assert_eq!(actions.len(), 2, "{actions:?}");
    assert!(
        actions[0].starts_with("cli:") && actions[0].ends_with("contact.approve"),
        "{actions:?}"
    );
    assert!(actions[1].ends_with("no-contact.add"), "{actions:?}");
}
