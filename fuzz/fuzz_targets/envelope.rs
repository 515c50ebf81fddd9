#![no_main]
//! Envelopes: parse, then verify against a fixed role; never panic, and
//! never accept a signature from a key outside the role.
use berth::domain::RoleKeys;
use berth::trust::{Envelope, SigningKey, payload_type};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let role = RoleKeys::single(SigningKey::from_seed(&[7; 32]).public());
    if let Ok(env) = Envelope::from_bytes(data) {
        let _ = env.to_bytes();
        assert!(
            env.verify(payload_type::MANIFEST, "manifest", "vendor", &role)
                .is_err()
        );
    }
});
