//! Log sources: expand a source's root, find its support files, and say why others were left out.
//!
//! # Brief overview
//!
//! [`expand_root`] turns `{local_data}/Packages` into a real folder. [`scan`] walks that folder without
//! following links, keeps the files that match the include globs and none of the exclude globs, and
//! sets aside files older than the age limit in [`SourceScan::skipped`]. The live watcher (issue 3)
//! will keep the same [`SourceFile`] records up to date instead of rescanning.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::config::{Config, SourceConfig, SourceKind};

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
}

/// A file that was seen but will not be collected, and why.
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
    #[error(
        "source `{source_id}`: unknown placeholder `{{{placeholder}}}` in root `{root}`; use {{home}}, {{config}}, {{data}}, {{local_data}}, {{temp}} or {{env:NAME}}"
    )]
    UnknownPlaceholder {
        source_id: String,
        root: String,
        placeholder: String,
    },
    #[error("source `{source_id}`: root `{root}` uses {{env:{name}}} but {name} is not set")]
    MissingEnv {
        source_id: String,
        root: String,
        name: String,
    },
    #[error("source `{source_id}`: folder {} does not exist; check `root` in the configuration or start the calling app once", root.display())]
    RootMissing { source_id: String, root: PathBuf },
    #[error("source `{source_id}`: {} is not a folder; `root` must name a folder", root.display())]
    RootNotFolder { source_id: String, root: PathBuf },
    #[error("source `{source_id}`: cannot read folder {}: {error}", root.display())]
    RootUnreadable {
        source_id: String,
        root: PathBuf,
        error: std::io::Error,
    },
}

/// Replaces the placeholders of a configured root with this machine's folders.
pub fn expand_root(source: &SourceConfig) -> Result<PathBuf, SourceError> {
    let mut out = String::new();
    let mut rest = source.root.as_str();
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let name = &rest[open + 1..open + close];
        out.push_str(&placeholder(source, name)?);
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    Ok(PathBuf::from(out))
}

fn placeholder(source: &SourceConfig, name: &str) -> Result<String, SourceError> {
    let unknown = || SourceError::UnknownPlaceholder {
        source_id: source.id.clone(),
        root: source.root.clone(),
        placeholder: name.to_owned(),
    };
    if let Some(var) = name.strip_prefix("env:") {
        return std::env::var(var).map_err(|_| SourceError::MissingEnv {
            source_id: source.id.clone(),
            root: source.root.clone(),
            name: var.to_owned(),
        });
    }
    let dir = match name {
        "home" => dirs::home_dir(),
        "config" => dirs::config_dir(),
        "data" => dirs::data_dir(),
        "local_data" => dirs::data_local_dir(),
        "temp" => Some(std::env::temp_dir()),
        _ => return Err(unknown()),
    };
    dir.map(|d| d.to_string_lossy().into_owned())
        .ok_or_else(unknown)
}

/// Scans every configured source; the first source that cannot be scanned stops it.
pub fn scan_all(config: &Config, now: SystemTime) -> Result<Vec<SourceScan>, SourceError> {
    config
        .sources
        .iter()
        .map(|source| {
            let days = source
                .max_age_days
                .unwrap_or(config.collection.max_age_days);
            scan(source, Duration::from_secs(u64::from(days) * 86_400), now)
        })
        .collect()
}

