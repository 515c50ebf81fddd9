//! Vendor side: turn a directory into a signed bundle.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::container::RawHeader;
use super::{ChunkHasher, Error, Result, io_err};
use crate::domain::docs::MAX_FILES;
use crate::domain::{
    BundleId, ContentType, FileEntry, Manifest, SafePath, Sha256, TabletModel, VendorId,
};
use crate::trust::{Envelope, Hasher, SigningKey, payload_type};

/// Default payload chunk size: 1 MiB.
pub const DEFAULT_CHUNK_SIZE: u32 = 1 << 20;

/// What the vendor says about the bundle; the rest comes from the files.
#[derive(Clone, Debug)]
pub struct PackSpec {
    pub bundle_id: BundleId,
    pub version: u64,
    pub content_type: ContentType,
    pub vendor: VendorId,
    pub title: String,
    pub tablet_model: TabletModel,
    pub created: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    pub chunk_size: u32,
}

/// A source file and where it goes in the bundle.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: SafePath,
    pub disk: PathBuf,
    pub size: u64,
}

/// List the regular files under `src` in bundle order (byte order of their
/// bundle paths). Every problem is reported, with its path, in one error.
pub fn scan_source(src: &Path) -> Result<Vec<SourceFile>> {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let meta = fs::symlink_metadata(src).map_err(io_err(src))?;
    if !meta.is_dir() {
        return Err(Error::Source(vec![format!(
            "{}: not a directory",
            src.display()
        )]));
    }
    walk(src, "", &mut files, &mut problems)?;
    if files.is_empty() && problems.is_empty() {
        problems.push(format!("{}: holds no files", src.display()));
    }
    if files.len() > MAX_FILES {
        problems.push(format!(
            "{}: {} files, at most {MAX_FILES} allowed",
            src.display(),
            files.len()
        ));
    }
    if !problems.is_empty() {
        return Err(Error::Source(problems));
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

fn walk(
    dir: &Path,
    prefix: &str,
    files: &mut Vec<SourceFile>,
    problems: &mut Vec<String>,
) -> Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .map_err(io_err(dir))?
        .collect::<std::io::Result<_>>()
        .map_err(io_err(dir))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let disk = e.path();
        let name = e.file_name();
        let Some(name) = name.to_str() else {
            problems.push(format!("{}: name is not UTF-8", disk.display()));
            continue;
        };
        let rel = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        };
        let ft = e.file_type().map_err(io_err(&disk))?;
        if ft.is_symlink() {
            problems.push(format!(
                "{}: symbolic links cannot be packed",
                disk.display()
            ));
        } else if ft.is_dir() {
            walk(&disk, &rel, files, problems)?;
        } else if !ft.is_file() {
            problems.push(format!(
                "{}: only regular files can be packed",
                disk.display()
            ));
        } else {
            match SafePath::parse(&rel) {
                Ok(path) => {
                    let size = e.metadata().map_err(io_err(&disk))?.len();
                    files.push(SourceFile { path, disk, size });
                }
                Err(err) => problems.push(format!("{}: {err}", disk.display())),
            }
        }
    }
    Ok(())
}

fn open_nofollow(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(io_err(path))
}

/// Stream every file once, feeding `each` with (file index, bytes).
fn stream_files(
    files: &[SourceFile],
    mut each: impl FnMut(usize, &[u8]) -> Result<()>,
) -> Result<()> {
    let mut buf = vec![0u8; 256 * 1024];
    for (i, f) in files.iter().enumerate() {
        let mut r = open_nofollow(&f.disk)?;
        let mut seen = 0u64;
        loop {
            let n = r.read(&mut buf).map_err(io_err(&f.disk))?;
            if n == 0 {
                break;
            }
            seen += n as u64;
            if seen > f.size {
                return Err(Error::Changed(f.disk.clone()));
            }
            each(i, &buf[..n])?;
        }
        if seen != f.size {
            return Err(Error::Changed(f.disk.clone()));
        }
    }
    Ok(())
}

