//! Writes a bundle: files streamed in and hashed in one pass, manifest last, then an atomic rename.
//!
//! Nothing half-written is ever left under the final name: the zip grows as `.<name>.<id>.partial`
//! beside the target and is renamed only once it is complete and flushed to disk. A cancelled or
//! failed write removes the partial file. Source files are opened read-only and read once.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Timelike, Utc};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::manifest::{
    FILES_PREFIX, MANIFEST_NAME, Manifest, ManifestFile, ManifestSkipped, Method,
};
use crate::hash::{HashingWriter, sha256_file};
use crate::progress::Progress;
use crate::sources::{SourceFile, display_path};

/// Extensions whose content is already compressed or encrypted: deflating them wastes time.
const STORED_EXTENSIONS: &[&str] = &[
    "blog", "etl", "gz", "tgz", "zip", "7z", "xz", "zst", "bz2", "png", "jpg", "jpeg", "webp",
    "mp4",
];

const CHUNK: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{} already exists; choose another name or remove it first", .0.display())]
    OutputExists(PathBuf),
    #[error("cannot write the bundle to {}: {source}", path.display())]
    Output { path: PathBuf, source: io::Error },
    #[error("cannot read {}: {source}", path.display())]
    Input { path: PathBuf, source: io::Error },
    #[error("cannot pack the bundle: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("cancelled; nothing was written")]
    Cancelled,
}

/// A finished bundle on disk.
#[derive(Debug, Clone)]
pub struct WrittenBundle {
    pub path: PathBuf,
    pub manifest: Manifest,
    /// SHA-256 of the whole zip, as the ticket API checks it.
    pub sha256: String,
    pub bytes: u64,
}

/// Writes `files` into a new bundle at `out`. `manifest` carries everything but `files`, which this
/// fills in from what was really copied; files that vanish or cannot be read move to `skipped`.
pub fn write_bundle(
    out: &Path,
    mut manifest: Manifest,
    files: &[SourceFile],
    mut on_progress: impl FnMut(Progress) -> bool,
) -> Result<WrittenBundle, WriteError> {
    if out.exists() {
        return Err(WriteError::OutputExists(out.to_path_buf()));
    }
    let partial = Partial::create(out, manifest.bundle_id)?;
    let output_error = |source| WriteError::Output {
        path: out.to_path_buf(),
        source,
    };
    let mut zip = ZipWriter::new(BufWriter::with_capacity(
        CHUNK,
        partial.file.try_clone().map_err(output_error)?,
    ));

    let files_total = files.len() as u32;
    let bytes_total: u64 = files.iter().map(|f| f.size).sum();
    let mut bytes_done = 0;
    let mut buffer = vec![0u8; CHUNK];
    manifest.files.clear();
    for (index, file) in files.iter().enumerate() {
        let progress = |bytes_done| Progress::Collecting {
            files_done: index as u32,
            files_total,
            bytes_done,
            bytes_total,
        };
        if !on_progress(progress(bytes_done)) {
            return Err(WriteError::Cancelled);
        }
        let mut source = match File::open(&file.path) {
            Ok(source) => source,
            Err(err) => {
                manifest.skipped.push(skipped(file, &err));
                bytes_done += file.size;
                continue;
            }
        };
        let method = method_for(file);
        let name = format!("{FILES_PREFIX}{}/{}", file.source_id, file.relative);
        let options = SimpleFileOptions::default()
            .compression_method(match method {
                Method::Stored => CompressionMethod::Stored,
                Method::Deflated => CompressionMethod::Deflated,
            })
            .large_file(file.size >= u64::from(u32::MAX))
            .last_modified_time(zip_time(file.modified.into()))
            .unix_permissions(0o644);
        zip.start_file(&name, options)?;
        let mut hashing = HashingWriter::new(&mut zip);
        let mut limited = (&mut source).take(file.size);
        let start = bytes_done;
        loop {
            let n = match limited.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(WriteError::Input {
                        path: file.path.clone(),
                        source,
                    });
                }
            };
            hashing.write_all(&buffer[..n]).map_err(output_error)?;
            bytes_done += n as u64;
            if !on_progress(progress(bytes_done)) {
                return Err(WriteError::Cancelled);
            }
        }
        let (sha256, size, _) = hashing.finish();
        bytes_done = start + file.size;
        // Cut only if the file really has more bytes now than were copied.
        let now_len = source.metadata().map(|m| m.len()).unwrap_or(size);
        manifest.files.push(ManifestFile {
            path: name,
            source: file.source_id.clone(),
            original_path: display_path(&file.path),
            size,
            sha256,
            modified_at: file.modified.into(),
            kind: file.kind,
            encrypted: file.encrypted,
            truncated: now_len > size,
            redactions: 0,
            method,
        });
    }
    if !on_progress(Progress::Collecting {
        files_done: files_total,
        files_total,
        bytes_done,
        bytes_total,
    }) {
        return Err(WriteError::Cancelled);
    }

    let json = serde_json::to_vec_pretty(&manifest).expect("manifest serializes");
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(zip_time(manifest.created_at))
        .unix_permissions(0o644);
    zip.start_file(MANIFEST_NAME, options)?;
    zip.write_all(&json).map_err(output_error)?;
    let mut writer = zip.finish()?;
    writer.flush().map_err(output_error)?;
    drop(writer);
    let path = partial.commit(out)?;
    let (sha256, bytes) = sha256_file(&path).map_err(output_error)?;
    Ok(WrittenBundle {
        path,
        manifest,
        sha256,
        bytes,
    })
}