/// Finds the files of one source that are younger than `max_age`.
pub fn scan(
    source: &SourceConfig,
    max_age: Duration,
    now: SystemTime,
) -> Result<SourceScan, SourceError> {
    let root = expand_root(source)?;
    let source_id = source.id.clone();
    match std::fs::metadata(&root) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(SourceError::RootNotFolder { source_id, root }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(SourceError::RootMissing { source_id, root });
        }
        Err(error) => {
            return Err(SourceError::RootUnreadable {
                source_id,
                root,
                error,
            });
        }
    }
    let include = globs(&source.include);
    let exclude = globs(&source.exclude);
    let oldest = now.checked_sub(max_age).unwrap_or(SystemTime::UNIX_EPOCH);

    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for entry in walkdir::WalkDir::new(&root)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                let path = err
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| root.clone());
                if path == root {
                    return Err(SourceError::RootUnreadable {
                        source_id,
                        root,
                        error: err
                            .into_io_error()
                            .unwrap_or_else(|| std::io::Error::other("walk failed")),
                    });
                }
                skipped.push(Skipped {
                    original_path: path,
                    reason: format!("unreadable: {}", io_reason(&err)),
                });
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(&root) else {
            continue;
        };
        let relative = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        if !include.is_match(&relative) || exclude.is_match(&relative) {
            continue;
        }
        let meta = match entry.metadata() {
            Ok(meta) => meta,
            Err(err) => {
                skipped.push(Skipped {
                    original_path: entry.path().to_path_buf(),
                    reason: format!("unreadable: {}", io_reason(&err)),
                });
                continue;
            }
        };
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        if modified < oldest {
            skipped.push(Skipped {
                original_path: entry.path().to_path_buf(),
                reason: "too old".to_owned(),
            });
            continue;
        }
        files.push(SourceFile {
            source_id: source.id.clone(),
            encrypted: is_encrypted(source.kind, &relative),
            path: entry.path().to_path_buf(),
            relative,
            size: meta.len(),
            modified,
            kind: source.kind,
        });
    }
    Ok(SourceScan {
        id: source.id.clone(),
        name: source.name.clone(),
        kind: source.kind,
        root,
        files,
        skipped,
    })
}

fn io_reason(err: &walkdir::Error) -> String {
    match err.io_error() {
        Some(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
            "permission denied".to_owned()
        }
        Some(io) => io.to_string(),
        None => err.to_string(),
    }
}

/// Vendor-encrypted files: the whole source says so, or the file is an SDK binary log.
fn is_encrypted(kind: SourceKind, relative: &str) -> bool {
    let ext = relative
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase());
    kind == SourceKind::Encrypted || matches!(ext.as_deref(), Some("blog" | "etl"))
}

fn globs(patterns: &[String]) -> GlobSet {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        // Patterns were checked when the config was loaded.
        if let Ok(glob) = Glob::new(pattern) {
            builder.add(glob);
        }
    }
    builder.build().unwrap_or_else(|_| GlobSet::empty())
}

/// Shows a path with the home folder as `~`, as manifests and the consent screen do.
pub fn display_path(path: &Path) -> String {
    if let Some(home) = dirs::home_dir()
        && let Ok(rest) = path.strip_prefix(&home)
    {
        return Path::new("~").join(rest).to_string_lossy().into_owned();
    }
    path.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(root: &str) -> SourceConfig {
        SourceConfig {
            id: "acs".into(),
            name: "ACS".into(),
            root: root.into(),
            include: vec!["**/*".into()],
            exclude: vec![],
            kind: SourceKind::Text,
            max_age_days: None,
        }
    }

    #[test]
    fn placeholders_expand() {
        let temp = std::env::temp_dir();
        assert_eq!(expand_root(&source("{temp}/x")).unwrap(), temp.join("x"));
        let err = expand_root(&source("{nope}/x")).unwrap_err();
        assert!(
            err.to_string().contains("unknown placeholder `{nope}`"),
            "{err}"
        );
        let err = expand_root(&source("{env:CALLSUPPORT_SURELY_UNSET_VAR}/x")).unwrap_err();
        assert!(
            err.to_string()
                .contains("CALLSUPPORT_SURELY_UNSET_VAR is not set"),
            "{err}"
        );
    }

    #[test]
    fn encrypted_by_kind_or_extension() {
        assert!(is_encrypted(SourceKind::Encrypted, "a.txt"));
        assert!(is_encrypted(SourceKind::Text, "x/acs_1.BLOG"));
        assert!(!is_encrypted(SourceKind::Text, "x/app.log"));
    }
}
