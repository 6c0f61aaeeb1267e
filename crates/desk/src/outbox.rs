//! The outbox: every report waits on disk until the server has acknowledged it.
//!
//! # Brief overview
//!
//! A report is written here, complete, before its first byte is sent, and removed only once the
//! server has answered with the bundle's own SHA-256; so a crash, a closed laptop or a dead network
//! loses nothing, and the server's `Idempotency-Key` makes a send repeated after a lost answer the
//! same ticket. The layout under the app's data folder:
//!
//! ```text
//! outbox/
//!   <bundle id>/            a queued report: complete, or it would not have this name
//!     bundle.zip            the bundle, exactly as collected
//!     report.json           what is posted with it (`Queued`)
//!     attempts.json         how sending it went so far (`Attempts`), rewritten after each try
//!     upload.json           the resumable upload its bundle is going to, while one is under way
//!   <bundle id>.lock        held (advisory lock) by the process sending it
//!   .incoming-<uuid>/       a report being written; removed when found at start (a crash)
//!   .incoming-<uuid>.lock   held by the process writing it
//!   .sent-<bundle id>/      a delivered report being removed; likewise
//! history/<bundle id>.json  the receipt of each delivered report (`Delivered`)
//! ```
//!
//! Every file is written under a temporary name, flushed and renamed; folders are renamed into
//! place only when complete, and their parent flushed. A folder's lock file lies beside it, not in
//! it: Windows renames or removes no folder while a file in it is open, and the lock is open for as
//! long as it is held.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

use crate::bundle::manifest::Consent;
use crate::collect::{Plan, collect};
use crate::config::OutboxLimits;
use crate::error::{Error, ErrorCode};
use crate::progress::Progress;
use crate::report::Report;
use crate::ticket::{TicketReceipt, TicketRequest};
use crate::upload::retry::RetryPolicy;
use crate::upload::slot::FileSlot;
use crate::upload::{UploadError, Uploader};

const BUNDLE: &str = "bundle.zip";
const REPORT: &str = "report.json";
const ATTEMPTS: &str = "attempts.json";
const UPLOAD: &str = "upload.json";
/// The lock file of folder `X` is `X.lock`, beside it.
const LOCK_SUFFIX: &str = ".lock";
const INCOMING: &str = ".incoming-";
const SENT: &str = ".sent-";

/// What is posted with a queued bundle (`report.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Queued {
    pub request: TicketRequest,
    pub queued_at: DateTime<Utc>,
    /// The host the user agreed to send it to: it is sent there or nowhere.
    pub destination: String,
    /// Each time the user agreed again to a destination that changed while it waited.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agreed_again: Vec<AgreedAgain>,
}

/// The user agreed that a waiting report go to a new destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreedAgain {
    pub from: String,
    pub to: String,
    pub at: DateTime<Utc>,
}

/// How sending a queued report went so far (`attempts.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct Attempts {
    /// Deliveries tried (each may have made several requests, per the retry policy).
    pub count: u32,
    #[ts(type = "string | null")]
    pub last_at: Option<DateTime<Utc>>,
    pub last_error: Option<LastError>,
}

/// Why the last delivery failed, and whether waiting can fix it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct LastError {
    pub code: ErrorCode,
    pub message: String,
    /// The network or the server may recover: the outbox tries again on its own.
    pub retryable: bool,
}

/// A report in the outbox.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: Uuid,
    pub dir: PathBuf,
    pub queued: Queued,
    pub attempts: Attempts,
    pub bytes: u64,
}

impl Entry {
    pub fn bundle_path(&self) -> PathBuf {
        self.dir.join(BUNDLE)
    }

    /// Where the resumable upload of its bundle is kept between attempts and across restarts.
    pub fn resume_slot(&self) -> FileSlot {
        FileSlot::new(self.dir.join(UPLOAD))
    }

    /// Whether the outbox should try it without being asked: never tried, or failed in a way
    /// time can fix.
    pub fn due(&self) -> bool {
        self.attempts
            .last_error
            .as_ref()
            .is_none_or(|error| error.retryable)
    }
}

/// The receipt of a delivered report (`history/<bundle id>.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Delivered {
    pub bundle_id: String,
    pub ticket_id: String,
    pub ticket_url: String,
    pub summary: String,
    #[ts(type = "string")]
    pub queued_at: DateTime<Utc>,
    #[ts(type = "string")]
    pub sent_at: DateTime<Utc>,
    pub bundle_sha256: String,
    pub bundle_bytes: u64,
}

