//! Letters on the tablet: contact lists bound to a person, grapheme limits,
//! the quota and attorney mail, signed outbox entries, returned letters.

use std::path::PathBuf;

use berth::domain::RoleKeys;
use berth::domain::messages::OutboundMessage;
use berth::tablet::{DocOutcome, LoginOutcome, Session, Tablet};
use berth::trust::{Envelope, payload_type};

use crate::helpers::*;
use berth::domain::messages::{OutState, SendRefusal};
use berth::tablet::{CoreError, Refusal};

fn write(w: &World, name: &str, text: &str) -> PathBuf {
    let p = w.path(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn contacts_toml(person: &str, version: u64, with_ana: bool) -> String {
    let mut s = format!("person = \"{person}\"\nversion = {version}\n");
    if with_ana {
        s += "[[contact]]\nid = \"ana\"\nname = \"Ana González\"\nemail = \"ana@example.org\"\nrelationship = \"hermana\"\n";
    }
    s += "[[contact]]\nid = \"lawyer\"\nname = \"Lic. Ramírez\"\nemail = \"ramirez@law.example.org\"\nrelationship = \"abogado\"\nattorney = true\n";
    s
}

fn signed(w: &World, name: &str, text: &str, kind: &str) -> Vec<u8> {
    let p = write(w, name, text);
    match kind {
        "contacts" => w.facility.sign_contacts(&p, t0()).unwrap().0,
        "policy" => w.facility.sign_policy(&p, t0()).unwrap().0,
        _ => w.facility.sign_roster(&p, t0()).unwrap().0,
    }
}

/// A unit tablet with María enrolled and logged in, and a policy of a
/// 20-character limit and 2 letters a day.
fn setup(w: &World) -> (Tablet, Session) {
    let mut t = w.open_unit_tablet("tablet");
    let roster = "group = \"unit:b-east\"\nversion = 1\n[[person]]\nid = \"A12345\"\nname = \"María González\"\nlanguage = \"es\"\nunit = \"unit:b-east\"\ncode = \"731904\"\n";
    t.people()
        .accept_document(&signed(w, "r.toml", roster, "roster"))
        .unwrap();
    let policy = "scope = \"facility\"\nversion = 1\n[rules]\ntimezone = \"UTC\"\nmessage_max_graphemes = 20\ndaily_message_quota = 2\n";
    t.people()
        .accept_document(&signed(w, "p.toml", policy, "policy"))
        .unwrap();
    t.people()
        .accept_document(&signed(
            w,
            "c1.toml",
            &contacts_toml("A12345", 1, true),
            "contacts",
        ))
        .unwrap();
    let LoginOutcome::SetPin(ticket) = t.people().login("A12345", "731904").unwrap() else {
        panic!()
    };
    let s = t.people().set_pin(ticket, "4821").unwrap();
    (t, s)
}

#[test]
fn contact_list_binds_to_a_person_on_the_roster_and_refuses_replay() {
    let w = World::new();
    let (mut t, s) = setup(&w);
    assert_eq!(t.letters().contacts_for(&s).unwrap().len(), 2);
    let stranger = signed(&w, "x.toml", &contacts_toml("Z99999", 1, true), "contacts");
    let e = t.people().accept_document(&stranger).unwrap_err();
    assert!(
        matches!(&e, CoreError::Refused(Refusal::ContactsForAnotherPerson { person }) if person == "Z99999"),
        "{e}"
    );
    let v1 = signed(
        &w,
        "c1b.toml",
        &contacts_toml("A12345", 1, false),
        "contacts",
    );
    assert!(matches!(
        t.people().accept_document(&v1).unwrap_err(),
        CoreError::Refused(Refusal::SameVersionDiffers { version: 1, .. })
    ));
    let v2 = signed(&w, "c2.toml", &contacts_toml("A12345", 2, true), "contacts");
    assert!(matches!(
        t.people().accept_document(&v2).unwrap(),
        DocOutcome::Accepted { version: 2, .. }
    ));
    let v1again = signed(
        &w,
        "c1d.toml",
        &contacts_toml("A12345", 1, true),
        "contacts",
    );
    assert!(matches!(
        t.people().accept_document(&v1again).unwrap_err(),
        CoreError::Refused(Refusal::Replay {
            offered: 1,
            held: 2,
            ..
        })
    ));
}

#[test]
fn letters_are_limited_in_graphemes_and_by_quota_but_attorney_mail_is_not_counted() {
    let w = World::new();
    let (mut t, s) = setup(&w);
    // 20 graphemes of Spanish and emoji fit; 21 do not.
    let twenty = "¡Hola, mamá! 👍🏽 ñandú";
    assert_eq!(berth::domain::messages::graphemes(twenty), 20);
    t.letters().queue_letter(&s, "ana", twenty).unwrap();
    let e = t
        .letters()
        .queue_letter(&s, "ana", &format!("{twenty}!"))
        .unwrap_err();
    assert!(
        matches!(
            e,
            CoreError::Refused(Refusal::Letter(SendRefusal::TooLong { count: 21, max: 20 }))
        ),
        "{e}"
    );
    t.letters().queue_letter(&s, "ana", "Te quiero").unwrap();
    let e = t.letters().queue_letter(&s, "ana", "otra").unwrap_err();
    assert!(
        matches!(
            e,
            CoreError::Refused(Refusal::Letter(SendRefusal::QuotaUsed { quota: 2 }))
        ),
        "{e}"
    );
    t.letters().queue_letter(&s, "lawyer", "Caso 42").unwrap();
    let e = t.letters().queue_letter(&s, "mom", "hola").unwrap_err();
    assert!(
        matches!(&e, CoreError::Refused(Refusal::Letter(SendRefusal::NotAContact(c))) if c == "mom"),
        "{e}"
    );
    assert!(matches!(
        t.letters().queue_letter(&s, "ana", "   "),
        Err(CoreError::Refused(Refusal::Letter(SendRefusal::Empty)))
    ));
    let out = t.letters().outbox_for(&s).unwrap();
    assert_eq!(out.iter().map(|r| r.seq).collect::<Vec<_>>(), [3, 2, 1]);
    assert!(out.iter().all(|r| r.state == OutState::Queued));
    assert_eq!(out[2].body, twenty, "UTF-8 survives the store");
}

#[test]
fn queued_letters_are_signed_by_the_device_key_and_the_audit_names_only_their_id() {
    let w = World::new();
    let (mut t, s) = setup(&w);
    t.letters().save_draft(&s, "ana", "Querida Ana").unwrap();
    assert_eq!(
        t.letters().draft(&s, "ana").unwrap().as_deref(),
        Some("Querida Ana")
    );
    let queued = t
        .letters()
        .queue_letter(&s, "ana", "Querida Ana, secreto")
        .unwrap();
    let row = t
        .letters()
        .outbox_for(&s)
        .unwrap()
        .into_iter()
        .find(|r| r.seq == queued.seq)
        .unwrap();
    assert_eq!(
        t.letters().draft(&s, "ana").unwrap(),
        None,
        "the draft became the letter"
    );
    let env = Envelope::from_bytes(&row.envelope).unwrap();
    let msg: OutboundMessage = env
        .verify(
            payload_type::MESSAGE,
            "message",
            "device",
            &RoleKeys::single(t.device_public_key()),
        )
        .unwrap()
        .parse("message")
        .unwrap();
    assert_eq!(
        (msg.seq, msg.id.as_str(), msg.body.as_str()),
        (1, row.id.as_str(), "Querida Ana, secreto")
    );
    // A body altered anywhere (a dock, say) no longer verifies.
    let tampered = String::from_utf8(row.envelope.clone()).unwrap().replacen(
        "\"payload\":\"",
        "\"payload\":\"A",
        1,
    );
    let bad = Envelope::from_bytes(tampered.as_bytes());
    assert!(
        bad.is_err()
            || bad
                .unwrap()
                .verify(
                    payload_type::MESSAGE,
                    "m",
                    "d",
                    &RoleKeys::single(t.device_public_key())
                )
                .is_err()
    );
    let log = t.people().audit_of_kind("message-queued").unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].detail, row.id);
    assert!(
        t.people()
            .audit_log(None)
            .unwrap()
            .iter()
            .all(|e| !e.detail.contains("secreto")),
        "no body in the audit log"
    );
}

#[test]
fn removing_a_contact_returns_queued_letters_to_the_writer() {
    let w = World::new();
    let (mut t, s) = setup(&w);
    t.letters().queue_letter(&s, "ana", "uno").unwrap();
    t.letters().queue_letter(&s, "lawyer", "dos").unwrap();
    let v2 = signed(
        &w,
        "c2.toml",
        &contacts_toml("A12345", 2, false),
        "contacts",
    );
    t.people().accept_document(&v2).unwrap();
    let out = t.letters().outbox_for(&s).unwrap();
    let ana = out.iter().find(|r| r.contact == "ana").unwrap();
    let lawyer = out.iter().find(|r| r.contact == "lawyer").unwrap();
    assert_eq!(
        (ana.state, ana.reason.as_str()),
        (OutState::Returned, berth::domain::messages::RETURNED_REASON)
    );
    assert_eq!(lawyer.state, OutState::Queued);
    assert!(
        t.letters().queue_letter(&s, "ana", "tres").is_err(),
        "no longer a contact"
    );
}
