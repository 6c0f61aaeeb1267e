//! The zip container of a bundle: entries whose bytes the caller has already compressed.
//!
//! # Brief overview
//!
//! The bundle writer deflates one file in several pieces on several threads and hands the raw
//! deflate data here, in order; [`ZipOut`] frames it as a plain zip that every unzip tool opens.
//! The archive is written strictly in order, and hashed (SHA-256) as it is written, so the
//! bundle's own hash needs no second read: a stored entry whose CRC and size the caller knows
//! ([`ZipOut::start_stored`], the vendor's logs, checked in a first pass) carries them in its
//! local header, so streaming readers can read it too; any other entry (deflated, or a packed
//! file whose CRC is known only at its end) is followed by a data descriptor, as zip's general
//! purpose bit 3 allows. Only a stored file that changed between the two passes has its header
//! patched afterwards, and then the hash is left to the caller. ZIP64 fields are used only where
//! a size, an offset or the entry count needs them. Reading bundles stays with the `zip` crate
//! ([`super::reader`]).

use std::io::{self, Seek, SeekFrom, Write};

use sha2::{Digest, Sha256};

use chrono::{DateTime, Datelike, Timelike, Utc};

/// How an entry's bytes are held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZipMethod {
    Stored,
    /// Raw deflate (RFC 1951), no zlib header.
    Deflated,
}

impl ZipMethod {
    fn code(self) -> u16 {
        match self {
            ZipMethod::Stored => 0,
            ZipMethod::Deflated => 8,
        }
    }
}

const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const END_SIGNATURE: u32 = 0x0605_4b50;
const ZIP64_END_SIGNATURE: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
const ZIP64_EXTRA_TAG: u16 = 0x0001;
const DESCRIPTOR_SIGNATURE: u32 = 0x0807_4b50;
/// CRC and sizes follow the data in a data descriptor (general purpose bit 3).
const FLAG_DESCRIPTOR: u16 = 1 << 3;
/// UTF-8 names (general purpose bit 11).
const FLAG_UTF8: u16 = 1 << 11;
/// Made by: Unix (3), spec 3.0; so the permissions below are honoured.
const MADE_BY: u16 = (3 << 8) | 30;
/// A regular file, `rw-r--r--`, in the Unix half of the external attributes.
const EXTERNAL_ATTRIBUTES: u32 = 0o100_644 << 16;
const U32_MAX: u64 = u32::MAX as u64;
/// Stored entries from this size on get ZIP64 sizes in their local header.
const LARGE_STORED: u64 = U32_MAX;

/// One finished entry, for the central directory.
struct Entry {
    name: Vec<u8>,
    method: ZipMethod,
    flags: u16,
    dos_time: u16,
    dos_date: u16,
    crc32: u32,
    compressed: u64,
    uncompressed: u64,
    offset: u64,
}

/// The entry being written.
struct Open {
    entry: Entry,
    /// The local header reserves ZIP64 sizes (the caller said the entry may pass 4 GiB).
    large: bool,
    /// The CRC and size its local header already holds; `None`: a data descriptor follows.
    announced: Option<(u32, u64)>,
}

/// Writes a zip archive to `out`, one entry at a time.
pub struct ZipOut<W: Write + Seek> {
    out: W,
    /// Bytes written so far: the offset of the next byte.
    offset: u64,
    entries: Vec<Entry>,
    open: Option<Open>,
    /// Every byte written, in order, while nothing was patched.
    sha256: Option<Sha256>,
}

/// A finished archive: the output, and the archive's SHA-256 when it was written in one pass
/// (`None` when a header had to be patched: hash the file).
pub struct Finished<W> {
    pub out: W,
    pub sha256: Option<[u8; 32]>,
}

impl<W: Write + Seek> ZipOut<W> {
    /// Starts an archive at the current position of `out`, which must be its start.
    pub fn new(out: W) -> Self {
        ZipOut {
            out,
            offset: 0,
            entries: Vec::new(),
            open: None,
            sha256: Some(Sha256::new()),
        }
    }