/// Which waiting reports a pass sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// Those that may go out on their own: never tried, or failed in a way time can fix.
    Due,
    /// Every one, also those refused before (the user or IT asked, e.g. after a token fix).
    All,
}

/// A report a pass could not deliver.
#[derive(Debug, Clone, Serialize, TS)]
pub struct NotDelivered {
    pub id: String,
    pub code: ErrorCode,
    pub message: String,
}

/// What one pass over the outbox did.
#[derive(Debug, Clone, Default, Serialize, TS)]
pub struct FlushSummary {
    pub delivered: Vec<Delivered>,
    pub failed: Vec<NotDelivered>,
    /// Folders in the outbox that are not readable reports.
    pub problems: Vec<String>,
}

/// A report being written into the outbox; removed unless committed. Its folder is locked while
/// it is written, so another process (or another [`Outbox::open`]) never takes it for a leftover.
pub struct Incoming {
    dir: PathBuf,
    root: PathBuf,
    committed: bool,
    /// Held until the report is committed or given up, then closed before its file is removed.
    lock: Option<File>,
}

impl Incoming {
    /// Where the bundle is to be written.
    pub fn bundle_path(&self) -> PathBuf {
        self.dir.join(BUNDLE)
    }

    /// Completes the report: its request is written and the folder renamed into place.
    pub fn commit(mut self, request: TicketRequest, destination: String) -> io::Result<Entry> {
        let queued = Queued {
            request,
            queued_at: Utc::now(),
            destination,
            agreed_again: Vec::new(),
        };
        write_json(&self.dir.join(REPORT), &queued)?;
        sync_dir(&self.dir)?;
        let id = queued.request.bundle_id;
        let dir = self.root.join(id.to_string());
        fs::rename(&self.dir, &dir)?;
        sync_dir(&self.root)?;
        self.committed = true;
        release(&self.dir, self.lock.take());
        let bytes = fs::metadata(dir.join(BUNDLE))?.len();
        Ok(Entry {
            id,
            dir,
            queued,
            attempts: Attempts::default(),
            bytes,
        })
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
            release(&self.dir, self.lock.take());
        }
    }
}

/// The outbox folder of one data folder.
#[derive(Debug, Clone)]
pub struct Outbox {
    root: PathBuf,
    history: PathBuf,
}

