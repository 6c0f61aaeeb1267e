//! The watcher thread: turns file-system events into index updates, in debounced batches.
//!
//! Each source has its own `notify` watcher. On Linux every folder gets its own inotify watch, added
//! as folders are found, so one unreadable folder or a full watch table affects only that folder or
//! that source (which then falls back to polling). Events only mark paths dirty; a batch is processed
//! once events pause for `debounce` (or after `max_delay` at the latest), by looking at the disk
//! again: what exists is indexed, what does not is forgotten. That makes lost, reordered or merged
//! events harmless, and an overflow simply means "rescan everything".
//!
//! Events that cannot mean a change (a file or folder opened or read, as our own walks and the
//! app's collection do) are ignored; counting them would make every walk of a folder cause another.
//!
//! A folder is watched only after it has been walked, so anything created in it in between would
//! be missed; a newly watched folder that changed around the walk is therefore marked dirty itself
//! and walked once more in the next batch.
//!
//! A polled source is simply walked again every `poll_interval` and compared with the index (size
//! and modification time to the nanosecond), the same way a batch of dirty paths is.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use notify::event::{AccessKind, AccessMode, ModifyKind};
use notify::{EventKind, RecursiveMode, Watcher};

use super::fs_kind::unwatchable_fs;
use super::{IndexEvent, Options, Shared, SourceStatus};
use crate::file_id::{FileId, of_path as file_id};
use crate::sources::{ResolvedSource, RootState, walk};

pub enum Msg {
    Fs(notify::Result<notify::Event>),
    /// Folders the worker began watching after walking them, to be walked once more.
    Dirty(Vec<PathBuf>),
    Rescan,
    Stop,
}

type Sink = Box<dyn Fn(IndexEvent) + Send>;

/// A folder modified this close before a walk began may have changed during it (file-system
/// timestamps come from a coarse clock).
const CLOCK_SLACK: Duration = Duration::from_secs(1);

const OUT_OF_WATCHES: &str = "the system's limit of watched folders is reached";

/// How one source is watched right now.
enum Live {
    /// Not watched: invalid, missing or unreadable; the root is looked for again on a timer.
    Idle,
    Native {
        watcher: Box<dyn Watcher + Send>,
        /// Each folder is watched on its own (inotify); other platforms watch the root recursively.
        per_dir: bool,
        /// The folders watched so far.
        dirs: HashSet<PathBuf>,
        /// The identity of the root folder being watched, to tell it from another folder put
        /// under the same name.
        root_id: Option<FileId>,
    },
    /// Walked again at `next`.
    Polling { next: Instant },
}

