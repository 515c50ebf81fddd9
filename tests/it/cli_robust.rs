//! The command-line tools when things are not as they should be: a closed
//! pipe, hostile text, a missing or damaged database, a lost device key.
//! Each says what is wrong and what to do, and changes nothing it should
//! not.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::helpers::*;
use crate::sync::DockWorld;

fn bin(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_BIN_EXE_berth"))
        .parent()
        .unwrap()
        .join(name)
}

/// (success, stdout, stderr); never a panic.
fn run(name: &str, args: &[&std::ffi::OsStr]) -> (bool, String, String) {
    let out = Command::new(bin(name)).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !stderr.contains("panicked"),
        "{name} {args:?} panicked: {stderr}"
    );
    (out.status.success(), stdout, stderr)
}

fn os<S: AsRef<std::ffi::OsStr> + ?Sized>(s: &S) -> &std::ffi::OsStr {
    s.as_ref()
}

/// Mail from a stranger, and one whose file name carries a terminal
/// escape: both are refused, so `gateway refusals` has lines to print.
fn refusals_with_escapes(dw: &DockWorld) {
    let maildir = dw.data.join("gateway/maildir");
    std::fs::write(
        maildir.join("new").join("evil\x1b[2J\x07name"),
        b"From: stranger@example.net\r\nTo: a12345@letters.berth.invalid\r\n\r\nhola\r\n",
    )
    .unwrap();
    for i in 0..50 {
        berth::dock::gateway::deliver_to_maildir(
            &maildir,
            format!(
                "From: stranger{i}@example.net\r\nTo: a12345@letters.berth.invalid\r\n\r\nhola\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
    }
    dw.dock().import_mail(None).unwrap();
}

#[test]
fn output_to_a_closed_pipe_ends_quietly() {
    let dw = DockWorld::new();
    refusals_with_escapes(&dw);
    for args in [["gateway", "refusals"], ["review", "list"]] {
        let mut child = Command::new(bin("berth-facility"))
            .args(args)
            .arg("--dir")
            .arg(dw.w.path("facility"))
            .arg("--data")
            .arg(&dw.data)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before the tool writes a line.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(out.status.success(), "{args:?}: {:?} {stderr}", out.status);
    }
}

#[test]
fn control_characters_from_outside_are_shown_not_obeyed() {
    let dw = DockWorld::new();
    refusals_with_escapes(&dw);
    let (ok, stdout, _) = run(
        "berth-facility",
        &[
            os("gateway"),
            os("refusals"),
            os("--dir"),
            dw.w.path("facility").as_os_str(),
            os("--data"),
            dw.data.as_os_str(),
        ],
    );
    assert!(ok);
    assert!(
        !stdout.contains('\x1b') && !stdout.contains('\x07'),
        "{stdout:?}"
    );
    assert!(stdout.contains("evil\\u{1b}[2J\\u{7}name"), "{stdout}");
}

#[test]
fn the_dock_never_starts_on_a_missing_empty_or_damaged_database() {
    let dw = DockWorld::new();
    let f = dw.w.path("facility");
    // A dock that starts anyway would serve forever: give it 20 s.
    let serve_briefly = |data: &Path| {
        let mut child = Command::new(bin("berth-dock"))
            .args([
                os("serve"),
                os("--listen"),
                os("127.0.0.1:0"),
                os("--console-listen"),
                os("127.0.0.1:0"),
                os("--dir"),
                f.as_os_str(),
                os("--data"),
                data.as_os_str(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        for _ in 0..200 {
            if child.try_wait().unwrap().is_some() {
                let out = child.wait_with_output().unwrap();
                return (
                    out.status.success(),
                    String::from_utf8_lossy(&out.stdout).to_string(),
                    String::from_utf8_lossy(&out.stderr).to_string(),
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = child.kill();
        panic!("berth-dock serve started on {}", data.display());
    };
    let serve = |data: &Path| {
        run(
            "berth-dock",
            &[
                os("serve"),
                os("--listen"),
                os("127.0.0.1:0"),
                os("--console-listen"),
                os("127.0.0.1:0"),
                os("--dir"),
                f.as_os_str(),
                os("--data"),
                data.as_os_str(),
            ],
        )
    };
    // Missing: refused, and nothing is created.
    let missing = dw.w.path("no-such-dock");
    let (ok, _, err) = serve(&missing);
    assert!(!ok);
    assert!(
        err.contains("does not exist") && err.contains("berth-dock init"),
        "{err}"
    );
    assert!(!missing.exists());
    let (ok, _, err) = run(
        "berth-facility",
        &[
            os("review"),
            os("list"),
            os("--dir"),
            f.as_os_str(),
            os("--data"),
            missing.as_os_str(),
        ],
    );
    assert!(!ok, "{err}");
    assert!(
        !missing.exists(),
        "a read-only command created {}",
        missing.display()
    );

    // Empty: refused.
    let empty = dw.w.path("empty-dock");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("dock.db"), b"").unwrap();
    let (ok, _, err) = serve(&empty);
    assert!(!ok);
    assert!(err.contains("is empty"), "{err}");

    // Damaged: a page of the real database overwritten.
    let damaged = dw.w.path("damaged-dock");
    let (ok, out, err) = run(
        "berth-dock",
        &[
            os("init"),
            os("--dir"),
            f.as_os_str(),
            os("--data"),
            damaged.as_os_str(),
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("made a new dock"), "{out}");
    {
        let mut d = berth::dock::Dock::open(&f, &damaged).unwrap();
        for i in 0..200 {
            d.enroll(
                &"cli:test".parse().unwrap(),
                berth::trust::SigningKey::generate_to_file(&dw.w.path(&format!("k{i}.pk8")))
                    .unwrap()
                    .public(),
                &format!("tablet-{i:03}-with-a-long-name-to-fill-pages"),
                &["unit:b-east".parse().unwrap()],
            )
            .unwrap();
        }
    }
    let db = damaged.join("dock.db");
    let mut bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() > 4 * 4096, "{}", bytes.len());
    // Every B-tree page's header after the schema page (a disk that lost
    // writes): the file still opens, but its tables are unreadable.
    let pages = bytes.len() / 4096;
    for p in 1..pages {
        for b in &mut bytes[p * 4096..p * 4096 + 12] {
            *b = 0x77;
        }
    }
    std::fs::write(&db, &bytes).unwrap();
    let (ok, _, err) = serve_briefly(&damaged);
    assert!(!ok);
    assert!(
        err.contains("is damaged") && err.contains("restore dock.db from the last backup"),
        "{err}"
    );
    // So does every staff command.
    let (ok, _, err) = run(
        "berth-facility",
        &[
            os("review"),
            os("list"),
            os("--dir"),
            f.as_os_str(),
            os("--data"),
            damaged.as_os_str(),
        ],
    );
    assert!(!ok);
    assert!(err.contains("is damaged"), "{err}");

    // Damage only an integrity check finds: an index whose stored order
    // no longer matches its definition. The database opens; serve refuses.
    let subtle = dw.w.path("subtle-dock");
    let (ok, _, err) = run(
        "berth-dock",
        &[
            os("init"),
            os("--dir"),
            f.as_os_str(),
            os("--data"),
            subtle.as_os_str(),
        ],
    );
    assert!(ok, "{err}");
    {
        let c = rusqlite::Connection::open(subtle.join("dock.db")).unwrap();
        c.execute_batch(
            "CREATE TABLE junk (x INTEGER); CREATE INDEX junk_x ON junk (x);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
             INSERT INTO junk SELECT i FROM n;
             PRAGMA writable_schema = ON;
             UPDATE sqlite_schema SET sql = 'CREATE INDEX junk_x ON junk (x DESC)' WHERE name = 'junk_x';
             PRAGMA writable_schema = OFF;",
        )
        .unwrap();
    }
    let (ok, _, err) = run(
        "berth-facility",
        &[
            os("tablets"),
            os("--dir"),
            f.as_os_str(),
            os("--data"),
            subtle.as_os_str(),
        ],
    );
    assert!(ok, "an ordinary command still reads it: {err}");
    let (ok, _, err) = serve_briefly(&subtle);
    assert!(!ok);
    assert!(
        err.contains("integrity check") && err.contains("restore dock.db"),
        "{err}"
    );

    // Init twice: refused, nothing changed.
    let before = std::fs::read(&db).unwrap();
    let (ok, _, err) = run(
        "berth-dock",
        &[
            os("init"),
            os("--dir"),
            f.as_os_str(),
            os("--data"),
            damaged.as_os_str(),
        ],
    );
    assert!(!ok);
    assert!(
        err.contains("already exists") && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn a_tablet_that_lost_its_device_key_is_refused_not_given_a_new_one() {
    let w = World::new();
    let t = w.open_unit_tablet("tab");
    let key = t.device_public_key();
    drop(t);
    let data = w.path("tab");
    std::fs::remove_file(data.join("device.pk8")).unwrap();
    let (ok, stdout, err) = run("berth", &[os("status"), os("--data"), data.as_os_str()]);
    assert!(!ok, "{stdout}");
    assert!(
        err.contains("device.pk8 is missing") && err.contains("re-enrol"),
        "{err}"
    );
    assert!(!data.join("device.pk8").exists(), "a new key was written");
    assert!(!stdout.contains(&key.to_hex()));
}

#[test]
fn status_and_sync_on_a_directory_with_no_tablet_say_how_to_set_one_up() {
    let w = World::new();
    let missing = w.path("nothing-here");
    for args in [
        vec![os("status"), os("--data"), missing.as_os_str()],
        vec![
            os("sync"),
            os("--data"),
            missing.as_os_str(),
            os("--dock"),
            os("127.0.0.1:9"),
        ],
    ] {
        let (ok, _, err) = run("berth", &args);
        assert!(!ok);
        assert!(
            err.contains("holds no tablet") && err.contains("berth install --trust"),
            "{err}"
        );
        assert!(!err.contains("pass --trust"), "{err}");
        assert!(!missing.exists());
    }
}

#[test]
fn keygen_makes_the_folder_it_is_given() {
    let w = World::new();
    let out = w.path("V/keys/vendor.pk8");
    let (ok, _, err) = run(
        "berth-vendor",
        &[os("keygen"), os("--out"), out.as_os_str()],
    );
    assert!(ok, "{err}");
    assert!(out.exists());
}

#[test]
fn a_grant_to_someone_on_no_roster_is_refused() {
    let dw = DockWorld::new();
    let (ok, _, err) = run(
        "berth-facility",
        &[
            os("entitlement"),
            os("grant"),
            os("--dir"),
            dw.w.path("facility").as_os_str(),
            os("--data"),
            dw.data.as_os_str(),
            os("--person"),
            os("Z99999"),
            os("--item"),
            os("album:0123456789012"),
        ],
    );
    assert!(!ok);
    assert!(
        err.contains("Z99999 is on no roster") && err.contains("nothing was granted"),
        "{err}"
    );
    assert!(dw.dock().entitlements_of("Z99999").unwrap().is_empty());
}