impl Outbox {
    /// Opens (creating) the outbox in `data_dir`, clearing what a crash left half-done.
    pub fn open(data_dir: &Path) -> io::Result<Outbox> {
        let outbox = Outbox {
            root: data_dir.join("outbox"),
            history: data_dir.join("history"),
        };
        fs::create_dir_all(&outbox.root)?;
        fs::create_dir_all(&outbox.history)?;
        for item in fs::read_dir(&outbox.root)? {
            let item = item?;
            let name = item.file_name().to_string_lossy().into_owned();
            let path = item.path();
            if let Some(folder) = name.strip_suffix(LOCK_SUFFIX) {
                // A lock whose folder is gone, and which nobody holds: left by a crash.
                let folder = outbox.root.join(folder);
                if !folder.exists()
                    && let Ok(Some(held)) = lock(&folder)
                {
                    release(&folder, Some(held));
                }
                continue;
            }
            // Being written by a live process holds the lock; a crashed one does not.
            let held = if name.starts_with(SENT) {
                None
            } else if name.starts_with(INCOMING) {
                match lock(&path) {
                    Ok(Some(held)) => Some(held),
                    _ => continue,
                }
            } else {
                continue;
            };
            log::info!("outbox: removing {name}, left by an interrupted run");
            let _ = fs::remove_dir_all(&path);
            release(&path, held);
        }
        Ok(outbox)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A new report to write into the outbox.
    pub fn incoming(&self) -> io::Result<Incoming> {
        let dir = self.root.join(format!("{INCOMING}{}", Uuid::now_v7()));
        fs::create_dir(&dir)?;
        let held = match lock(&dir) {
            Ok(Some(held)) => held,
            Ok(None) => return Err(io::Error::other("a new outbox folder is locked already")),
            Err(err) => {
                let _ = fs::remove_dir_all(&dir);
                return Err(err);
            }
        };
        Ok(Incoming {
            dir,
            root: self.root.clone(),
            committed: false,
            lock: Some(held),
        })
    }

    /// Collects `plan` into a new queued report: the bundle is complete on disk, with what is to
    /// be posted with it, before anything is sent.
    pub fn queue(
        &self,
        plan: &Plan,
        report: Report,
        consent: Consent,
        destination: String,
        on_progress: impl FnMut(Progress) -> bool,
    ) -> Result<Entry, Error> {
        let incoming = self.incoming().map_err(Error::io(format!(
            "cannot write to {}",
            self.root.display()
        )))?;
        let written = collect(plan, report, consent, &incoming.bundle_path(), on_progress)?;
        incoming
            .commit(TicketRequest::for_bundle(&written), destination)
            .map_err(Error::io("cannot queue the report in the outbox"))
    }

    /// Every queued report, oldest first, and a message for each folder that is not one.
    pub fn list(&self) -> io::Result<(Vec<Entry>, Vec<String>)> {
        let (mut entries, mut problems) = (Vec::new(), Vec::new());
        for item in fs::read_dir(&self.root)? {
            let item = item?;
            let name = item.file_name().to_string_lossy().into_owned();
            let Ok(id) = Uuid::parse_str(&name) else {
                continue;
            };
            match read_entry(id, &item.path()) {
                Ok(entry) => entries.push(entry),
                Err(err) => problems.push(format!(
                    "{}: not a readable report ({err}); remove it with `callsupport outbox remove {id}`",
                    item.path().display()
                )),
            }
        }
        entries.sort_by_key(|e| (e.queued.queued_at, e.id));
        Ok((entries, problems))
    }

    /// One queued report.
    pub fn get(&self, id: Uuid) -> io::Result<Entry> {
        read_entry(id, &self.root.join(id.to_string()))
    }

    /// Removes a queued report without sending it. False if there was none.
    pub fn remove(&self, id: Uuid) -> io::Result<bool> {
        let dir = self.root.join(id.to_string());
        if !dir.exists() {
            return Ok(false);
        }
        let _lock = lock_patiently(&dir)?.ok_or_else(|| in_use(id))?;
        self.discard(id, &dir)?;
        Ok(true)
    }

    /// The resumable upload a waiting report's bundle was going to, if one was begun.
    pub fn upload_of(&self, id: Uuid) -> Option<crate::upload::slot::Resume> {
        use crate::upload::slot::ResumeSlot;
        FileSlot::new(self.root.join(id.to_string()).join(UPLOAD)).load()
    }

    /// Receipts of delivered reports, newest first.
    pub fn history(&self) -> io::Result<Vec<Delivered>> {
        let mut delivered = Vec::new();
        for item in fs::read_dir(&self.history)? {
            let path = item?.path();
            if path.extension().is_some_and(|e| e == "json")
                && let Ok(text) = fs::read(&path)
                && let Ok(receipt) = serde_json::from_slice::<Delivered>(&text)
            {
                delivered.push(receipt);
            }
        }
        delivered.sort_by_key(|d| std::cmp::Reverse(d.sent_at));
        Ok(delivered)
    }

    /// Deletes the receipt of a delivered report from the history. False if there was none.
    pub fn forget_delivered(&self, id: Uuid) -> io::Result<bool> {
        match fs::remove_file(self.history.join(format!("{id}.json"))) {
            Ok(()) => Ok(true),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// The user agreed that the waiting report `id` go to `to`, the destination configured now:
    /// recorded with the report, its hold lifted, and a resumable upload begun at the old
    /// destination forgotten (the token does not go there again; that server lets it expire).
    pub fn agree_destination(&self, id: Uuid, to: &str) -> Result<Entry, Error> {
        let io_error = |err| Error::io(format!("outbox {id}"))(err);
        let entry = self
            .get(id)
            .map_err(|_| Error::NotInOutbox(id.to_string()))?;
        let _lock = lock(&entry.dir)
            .map_err(io_error)?
            .ok_or(Error::ReportInUse(id))?;
        let mut queued = self.get(id).map_err(io_error)?.queued;
        if queued.destination == to {
            return Ok(entry);
        }
        queued.agreed_again.push(AgreedAgain {
            from: std::mem::replace(&mut queued.destination, to.to_owned()),
            to: to.to_owned(),
            at: Utc::now(),
        });
        write_json(&entry.dir.join(REPORT), &queued).map_err(io_error)?;
        let attempts = Attempts {
            last_error: None,
            ..entry.attempts.clone()
        };
        write_json(&entry.dir.join(ATTEMPTS), &attempts).map_err(io_error)?;
        match fs::remove_file(entry.dir.join(UPLOAD)) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(io_error(err)),
            _ => {}
        }
        sync_dir(&entry.dir).map_err(io_error)?;
        log::info!(
            "outbox: report {id} is now agreed for {to} (was {})",
            queued.agreed_again.last().map_or("", |a| a.from.as_str())
        );
        self.get(id).map_err(io_error)
    }

    /// What the user should hear about: reports waiting longer than the limit, or an outbox
    /// larger than it.
    pub fn warnings(
        &self,
        entries: &[Entry],
        limits: OutboxLimits,
        now: DateTime<Utc>,
    ) -> Vec<String> {
        let mut warnings = Vec::new();
        for entry in entries {
            let age = (now - entry.queued.queued_at).to_std().unwrap_or_default();
            if age > limits.max_age {
                warnings.push(format!(
                    "report {} (\"{}\") has waited {} days to reach {}; check the connection, or remove it",
                    entry.id,
                    entry.queued.request.report.summary,
                    age.as_secs() / 86_400,
                    entry.queued.destination
                ));
            }
        }
        let total: u64 = entries.iter().map(|e| e.bytes).sum();
        if total > limits.max_total_bytes {
            warnings.push(format!(
                "the outbox holds {} MiB, more than the {} MiB allowed; reports are kept until sent or removed",
                total >> 20,
                limits.max_total_bytes >> 20
            ));
        }
        warnings
    }

    /// Sends one queued report (with retries per `policy`) unless another process is sending it.
    /// Delivered, it leaves the outbox for the history; failed, the failure is recorded with it.
    pub async fn deliver(
        &self,
        entry: &Entry,
        uploader: &Uploader,
        policy: &RetryPolicy,
        on_progress: impl FnMut(Progress) -> bool + Send + 'static,
    ) -> Result<Delivered, Error> {
        let io_error = |err| Error::io(format!("outbox {}", entry.id))(err);
        let mut held = lock(&entry.dir).map_err(io_error)?;
        let deadline = std::time::Instant::now() + LOCK_PATIENCE;
        while held.is_none() && std::time::Instant::now() < deadline {
            tokio::time::sleep(LOCK_RETRY).await;
            held = lock(&entry.dir).map_err(io_error)?;
        }
        let _lock = held.ok_or(Error::ReportInUse(entry.id))?;
        // Another process may have delivered it between listing and locking.
        if !entry.dir.exists() {
            return Err(Error::UnknownReport);
        }
        // Agreed for one destination, it goes nowhere else: held until the user agrees again.
        let agreed = self.get(entry.id).map_err(io_error)?.queued.destination;
        if agreed != uploader.destination() {
            let error = Error::DestinationChanged {
                id: entry.id,
                agreed,
                now: uploader.destination().to_owned(),
            };
            let attempts = Attempts {
                count: entry.attempts.count,
                last_at: entry.attempts.last_at,
                last_error: Some(LastError {
                    code: error.code(),
                    message: error.to_string(),
                    retryable: false,
                }),
            };
            write_json(&entry.dir.join(ATTEMPTS), &attempts).map_err(io_error)?;
            log::warn!("outbox: {error}");
            return Err(error);
        }
        let sent = uploader
            .deliver(
                &entry.bundle_path(),
                &entry.queued.request,
                &entry.resume_slot(),
                policy,
                on_progress,
            )
            .await;
        match sent {
            Ok(receipt) => self.delivered(entry, receipt).map_err(io_error),
            Err(UploadError::Cancelled) => Err(UploadError::Cancelled.into()),
            Err(error) => {
                let retryable = error.is_retryable();
                let error = Error::from(error);
                let attempts = Attempts {
                    count: entry.attempts.count + 1,
                    last_at: Some(Utc::now()),
                    last_error: Some(LastError {
                        code: error.code(),
                        message: error.to_string(),
                        retryable,
                    }),
                };
                write_json(&entry.dir.join(ATTEMPTS), &attempts).map_err(io_error)?;
                Err(error)
            }
        }
    }

    /// Sends the waiting reports `which` asks for, one after the other, skipping those another
    /// process delivered meanwhile. `progress` makes the progress callback of each send.
    pub async fn flush<P>(
        &self,
        uploader: &Uploader,
        policy: &RetryPolicy,
        which: Which,
        mut progress: impl FnMut(&Entry) -> P,
    ) -> io::Result<FlushSummary>
    where
        P: FnMut(Progress) -> bool + Send + 'static,
    {
        let (entries, problems) = self.list()?;
        let mut summary = FlushSummary {
            problems,
            ..FlushSummary::default()
        };
        for entry in entries.iter().filter(|e| which == Which::All || e.due()) {
            match self.deliver(entry, uploader, policy, progress(entry)).await {
                Ok(delivered) => summary.delivered.push(delivered),
                Err(Error::UnknownReport) => {}
                Err(err) => summary.failed.push(NotDelivered {
                    id: entry.id.to_string(),
                    code: err.code(),
                    message: err.to_string(),
                }),
            }
        }
        Ok(summary)
    }

    /// Records the receipt, then removes the report. A crash in between leaves it queued: sent
    /// again, the server answers with the same ticket.
    fn delivered(&self, entry: &Entry, receipt: TicketReceipt) -> io::Result<Delivered> {
        let delivered = Delivered {
            bundle_id: entry.id.to_string(),
            ticket_id: receipt.ticket_id,
            ticket_url: receipt.ticket_url,
            summary: entry.queued.request.report.summary.clone(),
            queued_at: entry.queued.queued_at,
            sent_at: Utc::now(),
            bundle_sha256: receipt.bundle_sha256,
            bundle_bytes: receipt.bundle_bytes,
        };
        write_json(&self.history.join(format!("{}.json", entry.id)), &delivered)?;
        sync_dir(&self.history)?;
        self.discard(entry.id, &entry.dir)?;
        Ok(delivered)
    }

    fn discard(&self, id: Uuid, dir: &Path) -> io::Result<()> {
        let gone = self.root.join(format!("{SENT}{id}"));
        fs::rename(dir, &gone)?;
        sync_dir(&self.root)?;
        // Another process opening the outbox meanwhile may have cleared it already.
        match fs::remove_dir_all(&gone) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
            // The caller holds the lock; whoever takes it next finds no report under the name.
            _ => {
                release(dir, None);
                Ok(())
            }
        }
    }
}

/// When the app sends what waits on its own: shortly after it starts, then every
/// [`Tending::INTERVAL`]; and, after the network failed, as soon as the service answers again
/// (probed every tick while reports wait).
#[derive(Debug, Clone, Default)]
pub struct Tending {
    last_flush: Option<std::time::Instant>,
    last: Option<FlushOutcome>,
}

/// How the last pass went, as far as the schedule cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushOutcome {
    Delivered,
    /// The service could not be reached: try again as soon as it can be.
    Offline,
    /// The service answered but did not take everything (busy, refused): wait for the interval.
    Refused,
}

