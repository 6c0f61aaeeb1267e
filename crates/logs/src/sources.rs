//! Log sources: resolve a source's root and globs, find its support files, say why others are left out.
//!
//! # Brief overview
//!
//! [`resolve`] turns a configured source into a [`ResolvedSource`]: its root with placeholders such as
//! `{local_data}` expanded, and its include and exclude globs compiled. [`walk`] lists the matching
//! files under a folder of it without following links (unless the source says so), noting unreadable
//! folders and link loops in `skipped` instead of failing. [`scan`] is the one-shot form the CLI
//! uses; the live [`crate::index`] keeps the same [`SourceFile`] records up to date from file-system
//! events. Age and size limits apply when a bundle is planned, not while indexing.

use callsupport_error::{Coded, ErrorCode};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use callsupport_bundle::InputFile;

use callsupport_config::{Config, Globs, SourceConfig, SourceConfigError, SourceKind};

/// One support file found under a source's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub source_id: String,
    /// Absolute path on this machine.
    pub path: PathBuf,
    /// Path below the source root, `/`-separated; names the file inside the bundle.
    pub relative: String,
    pub size: u64,
    pub modified: SystemTime,
    pub kind: SourceKind,
    /// Only the SDK vendor can read it; it is stored as it is and never redacted.
    pub encrypted: bool,
    /// Calls seen in a call-operations file (empty for other kinds).
    pub calls: Vec<crate::index::CallSeen>,
}

impl SourceFile {
    /// The file as the bundle writer takes it.
    pub fn input(&self) -> InputFile {
        InputFile {
            source_id: self.source_id.clone(),
            path: self.path.clone(),
            relative: self.relative.clone(),
            size: self.size,
            modified: self.modified,
            kind: self.kind,
            encrypted: self.encrypted,
        }
    }
}

/// A file or folder that was seen but will not be collected, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub original_path: PathBuf,
    pub reason: String,
}

/// What one source holds right now.
#[derive(Debug, Clone)]
pub struct SourceScan {
    pub id: String,
    pub name: String,
    pub kind: SourceKind,
    pub root: PathBuf,
    pub files: Vec<SourceFile>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The root's placeholders or the globs are wrong.
    #[error(transparent)]
    Config(#[from] SourceConfigError),
    #[error("source `{source_id}`: folder {} does not exist; check `root` in the configuration or start the calling app once", root.display())]
    RootMissing { source_id: String, root: PathBuf },
    #[error("source `{source_id}`: key `root`: {} is a file, not a folder", root.display())]
    RootNotFolder { source_id: String, root: PathBuf },
    #[error("source `{source_id}`: cannot read folder {}: {error}", root.display())]
    RootUnreadable {
        source_id: String,
        root: PathBuf,
        error: std::io::Error,
    },
}

/// A source ready to scan: root expanded, globs compiled.
#[derive(Debug, Clone)]
pub struct ResolvedSource {
    pub config: SourceConfig,
    pub root: PathBuf,
    globs: Globs,
}

/// What a source's root is right now.
#[derive(Debug)]
pub enum RootState {
    Folder,
    Missing,
    NotFolder,
    Unreadable(std::io::Error),
}

/// Expands the root and compiles the globs of a configured source.
pub fn resolve(source: &SourceConfig) -> Result<ResolvedSource, SourceError> {
    Ok(ResolvedSource {
        config: source.clone(),
        root: source.expanded_root()?,
        globs: source.globs()?,
    })
}

impl ResolvedSource {
    pub fn id(&self) -> &str {
        &self.config.id
    }

    /// Whether the file at `relative` (`/`-separated, below the root) belongs to this source.
    pub fn matches(&self, relative: &str) -> bool {
        self.globs.matches(relative)
    }

    /// `path` below the root, `/`-separated; `None` when it is not below the root.
    pub fn relative(&self, path: &Path) -> Option<String> {
        let rest = path.strip_prefix(&self.root).ok()?.to_string_lossy();
        let rest = if cfg!(windows) {
            rest.replace('\\', "/")
        } else {
            rest.into_owned()
        };
        (!rest.is_empty()).then_some(rest)
    }