struct Worker {
    shared: Shared,
    tx: Sender<Msg>,
    sink: Sink,
    options: Options,
    live: Vec<Live>,
    /// Sources that must be polled although native events exist, and why.
    poll_only: Vec<Option<String>>,
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
                poll_only: vec![None; count],
            };
            for i in 0..count {
                worker.announce_invalid(i);
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

/// Whether an event can mean that something changed. Opening, reading and closing after reading
/// cannot; our own walks open every folder they list.
fn is_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

impl Worker {
    fn run(&mut self, rx: Receiver<Msg>) {
        let mut dirty: BTreeSet<PathBuf> = BTreeSet::new();
        // Paths deleted or renamed: for a root, its watch died with it, even if a new folder took
        // its name (possibly with the same inode number).
        let mut gone: BTreeSet<PathBuf> = BTreeSet::new();
        let mut rescan_all: Option<&'static str> = None;
        let mut first_dirty: Option<Instant> = None;
        let mut last_event = Instant::now();
        let mut next_root_check = Instant::now() + self.options.root_check;
        loop {
            let mut wake = next_root_check;
            if let Some(next_poll) = self.next_poll() {
                wake = wake.min(next_poll);
            }
            if let Some(first) = first_dirty {
                wake = wake
                    .min((last_event + self.options.debounce).min(first + self.options.max_delay));
            }
            let mut mark = |paths: Vec<PathBuf>, dirty: &mut BTreeSet<PathBuf>| {
                dirty.extend(paths);
                last_event = Instant::now();
                first_dirty.get_or_insert(last_event);
            };
            match rx.recv_timeout(wake.saturating_duration_since(Instant::now())) {
                Ok(Msg::Fs(Ok(event))) => {
                    if event.need_rescan() {
                        rescan_all = Some("the watcher lost events (queue overflow)");
                        mark(Vec::new(), &mut dirty);
                    } else if is_change(&event.kind) {
                        if matches!(
                            event.kind,
                            EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_))
                        ) {
                            gone.extend(event.paths.iter().cloned());
                        }
                        mark(event.paths, &mut dirty);
                    }
                }
                Ok(Msg::Fs(Err(err))) => {
                    // An error without a path (e.g. the event queue overflowed) leaves the index unsure.
                    if err.paths.is_empty() {
                        log::warn!("the file watcher reported an error, rescanning: {err}");
                        rescan_all = Some("the watcher reported an error");
                    }
                    mark(err.paths, &mut dirty);
                }
                Ok(Msg::Dirty(paths)) => mark(paths, &mut dirty),
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
                    gone.clear();
                    for i in 0..self.live.len() {
                        self.attach(i, reason);
                    }
                } else {
                    self.process(std::mem::take(&mut dirty), std::mem::take(&mut gone));
                }
                first_dirty = None;
            }
            if now >= next_root_check {
                self.check_roots();
                next_root_check = now + self.options.root_check;
            }
            self.poll_due(now);
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

    fn resolved(&self, i: usize) -> Option<ResolvedSource> {
        self.shared.read().expect("index lock")[i].resolved.clone()
    }

    /// A source whose configuration is wrong says so once, like the others report their status.
    fn announce_invalid(&self, i: usize) {
        self.update(i, |state, events| {
            if state.resolved.is_none() {
                events.push(IndexEvent::StatusChanged {
                    source_id: state.id().to_owned(),
                    status: state.status.clone(),
                });
            }
        });
    }

    /// (Re)starts watching source `i` from scratch: checks the root, picks native events or
    /// polling, and lists every file.
    fn attach(&mut self, i: usize, reason: &str) {
        self.live[i] = Live::Idle;
        let Some(resolved) = self.resolved(i) else {
            return;
        };
        let root = resolved.root.clone();
        let status = match resolved.root_state() {
            // A folder that cannot be listed is denied, not an empty folder to watch or poll.
            RootState::Folder => match std::fs::read_dir(&root) {
                Ok(_) => None,
                Err(err) => Some(SourceStatus::Denied {
                    reason: format!("cannot read {}: {err}", root.display()),
                }),
            },
            RootState::Missing => Some(SourceStatus::Missing),
            RootState::NotFolder => Some(SourceStatus::Invalid {
                reason: format!(
                    "source `{}`: key `root`: {} is a file, not a folder",
                    resolved.id(),
                    root.display()
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
        let (live, mut status) = self.watch(i, &root, resolved.config.follow_links);
        self.live[i] = live;
        let started = SystemTime::now();
        let walked = walk(&resolved, &root);
        if self.watch_dirs(i, &walked.dirs, started) {
            let (live, polling) = self.polling(OUT_OF_WATCHES.into());
            self.live[i] = live;
            status = polling;
        }
        let reason = reason.to_owned();
        self.update(i, |state, events| {
            state.apply_full_walk(&root, walked, events);
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
    fn watch(&self, i: usize, root: &Path, follow_links: bool) -> (Live, SourceStatus) {
        if self.options.force_polling {
            return self.polling("polling was asked for".into());
        }
        if let Some(reason) = &self.poll_only[i] {
            return self.polling(reason.clone());
        }
        if let Some(fs) = unwatchable_fs(root) {
            return self.polling(format!(
                "{} is on a network file system ({fs})",
                root.display()
            ));
        }
        let tx = self.tx.clone();
        let config = notify::Config::default().with_follow_symlinks(follow_links);
        match notify::RecommendedWatcher::new(move |event| drop(tx.send(Msg::Fs(event))), config) {
            Ok(mut watcher) => {
                // inotify watches one folder at a time (we add each as we find it); other
                // platforms' watchers are recursive by nature.
                let per_dir = cfg!(target_os = "linux");
                let mode = if per_dir {
                    RecursiveMode::NonRecursive
                } else {
                    RecursiveMode::Recursive
                };
                match watcher.watch(root, mode) {
                    Ok(()) => {
                        let dirs = HashSet::from([root.to_path_buf()]);
                        let live = Live::Native {
                            watcher: Box::new(watcher),
                            per_dir,
                            dirs,
                            root_id: file_id(root),
                        };
                        (live, SourceStatus::Watching)
                    }
                    Err(err) if matches!(err.kind, notify::ErrorKind::MaxFilesWatch) => {
                        self.polling(OUT_OF_WATCHES.into())
                    }
                    Err(err) => self.polling(format!("native events are not available: {err}")),
                }
            }
            Err(err) => self.polling(format!("native events are not available: {err}")),
        }
    }

    /// A polled source: walked again every `poll_interval`.
    fn polling(&self, reason: String) -> (Live, SourceStatus) {
        log::warn!("polling a source instead of watching it: {reason}");
        (
            Live::Polling {
                next: Instant::now() + self.options.poll_interval,
            },
            SourceStatus::Polling { reason },
        )
    }

    /// Watches the folders of a walk that are not watched yet (native, per-folder sources only).
    /// Those that changed since the walk `started` are marked dirty to be walked again. Returns
    /// true when the system ran out of watches (the source is then to be polled).
    fn watch_dirs(&mut self, i: usize, found: &[PathBuf], started: SystemTime) -> bool {
        let Live::Native {
            watcher,
            per_dir: true,
            dirs,
            ..
        } = &mut self.live[i]
        else {
            return false;
        };
        let since = started
            .checked_sub(CLOCK_SLACK)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let mut again = Vec::new();
        let mut out_of_watches = false;
        for dir in found {
            if dirs.contains(dir) {
                continue;
            }
            match watcher.watch(dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    dirs.insert(dir.clone());
                    if std::fs::metadata(dir)
                        .and_then(|m| m.modified())
                        .map_or(true, |m| m >= since)
                    {
                        again.push(dir.clone());
                    }
                }
                Err(err) if matches!(err.kind, notify::ErrorKind::MaxFilesWatch) => {
                    out_of_watches = true;
                    break;
                }
                // Unreadable or already gone: not recorded, so it is tried again when it changes.
                Err(_) => {}
            }
        }
        if !again.is_empty() {
            let _ = self.tx.send(Msg::Dirty(again));
        }
        if out_of_watches {
            self.poll_only[i] = Some(OUT_OF_WATCHES.into());
        }
        out_of_watches
    }

    /// Looks at each dirty path again and updates the source it belongs to.
    fn process(&mut self, dirty: BTreeSet<PathBuf>, gone: BTreeSet<PathBuf>) {
        let roots: Vec<Option<PathBuf>> = self
            .shared
            .read()
            .expect("index lock")
            .iter()
            .map(|s| s.resolved.as_ref().map(|r| r.root.clone()))
            .collect();
        // First the roots themselves (or folders above them): deleted, moved, recreated or their
        // permissions changed. A source attached again was listed whole.
        let mut attached = BTreeSet::new();
        for (i, root) in roots.iter().enumerate() {
            let Some(root) = root else { continue };
            let removed = gone.iter().any(|path| root.starts_with(path));
            if (removed || dirty.iter().any(|path| root.starts_with(path)))
                && self.root_changed(i, removed)
            {
                attached.insert(i);
            }
        }
        // Parents come before children in a BTreeSet: a walked folder covers what is inside it.
        let mut walked_dirs: HashSet<(usize, PathBuf)> = HashSet::new();
        for path in dirty {
            for (i, root) in roots.iter().enumerate() {
                let Some(root) = root else { continue };
                if path == *root || !path.starts_with(root) || attached.contains(&i) {
                    continue;
                }
                let covered = path
                    .ancestors()
                    .skip(1)
                    .take_while(|a| a.starts_with(root))
                    .any(|a| walked_dirs.contains(&(i, a.to_path_buf())));
                if covered {
                    continue;
                }
                if self.refresh(i, &path) {
                    walked_dirs.insert((i, path.clone()));
                }
            }
        }
    }

    /// Something happened to the root of source `i` itself (`removed`: it was deleted or renamed).
    /// Returns whether the source was attached again.
    fn root_changed(&mut self, i: usize, removed: bool) -> bool {
        let Some(resolved) = self.resolved(i) else {
            return false;
        };
        match &self.live[i] {
            Live::Idle => self.attach(i, "the folder appeared"),
            // The next poll looks at the root anyway.
            Live::Polling { .. } => return false,
            Live::Native { root_id, .. } => {
                let same = root_id.is_some() && *root_id == file_id(&resolved.root);
                if !removed && same && std::fs::read_dir(&resolved.root).is_ok() {
                    // The same folder, still readable: its times or permissions changed.
                    return false;
                }
                // Gone, replaced by another folder under the same name, or no longer readable.
                self.attach(i, "the folder was replaced");
            }
        }
        true
    }

    /// Brings one path of source `i` up to date. Returns true when it was a folder (walked whole).
    fn refresh(&mut self, i: usize, path: &Path) -> bool {
        let Some(resolved) = self.resolved(i) else {
            return false;
        };
        let follow_links = resolved.config.follow_links;
        let meta = if follow_links {
            std::fs::metadata(path)
        } else if through_link(&resolved.root, path) {
            // Reported by another source's watcher that follows links: not a path of this one.
            Err(std::io::ErrorKind::NotFound.into())
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
                let started = SystemTime::now();
                // With links followed, `walk` also treats a link back to any folder above `path`
                // as a loop, so nothing is listed (or watched) twice under another name.
                let walked = walk(&resolved, path);
                if self.watch_dirs(i, &walked.dirs, started) {
                    // The walk was not recorded; attaching as a polled source lists everything.
                    self.attach(i, OUT_OF_WATCHES);
                    return true;
                }
                self.update(i, |state, events| state.apply_walk(path, walked, events));
                true
            }
            Ok(meta) => {
                match resolved.file(path, &meta) {
                    Some(file) => self.update(i, |state, events| {
                        // It may have been a folder a moment ago.
                        state.remove_inside(path, events);
                        state.upsert(file, events);
                    }),
                    None => self.update(i, |state, events| state.remove_under(path, events)),
                }
                false
            }
        }
    }

    /// Sources whose root was missing or unreadable are looked for again.
    fn check_roots(&mut self) {
        for i in 0..self.live.len() {
            match &self.live[i] {
                Live::Idle => {
                    let appeared = self
                        .resolved(i)
                        .is_some_and(|r| matches!(r.root_state(), RootState::Folder));
                    if appeared {
                        self.attach(i, "the folder appeared");
                    }
                }
                // A recursive watcher (Windows, macOS) reports what happens inside the root but
                // not to the root itself: a root deleted, renamed or replaced is seen here.
                Live::Native {
                    per_dir: false,
                    root_id,
                    ..
                } => {
                    let root_id = *root_id;
                    let now = self.resolved(i).and_then(|r| file_id(&r.root));
                    if now.is_none() || now != root_id {
                        self.attach(i, "the folder was replaced");
                    }
                }
                _ => {}
            }
        }
    }

    /// When the next polled source is due.
    fn next_poll(&self) -> Option<Instant> {
        self.live
            .iter()
            .filter_map(|live| match live {
                Live::Polling { next } => Some(*next),
                _ => None,
            })
            .min()
    }

    /// Walks the polled sources that are due and applies what changed.
    fn poll_due(&mut self, now: Instant) {
        for i in 0..self.live.len() {
            let Live::Polling { next } = &mut self.live[i] else {
                continue;
            };
            if now < *next {
                continue;
            }
            *next = now + self.options.poll_interval;
            let Some(resolved) = self.resolved(i) else {
                continue;
            };
            let root = resolved.root.clone();
            let readable = matches!(resolved.root_state(), RootState::Folder)
                && std::fs::read_dir(&root).is_ok();
            if !readable {
                // Gone or locked: `attach` says which and looks for it again later.
                self.attach(i, "the folder changed");
                continue;
            }
            let walked = walk(&resolved, &root);
            self.update(i, |state, events| state.apply_walk(&root, walked, events));
        }
    }
}

/// Whether `path` is reached through a link in one of the folders between `root` and it. Events
/// are shared between sources, so a source that does not follow links can be told of a path that
/// another source's watcher saw through a link.
fn through_link(root: &Path, path: &Path) -> bool {
    path.ancestors()
        .skip(1)
        .take_while(|a| *a != root && a.starts_with(root))
        .any(|a| std::fs::symlink_metadata(a).is_ok_and(|m| m.file_type().is_symlink()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::CreateKind;

    #[test]
    fn opening_and_reading_are_not_changes() {
        assert!(!is_change(&EventKind::Access(AccessKind::Open(
            AccessMode::Any
        ))));
        assert!(!is_change(&EventKind::Access(AccessKind::Close(
            AccessMode::Read
        ))));
        assert!(!is_change(&EventKind::Access(AccessKind::Read)));
        assert!(is_change(&EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
        assert!(is_change(&EventKind::Create(CreateKind::File)));
        assert!(is_change(&EventKind::Modify(ModifyKind::Any)));
        assert!(is_change(&EventKind::Any));
    }
}
