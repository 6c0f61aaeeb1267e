//! One agent per data folder: the first holds a lock on `tray.lock` for its whole life; the OS
//! drops it when the process ends, however it ends, so a crashed agent never blocks the next.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::Path;

/// The lock file's name in the data folder.
pub const LOCK_FILE: &str = "tray.lock";

/// Proof that this process is the agent; the lock goes with it.
pub struct Instance {
    _file: File,
}

/// The lock file cannot be made or locked.
#[derive(Debug, thiserror::Error)]
#[error("cannot use {path} to run once: {source}; check that the data folder is writable")]
pub struct InstanceError {
    path: String,
    source: io::Error,
}

impl Instance {
    /// The lock, or `None` when another agent holds it.
    pub fn claim(data_dir: &Path) -> Result<Option<Instance>, InstanceError> {
        let path = data_dir.join(LOCK_FILE);
        let error = |source| InstanceError {
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(data_dir).map_err(error)?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(error)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Instance { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(err)) => Err(error(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_free_again_after() {
        let dir = tempfile::tempdir().unwrap();
        let first = Instance::claim(dir.path()).unwrap();
        assert!(first.is_some());
        assert!(
            Instance::claim(dir.path()).unwrap().is_none(),
            "a second agent must not run"
        );
        drop(first);
        assert!(
            Instance::claim(dir.path()).unwrap().is_some(),
            "free once the first is gone"
        );
    }
}
