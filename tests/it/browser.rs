//! The staff console in real Chromium (issue 17): a real dock and console
//! on loopback, a real tablet synced through the dock's listener, and
//! `tests/browser/console.mjs` driving Debian's chromium through
//! playwright-core. What the browser did is then checked where it lands:
//! on the tablet after its next sync, and in the dock's audit trail.
//!
//! Ignored by default (it needs chromium and `npm ci` in tests/browser);
//! `.ci/run` runs it: `cargo test --test it -- --ignored browser`.

use std::path::Path;
use std::process::Command;

use berth::domain::contacts::{NoContactEntry, NoContactKind, RequestState};
use berth::domain::messages::OutState;
use berth::domain::staff::{Role, Username};

use crate::console::{Console, PW, cli, member, staff_audit_actions};
use crate::sync::{DockWorld, maria, state_of};

const TEMP: &str = "temporary one two three";

#[test]
#[ignore = "needs chromium and tests/browser/node_modules; .ci/run runs it"]
fn the_console_in_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script_dir = root.join("tests").join("browser");
    assert!(
        script_dir
            .join("node_modules")
            .join("playwright-core")
            .is_dir(),
        "run `npm ci` in {} first",
        script_dir.display()
    );
    let dw = DockWorld::new();
    let t = dw.tablet("tab-1");
    let s = maria(&t);
    let (plain, flagged, privileged) = {
        let mut t = t.lock().unwrap();
        let mut l = t.letters();
        let plain = l
            .queue_letter(&s, "ana", "Hola Ana, ¿cómo está la niña?")
            .unwrap()
            .id;
        let flagged = l
            .queue_letter(&s, "ana", "Dile a Pedro que el paquete está en la celda 4")
            .unwrap()
            .id;
        let privileged = l
            .queue_letter(&s, "lawyer", "Sobre mi apelación: privado")
            .unwrap()
            .id;
        (plain, flagged, privileged)
    };
    // A contact request waiting for review, and one the no-contact list
    // refused at the dock.
    {
        let mut dock = dw.dock();
        let victim = NoContactEntry::new(NoContactKind::Victim, "Rosa Díaz", "", "").unwrap();
        dock.no_contact_add("A12345", &victim, &cli()).unwrap();
    }
    let luis = {
        let mut t = t.lock().unwrap();
        let mut l = t.letters();
        l.ask_contact(&s, "Rosa Diaz", "amiga", "rosa@example.org")
            .unwrap();
        l.ask_contact(&s, "Luis Pérez", "primo", "luis.perez@example.org")
            .unwrap()
    };
    dw.sync(&t).unwrap();
    std::fs::write(dw.data.join("dock.toml"), "keywords = [\"paquete\"]\n").unwrap();
    {
        let mut dock = dw.dock();
        let now = chrono::Utc::now();
        for (user, name, role) in [
            ("rosa", "Rosa Peña", Role::MailReviewer),
            ("dana", "Dana Ruiz", Role::ItAdmin),
        ] {
            let u: Username = user.parse().unwrap();
            dock.staff_add(&cli(), &u, name, &[role], TEMP, now)
                .unwrap();
        }
        member(&mut dock, "lena", &[Role::LegalMailOfficer]);
        member(&mut dock, "aldo", &[Role::Auditor]);
        member(&mut dock, "edu", &[Role::EducationCoordinator]);
    }
    let c = Console::start(&dw);
    let shots = root.join("target").join("browser-shots");
    let _ = std::fs::remove_dir_all(&shots);
    let reason = "Habla de un paquete. Puede escribir otra carta sin eso.";
    let out = Command::new("node")
        .arg("console.mjs")
        .current_dir(&script_dir)
        .env(
            "BERTH_CONSOLE",
            format!("https://localhost:{}", c.running.addr.port()),
        )
        .env("BERTH_SHOTS", &shots)
        .env("BERTH_REVIEWER", "rosa")
        .env("BERTH_REVIEWER_TEMP", TEMP)
        .env("BERTH_ADMIN", "dana")
        .env("BERTH_ADMIN_TEMP", TEMP)
        .env("BERTH_LEGAL", "lena")
        .env("BERTH_AUDITOR", "aldo")
        .env("BERTH_EDUCATION", "edu")
        .env("BERTH_PASSWORD", PW)
        .env("BERTH_FLAGGED", &flagged)
        .env("BERTH_PRIVILEGED", &privileged)
        .env("BERTH_REASON", reason)
        .env("BERTH_CONTACT_PERSON", "A12345")
        .output()
        .expect("node runs (apt install nodejs)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the browser run failed:\n{stdout}\n{stderr}"
    );

    // What the reviewer did in the browser reaches the writer at the next
    // sync, accents and all; the other letters wait as they were.
    dw.sync(&t).unwrap();
    assert_eq!(
        state_of(&t, &s, &flagged),
        (OutState::Rejected, reason.to_string())
    );
    assert_eq!(state_of(&t, &s, &plain).0, OutState::InReview);
    assert_eq!(state_of(&t, &s, &privileged).0, OutState::InReview);
    // The reviewer's approval sent Luis an invitation; he accepts by mail,
    // the dock signs María's new list, and she writes to him.
    assert_eq!(state_of_request(&t, &s, &luis), RequestState::Invited);
    let eml =
        std::fs::read_to_string(dw.data.join(format!("gateway/outbox/invite-{luis}.eml"))).unwrap();
    let at = eml.find("invite+").unwrap();
    let token: String = eml[at + 7..].chars().take(32).collect();
    berth::dock::gateway::deliver_to_maildir(
        &dw.data.join("gateway/maildir"),
        &crate::sync::reply_eml(
            "luis.perez@example.org",
            &format!("invite+{token}@letters.berth.invalid"),
            "Re: invitation",
            "ACCEPT",
        ),
    )
    .unwrap();
    assert_eq!(dw.dock().import_mail(None).unwrap().answers.len(), 1);
    dw.sync(&t).unwrap();
    assert_eq!(state_of_request(&t, &s, &luis), RequestState::Active);
    let letter = t
        .lock()
        .unwrap()
        .letters()
        .queue_letter(&s, "luis-perez", "¡Hola primo!")
        .unwrap()
        .id;
    dw.sync(&t).unwrap();
    assert_eq!(
        dw.dock().review_show(&letter).unwrap().contact,
        "luis-perez"
    );
    // Each staff action is in the trail under the one who did it.
    let trail = staff_audit_actions(&dw.dock());
    for want in [
        ("rosa", "review.reject", flagged.as_str()),
        ("dana", "staff.add", "mo"),
        ("rosa", "staff.password", "rosa"),
        ("dana", "staff.password", "dana"),
        ("rosa", "contact.approve", luis.as_str()),
        ("lena", "no-contact.add", "A12345"),
    ] {
        assert!(
            trail
                .iter()
                .any(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()) == want),
            "{want:?} in {trail:?}"
        );
    }
    let staff = dw.dock().staff_list().unwrap();
    assert!(
        staff
            .iter()
            .any(|m| m.username.as_str() == "mo" && m.must_change)
    );
    // Every page was looked at.
    let n = std::fs::read_dir(&shots).unwrap().count();
    assert!(n >= 20, "{n} screenshots in {}", shots.display());
}

fn state_of_request(
    t: &std::sync::Mutex<berth::tablet::Tablet>,
    s: &berth::tablet::Session,
    id: &str,
) -> RequestState {
    t.lock()
        .unwrap()
        .letters()
        .contact_requests_for(s)
        .unwrap()
        .into_iter()
        .find(|r| r.id == id)
        .expect("the request is on the tablet")
        .state
}
