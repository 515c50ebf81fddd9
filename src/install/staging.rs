//! The staging area: where verified chunks become files before the rename.
//!
//! Layout, per manifest hash `H`:
//! ```text
//! content/.staging/H/files/…     the files, growing in payload order
//! content/.staging/H/progress    "<chunks done>\n", written after an fsync
//! ```
//! Only chunks whose hash matched are ever written, and `progress` is only
//! raised after the bytes it covers are fsynced, so a resume can trust
//! everything below it.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::{Error, Result, failpoint};
use crate::domain::Manifest;
use crate::trust::Hasher;

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// fsync a directory so the names in it are durable.
pub fn sync_dir(path: &Path) -> Result<()> {
    File::open(path)
        .and_then(|d| d.sync_all())
        .map_err(io(path))
}

pub struct Staging {
    pub dir: PathBuf,
    pub files_dir: PathBuf,
    progress: PathBuf,
}

impl Staging {
    pub fn new(staging_root: &Path, manifest_hash: &str) -> Self {
        let dir = staging_root.join(manifest_hash);
        Staging {
            files_dir: dir.join("files"),
            progress: dir.join("progress"),
            dir,
        }
    }

    /// Chunks already verified and durable from an earlier attempt.
    pub fn chunks_done(&self, manifest: &Manifest) -> u64 {
        let Ok(meta) = fs::symlink_metadata(&self.progress) else {
            return 0;
        };
        if !meta.is_file() || meta.len() > 32 || !self.files_dir.is_dir() {
            return 0;
        }
        fs::read_to_string(&self.progress)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .filter(|n| *n <= manifest.expected_chunks())
            .unwrap_or(0)
    }

    /// Start from nothing.
    pub fn reset(&self, staging_root: &Path) -> Result<()> {
        if fs::symlink_metadata(&self.dir).is_ok() {
            fs::remove_dir_all(&self.dir).map_err(io(&self.dir))?;
        }
        fs::create_dir_all(&self.files_dir).map_err(io(&self.files_dir))?;
        sync_dir(staging_root)
    }

    /// Durably record that `chunks` chunks are on disk.
    pub fn write_progress(&self, chunks: u64) -> Result<()> {
        let tmp = self.dir.join("progress.tmp");
        let mut f = File::create(&tmp).map_err(io(&tmp))?;
        writeln!(f, "{chunks}").map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        fs::rename(&tmp, &self.progress).map_err(io(&self.progress))?;
        sync_dir(&self.dir)
    }
}

/// Files and directories to fsync, and the chunk count they make durable.
pub struct SyncBatch {
    files: Vec<File>,
    dirs: Vec<PathBuf>,
    chunks: u64,
}

impl SyncBatch {
    /// fsync, then record progress: the count never gets ahead of the data.
    pub fn run(self, staging: &Staging) -> Result<()> {
        for f in &self.files {
            f.sync_all().map_err(io(&staging.files_dir))?;
        }
        for d in &self.dirs {
            sync_dir(d)?;
        }
        staging.write_progress(self.chunks)
    }
}

/// The SHA-256 of each file as the payload streams past, refusing the
/// first file whose bytes do not hash to its signed value.
pub(super) struct FileHashes<'m> {
    files: &'m [crate::domain::FileEntry],
    index: usize,
    left: u64,
    hasher: Hasher,
}

impl<'m> FileHashes<'m> {
    pub(super) fn new(m: &'m Manifest) -> Self {
        FileHashes {
            files: &m.files,
            index: 0,
            left: m.files.first().map(|f| f.size).unwrap_or(0),
            hasher: Hasher::default(),
        }
    }

    /// Go on from byte `local` of file `index`, whose first `local` bytes
    /// hash to `prefix` (files before it were checked when they ended).
    fn resume(&mut self, index: usize, local: u64, prefix: Hasher) {
        self.index = index;
        self.left = self.files.get(index).map(|f| f.size - local).unwrap_or(0);
        self.hasher = prefix;
    }

    /// Check every file that is complete (empty ones included) and move on.
    fn close_done(&mut self) -> Result<()> {
        while self.index < self.files.len() && self.left == 0 {
            let f = &self.files[self.index];
            if std::mem::take(&mut self.hasher).finish() != f.sha256 {
                return Err(Error::FileMismatch {
                    path: f.path.to_string(),
                });
            }
            self.index += 1;
            self.left = self.files.get(self.index).map(|f| f.size).unwrap_or(0);
        }
        Ok(())
    }

