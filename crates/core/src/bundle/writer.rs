//! Writes a bundle: files streamed in and hashed in one pass, manifest last, then an atomic rename.
//!
//! # Brief overview
//!
//! Each file is read once, read-only, up to the size seen at the snapshot. Encrypted and
//! already-compressed files (and content a quick probe finds incompressible) are *stored*, straight
//! from disk into the archive; readable text is *deflated*, after the optional [`ContentFilter`]
//! (redaction). Small and medium text files are compressed by worker threads while the writer
//! thread stores the next file, and are appended in plan order, so the archive is the same whatever
//! the timing. At most a few compressed files are held in memory at once, which bounds memory
//! whatever the corpus size; larger text files are streamed by the writer thread itself.
//!
//! Nothing half-written is ever left under the final name: the zip grows as `.<name>.<id>.partial`
//! beside the target and is linked into place only once it is complete and flushed to disk. A
//! cancelled or failed write removes the partial file.

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};

use chrono::{DateTime, Datelike, Timelike, Utc};
use zip::write::{SimpleFileOptions, ZipFileBuilder};
use zip::{CompressionMethod, ZipWriter};

use super::manifest::{
    FILES_PREFIX, FileRedaction, MANIFEST_NAME, Manifest, ManifestFile, ManifestSkipped, Method,
};
use crate::hash::{HashingWriter, sha256_file};
use crate::progress::Progress;
use crate::sources::{SourceFile, display_path};

/// Extensions whose content is already compressed or encrypted: deflating them wastes time.
const STORED_EXTENSIONS: &[&str] = &[
    "blog", "etl", "gz", "tgz", "zip", "7z", "xz", "zst", "bz2", "png", "jpg", "jpeg", "webp",
    "mp4",
];
/// Extensions known to be text: deflated without a probe.
const TEXT_EXTENSIONS: &[&str] = &[
    "log", "txt", "json", "jsonl", "csv", "xml", "ini", "md", "out", "err",
];

const CHUNK: usize = 256 * 1024;
/// Text files up to this size are compressed by worker threads, in memory.
const PARALLEL_MAX: u64 = 4 << 20;
/// Input bytes of the text files queued for the workers at most; bounds memory.
const IN_FLIGHT_BYTES: u64 = 16 << 20;
/// Deflate level: zip's default, so bundles are no larger than `zip -6` makes them.
const LEVEL: i64 = 6;

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

/// Rewrites a readable file on its way into the bundle (redaction). Returns the replacements
/// made, by kind. Shared by the worker threads of one bundle.
pub trait ContentFilter: Send + Sync {
    fn filter(
        &self,
        input: &mut dyn io::BufRead,
        output: &mut dyn Write,
    ) -> io::Result<BTreeMap<String, u32>>;
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

/// How one file goes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// Stored by the writer thread, straight from disk.
    Store,
    /// Deflated by a worker thread, in memory.
    Parallel,
    /// Deflated by the writer thread, streamed (large text).
    Stream,
}

/// What packing one file produced.
enum Packed {
    Ready {
        entry: ManifestFile,
        prepared: Option<Box<zip::write::PreparedZipFile>>,
    },
    Skipped(ManifestSkipped),
}

