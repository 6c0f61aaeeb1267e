//! Reads a bundle as hostile input and checks it against its manifest.
//!
//! # Brief overview
//!
//! [`Bundle::open`] reads only the central directory and `manifest.json`, refusing entries with
//! absolute paths, `..`, backslashes, links or duplicate names, and manifests that are not
//! `callsupport/bundle@1`; the manifest is read straight into its type, so padding costs nothing.
//! [`Bundle::verify`] then streams every listed file through SHA-256 (bounded by the
//! size the manifest declares) and reports each file that is missing, damaged or unlisted;
//! [`Bundle::first_problem`] stops at the first. A failure is always an error value, never a panic.

use callsupport_error::{Coded, ErrorCode};
use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use zip::ZipArchive;

use crate::hash::sha256_reader;
use crate::manifest::{FILES_PREFIX, FORMAT, MANIFEST_NAME, Manifest};

/// The largest manifest accepted: a real one is a few hundred bytes per file listed or skipped, so
/// this holds about a hundred thousand of them.
pub const MAX_MANIFEST_BYTES: u64 = 32 << 20;
/// Most entries a bundle may have.
const MAX_ENTRIES: usize = 200_000;
/// Largest decompressed-to-compressed ratio accepted for an entry over 1 MiB.
const MAX_RATIO: u64 = 1_100;
/// Most bytes a bundle may unpack to: far above any real report, far below a full disk.
const MAX_TOTAL_BYTES: u64 = 64 << 30;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot open {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{} is not a zip file or is damaged: {detail}", path.display())]
    NotAZip { path: PathBuf, detail: String },
    #[error(
        "{} is sealed for the organisation's keys (age); open it with an identity whose key it was sealed for (viewer.identity_file, or `callsupport unseal`)",
        path.display()
    )]
    Sealed { path: PathBuf },
    #[error("{} has no manifest.json; it was not made by Call Support", path.display())]
    NoManifest { path: PathBuf },
    #[error("{}: manifest.json is not valid: {detail}", path.display())]
    BadManifest { path: PathBuf, detail: String },
    #[error("{}: format `{found}` is not supported; this version reads {FORMAT}", path.display())]
    UnsupportedFormat { path: PathBuf, found: String },
    #[error("{}: refused entry `{name}`: {why}", path.display())]
    UnsafeEntry {
        path: PathBuf,
        name: String,
        why: &'static str,
    },
    #[error("{}: several entries have the same name; the bundle was altered after it was made", path.display())]
    DuplicateNames { path: PathBuf },
    #[error("{}: would unpack to {bytes} bytes, more than a bundle may hold", path.display())]
    TooLarge { path: PathBuf, bytes: u64 },
    #[error("{}: has {count} entries, more than the {MAX_ENTRIES} a bundle may have", path.display())]
    TooManyEntries { path: PathBuf, count: usize },
}

/// What is wrong with one file of a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileProblem {
    /// Listed in the manifest but not in the zip.
    Missing,
    /// In the zip but not in the manifest.
    Unlisted,
    /// Content does not match the manifest.
    Damaged {
        expected_sha256: String,
        actual_sha256: String,
        expected_size: u64,
        actual_size: u64,
    },
    /// The entry cannot be decompressed.
    Unreadable(String),
}

impl std::fmt::Display for FileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileProblem::Missing => write!(f, "listed in the manifest but missing"),
            FileProblem::Unlisted => write!(f, "not listed in the manifest"),
            FileProblem::Damaged {
                expected_size,
                actual_size,
                ..
            } if expected_size != actual_size => {
                write!(
                    f,
                    "damaged: {actual_size} bytes, manifest says {expected_size}"
                )
            }
            FileProblem::Damaged { .. } => {
                write!(f, "damaged: SHA-256 does not match the manifest")
            }
            FileProblem::Unreadable(why) => write!(f, "cannot be read: {why}"),
        }
    }
}

