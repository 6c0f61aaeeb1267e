//! Call ids in call-operations logs, read incrementally as the file grows.
//!
//! A [`CallTracker`] remembers how far it has read a JSON-lines file and which `CallId`s it saw.
//! Each update reads only the bytes appended since, up to the last complete line; a file that
//! shrank or was replaced (another inode) is read again from the start.

use std::collections::BTreeSet;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Most call ids kept for one file; a real log holds a few dozen calls.
const MAX_CALLS: usize = 1_000;
/// Most bytes read in one update, so a huge new file does not stall the watcher.
const MAX_READ: u64 = 16 << 20;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallTracker {
    offset: u64,
    identity: Option<(u64, u64)>,
    calls: BTreeSet<String>,
}

impl CallTracker {
    /// The call ids seen so far, in order.
    pub fn call_ids(&self) -> Vec<String> {
        self.calls.iter().cloned().collect()
    }

    /// Reads what was appended to `path` since the last update. Returns whether new ids appeared.
    pub fn update(&mut self, path: &Path) -> std::io::Result<bool> {
        let mut file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        let identity = identity(&meta);
        if identity != self.identity || meta.len() < self.offset {
            *self = CallTracker {
                identity,
                ..CallTracker::default()
            };
        }
        let available = meta.len() - self.offset;
        if available == 0 {
            return Ok(false);
        }
        file.seek(SeekFrom::Start(self.offset))?;
        let mut bytes = Vec::with_capacity(available.min(MAX_READ) as usize);
        file.take(available.min(MAX_READ)).read_to_end(&mut bytes)?;
        // Only complete lines: a line being written is read again next time.
        let Some(end) = bytes.iter().rposition(|&b| b == b'\n') else {
            return Ok(false);
        };
        let before = self.calls.len();
        for line in bytes[..end].split(|&b| b == b'\n') {
            if self.calls.len() >= MAX_CALLS {
                break;
            }
            if let Some(id) = call_id(line) {
                self.calls.insert(id);
            }
        }
        self.offset += end as u64 + 1;
        Ok(self.calls.len() > before)
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
fn identity(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn identity(_meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
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
    }
}
