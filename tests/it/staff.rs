//! Staff accounts at the dock (issue 17): creation, rules, login with
//! back-off, disable and reset, and the hash-chained staff audit trail,
//! through the library and through `berth-facility staff`.

use std::path::Path;
use std::process::{Command, Stdio};

use berth::dock::Dock;
use berth::dock::staff::{Actor, AuditCheck, StaffLogin};
use berth::domain::staff::{Role, Username};
use chrono::Duration;

use crate::helpers::{World, t0};

fn dock(w: &World) -> Dock {
    Dock::open_or_init(&w.path("facility"), &w.path("dock")).unwrap()
}

fn cli() -> Actor {
    Actor::Cli {
        os_user: "it-night".into(),
    }
}

fn name(s: &str) -> Username {
    s.parse().unwrap()
}

const PW: &str = "copper kettle on the stove";

#[test]
fn an_account_logs_in_backs_off_after_failures_and_ends_when_disabled() {
    let w = World::new();
    let mut d = dock(&w);
    let dana = name("dana");
    d.staff_add(&cli(), &dana, "Dana Ruiz", &[Role::ItAdmin], PW, t0())
        .unwrap();
    let m = match d.staff_login("Dana", PW, t0()).unwrap() {
        StaffLogin::In(m) => m,
        other => panic!("{other:?}"),
    };
    assert_eq!(m.roles, vec![Role::ItAdmin]);
    assert!(
        m.must_change,
        "a password set by someone else is changed at first login"
    );
    // Unknown names and wrong passwords are one answer.
    assert_eq!(
        d.staff_login("nobody", PW, t0()).unwrap(),
        StaffLogin::Wrong
    );
    assert_eq!(d.staff_login("!!", PW, t0()).unwrap(), StaffLogin::Wrong);
    // Four wrong tries answer Wrong; the fifth makes the account wait 30 s,
    // and even the right password is refused until then.
    for _ in 0..4 {
        assert_eq!(
            d.staff_login("dana", "wrong guess here", t0()).unwrap(),
            StaffLogin::Wrong
        );
    }
    let wait = d.staff_login("dana", "wrong guess here", t0()).unwrap();
    assert_eq!(
        wait,
        StaffLogin::Wait {
            until: t0() + Duration::seconds(30)
        }
    );
    assert_eq!(
        d.staff_login("dana", PW, t0() + Duration::seconds(10))
            .unwrap(),
        wait
    );
    assert!(matches!(
        d.staff_login("dana", PW, t0() + Duration::seconds(31))
            .unwrap(),
        StaffLogin::In(_)
    ));
    // The count starts again after a good login.
    assert_eq!(
        d.staff_login("dana", "wrong guess here", t0() + Duration::seconds(32))
            .unwrap(),
        StaffLogin::Wrong
    );

    // Disabled: the right password says so; a wrong one says only Wrong.
    d.staff_disable(&cli(), &dana, t0() + Duration::seconds(40))
        .unwrap();
    let later = t0() + Duration::seconds(50);
    assert_eq!(
        d.staff_login("dana", PW, later).unwrap(),
        StaffLogin::Disabled
    );
    // Reset keeps it disabled.
    d.staff_reset(&cli(), &dana, "a brand new long phrase", later)
        .unwrap();
    assert_eq!(
        d.staff_login("dana", "a brand new long phrase", later)
            .unwrap(),
        StaffLogin::Disabled
    );
    // One admin may not disable themself from the console.
    let err = d
        .staff_disable(&Actor::Staff(dana.clone()), &dana, later)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("your own account") && err.contains("Nothing was changed"),
        "{err}"
    );
}

