//! Frames on the dock channel.
//!
//! ```text
//! frame  = u32 header_len, header, u32 blob_count, blob*
//! blob   = u32 len, bytes
//! ```
//! All integers are big-endian. The header is a signed envelope (a request
//! from the device or a reply from the dock) whose payload carries the
//! SHA-256 of the blobs. Every length is checked against its cap before a
//! byte is allocated for it.

use std::io::{self, Read, Write};

use crate::domain::Sha256;
use crate::domain::sync::{BUNDLE_RANGE, MAX_BATCH};
use crate::trust::{Hasher, MAX_ENVELOPE_BYTES};

/// Largest signed header (a pull names cursors for up to a roster's people).
pub const MAX_HEADER: usize = 256 * 1024;
/// Largest blob: a signed letter, document or bundle range.
pub const MAX_BLOB: usize = if MAX_ENVELOPE_BYTES > BUNDLE_RANGE as usize {
    MAX_ENVELOPE_BYTES
} else {
    BUNDLE_RANGE as usize
};
/// Most blobs in one frame: a batch plus the documents of a whole roster.
pub const MAX_BLOBS: usize = MAX_BATCH + 2 * crate::domain::people::MAX_ROSTER + 16;
/// Most bytes in one frame, blobs included.
pub const MAX_FRAME: usize = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("connection: {0}")]
    Io(#[from] io::Error),
    #[error("the peer closed the connection")]
    Closed,
    #[error(
        "frame {what} is {size}, over the cap of {cap}; the peer is not speaking this protocol"
    )]
    TooLarge {
        what: &'static str,
        size: usize,
        cap: usize,
    },
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frame {
    pub header: Vec<u8>,
    pub blobs: Vec<Vec<u8>>,
}

/// The digest a signed header names: over each blob's length and bytes.
pub fn blobs_digest(blobs: &[Vec<u8>]) -> Sha256 {
    let mut h = Hasher::default();
    h.update(&(blobs.len() as u32).to_be_bytes());
    for b in blobs {
        h.update(&(b.len() as u32).to_be_bytes());
        h.update(b);
    }
    h.finish()
}

pub fn encode(frame: &Frame) -> Vec<u8> {
    let size = 8 + frame.header.len() + frame.blobs.iter().map(|b| 4 + b.len()).sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&(frame.header.len() as u32).to_be_bytes());
    out.extend_from_slice(&frame.header);
    out.extend_from_slice(&(frame.blobs.len() as u32).to_be_bytes());
    for b in &frame.blobs {
        out.extend_from_slice(&(b.len() as u32).to_be_bytes());
        out.extend_from_slice(b);
    }
    out
}

pub fn write_frame(w: &mut impl Write, frame: &Frame) -> Result<(), WireError> {
    w.write_all(&encode(frame))?;
    w.flush()?;
    Ok(())
}

fn read_u32(r: &mut impl Read, first: bool) -> Result<u32, WireError> {
    let mut b = [0u8; 4];
    match r.read_exact(&mut b) {
        Ok(()) => Ok(u32::from_be_bytes(b)),
        Err(e) if first && e.kind() == io::ErrorKind::UnexpectedEof => Err(WireError::Closed),
        Err(e) => Err(e.into()),
    }
}

fn read_exact_vec(r: &mut impl Read, len: usize) -> Result<Vec<u8>, WireError> {
    let mut v = vec![0u8; len];
    r.read_exact(&mut v)?;
    Ok(v)
}

fn capped(what: &'static str, size: usize, cap: usize) -> Result<usize, WireError> {
    if size > cap {
        Err(WireError::TooLarge { what, size, cap })
    } else {
        Ok(size)
    }
}

pub fn read_frame(r: &mut impl Read) -> Result<Frame, WireError> {
    read_frame_within(r, MAX_FRAME)
}

/// Read a frame of at most `max_bytes` in all (header and blobs): each
/// length is checked against the cap before anything is allocated. The
/// dock reads a peer it does not know with a small cap.
pub fn read_frame_within(r: &mut impl Read, max_bytes: usize) -> Result<Frame, WireError> {
    let max_bytes = max_bytes.min(MAX_FRAME);
    let hlen = capped(
        "header",
        read_u32(r, true)? as usize,
        MAX_HEADER.min(max_bytes),
    )?;
    let header = read_exact_vec(r, hlen)?;
    let count = capped("blob count", read_u32(r, false)? as usize, MAX_BLOBS)?;
    let mut total = hlen;
    let mut blobs = Vec::with_capacity(count.min(64));
    for _ in 0..count {
        let len = capped(
            "blob",
            read_u32(r, false)? as usize,
            MAX_BLOB.min(max_bytes),
        )?;
        total = capped("total", total + len, max_bytes)?;
        blobs.push(read_exact_vec(r, len)?);
    }
    Ok(Frame { header, blobs })
}

/// Decode a frame held in memory (the fuzz target and tests use this).
pub fn decode(mut bytes: &[u8]) -> Result<Frame, WireError> {
    read_frame(&mut bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn caps_are_checked_before_allocating() {
        let mut huge = Vec::new();
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            decode(&huge),
            Err(WireError::TooLarge { what: "header", .. })
        ));
        let mut many = encode(&Frame::default());
        many[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            decode(&many),
            Err(WireError::TooLarge {
                what: "blob count",
                ..
            })
        ));
        assert!(matches!(decode(&[]), Err(WireError::Closed)));
    }

    proptest! {
        #[test]
        fn frames_round_trip(header in proptest::collection::vec(any::<u8>(), 0..300),
                             blobs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..50), 0..8)) {
            let f = Frame { header, blobs };
            prop_assert_eq!(decode(&encode(&f)).unwrap(), f);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&bytes);
        }
    }
}