    pub fn root_state(&self) -> RootState {
        match std::fs::metadata(&self.root) {
            Ok(meta) if meta.is_dir() => RootState::Folder,
            Ok(_) => RootState::NotFolder,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => RootState::Missing,
            Err(err) => RootState::Unreadable(err),
        }
    }

    /// The record of the file at `path`, if it is a regular file this source includes.
    pub fn file(&self, path: &Path, meta: &std::fs::Metadata) -> Option<SourceFile> {
        let relative = self.relative(path)?;
        (meta.is_file() && self.matches(&relative)).then(|| self.record(path, relative, meta))
    }

    /// The record of a file already known to match, at `relative` below the root.
    fn record(&self, path: &Path, relative: String, meta: &std::fs::Metadata) -> SourceFile {
        SourceFile {
            source_id: self.config.id.clone(),
            encrypted: is_encrypted(self.config.kind, &relative),
            path: path.to_path_buf(),
            relative,
            size: meta.len(),
            modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            kind: self.config.kind,
            calls: Vec::new(),
        }
    }
}

/// What a walk found: matching files, folders passed through, and what could not be read.
#[derive(Debug, Default)]
pub struct Walked {
    pub files: Vec<SourceFile>,
    pub dirs: Vec<PathBuf>,
    pub skipped: Vec<Skipped>,
}

/// Lists the source's files under `dir` (its root or a folder below it). Links are followed only
/// when the source says so; a link loop or an unreadable folder is noted and the rest still listed.
/// Only files whose path matches the globs are stat'ed.
pub fn walk(source: &ResolvedSource, dir: &Path) -> Walked {
    let mut walked = if source.config.follow_links {
        walk_following_links(source, dir)
    } else {
        walk_parallel(source, dir)
    };
    walked.files.sort_by(|a, b| a.path.cmp(&b.path));
    walked.dirs.sort();
    walked
}

/// With links followed, walkdir's loop detection keeps a link back up the tree from looping.
fn walk_following_links(source: &ResolvedSource, dir: &Path) -> Walked {
    let mut walked = Walked::default();
    for entry in walkdir::WalkDir::new(dir).follow_links(true) {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                let path = err
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| dir.to_path_buf());
                let reason = if err.loop_ancestor().is_some() {
                    "link loop: a link points back to a folder above it".to_owned()
                } else {
                    match err.io_error() {
                        Some(io) => unreadable(io),
                        None => format!("unreadable: {err}"),
                    }
                };
                walked.skipped.push(Skipped {
                    original_path: path,
                    reason,
                });
                continue;
            }
        };
        if entry.file_type().is_dir() {
            walked.dirs.push(entry.into_path());
        } else {
            collect_file(
                source,
                entry.path(),
                || std::fs::metadata(entry.path()),
                &mut walked,
            );
        }
    }
    walked
}

/// Without links nothing can loop, so folders are read by a few threads at once; entry types come
/// from the directory listing, and only matching files are stat'ed.
fn walk_parallel(source: &ResolvedSource, dir: &Path) -> Walked {
    use std::sync::{Condvar, Mutex};
    struct Queue {
        dirs: Vec<PathBuf>,
        busy: usize,
    }
    let queue = Mutex::new(Queue {
        dirs: vec![dir.to_path_buf()],
        busy: 0,
    });
    let wake = Condvar::new();
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4);
    let parts: Vec<Walked> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut walked = Walked::default();
                    loop {
                        let next = {
                            let mut q = queue.lock().expect("walk queue");
                            loop {
                                if let Some(next) = q.dirs.pop() {
                                    q.busy += 1;
                                    break Some(next);
                                }
                                if q.busy == 0 {
                                    break None;
                                }
                                q = wake.wait(q).expect("walk queue");
                            }
                        };
                        let Some(next) = next else {
                            wake.notify_all();
                            return walked;
                        };
                        let found = read_folder(source, &next, &mut walked);
                        walked.dirs.push(next);
                        let mut q = queue.lock().expect("walk queue");
                        q.dirs.extend(found);
                        q.busy -= 1;
                        wake.notify_all();
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("walk thread"))
            .collect()
    });
    let mut walked = Walked::default();
    for part in parts {
        walked.files.extend(part.files);
        walked.dirs.extend(part.dirs);
        walked.skipped.extend(part.skipped);
    }
    walked
}

