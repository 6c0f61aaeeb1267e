//! The watcher thread: turns file-system events into index updates, in debounced batches.
//!
//! Each source has its own `notify` watcher. On Linux every folder gets its own inotify watch, added
//! as folders are found, so one unreadable folder or a full watch table affects only that folder or
//! that source (which then falls back to polling). Events only mark paths dirty; a batch is processed
//! once events pause for `debounce` (or after `max_delay` at the latest), by looking at the disk
//! again: what exists is indexed, what does not is forgotten. That makes lost, reordered or merged
//! events harmless, and an overflow simply means "rescan everything".

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use notify::{PollWatcher, RecursiveMode, Watcher};

use super::fs_kind::unwatchable_fs;
use super::{IndexEvent, Options, Shared, SourceStatus};
use crate::sources::{RootState, walk};

pub enum Msg {
    Fs(notify::Result<notify::Event>),
    Rescan,
    Stop,
}

type Sink = Box<dyn Fn(IndexEvent) + Send>;

/// How one source is watched right now.
enum Live {
    /// Not watched: invalid, missing or unreadable; the root is looked for again on a timer.
    Idle,
    Native {
        watcher: Box<dyn Watcher + Send>,
        dirs: HashSet<PathBuf>,
    },
    Polling {
        _watcher: PollWatcher,
    },
}

struct Worker {
    shared: Shared,
    tx: Sender<Msg>,
    sink: Sink,
    options: Options,
    live: Vec<Live>,
}

pub fn spawn(
    shared: Shared,
    ready: Arc<(Mutex<bool>, Condvar)>,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    options: Options,
    sink: Sink,
) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("callsupport-index".into())
        .spawn(move || {
            let count = shared.read().expect("index lock").len();
            let mut worker = Worker {
                shared,
                tx,
                sink,
                options,
                live: (0..count).map(|_| Live::Idle).collect(),
            };
            for i in 0..count {
                worker.attach(i, "first scan");
            }
            {
                let (lock, cvar) = &*ready;
                *lock.lock().expect("ready lock") = true;
                cvar.notify_all();
            }
            worker.run(rx);
        })
        .expect("spawn the index thread")
}

impl Worker {
    fn run(&mut self, rx: Receiver<Msg>) {
        let mut dirty: BTreeSet<PathBuf> = BTreeSet::new();
        let mut rescan_all: Option<&'static str> = None;
        let mut first_dirty: Option<Instant> = None;
        let mut last_event = Instant::now();
        let mut next_root_check = Instant::now() + self.options.root_check;
        loop {
            let now = Instant::now();
            let wake = match first_dirty {
                Some(first) => {
                    (last_event + self.options.debounce).min(first + self.options.max_delay)
                }
                None => next_root_check,
            };
            match rx.recv_timeout(wake.saturating_duration_since(now)) {
                Ok(Msg::Fs(Ok(event))) => {
                    if event.need_rescan() {
                        rescan_all = Some("the watcher lost events (queue overflow)");
                    }
                    dirty.extend(event.paths);
                    last_event = Instant::now();
                    first_dirty.get_or_insert(last_event);
                }
                Ok(Msg::Fs(Err(err))) => {
                    // An error without a path (e.g. the event queue overflowed) leaves the index unsure.
                    if err.paths.is_empty() {
                        rescan_all = Some("the watcher reported an error");
                    }
                    dirty.extend(err.paths);
                    last_event = Instant::now();
                    first_dirty.get_or_insert(last_event);
                }
                Ok(Msg::Rescan) => {
                    rescan_all = Some("requested");
                    first_dirty.get_or_insert(Instant::now());
                }
                Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => {}
            }
            let now = Instant::now();
            if let Some(first) = first_dirty
                && (now >= last_event + self.options.debounce
                    || now >= first + self.options.max_delay)
            {
                if let Some(reason) = rescan_all.take() {
                    dirty.clear();
                    for i in 0..self.live.len() {
                        self.attach(i, reason);
                    }
                } else {
                    self.process(std::mem::take(&mut dirty));
                }
                first_dirty = None;
            }
            if now >= next_root_check {
                self.check_roots();
                next_root_check = now + self.options.root_check;
            }
        }
    }

