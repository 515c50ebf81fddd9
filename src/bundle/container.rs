//! The bundle container, byte for byte (see docs/bundle-format.md).
//!
//! ```text
//! offset size  field
//! 0      8     magic "BERTHBN1"
//! 8      2     format version, u16 LE = 1
//! 10     2     flags, u16 LE = 0
//! 12     4     manifest envelope length M, u32 LE, 1..=1 MiB
//! 16     4     delegation envelope length D, u32 LE, 1..=64 KiB
//! 20     2     approval count N, u16 LE, 0..=16
//! 22     2     reserved, u16 LE = 0
//! 24     M     manifest envelope
//! ..     D     delegation envelope
//! ..           N × (u32 LE length A, 1..=64 KiB; A bytes approval envelope)
//! ..           payload: exactly manifest.total_size bytes, then end of file
//! ```
//!
//! This module only frames bytes; it never interprets an envelope.

use std::io::{self, Read, Write};

pub const MAGIC: &[u8; 8] = b"BERTHBN1";
pub const FORMAT_VERSION: u16 = 1;
pub const FIXED_HEADER_LEN: usize = 24;
pub const MAX_MANIFEST_ENVELOPE: u32 = 8 << 20;
pub const MAX_SMALL_ENVELOPE: u32 = 64 * 1024;
pub const MAX_APPROVALS: u16 = 16;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not a Berth bundle (the file does not start with BERTHBN1)")]
    BadMagic,
    #[error(
        "bundle format version {0} is not supported by this tablet (supported: 1); update the tablet software"
    )]
    Version(u16),
    #[error("bundle header field {field} is {value}, allowed {allowed}")]
    Field {
        field: &'static str,
        value: u64,
        allowed: &'static str,
    },
    #[error("bundle header ended early (at {section}); the file is truncated, fetch it again")]
    Truncated { section: &'static str },
    #[error("reading the bundle header: {0}")]
    Io(#[from] io::Error),
}

/// The envelopes at the front of a bundle, unverified.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawHeader {
    pub manifest: Vec<u8>,
    pub delegation: Vec<u8>,
    pub approvals: Vec<Vec<u8>>,
}

fn field(field: &'static str, value: u64, allowed: &'static str) -> Error {
    Error::Field {
        field,
        value,
        allowed,
    }
}

fn read_exact_or(r: &mut impl Read, buf: &mut [u8], section: &'static str) -> Result<(), Error> {
    r.read_exact(buf).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            Error::Truncated { section }
        } else {
            Error::Io(e)
        }
    })
}

fn read_vec(r: &mut impl Read, len: u32, section: &'static str) -> Result<Vec<u8>, Error> {
    // `len` was checked against its cap before this call.
    let mut v = vec![0u8; len as usize];
    read_exact_or(r, &mut v, section)?;
    Ok(v)
}