/// Lists one folder: files go into `walked`, sub-folders are returned. Links are skipped.
fn read_folder(source: &ResolvedSource, dir: &Path, walked: &mut Walked) -> Vec<PathBuf> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            walked.skipped.push(Skipped {
                original_path: dir.to_path_buf(),
                reason: unreadable(&err),
            });
            return Vec::new();
        }
    };
    let mut dirs = Vec::new();
    for entry in entries {
        let Ok(entry) = entry else { continue };
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => dirs.push(entry.path()),
            Ok(kind) if kind.is_file() => {
                let path = entry.path();
                // Stat through the open folder (fstatat) rather than by path.
                collect_file(source, &path, || entry.metadata(), walked)
            }
            _ => {}
        }
    }
    dirs
}

/// Adds the file at `path` if its path matches; only then is it stat'ed.
fn collect_file(
    source: &ResolvedSource,
    path: &Path,
    stat: impl FnOnce() -> std::io::Result<std::fs::Metadata>,
    walked: &mut Walked,
) {
    let Some(relative) = source
        .relative(path)
        .filter(|relative| source.matches(relative))
    else {
        return;
    };
    match stat() {
        Ok(meta) if meta.is_file() => walked.files.push(source.record(path, relative, &meta)),
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => walked.skipped.push(Skipped {
            original_path: path.to_path_buf(),
            reason: unreadable(&err),
        }),
    }
}

fn unreadable(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::PermissionDenied => "unreadable: permission denied".to_owned(),
        _ => format!("unreadable: {err}"),
    }
}

/// Scans every configured source once; the first source that cannot be scanned stops it.
pub fn scan_all(config: &Config, now: SystemTime) -> Result<Vec<SourceScan>, SourceError> {
    config
        .sources
        .iter()
        .map(|source| scan(source, config.max_age(source), now))
        .collect()
}

/// Finds the files of one source, once, setting aside those older than `max_age`; a
/// call-operations file is read for the calls it mentions.
pub fn scan(
    source: &SourceConfig,
    max_age: Duration,
    now: SystemTime,
) -> Result<SourceScan, SourceError> {
    scan_with(source, max_age, now, true)
}

/// [`scan`]; `calls` false leaves call-operations files unread (their `calls` empty), for a
/// report that names no call.
pub fn scan_with(
    source: &SourceConfig,
    max_age: Duration,
    now: SystemTime,
    calls: bool,
) -> Result<SourceScan, SourceError> {
    let resolved = resolve(source)?;
    let (source_id, root) = (source.id.clone(), resolved.root.clone());
    match resolved.root_state() {
        RootState::Folder => {}
        RootState::Missing => return Err(SourceError::RootMissing { source_id, root }),
        RootState::NotFolder => return Err(SourceError::RootNotFolder { source_id, root }),
        RootState::Unreadable(error) => {
            return Err(SourceError::RootUnreadable {
                source_id,
                root,
                error,
            });
        }
    }
    let mut walked = walk(&resolved, &root);
    if calls && source.kind == SourceKind::CallOperations {
        // The calls each record file mentions, so a plan can keep the files about a reported call.
        for file in &mut walked.files {
            let mut tracker = crate::index::CallTracker::default();
            if tracker.update(&file.path).is_ok() {
                file.calls = tracker.calls();
            }
        }
    }
    let (files, mut skipped) = split_by_age(walked.files, max_age, now);
    skipped.extend(walked.skipped);
    let mut scan = SourceScan {
        id: source.id.clone(),
        name: source.name.clone(),
        kind: source.kind,
        root,
        files,
        skipped,
    };
    apply_size_limit(&mut scan, source.max_mb);
    Ok(scan)
}

