//! The command-line tools, end to end, as facility scripts use them.

use std::process::Command;

use crate::helpers::*;

#[test]
fn cli_flow_script_runs_end_to_end_and_a_flipped_byte_is_refused() {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_berth"))
        .parent()
        .unwrap()
        .to_path_buf();
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli-flow.sh"))
        .arg(tmp.path())
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "script failed\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("installed acme.cli version 1: 3 files"),
        "{stdout}"
    );
    assert!(stdout.contains("FLIP REFUSED"), "{stdout}");
    assert!(
        stderr.contains("does not match its signed SHA-256") || stderr.contains("refused"),
        "{stderr}"
    );
    assert!(stdout.contains("STORE UNCHANGED"), "{stdout}");
    assert!(
        stdout.contains("facility root rotated from version 1 to 2"),
        "{stdout}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

fn run(bin: &str, args: &[&str]) -> (bool, String) {
    let path = std::path::Path::new(env!("CARGO_BIN_EXE_berth"))
        .parent()
        .unwrap()
        .join(bin);
    let out = Command::new(path).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !stderr.contains("panicked"),
        "{bin} {args:?} panicked: {stderr}"
    );
    (out.status.success(), stderr)
}

#[test]
fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let w = World::new();
    let f = w.path("facility");
    let fs = f.to_str().unwrap();
    let before = tree(&f);
    let tablet_dir = w.path("t");
    let t = tablet_dir.to_str().unwrap();
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "berth-facility",
            &["init", "--dir", fs],
            "already holds a facility",
        ),
        (
            "berth-facility",
            &[
                "delegate",
                "--dir",
                fs,
                "--vendor",
                "acme",
                "--pubkey",
                "/nonexistent",
                "--types",
                "education",
                "--max-bytes",
                "10",
                "--expires",
                "2099-01-01",
                "--out",
                "/tmp/x",
            ],
            "/nonexistent",
        ),
        (
            "berth-facility",
            &[
                "delegate",
                "--dir",
                fs,
                "--vendor",
                "acme",
                "--pubkey",
                "/etc/hostname",
                "--types",
                "videos",
                "--max-bytes",
                "10",
                "--expires",
                "2099-01-01",
                "--out",
                "/tmp/x",
            ],
            "use one of: education, books, music",
        ),
        (
            "berth-facility",
            &[
                "delegate",
                "--dir",
                fs,
                "--vendor",
                "Acme!",
                "--pubkey",
                "/etc/hostname",
                "--types",
                "music",
                "--max-bytes",
                "10",
                "--expires",
                "2099-01-01",
                "--out",
                "/tmp/x",
            ],
            "invalid vendor id",
        ),
        (
            "berth-facility",
            &[
                "approve",
                "--dir",
                fs,
                "--groups",
                "facility",
                "/etc/hostname",
                "-o",
                "/tmp/x",
            ],
            "not a Berth bundle",
        ),
        (
            "berth-facility",
            &["verify", "--dir", "/nonexistent-facility", "/etc/hostname"],
            "not a facility directory",
        ),
        (
            "berth-vendor",
            &[
                "pack",
                "--key",
                "/nonexistent",
                "--delegation",
                "/x",
                "--type",
                "music",
                "--id",
                "a",
                "--version",
                "1",
                "--expires",
                "2099-13-01",
                "/tmp",
                "-o",
                "/tmp/x",
            ],
            "/nonexistent",
        ),
        (
            "berth-vendor",
            &["inspect", "/etc/hostname"],
            "not a Berth bundle",
        ),
        (
            "berth",
            &["install", "--data", t, "/etc/hostname"],
            "pass --trust",
        ),
    ];
    for (bin, args, want) in cases {
        let (ok, stderr) = run(bin, args);
        assert!(!ok, "{bin} {args:?} must fail");
        assert!(
            stderr.contains(want),
            "{bin} {args:?}: expected {want:?} in {stderr}"
        );
    }
    assert_eq!(tree(&f), before, "the facility directory is unchanged");
    assert!(
        !std::path::Path::new("/tmp/x").exists() || std::fs::metadata("/tmp/x").unwrap().len() > 0
    );
}

#[test]
fn vendor_pack_reports_every_bad_file_with_its_path() {
    let w = World::new();
    let src = w.path("badsrc");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("ok.txt"), b"ok").unwrap();
    std::fs::write(src.join("bad name.txt"), b"x").unwrap();
    std::fs::write(src.join("sub").join("caf\u{e9}.txt"), b"x").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", src.join("link")).unwrap();
    std::fs::write(w.path("d.json"), &w.delegation).unwrap();
    let (ok, stderr) = run(
        "berth-vendor",
        &[
            "pack",
            "--key",
            w.path("vendor.pk8").to_str().unwrap(),
            "--delegation",
            w.path("d.json").to_str().unwrap(),
            "--type",
            "education",
            "--id",
            "acme.bad",
            "--version",
            "1",
            "--expires",
            "2099-01-01",
            src.to_str().unwrap(),
            "-o",
            w.path("o.berth").to_str().unwrap(),
        ],
    );
    assert!(!ok);
    assert!(stderr.contains("3 problem(s)"), "{stderr}");
    assert!(
        stderr.contains("bad name.txt")
            && stderr.contains("caf\u{e9}.txt")
            && stderr.contains("symbolic links"),
        "{stderr}"
    );
    assert!(!w.path("o.berth").exists());
}

#[test]
fn demo_runs_the_whole_pipeline_and_is_idempotent() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_berth"))
            .args(["demo", "--dir", dir.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let first = run();
    for step in [
        "1. facility  created",
        "2. vendor",
        "3. pack",
        "4. approve",
        "5. install   open-learning.reading-basics version 1 installed",
    ] {
        assert!(first.contains(step), "missing {step:?} in\n{first}");
    }
    let second = run();
    assert!(
        second.contains("is already current on the tablet"),
        "{second}"
    );
    let lesson = tree(&dir.join("tablet/content/store"))
        .into_iter()
        .find(|(p, _)| p.ends_with("es/lessons/02-words.md"))
        .expect("Spanish lesson installed");
    assert!(String::from_utf8(lesson.1).unwrap().contains("pingüino"));
}

#[test]
fn a_refused_first_install_leaves_the_data_directory_fresh() {
    let w = World::new();
    let approved = w.bundle("acme.first", 1, 3, &[2000]);
    let mut bad = std::fs::read(&approved).unwrap();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let bad_path = w.path("bad.berth");
    std::fs::write(&bad_path, &bad).unwrap();
    let data = w.path("fresh-tablet");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("note.txt"), b"kept").unwrap();
    let root = w.root_json();
    let args = [
        "install",
        "--data",
        data.to_str().unwrap(),
        "--trust",
        root.to_str().unwrap(),
        bad_path.to_str().unwrap(),
    ];
    let (ok, stderr) = run("berth", &args);
    assert!(!ok, "a damaged bundle is refused");
    assert!(stderr.contains("nothing was installed"), "{stderr}");
    let left: Vec<String> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(left, ["note.txt"], "no database, no key, no root: {stderr}");
    // The intact bundle then installs and ties the tablet to its facility.
    let good = [&args[..5], &[approved.to_str().unwrap()]].concat();
    let (ok, stderr) = run("berth", &good);
    assert!(ok, "{stderr}");
    assert!(data.join("berth.sqlite").exists() && data.join("device.pk8").exists());
}