    /// Runs `f` on source `i` under the write lock, then hands the events it produced to the sink.
    fn update<T>(
        &self,
        i: usize,
        f: impl FnOnce(&mut super::state::SourceState, &mut Vec<IndexEvent>) -> T,
    ) -> T {
        let mut events = Vec::new();
        let result = {
            let mut sources = self.shared.write().expect("index lock");
            f(&mut sources[i], &mut events)
        };
        for event in events {
            (self.sink)(event);
        }
        result
    }

    /// (Re)starts watching source `i` from scratch: checks the root, picks native events or
    /// polling, and lists every file.
    fn attach(&mut self, i: usize, reason: &str) {
        self.live[i] = Live::Idle;
        let Some(resolved) = self.shared.read().expect("index lock")[i].resolved.clone() else {
            return;
        };
        let status = match resolved.root_state() {
            RootState::Folder => None,
            RootState::Missing => Some(SourceStatus::Missing),
            RootState::NotFolder => Some(SourceStatus::Invalid {
                reason: format!(
                    "source `{}`: key `root`: {} is a file, not a folder",
                    resolved.id(),
                    resolved.root.display()
                ),
            }),
            RootState::Unreadable(err) => Some(SourceStatus::Denied {
                reason: err.to_string(),
            }),
        };
        if let Some(status) = status {
            self.update(i, |state, events| {
                state.clear(events);
                state.set_status(status, events);
            });
            return;
        }
        let root = resolved.root.clone();
        let (live, mut status) = self.watch(&resolved.root, resolved.config.follow_links);
        self.live[i] = live;
        let walked = walk(&resolved, &root);
        let mut out_of_watches = false;
        if let Live::Native { watcher, dirs } = &mut self.live[i] {
            for dir in &walked.dirs {
                if dirs.insert(dir.clone())
                    && let Err(err) = watcher.watch(dir, RecursiveMode::NonRecursive)
                    && matches!(err.kind, notify::ErrorKind::MaxFilesWatch)
                {
                    out_of_watches = true;
                    break;
                }
            }
        }
        if out_of_watches {
            // Out of inotify watches: this source is polled instead.
            let (live, polling) = self.polling(
                &root,
                "the system's limit of watched folders is reached".into(),
            );
            self.live[i] = live;
            status = polling;
        }
        let reason = reason.to_owned();
        self.update(i, |state, events| {
            state.apply_walk(&root, walked, events);
            state.set_status(status, events);
            let files = state.file_count() as u32;
            events.push(IndexEvent::Rescanned {
                source_id: state.id().to_owned(),
                files,
                reason,
            });
        });
    }

    /// A watcher for a root: native events where they work, polling where they cannot.
    fn watch(&self, root: &Path, follow_links: bool) -> (Live, SourceStatus) {
        if self.options.force_polling {
            return self.polling(root, "polling was asked for".into());
        }
        if let Some(fs) = unwatchable_fs(root) {
            return self.polling(
                root,
                format!("{} is on a network file system ({fs})", root.display()),
            );
        }
        let tx = self.tx.clone();
        let config = notify::Config::default().with_follow_symlinks(follow_links);
        match notify::RecommendedWatcher::new(move |event| drop(tx.send(Msg::Fs(event))), config) {
            Ok(mut watcher) => {
                // inotify watches one folder at a time (we add each as we find it); other
                // platforms' watchers are recursive by nature.
                let mode = if cfg!(target_os = "linux") {
                    RecursiveMode::NonRecursive
                } else {
                    RecursiveMode::Recursive
                };
                match watcher.watch(root, mode) {
                    Ok(()) => {
                        let dirs = HashSet::from([root.to_path_buf()]);
                        (
                            Live::Native {
                                watcher: Box::new(watcher),
                                dirs,
                            },
                            SourceStatus::Watching,
                        )
                    }
                    Err(err) => {
                        self.polling(root, format!("native events are not available: {err}"))
                    }
                }
            }
            Err(err) => self.polling(root, format!("native events are not available: {err}")),
        }
    }

