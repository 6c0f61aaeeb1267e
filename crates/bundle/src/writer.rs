//! Writes a bundle: files streamed in and hashed in one pass, manifest last, then an atomic rename.
//!
//! # Brief overview
//!
//! Each file is read once, read-only, up to the size seen at the snapshot. What cannot be read
//! ([`readable`]: encrypted, pictures, unknown compression) is *stored*: the writer thread copies
//! it straight from disk into the archive. Readable text is *deflated* after the optional
//! [`ContentFilter`] (redaction), on every core at once. A gzip file of text takes the same road
//! unpacked, and its cleaned text is packed as gzip again (the entry keeps its name and format);
//! a zip archive is unpacked member by member on the writer thread, its text members cleaned, and
//! packed again. Binary files that compress are deflated as they are.
//!
//! ```text
//!  feeder thread ──segments (≤ 1 MiB, cut after a newline)──▶ workers: filter, CRC, deflate
//!        │                                                            │
//!        └──────── the plan's order: store / segment / skipped ──▶ writer thread ◀── results
//! ```
//!
//! The feeder reads text files in segments and queues them for the workers; each worker filters
//! its segment and deflates it as a piece of one deflate stream (a sync flush, a final block for
//! the last one). The writer thread takes everything in the plan's order, appends the pieces to
//! the zip ([`ZipOut`]), hashes the content and combines the CRCs, so the archive is the same
//! whatever the timing and a large log is compressed on all cores. Memory is bounded by the
//! segments in flight, whatever the corpus size; their buffers are reused.
//!
//! What was promised clean is never sent otherwise: a compressed file found damaged part-way
//! keeps only the cleaned text before the damage, an archive that fails is left out, and both
//! are listed in `skipped` with the reason.
//!
//! Nothing half-written is ever left under the final name: the zip grows as `.<name>.<id>.partial`
//! beside the target and is linked into place only once it is complete and flushed to disk. A
//! cancelled or failed write removes the partial file.

use callsupport_error::{Coded, ErrorCode};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};

use flate2::{Compress, Compression, FlushCompress, Status};
use sha2::{Digest, Sha256};

use crate::display::display_path;
use crate::hash::sha256_file;
use crate::kind::SourceKind;
use crate::manifest::{
    FILES_PREFIX, FileRedaction, MANIFEST_NAME, Manifest, ManifestFile, ManifestSkipped, Method,
    Repacked,
};
use crate::progress::Progress;
use crate::readable::{MAX_UNPACKED, Readable, readable, text_of, worth_deflating};
use crate::zip_out::{ZipMethod, ZipOut};

/// The header of every gzip file the writer packs again: deflate, no name, no time, unknown
/// system (RFC 1952).
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// Read size for stored files and the output buffer.
const CHUNK: usize = 256 * 1024;
/// Input bytes of one deflate job: large enough that cutting the stream costs nothing
/// measurable, small enough that a few per core fit in a small memory budget.
const SEGMENT: usize = 1 << 20;
/// Segments queued per worker thread ahead of the writer.
const SEGMENTS_PER_WORKER: usize = 3;
/// Deflate level. On a corpus of call records, text logs and encrypted logs
/// (`cargo xtask bench privacy`), zlib-rs at 3 makes bundles 1.2% larger than `zip -6`'s and
/// collects with redaction 4.2 times as fast as `zip -6`; at 4 they are 0.1% larger and it is 3.8
/// times as fast. Deflate is about 60% of collecting's time, so the faster level is worth 1%.
const LEVEL: u32 = 3;
/// Entries from this size on get ZIP64 room in their local header (deflate can grow a little).
const LARGE_ENTRY: u64 = 0xF000_0000;

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{} already exists; choose another name or remove it first", .0.display())]
    OutputExists(PathBuf),
    #[error("cannot write the bundle to {}: {source}", path.display())]
    Output { path: PathBuf, source: io::Error },
    #[error("cannot read {}: {source}", path.display())]
    Input { path: PathBuf, source: io::Error },
    #[error("cancelled; nothing was written")]
    Cancelled,
}

/// Rewrites a readable file on its way into the bundle (redaction). Returns the replacements
/// made, by kind. Called on pieces of a file (each ends after a newline, unless a line is longer
/// than a piece), from several threads at once.
pub trait ContentFilter: Send + Sync {
    fn filter(
        &self,
        input: &mut dyn io::BufRead,
        output: &mut dyn Write,
    ) -> io::Result<BTreeMap<String, u32>>;

