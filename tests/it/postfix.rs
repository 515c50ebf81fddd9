//! The mail gateway with a real Postfix from Debian on loopback, both ways:
//! a family member's mail goes through Postfix into the dock's Maildir, and
//! approved letters go from the dock to Postfix by SMTP and are read back
//! from Postfix's own delivery. No mock SMTP server.
//!
//! It needs Postfix and root (Postfix's master runs as root and drops to
//! its own users), so it is `#[ignore]`d in a plain `cargo test`; `.ci/run`
//! installs Postfix and runs it with
//! `cargo test --test it postfix -- --ignored`. The configuration it writes
//! is the one docs/mail.md gives IT departments.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use berth::domain::messages::OutState;

use crate::helpers::eventually;
use crate::sync::DockWorld;

/// A private Postfix instance: its own config, queue and port.
struct Postfix {
    etc: PathBuf,
    port: u16,
}

impl Postfix {
    /// `maildirs`: (domain, Maildir path) pairs Postfix delivers into.
    fn start(base: &Path, maildirs: &[(&str, &Path)]) -> Postfix {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let etc = base.join("etc");
        for d in ["etc", "spool", "data"] {
            std::fs::create_dir_all(base.join(d)).unwrap();
        }
        let owner = |p: &Path, user: &str| {
            let ok = Command::new("chown")
                .arg(user)
                .arg(p)
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown {user} {}", p.display());
        };
        owner(&base.join("data"), "postfix");
        // master.cf: Debian's, with no chroot and smtpd on our port.
        let master = std::fs::read_to_string("/etc/postfix/master.cf")
            .expect("Postfix is installed (apt-get install postfix)");
        let master: String = master
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                if f.len() >= 8 && !l.starts_with('#') && !l.starts_with(' ') {
                    let name = if f[0] == "smtp" && f[1] == "inet" {
                        format!("127.0.0.1:{port}")
                    } else {
                        f[0].to_string()
                    };
                    let chroot = if f[4] == "y" || f[4] == "-" {
                        "n"
                    } else {
                        f[4]
                    };
                    format!(
                        "{name} {} {} {} {chroot} {} {} {}",
                        f[1],
                        f[2],
                        f[3],
                        f[5],
                        f[6],
                        f[7..].join(" ")
                    )
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(etc.join("master.cf"), master + "\n").unwrap();
        let maps: Vec<String> = maildirs
            .iter()
            .map(|(domain, dir)| {
                format!(
                    "{{@{domain}={}/}}",
                    dir.display().to_string().trim_start_matches('/')
                )
            })
            .collect();
        let domains: Vec<&str> = maildirs.iter().map(|(d, _)| *d).collect();
        let b = base.display();
        let main = format!(
            "compatibility_level = 3.6\n\
             queue_directory = {b}/spool\n\
             data_directory = {b}/data\n\
             mail_owner = postfix\n\
             setgid_group = postdrop\n\
             inet_interfaces = 127.0.0.1\n\
             inet_protocols = ipv4\n\
             myhostname = relay.facility.test\n\
             mydestination =\n\
             mynetworks = 127.0.0.0/8\n\
             smtputf8_enable = yes\n\
             virtual_mailbox_domains = {}\n\
             virtual_mailbox_base = /\n\
             virtual_mailbox_maps = inline:{{ {} }}\n\
             virtual_uid_maps = static:65534\n\
             virtual_gid_maps = static:65534\n\
             maillog_file_prefixes = {b}\n\
             maillog_file = {b}/maillog\n",
            domains.join(", "),
            maps.join(", ")
        );
        std::fs::write(etc.join("main.cf"), main).unwrap();
        let _ = Command::new("postfix")
            .arg("-c")
            .arg(&etc)
            .arg("set-permissions")
            .output();
        let out = Command::new("postfix")
            .arg("-c")
            .arg(&etc)
            .arg("start")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "postfix start: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let p = Postfix { etc, port };
        assert!(
            eventually(20, || std::net::TcpStream::connect(("127.0.0.1", port))
                .is_ok()),
            "Postfix did not listen on {port}; see {}/maillog",
            base.display()
        );
        p
    }

    fn stop(&self) {
        let _ = Command::new("postfix")
            .arg("-c")
            .arg(&self.etc)
            .arg("stop")
            .output();
        let _ = eventually(10, || {
            std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err()
        });
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Postfix's delivery agent runs as nobody: it must reach and write the
/// Maildir, so every folder above it may be entered.
fn open_to_delivery(maildir: &Path) {
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    let ok = Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(maildir)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let mut p = maildir.parent();
    while let Some(dir) = p {
        if dir == Path::new("/") {
            break;
        }
        let mut perm = std::fs::metadata(dir).unwrap().permissions();
        perm.set_mode(perm.mode() | 0o711);
        std::fs::set_permissions(dir, perm).unwrap();
        p = dir.parent();
    }
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

#[test]
#[ignore = "needs Postfix and root; .ci/run runs it"]
fn postfix_round_trip_both_ways() {
    let dw = DockWorld::new();
    let outside = dw.w.path("outside-mail");
    let dock_maildir = dw.data.join("gateway/maildir");
    open_to_delivery(&dock_maildir);
    open_to_delivery(&outside);
    let pf = Postfix::start(
        &dw.w.path("postfix"),
        &[
            ("letters.berth.invalid", &dock_maildir),
            ("example.org", &outside),
        ],
    );
    std::fs::write(
        dw.data.join("dock.toml"),
        format!("smtp_relay = \"127.0.0.1:{}\"\n", pf.port),
    )
    .unwrap();

    // María writes to Ana; the tablet syncs; staff approve.
    let t = dw.tablet("tab-1");
    let s = crate::sync::maria(&t);
    let letter = t
        .lock()
        .unwrap()
        .letters()
        .queue_letter(&s, "ana", "Querida Ana: ¿cómo están los niños? 🌻")
        .unwrap()
        .id;
    dw.sync(&t).unwrap();
    let mut dock = dw.dock();
    dock.review_approve(&letter, &"officer".parse().unwrap())
        .unwrap();
    dw.sync(&t).unwrap();
    assert_eq!(crate::sync::state_of(&t, &s, &letter).0, OutState::Approved);

    // The dock submits it to Postfix, which delivers it to Ana's Maildir.
    let r = dock.send_approved().unwrap();
    assert_eq!(r.sent, vec![letter.clone()], "{r:?}");
    assert!(
        eventually(30, || !files_in(&outside.join("new")).is_empty()),
        "Postfix did not deliver the letter; see its maillog"
    );
    let got = std::fs::read_to_string(&files_in(&outside.join("new"))[0]).unwrap();
    assert!(
        got.contains(&format!("Message-ID: <{letter}@letters.berth.invalid>")),
        "{got}"
    );
    let parsed = mail_parser::MessageParser::default()
        .parse(got.as_bytes())
        .unwrap();
    assert_eq!(
        parsed.to().unwrap().first().unwrap().name(),
        Some("Ana González")
    );
    assert_eq!(
        parsed.body_text(0).unwrap().trim(),
        "Querida Ana: ¿cómo están los niños? 🌻"
    );
    // "Sent" reaches the tablet; it is not sent twice.
    dw.sync(&t).unwrap();
    assert_eq!(crate::sync::state_of(&t, &s, &letter).0, OutState::Sent);
    assert!(dock.send_approved().unwrap().sent.is_empty());

    // Ana replies through Postfix; it lands in the dock's Maildir.
    let reply = mail_builder::MessageBuilder::new()
        .from(("Ana González", "ana.gonzalez@example.org"))
        .to("a12345@letters.berth.invalid")
        .subject("Re: Carta")
        .text_body("¡Todos bien, María! Te mandamos besos.")
        .write_to_vec()
        .unwrap();
    {
        use lettre::Transport;
        let smtp = lettre::SmtpTransport::builder_dangerous("127.0.0.1")
            .port(pf.port)
            .build();
        let env = lettre::address::Envelope::new(
            Some("ana.gonzalez@example.org".parse().unwrap()),
            vec!["a12345@letters.berth.invalid".parse().unwrap()],
        )
        .unwrap();
        smtp.send_raw(&env, &reply).unwrap();
    }
    assert!(
        eventually(30, || !files_in(&dock_maildir.join("new")).is_empty()),
        "Postfix did not deliver the reply into the dock's Maildir"
    );
    let report = dock.import_mail(None).unwrap();
    assert_eq!(report.accepted.len(), 1, "{report:?}");
    let item = dock.review_list().unwrap().pop().unwrap();
    assert_eq!(item.subject.as_deref(), Some("Re: Carta"));
    assert_eq!(
        item.body.as_deref(),
        Some("¡Todos bien, María! Te mandamos besos.")
    );

    // With the relay down, a letter stays "approved" and the failure is
    // recorded for staff, to be tried again later.
    pf.stop();
    let second = t
        .lock()
        .unwrap()
        .letters()
        .queue_letter(&s, "ana", "Otra carta")
        .unwrap()
        .id;
    dw.sync(&t).unwrap();
    dock.review_approve(&second, &"officer".parse().unwrap())
        .unwrap();
    let r = dock.send_approved().unwrap();
    assert!(r.sent.is_empty());
    assert_eq!(r.failed.len(), 1);
    assert!(
        r.failed[0].1.contains("could not take it now"),
        "{:?}",
        r.failed
    );
    let (tries, error, sent) = dock.relay_status(&second).unwrap().unwrap();
    assert_eq!((tries, sent), (1, None));
    assert!(!error.is_empty());
    // Not due again yet: backing off.
    assert!(dock.send_approved().unwrap().failed.is_empty());
}
