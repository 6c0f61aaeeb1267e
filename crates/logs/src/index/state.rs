//! What the index knows about one source, and the change events each update produces.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::calls::CallTracker;
use super::{IndexEvent, IndexedFile, SourceSnapshot, SourceStatus};
use crate::sources::{ResolvedSource, Skipped, SourceFile, Walked, resolve};
use callsupport_bundle::display_path;
use callsupport_config::{SourceConfig, SourceKind};

struct Entry {
    file: SourceFile,
    calls: Option<CallTracker>,
}

pub struct SourceState {
    pub config: SourceConfig,
    /// `None` when the configuration of this source is wrong (see `status`).
    pub resolved: Option<ResolvedSource>,
    pub status: SourceStatus,
    files: BTreeMap<PathBuf, Entry>,
    skipped: BTreeMap<PathBuf, String>,
}

impl SourceState {
    pub fn new(config: SourceConfig) -> SourceState {
        let (resolved, status) = match resolve(&config) {
            Ok(resolved) => (Some(resolved), SourceStatus::Starting),
            Err(err) => (
                None,
                SourceStatus::Invalid {
                    reason: err.to_string(),
                },
            ),
        };
        SourceState {
            config,
            resolved,
            status,
            files: BTreeMap::new(),
            skipped: BTreeMap::new(),
        }
    }

    pub fn id(&self) -> &str {
        &self.config.id
    }

    pub fn snapshot(&self) -> SourceSnapshot {
        SourceSnapshot {
            config: self.config.clone(),
            root: self.resolved.as_ref().map(|r| r.root.clone()),
            status: self.status.clone(),
            files: self.files.values().map(|e| e.file.clone()).collect(),
            skipped: self
                .skipped
                .iter()
                .map(|(path, reason)| Skipped {
                    original_path: path.clone(),
                    reason: reason.clone(),
                })
                .collect(),
        }
    }

    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    pub fn set_status(&mut self, status: SourceStatus, events: &mut Vec<IndexEvent>) {
        if self.status != status {
            self.status = status.clone();
            events.push(IndexEvent::StatusChanged {
                source_id: self.config.id.clone(),
                status,
            });
        }
    }

    /// Adds or refreshes one file; reads new call ids of call-operations files.
    pub fn upsert(&mut self, mut file: SourceFile, events: &mut Vec<IndexEvent>) {
        self.skipped.remove(&file.path);
        // The common case of a walk or a poll: nothing changed, nothing to re-insert.
        if self
            .files
            .get(&file.path)
            .is_some_and(|p| p.file.size == file.size && p.file.modified == file.modified)
        {
            return;
        }
        let previous = self.files.remove(&file.path);
        let previous_existed = previous.is_some();
        let mut calls = previous.and_then(|p| p.calls);
        if self.config.kind == SourceKind::CallOperations {
            let tracker = calls.get_or_insert_with(CallTracker::default);
            // A file that vanished between the event and now is removed by its own event.
            let _ = tracker.update(&file.path);
        }
        file.calls = calls.as_ref().map(CallTracker::calls).unwrap_or_default();
        let indexed = IndexedFile::from(&file);
        events.push(if previous_existed {
            IndexEvent::FileChanged { file: indexed }
        } else {
            IndexEvent::FileAdded { file: indexed }
        });
        self.files.insert(file.path.clone(), Entry { file, calls });
    }

    /// Forgets `path` and everything below it.
    pub fn remove_under(&mut self, path: &Path, events: &mut Vec<IndexEvent>) {
        self.remove_where(path, true, events);
    }

    /// Forgets everything below `path` (a folder that became a file), but not `path` itself.
    pub fn remove_inside(&mut self, path: &Path, events: &mut Vec<IndexEvent>) {
        self.remove_where(path, false, events);
    }

    fn remove_where(&mut self, path: &Path, itself: bool, events: &mut Vec<IndexEvent>) {
        let gone: Vec<PathBuf> = self
            .files
            .range(path.to_path_buf()..)
            .map(|(p, _)| p.clone())
            .take_while(|p| p.starts_with(path))
            .filter(|p| itself || p != path)
            .collect();
        for p in gone {
            self.files.remove(&p);
            events.push(IndexEvent::FileRemoved {
                source_id: self.config.id.clone(),
                path: display_path(&p),
            });
        }
        self.skipped
            .retain(|p, _| !p.starts_with(path) || (!itself && p == path));
    }

    /// Applies a walk of the whole root. An empty index (first scan, root just appeared) is filled
    /// in one go without an event per file: the `Rescanned` event that follows says "read it all
    /// again". Otherwise it is a diff, with events, like any other walk.
    pub fn apply_full_walk(&mut self, root: &Path, walked: Walked, events: &mut Vec<IndexEvent>) {
        if !self.files.is_empty() {
            return self.apply_walk(root, walked, events);
        }
        let call_ops = self.config.kind == SourceKind::CallOperations;
        // The walk is sorted by path, so the map is built in one pass.
        self.files = walked
            .files
            .into_iter()
            .map(|mut file| {
                let calls = call_ops.then(|| {
                    let mut tracker = CallTracker::default();
                    let _ = tracker.update(&file.path);
                    file.calls = tracker.calls();
                    tracker
                });
                (file.path.clone(), Entry { file, calls })
            })
            .collect();
        self.skipped = walked
            .skipped
            .into_iter()
            .map(|s| (s.original_path, s.reason))
            .collect();
    }

    /// Applies a walk of `dir`: what it found is current, anything else under `dir` is gone.
    pub fn apply_walk(&mut self, dir: &Path, walked: Walked, events: &mut Vec<IndexEvent>) {
        let found: std::collections::HashSet<PathBuf> =
            walked.files.iter().map(|f| f.path.clone()).collect();
        let stale: Vec<PathBuf> = self
            .files
            .range(dir.to_path_buf()..)
            .map(|(p, _)| p.clone())
            .take_while(|p| p.starts_with(dir))
            .filter(|p| !found.contains(p))
            .collect();
        for p in stale {
            self.remove_under(&p, events);
        }
        self.skipped.retain(|p, _| !p.starts_with(dir));
        for file in walked.files {
            self.upsert(file, events);
        }
        for skipped in walked.skipped {
            self.skipped.insert(skipped.original_path, skipped.reason);
        }
    }

    /// Forgets every file (the root went away).
    pub fn clear(&mut self, events: &mut Vec<IndexEvent>) {
        if let Some(root) = self.resolved.as_ref().map(|r| r.root.clone()) {
            self.remove_under(&root, events);
        }
        self.files.clear();
        self.skipped.clear();
    }
}