    /// [`ContentFilter::filter`] of bytes in memory, appended to `output`: what the writer's
    /// workers call on each piece (a filter can do it without a reader and a writer between).
    fn filter_slice(
        &self,
        input: &[u8],
        output: &mut Vec<u8>,
    ) -> io::Result<BTreeMap<String, u32>> {
        self.filter(&mut &input[..], output)
    }
}

/// Redaction as the writer's filter: every readable file of a bundle goes through one
/// [`Redactor`](callsupport_redact::Redactor), so the same value gets the same token in every file.
impl ContentFilter for callsupport_redact::Redactor {
    fn filter(
        &self,
        input: &mut dyn std::io::BufRead,
        output: &mut dyn std::io::Write,
    ) -> std::io::Result<std::collections::BTreeMap<String, u32>> {
        Ok(self.redact_stream(input, output)?.by_kind)
    }

    fn filter_slice(
        &self,
        input: &[u8],
        output: &mut Vec<u8>,
    ) -> std::io::Result<std::collections::BTreeMap<String, u32>> {
        Ok(self.redact_into(input, output).by_kind)
    }
}

/// Seals a finished bundle for its readers (age, in `callsupport-seal`): the writer hands it
/// the whole zip and writes what it returns under the final name instead.
pub trait Sealer: Send + Sync {
    fn seal(&self, plain: &mut dyn Read, out: &mut dyn Write) -> io::Result<()>;
}

/// A file on this machine to pack, as a scan of its source found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    pub source_id: String,
    /// Absolute path on this machine; shown in the manifest with the home folder as `~`.
    pub path: PathBuf,
    /// Path below the source root, `/`-separated; names the file inside the bundle.
    pub relative: String,
    /// Read up to this size, the size seen when the report was planned.
    pub size: u64,
    pub modified: std::time::SystemTime,
    pub kind: SourceKind,
    /// Only the SDK vendor can read it: stored as it is and never filtered.
    pub encrypted: bool,
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
    /// Copied as it is by the writer thread.
    Store,
    /// Deflated in segments by the worker threads; `clean` when the filter runs over it.
    Deflate { clean: bool },
    /// Unpacked, filtered and deflated in segments, and stored as a gzip file again.
    Gzip,
    /// An archive unpacked, its text members filtered, and packed again by the writer thread.
    Zip,
}

/// What the feeder hands the writer, in the plan's order.
enum Item {
    /// The writer copies this file itself.
    Store(usize),
    /// The writer unpacks this archive, cleans it and packs it again.
    Archive(usize),
    /// The next piece of a deflated file: `first` opens its entry, `last` closes it.
    Segment {
        file: usize,
        first: bool,
        last: bool,
        truncated: bool,
        /// The last piece of a compressed file that turned out damaged here: why.
        damaged: Option<String>,
        piece: mpsc::Receiver<io::Result<Piece>>,
    },
    /// Could not be opened: listed in `skipped`.
    Skipped(usize, io::Error),
    /// Failed while it was read: the bundle cannot be completed.
    Failed(usize, io::Error),
}

/// A segment for a worker.
struct Job {
    input: Vec<u8>,
    last: bool,
    clean: bool,
    /// Bytes of the file on disk this segment stands for (compressed ones, for a gzip file).
    input_len: u64,
    reply: mpsc::SyncSender<io::Result<Piece>>,
}

/// A worker's result for one segment.
struct Piece {
    input_len: u64,
    /// The content as it goes into the bundle (filtered), for the entry's SHA-256.
    content: Vec<u8>,
    deflated: Vec<u8>,
    crc: crc32fast::Hasher,
    by_kind: BTreeMap<String, u32>,
}

/// The deflated entry the writer is appending pieces to.
struct OpenEntry {
    sha256: Sha256,
    crc: crc32fast::Hasher,
    size: u64,
    by_kind: BTreeMap<String, u32>,
    /// For a gzip file packed again: the CRC and size of its text, for its trailer. The
    /// entry's own hash, CRC and size then cover the gzip bytes.
    gzip: Option<(crc32fast::Hasher, u64)>,
}

/// Reused buffers of one size class: without them, the allocator keeps every freed megabyte.
struct Pool {
    free: Mutex<Vec<Vec<u8>>>,
    keep: usize,
}

