//! The conformance suite (tests/conformance/, docs/bundle-format.md §8):
//! the checked-in files must be what the generator writes, and every case
//! must get its verdict from the real `berth install` and `berth-facility
//! verify`, naming the field it names, with nothing else changed.

#[path = "../conformance/generate.rs"]
mod generate;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

/// Every file the generator writes, relative to the suite directory.
fn generated() -> Vec<(String, Vec<u8>)> {
    let cases = generate::cases();
    let mut files = vec![
        ("root.json".to_string(), generate::root()),
        ("bundles/base.berth".to_string(), generate::base()),
        (
            "cases.json".to_string(),
            serde_json::to_vec_pretty(&generate::manifest(&cases))
                .unwrap()
                .into_iter()
                .chain(*b"\n")
                .collect(),
        ),
    ];
    for c in &cases {
        if let Some(b) = &c.bundle {
            files.push((format!("bundles/{}.berth", c.name), b.clone()));
        }
        if let Some(r) = &c.root {
            files.push((format!("roots/{}.json", c.name), r.clone()));
        }
    }
    files
}

fn listed(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for sub in ["bundles", "roots"] {
        if let Ok(rd) = std::fs::read_dir(dir.join(sub)) {
            for e in rd {
                out.push(format!(
                    "{sub}/{}",
                    e.unwrap().file_name().to_string_lossy()
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_checked_in_suite_is_what_the_generator_writes() {
    let dir = suite_dir();
    let files = generated();
    if std::env::var_os("BERTH_CONFORMANCE_WRITE").is_some() {
        for sub in ["bundles", "roots"] {
            let _ = std::fs::remove_dir_all(dir.join(sub));
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        for (name, bytes) in &files {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
    let mut wrong = Vec::new();
    for (name, bytes) in &files {
        match std::fs::read(dir.join(name)) {
            Ok(on_disk) if &on_disk == bytes => {}
            Ok(_) => wrong.push(format!("{name} differs")),
            Err(_) => wrong.push(format!("{name} is missing")),
        }
    }
    let mut expected: Vec<String> = files
        .iter()
        .map(|(n, _)| n.clone())
        .filter(|n| n.contains('/'))
        .collect();
    expected.sort();
    for extra in listed(&dir).iter().filter(|n| !expected.contains(n)) {
        wrong.push(format!("{extra} is not a case"));
    }
    assert!(
        wrong.is_empty(),
        "tests/conformance is out of date with its generator; after a deliberate change run \
         `BERTH_CONFORMANCE_WRITE=1 cargo test --test it conformance`:\n{}",
        wrong.join("\n")
    );
}

fn run(bin: &str, args: &[&std::ffi::OsStr]) -> Output {
    Command::new(bin)
        .args(args)
        .output()
        .expect("run the binary")
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// What a refusal must leave alone: the content tree and what the tablet
/// says it holds.
fn snapshot(data: &Path) -> (Vec<(String, Vec<u8>)>, String) {
    let status = run(
        env!("CARGO_BIN_EXE_berth"),
        &["status".as_ref(), "--data".as_ref(), data.as_os_str()],
    );
    assert!(status.status.success(), "{}", text(&status));
    (
        crate::helpers::tree(&data.join("content")),
        String::from_utf8_lossy(&status.stdout).into_owned(),
    )
}

fn install(data: &Path, root: Option<&Path>, bundle: &Path, spec: &Value) -> Output {
    let mut args: Vec<std::ffi::OsString> = vec!["install".into(), "--data".into(), data.into()];
    if let Some(r) = root {
        args.push("--trust".into());
        args.push(r.into());
    }
    for g in spec["tablet"]["groups"].as_array().unwrap() {
        args.push("--group".into());
        args.push(g.as_str().unwrap().into());
    }
    args.push("--model".into());
    args.push(spec["tablet"]["model"].as_str().unwrap().into());
    args.push(bundle.into());
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    run(env!("CARGO_BIN_EXE_berth"), &refs)
}

/// Check one tool's output against the case's expectation; `Err` says why not.
fn judge(expect: &Value, out: &Output, tablet: bool) -> Result<(), String> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    match expect["verdict"].as_str().unwrap() {
        "accepted" if out.status.success() => {
            if tablet && !stdout.contains("installed ") {
                return Err("exit 0 but did not say it installed".into());
            }
            Ok(())
        }
        "current" if out.status.success() && stdout.contains("already current") => Ok(()),
        "refused" if !out.status.success() => {
            let names = expect["names"].as_str().unwrap();
            if !stderr.to_lowercase().contains(&names.to_lowercase()) {
                return Err(format!("refused, but the message does not name `{names}`"));
            }
            if stderr.contains("panicked") {
                return Err("panicked".into());
            }
            if tablet
                && !stderr.contains("nothing was installed")
                && !stderr.contains("nothing was changed")
            {
                return Err("refused without saying what was left as it was".into());
            }
            Ok(())
        }
        v => Err(format!("expected {v}")),
    }
}

#[test]
fn every_case_gets_its_verdict_from_the_real_tools() {
    let dir = suite_dir();
    let spec: Value =
        serde_json::from_slice(&std::fs::read(dir.join("cases.json")).unwrap()).unwrap();
    let tmp = tempfile::tempdir().unwrap();

    // The enrolled tablet every case but the fresh ones starts from.
    let template = tmp.path().join("template");
    let o = install(
        &template,
        Some(&dir.join("root.json")),
        &dir.join("bundles/base.berth"),
        &spec,
    );
    assert!(o.status.success(), "base install: {}", text(&o));

    let cases = spec["cases"].as_array().unwrap();
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let name = case["name"].as_str().unwrap();
        let bundle = dir.join(case["bundle"].as_str().unwrap());
        let root = case["root"].as_str().map(|r| dir.join(r));
        let mut fail = |tool: &str, why: String, out: Option<&Output>| {
            failures.push(format!(
                "{name} ({tool}): {why}\n{}",
                out.map(text).unwrap_or_default()
            ))
        };

        // The tablet.
        let data = tmp.path().join(format!("t{i}"));
        let fresh = case["tablet"]["start"] == "fresh";
        if !fresh {
            copy_tree(&template, &data);
        }
        for before in case["tablet"]["before"].as_array().unwrap() {
            let o = install(&data, None, &dir.join(before.as_str().unwrap()), &spec);
            if !o.status.success() {
                fail("tablet", format!("set-up {before} was refused"), Some(&o));
            }
        }
        let prior = (!fresh).then(|| snapshot(&data));
        let out = install(&data, root.as_deref(), &bundle, &spec);
        let expect = &case["tablet"]["expect"];
        match judge(expect, &out, true) {
            Err(why) => fail("tablet", why, Some(&out)),
            Ok(()) if expect["verdict"] != "accepted" => {
                // Nothing else changed.
                // A refusal that keeps what was verified for a resume says
                // so; only the staging directory may then differ.
                let resumes = String::from_utf8_lossy(&out.stderr).contains("the next try resumes");
                let strip = |(tree, status): (Vec<(String, Vec<u8>)>, String)| {
                    let tree: Vec<_> = tree
                        .into_iter()
                        .filter(|(p, _)| !(resumes && p.starts_with(".staging/")))
                        .collect();
                    (tree, status)
                };
                match &prior {
                    Some(prior) if strip(snapshot(&data)) != strip(prior.clone()) => fail(
                        "tablet",
                        "a refusal changed the content or the status".into(),
                        Some(&out),
                    ),
                    None if data.exists() => fail(
                        "tablet",
                        "a refused first install left a data directory".into(),
                        Some(&out),
                    ),
                    _ => {}
                }
            }
            Ok(()) => {
                // Something was installed: the status lists a new bundle.
                let (_, status) = snapshot(&data);
                let changed = match &prior {
                    Some((_, before)) => &status != before,
                    None => status.contains("acme."),
                };
                if !changed {
                    fail(
                        "tablet",
                        "installed, but the status lists nothing new".into(),
                        Some(&out),
                    );
                }
            }
        }

        // The facility.
        if let Some(expect) = case["facility"].get("expect") {
            let fac = tmp.path().join(format!("f{i}"));
            std::fs::create_dir_all(&fac).unwrap();
            std::fs::copy(
                root.as_deref().unwrap_or(&dir.join("root.json")),
                fac.join("root.json"),
            )
            .unwrap();
            let out = run(
                env!("CARGO_BIN_EXE_berth-facility"),
                &[
                    "verify".as_ref(),
                    "--dir".as_ref(),
                    fac.as_os_str(),
                    bundle.as_os_str(),
                ],
            );
            if let Err(why) = judge(expect, &out, false) {
                fail("facility", why, Some(&out));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
