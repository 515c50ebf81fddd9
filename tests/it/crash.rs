//! kill -9 at each install step: the `berth` binary aborts at a failpoint
//! (BERTH_FAILPOINT), as a power cut would stop it. The next start must
//! show the old state or the new state exactly, with a sound database and
//! no orphans.

use std::process::Command;

use berth::store::Store;

use crate::helpers::*;
use berth::domain::messages::OutState;

const STEPS: &[(&str, bool)] = &[
    // (failpoint, does the new version win?)
    ("install:after-header", false),
    ("install:after-chunk-0", false),
    ("install:after-chunk-3", false),
    ("install:after-stage", false),
    ("install:after-rename", false),
    ("install:before-commit", false),
    ("install:after-commit", true),
];

fn berth(args: &[&str], failpoint: Option<&str>) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_berth"));
    c.args(args);
    match failpoint {
        Some(f) => c.env("BERTH_FAILPOINT", f),
        None => c.env_remove("BERTH_FAILPOINT"),
    };
    c.output().unwrap()
}

#[test]
fn kill_9_at_each_install_step_leaves_old_or_new_state_exactly() {
    let w = World::new();
    let src1 = w.source("v1src", 1, &[3000, 10]);
    let src2 = w.source("v2src", 2, &[4500, 0, 700]);
    let v1 = w.approve(
        &w.pack(
            &src1,
            &w.spec("acme.crash", 1, berth::domain::ContentType::Education),
            "v1.berth",
        ),
        &["facility"],
    );
    let v2 = w.approve(
        &w.pack(
            &src2,
            &w.spec("acme.crash", 2, berth::domain::ContentType::Education),
            "v2.berth",
        ),
        &["facility"],
    );
    let root = w.root_json();
    for (step, new_wins) in STEPS {
        let data = w.path(&format!("tablet-{}", step.replace(':', "-")));
        let d = data.to_str().unwrap();
        let out = berth(
            &[
                "install",
                "--data",
                d,
                "--trust",
                root.to_str().unwrap(),
                v1.to_str().unwrap(),
            ],
            None,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = berth(&["install", "--data", d, v2.to_str().unwrap()], Some(step));
        assert_eq!(
            out.status.code(),
            None,
            "{step}: the process must die by signal"
        );

        // Next start: open the store directly, then the tablet (which cleans up).
        let store = Store::open(&data.join("berth.sqlite")).unwrap();
        assert_eq!(store.integrity_check().unwrap(), "ok", "{step}");
        let rows = store.current_bundles().unwrap();
        assert_eq!(rows.len(), 1, "{step}");
        assert_eq!(rows[0].version, if *new_wins { 2 } else { 1 }, "{step}");
        drop(store);
        let out = berth(&["status", "--data", d], None);
        assert!(
            out.status.success(),
            "{step}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tablet = w.open_tablet(data.file_name().unwrap().to_str().unwrap());
        let current = &tablet.installed().unwrap()[0];
        let expect = if *new_wins { &src2 } else { &src1 };
        assert_eq!(
            tree(&tablet.content_path(&current.manifest_sha256)),
            tree(expect),
            "{step}: files"
        );
        // No orphans: the store holds exactly the referenced directory.
        let dirs: Vec<_> = std::fs::read_dir(tablet.data().content_store())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        assert_eq!(
            dirs,
            vec![current.manifest_sha256.clone()],
            "{step}: store orphans"
        );
        // Staging holds at most one resumable transfer, never loose files.
        for e in std::fs::read_dir(tablet.data().staging()).unwrap() {
            let p = e.unwrap().path();
            assert!(
                p.join("progress").is_file() && p.join("files").is_dir(),
                "{step}: staging orphan {}",
                p.display()
            );
        }
        drop(tablet);
        // And the interrupted install completes on the next try.
        let out = berth(&["install", "--data", d, v2.to_str().unwrap()], None);
        assert!(
            out.status.success(),
            "{step}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tablet = w.open_tablet(data.file_name().unwrap().to_str().unwrap());
        let current = &tablet.installed().unwrap()[0];
        assert_eq!(current.version, 2, "{step}");
        assert_eq!(
            tree(&tablet.content_path(&current.manifest_sha256)),
            tree(&src2),
            "{step}"
        );
    }
}

/// Start `berth-dock serve` on a free port; returns the child and address.
pub(crate) fn dock_process(
    dw: &crate::sync::DockWorld,
    failpoint: Option<&str>,
) -> (std::process::Child, String) {
    dock_process_with(dw, failpoint, None)
}

/// … with at most `files` open descriptors (soft and hard limit), when given.
pub(crate) fn dock_process_with(
    dw: &crate::sync::DockWorld,
    failpoint: Option<&str>,
    files: Option<u64>,
) -> (std::process::Child, String) {
    use std::io::BufRead;
    use std::os::unix::process::CommandExt;
    let mut c = Command::new(env!("CARGO_BIN_EXE_berth-dock"));
    if let Some(n) = files {
        // SAFETY: setrlimit is async-signal-safe; it runs in the child
        // between fork and exec and touches only a local struct.
        unsafe {
            c.pre_exec(move || {
                let r = libc::rlimit {
                    rlim_cur: n as libc::rlim_t,
                    rlim_max: n as libc::rlim_t,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &r) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    c.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--console-listen",
        "127.0.0.1:0",
        "--dir",
    ])
    .arg(dw.w.path("facility"))
    .arg("--data")
    .arg(&dw.data)
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::null());
    match failpoint {
        Some(f) => c.env("BERTH_FAILPOINT", f),
        None => c.env_remove("BERTH_FAILPOINT"),
    };
    let mut child = c.spawn().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split(" listening on ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (child, addr)
}

/// kill -9 of the tablet at each sync step, and of the dock right after it
/// commits letters and before it acks: after a clean sync every letter is
/// held once at the dock, every reply once on the tablet, and the
/// tablet's database is sound.
#[test]
fn kill_9_of_either_side_during_sync_loses_and_duplicates_nothing() {
    let dw = crate::sync::DockWorld::new();
    let data = dw.w.path("tab-1");
    let queue = |n: usize, tag: &str| {
        let t = std::sync::Mutex::new(dw.w.open_unit_tablet("tab-1"));
        let s = crate::sync::maria(&t);
        for i in 0..n {
            t.lock()
                .unwrap()
                .letters()
                .queue_letter(&s, "ana", &format!("{tag} {i} — ñ"))
                .unwrap();
        }
    };
    drop(dw.tablet("tab-1"));
    let mut dock = dw.dock();
    let mut replies = 0;
    let mut letters = 0;
    for (round, step) in [
        "sync:after-hello",
        "sync:after-upload-sent",
        "sync:after-ack-received",
        "sync:after-ack-applied",
        "sync:after-feed-received",
        "sync:after-feed-applied",
    ]
    .iter()
    .enumerate()
    {
        queue(2, step);
        letters += 2;
        dw.drop_reply(
            &format!("k{round}"),
            "ana.gonzalez@example.org",
            &format!("respuesta {round}"),
        );
        replies += 1;
        dw.approve_replies(&mut dock);
        let out = berth(
            &["sync", "--data", data.to_str().unwrap(), "--dock", &dw.addr],
            Some(step),
        );
        assert!(
            !out.status.success(),
            "{step}: the failpoint must stop the process"
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(&format!("failpoint {step}")),
            "{step}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // The dock dies after committing an upload, before its ack.
    queue(3, "dock-crash");
    letters += 3;
    let (mut child, addr) = dock_process(&dw, Some("dock:after-store-letters"));
    let out = berth(
        &["sync", "--data", data.to_str().unwrap(), "--dock", &addr],
        None,
    );
    assert!(!out.status.success());
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the dock process aborted at its failpoint"
    );

    // Restarted cleanly: one sync settles everything.
    let (mut child, addr) = dock_process(&dw, None);
    let out = berth(
        &["sync", "--data", data.to_str().unwrap(), "--dock", &addr],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    child.kill().unwrap();
    child.wait().unwrap();

    let db = rusqlite::Connection::open(dw.data.join("dock.db")).unwrap();
    let held: i64 = db
        .query_row("SELECT COUNT(*) FROM letters", [], |r| r.get(0))
        .unwrap();
    assert_eq!(held as usize, letters, "every letter once at the dock");
    let t = std::sync::Mutex::new(dw.w.open_unit_tablet("tab-1"));
    let s = crate::sync::maria(&t);
    let out = t.lock().unwrap().letters().outbox_for(&s).unwrap();
    assert_eq!(out.len(), letters);
    assert!(
        out.iter().all(|r| r.state == OutState::InReview),
        "all acknowledged"
    );
    let thread = t.lock().unwrap().letters().open_thread(&s, "ana").unwrap();
    assert_eq!(thread.iter().filter(|i| !i.outgoing).count(), replies);
    let max: i64 = db
        .query_row(
            "SELECT MAX(seq) FROM feed WHERE person = 'A12345'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        t.lock()
            .unwrap()
            .sync()
            .feed_cursor(&berth::domain::people::PersonId::parse("A12345").unwrap())
            .unwrap(),
        max as u64
    );
    assert!(t.lock().unwrap().people().verify_audit().unwrap().is_ok());
}
