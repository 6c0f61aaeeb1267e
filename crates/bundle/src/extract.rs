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
        "`{name}` cannot be a file name here ({why}); nothing was extracted; read it with `callsupport inspect` or the viewer instead"
    )]
    NameNotHere { name: String, why: &'static str },
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
    if cfg!(windows)
        && let Some((name, why)) = files
            .iter()
            .find_map(|f| not_a_windows_name(&f.path).map(|why| (f.path.clone(), why)))
    {
        return Err(ExtractError::NameNotHere { name, why });
    }
    for file in &files {
        let target = staging.path().join(&file.path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(write_error(dir))?;
        }
        // Never over another file: where the file system does not tell `A.log` from `a.log`
        // (Windows, macOS, a USB stick), the second would replace the first after its check.
        let out = match File::options().write(true).create_new(true).open(&target) {
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                return Err(ExtractError::NameNotHere {
                    name: file.path.clone(),
                    why: "this file system takes it for another file of the bundle, as it does not tell upper from lower case",
                });
            }
            opened => opened.map_err(write_error(&target))?,
        };
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

/// Why Windows cannot hold `name` (a path of `/`-separated parts) as it is, if it cannot: a
/// reserved device name (`CON`, `nul.txt`, `COM1`), a character it refuses (`:` would even open a
/// hidden stream of another file), or a part ending in a dot or a space, which it drops.
pub fn not_a_windows_name(name: &str) -> Option<&'static str> {
    const RESERVED: [&str; 22] = [
        "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
        "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    ];
    for part in name.split('/') {
        if part.chars().any(|c| c < ' ' || "<>:\"|?*\\".contains(c)) {
            return Some("Windows does not allow < > : \" | ? * or control characters in names");
        }
        if part.ends_with('.') || part.ends_with(' ') {
            return Some("Windows drops a dot or a space at the end of a name");
        }
        let stem = part.split('.').next().unwrap_or(part).trim_end();
        if RESERVED.iter().any(|r| stem.eq_ignore_ascii_case(r)) {
            return Some("Windows keeps this name for a device");
        }
    }
    None
}

impl Coded for ExtractError {
    fn code(&self) -> ErrorCode {
        match self {
            ExtractError::TargetNotEmpty(_) => ErrorCode::ReportInvalid,
            ExtractError::Write { .. } => ErrorCode::Io,
            ExtractError::Damaged { .. }
            | ExtractError::Unlisted(_)
            | ExtractError::NameNotHere { .. } => ErrorCode::Integrity,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::not_a_windows_name;

    #[test]
    fn names_windows_cannot_hold_are_told_apart() {
        for name in [
            "files/app/CON",
            "files/app/nul.txt",
            "files/app/Com1.log",
            "files/lpt9/a.log",
            "files/app/a.log:hidden",
            "files/app/what?.log",
            "files/app/trailing.",
            "files/app dir /a.log",
            "files/app/tab\there",
        ] {
            assert!(not_a_windows_name(name).is_some(), "{name}");
        }
        for name in [
            "files/app/console.log",
            "files/app/CONFIG",
            "files/app/com10.log",
            "files/app/a.b.c.log",
            "files/acs/1234 5678.blog",
        ] {
            assert_eq!(not_a_windows_name(name), None, "{name}");
        }
    }
}