impl Tending {
    /// How often the shell should call [`crate::api::Desk::tend_outbox`].
    pub const TICK: Duration = Duration::from_secs(30);
    /// The regular pass.
    pub const INTERVAL: Duration = Duration::from_secs(300);

    /// Whether to flush now. `reachable` is asked only when it matters (a probe costs a
    /// connection).
    pub async fn due<F>(&self, now: std::time::Instant, reachable: F) -> bool
    where
        F: std::future::Future<Output = bool>,
    {
        let Some(last_flush) = self.last_flush else {
            return true;
        };
        if now.duration_since(last_flush) >= Self::INTERVAL {
            return true;
        }
        match self.last {
            Some(FlushOutcome::Offline) => reachable.await,
            _ => false,
        }
    }

    pub fn record(&mut self, now: std::time::Instant, outcome: FlushOutcome) {
        self.last_flush = Some(now);
        self.last = Some(outcome);
    }
}

fn read_entry(id: Uuid, dir: &Path) -> io::Result<Entry> {
    let queued: Queued = serde_json::from_slice(&fs::read(dir.join(REPORT))?)
        .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))?;
    let attempts = match fs::read(dir.join(ATTEMPTS)) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Attempts::default(),
        Err(err) => return Err(err),
    };
    let bytes = fs::metadata(dir.join(BUNDLE))?.len();
    Ok(Entry {
        id,
        dir: dir.to_path_buf(),
        queued,
        attempts,
        bytes,
    })
}