/// Writes `files` into a new bundle at `out`. `manifest` carries everything but `files`, which this
/// fills in from what was really copied; files that vanish or cannot be read move to `skipped`.
/// `filter`, when given, rewrites readable (not encrypted) files.
pub fn write_bundle(
    out: &Path,
    mut manifest: Manifest,
    files: &[SourceFile],
    filter: Option<&dyn ContentFilter>,
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

    let routes: Vec<Route> = files.iter().map(route).collect();
    let files_total = files.len() as u32;
    let bytes_total: u64 = files.iter().map(|f| f.size).sum();
    let cancelled = AtomicBool::new(false);
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8);
    manifest.files.clear();

    let (job_tx, job_rx) = mpsc::channel::<(usize, mpsc::SyncSender<Result<Packed, WriteError>>)>();
    let job_rx = Mutex::new(job_rx);
    std::thread::scope(|scope| -> Result<(), WriteError> {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let job = job_rx.lock().expect("job queue").recv();
                    let Ok((index, reply)) = job else { return };
                    let _ = reply.send(pack_in_memory(&files[index], filter, &cancelled));
                }
            });
        }
        let result = (|| {
            let mut queued: VecDeque<(usize, mpsc::Receiver<Result<Packed, WriteError>>)> =
                VecDeque::new();
            let mut next_job = 0;
            let mut queued_bytes = 0u64;
            let mut bytes_done = 0u64;
            for (index, file) in files.iter().enumerate() {
                // Keep the workers busy ahead of the writer (which may be storing a large file
                // meanwhile), within a budget of input bytes: each queued file holds its
                // compressed bytes, never more than its input, until the writer takes it.
                while next_job < files.len() {
                    if routes[next_job] == Route::Parallel {
                        let size = queue_cost(&files[next_job]);
                        if !queued.is_empty() && queued_bytes + size > IN_FLIGHT_BYTES {
                            break;
                        }
                        let (tx, rx) = mpsc::sync_channel(1);
                        job_tx.send((next_job, tx)).expect("workers alive");
                        queued.push_back((next_job, rx));
                        queued_bytes += size;
                    }
                    next_job += 1;
                }
                let keep_going = on_progress(Progress::Collecting {
                    files_done: index as u32,
                    files_total,
                    bytes_done,
                    bytes_total,
                });
                if !keep_going || cancelled.load(Ordering::SeqCst) {
                    cancelled.store(true, Ordering::SeqCst);
                    return Err(WriteError::Cancelled);
                }
                let packed = match routes[index] {
                    Route::Parallel => {
                        let (queued_index, rx) = queued.pop_front().expect("queued in order");
                        queued_bytes -= queue_cost(file);
                        debug_assert_eq!(queued_index, index);
                        match rx.recv().expect("worker replies")? {
                            Packed::Ready {
                                entry,
                                prepared: Some(prepared),
                            } => {
                                zip.add_prepared_file(*prepared)?;
                                Packed::Ready {
                                    entry,
                                    prepared: None,
                                }
                            }
                            other => other,
                        }
                    }
                    route => {
                        let mut chunk_progress = |done: u64| {
                            let keep_going = on_progress(Progress::Collecting {
                                files_done: index as u32,
                                files_total,
                                bytes_done: bytes_done + done,
                                bytes_total,
                            });
                            if !keep_going {
                                cancelled.store(true, Ordering::SeqCst);
                            }
                            keep_going
                        };
                        pack_streamed(&mut zip, file, route, filter, &mut chunk_progress)?
                    }
                };
                match packed {
                    Packed::Ready { entry, .. } => manifest.files.push(entry),
                    Packed::Skipped(skipped) => manifest.skipped.push(skipped),
                }
                bytes_done += file.size;
            }
            if !on_progress(Progress::Collecting {
                files_done: files_total,
                files_total,
                bytes_done,
                bytes_total,
            }) {
                return Err(WriteError::Cancelled);
            }
            Ok(())
        })();
        if result.is_err() {
            cancelled.store(true, Ordering::SeqCst);
        }
        drop(job_tx);
        result
    })?;

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

/// What a queued file may hold in memory: its compressed bytes (at most its size) in a buffer
/// that grows in steps, so small files count for more than their size.
fn queue_cost(file: &SourceFile) -> u64 {
    file.size.max(2 << 20)
}

/// Compresses one text file in memory (worker threads).
fn pack_in_memory(
    file: &SourceFile,
    filter: Option<&dyn ContentFilter>,
    cancelled: &AtomicBool,
) -> Result<Packed, WriteError> {
    let source = match File::open(&file.path) {
        Ok(source) => source,
        Err(err) => return Ok(Packed::Skipped(skipped(file, &err))),
    };
    let builder = ZipFileBuilder::new(entry_name(file), options(file, Method::Deflated))?;
    let mut keep_going = |_| !cancelled.load(Ordering::SeqCst);
    let (entry, builder) = copy_content(
        file,
        source,
        Method::Deflated,
        filter,
        builder,
        &mut keep_going,
    )?;
    Ok(Packed::Ready {
        entry,
        prepared: Some(Box::new(builder.finish()?)),
    })
}

/// Stores, or deflates while streaming, one file straight into the archive (writer thread).
fn pack_streamed<W: Write + Seek>(
    zip: &mut ZipWriter<W>,
    file: &SourceFile,
    route: Route,
    filter: Option<&dyn ContentFilter>,
    on_chunk: &mut dyn FnMut(u64) -> bool,
) -> Result<Packed, WriteError> {
    let source = match File::open(&file.path) {
        Ok(source) => source,
        Err(err) => return Ok(Packed::Skipped(skipped(file, &err))),
    };
    let method = if route == Route::Store {
        Method::Stored
    } else {
        Method::Deflated
    };
    zip.start_file(entry_name(file), options(file, method))?;
    let (entry, _) = copy_content(file, source, method, filter, &mut *zip, on_chunk)?;
    Ok(Packed::Ready {
        entry,
        prepared: None,
    })
}

