//! kill -9 at each install step: the `berth` binary aborts at a failpoint
//! (BERTH_FAILPOINT), as a power cut would stop it. The next start must
//! show the old state or the new state exactly, with a sound database and
//! no orphans.

use std::process::Command;

use berth::store::Store;

use crate::helpers::*;

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
