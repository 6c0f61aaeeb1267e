//! Whether a file can be read here, and so cleaned: plain text, text inside gzip, text inside a
//! zip archive, or nothing a person can read.
//!
//! # Brief overview
//!
//! [`readable`] decides once, from what a file is and a look at its first 64 KiB (unpacked, for
//! gzip; every member's name and method, for a zip archive), and everything that must agree on
//! it asks the same function: the consent statement (which files go as they are), the preview
//! and the bundle writer (how each file is packed). Vendor-encrypted logs, pictures, binary
//! files, password-protected archives and compression this app does not read are
//! [`Readable::No`], with the reason shown to the user.
//!
//! [`text_of`] opens what can be read as a stream of its text, up to the size the snapshot saw
//! and at most [`MAX_UNPACKED`] unpacked (a gzip bomb stops there).

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use serde::{Deserialize, Serialize};

/// How much of a file (unpacked) is looked at to tell text from binary.
pub const PROBE: usize = 64 * 1024;
/// The most text one compressed file or archive member unpacks to here; past it the rest is
/// left out and the file is marked cut.
pub const MAX_UNPACKED: u64 = 4 << 30;
/// The most members an archive may have to be unpacked and cleaned (more are stored as they are).
pub const MAX_MEMBERS: usize = 10_000;

/// Extensions whose content is compressed in a format this app does not unpack, or a picture.
const OPAQUE_EXTENSIONS: &[&str] = &[
    "blog", "etl", "tgz", "7z", "xz", "zst", "bz2", "lz4", "rar", "png", "jpg", "jpeg", "webp",
    "gif", "mp4", "webm",
];
/// Extensions known to be text: read without a probe.
pub const TEXT_EXTENSIONS: &[&str] = &[
    "log", "txt", "json", "jsonl", "csv", "xml", "ini", "md", "out", "err",
];

/// What can be read in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readable {
    /// Plain text.
    Text,
    /// A gzip file whose content is text: unpacked, cleaned and packed again as gzip.
    Gzip,
    /// A zip archive whose members can all be unpacked: the text ones are cleaned and the
    /// archive is packed again.
    Zip,
    /// Nothing here can read it: it goes as it is.
    No(Unreadable),
}

/// Why a file cannot be read here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Unreadable {
    /// Encrypted by the calling software's vendor.
    Encrypted,
    /// A picture, a recording or other binary content.
    Binary,
    /// Compressed in a format this app does not unpack (xz, 7z, …), or a tar archive.
    Compressed,
    /// An archive protected by a password.
    Password,
    /// A compressed file or archive that is damaged from its start.
    Damaged,
}

impl Unreadable {
    /// Why, in words, for the consent screen.
    pub fn reason(self) -> &'static str {
        match self {
            Unreadable::Encrypted => {
                "encrypted by the calling software; only its vendor can read it"
            }
            Unreadable::Binary => "not text (a picture or other binary data)",
            Unreadable::Compressed => "compressed in a format this app cannot unpack",
            Unreadable::Password => "an archive protected by a password",
            Unreadable::Damaged => "compressed, but damaged, so it cannot be unpacked",
        }
    }
}

impl Readable {
    /// Whether its text can be cleaned.
    pub fn can_clean(self) -> bool {
        !matches!(self, Readable::No(_))
    }
}

/// What can be read in the file at `path`, named `relative` in its source; `encrypted` files are
/// never opened. Errors opening it count as readable text: the writer then lists the file as
/// skipped with the real error.
pub fn readable(path: &Path, relative: &str, encrypted: bool) -> Readable {
    if encrypted {
        return Readable::No(Unreadable::Encrypted);
    }
    let lower = relative.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map_or("", |(_, e)| e);
    if lower.ends_with(".tar.gz") || OPAQUE_EXTENSIONS.contains(&ext) {
        return Readable::No(match ext {
            "png" | "jpg" | "jpeg" | "webp" | "gif" | "mp4" | "webm" => Unreadable::Binary,
            "blog" | "etl" => Unreadable::Encrypted,
            _ => Unreadable::Compressed,
        });
    }
    match ext {
        "gz" => probe_gzip(path),
        "zip" => probe_zip(path),
        _ if TEXT_EXTENSIONS.contains(&ext) => Readable::Text,
        _ => probe_plain(path),
    }
}

/// Whether bytes look like text: no NUL, and hardly any other control character.
pub fn looks_like_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    let control = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
        .count();
    control * 100 <= head.len()
}

/// The text of a readable plain or gzip file, up to `size` bytes of the file on disk, unpacked
/// to at most [`MAX_UNPACKED`]. The counter, when given, counts the file's bytes read.
pub fn text_of(
    path: &Path,
    size: u64,
    readable: Readable,
    read_so_far: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
) -> io::Result<Box<dyn Read + Send>> {
    let file = Counting {
        inner: File::open(path)?.take(size),
        count: read_so_far,
    };
    Ok(match readable {
        Readable::Gzip => Box::new(MultiGzDecoder::new(BufReader::new(file)).take(MAX_UNPACKED)),
        _ => Box::new(file),
    })
}

