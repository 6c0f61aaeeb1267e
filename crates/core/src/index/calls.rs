//! Call ids in call-operations logs, read incrementally as the file grows.
//!
//! A [`CallTracker`] remembers how far it has read a JSON-lines file and which `CallId`s it saw.
//! Each update reads only the bytes appended since, up to the last complete line; a file that
//! shrank or was replaced is read again from the start. "Replaced" is told by the file's identity
//! (device, inode and, where the system keeps it, creation time) and by its first bytes: a file
//! deleted and written again can get the inode number of the one before it.

use std::collections::BTreeSet;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::SystemTime;

/// Most call ids kept for one file; a real log holds a few dozen calls.
const MAX_CALLS: usize = 1_000;
/// Most bytes read at once, so a huge new file does not take a huge buffer.
const MAX_READ: u64 = 16 << 20;
/// How many of a file's first bytes are remembered to notice it was replaced.
const HEAD: usize = 64;

type Identity = (u64, u64, Option<SystemTime>);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallTracker {
    offset: u64,
    identity: Option<Identity>,
    /// The file's first bytes (up to `HEAD`) as read the first time.
    head: Vec<u8>,
    calls: BTreeSet<String>,
}

impl CallTracker {
    /// The call ids seen so far, in order.
    pub fn call_ids(&self) -> Vec<String> {
        self.calls.iter().cloned().collect()
    }

    /// Reads what was appended to `path` since the last update. Returns whether new ids appeared.
    pub fn update(&mut self, path: &Path) -> std::io::Result<bool> {
        self.update_in_chunks(path, MAX_READ)
    }

    fn update_in_chunks(&mut self, path: &Path, max_read: u64) -> std::io::Result<bool> {
        let mut file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        let identity = identity(&meta);
        if identity != self.identity || meta.len() < self.offset || !self.same_head(&mut file)? {
            *self = CallTracker {
                identity,
                ..CallTracker::default()
            };
        }
        let before = self.calls.len();
        while self.offset < meta.len() {
            let available = (meta.len() - self.offset).min(max_read);
            file.seek(SeekFrom::Start(self.offset))?;
            let mut bytes = Vec::with_capacity(available as usize);
            (&mut file).take(available).read_to_end(&mut bytes)?;
            if self.offset == 0 {
                self.head = bytes[..bytes.len().min(HEAD)].to_vec();
            }
            // Only complete lines: a line being written is read again next time. A whole chunk
            // without a line end is no record of ours; it is passed over.
            let end = match bytes.iter().rposition(|&b| b == b'\n') {
                Some(end) => end,
                None if bytes.len() as u64 == max_read => {
                    self.offset += max_read;
                    continue;
                }
                None => break,
            };
            for line in bytes[..end].split(|&b| b == b'\n') {
                if self.calls.len() >= MAX_CALLS {
                    break;
                }
                if let Some(id) = call_id(line) {
                    self.calls.insert(id);
                }
            }
            self.offset += end as u64 + 1;
        }
        Ok(self.calls.len() > before)
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

/// The `CallId` of one record, at the top level or inside `properties` (Azure Monitor exports).
fn call_id(line: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(line).ok()?;
    let id = value
        .get("CallId")
        .or_else(|| value.get("properties")?.get("CallId"))?
        .as_str()?
        .trim();
    (!id.is_empty() && id.len() <= 128).then(|| id.to_owned())
}

#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> Option<Identity> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino(), meta.created().ok()))
}

#[cfg(not(unix))]
fn identity(meta: &std::fs::Metadata) -> Option<Identity> {
    Some((0, 0, meta.created().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_appended_complete_lines_only_and_restarts_on_replacement() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ops.jsonl");
        std::fs::write(
            &path,
            "{\"CallId\":\"a\"}\n{\"properties\":{\"CallId\":\"b\"}}\nnot json\n{\"CallId\":\"c",
        )
        .unwrap();
        let mut tracker = CallTracker::default();
        assert!(tracker.update(&path).unwrap());
        assert_eq!(tracker.call_ids(), ["a", "b"]);
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        writeln!(file, "\"}}").unwrap();
        assert!(tracker.update(&path).unwrap());
        assert_eq!(tracker.call_ids(), ["a", "b", "c"]);
        assert!(!tracker.update(&path).unwrap(), "nothing new");

        // Rotation: a new file under the same name starts over.
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, "{\"CallId\":\"z\"}\n").unwrap();
        tracker.update(&path).unwrap();
        assert_eq!(tracker.call_ids(), ["z"]);

        // Rewritten in place (same inode), longer than what was read: its first bytes differ.
        std::fs::write(&path, "{\"CallId\":\"y\"}\n{\"CallId\":\"x\"}\n").unwrap();
        tracker.update(&path).unwrap();
        assert_eq!(tracker.call_ids(), ["x", "y"]);
    }

    #[test]
    fn reads_everything_appended_in_one_update_and_passes_over_chunks_without_a_line_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ops.jsonl");
        let mut text = "x".repeat(40);
        text.push('\n');
        for id in ["p", "q", "r"] {
            text.push_str(&format!("{{\"CallId\":\"{id}\"}}\n"));
        }
        std::fs::write(&path, &text).unwrap();
        let mut tracker = CallTracker::default();
        assert!(tracker.update_in_chunks(&path, 16).unwrap());
        assert_eq!(tracker.call_ids(), ["p", "q", "r"]);
        assert_eq!(tracker.offset, text.len() as u64);
    }
}
