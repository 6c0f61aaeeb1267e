//! Which file a path names, independent of its name and times.
//!
//! A log that rotates is renamed and a new one is written under the old name; telling the two
//! apart needs the file's identity on its volume: device and inode on Unix, volume serial number
//! and file index on Windows (what `GetFileInformationByHandle` reports, and what NTFS keeps for a
//! file until it is deleted). Creation times cannot do it on Windows: a file created under a name
//! deleted a moment before inherits its creation time ("file tunnelling").

use std::fs::File;
use std::path::Path;

/// Device and inode (Unix), or volume serial number and file index (Windows).
pub type FileId = (u64, u64);

/// The identity of an open file.
#[cfg(unix)]
pub fn of_file(file: &File) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    file.metadata().ok().map(|m| (m.dev(), m.ino()))
}

/// The identity of an open file.
#[cfg(windows)]
pub fn of_file(file: &File) -> Option<FileId> {
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::Storage::FileSystem::{
        BY_HANDLE_FILE_INFORMATION, GetFileInformationByHandle,
    };
    let mut info: BY_HANDLE_FILE_INFORMATION = unsafe { std::mem::zeroed() };
    // SAFETY: the handle is open for as long as `file` lives, and `info` is a properly sized
    // out-parameter.
    let ok = unsafe { GetFileInformationByHandle(file.as_raw_handle() as _, &mut info) };
    (ok != 0).then(|| {
        let index = (u64::from(info.nFileIndexHigh) << 32) | u64::from(info.nFileIndexLow);
        (u64::from(info.dwVolumeSerialNumber), index)
    })
}

#[cfg(not(any(unix, windows)))]
pub fn of_file(_file: &File) -> Option<FileId> {
    None
}

/// The identity of the file or folder at `path` (links followed).
pub fn of_path(path: &Path) -> Option<FileId> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt;
        // Folders open only with backup semantics; it changes nothing for files.
        options.custom_flags(windows_sys::Win32::Storage::FileSystem::FILE_FLAG_BACKUP_SEMANTICS);
    }
    of_file(&options.open(path).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_keeps_its_identity_when_renamed_and_a_new_one_under_its_name_has_another() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("app.log");
        std::fs::write(&log, "first\n").unwrap();
        let first = of_path(&log).expect("a file has an identity");
        assert_eq!(of_file(&File::open(&log).unwrap()), Some(first));

        let rotated = dir.path().join("app.1.log");
        std::fs::rename(&log, &rotated).unwrap();
        std::fs::write(&log, "second\n").unwrap();
        assert_eq!(
            of_path(&rotated),
            Some(first),
            "renaming keeps the identity"
        );
        assert_ne!(of_path(&log), Some(first), "a new file is another file");
    }

    #[test]
    fn a_folder_has_an_identity_too() {
        let dir = tempfile::tempdir().unwrap();
        let a = of_path(dir.path()).expect("a folder has an identity");
        let inner = dir.path().join("inner");
        std::fs::create_dir(&inner).unwrap();
        assert_ne!(of_path(&inner), Some(a));
        assert_eq!(of_path(&dir.path().join("missing")), None);
    }
}
