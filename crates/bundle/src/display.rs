//! How paths and sizes are shown to people: in manifests, on the consent screen, in messages.

use std::path::{Path, PathBuf};

/// Shows a path with the home folder as `~`, as manifests and the consent screen do.
pub fn display_path(path: &Path) -> String {
    // Looked up once: the index shows tens of thousands of paths.
    static HOME: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    if let Some(home) = HOME.get_or_init(dirs::home_dir)
        && let Ok(rest) = path.strip_prefix(home)
    {
        return Path::new("~").join(rest).to_string_lossy().into_owned();
    }
    path.to_string_lossy().into_owned()
}

/// Sizes as people read them: `532 bytes`, `4.2 MB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64;
    let mut unit = "";
    for u in UNITS {
        value /= 1000.0;
        unit = u;
        if value < 1000.0 {
            break;
        }
    }
    format!("{value:.1} {unit}")
}