    /// Opens an entry whose CRC and sizes follow its data (a data descriptor). `large` reserves
    /// room for sizes of 4 GiB or more; without it, an entry that grows that large fails at
    /// [`ZipOut::end_entry`].
    pub fn start_entry(
        &mut self,
        name: &str,
        method: ZipMethod,
        modified: DateTime<Utc>,
        large: bool,
    ) -> io::Result<()> {
        self.open_entry(name, method, modified, large, None)
    }

    /// Opens a stored entry whose content has CRC `crc32` and `size` bytes, as its local header
    /// says. Should the content turn out otherwise at [`ZipOut::end_entry`] (the file changed
    /// meanwhile), the header is patched to what was written.
    pub fn start_stored(
        &mut self,
        name: &str,
        modified: DateTime<Utc>,
        crc32: u32,
        size: u64,
    ) -> io::Result<()> {
        let large = size >= LARGE_STORED;
        self.open_entry(
            name,
            ZipMethod::Stored,
            modified,
            large,
            Some((crc32, size)),
        )
    }

    fn open_entry(
        &mut self,
        name: &str,
        method: ZipMethod,
        modified: DateTime<Utc>,
        large: bool,
        announced: Option<(u32, u64)>,
    ) -> io::Result<()> {
        assert!(self.open.is_none(), "the previous entry is still open");
        let flags = FLAG_UTF8
            | if announced.is_none() {
                FLAG_DESCRIPTOR
            } else {
                0
            };
        let (crc32, size) = announced.unwrap_or((0, 0));
        let name = name.as_bytes().to_vec();
        let name_len = u16::try_from(name.len()).map_err(|_| invalid("entry name too long"))?;
        let (dos_time, dos_date) = dos_date_time(modified);
        let mut header = Vec::with_capacity(30 + name.len() + 20);
        put32(&mut header, LOCAL_SIGNATURE);
        put16(&mut header, if large { 45 } else { 20 });
        put16(&mut header, flags);
        put16(&mut header, method.code());
        put16(&mut header, dos_time);
        put16(&mut header, dos_date);
        // Known CRC and sizes, or zeros for a data descriptor to give.
        put32(&mut header, crc32);
        put32(&mut header, if large { u32::MAX } else { size as u32 });
        put32(&mut header, if large { u32::MAX } else { size as u32 });
        put16(&mut header, name_len);
        put16(&mut header, if large { 20 } else { 0 });
        header.extend_from_slice(&name);
        if large {
            put16(&mut header, ZIP64_EXTRA_TAG);
            put16(&mut header, 16);
            put64(&mut header, size);
            put64(&mut header, size);
        }
        let offset = self.offset;
        self.raw(&header)?;
        self.open = Some(Open {
            entry: Entry {
                name,
                method,
                flags,
                dos_time,
                dos_date,
                crc32: 0,
                compressed: 0,
                uncompressed: 0,
                offset,
            },
            large,
            announced,
        });
        Ok(())
    }

    /// Appends bytes of the open entry, as they go in the archive (already compressed).
    pub fn write_data(&mut self, data: &[u8]) -> io::Result<()> {
        let open = self.open.as_mut().expect("an entry is open");
        open.entry.compressed += data.len() as u64;
        self.raw(data)
    }

