//! The live index: every source's support files, kept current by a file-system watcher.
//!
//! # Brief overview
//!
//! [`Index::start`] scans each source once on a background thread, then keeps the result current
//! from `notify` events, debounced (a burst of thousands of files becomes a handful of updates).
//! Each change goes to a sink the caller supplies ([`IndexEvent`]); the app forwards them to the UI,
//! the CLI prints them. [`Index::snapshot`] answers "what are the support files now" without touching
//! the disk, so the report dialog opens at once.
//!
//! It copes with: a root that does not exist yet, cannot be read, or is deleted and recreated
//! (looked for again every second meanwhile), rotation by rename, files appended to, folders that
//! cannot be read (noted, the rest indexed), link loops, network file systems and exhausted inotify
//! watches (falls back to polling, i.e. walking the source on a timer, and says so), and event
//! overflow (full rescan). Paths reached through links are indexed only when the source says so.

mod calls;
mod fs_kind;
mod state;
mod worker;

use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use calls::{CallSeen, CallTracker};

use crate::sources::{Skipped, SourceFile, SourceScan, split_by_age};
use callsupport_bundle::display_path;
use callsupport_config::{Config, SourceConfig, SourceKind};

/// How a source is being kept up to date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SourceStatus {
    /// The first scan has not finished.
    Starting,
    /// Native file-system events.
    Watching,
    /// Checked on a timer, because events are not available here.
    Polling { reason: String },
    /// The folder does not exist (yet); it is picked up when it appears.
    Missing,
    /// The folder exists but cannot be read.
    Denied { reason: String },
    /// The source's configuration is wrong; the message names the key.
    Invalid { reason: String },
}

impl SourceStatus {
    /// One word for tables: watching, polling, missing, denied, invalid, starting.
    pub fn label(&self) -> &'static str {
        match self {
            SourceStatus::Starting => "starting",
            SourceStatus::Watching => "watching",
            SourceStatus::Polling { .. } => "polling",
            SourceStatus::Missing => "missing",
            SourceStatus::Denied { .. } => "denied",
            SourceStatus::Invalid { .. } => "invalid",
        }
    }
}

/// A support file as change events describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IndexedFile {
    pub source_id: String,
    /// Full path, home folder as `~`.
    pub path: String,
    /// Path below the source's root.
    pub relative: String,
    pub size: u64,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub modified_at: DateTime<Utc>,
    pub encrypted: bool,
    pub call_ids: Vec<String>,
}

impl From<&SourceFile> for IndexedFile {
    fn from(file: &SourceFile) -> Self {
        IndexedFile {
            source_id: file.source_id.clone(),
            path: display_path(&file.path),
            relative: file.relative.clone(),
            size: file.size,
            modified_at: file.modified.into(),
            encrypted: file.encrypted,
            call_ids: file.calls.iter().map(|c| c.call_id.clone()).collect(),
        }
    }
}

/// One change to the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum IndexEvent {
    FileAdded {
        file: IndexedFile,
    },
    FileChanged {
        file: IndexedFile,
    },
    FileRemoved {
        source_id: String,
        path: String,
    },
    StatusChanged {
        source_id: String,
        status: SourceStatus,
    },
    /// The whole source was listed again (first scan, root reappeared, or events were lost).
    Rescanned {
        source_id: String,
        files: u32,
        reason: String,
    },
}

/// One source as the index holds it now.
#[derive(Debug, Clone)]
pub struct SourceSnapshot {
    pub config: SourceConfig,
    /// The expanded root, when the configuration could be resolved.
    pub root: Option<std::path::PathBuf>,
    pub status: SourceStatus,
    pub files: Vec<SourceFile>,
    /// Folders and files that could not be read, and link loops.
    pub skipped: Vec<Skipped>,
}

impl SourceSnapshot {
    /// The files young enough to collect, with the rest as skipped, in the form a plan takes.
    pub fn to_scan(&self, max_age: Duration, now: SystemTime) -> SourceScan {
        let (files, mut skipped) = split_by_age(self.files.clone(), max_age, now);
        skipped.extend(self.skipped.iter().cloned());
        SourceScan {
            id: self.config.id.clone(),
            name: self.config.name.clone(),
            kind: self.config.kind,
            root: self.root.clone().unwrap_or_default(),
            files,
            skipped,
        }
    }

    pub fn kind(&self) -> SourceKind {
        self.config.kind
    }
}

/// Timings of the watcher; the defaults suit a desktop.
#[derive(Debug, Clone)]
pub struct Options {
    /// Quiet time after the last event before a batch is processed.
    pub debounce: Duration,
    /// Longest a change waits while events keep coming.
    pub max_delay: Duration,
    /// How often a polled source is walked again and compared with the index.
    pub poll_interval: Duration,
    /// How often a missing or unreadable root is looked for again.
    pub root_check: Duration,
    /// Poll every source, as if no native events were available (tests, odd file systems).
    pub force_polling: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            debounce: Duration::from_millis(50),
            max_delay: Duration::from_millis(250),
            poll_interval: Duration::from_secs(2),
            root_check: Duration::from_secs(1),
            force_polling: false,
        }
    }
}

type Shared = Arc<RwLock<Vec<state::SourceState>>>;

/// A running index. Dropping it stops the watcher.
pub struct Index {
    shared: Shared,
    ready: Arc<(Mutex<bool>, Condvar)>,
    tx: mpsc::Sender<worker::Msg>,
    thread: Option<JoinHandle<()>>,
}

impl Index {
    /// Indexes the configuration's sources with default timings.
    pub fn start(config: &Config, sink: impl Fn(IndexEvent) + Send + 'static) -> Index {
        Index::start_with(config.sources.clone(), Options::default(), sink)
    }

    /// Starts the watcher thread; the first scan runs there, so this returns at once.
    pub fn start_with(
        sources: Vec<SourceConfig>,
        options: Options,
        sink: impl Fn(IndexEvent) + Send + 'static,
    ) -> Index {
        let shared: Shared = Arc::new(RwLock::new(
            sources.into_iter().map(state::SourceState::new).collect(),
        ));
        let ready = Arc::new((Mutex::new(false), Condvar::new()));
        let (tx, rx) = mpsc::channel();
        let thread = worker::spawn(
            shared.clone(),
            ready.clone(),
            tx.clone(),
            rx,
            options,
            Box::new(sink),
        );
        Index {
            shared,
            ready,
            tx,
            thread: Some(thread),
        }
    }

    /// Waits until the first scan of every source is done; false if `timeout` passed first.
    pub fn wait_ready(&self, timeout: Duration) -> bool {
        let (lock, cvar) = &*self.ready;
        let guard = lock.lock().expect("ready lock");
        let (guard, _) = cvar
            .wait_timeout_while(guard, timeout, |ready| !*ready)
            .expect("ready lock");
        *guard
    }

    /// Every source as it is now, without touching the disk.
    pub fn snapshot(&self) -> Vec<SourceSnapshot> {
        self.shared
            .read()
            .expect("index lock")
            .iter()
            .map(state::SourceState::snapshot)
            .collect()
    }

    /// Asks for a full rescan of every source.
    pub fn rescan(&self) {
        let _ = self.tx.send(worker::Msg::Rescan);
    }
}

impl Drop for Index {
    fn drop(&mut self) {
        let _ = self.tx.send(worker::Msg::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