#[test]
fn a_refused_change_changes_nothing_and_says_so() {
    let w = World::new();
    let mut d = dock(&w);
    d.staff_add(
        &cli(),
        &name("mo"),
        "Mo Díaz",
        &[Role::MailReviewer],
        PW,
        t0(),
    )
    .unwrap();
    let before = d.staff_audit(None).unwrap();
    let cases: Vec<(Result<_, _>, &str)> = vec![
        (
            d.staff_add(&cli(), &name("mo"), "Mo Again", &[Role::Auditor], PW, t0())
                .map(|_| ()),
            "already",
        ),
        (
            d.staff_add(&cli(), &name("ana"), "Ana", &[Role::Auditor], "short", t0())
                .map(|_| ()),
            "at least 12",
        ),
        (
            d.staff_add(&cli(), &name("ana"), "Ana", &[], PW, t0())
                .map(|_| ()),
            "at least one role",
        ),
        (
            d.staff_add(
                &cli(),
                &name("ana"),
                "Ana",
                &[Role::Auditor],
                "ana's own password",
                t0(),
            )
            .map(|_| ()),
            "login name",
        ),
        (
            d.staff_add(&cli(), &name("ana"), "  ", &[Role::Auditor], PW, t0())
                .map(|_| ()),
            "1 to 80",
        ),
        (
            d.staff_disable(&cli(), &name("ghost"), t0()),
            "no staff account ghost",
        ),
        (
            d.staff_reset(&cli(), &name("mo"), "tiny", t0()),
            "at least 12",
        ),
    ];
    for (r, says) in cases {
        let e = r.unwrap_err().to_string();
        assert!(e.contains(says), "{e:?} should say {says:?}");
        assert!(e.to_lowercase().contains("nothing was changed"), "{e}");
    }
    assert_eq!(d.staff_list().unwrap().len(), 1);
    assert_eq!(
        d.staff_audit(None).unwrap(),
        before,
        "no refused change is in the trail"
    );
    assert!(matches!(
        d.staff_login("mo", PW, t0()).unwrap(),
        StaffLogin::In(_)
    ));
}

#[test]
fn the_staff_trail_records_every_action_and_shows_an_edited_or_removed_row() {
    let w = World::new();
    let mut d = dock(&w);
    let mo = name("mo");
    d.staff_add(&cli(), &mo, "Mo", &[Role::MailReviewer], PW, t0())
        .unwrap();
    d.staff_login("mo", PW, t0()).unwrap();
    d.staff_login("mo", "not the password", t0()).unwrap();
    d.staff_reset(&cli(), &mo, "another long phrase", t0())
        .unwrap();
    d.staff_disable(&cli(), &mo, t0()).unwrap();
    let rows = d.staff_audit(None).unwrap();
    let actions: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| (r.actor.as_str(), r.action.as_str(), r.target.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("cli:it-night", "staff.add", "mo"),
            ("mo", "login", "mo"),
            ("mo", "login.failed", "mo"),
            ("cli:it-night", "staff.reset", "mo"),
            ("cli:it-night", "staff.disable", "mo"),
        ]
    );
    assert_eq!(d.staff_audit(Some("mo")).unwrap().len(), 2);
    assert_eq!(
        d.staff_audit_check().unwrap(),
        AuditCheck::Intact { rows: 5 }
    );
    drop(d);

    // Someone with the database file edits a row: the check finds it.
    let db = w.path("dock").join("dock.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE staff_audit SET actor = 'someone-else' WHERE seq = 4",
        [],
    )
    .unwrap();
    drop(conn);
    let d = dock(&w);
    assert_eq!(
        d.staff_audit_check().unwrap(),
        AuditCheck::BrokenAt { seq: 4 }
    );
    drop(d);
    // Put back, then remove a row in the middle: the next row's link breaks.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE staff_audit SET actor = 'cli:it-night' WHERE seq = 4",
        [],
    )
    .unwrap();
    assert_eq!(
        dock(&w).staff_audit_check().unwrap(),
        AuditCheck::Intact { rows: 5 }
    );
    conn.execute("DELETE FROM staff_audit WHERE seq = 2", [])
        .unwrap();
    drop(conn);
    assert_eq!(
        dock(&w).staff_audit_check().unwrap(),
        AuditCheck::BrokenAt { seq: 3 }
    );

    // No password or session token is stored as given.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let hash: String = conn
        .query_row(
            "SELECT password_hash FROM staff WHERE username = 'mo'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$") && !hash.contains("another"),
        "{hash}"
    );
}