    /// Closes the open entry: `crc32` and `uncompressed` describe its content before compression.
    pub fn end_entry(&mut self, crc32: u32, uncompressed: u64) -> io::Result<()> {
        let Open {
            mut entry,
            large,
            announced,
        } = self.open.take().expect("an entry is open");
        entry.crc32 = crc32;
        entry.uncompressed = uncompressed;
        if !large && (entry.compressed >= U32_MAX || uncompressed >= U32_MAX) {
            return Err(invalid("entry of 4 GiB or more not announced as large"));
        }
        match announced {
            None => {
                // The data descriptor: 8-byte sizes where the local header has ZIP64 room.
                let mut descriptor = Vec::with_capacity(24);
                put32(&mut descriptor, DESCRIPTOR_SIGNATURE);
                put32(&mut descriptor, crc32);
                if large {
                    put64(&mut descriptor, entry.compressed);
                    put64(&mut descriptor, uncompressed);
                } else {
                    put32(&mut descriptor, entry.compressed as u32);
                    put32(&mut descriptor, uncompressed as u32);
                }
                self.raw(&descriptor)?;
                self.entries.push(entry);
                return Ok(());
            }
            Some(said) if said == (crc32, uncompressed) && entry.compressed == uncompressed => {
                self.entries.push(entry);
                return Ok(());
            }
            // The file changed between the passes: the header says what was written after all.
            Some(_) => self.sha256 = None,
        }
        let name_len = entry.name.len() as u64;
        self.out.seek(SeekFrom::Start(entry.offset + 14))?;
        let mut fields = Vec::with_capacity(12);
        put32(&mut fields, crc32);
        if large {
            self.out.write_all(&fields)?;
            // Sizes stay 0xFFFFFFFF; the ZIP64 extra field after the name holds them.
            self.out
                .seek(SeekFrom::Start(entry.offset + 30 + name_len + 4))?;
            let mut sizes = Vec::with_capacity(16);
            put64(&mut sizes, uncompressed);
            put64(&mut sizes, entry.compressed);
            self.out.write_all(&sizes)?;
        } else {
            put32(&mut fields, entry.compressed as u32);
            put32(&mut fields, uncompressed as u32);
            self.out.write_all(&fields)?;
        }
        self.out.seek(SeekFrom::Start(self.offset))?;
        self.entries.push(entry);
        Ok(())
    }

    /// Writes the central directory and the end records; returns the output.
    pub fn finish(self) -> io::Result<W> {
        self.finish_hashed().map(|finished| finished.out)
    }

    /// [`ZipOut::finish`], with the archive's SHA-256 when it was written in one pass.
    pub fn finish_hashed(mut self) -> io::Result<Finished<W>> {
        assert!(self.open.is_none(), "an entry is still open");
        let directory_start = self.offset;
        let mut directory = Vec::with_capacity(self.entries.len() * 96);
        for entry in &self.entries {
            central_header(&mut directory, entry);
        }
        self.raw(&directory)?;
        let directory_size = directory.len() as u64;
        let count = self.entries.len() as u64;
        let needs_zip64 =
            count >= 0xFFFF || directory_start >= U32_MAX || directory_size >= U32_MAX;
        let mut end = Vec::with_capacity(98);
        if needs_zip64 {
            let zip64_end = self.offset;
            put32(&mut end, ZIP64_END_SIGNATURE);
            put64(&mut end, 44);
            put16(&mut end, MADE_BY);
            put16(&mut end, 45);
            put32(&mut end, 0);
            put32(&mut end, 0);
            put64(&mut end, count);
            put64(&mut end, count);
            put64(&mut end, directory_size);
            put64(&mut end, directory_start);
            put32(&mut end, ZIP64_LOCATOR_SIGNATURE);
            put32(&mut end, 0);
            put64(&mut end, zip64_end);
            put32(&mut end, 1);
        }
        put32(&mut end, END_SIGNATURE);
        put16(&mut end, 0);
        put16(&mut end, 0);
        put16(&mut end, count.min(0xFFFF) as u16);
        put16(&mut end, count.min(0xFFFF) as u16);
        put32(&mut end, directory_size.min(U32_MAX) as u32);
        put32(&mut end, directory_start.min(U32_MAX) as u32);
        put16(&mut end, 0);
        self.raw(&end)?;
        self.out.flush()?;
        Ok(Finished {
            sha256: self.sha256.map(|hasher| hasher.finalize().into()),
            out: self.out,
        })
    }

    fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        if let Some(hasher) = &mut self.sha256 {
            hasher.update(bytes);
        }
        self.offset += bytes.len() as u64;
        Ok(())
    }
}

/// One central directory record, with a ZIP64 extra field holding exactly the values that do not
/// fit in 32 bits, in the order the format prescribes.
fn central_header(out: &mut Vec<u8>, entry: &Entry) {
    let mut extra = Vec::new();
    for value in [entry.uncompressed, entry.compressed, entry.offset] {
        if value >= U32_MAX {
            put64(&mut extra, value);
        }
    }
    let zip64 = !extra.is_empty();
    put32(out, CENTRAL_SIGNATURE);
    put16(out, MADE_BY);
    put16(out, if zip64 { 45 } else { 20 });
    put16(out, entry.flags);
    put16(out, entry.method.code());
    put16(out, entry.dos_time);
    put16(out, entry.dos_date);
    put32(out, entry.crc32);
    put32(out, entry.compressed.min(U32_MAX) as u32);
    put32(out, entry.uncompressed.min(U32_MAX) as u32);
    put16(out, entry.name.len() as u16);
    put16(out, if zip64 { extra.len() as u16 + 4 } else { 0 });
    put16(out, 0); // comment
    put16(out, 0); // disk
    put16(out, 0); // internal attributes
    put32(out, EXTERNAL_ATTRIBUTES);
    put32(out, entry.offset.min(U32_MAX) as u32);
    out.extend_from_slice(&entry.name);
    if zip64 {
        put16(out, ZIP64_EXTRA_TAG);
        put16(out, extra.len() as u16);
        out.extend_from_slice(&extra);
    }
}

/// MS-DOS time and date (local fields, 2-second resolution), clamped to 1980–2107.
fn dos_date_time(at: DateTime<Utc>) -> (u16, u16) {
    let year = at.year().clamp(1980, 2107);
    let (month, day, hour, minute, second) = if at.year() < 1980 {
        (1, 1, 0, 0, 0)
    } else {
        (at.month(), at.day(), at.hour(), at.minute(), at.second())
    };
    let time = (hour << 11) | (minute << 5) | (second / 2);
    let date = (((year - 1980) as u32) << 9) | (month << 5) | day;
    (time as u16, date as u16)
}

