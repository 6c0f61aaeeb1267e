//! How paths and sizes are shown to people: in manifests, on the consent screen, in messages.

use std::path::{Path, PathBuf};

/// What stands for the home folder when a path is shown: `~` as shells write it, and on Windows
/// `%USERPROFILE%`, which Explorer and the command prompt expand. Either keeps the user's name out
/// of manifests and screens.
pub const HOME_SHOWN_AS: &str = if cfg!(windows) { "%USERPROFILE%" } else { "~" };

/// Shows a path with the home folder as [`HOME_SHOWN_AS`], as manifests and the consent screen do.
pub fn display_path(path: &Path) -> String {
    // Looked up once: the index shows tens of thousands of paths.
    static HOME: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    shown_under(path, HOME.get_or_init(dirs::home_dir).as_deref())
}

fn shown_under(path: &Path, home: Option<&Path>) -> String {
    if let Some(home) = home
        && let Ok(rest) = path.strip_prefix(home)
    {
        return Path::new(HOME_SHOWN_AS)
            .join(rest)
            .to_string_lossy()
            .into_owned();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_home_folder_is_shown_by_its_name_for_it_and_other_paths_whole() {
        let home = std::env::temp_dir().join("home-of-jane");
        let log = home.join("AppData").join("app.log");
        assert_eq!(
            shown_under(&log, Some(&home)),
            Path::new(HOME_SHOWN_AS)
                .join("AppData")
                .join("app.log")
                .to_string_lossy()
        );
        assert!(!shown_under(&log, Some(&home)).contains("jane"));
        let elsewhere = std::env::temp_dir().join("x.log");
        assert_eq!(
            shown_under(&elsewhere, Some(&home)),
            elsewhere.to_string_lossy()
        );
        assert_eq!(shown_under(&log, None), log.to_string_lossy());
    }
}