    pub(super) fn feed(&mut self, mut data: &[u8]) -> Result<()> {
        self.close_done()?;
        while !data.is_empty() {
            if self.index >= self.files.len() {
                return Err(Error::Internal("payload longer than its files".into()));
            }
            let take = (self.left as usize).min(data.len());
            self.hasher.update(&data[..take]);
            self.left -= take as u64;
            data = &data[take..];
            self.close_done()?;
        }
        Ok(())
    }

    pub(super) fn finish(mut self) -> Result<()> {
        self.close_done()?;
        match self.files.get(self.index) {
            None => Ok(()),
            Some(f) => Err(Error::Internal(format!("payload ended inside {}", f.path))),
        }
    }
}

/// Writes the verified payload stream into the manifest's files. Every byte
/// arrives inside a chunk whose SHA-256 was checked against the signed
/// manifest; the writer also hashes each file as it grows and refuses the
/// file whose bytes do not hash to its signed SHA-256 (docs/bundle-format.md
/// §5 step 3), on the writer thread, beside the reader's chunk hashing.
pub struct FileWriter<'m> {
    manifest: &'m Manifest,
    root: PathBuf,
    /// Index of the file being written.
    index: usize,
    /// Bytes of it written so far.
    offset: u64,
    current: Option<File>,
    /// Each file's SHA-256, checked as its last byte passes.
    hashes: FileHashes<'m>,
    /// Files written since the last fsync.
    unsynced: Vec<File>,
    dirs: BTreeSet<PathBuf>,
    chunks_written: u64,
}

impl<'m> FileWriter<'m> {
    pub fn new(manifest: &'m Manifest, root: &Path) -> Self {
        FileWriter {
            manifest,
            root: root.to_path_buf(),
            index: 0,
            offset: 0,
            current: None,
            hashes: FileHashes::new(manifest),
            unsynced: Vec::new(),
            dirs: BTreeSet::new(),
            chunks_written: 0,
        }
    }

    fn disk_path(&self, i: usize) -> PathBuf {
        let mut p = self.root.clone();
        for c in self.manifest.files[i].path.components() {
            p.push(c);
        }
        p
    }