struct Pools {
    segments: Pool,
    pieces: Pool,
}

impl Pool {
    fn take(&self, capacity: usize) -> Vec<u8> {
        let mut buffer = self.free.lock().expect("pool").pop().unwrap_or_default();
        buffer.clear();
        buffer.reserve(capacity);
        buffer
    }

    fn give(&self, buffer: Vec<u8>) {
        if buffer.capacity() <= 4 * SEGMENT {
            let mut free = self.free.lock().expect("pool");
            if free.len() < self.keep {
                free.push(buffer);
            }
        }
    }
}

/// Writes `files` into a new bundle at `out`. `manifest` carries everything but `files`, which this
/// fills in from what was really copied; files that vanish or cannot be read move to `skipped`.
/// `filter`, when given, rewrites readable (deflated) files.
pub fn write_bundle(
    out: &Path,
    manifest: Manifest,
    files: &[InputFile],
    filter: Option<&dyn ContentFilter>,
    on_progress: impl FnMut(Progress) -> bool,
) -> Result<WrittenBundle, WriteError> {
    write_sealed_bundle(out, manifest, files, filter, None, on_progress)
}

/// [`write_bundle`], sealed by `sealer` when one is given: the zip is written into an anonymous
/// temporary file beside `out` (it has no name, and the system removes it when it is closed),
/// and only the sealed bytes go under `out`. The returned hash and size are the sealed file's.
pub fn write_sealed_bundle(
    out: &Path,
    mut manifest: Manifest,
    files: &[InputFile],
    filter: Option<&dyn ContentFilter>,
    sealer: Option<&dyn Sealer>,
    on_progress: impl FnMut(Progress) -> bool,
) -> Result<WrittenBundle, WriteError> {
    if out.exists() {
        return Err(WriteError::OutputExists(out.to_path_buf()));
    }
    let partial = Partial::create(out, manifest.bundle_id)?;
    let output_error = |source| WriteError::Output {
        path: out.to_path_buf(),
        source,
    };
    let target = match sealer {
        Some(_) => {
            let folder = out.parent().filter(|p| !p.as_os_str().is_empty());
            tempfile::tempfile_in(folder.unwrap_or(Path::new("."))).map_err(output_error)?
        }
        None => partial.file.try_clone().map_err(output_error)?,
    };
    let mut zip = ZipOut::new(BufWriter::with_capacity(CHUNK, target));

    let routes: Vec<Route> = files.iter().map(|f| route(f, filter.is_some())).collect();
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8);
    let in_flight = workers * SEGMENTS_PER_WORKER;
    // Segments (and their filtered content) and their deflated pieces: two size classes.
    let pools = Pools {
        segments: Pool {
            free: Mutex::new(Vec::new()),
            keep: 2 * (in_flight + workers + 2),
        },
        pieces: Pool {
            free: Mutex::new(Vec::new()),
            keep: in_flight + workers + 2,
        },
    };
    let cancelled = AtomicBool::new(false);
    manifest.files.clear();

    let (item_tx, item_rx) = mpsc::sync_channel::<Item>(in_flight);
    let (job_tx, job_rx) = mpsc::channel::<Job>();
    let job_rx = Mutex::new(job_rx);
    std::thread::scope(|scope| -> Result<(), WriteError> {
        let (pools, cancelled, routes) = (&pools, &cancelled, &routes);
        scope.spawn(move || feed(files, routes, item_tx, job_tx, &pools.segments, cancelled));
        for _ in 0..workers {
            let job_rx = &job_rx;
            scope.spawn(move || {
                let mut compress = Compress::new(Compression::new(LEVEL), false);
                loop {
                    let job = job_rx.lock().expect("job queue").recv();
                    let Ok(job) = job else { return };
                    if cancelled.load(Ordering::SeqCst) {
                        continue;
                    }
                    let Job {
                        input,
                        last,
                        clean,
                        input_len,
                        reply,
                    } = job;
                    let filter = filter.filter(|_| clean);
                    let piece = pack_segment(input, last, filter, pools, &mut compress)
                        .map(|piece| Piece { input_len, ..piece });
                    let _ = reply.send(piece);
                }
            });
        }
        let sink = Sink {
            files,
            routes,
            filter,
            pools,
            out,
        };
        let result = sink.run(&mut zip, &mut manifest, item_rx, on_progress);
        if result.is_err() {
            cancelled.store(true, Ordering::SeqCst);
        }
        result
    })?;

    let json = serde_json::to_vec_pretty(&manifest).expect("manifest serializes");
    let mut deflated = Vec::with_capacity(json.len() / 2 + 64);
    deflate_piece(
        &mut Compress::new(Compression::new(LEVEL), false),
        &json,
        true,
        &mut deflated,
    )
    .map_err(output_error)?;
    zip.start_entry(
        MANIFEST_NAME,
        ZipMethod::Deflated,
        manifest.created_at,
        false,
    )
    .map_err(output_error)?;
    zip.write_data(&deflated).map_err(output_error)?;
    zip.end_entry(crc32(&json), json.len() as u64)
        .map_err(output_error)?;
    let finished = zip.finish_hashed().map_err(output_error)?;
    let mut writer = finished.out;
    writer.flush().map_err(output_error)?;
    // The whole file's hash, as it was written when it could be (no second read).
    let hashed = if let Some(sealer) = sealer {
        let mut plain = writer
            .into_inner()
            .map_err(|err| output_error(err.into_error()))?;
        plain.rewind().map_err(output_error)?;
        let mut sealed = crate::hash::HashingWriter::new(BufWriter::with_capacity(
            CHUNK,
            partial.file.try_clone().map_err(output_error)?,
        ));
        sealer.seal(&mut plain, &mut sealed).map_err(output_error)?;
        let (sha256, bytes, mut inner) = sealed.finish();
        inner.flush().map_err(output_error)?;
        Some((sha256, bytes))
    } else {
        let bytes = writer.get_ref().metadata().map_err(output_error)?.len();
        drop(writer);
        finished.sha256.map(|sha| (hex::encode(sha), bytes))
    };
    let path = partial.commit(out)?;
    let (sha256, bytes) = match hashed {
        Some(hashed) => hashed,
        None => sha256_file(&path).map_err(output_error)?,
    };
    Ok(WrittenBundle {
        path,
        manifest,
        sha256,
        bytes,
    })
}

