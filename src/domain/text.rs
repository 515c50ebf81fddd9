//! Text from outside, made safe to print on a staff member's terminal.

/// Control characters a terminal would act on (ESC, CR, BEL, …) and the
/// bidirectional overrides that reorder what a reader sees, written as
/// `\u{1b}` so they are visible and inert. Newlines and tabs stay when
/// `multiline`; otherwise they are shown as `\n` and `\t` too.
pub fn visible(s: &str, multiline: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' if multiline => out.push('\n'),
            '\t' if multiline => out.push('\t'),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\\' if !multiline => out.push_str("\\\\"),
            c if is_hidden(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// C0, DEL, C1, and the bidirectional embedding, override, isolate and
/// mark characters.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_shown_not_obeyed() {
        assert_eq!(visible("a\x1b[2Jb\r\x07", true), "a\\u{1b}[2Jb\\u{d}\\u{7}");
        assert_eq!(visible("x\u{202e}y", true), "x\\u{202e}y");
        assert_eq!(visible("línea 1\nlínea 2", true), "línea 1\nlínea 2");
        assert_eq!(visible("one\nline", false), "one\\nline");
    }
}
