//! Every string the shell shows goes through @tr and has a Spanish entry.

use std::collections::BTreeSet;
use std::path::Path;

/// The first string literal of each `@tr(` call (the msgid).
fn tr_strings(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(i) = rest.find("@tr(\"") {
        let after = &rest[i + 5..];
        let mut s = String::new();
        let mut chars = after.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => s.push(chars.next().unwrap()),
                '"' => break,
                c => s.push(c),
            }
        }
        out.push(s);
        rest = &after[1..];
    }
    out
}

fn po_msgids(po: &str) -> BTreeSet<String> {
    po.lines()
        .filter_map(|l| l.strip_prefix("msgid \""))
        .map(|l| {
            l.trim_end_matches('"')
                .replace("\\\"", "\"")
                .replace("\\\\", "\\")
        })
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn every_tr_string_has_a_spanish_translation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = crate::helpers::files_with_ext(&root.join("ui"), "slint");
    let po = std::fs::read_to_string(root.join("ui/lang/es/LC_MESSAGES/berth.po")).unwrap();
    let ids = po_msgids(&po);
    let mut missing = Vec::new();
    let mut total = 0;
    for f in &files {
        for s in tr_strings(&std::fs::read_to_string(f).unwrap()) {
            total += 1;
            if !ids.contains(&s) {
                missing.push(format!(
                    "{}: {s:?}",
                    f.strip_prefix(root).unwrap().display()
                ));
            }
        }
    }
    assert!(
        total > 80,
        "found only {total} @tr strings; the extractor is broken"
    );
    assert!(
        missing.is_empty(),
        "no Spanish for:\n{}",
        missing.join("\n")
    );
    // And no Spanish entry is empty.
    assert!(
        !po.contains("msgstr \"\"\n\n"),
        "an entry has no translation"
    );
}