/// The feeder thread: walks the plan in order, reads text files in segments for the workers and
/// tells the writer what comes next. Stops when the writer stops listening.
fn feed(
    files: &[InputFile],
    routes: &[Route],
    items: mpsc::SyncSender<Item>,
    jobs: mpsc::Sender<Job>,
    pool: &Pool,
    cancelled: &AtomicBool,
) {
    for (index, file) in files.iter().enumerate() {
        if cancelled.load(Ordering::SeqCst) {
            return;
        }
        let keep_going = match routes[index] {
            Route::Store => items.send(Item::Store(index)).is_ok(),
            Route::Zip => items.send(Item::Archive(index)).is_ok(),
            Route::Deflate { clean } => {
                feed_segments(index, file, clean, false, &items, &jobs, pool)
            }
            Route::Gzip => feed_segments(index, file, true, true, &items, &jobs, pool),
        };
        if !keep_going {
            return;
        }
    }
}

/// Queues one text file (`gzip`: a gzip file's text) as segments that end after a newline (or,
/// in a line longer than a segment, after a delimiter), up to the snapshot size. Returns whether
/// to go on.
fn feed_segments(
    index: usize,
    file: &InputFile,
    clean: bool,
    gzip: bool,
    items: &mpsc::SyncSender<Item>,
    jobs: &mpsc::Sender<Job>,
    pool: &Pool,
) -> bool {
    let read_so_far = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let how = if gzip { Readable::Gzip } else { Readable::Text };
    let mut source = match text_of(&file.path, file.size, how, Some(read_so_far.clone())) {
        Ok(source) => source,
        Err(err) => return items.send(Item::Skipped(index, err)).is_ok(),
    };
    // Plain text ends at the snapshot size; a gzip file's text where its stream ends.
    let mut remaining = if gzip { MAX_UNPACKED } else { file.size };
    let mut carry: Vec<u8> = Vec::new();
    let mut first = true;
    let mut counted = 0u64;
    loop {
        let mut input = pool.take(SEGMENT);
        input.extend_from_slice(&carry);
        carry.clear();
        let want = ((SEGMENT - input.len()) as u64).min(remaining);
        let before = input.len();
        let mut damaged = None;
        let read = match (&mut source).take(want).read_to_end(&mut input) {
            Ok(read) => read as u64,
            // A gzip file damaged part-way, or still being written: its text up to there.
            Err(err) if gzip && is_damage(&err) => {
                damaged = Some(format!(
                    "damaged part-way ({err}); only the text before the damage is included"
                ));
                (input.len() - before) as u64
            }
            Err(err) => {
                let _ = items.send(Item::Failed(index, err));
                return false;
            }
        };
        remaining -= read;
        // A file that shrank ends early; one that grew is cut at the snapshot size.
        let last = remaining == 0 || read < want || damaged.is_some();
        if !last {
            let end = segment_end(&input);
            carry.extend_from_slice(&input[end..]);
            input.truncate(end);
        }
        let truncated = last
            && (remaining == 0 && gzip
                || std::fs::metadata(&file.path).is_ok_and(|metadata| metadata.len() > file.size));
        // Progress counts the file's own bytes, compressed or not.
        let now = read_so_far.load(std::sync::atomic::Ordering::Relaxed);
        let input_len = now - counted;
        counted = now;
        let (reply, piece) = mpsc::sync_channel(1);
        let item = Item::Segment {
            file: index,
            first,
            last,
            truncated,
            damaged,
            piece,
        };
        let job = Job {
            input,
            last,
            clean,
            input_len,
            reply,
        };
        if items.send(item).is_err() || jobs.send(job).is_err() {
            return false;
        }
        if last {
            return true;
        }
        first = false;
    }
}

