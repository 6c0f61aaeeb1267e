//! Reading a growing log from where the last read stopped, as `tail -F` does.
//!
//! A [`Tail`] remembers how far it has read one file and how to tell that the file under that
//! name is no longer the one it read: the file's identity ([`crate::file_id`], and where the system
//! keeps it, its creation time), its first bytes (a file deleted and written again can get the
//! inode number of the one before it) and its length (a file cut short). When the file changed
//! that way it is read again from the start. Only complete lines are handed out; a line being
//! written is read next time. A `Tail` serializes, so a position survives a restart.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Most bytes read at once, so a huge new file does not take a huge buffer.
pub const MAX_READ: u64 = 16 << 20;
/// How many of a file's first bytes are remembered to notice it was replaced.
const HEAD: usize = 64;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tail {
    /// Bytes read and handed out, always at a line's end.
    pub offset: u64,
    identity: Option<Identity>,
    /// The file's first bytes (up to `HEAD`) as read the first time.
    #[serde(with = "hex_bytes")]
    head: Vec<u8>,
    /// Within a line longer than a read, passed over up to its end.
    #[serde(default)]
    overlong: bool,
}

/// The file's identity on its volume ([`crate::file_id`]) and its creation time (seconds and
/// nanoseconds since the epoch), as far as known.
type Identity = (u64, u64, Option<(u64, u32)>);

/// What a read found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// The same file, read on from the last position.
    Continued,
    /// Another file (rotated, replaced or cut short), read from its start.
    Restarted,
}

impl Tail {
    /// Hands each complete line appended to `path` since the last read to `line` (without its
    /// `\n` or `\r\n`). A line longer than [`MAX_READ`] is no record of ours and is passed over
    /// whole.
    pub fn read(&mut self, path: &Path, line: impl FnMut(&[u8])) -> std::io::Result<Reading> {
        self.read_in_chunks(path, MAX_READ, line)
    }

    pub(crate) fn read_in_chunks(
        &mut self,
        path: &Path,
        max_read: u64,
        mut line: impl FnMut(&[u8]),
    ) -> std::io::Result<Reading> {
        let mut file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        let identity = identity(&file, &meta);
        let mut outcome = Reading::Continued;
        if identity != self.identity || meta.len() < self.offset || !self.same_head(&mut file)? {
            outcome = if self.identity.is_none() && self.offset == 0 {
                Reading::Continued
            } else {
                Reading::Restarted
            };
            *self = Tail {
                identity,
                ..Tail::default()
            };
        }
        while self.offset < meta.len() {
            let available = (meta.len() - self.offset).min(max_read);
            file.seek(SeekFrom::Start(self.offset))?;
            let mut bytes = Vec::with_capacity(available as usize);
            (&mut file).take(available).read_to_end(&mut bytes)?;
            if self.offset == 0 {
                self.head = bytes[..bytes.len().min(HEAD)].to_vec();
            }
            let end = match bytes.iter().rposition(|&b| b == b'\n') {
                Some(end) => end,
                None if bytes.len() as u64 == max_read => {
                    self.offset += max_read;
                    self.overlong = true;
                    continue;
                }
                None => break,
            };
            let mut lines = bytes[..end].split(|&b| b == b'\n');
            if std::mem::take(&mut self.overlong) {
                // The rest of the overlong line.
                lines.next();
            }
            for one in lines {
                line(one.strip_suffix(b"\r").unwrap_or(one));
            }
            self.offset += end as u64 + 1;
        }
        Ok(outcome)
    }

    /// Whether the file still starts with the bytes it started with when first read.
    fn same_head(&self, file: &mut std::fs::File) -> std::io::Result<bool> {
        if self.head.is_empty() {
            return Ok(true);
        }
        let mut now = vec![0; self.head.len()];
        file.seek(SeekFrom::Start(0))?;
        match file.read_exact(&mut now) {
            Ok(()) => Ok(now == self.head),
            Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
            Err(err) => Err(err),
        }
    }
}

fn identity(file: &std::fs::File, meta: &std::fs::Metadata) -> Option<Identity> {
    let (volume, index) = crate::file_id::of_file(file).unwrap_or((0, 0));
    // On Windows the file index is never reused while its volume lives (NTFS counts reuses in its
    // top bits), and the creation time is no help: a file created under a name just deleted
    // inherits it, and Wine reports the time of the last change there. Unix reuses inode numbers,
    // so the creation time (where the file system keeps it) tells a new file from an old one.
    let created = if cfg!(windows) { None } else { created(meta) };
    Some((volume, index, created))
}

fn created(meta: &std::fs::Metadata) -> Option<(u64, u32)> {
    let since = meta
        .created()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some((since.as_secs(), since.subsec_nanos()))
}

/// The first bytes as hex in the saved positions, so they read as text.
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn lines(tail: &mut Tail, path: &Path) -> (Vec<String>, Reading) {
        let mut seen = Vec::new();
        let outcome = tail
            .read(path, |l| seen.push(String::from_utf8_lossy(l).into_owned()))
            .unwrap();
        (seen, outcome)
    }

    #[test]
    fn hands_out_complete_lines_once_and_starts_over_on_another_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        std::fs::write(&path, "one\r\ntwo\nthr").unwrap();
        let mut tail = Tail::default();
        assert_eq!(
            lines(&mut tail, &path),
            (vec!["one".into(), "two".into()], Reading::Continued)
        );
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        writeln!(file, "ee").unwrap();
        assert_eq!(lines(&mut tail, &path).0, ["three"]);
        assert_eq!(lines(&mut tail, &path).0, Vec::<String>::new());

        // The position survives a restart (saved and read back).
        let saved = serde_json::to_string(&tail).unwrap();
        let mut tail: Tail = serde_json::from_str(&saved).unwrap();
        writeln!(file, "four").unwrap();
        assert_eq!(lines(&mut tail, &path).0, ["four"]);

        // Rotated: a new file under the name is read from its start.
        std::fs::rename(&path, dir.path().join("app.log.1")).unwrap();
        std::fs::write(&path, "new\n").unwrap();
        assert_eq!(
            lines(&mut tail, &path),
            (vec!["new".into()], Reading::Restarted)
        );

        // Rewritten in place (same inode), longer than what was read: its first bytes differ.
        std::fs::write(&path, "other\nlines\n").unwrap();
        assert_eq!(
            lines(&mut tail, &path),
            (vec!["other".into(), "lines".into()], Reading::Restarted)
        );
        // Cut short.
        std::fs::write(&path, "o\n").unwrap();
        assert_eq!(lines(&mut tail, &path).1, Reading::Restarted);
    }

    #[test]
    fn passes_over_chunks_without_a_line_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ops.jsonl");
        let text = format!("{}\np\nq\n", "x".repeat(40));
        std::fs::write(&path, &text).unwrap();
        let mut tail = Tail::default();
        let mut seen = Vec::new();
        tail.read_in_chunks(&path, 16, |l| seen.push(l.to_vec()))
            .unwrap();
        assert_eq!(seen, [b"p".to_vec(), b"q".to_vec()]);
        assert_eq!(tail.offset, text.len() as u64);
    }
}
