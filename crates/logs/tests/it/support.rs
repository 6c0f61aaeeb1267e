//! Shared fixtures: log files of a given size and shape.

use std::fs;
use std::path::Path;

/// Deterministic bytes that do not compress (xorshift64*), for `.blog` stand-ins.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A readable call log of about `lines` * 90 bytes.
pub fn text_log(tag: &str, lines: usize) -> String {
    (0..lines)
        .map(|i| {
            format!(
                "2025-05-01T10:{:02}:{:02}.{:03}Z INFO [{tag}] call 7f3c-{i:04} operation Join result Succeeded in {} ms\n",
                (i / 60) % 60,
                i % 60,
                i % 1000,
                i * 7 % 500
            )
        })
        .collect()
}

/// Writes `bytes` to `path`, creating parent folders.
pub fn write_file(path: &Path, bytes: &[u8]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}