impl RawHeader {
    /// Read a header from a stream. Every length is checked against its cap
    /// before anything is allocated, so memory stays bounded.
    pub fn read_from(r: &mut impl Read) -> Result<Self, Error> {
        let mut fixed = [0u8; FIXED_HEADER_LEN];
        let mut got = 0;
        while got < FIXED_HEADER_LEN {
            match r.read(&mut fixed[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::Io(e)),
            }
        }
        // A short file that does not even start like a bundle is "not a
        // bundle", not "truncated".
        let seen = got.min(MAGIC.len());
        if fixed[..seen] != MAGIC[..seen] || got == 0 {
            return Err(Error::BadMagic);
        }
        if got < FIXED_HEADER_LEN {
            return Err(Error::Truncated {
                section: "fixed header",
            });
        }
        let u16_at = |o: usize| u16::from_le_bytes([fixed[o], fixed[o + 1]]);
        let u32_at = |o: usize| u32::from_le_bytes(fixed[o..o + 4].try_into().expect("4 bytes"));
        let version = u16_at(8);
        if version != FORMAT_VERSION {
            return Err(Error::Version(version));
        }
        if u16_at(10) != 0 {
            return Err(field("flags", u16_at(10).into(), "0"));
        }
        let m = u32_at(12);
        if m == 0 || m > MAX_MANIFEST_ENVELOPE {
            return Err(field("manifest length", m.into(), "1 to 8388608"));
        }
        let d = u32_at(16);
        if d == 0 || d > MAX_SMALL_ENVELOPE {
            return Err(field("delegation length", d.into(), "1 to 65536"));
        }
        let n = u16_at(20);
        if n > MAX_APPROVALS {
            return Err(field("approval count", n.into(), "0 to 16"));
        }
        if u16_at(22) != 0 {
            return Err(field("reserved", u16_at(22).into(), "0"));
        }
        let manifest = read_vec(r, m, "manifest envelope")?;
        let delegation = read_vec(r, d, "delegation envelope")?;
        let mut approvals = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let mut len = [0u8; 4];
            read_exact_or(r, &mut len, "approval length")?;
            let a = u32::from_le_bytes(len);
            if a == 0 || a > MAX_SMALL_ENVELOPE {
                return Err(field("approval length", a.into(), "1 to 65536"));
            }
            approvals.push(read_vec(r, a, "approval envelope")?);
        }
        Ok(RawHeader {
            manifest,
            delegation,
            approvals,
        })
    }

    /// Parse a header at the start of `bytes`; returns it and its length.
    pub fn parse(bytes: &[u8]) -> Result<(Self, usize), Error> {
        let mut cursor = io::Cursor::new(bytes);
        let h = Self::read_from(&mut cursor)?;
        Ok((h, cursor.position() as usize))
    }

    /// Length in bytes of the encoded header; the payload starts here.
    pub fn encoded_len(&self) -> u64 {
        (FIXED_HEADER_LEN + self.manifest.len() + self.delegation.len()) as u64
            + self
                .approvals
                .iter()
                .map(|a| 4 + a.len() as u64)
                .sum::<u64>()
    }

    /// Write the header. Refuses lengths a reader would refuse.
    pub fn write_to(&self, w: &mut impl Write) -> Result<(), Error> {
        let m = u32::try_from(self.manifest.len()).unwrap_or(u32::MAX);
        if m == 0 || m > MAX_MANIFEST_ENVELOPE {
            return Err(field("manifest length", m.into(), "1 to 8388608"));
        }
        let d = u32::try_from(self.delegation.len()).unwrap_or(u32::MAX);
        if d == 0 || d > MAX_SMALL_ENVELOPE {
            return Err(field("delegation length", d.into(), "1 to 65536"));
        }
        if self.approvals.len() > MAX_APPROVALS as usize {
            return Err(field(
                "approval count",
                self.approvals.len() as u64,
                "0 to 16",
            ));
        }
        let mut fixed = Vec::with_capacity(FIXED_HEADER_LEN);
        fixed.extend_from_slice(MAGIC);
        fixed.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        fixed.extend_from_slice(&0u16.to_le_bytes());
        fixed.extend_from_slice(&m.to_le_bytes());
        fixed.extend_from_slice(&d.to_le_bytes());
        fixed.extend_from_slice(&(self.approvals.len() as u16).to_le_bytes());
        fixed.extend_from_slice(&0u16.to_le_bytes());
        w.write_all(&fixed)?;
        w.write_all(&self.manifest)?;
        w.write_all(&self.delegation)?;
        for a in &self.approvals {
            let len = u32::try_from(a.len()).unwrap_or(u32::MAX);
            if len == 0 || len > MAX_SMALL_ENVELOPE {
                return Err(field("approval length", len.into(), "1 to 65536"));
            }
            w.write_all(&len.to_le_bytes())?;
            w.write_all(a)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> RawHeader {
        RawHeader {
            manifest: b"{m}".to_vec(),
            delegation: b"{d}".to_vec(),
            approvals: vec![b"{a1}".to_vec(), b"{a2}".to_vec()],
        }
    }

    #[test]
    fn round_trip_and_length() {
        let h = sample();
        let mut out = Vec::new();
        h.write_to(&mut out).unwrap();
        assert_eq!(out.len() as u64, h.encoded_len());
        out.extend_from_slice(b"payload");
        let (back, len) = RawHeader::parse(&out).unwrap();
        assert_eq!(back, h);
        assert_eq!(&out[len..], b"payload");
    }

    #[test]
    fn cut_header_at_every_byte_is_truncated_not_panic() {
        let mut out = Vec::new();
        sample().write_to(&mut out).unwrap();
        for cut in 0..out.len() {
            assert!(RawHeader::parse(&out[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn oversized_lengths_are_refused_before_allocation() {
        let mut out = Vec::new();
        sample().write_to(&mut out).unwrap();
        out[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(RawHeader::parse(&out), Err(Error::Field { .. })));
    }

    proptest! {
        #[test]
        fn container_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = RawHeader::parse(&bytes);
        }

        #[test]
        fn container_parser_survives_mutation(pos in 0usize..64, val in any::<u8>()) {
            let mut out = Vec::new();
            sample().write_to(&mut out).unwrap();
            let p = pos % out.len();
            out[p] = val;
            if let Ok((h, len)) = RawHeader::parse(&out) {
                prop_assert!(len <= out.len());
                prop_assert_eq!(h.encoded_len() as usize, len);
            }
        }

        #[test]
        fn container_round_trips(m in proptest::collection::vec(any::<u8>(), 1..300),
                                 d in proptest::collection::vec(any::<u8>(), 1..300),
                                 n in 0usize..4) {
            let h = RawHeader { manifest: m, delegation: d.clone(), approvals: vec![d; n] };
            let mut out = Vec::new();
            h.write_to(&mut out).unwrap();
            let (back, len) = RawHeader::parse(&out).unwrap();
            prop_assert_eq!(back, h);
            prop_assert_eq!(len, out.len());
        }
    }
}
