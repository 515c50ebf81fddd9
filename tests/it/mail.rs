//! The mail gateway against a corpus of real-world-shaped messages: every
//! message is imported with all its text, or refused with a reason staff
//! can see. Nothing is dropped, nothing is imported twice.

use berth::dock::gateway::deliver_to_maildir;
use berth::dock::{Dock, ReviewKind};

use crate::sync::DockWorld;

const TO: &str = "a12345@letters.berth.invalid";
const ANA: &str = "ana.gonzalez@example.org";

/// A message from Ana to María with the given extra headers and body.
fn mail(headers: &str, body: &[u8]) -> Vec<u8> {
    let mut m =
        format!("From: Ana <{ANA}>\r\nTo: {TO}\r\nMIME-Version: 1.0\r\n{headers}\r\n").into_bytes();
    m.extend_from_slice(body);
    m
}

/// (name, raw message, texts it must keep — or None when it must be
/// refused, with a word the reason must contain).
type Case = (
    &'static str,
    Vec<u8>,
    Result<Vec<&'static str>, &'static str>,
);

fn corpus() -> Vec<Case> {
    let sjis: &[u8] = b"\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd"; // こんにちは
    let jis: &[u8] = b"\x1b$B$3$s$K$A$O\x1b(B"; // こんにちは
    vec![
        ("plain", mail("Subject: Hola\r\nContent-Type: text/plain; charset=utf-8\r\n", "¡Hola María! Ñandú 🌻\r\n".as_bytes()), Ok(vec!["¡Hola María! Ñandú 🌻"])),
        ("shift_jis", mail("Subject: =?shift_jis?B?grGC8YLJgr+CzQ==?=\r\nContent-Type: text/plain; charset=shift_jis\r\nContent-Transfer-Encoding: 8bit\r\n", &[sjis, b"\r\n"].concat()), Ok(vec!["こんにちは"])),
        ("iso-2022-jp", mail("Subject: x\r\nContent-Type: text/plain; charset=iso-2022-jp\r\nContent-Transfer-Encoding: 7bit\r\n", &[jis, b"\r\n"].concat()), Ok(vec!["こんにちは"])),
        ("koi8-r", mail("Content-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: 8bit\r\n", b"\xf0\xd2\xc9\xd7\xc5\xd4\r\n"), Ok(vec!["Привет"])),
        ("gb2312", mail("Content-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: 8bit\r\n", b"\xc4\xe3\xba\xc3\r\n"), Ok(vec!["你好"])),
        ("big5", mail("Content-Type: text/plain; charset=big5\r\nContent-Transfer-Encoding: 8bit\r\n", b"\xa7\x41\xa6\x6e\r\n"), Ok(vec!["你好"])),
        ("euc-kr", mail("Content-Type: text/plain; charset=euc-kr\r\nContent-Transfer-Encoding: 8bit\r\n", b"\xbe\xc8\xb3\xe7\r\n"), Ok(vec!["안녕"])),
        ("windows-1252", mail("Content-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: 8bit\r\n", b"caf\xe9 \x80 5\r\n"), Ok(vec!["café € 5"])),
        ("latin1-qp-and-base64", mail(
            "Subject: =?iso-8859-1?Q?Jos=E9?=\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n",
            b"preamble\r\n--b1\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nQuerida Mar=EDa,\r\n--b1\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\nbGEgbmnxYSBlc3ThIGJpZW4u\r\n--b1--\r\n"),
            Ok(vec!["Querida María,", "la niña está bien."])),
        ("eight-parts", mail("Content-Type: multipart/mixed; boundary=p\r\n",
            &(1..=8).map(|i| format!("--p\r\nContent-Type: text/plain\r\n\r\nparte {i}\r\n")).collect::<String>().into_bytes().into_iter().chain(b"--p--\r\n".iter().copied()).collect::<Vec<u8>>()),
            Ok(vec!["parte 1", "parte 2", "parte 3", "parte 4", "parte 5", "parte 6", "parte 7", "parte 8"])),
        ("alternative", mail("Content-Type: multipart/alternative; boundary=a\r\n",
            b"--a\r\nContent-Type: text/plain\r\n\r\nsolo texto\r\n--a\r\nContent-Type: text/html\r\n\r\n<p>solo <b>HTML</b></p>\r\n--a--\r\n"),
            Ok(vec!["solo texto"])),
        ("html-only", mail("Content-Type: text/html; charset=utf-8\r\n", b"<html><body><p>Te quiero, <i>hermana</i>.</p></body></html>\r\n"), Ok(vec!["Te quiero, hermana."])),
        ("html-no-boundary", mail("Content-Type: multipart/alternative\r\n",
            b"--zz\r\nContent-Type: text/html\r\n\r\n<div>Nos vemos el <b>domingo</b></div>\r\n--zz--\r\n"),
            Ok(vec!["Nos vemos el domingo"])),
        ("rfc822-attached", mail("Content-Type: multipart/mixed; boundary=m\r\n",
            b"--m\r\nContent-Type: text/plain\r\n\r\nTe reenvio esto:\r\n--m\r\nContent-Type: message/rfc822\r\n\r\nFrom: Luis <luis@example.org>\r\nSubject: La fiesta\r\n\r\nEl cumple es el 5.\r\n--m--\r\n"),
            Ok(vec!["Te reenvio esto:", "Subject: La fiesta", "El cumple es el 5."])),
        ("rfc822-base64", mail("Content-Type: multipart/mixed; boundary=m\r\n",
            b"--m\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nRnJvbTogbHVpc0BleGFtcGxlLm9yZw0KDQpIb2xhIGRlc2RlIGFkZW50cm8uDQo=\r\n--m--\r\n"),
            Ok(vec!["Hola desde adentro."])),
        ("digest", mail("Content-Type: multipart/digest; boundary=d\r\n",
            b"--d\r\n\r\nFrom: a@example.org\r\nSubject: uno\r\n\r\nprimero\r\n--d\r\n\r\nFrom: b@example.org\r\nSubject: dos\r\n\r\nsegundo\r\n--d--\r\n"),
            Ok(vec!["primero", "segundo"])),
        ("text-x-and-bare-text", mail("Content-Type: multipart/mixed; boundary=t\r\n",
            b"--t\r\nContent-Type: text/x-markdown\r\n\r\n# Titulo\r\n--t\r\nContent-Type: text\r\n\r\nsin subtipo\r\n--t--\r\n"),
            Ok(vec!["# Titulo", "sin subtipo"])),
        ("attachment", mail("Content-Type: multipart/mixed; boundary=f\r\n",
            b"--f\r\nContent-Type: text/plain\r\n\r\nTe mando una foto.\r\n--f\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename=\"foto.jpg\"\r\nContent-Transfer-Encoding: base64\r\n\r\n/9j/4AAQSkZJRgABAQ==\r\n--f--\r\n"),
            Ok(vec!["Te mando una foto."])),
        ("no-blank-line", format!("From: {ANA}\r\nTo: {TO}\r\nSubject: sin linea\r\nQuerida María:\r\nno hay linea en blanco.\r\n").into_bytes(), Ok(vec!["Querida María:", "no hay linea en blanco."])),
        ("folded-and-odd-headers", format!("From: Ana\r\n <{ANA}>\r\nTo: {TO}\r\nX-Weird:\r\nSubject: =?utf-8?q?=C2=A1Hola!?=\r\n\r\ncuerpo\r\n").into_bytes(), Ok(vec!["cuerpo"])),
        ("bad-charset-name", mail("Content-Type: text/plain; charset=x-unknown-9\r\n", b"plain ascii still\r\n"), Ok(vec!["plain ascii still"])),
        ("no-text", mail("Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n", b"iVBORw0KGgo=\r\n"), Err("no text")),
        ("two-from", format!("From: evil@example.net\r\nFrom: {ANA}\r\nTo: {TO}\r\n\r\nhola\r\n").into_bytes(), Err("2 From headers")),
        ("two-addresses", format!("From: {ANA}, evil@example.net\r\nTo: {TO}\r\n\r\nhola\r\n").into_bytes(), Err("2 addresses")),
        ("no-from", format!("To: {TO}\r\n\r\nhola\r\n").into_bytes(), Err("no From")),
        ("stranger", format!("From: evil@example.net\r\nTo: {TO}\r\n\r\nhola\r\n").into_bytes(), Err("approved contact list")),
        ("not-for-us", format!("From: {ANA}\r\nTo: someone@example.com\r\n\r\nhola\r\n").into_bytes(), Err("no recipient")),
        ("garbage", b"\x00\x01\x02 this is not mail".to_vec(), Err("")),
        ("too-big", mail("", &vec![b'a'; berth::dock::gateway::MAX_EML_BYTES + 1]), Err("limit")),
    ]
}