/// Whether a gzip read error is damage in the file (rather than the disk failing).
fn is_damage(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::UnexpectedEof
    )
}

/// Where a segment ends: after its last newline, else after a delimiter near its end.
fn segment_end(segment: &[u8]) -> usize {
    memchr::memrchr(b'\n', segment)
        .map_or_else(|| callsupport_redact::cut_point(segment), |at| at + 1)
}

/// A worker's job: filter one segment, checksum it and deflate it as a piece of its file's stream.
fn pack_segment(
    input: Vec<u8>,
    last: bool,
    filter: Option<&dyn ContentFilter>,
    pools: &Pools,
    compress: &mut Compress,
) -> io::Result<Piece> {
    let input_len = input.len() as u64;
    let (content, by_kind) = match filter {
        Some(filter) => {
            let mut content = pools.segments.take(input.len() + input.len() / 8);
            let by_kind = filter.filter_slice(&input, &mut content)?;
            pools.segments.give(input);
            (content, by_kind)
        }
        None => (input, BTreeMap::new()),
    };
    let mut crc = crc32fast::Hasher::new();
    crc.update(&content);
    let mut deflated = pools.pieces.take(content.len() / 3 + 64);
    deflate_piece(compress, &content, last, &mut deflated)?;
    Ok(Piece {
        input_len,
        content,
        deflated,
        crc,
        by_kind,
    })
}

/// Deflates `input` on its own (no back-references before it) as one piece of a raw deflate
/// stream: ended by a sync flush so the next piece can follow, or by the final block.
fn deflate_piece(
    compress: &mut Compress,
    input: &[u8],
    last: bool,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    compress.reset();
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    loop {
        if out.capacity() - out.len() < 4096 {
            out.reserve(out.capacity().max(64 * 1024));
        }
        let consumed = compress.total_in() as usize;
        let status = compress
            .compress_vec(&input[consumed..], out, flush)
            .map_err(io::Error::other)?;
        let all_in = compress.total_in() as usize == input.len();
        // A flush is complete when it stopped with output room to spare.
        let flushed = all_in && out.len() < out.capacity();
        match status {
            Status::StreamEnd => return Ok(()),
            Status::Ok | Status::BufError if !last && flushed => return Ok(()),
            Status::Ok | Status::BufError => {}
        }
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(bytes);
    hasher.finalize()
}

/// The writer thread's side: appends everything to the zip in the plan's order.
struct Sink<'a> {
    files: &'a [InputFile],
    routes: &'a [Route],
    filter: Option<&'a dyn ContentFilter>,
    pools: &'a Pools,
    out: &'a Path,
}