/// Deflate readable text; store what is encrypted or already compressed.
fn method_for(file: &SourceFile) -> Method {
    let ext = file
        .relative
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if file.encrypted || STORED_EXTENSIONS.contains(&ext.as_str()) {
        Method::Stored
    } else {
        Method::Deflated
    }
}

fn skipped(file: &SourceFile, err: &io::Error) -> ManifestSkipped {
    let reason = match err.kind() {
        io::ErrorKind::NotFound => "vanished before it could be copied".to_owned(),
        io::ErrorKind::PermissionDenied => "unreadable: permission denied".to_owned(),
        _ => format!("unreadable: {err}"),
    };
    ManifestSkipped {
        original_path: display_path(&file.path),
        reason,
    }
}

/// Zip entries carry local DOS times; clamp to the range the format can hold.
fn zip_time(at: DateTime<Utc>) -> zip::DateTime {
    let year = at.year().clamp(1980, 2107) as u16;
    zip::DateTime::from_date_and_time(
        year,
        at.month() as u8,
        at.day() as u8,
        at.hour() as u8,
        at.minute() as u8,
        at.second() as u8,
    )
    .unwrap_or_default()
}

/// The bundle while it is being written; removed on drop unless committed.
struct Partial {
    path: PathBuf,
    file: File,
    committed: bool,
}

impl Partial {
    fn create(out: &Path, id: uuid::Uuid) -> Result<Partial, WriteError> {
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "bundle.zip".into());
        let path = out.with_file_name(format!(".{name}.{id}.partial"));
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|source| WriteError::Output {
                path: out.to_path_buf(),
                source,
            })?;
        Ok(Partial {
            path,
            file,
            committed: false,
        })
    }

    fn commit(mut self, out: &Path) -> Result<PathBuf, WriteError> {
        let error = |source| WriteError::Output {
            path: out.to_path_buf(),
            source,
        };
        self.file.rewind().map_err(error)?;
        self.file.sync_all().map_err(error)?;
        // `rename` would replace a file that appeared meanwhile; hard-link refuses instead.
        std::fs::hard_link(&self.path, out)
            .or_else(|err| match err.kind() {
                io::ErrorKind::AlreadyExists => Err(err),
                // File systems without hard links: fall back to rename after a last check.
                _ if !out.exists() => std::fs::rename(&self.path, out),
                _ => Err(err),
            })
            .map_err(|err| match err.kind() {
                io::ErrorKind::AlreadyExists => WriteError::OutputExists(out.to_path_buf()),
                _ => error(err),
            })?;
        let _ = std::fs::remove_file(&self.path);
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        self.committed = true;
        Ok(out.to_path_buf())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