#[test]
fn every_message_is_imported_whole_or_refused_with_a_reason() {
    let dw = DockWorld::new();
    let mut dock: Dock = dw.dock();
    let maildir = dw.data.join("gateway/maildir");
    let cases = corpus();
    let mut names = Vec::new();
    for (_, bytes, _) in &cases {
        names.push(deliver_to_maildir(&maildir, bytes).unwrap());
    }
    let report = dock.import_mail(None).unwrap();
    assert_eq!(report.total(), cases.len(), "{report:#?}");
    assert!(report.duplicates.is_empty());
    let items: Vec<_> = dock
        .review_list()
        .unwrap()
        .into_iter()
        .filter(|i| i.kind == ReviewKind::Inbound)
        .collect();
    let refusals = dock.refusals().unwrap();
    for ((case, _, want), name) in cases.iter().zip(&names) {
        match want {
            Ok(texts) => {
                assert!(
                    report.accepted.contains(name),
                    "{case} was not imported: {report:#?}"
                );
                // Each accepted message is one review item; find it by its text.
                let item = items
                    .iter()
                    .find(|i| i.body.as_deref().is_some_and(|b| b.contains(texts[0])))
                    .unwrap_or_else(|| panic!("{case}: no review item holds {:?}", texts[0]));
                let body = item.body.as_deref().unwrap();
                let mut at = 0;
                for t in texts {
                    let found = body[at..].find(t).unwrap_or_else(|| {
                        panic!("{case}: {t:?} missing or out of order in {body:?}")
                    });
                    at += found + t.len();
                }
            }
            Err(word) => {
                let (_, reason) = report
                    .refused
                    .iter()
                    .find(|(n, _)| n == name)
                    .unwrap_or_else(|| panic!("{case} was not refused: {report:#?}"));
                assert!(reason.contains(word), "{case}: {reason}");
                assert!(
                    refusals
                        .iter()
                        .any(|(_, what, why)| what.contains(name) && why == reason),
                    "{case}: the refusal is not recorded for staff"
                );
            }
        }
    }
    // Nothing is left behind in new/, and every file went somewhere.
    assert_eq!(std::fs::read_dir(maildir.join("new")).unwrap().count(), 0);
    let processed = std::fs::read_dir(dw.data.join("gateway/processed"))
        .unwrap()
        .count();
    let refused = std::fs::read_dir(dw.data.join("gateway/refused"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "eml")
        })
        .count();
    assert_eq!(processed + refused, cases.len());

    // The subject and the removed attachment reach staff.
    let photo = items
        .iter()
        .find(|i| i.body.as_deref().is_some_and(|b| b.contains("una foto")))
        .unwrap();
    assert_eq!(photo.removed.len(), 1);
    assert_eq!(photo.removed[0].name, "foto.jpg");
    let sjis = items
        .iter()
        .find(|i| {
            i.body.as_deref().is_some_and(|b| b.contains("こんにちは"))
                && i.subject.as_deref() != Some("x")
        })
        .unwrap();
    assert_eq!(sjis.subject.as_deref(), Some("こんにちは"));
}

