#![no_main]
//! The TOML sources staff sign (roster, policy, contacts): any text is
//! read and checked as `berth-facility roster|policy|contacts sign` reads
//! it, or refused with a message. The first byte picks the document. The
//! roster's PBKDF2 is replaced by a cheap stand-in: the fuzzer looks for
//! parser bugs, not for the cost of a KDF.
use berth::domain::FacilityId;
use berth::domain::people::EnrolmentSecret;
use berth::facility::{contacts_from_toml, policy_from_toml, roster_from_toml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let facility = FacilityId::parse("fuzz").unwrap();
    let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let path = std::path::Path::new("fuzz.toml");
    match pick % 3 {
        0 => {
            let stretch = |code: &str| -> berth::facility::Result<EnrolmentSecret> {
                Ok(EnrolmentSecret {
                    salt: "00".repeat(16),
                    iterations: 1,
                    hash: format!("{:0>64}", code.len()),
                })
            };
            if let Ok(doc) = roster_from_toml(facility, text, path, now, &stretch) {
                doc.validate().expect("a roster read from TOML is valid");
            }
        }
        1 => {
            if let Ok(doc) = policy_from_toml(facility, text, path, now) {
                doc.validate().expect("a policy read from TOML is valid");
            }
        }
        _ => {
            if let Ok(doc) = contacts_from_toml(facility, text, path, now) {
                doc.validate()
                    .expect("a contact list read from TOML is valid");
            }
        }
    }
});
