//! Folders the app keeps files in for a while (screenshots, received bundles): what is older
//! than its time is removed, quietly, whenever the folder is used.

use std::path::Path;
use std::time::{Duration, SystemTime};

/// Removes the files directly in `dir` last modified more than `age` before `now`; a folder
/// that cannot be read, or a file that cannot be removed, is left as it is.
pub(crate) fn remove_older_than(dir: &Path, age: Duration, now: SystemTime) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .and_then(|m| m.modified().ok())
            .is_some_and(|modified| now.duration_since(modified).unwrap_or_default() > age);
        if old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