/// A reader that counts the bytes it read.
struct Counting<R> {
    inner: R,
    count: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(count) = &self.count {
            count.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// The first [`PROBE`] bytes `reader` gives, or fewer at its end; an error after some bytes ends
/// the probe there (a gzip file still being written has no end yet).
pub fn head_of(reader: &mut dyn Read) -> io::Result<Vec<u8>> {
    let mut head = vec![0u8; PROBE];
    let mut filled = 0;
    while filled < PROBE {
        match reader.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if filled == 0 => return Err(err),
            Err(_) => break,
        }
    }
    head.truncate(filled);
    Ok(head)
}

fn probe_plain(path: &Path) -> Readable {
    let Ok(mut file) = File::open(path) else {
        return Readable::Text;
    };
    match head_of(&mut file) {
        Ok(head) if !looks_like_text(&head) => Readable::No(Unreadable::Binary),
        _ => Readable::Text,
    }
}

/// Whether deflating the file saves anything: false for what its extension says is compressed
/// or a picture, and for content whose first 64 KiB do not compress by 5% (already compressed,
/// or random).
pub fn worth_deflating(path: &Path, relative: &str) -> bool {
    let lower = relative.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map_or("", |(_, e)| e);
    if OPAQUE_EXTENSIONS.contains(&ext) || matches!(ext, "gz" | "zip") {
        return false;
    }
    let Ok(mut file) = File::open(path) else {
        return false;
    };
    head_of(&mut file).is_ok_and(|head| !incompressible(&head))
}

/// Deflating the head at the fastest level saves under 5%: already compressed or random.
fn incompressible(head: &[u8]) -> bool {
    if head.len() < 4096 {
        return false;
    }
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    let compressed = io::Write::write_all(&mut encoder, head)
        .and_then(|()| encoder.finish())
        .map_or(head.len(), |c| c.len());
    compressed * 100 > head.len() * 95
}

fn probe_gzip(path: &Path) -> Readable {
    let Ok(file) = File::open(path) else {
        return Readable::Text;
    };
    let mut decoder = MultiGzDecoder::new(BufReader::new(file));
    match head_of(&mut decoder) {
        Ok(head) if looks_like_text(&head) => Readable::Gzip,
        Ok(_) => Readable::No(Unreadable::Binary),
        Err(_) => Readable::No(Unreadable::Damaged),
    }
}

fn probe_zip(path: &Path) -> Readable {
    let Ok(file) = File::open(path) else {
        return Readable::Text;
    };
    let Ok(mut archive) = zip::ZipArchive::new(BufReader::new(file)) else {
        return Readable::No(Unreadable::Damaged);
    };
    if archive.len() > MAX_MEMBERS {
        return Readable::No(Unreadable::Compressed);
    }
    for index in 0..archive.len() {
        let Ok(member) = archive.by_index_raw(index) else {
            return Readable::No(Unreadable::Damaged);
        };
        if member.encrypted() {
            return Readable::No(Unreadable::Password);
        }
        if !matches!(
            member.compression(),
            zip::CompressionMethod::Stored | zip::CompressionMethod::Deflated
        ) {
            return Readable::No(Unreadable::Compressed);
        }
    }
    Readable::Zip
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_told_from_binary() {
        assert!(looks_like_text(
            b"2026-12-07 10:02:11 INFO joined\r\n\tdetail\n"
        ));
        assert!(looks_like_text("état: réussi\n".as_bytes()));
        assert!(!looks_like_text(b"PK\x03\x04\x14\x00\x00\x00"));
        assert!(!looks_like_text(&[
            0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0
        ]));
    }

    #[test]
    fn what_each_file_is_follows_its_content_not_only_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        };
        let gz = |bytes: &[u8]| {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            io::Write::write_all(&mut encoder, bytes).unwrap();
            encoder.finish().unwrap()
        };
        let text = write("a.gz", &gz(b"candidate:1 udp 10.0.0.1 5000 typ host\n"));
        assert_eq!(readable(&text, "WebRTC Logs/a.gz", false), Readable::Gzip);
        assert_eq!(
            readable(&text, "a.gz", true),
            Readable::No(Unreadable::Encrypted)
        );
        let binary = write("b.gz", &gz(&[0u8, 1, 2, 3, 0, 0, 7]));
        assert_eq!(
            readable(&binary, "b.gz", false),
            Readable::No(Unreadable::Binary)
        );
        let damaged = write("c.gz", b"\x1f\x8b\x08\x00garbage that is not deflate");
        assert_eq!(
            readable(&damaged, "c.gz", false),
            Readable::No(Unreadable::Damaged)
        );
        let xz = write("d.log.xz", b"\xfd7zXZ\x00");
        assert_eq!(
            readable(&xz, "d.log.xz", false),
            Readable::No(Unreadable::Compressed)
        );
        let plain = write("e.dat", b"plain words\n");
        assert_eq!(readable(&plain, "e.dat", false), Readable::Text);

        let mut zipped = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        zipped
            .start_file("logs/a.log", zip::write::SimpleFileOptions::default())
            .unwrap();
        io::Write::write_all(&mut zipped, b"hello\n").unwrap();
        let archive = write("f.zip", &zipped.finish().unwrap().into_inner());
        assert_eq!(readable(&archive, "f.zip", false), Readable::Zip);
        let not_a_zip = write("g.zip", b"not a zip at all");
        assert_eq!(
            readable(&not_a_zip, "g.zip", false),
            Readable::No(Unreadable::Damaged)
        );
    }
}