fn invalid(message: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

fn put16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    use chrono::TimeZone;

    use super::*;

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut encoder =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn crc(data: &[u8]) -> u32 {
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(data);
        hasher.finalize()
    }

    #[test]
    fn stored_deflated_and_large_entries_read_back_with_the_zip_crate() {
        let when = Utc.with_ymd_and_hms(2026, 11, 24, 10, 30, 42).unwrap();
        let text = b"hello hello hello hello\n".repeat(100);
        let mut zip = ZipOut::new(Cursor::new(Vec::new()));
        zip.start_entry("files/a/stored.blog", ZipMethod::Stored, when, false)
            .unwrap();
        zip.write_data(b"\x00\x01binary").unwrap();
        zip.end_entry(crc(b"\x00\x01binary"), 8).unwrap();
        let packed = deflate(&text);
        zip.start_entry("files/b/text.log", ZipMethod::Deflated, when, false)
            .unwrap();
        // Written in two pieces, as the writer does with segments.
        zip.write_data(&packed[..10]).unwrap();
        zip.write_data(&packed[10..]).unwrap();
        zip.end_entry(crc(&text), text.len() as u64).unwrap();
        zip.start_entry("files/b/ünïcode-large.log", ZipMethod::Deflated, when, true)
            .unwrap();
        zip.write_data(&packed).unwrap();
        zip.end_entry(crc(&text), text.len() as u64).unwrap();
        let bytes = zip.finish().unwrap().into_inner();

        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 3);
        let mut read = |name: &str| {
            let mut entry = archive.by_name(name).unwrap();
            assert_eq!(entry.unix_mode(), Some(0o100_644), "{name}");
            let modified = entry.last_modified().unwrap();
            assert_eq!(
                (modified.year(), modified.hour(), modified.second()),
                (2026, 10, 42)
            );
            let mut content = Vec::new();
            entry.read_to_end(&mut content).unwrap();
            content
        };
        assert_eq!(read("files/a/stored.blog"), b"\x00\x01binary");
        assert_eq!(read("files/b/text.log"), text);
        assert_eq!(read("files/b/ünïcode-large.log"), text);
    }

    #[test]
    fn the_archive_is_hashed_as_written_unless_a_stored_file_changed_between_passes() {
        use sha2::{Digest, Sha256};
        let when = Utc.with_ymd_and_hms(2026, 11, 24, 10, 30, 42).unwrap();
        let text = b"line of text\n".repeat(50);
        let write = |changed: bool| {
            let mut zip = ZipOut::new(Cursor::new(Vec::new()));
            let blob = b"\x00encrypted\x01";
            zip.start_stored("files/acs/a.blog", when, crc(blob), blob.len() as u64)
                .unwrap();
            let written: &[u8] = if changed { b"\x00ENCRYPTED\x01" } else { blob };
            zip.write_data(written).unwrap();
            zip.end_entry(crc(written), written.len() as u64).unwrap();
            zip.start_entry("files/app/a.log", ZipMethod::Deflated, when, false)
                .unwrap();
            zip.write_data(&deflate(&text)).unwrap();
            zip.end_entry(crc(&text), text.len() as u64).unwrap();
            zip.finish_hashed().unwrap()
        };
        let whole = write(false);
        let bytes = whole.out.into_inner();
        assert_eq!(
            whole.sha256,
            Some(<[u8; 32]>::from(Sha256::digest(&bytes))),
            "the hash is the finished file's"
        );
        // The stored entry's local header holds its CRC and size (no descriptor bit); the
        // deflated one has the descriptor bit and its descriptor after the data.
        assert_eq!(
            u16::from_le_bytes([bytes[6], bytes[7]]) & FLAG_DESCRIPTOR,
            0
        );
        assert_eq!(&bytes[14..18], &crc(b"\x00encrypted\x01").to_le_bytes());
        assert!(
            bytes
                .windows(4)
                .any(|w| w == DESCRIPTOR_SIGNATURE.to_le_bytes()),
            "a data descriptor follows the deflated entry"
        );
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut content = Vec::new();
        archive
            .by_name("files/app/a.log")
            .unwrap()
            .read_to_end(&mut content)
            .unwrap();
        assert_eq!(content, text);

        // A file that changed between its two passes: patched, and no hash is claimed.
        let patched = write(true);
        assert_eq!(patched.sha256, None);
        let mut archive = zip::ZipArchive::new(Cursor::new(patched.out.into_inner())).unwrap();
        let mut content = Vec::new();
        archive
            .by_name("files/acs/a.blog")
            .unwrap()
            .read_to_end(&mut content)
            .unwrap();
        assert_eq!(content, b"\x00ENCRYPTED\x01");
    }

    #[test]
    fn a_wrong_crc_is_caught_by_readers() {
        let mut zip = ZipOut::new(Cursor::new(Vec::new()));
        zip.start_entry("x", ZipMethod::Stored, Utc::now(), false)
            .unwrap();
        zip.write_data(b"abc").unwrap();
        zip.end_entry(crc(b"abd"), 3).unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut content = Vec::new();
        assert!(
            archive
                .by_index(0)
                .unwrap()
                .read_to_end(&mut content)
                .is_err()
        );
    }

    #[test]
    fn dos_times_are_clamped_to_what_the_format_holds() {
        let old = Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(dos_date_time(old), (0, (1 << 5) | 1));
        let far = Utc.with_ymd_and_hms(2200, 6, 1, 0, 0, 0).unwrap();
        assert_eq!(dos_date_time(far).1 >> 9, 127);
    }
}
