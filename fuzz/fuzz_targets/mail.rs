#![no_main]
//! Mail from outside (`.eml`, as the gateway imports it): any bytes give a
//! sender, recipients and non-empty text within the caps, or a refusal.
use berth::dock::gateway::{MAX_BODY_CHARS, parse_mail};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = parse_mail(data) {
        assert!(!m.body.trim().is_empty());
        assert!(m.body.chars().count() <= MAX_BODY_CHARS);
        assert!(m.subject.chars().count() <= 200);
        assert!(!m.sender.is_empty());
    }
});