/// Keeps the newest files within the source's `max_mb`, when it has one; the rest are skipped.
pub fn apply_size_limit(scan: &mut SourceScan, max_mb: Option<u64>) {
    let Some(max_mb) = max_mb else { return };
    let max_bytes = max_mb.saturating_mul(1 << 20);
    scan.files.sort_by_key(|f| std::cmp::Reverse(f.modified));
    let mut used = 0u64;
    let (kept, over): (Vec<_>, Vec<_>) =
        std::mem::take(&mut scan.files).into_iter().partition(|f| {
            let fits = used.saturating_add(f.size) <= max_bytes;
            if fits {
                used += f.size;
            }
            fits
        });
    scan.files = kept;
    scan.files.sort_by(|a, b| a.relative.cmp(&b.relative));
    let reason = format!("over this source's size limit of {max_mb} MiB");
    scan.skipped.extend(over.into_iter().map(|f| Skipped {
        original_path: f.path,
        reason: reason.clone(),
    }));
}

/// Keeps the files modified within `max_age` of `now`; the others are skipped as too old.
pub fn split_by_age(
    files: Vec<SourceFile>,
    max_age: Duration,
    now: SystemTime,
) -> (Vec<SourceFile>, Vec<Skipped>) {
    let oldest = now.checked_sub(max_age).unwrap_or(SystemTime::UNIX_EPOCH);
    let (kept, old): (Vec<_>, Vec<_>) = files.into_iter().partition(|f| f.modified >= oldest);
    let skipped = old
        .into_iter()
        .map(|f| Skipped {
            original_path: f.path,
            reason: "too old".to_owned(),
        })
        .collect();
    (kept, skipped)
}

/// Vendor-encrypted files: the whole source says so, or the file is an SDK binary log.
fn is_encrypted(kind: SourceKind, relative: &str) -> bool {
    let ext = relative.rsplit_once('.').map_or("", |(_, e)| e);
    kind == SourceKind::Encrypted
        || ext.eq_ignore_ascii_case("blog")
        || ext.eq_ignore_ascii_case("etl")
}

impl Coded for SourceError {
    fn code(&self) -> ErrorCode {
        match self {
            SourceError::Config(err) => err.code(),
            _ => ErrorCode::SourceUnavailable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(root: &str) -> SourceConfig {
        SourceConfig::new("acs", "ACS", root, SourceKind::Text)
    }

    #[test]
    fn encrypted_by_kind_or_extension() {
        assert!(is_encrypted(SourceKind::Encrypted, "a.txt"));
        assert!(is_encrypted(SourceKind::Text, "x/acs_1.BLOG"));
        assert!(!is_encrypted(SourceKind::Text, "x/app.log"));
    }

    #[test]
    fn globs_match_relative_paths_and_bad_ones_name_their_key() {
        let mut config = source("/logs");
        config.include = vec!["**/acs*.blog".into(), "*.etl".into()];
        config.exclude = vec!["old/**".into()];
        let resolved = resolve(&config).unwrap();
        assert!(resolved.matches("a/b/acs_1.blog"));
        assert!(resolved.matches("acs_1.blog"));
        assert!(resolved.matches("trace.etl"));
        assert!(!resolved.matches("old/acs_1.blog"));
        assert!(!resolved.matches("a/media.blog"));
        assert_eq!(
            resolved.relative(Path::new("/logs/a/b.txt")).as_deref(),
            Some("a/b.txt")
        );
        assert_eq!(resolved.relative(Path::new("/other/b.txt")), None);

        config.exclude = vec!["[".into()];
        let err = resolve(&config).unwrap_err();
        assert!(
            err.to_string().contains("source `acs`: key `exclude[0]`"),
            "{err}"
        );
    }

    #[test]
    fn one_shot_scans_read_the_call_ids_of_call_operations_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ops.jsonl"),
            "{\"CallId\":\"c-1\"}\n{\"CallId\":\"c-2\"}\n",
        )
        .unwrap();
        let mut config = source(&dir.path().display().to_string());
        config.kind = SourceKind::CallOperations;
        let found = scan(&config, Duration::from_secs(86_400), SystemTime::now()).unwrap();
        let ids: Vec<_> = found.files[0].calls.iter().map(|c| &c.call_id).collect();
        assert_eq!(ids, ["c-1", "c-2"]);
        config.kind = SourceKind::Text;
        let found = scan(&config, Duration::from_secs(86_400), SystemTime::now()).unwrap();
        assert!(
            found.files[0].calls.is_empty(),
            "only call-operations files are read"
        );
    }
}