fn facility_cli(w: &World, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let bin = Path::new(env!("CARGO_BIN_EXE_berth"))
        .parent()
        .unwrap()
        .join("berth-facility");
    let mut c = Command::new(bin);
    c.arg("staff").args(args);
    c.arg("--dir")
        .arg(w.path("facility"))
        .arg("--data")
        .arg(w.path("dock"));
    c.env("SUDO_USER", "it-day");
    c.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    if let Some(s) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_first_admin_is_made_at_the_command_line_and_its_password_works() {
    let w = World::new();
    drop(dock(&w));
    let (ok, out, err) = facility_cli(&w, &["list"], None);
    assert!(ok, "{err}");
    assert!(out.contains("add the first IT admin"), "{out}");
    let (ok, out, err) = facility_cli(
        &w,
        &["add", "dana", "--name", "Dana Ruiz", "--roles", "it-admin"],
        None,
    );
    assert!(ok, "{err}");
    let pw = out
        .lines()
        .find_map(|l| l.strip_prefix("password (shown once; changed at the first login): "))
        .unwrap_or_else(|| panic!("no password printed: {out}"))
        .to_string();
    assert!(matches!(
        dock(&w).staff_login("dana", &pw, t0()).unwrap(),
        StaffLogin::In(_)
    ));
    // From standard input (not the command line, which `ps` shows).
    let (ok, out, err) = facility_cli(
        &w,
        &[
            "add",
            "mo",
            "--name",
            "Mo",
            "--roles",
            "mail-reviewer,auditor",
            "--password-stdin",
        ],
        Some("a phrase from standard input\n"),
    );
    assert!(ok, "{err}");
    assert!(!out.contains("password ("), "{out}");
    assert!(matches!(
        dock(&w)
            .staff_login("mo", "a phrase from standard input", t0())
            .unwrap(),
        StaffLogin::In(_)
    ));
    // Bad input: a clear error, and nothing changed.
    for (args, says) in [
        (
            vec!["add", "x", "--name", "X", "--roles", "it-admin"],
            "not a usable login name",
        ),
        (
            vec!["add", "zed", "--name", "Z", "--roles", "admin"],
            "unknown role",
        ),
        (vec!["disable", "ghost"], "no staff account ghost"),
    ] {
        let (ok, _, err) = facility_cli(&w, &args, None);
        assert!(!ok);
        assert!(
            err.contains(says) && err.contains("nothing was changed"),
            "{err}"
        );
    }
    assert_eq!(dock(&w).staff_list().unwrap().len(), 2);
    // The trail names who ran the command, and exports as CSV.
    let (ok, out, _) = facility_cli(&w, &["audit", "--csv", "--actor", "cli:it-day"], None);
    assert!(ok);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "seq,at,actor,action,target,detail,sha256");
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[2].contains(",cli:it-day,staff.add,mo,\"name=Mo; roles=mail-reviewer,auditor\","),
        "{out}"
    );
    let (ok, out, _) = facility_cli(&w, &["audit", "--check"], None);
    // Two adds, and the two logins above.
    assert!(ok && out.contains("intact: 4 rows"), "{out}");
}

/// The role matrix in ARCHITECTURE.md is the one `domain::staff::may`
/// enforces: every cell, both ways. (BERTH_PRINT_MATRIX=1 prints it.)
#[test]
fn the_documented_role_matrix_is_the_enforced_one() {
    use berth::domain::staff::{Action, may};
    let header = format!(
        "| action | {} |",
        Role::ALL
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let rows: Vec<String> = Action::ALL
        .iter()
        .map(|&a| {
            let cells: Vec<&str> = Role::ALL
                .iter()
                .map(|&r| if may(r, a) { "yes" } else { "-" })
                .collect();
            format!("| {a:?} | {} |", cells.join(" | "))
        })
        .collect();
    if std::env::var_os("BERTH_PRINT_MATRIX").is_some() {
        println!(
            "{header}\n|{}\n{}",
            "---|".repeat(Role::ALL.len() + 1),
            rows.join("\n")
        );
    }
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .unwrap();
    assert!(
        doc.contains(&header),
        "ARCHITECTURE.md lacks the matrix header {header:?}"
    );
    for r in rows {
        assert!(
            doc.contains(&r),
            "ARCHITECTURE.md's role matrix differs at {r:?}"
        );
    }
}