    /// Create (never open an existing) file `i`, making its directories.
    /// Paths are [`crate::domain::SafePath`]s, and O_NOFOLLOW plus O_EXCL
    /// mean nothing already on disk can redirect the write.
    fn create(&mut self, i: usize) -> Result<File> {
        let path = self.disk_path(i);
        let mut dir = self.root.clone();
        let comps: Vec<&str> = self.manifest.files[i].path.components().collect();
        for c in &comps[..comps.len() - 1] {
            dir.push(c);
            match fs::symlink_metadata(&dir) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    return Err(Error::Io {
                        path: dir.clone(),
                        source: std::io::Error::other("exists and is not a directory"),
                    });
                }
                Err(_) => {
                    fs::create_dir(&dir).map_err(io(&dir))?;
                    self.dirs.insert(dir.clone());
                }
            }
        }
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW)
            .mode(0o644)
            .open(&path)
            .map_err(io(&path))
    }

    /// Position the writer at payload byte `pos` (> 0) after a resume:
    /// files wholly before it must be complete, the one it falls in is cut
    /// to length, and later files are removed. Any mismatch is
    /// [`Error::ResumeMismatch`], and the caller starts over.
    pub fn resume_at(&mut self, pos: u64, chunks_done: u64) -> Result<()> {
        let n = self.manifest.files.len();
        let mut start = 0u64;
        let mut current = n;
        for i in 0..n {
            let size = self.manifest.files[i].size;
            let end = start + size;
            let path = self.disk_path(i);
            if end <= pos && current == n {
                // Wholly before `pos`: complete. Empty files at the boundary
                // may not have been created yet.
                match fs::symlink_metadata(&path) {
                    Ok(m) if m.is_file() && m.len() == size => {}
                    Err(_) if size == 0 => {
                        let f = self.create(i)?;
                        self.unsynced.push(f);
                    }
                    _ => return Err(Error::ResumeMismatch(path)),
                }
            } else if current == n {
                current = i;
                let local = pos - start;
                if local == 0 {
                    if fs::symlink_metadata(&path).is_ok() {
                        fs::remove_file(&path).map_err(io(&path))?;
                    }
                } else {
                    self.reopen_partial(i, local)?;
                }
            } else if fs::symlink_metadata(&path).is_ok() {
                fs::remove_file(&path).map_err(io(&path))?;
            }
            start = end;
        }
        if self.current.is_none() {
            // `pos` falls on a file's start (or the end): hashing starts
            // afresh there; every file before it was checked as it ended.
            self.hashes.resume(current, 0, Hasher::default());
        }
        self.index = current;
        self.chunks_written = chunks_done;
        Ok(())
    }

    fn reopen_partial(&mut self, i: usize, local: u64) -> Result<()> {
        let path = self.disk_path(i);
        let meta = fs::symlink_metadata(&path).map_err(|_| Error::ResumeMismatch(path.clone()))?;
        if !meta.is_file() || meta.len() < local {
            return Err(Error::ResumeMismatch(path));
        }
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(io(&path))?;
        f.set_len(local).map_err(io(&path))?;
        // The file's hash goes on from the bytes already staged (each was
        // in a verified chunk).
        let mut hasher = Hasher::default();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf).map_err(io(&path))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        f.seek(SeekFrom::End(0)).map_err(io(&path))?;
        self.offset = local;
        self.current = Some(f);
        self.hashes.resume(i, local, hasher);
        Ok(())
    }

    /// Finish file `index` if it is complete, then open the next one,
    /// passing over (and creating) empty files.
    fn roll(&mut self) -> Result<()> {
        let manifest = self.manifest;
        while self.index < manifest.files.len() {
            let entry = &manifest.files[self.index];
            if self.current.is_none() {
                let f = self.create(self.index)?;
                self.current = Some(f);
                self.offset = 0;
            }
            if self.offset < entry.size {
                return Ok(());
            }
            if let Some(f) = self.current.take() {
                self.unsynced.push(f);
            }
            self.index += 1;
        }
        Ok(())
    }

    /// Write one verified chunk. Its bytes are hashed into their files
    /// first, so a file that does not match stops the write.
    pub fn write_chunk(&mut self, mut data: &[u8]) -> Result<()> {
        self.hashes.feed(data)?;
        while !data.is_empty() {
            self.roll()?;
            let manifest = self.manifest;
            let Some(entry) = manifest.files.get(self.index) else {
                return Err(Error::Internal("payload longer than its files".into()));
            };
            let take = ((entry.size - self.offset) as usize).min(data.len());
            let path = self.disk_path(self.index);
            let f = self.current.as_mut().expect("roll opened a file");
            f.write_all(&data[..take]).map_err(io(&path))?;
            self.offset += take as u64;
            data = &data[take..];
        }
        self.roll()?;
        self.chunks_written += 1;
        failpoint(&format!("install:after-chunk-{}", self.chunks_written - 1));
        Ok(())
    }

    /// fsync everything written, then record progress.
    pub fn checkpoint(&mut self, staging: &Staging) -> Result<()> {
        self.sync_batch()?.run(staging)
    }

    /// Everything written so far that is not yet durable, as a batch another
    /// thread can fsync while this writer goes on writing.
    pub fn sync_batch(&mut self) -> Result<SyncBatch> {
        let mut files: Vec<File> = self.unsynced.drain(..).collect();
        if let Some(f) = &self.current {
            files.push(f.try_clone().map_err(io(&self.root))?);
        }
        let mut dirs: Vec<PathBuf> = std::mem::take(&mut self.dirs).into_iter().collect();
        dirs.push(self.root.clone());
        Ok(SyncBatch {
            files,
            dirs,
            chunks: self.chunks_written,
        })
    }

    fn sync_files(&mut self) -> Result<()> {
        for f in self.unsynced.drain(..) {
            f.sync_all().map_err(io(&self.root))?;
        }
        if let Some(f) = &self.current {
            f.sync_all().map_err(io(&self.root))?;
        }
        for d in std::mem::take(&mut self.dirs) {
            sync_dir(&d)?;
        }
        sync_dir(&self.root)
    }

    /// After the last chunk: create trailing empty files, check every file
    /// is complete, and fsync it all.
    pub fn finish(&mut self) -> Result<()> {
        // Trailing empty files are checked too.
        std::mem::replace(&mut self.hashes, FileHashes::new(self.manifest)).finish()?;
        self.roll()?;
        if self.index != self.manifest.files.len() {
            return Err(Error::Internal(format!(
                "payload ended inside {}",
                self.manifest.files[self.index].path
            )));
        }
        self.sync_files()
    }
}
