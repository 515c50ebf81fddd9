//! Bundles: the container format, packing (vendor side), and payload
//! verification shared by the facility tools.

pub mod container;
pub mod pack;

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

pub use container::RawHeader;

use crate::domain::{Manifest, Sha256};
use crate::trust::{self, Hasher};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: {source}")]
    Container {
        path: PathBuf,
        #[source]
        source: container::Error,
    },
    #[error(transparent)]
    Trust(#[from] trust::Error),
    #[error(transparent)]
    Rule(#[from] crate::domain::Error),
    #[error("the source tree has {} problem(s):\n{}", .0.len(), .0.join("\n"))]
    Source(Vec<String>),
    #[error("{0} changed while it was being packed; pack again")]
    Changed(PathBuf),
    #[error(
        "payload chunk {index} does not match its signed SHA-256; the bundle is corrupt or was altered"
    )]
    ChunkMismatch { index: u64 },
    #[error("payload ends after {got} of {expected} bytes; the bundle is truncated")]
    Truncated { got: u64, expected: u64 },
    #[error(
        "file {0} does not match the SHA-256 its manifest lists; the vendor's manifest is inconsistent, so it cannot be approved"
    )]
    FileMismatch(String),
    #[error("payload is longer than the {expected} bytes its manifest declares")]
    TooLong { expected: u64 },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io_err(path: &Path) -> impl Fn(io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// SHA-256 of consecutive fixed-size chunks of a byte stream.
pub struct ChunkHasher {
    size: u64,
    fill: u64,
    hasher: Hasher,
    done: Vec<Sha256>,
}

impl ChunkHasher {
    pub fn new(chunk_size: u32) -> Self {
        ChunkHasher {
            size: u64::from(chunk_size),
            fill: 0,
            hasher: Hasher::default(),
            done: Vec::new(),
        }
    }

    pub fn update(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let take = ((self.size - self.fill) as usize).min(bytes.len());
            self.hasher.update(&bytes[..take]);
            self.fill += take as u64;
            bytes = &bytes[take..];
            if self.fill == self.size {
                let h = std::mem::take(&mut self.hasher);
                self.done.push(h.finish());
                self.fill = 0;
            }
        }
    }

    pub fn finish(mut self) -> Vec<Sha256> {
        if self.fill > 0 {
            self.done.push(self.hasher.finish());
        }
        self.done
    }
}

/// Open a bundle file and read its header.
pub fn open_bundle(path: &Path) -> Result<(RawHeader, io::BufReader<File>)> {
    let f = File::open(path).map_err(io_err(path))?;
    let mut r = io::BufReader::with_capacity(1 << 20, f);
    let h = RawHeader::read_from(&mut r).map_err(|source| Error::Container {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((h, r))
}

/// Read exactly `manifest.total_size` payload bytes, check every chunk and
/// every file against the manifest, require end of stream, and copy to
/// `out` if given. Facility IT runs this before approving, so an approved
/// manifest's file hashes are known to agree with its chunk hashes.
pub fn verify_payload(
    r: &mut impl Read,
    manifest: &Manifest,
    mut out: Option<&mut dyn Write>,
    out_path: &Path,
) -> Result<()> {
    let mut buf = vec![0u8; manifest.chunk_size as usize];
    let mut got = 0u64;
    let mut files = FileHashes::new(manifest);
    for index in 0..manifest.expected_chunks() {
        let len = manifest.chunk_len(index) as usize;
        let chunk = &mut buf[..len];
        let mut filled = 0;
        while filled < len {
            match r.read(&mut chunk[filled..]) {
                Ok(0) => {
                    return Err(Error::Truncated {
                        got: got + filled as u64,
                        expected: manifest.total_size,
                    });
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_err(out_path)(e)),
            }
        }
        if trust::sha256(chunk) != manifest.chunks[index as usize] {
            return Err(Error::ChunkMismatch { index });
        }
        files.update(chunk)?;
        if let Some(w) = out.as_deref_mut() {
            w.write_all(chunk).map_err(io_err(out_path))?;
        }
        got += len as u64;
    }
    files.update(&[])?;
    if at_end(r).map_err(io_err(out_path))? {
        Ok(())
    } else {
        Err(Error::TooLong {
            expected: manifest.total_size,
        })
    }
}

/// Is the stream at its end? (Reads at most one byte.) The signed size is
/// the end of a payload, so one more byte means the bundle is refused.
pub fn at_end(r: &mut (impl Read + ?Sized)) -> io::Result<bool> {
    let mut one = [0u8; 1];
    loop {
        match r.read(&mut one) {
            Ok(0) => return Ok(true),
            Ok(_) => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Read a whole file of at most `cap` bytes; a larger one is refused
/// without reading past the cap.
pub fn read_capped(path: &Path, cap: usize) -> io::Result<Vec<u8>> {
    let f = File::open(path)?;
    let mut buf = Vec::new();
    f.take(cap as u64 + 1).read_to_end(&mut buf)?;
    if buf.len() > cap {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("file is larger than {cap} bytes"),
        ));
    }
    Ok(buf)
}

/// Per-file SHA-256 over the payload stream, checked as each file ends.
struct FileHashes<'m> {
    manifest: &'m Manifest,
    index: usize,
    left: u64,
    hasher: Hasher,
}

impl<'m> FileHashes<'m> {
    fn new(manifest: &'m Manifest) -> Self {
        FileHashes {
            manifest,
            index: 0,
            left: manifest.files.first().map_or(0, |f| f.size),
            hasher: Hasher::default(),
        }
    }

    fn update(&mut self, mut bytes: &[u8]) -> Result<()> {
        loop {
            while self.left == 0 && self.index < self.manifest.files.len() {
                let f = &self.manifest.files[self.index];
                if std::mem::take(&mut self.hasher).finish() != f.sha256 {
                    return Err(Error::FileMismatch(f.path.to_string()));
                }
                self.index += 1;
                self.left = self.manifest.files.get(self.index).map_or(0, |f| f.size);
            }
            if bytes.is_empty() {
                return Ok(());
            }
            let take = (self.left as usize).min(bytes.len());
            self.hasher.update(&bytes[..take]);
            self.left -= take as u64;
            bytes = &bytes[take..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_hasher_splits_across_updates() {
        let data: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        let mut h = ChunkHasher::new(1024);
        for part in data.chunks(333) {
            h.update(part);
        }
        let got = h.finish();
        let want: Vec<_> = data.chunks(1024).map(trust::sha256).collect();
        assert_eq!(got, want);
    }
}

/// Write a small file atomically: a temporary file beside it, fsynced,
/// then renamed over it. A cut leaves the old file or the new one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