    fn polling(&self, root: &Path, reason: String) -> (Live, SourceStatus) {
        let tx = self.tx.clone();
        let config = notify::Config::default().with_poll_interval(self.options.poll_interval);
        match PollWatcher::new(move |event| drop(tx.send(Msg::Fs(event))), config) {
            Ok(mut watcher) => match watcher.watch(root, RecursiveMode::Recursive) {
                Ok(()) => (
                    Live::Polling { _watcher: watcher },
                    SourceStatus::Polling { reason },
                ),
                Err(err) => (
                    Live::Idle,
                    SourceStatus::Denied {
                        reason: err.to_string(),
                    },
                ),
            },
            Err(err) => (
                Live::Idle,
                SourceStatus::Denied {
                    reason: err.to_string(),
                },
            ),
        }
    }

    /// Looks at each dirty path again and updates the source it belongs to.
    fn process(&mut self, dirty: BTreeSet<PathBuf>) {
        let roots: Vec<Option<PathBuf>> = self
            .shared
            .read()
            .expect("index lock")
            .iter()
            .map(|s| s.resolved.as_ref().map(|r| r.root.clone()))
            .collect();
        let mut reattach = BTreeSet::new();
        // Parents come before children in a BTreeSet: a walked folder covers what is inside it.
        let mut walked_dirs: Vec<(usize, PathBuf)> = Vec::new();
        for path in dirty {
            for (i, root) in roots.iter().enumerate() {
                let Some(root) = root else { continue };
                if root.starts_with(&path) {
                    // The root itself (or a folder above it) changed: deleted, moved or recreated.
                    reattach.insert(i);
                } else if path.starts_with(root) && !reattach.contains(&i) {
                    if walked_dirs
                        .iter()
                        .any(|(j, dir)| *j == i && path.starts_with(dir))
                    {
                        continue;
                    }
                    if self.refresh(i, &path) {
                        walked_dirs.push((i, path.clone()));
                    }
                }
            }
        }
        for i in reattach {
            let missing = !matches!(
                self.shared.read().expect("index lock")[i]
                    .resolved
                    .as_ref()
                    .map(|r| r.root_state()),
                Some(RootState::Folder)
            );
            let was_live = !matches!(self.live[i], Live::Idle);
            if missing || !was_live {
                self.attach(i, "the folder changed");
            } else if matches!(self.live[i], Live::Native { .. }) {
                // Still there, but possibly replaced by another folder with the same name.
                self.attach(i, "the folder was replaced");
            }
        }
    }

    /// Brings one path of source `i` up to date. Returns true when it was a folder (walked whole).
    fn refresh(&mut self, i: usize, path: &Path) -> bool {
        let Some(resolved) = self.shared.read().expect("index lock")[i].resolved.clone() else {
            return false;
        };
        let meta = if resolved.config.follow_links {
            std::fs::metadata(path)
        } else {
            std::fs::symlink_metadata(path)
        };
        match meta {
            Err(_) => {
                if let Live::Native { dirs, .. } = &mut self.live[i] {
                    dirs.retain(|d| !d.starts_with(path));
                }
                self.update(i, |state, events| state.remove_under(path, events));
                false
            }
            Ok(meta) if meta.is_dir() => {
                let walked = walk(&resolved, path);
                if let Live::Native { watcher, dirs } = &mut self.live[i] {
                    for dir in &walked.dirs {
                        if dirs.insert(dir.clone()) {
                            let _ = watcher.watch(dir, RecursiveMode::NonRecursive);
                        }
                    }
                }
                self.update(i, |state, events| state.apply_walk(path, walked, events));
                true
            }
            Ok(meta) => {
                match resolved.file(path, &meta) {
                    Some(file) => self.update(i, |state, events| state.upsert(file, events)),
                    None => self.update(i, |state, events| state.remove_under(path, events)),
                }
                false
            }
        }
    }

    /// Sources whose root was missing or unreadable are looked for again.
    fn check_roots(&mut self) {
        let idle: Vec<usize> = (0..self.live.len())
            .filter(|&i| matches!(self.live[i], Live::Idle))
            .filter(|&i| {
                self.shared.read().expect("index lock")[i]
                    .resolved
                    .is_some()
            })
            .collect();
        for i in idle {
            let appeared = matches!(
                self.shared.read().expect("index lock")[i]
                    .resolved
                    .as_ref()
                    .map(|r| r.root_state()),
                Some(RootState::Folder)
            );
            if appeared {
                self.attach(i, "the folder appeared");
            }
        }
    }
}
