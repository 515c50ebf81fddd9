#![no_main]
//! Manifest payloads (as they would be after signature verification):
//! strict parsing and validation never panic.
use berth::domain::Manifest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = serde_json::from_slice::<Manifest>(data) {
        if m.validate().is_ok() {
            assert_eq!(m.chunks.len() as u64, m.expected_chunks());
        }
    }
});
