#![no_main]
//! Lesson Markdown from a course bundle: any text parses into a lesson or
//! a list of problems, never a panic.
use berth::domain::content::parse_lesson;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_lesson(text) {
        Ok(_) => {}
        Err(problems) => assert!(!problems.is_empty(), "a refusal says why"),
    }
});