#[test]
fn messages_sharing_a_message_id_are_all_imported_and_a_redelivery_is_not() {
    let dw = DockWorld::new();
    let mut dock = dw.dock();
    let maildir = dw.data.join("gateway/maildir");
    for i in 0..4 {
        let m = mail(
            "Message-ID: <same@example.org>\r\n",
            format!("carta {i}\r\n").as_bytes(),
        );
        deliver_to_maildir(&maildir, &m).unwrap();
    }
    // The same bytes delivered twice (a relay retry) are one letter.
    let again = mail("Message-ID: <other@example.org>\r\n", b"otra vez\r\n");
    deliver_to_maildir(&maildir, &again).unwrap();
    deliver_to_maildir(&maildir, &again).unwrap();
    let report = dock.import_mail(None).unwrap();
    assert_eq!(report.accepted.len(), 5, "{report:#?}");
    assert_eq!(report.duplicates.len(), 1, "{report:#?}");
    assert_eq!(dock.review_list().unwrap().len(), 5);
    // A later run with the same message again: still a duplicate.
    deliver_to_maildir(&maildir, &again).unwrap();
    let report = dock.import_mail(None).unwrap();
    assert_eq!((report.accepted.len(), report.duplicates.len()), (0, 1));
    assert_eq!(dock.review_list().unwrap().len(), 5);
}