/// Build and sign the manifest for `files`.
pub fn build_manifest(files: &[SourceFile], spec: &PackSpec) -> Result<Manifest> {
    let mut chunks = ChunkHasher::new(spec.chunk_size);
    let mut file_hashers: Vec<Hasher> = files.iter().map(|_| Hasher::default()).collect();
    stream_files(files, |i, bytes| {
        chunks.update(bytes);
        file_hashers[i].update(bytes);
        Ok(())
    })?;
    let entries = files
        .iter()
        .zip(file_hashers)
        .map(|(f, h)| FileEntry {
            path: f.path.clone(),
            size: f.size,
            sha256: h.finish(),
        })
        .collect::<Vec<_>>();
    let manifest = Manifest {
        bundle_id: spec.bundle_id.clone(),
        version: spec.version,
        content_type: spec.content_type,
        vendor: spec.vendor.clone(),
        title: spec.title.clone(),
        tablet_model: spec.tablet_model.clone(),
        created: spec.created,
        expires: spec.expires,
        chunk_size: spec.chunk_size,
        total_size: entries.iter().map(|e| e.size).sum(),
        chunks: chunks.finish(),
        files: entries,
    };
    manifest.validate()?;
    Ok(manifest)
}

/// The result of packing.
#[derive(Debug)]
pub struct Packed {
    pub manifest: Manifest,
    pub manifest_sha256: Sha256,
    pub bundle_bytes: u64,
}

/// Pack `src` into a signed bundle at `out` (written atomically).
pub fn pack(
    src: &Path,
    spec: &PackSpec,
    key: &SigningKey,
    delegation_envelope: &[u8],
    out: &Path,
) -> Result<Packed> {
    let files = scan_source(src)?;
    let manifest = build_manifest(&files, spec)?;
    let payload = serde_json::to_vec(&manifest).expect("manifest serializes");
    let manifest_sha256 = crate::trust::sha256(&payload);
    let envelope = Envelope::sign(payload_type::MANIFEST, payload, &[key]);
    let header = RawHeader {
        manifest: envelope.to_bytes(),
        delegation: delegation_envelope.to_vec(),
        approvals: Vec::new(),
    };
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(io_err(dir))?;
    let mut w = BufWriter::with_capacity(1 << 20, tmp);
    header.write_to(&mut w).map_err(|source| Error::Container {
        path: out.to_path_buf(),
        source,
    })?;
    // Second pass: copy, re-hashing so a file changed between passes is caught.
    let mut again = ChunkHasher::new(spec.chunk_size);
    stream_files(&files, |_, bytes| {
        again.update(bytes);
        w.write_all(bytes).map_err(io_err(out))
    })?;
    if again.finish() != manifest.chunks {
        return Err(Error::Changed(src.to_path_buf()));
    }
    let tmp = w.into_inner().map_err(|e| io_err(out)(e.into_error()))?;
    tmp.as_file().sync_all().map_err(io_err(out))?;
    tmp.persist(out).map_err(|e| io_err(out)(e.error))?;
    let bundle_bytes = header.encoded_len() + manifest.total_size;
    Ok(Packed {
        manifest,
        manifest_sha256,
        bundle_bytes,
    })
}

/// Write `header` followed by the payload of the bundle at `src`, checking
/// every payload chunk against `manifest` on the way. Used to add approvals.
pub fn rewrite_with_header(
    src: &Path,
    header: &RawHeader,
    manifest: &Manifest,
    out: &Path,
) -> Result<()> {
    let (_, mut r) = super::open_bundle(src)?;
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(io_err(dir))?;
    let mut w = BufWriter::with_capacity(1 << 20, tmp);
    header.write_to(&mut w).map_err(|source| Error::Container {
        path: out.to_path_buf(),
        source,
    })?;
    super::verify_payload(&mut r, manifest, Some(&mut w), out)?;
    let tmp = w.into_inner().map_err(|e| io_err(out)(e.into_error()))?;
    tmp.as_file().sync_all().map_err(io_err(out))?;
    tmp.persist(out).map_err(|e| io_err(out)(e.error))?;
    Ok(())
}
