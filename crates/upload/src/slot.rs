//! Where a resumable upload's address is kept between attempts.
//!
//! # Brief overview
//!
//! A resumable upload is known by the URL the server gave when it was created. Kept in a
//! [`ResumeSlot`], the next attempt asks the server how far it got and goes on from there instead
//! of from the first byte. The outbox keeps it in a file beside the queued bundle ([`FileSlot`]),
//! so that holds across a restart of the app; a one-off send keeps it in memory ([`MemorySlot`]),
//! so it holds across the retries of that send.

use std::io;
use std::path::PathBuf;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// An upload begun on the server, and the bundle it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    /// The upload's URL, from the server's `Location`.
    pub url: String,
    /// The bundle's SHA-256 and size: only the same bytes may go on where these stopped.
    pub bundle_sha256: String,
    pub length: u64,
}

/// Keeps the [`Resume`] of one bundle between attempts.
pub trait ResumeSlot: Send + Sync {
    /// What was kept, if anything usable.
    fn load(&self) -> Option<Resume>;
    /// Keeps `resume`, replacing what was there.
    fn save(&self, resume: &Resume) -> io::Result<()>;
    /// Forgets it: the upload became a ticket, or the server no longer has it.
    fn clear(&self);
}

/// A slot that lasts as long as the value: the retries of one send.
#[derive(Debug, Default)]
pub struct MemorySlot(Mutex<Option<Resume>>);

impl ResumeSlot for MemorySlot {
    fn load(&self) -> Option<Resume> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn save(&self, resume: &Resume) -> io::Result<()> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(resume.clone());
        Ok(())
    }

    fn clear(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// A slot in a JSON file, written whole beside its place and renamed over it.
#[derive(Debug, Clone)]
pub struct FileSlot {
    path: PathBuf,
}

impl FileSlot {
    pub fn new(path: PathBuf) -> FileSlot {
        FileSlot { path }
    }
}

impl ResumeSlot for FileSlot {
    fn load(&self) -> Option<Resume> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return None,
            Err(err) => {
                log::warn!("cannot read {}: {err}; starting over", self.path.display());
                return None;
            }
        };
        serde_json::from_slice(&bytes)
            .inspect_err(|err| {
                log::warn!(
                    "{} is unreadable ({err}); starting over",
                    self.path.display()
                )
            })
            .ok()
    }

    fn save(&self, resume: &Resume) -> io::Result<()> {
        let bytes = serde_json::to_vec_pretty(resume).expect("a resume point serializes");
        callsupport_kept::write_aside(&self.path, &bytes)
    }

    fn clear(&self) {
        if let Err(err) = std::fs::remove_file(&self.path)
            && err.kind() != io::ErrorKind::NotFound
        {
            log::warn!("cannot remove {}: {err}", self.path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resume() -> Resume {
        Resume {
            url: "https://support.example.com/api/v1/uploads/1".into(),
            bundle_sha256: "ab".repeat(32),
            length: 42,
        }
    }

    #[test]
    fn a_file_slot_keeps_its_point_until_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let slot = FileSlot::new(dir.path().join("upload.json"));
        assert_eq!(slot.load(), None);
        slot.save(&resume()).unwrap();
        assert_eq!(
            FileSlot::new(dir.path().join("upload.json")).load(),
            Some(resume())
        );
        slot.clear();
        assert_eq!(slot.load(), None);
        slot.clear();
    }

    #[test]
    fn a_damaged_file_is_a_fresh_start() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("upload.json"), "{\"url\": 3").unwrap();
        assert_eq!(FileSlot::new(dir.path().join("upload.json")).load(), None);
    }
}
