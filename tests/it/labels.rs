//! Every touch target in the UI has an accessible label: a `TouchArea`
//! that reacts (`clicked`, `pointer-event`, ...) must carry
//! `accessible-label` itself or sit directly in an element that does.
//! Empty `TouchArea { }`s, which only keep taps from reaching the page
//! below, are exempt. A screen reader, and the interaction tests, find
//! things by these labels.

use std::path::Path;

/// A `{ ... }` block: the words just before its brace, what it holds
/// outside its children, and its children.
#[derive(Default)]
struct Block {
    head: String,
    own: String,
    children: Vec<Block>,
    line: usize,
}

fn parse(src: &str) -> Block {
    let mut stack = vec![Block::default()];
    let mut line = 1;
    let mut chars = src.chars().peekable();
    let mut in_str = false;
    while let Some(c) = chars.next() {
        if c == '\n' {
            line += 1;
        }
        if in_str {
            stack.last_mut().unwrap().own.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    stack.last_mut().unwrap().own.push(n);
                }
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                stack.last_mut().unwrap().own.push(c);
            }
            '/' if chars.peek() == Some(&'/') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '{' => {
                let top = stack.last_mut().unwrap();
                // The head: what follows the last `;`, `{` or `}` before it.
                let cut = top.own.rfind([';', '}', '{']).map(|i| i + 1).unwrap_or(0);
                let head = top.own[cut..].trim().to_string();
                top.own.push('{');
                stack.push(Block {
                    head,
                    line,
                    ..Block::default()
                });
            }
            '}' => {
                let done = stack.pop().expect("balanced braces");
                let top = stack.last_mut().expect("balanced braces");
                top.own.push('}');
                top.children.push(done);
            }
            _ => stack.last_mut().unwrap().own.push(c),
        }
    }
    assert_eq!(stack.len(), 1, "unbalanced braces");
    stack.pop().unwrap()
}

fn is_touch_area(head: &str) -> bool {
    head.split([':', '=', ' ']).rfind(|w| !w.is_empty()) == Some("TouchArea")
}

fn reacts(b: &Block) -> bool {
    [
        "clicked",
        "pointer-event",
        "double-clicked",
        "moved",
        "scroll-event",
    ]
    .iter()
    .any(|h| b.own.contains(&format!("{h}(")) || b.own.contains(&format!("{h} =>")))
}

fn labelled(b: &Block) -> bool {
    b.own.contains("accessible-label")
}

/// A page's backdrop whose one effect is to hide the on-screen keyboard
/// ("a tap outside the field"): a shortcut for the keyboard's own labelled
/// Hide keyboard key, so it needs no label of its own.
fn hides_the_keyboard_only(b: &Block) -> bool {
    let squeeze = |s: &str| -> String { s.split_whitespace().collect() };
    squeeze(&b.own) == "clicked=>{}"
        && b.children.len() == 1
        && squeeze(&b.children[0].own) == "KeyboardAdapter.hidden=true;"
}

/// The unlabelled reacting touch areas under `b`, as `file:line`.
fn unlabelled(file: &Path, b: &Block, out: &mut Vec<String>) {
    for c in &b.children {
        if is_touch_area(&c.head)
            && reacts(c)
            && !labelled(c)
            && !labelled(b)
            && !hides_the_keyboard_only(c)
        {
            out.push(format!("{}:{}", file.display(), c.line));
        }
        unlabelled(file, c, out);
    }
}

fn gaps_in(file: &Path, src: &str) -> Vec<String> {
    let mut out = Vec::new();
    unlabelled(file, &parse(src), &mut out);
    out
}

#[test]
fn every_touch_target_has_an_accessible_label() {
    let files =
        crate::helpers::files_with_ext(&Path::new(env!("CARGO_MANIFEST_DIR")).join("ui"), "slint");
    assert!(files.len() > 5, "the UI's .slint files are found");
    let mut gaps = Vec::new();
    for f in &files {
        gaps.extend(gaps_in(f, &std::fs::read_to_string(f).unwrap()));
    }
    assert!(
        gaps.is_empty(),
        "touch targets without an accessible label: {gaps:#?}"
    );
}

#[test]
fn the_label_check_can_fail() {
    let src = r#"
        export component A inherits Rectangle {
            Rectangle {
                accessible-label: @tr("Fine");
                TouchArea { clicked => { root.x(); } }
            }
            Rectangle {
                // "clicked" in a comment is not a handler
                t := TouchArea { pointer-event(e) => { if (e.kind == PointerEventKind.up) { } } }
            }
            TouchArea { }
            TouchArea { accessible-label: "own"; clicked => {} }
            // A backdrop that only hides the keyboard needs no label; one
            // that does more does.
            TouchArea { clicked => { KeyboardAdapter.hidden = true; } }
            TouchArea { clicked => { KeyboardAdapter.hidden = true; root.go(); } }
        }
    "#;
    let gaps = gaps_in(Path::new("a.slint"), src);
    assert_eq!(gaps, ["a.slint:9", "a.slint:16"]);
}
