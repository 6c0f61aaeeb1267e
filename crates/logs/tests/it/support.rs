//! Shared fixtures: log files of a given size and shape.

use std::fs;
use std::path::Path;

pub use callsupport_demo::{random_bytes, text_log};

/// Writes `bytes` to `path`, creating parent folders.
pub fn write_file(path: &Path, bytes: &[u8]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}