/// The result of checking every file of a bundle.
#[derive(Debug, Clone)]
pub struct Verification {
    pub files_checked: usize,
    pub bytes_checked: u64,
    /// Entry name → what is wrong with it; empty when the bundle is intact.
    pub problems: BTreeMap<String, FileProblem>,
}

impl Verification {
    pub fn intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// An opened bundle: its manifest and its checked directory. Usually a file; any seekable
/// reader for bundles held in memory (and the fuzz target).
pub struct Bundle<R: Read + Seek = BufReader<File>> {
    path: PathBuf,
    archive: ZipArchive<R>,
    pub manifest: Manifest,
}

impl Bundle {
    /// Opens a bundle, reading only the central directory and the manifest.
    pub fn open(path: &Path) -> Result<Bundle, ReadError> {
        let file = File::open(path).map_err(|source| ReadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Bundle::from_reader(BufReader::new(file), path)
    }
}

impl<R: Read + Seek> Bundle<R> {
    /// Opens a bundle from `reader`; `path` only names it in errors.
    pub fn from_reader(reader: R, path: &Path) -> Result<Bundle<R>, ReadError> {
        let mut reader = reader;
        let mut head = [0u8; SEALED_MAGIC.len()];
        let sealed = reader.read_exact(&mut head).is_ok() && head == *SEALED_MAGIC;
        reader.rewind().map_err(|source| ReadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if sealed {
            return Err(ReadError::Sealed {
                path: path.to_path_buf(),
            });
        }
        let mut archive = ZipArchive::new(reader).map_err(|err| ReadError::NotAZip {
            path: path.to_path_buf(),
            detail: err.to_string(),
        })?;
        check_entries(path, &mut archive)?;
        let manifest = read_manifest(path, &mut archive)?;
        Ok(Bundle {
            path: path.to_path_buf(),
            archive,
            manifest,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The decompressed content of one entry, or what is wrong with it.
    pub fn entry(&mut self, name: &str) -> Result<impl Read + '_, FileProblem> {
        self.archive.by_name(name).map_err(|err| match err {
            zip::result::ZipError::FileNotFound => FileProblem::Missing,
            other => FileProblem::Unreadable(other.to_string()),
        })
    }

    /// Hashes every file and compares it with the manifest.
    pub fn verify(&mut self) -> Verification {
        verify(self, false)
    }

    /// The first file that fails its check, if any: for a server that refuses a bundle on one
    /// reason and should not inflate the rest of a damaged one.
    pub fn first_problem(&mut self) -> Option<(String, FileProblem)> {
        verify(self, true).problems.into_iter().next()
    }

    /// The entries the manifest does not list (besides itself and folders), in the archive's
    /// order: a bundle as written has none.
    pub fn unlisted(&self) -> Vec<String> {
        let listed: HashSet<&str> = self
            .manifest
            .files
            .iter()
            .map(|f| f.path.as_str())
            .collect();
        self.archive
            .file_names()
            .filter_map(Result::ok)
            .filter(|name| {
                name != MANIFEST_NAME && !name.ends_with('/') && !listed.contains(name.as_ref())
            })
            .map(|name| name.into_owned())
            .collect()
    }

    /// The bytes the listed files unpack to, as the manifest declares them: what checking every
    /// file inflates at most.
    pub fn unpacked_bytes(&self) -> u64 {
        self.manifest
            .files
            .iter()
            .fold(0u64, |total, file| total.saturating_add(file.size))
    }
}

fn check_entries<R: Read + Seek>(
    path: &Path,
    archive: &mut ZipArchive<R>,
) -> Result<(), ReadError> {
    if archive.len() > MAX_ENTRIES {
        return Err(ReadError::TooManyEntries {
            path: path.to_path_buf(),
            count: archive.len(),
        });
    }
    // The zip reader keeps one entry per name, so duplicates must be asked for, not counted.
    if archive.has_duplicate_names() {
        return Err(ReadError::DuplicateNames {
            path: path.to_path_buf(),
        });
    }
    let mut total = 0u64;
    for index in 0..archive.len() {
        let entry = archive
            .by_index_raw(index)
            .map_err(|err| ReadError::NotAZip {
                path: path.to_path_buf(),
                detail: err.to_string(),
            })?;
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        let refuse = |why| ReadError::UnsafeEntry {
            path: path.to_path_buf(),
            name: name.clone(),
            why,
        };
        if let Some(why) = unsafe_name(&name) {
            return Err(refuse(why));
        }
        if entry.is_symlink() {
            return Err(refuse("links are not allowed"));
        }
        // Deflate cannot shrink data more than about 1032:1; a bigger claim is a bomb or a lie.
        if entry.size() > MAX_RATIO * entry.compressed_size().max(1) && entry.size() > 1 << 20 {
            return Err(refuse(
                "its compression ratio is impossible for a real file (a zip bomb)",
            ));
        }
        total = total.saturating_add(entry.size());
    }
    if total > MAX_TOTAL_BYTES {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            bytes: total,
        });
    }
    Ok(())
}

/// Why an entry name could escape the folder it is extracted to, if it could.
pub fn unsafe_name(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("empty name");
    }
    if name.starts_with('/')
        || name.contains('\\')
        || name.contains('\0')
        || name.as_bytes().get(1) == Some(&b':')
    {
        return Some("absolute or non-portable path");
    }
    if name.split('/').any(|part| part == "..") {
        return Some("path goes up with `..`");
    }
    None
}

fn read_manifest<R: Read + Seek>(
    path: &Path,
    archive: &mut ZipArchive<R>,
) -> Result<Manifest, ReadError> {
    let bad = |detail: String| ReadError::BadManifest {
        path: path.to_path_buf(),
        detail,
    };
    // Straight into its type, streamed: what the type does not hold is skipped without being kept,
    // so the memory a manifest costs follows what it really lists, not how it is padded.
    let parsed = parse_manifest::<_, Manifest>(path, archive)?;
    let manifest = match parsed {
        Ok(manifest) => manifest,
        Err(shape) => {
            // Check the format before the shape, so a future version gets the right message.
            return Err(match parse_manifest::<_, FormatOnly>(path, archive)? {
                Ok(FormatOnly {
                    format: Some(found),
                }) if found != FORMAT => ReadError::UnsupportedFormat {
                    path: path.to_path_buf(),
                    found,
                },
                Ok(FormatOnly { format: None }) => bad("no `format` field".to_owned()),
                _ => shape,
            });
        }
    };
    if manifest.format != FORMAT {
        return Err(ReadError::UnsupportedFormat {
            path: path.to_path_buf(),
            found: manifest.format,
        });
    }
    let mut names = HashSet::new();
    for file in &manifest.files {
        if !file.path.starts_with(FILES_PREFIX) || unsafe_name(&file.path).is_some() {
            return Err(bad(format!(
                "file path `{}` is not under files/",
                file.path
            )));
        }
        if !names.insert(file.path.as_str()) {
            return Err(bad(format!("file `{}` is listed twice", file.path)));
        }
    }
    Ok(manifest)
}

/// Only the `format` of a manifest that did not parse, to name a version this one cannot read.
#[derive(serde::Deserialize)]
struct FormatOnly {
    format: Option<String>,
}

/// Reads `manifest.json` as a `T`, streaming, at most [`MAX_MANIFEST_BYTES`]: the outer error when
/// there is no manifest or it is too large, the inner one (a [`ReadError::BadManifest`] naming the
/// JSON path) when it is not a `T`.
fn parse_manifest<R: Read + Seek, T: serde::de::DeserializeOwned>(
    path: &Path,
    archive: &mut ZipArchive<R>,
) -> Result<Result<T, ReadError>, ReadError> {
    let bad = |detail: String| ReadError::BadManifest {
        path: path.to_path_buf(),
        detail,
    };
    let entry = match archive.by_name(MANIFEST_NAME) {
        Ok(entry) => entry,
        Err(zip::result::ZipError::FileNotFound) => {
            return Err(ReadError::NoManifest {
                path: path.to_path_buf(),
            });
        }
        Err(err) => return Err(bad(err.to_string())),
    };
    let mut capped = Capped {
        inner: entry,
        left: MAX_MANIFEST_BYTES,
        over: false,
    };
    let parsed = {
        let mut json = serde_json::Deserializer::from_reader(BufReader::new(&mut capped));
        serde_path_to_error::deserialize::<_, T>(&mut json)
            .map_err(|err| match err.path().to_string().as_str() {
                "." => err.into_inner().to_string(),
                at => format!("at `{at}`: {}", err.into_inner()),
            })
            .and_then(|value| json.end().map(|()| value).map_err(|err| err.to_string()))
    };
    if capped.over {
        return Err(bad(format!("larger than {} MiB", MAX_MANIFEST_BYTES >> 20)));
    }
    Ok(parsed.map_err(bad))
}

/// A reader that fails once more than `left` bytes would come out of it, and says so in `over`.
struct Capped<R> {
    inner: R,
    left: u64,
    over: bool,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf
            .len()
            .min(usize::try_from(self.left + 1).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            self.over = true;
            return Err(io::Error::other("manifest too large"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Checks the files against the manifest: unlisted entries first (no inflating), then each listed
/// file's size and SHA-256; with `first_only`, stops at the first problem.
fn verify<R: Read + Seek>(bundle: &mut Bundle<R>, first_only: bool) -> Verification {
    let mut problems = BTreeMap::new();
    let mut files_checked = 0;
    let mut bytes_checked = 0;
    for name in bundle.unlisted() {
        problems.insert(name, FileProblem::Unlisted);
        if first_only {
            break;
        }
    }
    for file in &bundle.manifest.files {
        if first_only && !problems.is_empty() {
            break;
        }
        let entry = match bundle.archive.by_name(&file.path) {
            Ok(entry) => entry,
            Err(zip::result::ZipError::FileNotFound) => {
                problems.insert(file.path.clone(), FileProblem::Missing);
                continue;
            }
            Err(err) => {
                problems.insert(file.path.clone(), FileProblem::Unreadable(err.to_string()));
                continue;
            }
        };
        // Never inflate more than the manifest promises (plus one byte to notice a longer entry).
        match sha256_reader(entry.take(file.size + 1)) {
            Ok((sha256, size)) => {
                files_checked += 1;
                bytes_checked += size;
                if sha256 != file.sha256 || size != file.size {
                    problems.insert(
                        file.path.clone(),
                        FileProblem::Damaged {
                            expected_sha256: file.sha256.clone(),
                            actual_sha256: sha256,
                            expected_size: file.size,
                            actual_size: size,
                        },
                    );
                }
            }
            Err(err) => {
                problems.insert(file.path.clone(), FileProblem::Unreadable(err.to_string()));
            }
        }
    }
    Verification {
        files_checked,
        bytes_checked,
        problems,
    }
}

/// The first line of a sealed (age) bundle.
pub const SEALED_MAGIC: &[u8; 22] = b"age-encryption.org/v1\n";

impl Coded for ReadError {
    fn code(&self) -> ErrorCode {
        match self {
            ReadError::Io { .. } => ErrorCode::Io,
            ReadError::Sealed { .. } => ErrorCode::ConfigInvalid,
            _ => ErrorCode::Integrity,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::unsafe_name;

    #[test]
    fn escaping_names_are_refused() {
        for name in ["/etc/passwd", "files/../../x", "..", "C:/x", "a\\b", ""] {
            assert!(unsafe_name(name).is_some(), "{name}");
        }
        for name in ["files/acs/a.blog", "manifest.json", "files/x/..a/b"] {
            assert_eq!(unsafe_name(name), None, "{name}");
        }
    }
}