#[test]
fn a_message_to_two_people_reaches_the_one_who_approves_the_sender() {
    let dw = DockWorld::new();
    let mut dock = dw.dock();
    let m = format!(
        "From: {ANA}\r\nTo: {TO}, b20417@letters.berth.invalid\r\nSubject: a los dos\r\n\r\nhola a los dos\r\n"
    );
    deliver_to_maildir(&dw.data.join("gateway/maildir"), m.as_bytes()).unwrap();
    let report = dock.import_mail(None).unwrap();
    assert_eq!(report.accepted.len(), 1, "{report:#?}");
    assert_eq!(report.refused_for.len(), 1);
    assert_eq!(report.refused_for[0].1, "B20417");
    let items = dock.review_list().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].person, "A12345");
    assert_eq!(items[0].subject.as_deref(), Some("a los dos"));
    assert!(
        dock.refusals()
            .unwrap()
            .iter()
            .any(|(_, what, why)| what.contains("B20417") && why.contains("approved contact list"))
    );
}

#[test]
fn a_half_written_message_in_tmp_is_not_imported() {
    let dw = DockWorld::new();
    let mut dock = dw.dock();
    let maildir = dw.data.join("gateway/maildir");
    std::fs::write(
        maildir.join("tmp/123.M1P1.host"),
        b"From: ana.gonzalez@example.org\r\nTo: a12",
    )
    .unwrap();
    // Any name in new/ is a message: upper-case, no extension, anything.
    for name in ["A.EML", "noext"] {
        std::fs::write(
            maildir.join("new").join(name),
            mail("", format!("{name}\r\n").as_bytes()),
        )
        .unwrap();
    }
    let report = dock.import_mail(None).unwrap();
    assert_eq!(report.accepted.len(), 2, "{report:#?}");
    assert!(maildir.join("tmp/123.M1P1.host").exists());
    assert_eq!(dock.review_list().unwrap().len(), 2);
}

#[test]
fn with_relay_checking_only_mail_the_relay_verified_is_accepted() {
    let dw = DockWorld::new();
    std::fs::write(
        dw.data.join("dock.toml"),
        "sender_check = \"authentication-results\"\nauthserv_id = \"mx.facility.example\"\n",
    )
    .unwrap();
    let mut dock = dw.dock();
    let maildir = dw.data.join("gateway/maildir");
    let verified = mail(
        "Authentication-Results: mx.facility.example; dkim=pass header.d=example.org; dmarc=pass header.from=example.org\r\n",
        b"verificada\r\n",
    );
    // A forged result below a failing one from the relay.
    let forged = mail(
        "Authentication-Results: mx.facility.example; dmarc=fail header.from=example.org\r\nAuthentication-Results: mx.facility.example; dmarc=pass header.from=example.org\r\n",
        b"falsa\r\n",
    );
    let unchecked = mail("", b"sin verificar\r\n");
    for m in [&verified, &forged, &unchecked] {
        deliver_to_maildir(&maildir, m).unwrap();
    }
    let report = dock.import_mail(None).unwrap();
    assert_eq!(report.accepted.len(), 1, "{report:#?}");
    assert_eq!(report.refused.len(), 2);
    let items = dock.review_list().unwrap();
    assert_eq!(items[0].body.as_deref(), Some("verificada"));
}

#[test]
fn a_database_failure_leaves_the_message_for_the_next_run_not_refused() {
    let dw = DockWorld::new();
    let maildir = dw.data.join("gateway/maildir");
    let name = deliver_to_maildir(&maildir, &mail("Subject: x\r\n", b"hola\r\n")).unwrap();
    // The database refuses every insert, as a full disk would.
    let c = rusqlite::Connection::open(dw.data.join("dock.db")).unwrap();
    c.execute_batch(
        "CREATE TRIGGER no_space BEFORE INSERT ON inbound BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
    )
    .unwrap();
    let mut dock = dw.dock();
    assert!(dock.import_mail(None).is_err());
    assert!(
        maildir.join("new").join(&name).exists(),
        "the message left new/"
    );
    assert!(
        dock.refusals().unwrap().is_empty(),
        "a good message was refused"
    );
    c.execute_batch("DROP TRIGGER no_space;").unwrap();
    let report = dock.import_mail(None).unwrap();
    assert_eq!(report.accepted, vec![name]);
}
