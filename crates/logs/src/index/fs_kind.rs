//! Which file systems cannot be watched with native events and must be polled.
//!
//! inotify sees only changes made through this machine's kernel, so on network file systems it
//! misses what other machines write; Windows' change notifications over SMB are as unreliable (and
//! lost whenever the connection drops). Linux is checked with `statfs`, Windows with the kind of
//! drive the path is on (a mapped network drive or a `\\server\share` path); elsewhere this says
//! "local".

use std::path::Path;

/// The name of the network or unsupported file system under `path`, if it is one.
#[cfg(target_os = "linux")]
pub fn unwatchable_fs(path: &Path) -> Option<&'static str> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c_path = CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut stat: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c_path` is a valid NUL-terminated string and `stat` a properly sized out-parameter.
    if unsafe { libc::statfs(c_path.as_ptr(), &mut stat) } != 0 {
        return None;
    }
    network_fs_name(stat.f_type as i64)
}

#[cfg(windows)]
pub fn unwatchable_fs(path: &Path) -> Option<&'static str> {
    use std::os::windows::ffi::OsStrExt;
    use windows_sys::Win32::Storage::FileSystem::{GetDriveTypeW, GetVolumePathNameW};
    use windows_sys::Win32::System::WindowsProgramming::DRIVE_REMOTE;
    let wide: Vec<u16> = path.as_os_str().encode_wide().chain([0]).collect();
    let mut volume = [0u16; 1024];
    // SAFETY: `wide` is NUL-terminated and `volume` is writable for the length given.
    if unsafe { GetVolumePathNameW(wide.as_ptr(), volume.as_mut_ptr(), volume.len() as u32) } == 0 {
        return None;
    }
    // SAFETY: `volume` was NUL-terminated by the call above.
    (unsafe { GetDriveTypeW(volume.as_ptr()) } == DRIVE_REMOTE).then_some("a network drive")
}

#[cfg(not(any(target_os = "linux", windows)))]
pub fn unwatchable_fs(_path: &Path) -> Option<&'static str> {
    None
}

/// Magic numbers from statfs(2) of file systems whose changes inotify does not fully see.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn network_fs_name(magic: i64) -> Option<&'static str> {
    Some(match magic as u32 {
        0x6969 => "nfs",
        0x517B => "smb",
        0xFF53_4D42 => "cifs",
        0xFE53_4D42 => "smb2",
        0x6573_5546 => "fuse",
        0x0102_1997 => "9p",
        0x5346_414F => "afs",
        0x7372_7279 => "coda",
        0x0BD0_0BD0 => "lustre",
        0x0047_504C => "gpfs",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_magics_are_named_and_local_ones_are_not() {
        assert_eq!(network_fs_name(0x6969), Some("nfs"));
        assert_eq!(network_fs_name(0xFF53_4D42), Some("cifs"));
        assert_eq!(network_fs_name(0xEF53), None, "ext4 is local");
        assert_eq!(
            unwatchable_fs(&std::env::temp_dir()),
            None,
            "the temp folder is local here"
        );
    }
}
