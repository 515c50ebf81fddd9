//! The module boundaries ARCHITECTURE.md lists, held by a check: every
//! `crate::X` a module names must be on its side's allow-list. The tablet
//! build (`--no-default-features --features device`) leaves the facility
//! side out altogether, so the compiler holds the tablet's half too; this
//! check also holds the facility side and the narrower rules.

use std::collections::BTreeSet;
use std::path::Path;

/// Modules every side may use.
const SHARED: &[&str] = &["domain", "trust", "bundle", "content", "audit", "wire"];
/// The tablet's own modules.
const TABLET: &[&str] = &[
    "tablet", "store", "install", "sync", "device", "player", "ui",
];
/// The facility's own modules (the dock server and the staff tools).
const FACILITY: &[&str] = &["dock", "facility"];
/// Functions at the crate root (crash-test failpoints, error chains).
// `sql`: the statement-cache helper both sides' SQLite databases use; it
// names nothing of the crate.
const ROOT_ITEMS: &[&str] = &["failpoint", "describe_chain", "sql"];

/// What `module` may name, besides itself.
fn allowed(module: &str) -> BTreeSet<&'static str> {
    let mut ok: BTreeSet<&'static str> = ROOT_ITEMS.iter().copied().collect();
    match module {
        // The pure core names nothing else.
        "domain" => {}
        "trust" | "content" | "wire" | "audit" => ok.extend(["domain", "trust"]),
        "bundle" => ok.extend(["domain", "trust"]),
        // Only the tablet facade and the installer reach the store.
        "tablet" => ok.extend(
            SHARED
                .iter()
                .chain(["store", "install", "sync", "device"].iter()),
        ),
        "install" => ok.extend(SHARED.iter().chain(["store", "sync"].iter())),
        "store" => ok.extend(SHARED),
        // The sync client works through the tablet facade.
        "sync" => ok.extend(SHARED.iter().chain(["tablet", "install"].iter())),
        "device" | "player" => ok.extend(SHARED),
        // The shell talks to the tablet's services, never the store.
        "ui" => ok.extend(
            SHARED
                .iter()
                .chain(["tablet", "sync", "device", "player", "install"].iter()),
        ),
        "dock" | "facility" => ok.extend(SHARED.iter().chain(FACILITY.iter())),
        // The demo and the binaries put both sides together.
        _ => ok.extend(
            SHARED
                .iter()
                .chain(TABLET)
                .chain(FACILITY)
                .chain(["demo"].iter()),
        ),
    }
    ok
}

/// The top-level module a file under src/ belongs to.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::X` in code (comments left out).
fn named(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
            rest = after;
        }
    }
    out
}

#[test]
fn every_module_names_only_what_its_side_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = crate::helpers::files_with_ext(&src, "rs");
    let mut broken = Vec::new();
    for f in &files {
        let module = module_of(&src, f);
        if matches!(module.as_str(), "bin" | "main" | "lib" | "demo") {
            continue;
        }
        let ok = allowed(&module);
        for n in named(&std::fs::read_to_string(f).unwrap()) {
            if n != module && !ok.contains(n.as_str()) {
                broken.push(format!("{} names crate::{n}", f.display()));
            }
        }
    }
    assert!(broken.is_empty(), "forbidden uses:\n{}", broken.join("\n"));
}

#[test]
fn only_trust_calls_ring() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = crate::helpers::files_with_ext(&src, "rs");
    let offenders: Vec<_> = files
        .iter()
        .filter(|f| module_of(&src, f) != "trust")
        .filter(|f| {
            std::fs::read_to_string(f).unwrap().lines().any(|l| {
                let code = l.split("//").next().unwrap_or("");
                code.contains("ring::") && !code.contains("String::") && {
                    let i = code.find("ring::").unwrap();
                    i == 0 || !code.as_bytes()[i - 1].is_ascii_alphanumeric()
                }
            })
        })
        .collect();
    assert!(offenders.is_empty(), "ring outside trust: {offenders:?}");
}

#[test]
fn the_check_sees_a_forbidden_use() {
    // The check itself must be able to fail: a tablet-side file naming
    // the dock is caught.
    let n = named("use crate::dock::Dock; // crate::ui in a comment");
    assert!(n.contains("dock") && !n.contains("ui"));
    assert!(!allowed("tablet").contains("dock"));
    assert!(!allowed("ui").contains("store"));
    assert!(!allowed("dock").contains("tablet"));
}