impl Sink<'_> {
    fn output_error(&self) -> impl Fn(io::Error) -> WriteError + '_ {
        |source| WriteError::Output {
            path: self.out.to_path_buf(),
            source,
        }
    }

    fn run<W: Write + Seek>(
        &self,
        zip: &mut ZipOut<W>,
        manifest: &mut Manifest,
        items: mpsc::Receiver<Item>,
        mut on_progress: impl FnMut(Progress) -> bool,
    ) -> Result<(), WriteError> {
        let files_total = self.files.len() as u32;
        let bytes_total: u64 = self.files.iter().map(|f| f.size).sum();
        let (mut files_done, mut bytes_done) = (0u32, 0u64);
        let mut open: Option<OpenEntry> = None;
        let mut buffer = vec![0u8; CHUNK];
        let output_error = &self.output_error();
        let mut report = |files_done: u32, bytes_done: u64| {
            on_progress(Progress::Collecting {
                files_done,
                files_total,
                bytes_done,
                bytes_total,
            })
        };
        for item in items {
            if !report(files_done, bytes_done) {
                return Err(WriteError::Cancelled);
            }
            match item {
                Item::Store(index) | Item::Archive(index) => {
                    let file = &self.files[index];
                    let mut on_chunk = |done| report(files_done, bytes_done + done);
                    let written = match self.routes[index] {
                        Route::Zip => self.archive(zip, file, &mut buffer, &mut on_chunk)?,
                        _ => self.store(zip, file, &mut buffer, &mut on_chunk)?,
                    };
                    match written {
                        Ok(entry) => manifest.files.push(entry),
                        Err(skip) => manifest.skipped.push(skip),
                    }
                    files_done += 1;
                    bytes_done += file.size;
                }
                Item::Skipped(index, err) => {
                    manifest.skipped.push(skipped(&self.files[index], &err));
                    files_done += 1;
                    bytes_done += self.files[index].size;
                }
                Item::Failed(index, source) => {
                    return Err(WriteError::Input {
                        path: self.files[index].path.clone(),
                        source,
                    });
                }
                Item::Segment {
                    file: index,
                    first,
                    last,
                    truncated,
                    damaged,
                    piece,
                } => {
                    let file = &self.files[index];
                    let route = self.routes[index];
                    let input_error = |source| WriteError::Input {
                        path: file.path.clone(),
                        source,
                    };
                    if first {
                        let gzip = route == Route::Gzip;
                        zip.start_entry(
                            &entry_name(file),
                            if gzip {
                                ZipMethod::Stored
                            } else {
                                ZipMethod::Deflated
                            },
                            file.modified.into(),
                            // A cleaned gzip file is about as large as the one on disk.
                            file.size >= LARGE_ENTRY / if gzip { 2 } else { 1 },
                        )
                        .map_err(output_error)?;
                        let mut entry = OpenEntry {
                            sha256: Sha256::new(),
                            crc: crc32fast::Hasher::new(),
                            size: 0,
                            by_kind: BTreeMap::new(),
                            gzip: gzip.then(|| (crc32fast::Hasher::new(), 0)),
                        };
                        if gzip {
                            zip.write_data(&GZIP_HEADER).map_err(output_error)?;
                            entry.add_packed(&GZIP_HEADER);
                        }
                        open = Some(entry);
                    }
                    let piece = piece
                        .recv()
                        .unwrap_or_else(|_| Err(io::Error::other("a compression worker stopped")))
                        .map_err(input_error)?;
                    let entry = open
                        .as_mut()
                        .expect("the entry was opened by its first piece");
                    zip.write_data(&piece.deflated).map_err(output_error)?;
                    match &mut entry.gzip {
                        Some((text_crc, text_size)) => {
                            text_crc.combine(&piece.crc);
                            *text_size += piece.content.len() as u64;
                            entry.add_packed(&piece.deflated);
                        }
                        None => {
                            entry.sha256.update(&piece.content);
                            entry.crc.combine(&piece.crc);
                            entry.size += piece.content.len() as u64;
                        }
                    }
                    for (kind, count) in piece.by_kind {
                        *entry.by_kind.entry(kind).or_default() += count;
                    }
                    bytes_done += piece.input_len;
                    self.pools.segments.give(piece.content);
                    self.pools.pieces.give(piece.deflated);
                    if last {
                        let mut entry = open.take().expect("open entry");
                        if let Some((text_crc, text_size)) = entry.gzip.take() {
                            // RFC 1952: the text's CRC-32 and its size modulo 2^32.
                            let mut trailer = [0u8; 8];
                            trailer[..4].copy_from_slice(&text_crc.finalize().to_le_bytes());
                            trailer[4..].copy_from_slice(&(text_size as u32).to_le_bytes());
                            zip.write_data(&trailer).map_err(output_error)?;
                            entry.add_packed(&trailer);
                        }
                        zip.end_entry(entry.crc.finalize(), entry.size)
                            .map_err(output_error)?;
                        let cleaned = self.filter.is_some()
                            && matches!(route, Route::Deflate { clean: true } | Route::Gzip);
                        let redaction = match route {
                            _ if cleaned => FileRedaction::Applied,
                            Route::Deflate { clean: false } if self.filter.is_some() => {
                                FileRedaction::Impossible
                            }
                            _ => FileRedaction::Off,
                        };
                        let (method, repacked) = match route {
                            Route::Gzip => (Method::Stored, Some(Repacked::Gzip)),
                            _ => (Method::Deflated, None),
                        };
                        let mut written = manifest_entry(
                            file,
                            method,
                            hex::encode(entry.sha256.finalize()),
                            entry.size,
                            truncated,
                            entry.by_kind,
                            redaction,
                        );
                        written.repacked = repacked;
                        manifest.files.push(written);
                        if let Some(reason) = damaged {
                            manifest.skipped.push(ManifestSkipped {
                                original_path: display_path(&file.path),
                                reason,
                            });
                        }
                        files_done += 1;
                    }
                }
            }
        }
        if !report(files_done, bytes_done) {
            return Err(WriteError::Cancelled);
        }
        Ok(())
    }

    /// Copies one file as it is (writer thread). The inner result is the skip when the file
    /// could not be opened.
    fn store<W: Write + Seek>(
        &self,
        zip: &mut ZipOut<W>,
        file: &InputFile,
        buffer: &mut [u8],
        on_chunk: &mut dyn FnMut(u64) -> bool,
    ) -> Result<Result<ManifestFile, ManifestSkipped>, WriteError> {
        let mut source = match File::open(&file.path) {
            Ok(source) => source,
            Err(err) => return Ok(Err(skipped(file, &err))),
        };
        let copied = self.copy_in(zip, file, &mut source, file.size, buffer, on_chunk)?;
        let truncated = std::fs::metadata(&file.path).is_ok_and(|m| m.len() > file.size);
        // Stored content is encrypted or binary: there is no text to redact.
        let redaction = if file.encrypted || self.filter.is_some() {
            FileRedaction::Impossible
        } else {
            FileRedaction::Off
        };
        Ok(Ok(manifest_entry(
            file,
            Method::Stored,
            copied.sha256,
            copied.size,
            truncated,
            BTreeMap::new(),
            redaction,
        )))
    }

    /// Unpacks an archive, cleans its text members and stores it packed again (writer thread).
    /// An archive that cannot be read through is left out, never sent uncleaned.
    fn archive<W: Write + Seek>(
        &self,
        zip: &mut ZipOut<W>,
        file: &InputFile,
        buffer: &mut [u8],
        on_chunk: &mut dyn FnMut(u64) -> bool,
    ) -> Result<Result<ManifestFile, ManifestSkipped>, WriteError> {
        let filter = self
            .filter
            .expect("archives are unpacked only to be cleaned");
        let folder = self.out.parent().filter(|p| !p.as_os_str().is_empty());
        let repacked =
            match crate::repack::repack_zip(&file.path, filter, folder.unwrap_or(Path::new("."))) {
                Ok(repacked) => repacked,
                Err(err) => {
                    return Ok(Err(ManifestSkipped {
                        original_path: display_path(&file.path),
                        reason: format!(
                            "an archive that could not be unpacked to be cleaned ({err}); left out"
                        ),
                    }));
                }
            };
        let mut packed = repacked.file;
        let copied = self.copy_in(zip, file, &mut packed, u64::MAX, buffer, on_chunk)?;
        let mut entry = manifest_entry(
            file,
            Method::Stored,
            copied.sha256,
            copied.size,
            repacked.truncated,
            repacked.by_kind,
            FileRedaction::Applied,
        );
        entry.repacked = Some(Repacked::Zip);
        Ok(Ok(entry))
    }

    /// Stores the first `limit` bytes of `source` as the entry of `file`, in two passes: the
    /// first finds the CRC and size, so the entry's header holds them and the archive is written
    /// (and hashed) in order; the second copies, from the page cache.
    fn copy_in<W: Write + Seek>(
        &self,
        zip: &mut ZipOut<W>,
        file: &InputFile,
        source: &mut File,
        limit: u64,
        buffer: &mut [u8],
        on_chunk: &mut dyn FnMut(u64) -> bool,
    ) -> Result<Copied, WriteError> {
        let input_error = |source| WriteError::Input {
            path: file.path.clone(),
            source,
        };
        let known = crc_of(&mut (&mut *source).take(limit), buffer).map_err(input_error)?;
        source.rewind().map_err(input_error)?;
        let mut source = source.take(known.1);
        let output_error = self.output_error();
        zip.start_stored(&entry_name(file), file.modified.into(), known.0, known.1)
            .map_err(&output_error)?;
        let (mut sha256, mut crc, mut size) = (Sha256::new(), crc32fast::Hasher::new(), 0u64);
        loop {
            let n = match source.read(buffer) {
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
            sha256.update(&buffer[..n]);
            crc.update(&buffer[..n]);
            zip.write_data(&buffer[..n]).map_err(&output_error)?;
            size += n as u64;
            if !on_chunk(size) {
                return Err(WriteError::Cancelled);
            }
        }
        zip.end_entry(crc.finalize(), size).map_err(&output_error)?;
        Ok(Copied {
            sha256: hex::encode(sha256.finalize()),
            size,
        })
    }
}

