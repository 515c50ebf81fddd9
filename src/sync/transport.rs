//! Byte sources for bundles.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Something that can hand out a bundle's bytes from any offset, so an
/// interrupted transfer resumes where verified data ends.
pub trait BundleSource {
    /// A short human description ("file /media/usb/x.berth").
    fn describe(&self) -> String;
    /// A reader positioned at `offset` bytes into the bundle.
    fn open_at(&mut self, offset: u64) -> io::Result<Box<dyn Read + '_>>;
    /// Whether the source holds the whole bundle at once (a file), so an
    /// early end means the file is short, not that a transfer was cut.
    fn is_whole(&self) -> bool {
        false
    }
}

/// A bundle file on local or removable storage.
pub struct FileSource {
    path: PathBuf,
}

impl FileSource {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileSource { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl BundleSource for FileSource {
    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }

    fn open_at(&mut self, offset: u64) -> io::Result<Box<dyn Read + '_>> {
        let mut f = File::open(&self.path)?;
        f.seek(SeekFrom::Start(offset))?;
        Ok(Box::new(f))
    }

    fn is_whole(&self) -> bool {
        true
    }
}

/// The bundle files (`*.berth`) in a directory, such as a USB stick, in
/// name order. Each goes through the installer like any other source.
pub fn directory_sources(dir: &Path) -> io::Result<Vec<FileSource>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        if e.file_type()?.is_file() && p.extension().is_some_and(|x| x == "berth") {
            out.push(FileSource::new(p));
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}
