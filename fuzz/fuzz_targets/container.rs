#![no_main]
//! The container framing: any bytes must parse or fail cleanly, and a
//! parsed header must re-encode to the bytes it came from.
use berth::bundle::RawHeader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((h, len)) = RawHeader::parse(data) {
        assert_eq!(h.encoded_len() as usize, len);
        let mut out = Vec::new();
        h.write_to(&mut out).expect("a parsed header re-encodes");
        assert_eq!(&out[..], &data[..len]);
    }
});