/// The lock file of the folder `dir` (beside it).
fn lock_path(dir: &Path) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_owned();
    name.push(LOCK_SUFFIX);
    dir.with_file_name(name)
}

/// The advisory lock of the report or incoming folder `dir`, or `None` when another process
/// holds it.
fn lock(dir: &Path) -> io::Result<Option<File>> {
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_path(dir))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(err)) => Err(err),
    }
}

/// Removes the lock file of a folder that is gone, then closes it (`held`, when this process
/// holds it). Removed while still held, no other process can take it between the two and find the
/// folder's name free for a moment.
fn release(dir: &Path, held: Option<File>) {
    let _ = fs::remove_file(lock_path(dir));
    drop(held);
}

/// How long a report's lock is tried again before it counts as held by another process. A lock
/// this process just released can still be held for a moment by a child being started elsewhere
/// in the process (between `fork` and `exec` it shares the open file); a real send holds it far
/// longer.
const LOCK_PATIENCE: Duration = Duration::from_millis(500);
const LOCK_RETRY: Duration = Duration::from_millis(10);

/// Like [`lock`], trying again for [`LOCK_PATIENCE`].
fn lock_patiently(dir: &Path) -> io::Result<Option<File>> {
    let deadline = std::time::Instant::now() + LOCK_PATIENCE;
    loop {
        match lock(dir)? {
            None if std::time::Instant::now() < deadline => std::thread::sleep(LOCK_RETRY),
            held => return Ok(held),
        }
    }
}

