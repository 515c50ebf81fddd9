#![no_main]
//! Sync frames: decode, then check the header as the dock checks a request
//! (against a fixed device key); never panic, never allocate past the caps,
//! and never accept a request that key did not sign.
use berth::trust::{SigningKey, signed};
use berth::wire;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let device = SigningKey::from_seed(&[9; 32]).public();
    if let Ok(frame) = wire::decode(data) {
        assert!(frame.header.len() <= wire::MAX_HEADER);
        let _ = wire::blobs_digest(&frame.blobs);
        assert!(signed::verify_request(&device, &frame.header).is_err());
        assert_eq!(wire::decode(&wire::encode(&frame)).unwrap(), frame);
    }
});