/// Copies (and, for readable files with a filter, rewrites) a file into `out`, hashing what goes
/// in. Reads at most the snapshot size; the file counts as truncated if it has grown since.
fn copy_content<W: Write>(
    file: &SourceFile,
    mut source: File,
    method: Method,
    filter: Option<&dyn ContentFilter>,
    out: W,
    on_chunk: &mut dyn FnMut(u64) -> bool,
) -> Result<(ManifestFile, W), WriteError> {
    let input_error = |source| WriteError::Input {
        path: file.path.clone(),
        source,
    };
    let mut hashing = HashingWriter::new(out);
    let mut by_kind = BTreeMap::new();
    let limited = (&mut source).take(file.size);
    match filter.filter(|_| !file.encrypted) {
        Some(filter) => {
            let mut reader = BufReader::with_capacity(
                CHUNK,
                Progressing {
                    inner: limited,
                    read: 0,
                    on_chunk,
                },
            );
            by_kind = filter
                .filter(&mut reader, &mut hashing)
                .map_err(|err| cancel_or(err, input_error))?;
        }
        None => {
            let mut reader = Progressing {
                inner: limited,
                read: 0,
                on_chunk,
            };
            io::copy(&mut reader, &mut hashing).map_err(|err| cancel_or(err, input_error))?;
        }
    }
    let (sha256, size, out) = hashing.finish();
    // Cut only if the file really has more bytes now than were read.
    let now_len = source.metadata().map(|m| m.len()).unwrap_or(file.size);
    let entry = ManifestFile {
        path: entry_name(file),
        source: file.source_id.clone(),
        original_path: display_path(&file.path),
        size,
        sha256,
        modified_at: file.modified.into(),
        kind: file.kind,
        encrypted: file.encrypted,
        truncated: now_len > file.size,
        redactions: by_kind.values().sum(),
        redactions_by_kind: by_kind,
        redaction: match (file.encrypted, filter.is_some()) {
            (true, _) => FileRedaction::Impossible,
            (false, true) => FileRedaction::Applied,
            (false, false) => FileRedaction::Off,
        },
        method,
    };
    Ok((entry, out))
}

/// A reader that reports bytes read and stops when told to.
struct Progressing<'a, R> {
    inner: R,
    read: u64,
    on_chunk: &'a mut dyn FnMut(u64) -> bool,
}

impl<R: Read> Read for Progressing<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if !(self.on_chunk)(self.read) {
            // Not `Interrupted`: `io::copy` would retry that.
            return Err(io::Error::other(Cancel));
        }
        Ok(n)
    }
}

/// Marks the I/O error that stands for "cancelled".
#[derive(Debug)]
struct Cancel;

impl std::fmt::Display for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cancelled")
    }
}

impl std::error::Error for Cancel {}

fn cancel_or(err: io::Error, otherwise: impl FnOnce(io::Error) -> WriteError) -> WriteError {
    if err.get_ref().is_some_and(|inner| inner.is::<Cancel>()) {
        WriteError::Cancelled
    } else {
        otherwise(err)
    }
}

fn entry_name(file: &SourceFile) -> String {
    format!("{FILES_PREFIX}{}/{}", file.source_id, file.relative)
}

fn options(file: &SourceFile, method: Method) -> SimpleFileOptions {
    let options = SimpleFileOptions::default()
        .large_file(file.size >= u64::from(u32::MAX))
        .last_modified_time(zip_time(file.modified.into()))
        .unix_permissions(0o644);
    match method {
        Method::Stored => options.compression_method(CompressionMethod::Stored),
        Method::Deflated => options
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(LEVEL)),
    }
}

/// Store what is encrypted or already compressed; deflate text, in workers when it is small.
fn route(file: &SourceFile) -> Route {
    let ext = file
        .relative
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let store = file.encrypted
        || STORED_EXTENSIONS.contains(&ext.as_str())
        || (!TEXT_EXTENSIONS.contains(&ext.as_str()) && incompressible(&file.path));
    if store {
        Route::Store
    } else if file.size <= PARALLEL_MAX {
        Route::Parallel
    } else {
        Route::Stream
    }
}

/// A quick probe: deflating the first 64 KiB at the fastest level saves under 5%.
fn incompressible(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    let mut head = Vec::with_capacity(64 * 1024);
    if file.take(64 * 1024).read_to_end(&mut head).is_err() || head.len() < 4096 {
        return false;
    }
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    let compressed = encoder
        .write_all(&head)
        .and_then(|()| encoder.finish())
        .map(|c| c.len())
        .unwrap_or(head.len());
    compressed * 100 > head.len() * 95
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