fn in_use(id: Uuid) -> io::Error {
    io::Error::new(
        io::ErrorKind::ResourceBusy,
        format!(
            "report {id} is being sent by another Call Support process; try again when it is done"
        ),
    )
}

/// Writes `value` as JSON under a temporary name, flushes it and renames it into place.
fn write_json(path: &Path, value: &impl Serialize) -> io::Result<()> {
    callsupport_kept::write_aside(path, &serde_json::to_vec_pretty(value).expect("serializes"))
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[test]
    fn a_report_being_written_is_not_taken_for_a_leftover() {
        let data = tempfile::tempdir().unwrap();
        let outbox = Outbox::open(data.path()).unwrap();
        let writing = outbox.incoming().unwrap();
        fs::write(writing.bundle_path(), b"half").unwrap();

        // Another process (or the app's own schedule) opens the outbox meanwhile.
        Outbox::open(data.path()).unwrap();
        assert!(
            writing.bundle_path().exists(),
            "the report in progress was removed"
        );

        // A process that died while writing leaves its folder unlocked (the system drops a dead
        // process's locks): cleared at the next open.
        let crashed = outbox.root().join(format!("{INCOMING}dead"));
        fs::create_dir(&crashed).unwrap();
        fs::write(crashed.join(BUNDLE), b"half").unwrap();
        fs::write(lock_path(&crashed), b"").unwrap();
        // And a lock file whose report is gone.
        let stray = outbox
            .root()
            .join(format!("{}{LOCK_SUFFIX}", Uuid::now_v7()));
        fs::write(&stray, b"").unwrap();
        Outbox::open(data.path()).unwrap();
        assert!(!crashed.exists());
        assert!(!lock_path(&crashed).exists());
        assert!(!stray.exists());
        assert!(writing.bundle_path().exists());
        assert!(lock_path(&writing.dir).exists(), "held, so kept");

        // Given up without committing: gone, with its lock.
        let dir = writing.dir.clone();
        drop(writing);
        assert!(!dir.exists());
        assert!(!lock_path(&dir).exists());
        assert_eq!(fs::read_dir(outbox.root()).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn the_first_pass_is_at_once_then_on_the_interval_or_when_the_network_returns() {
        let mut tending = Tending::default();
        let start = Instant::now();
        assert!(
            tending.due(start, async { false }).await,
            "first pass at start"
        );

        tending.record(start, FlushOutcome::Delivered);
        let soon = start + Tending::TICK;
        assert!(!tending.due(soon, async { true }).await);
        assert!(
            tending
                .due(start + Tending::INTERVAL, async { false })
                .await
        );

        tending.record(start, FlushOutcome::Offline);
        assert!(!tending.due(soon, async { false }).await, "still offline");
        assert!(tending.due(soon, async { true }).await, "back online");

        tending.record(start, FlushOutcome::Refused);
        assert!(
            !tending.due(soon, async { true }).await,
            "a busy service is left alone until the interval"
        );
    }
}
