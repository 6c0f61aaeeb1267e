//! Extracts a bundle into a folder, checking every file on the way out.
//!
//! Only files the manifest lists are written, each under the target folder (names were checked when
//! the bundle was opened), each bounded by its manifest size and compared with its SHA-256. Everything
//! goes into a temporary folder beside the target, which is renamed into place only when all files
//! passed: a damaged bundle leaves nothing behind. Entries the manifest does not list mean the
//! bundle is not as it was written: the extraction is refused, unless the caller asks to leave
//! them out ([`Unlisted::LeaveOut`]), and then they are named in what it returns.

use callsupport_error::{Coded, ErrorCode};
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::hash::HashingWriter;
use crate::manifest::MANIFEST_NAME;
use crate::reader::Bundle;

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("{} is not empty; extract into a new or empty folder", .0.display())]
    TargetNotEmpty(PathBuf),
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("`{name}` is damaged: {detail}; nothing was extracted")]
    Damaged { name: String, detail: String },
    #[error(
        "the bundle holds {} entr{} its manifest does not list ({}): it is not as it was written; nothing was extracted (to extract the listed files and leave these out, say so: `--leave-out-unlisted`)",
        .0.len(),
        if .0.len() == 1 { "y" } else { "ies" },
        shown_names(.0)
    )]
    Unlisted(Vec<String>),
}

/// The first few of `names`, quoted, and how many more there are.
fn shown_names(names: &[String]) -> String {
    let mut shown: Vec<String> = names.iter().take(3).map(|n| format!("`{n}`")).collect();
    if names.len() > 3 {
        shown.push(format!("and {} more", names.len() - 3));
    }
    shown.join(", ")
}

/// What to do with entries the manifest does not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlisted {
    /// Refuse the bundle ([`ExtractError::Unlisted`]).
    Refuse,
    /// Extract the listed files, leave the others out, and name them.
    LeaveOut,
}

/// What was extracted.
#[derive(Debug, Clone)]
pub struct Extracted {
    pub folder: PathBuf,
    pub files: usize,
    pub bytes: u64,
    /// Entries the manifest does not list, left out ([`Unlisted::LeaveOut`]).
    pub left_out: Vec<String>,
}

/// Extracts every listed file, and the manifest, into `to` (created; must be new or empty).
pub fn extract(
    bundle: &mut Bundle,
    to: &Path,
    unlisted: Unlisted,
) -> Result<Extracted, ExtractError> {
    let left_out = bundle.unlisted();
    if !left_out.is_empty() && unlisted == Unlisted::Refuse {
        return Err(ExtractError::Unlisted(left_out));
    }
    let write_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExtractError::Write { path, source }
    };
    if let Ok(mut entries) = std::fs::read_dir(to)
        && entries.next().is_some()
    {
        return Err(ExtractError::TargetNotEmpty(to.to_path_buf()));
    }
    let parent = to
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(write_error(parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".callsupport-extract-")
        .tempdir_in(parent)
        .map_err(write_error(parent))?;

    let mut bytes = 0;
    let files = bundle.manifest.files.clone();
    for file in &files {
        let target = staging.path().join(&file.path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(write_error(dir))?;
        }
        let out = File::create(&target).map_err(write_error(&target))?;
        let mut hashing = HashingWriter::new(BufWriter::new(out));
        let entry = bundle
            .entry(&file.path)
            .map_err(|problem| ExtractError::Damaged {
                name: file.path.clone(),
                detail: problem.to_string(),
            })?;
        // Never more than the manifest promises, plus one byte to notice a longer entry.
        io::copy(&mut entry.take(file.size + 1), &mut hashing).map_err(|err| match err.kind() {
            io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => ExtractError::Damaged {
                name: file.path.clone(),
                detail: err.to_string(),
            },
            _ => ExtractError::Write {
                path: target.clone(),
                source: err,
            },
        })?;
        let (sha256, size, mut writer) = hashing.finish();
        writer.flush().map_err(write_error(&target))?;
        if size != file.size || sha256 != file.sha256 {
            return Err(ExtractError::Damaged {
                name: file.path.clone(),
                detail: format!(
                    "{size} bytes with SHA-256 {sha256}, the manifest says {} bytes with {}",
                    file.size, file.sha256
                ),
            });
        }
        bytes += size;
    }
    let manifest = serde_json::to_vec_pretty(&bundle.manifest).expect("manifest serializes");
    let manifest_path = staging.path().join(MANIFEST_NAME);
    std::fs::write(&manifest_path, manifest).map_err(write_error(&manifest_path))?;

    // An empty target folder is replaced; a missing one is created by the rename.
    let _ = std::fs::remove_dir(to);
    let staged = staging.keep();
    std::fs::rename(&staged, to).map_err(|source| {
        let _ = std::fs::remove_dir_all(&staged);
        ExtractError::Write {
            path: to.to_path_buf(),
            source,
        }
    })?;
    Ok(Extracted {
        folder: to.to_path_buf(),
        files: files.len(),
        bytes,
        left_out,
    })
}

impl Coded for ExtractError {
    fn code(&self) -> ErrorCode {
        match self {
            ExtractError::TargetNotEmpty(_) => ErrorCode::ReportInvalid,
            ExtractError::Write { .. } => ErrorCode::Io,
            ExtractError::Damaged { .. } | ExtractError::Unlisted(_) => ErrorCode::Integrity,
        }
    }
}
