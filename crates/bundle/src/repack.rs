//! A zip archive of logs packed again with its text members cleaned, for the bundle writer.
//!
//! # Brief overview
//!
//! [`repack_zip`] reads the archive's members in order into a new archive in an anonymous
//! temporary file: folders as they are, text members (by [`looks_like_text`] on their first
//! 64 KiB) through the filter and deflated at zip's default level, other members copied byte for
//! byte without unpacking. Each member unpacks to at most [`MAX_UNPACKED`]; one cut there marks
//! the archive cut. Any error is the caller's to turn into leaving the archive out: nothing
//! uncleaned goes in its place.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek};
use std::path::Path;

use zip::write::SimpleFileOptions;

use crate::readable::{MAX_MEMBERS, MAX_UNPACKED, head_of, looks_like_text};
use crate::writer::ContentFilter;

/// An archive packed again.
pub struct Repacked {
    /// The new archive, rewound, in a temporary file removed when it is dropped.
    pub file: File,
    /// Replacements made in all its members.
    pub by_kind: BTreeMap<String, u32>,
    /// A member was longer than [`MAX_UNPACKED`] and was cut there.
    pub truncated: bool,
}

/// Packs the archive at `path` again with its text members passed through `filter`, in a
/// temporary file in `scratch` (the bundle's own folder, so no other disk fills).
pub fn repack_zip(path: &Path, filter: &dyn ContentFilter, scratch: &Path) -> io::Result<Repacked> {
    let mut archive = zip::ZipArchive::new(BufReader::new(File::open(path)?)).map_err(zip_error)?;
    if archive.len() > MAX_MEMBERS {
        return Err(io::Error::other(format!("more than {MAX_MEMBERS} members")));
    }
    let mut out = zip::ZipWriter::new(BufWriter::new(tempfile::tempfile_in(scratch)?));
    let mut by_kind = BTreeMap::new();
    let mut truncated = false;
    for index in 0..archive.len() {
        let member = archive.by_index(index).map_err(zip_error)?;
        let name = member.name().map_err(zip_error)?.into_owned();
        let mut options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(6))
            .large_file(member.size() >= 1 << 31);
        if let Some(modified) = member.last_modified() {
            options = options.last_modified_time(modified);
        }
        if member.is_dir() {
            drop(member);
            out.add_directory(name, options).map_err(zip_error)?;
            continue;
        }
        let size = member.size();
        let mut text = member.take(MAX_UNPACKED);
        let head = head_of(&mut text)?;
        if looks_like_text(&head) {
            out.start_file(name, options).map_err(zip_error)?;
            let mut reader = BufReader::new(io::Cursor::new(head).chain(text));
            for (kind, count) in filter.filter(&mut reader, &mut out)? {
                *by_kind.entry(kind).or_insert(0) += count;
            }
            truncated |= size > MAX_UNPACKED;
        } else {
            drop(text);
            out.raw_copy_file(archive.by_index_raw(index).map_err(zip_error)?)
                .map_err(zip_error)?;
        }
    }
    let mut file = out
        .finish()
        .map_err(zip_error)?
        .into_inner()
        .map_err(|err| err.into_error())?;
    file.sync_data()?;
    file.rewind()?;
    Ok(Repacked {
        file,
        by_kind,
        truncated,
    })
}

fn zip_error(err: zip::result::ZipError) -> io::Error {
    match err {
        zip::result::ZipError::Io(err) => err,
        other => io::Error::new(io::ErrorKind::InvalidData, other),
    }
}