/// The CRC and size of what `source` gives.
fn crc_of(source: &mut impl Read, buffer: &mut [u8]) -> io::Result<(u32, u64)> {
    let (mut crc, mut size) = (crc32fast::Hasher::new(), 0u64);
    loop {
        match source.read(buffer) {
            Ok(0) => return Ok((crc.finalize(), size)),
            Ok(n) => {
                crc.update(&buffer[..n]);
                size += n as u64;
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
}

/// An entry copied in as it is.
struct Copied {
    sha256: String,
    size: u64,
}

impl OpenEntry {
    /// Bytes of a gzip file packed again: the entry's hash, CRC and size cover them.
    fn add_packed(&mut self, bytes: &[u8]) {
        self.sha256.update(bytes);
        self.crc.update(bytes);
        self.size += bytes.len() as u64;
    }
}

fn manifest_entry(
    file: &InputFile,
    method: Method,
    sha256: String,
    size: u64,
    truncated: bool,
    by_kind: BTreeMap<String, u32>,
    redaction: FileRedaction,
) -> ManifestFile {
    ManifestFile {
        path: entry_name(file),
        source: file.source_id.clone(),
        original_path: display_path(&file.path),
        size,
        sha256,
        modified_at: file.modified.into(),
        kind: file.kind,
        encrypted: file.encrypted,
        truncated,
        redactions: by_kind.values().sum(),
        redactions_by_kind: by_kind,
        redaction,
        method,
        repacked: None,
    }
}

fn entry_name(file: &InputFile) -> String {
    format!("{FILES_PREFIX}{}/{}", file.source_id, file.relative)
}

/// Cleans what can be read ([`readable`]) when `filtering`; deflates text, and binary files
/// that compress; stores the rest.
fn route(file: &InputFile, filtering: bool) -> Route {
    match readable(&file.path, &file.relative, file.encrypted) {
        Readable::Text => Route::Deflate { clean: filtering },
        Readable::Gzip if filtering => Route::Gzip,
        Readable::Zip if filtering => Route::Zip,
        Readable::No(crate::readable::Unreadable::Binary)
            if worth_deflating(&file.path, &file.relative) =>
        {
            Route::Deflate { clean: false }
        }
        _ => Route::Store,
    }
}

fn skipped(file: &InputFile, err: &io::Error) -> ManifestSkipped {
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

/// The bundle while it is being written; removed on drop unless committed.
pub struct Partial {
    path: PathBuf,
    pub file: File,
    committed: bool,
}

impl Partial {
    pub fn create(out: &Path, id: uuid::Uuid) -> Result<Partial, WriteError> {
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

    pub fn commit(mut self, out: &Path) -> Result<PathBuf, WriteError> {
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

impl Coded for WriteError {
    fn code(&self) -> ErrorCode {
        match self {
            WriteError::OutputExists(_) => ErrorCode::ReportInvalid,
            WriteError::Output { .. } => ErrorCode::Io,
            WriteError::Input { .. } => ErrorCode::SourceUnavailable,
            WriteError::Cancelled => ErrorCode::Cancelled,
        }
    }
}
