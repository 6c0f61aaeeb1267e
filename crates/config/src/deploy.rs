//! Putting a configuration file in place for a deployment: the installers' `/CONFIG=`, and IT's
//! scripts, through `callsupport config install`.
//!
//! [`install`] checks the file first ([`Config::read_and_check`], every problem named) and writes
//! nothing when it is not valid; a valid one is written beside its destination, flushed and
//! renamed over it, so the app reads the old file or the new one, never half of one. Its folder
//! is made when missing. A destination that needs more rights says so.

use std::path::Path;

use crate::{Config, ConfigError};

/// Why a file was not installed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The file is not a valid configuration: every problem, with its line and key.
    #[error("{} is not a valid configuration ({} {}); nothing was installed", .file.display(), .problems.len(), if .problems.len() == 1 { "problem" } else { "problems" })]
    Invalid {
        file: std::path::PathBuf,
        problems: Vec<ConfigError>,
    },
    /// The file could not be read, or the destination not written.
    #[error(transparent)]
    Io(ConfigError),
}

/// Checks `file` and, when valid, writes it whole to `to` (its folder made if needed).
pub fn install(file: &Path, to: &Path) -> Result<(), DeployError> {
    let (text, problems) = Config::read_and_check(file).map_err(DeployError::Io)?;
    if !problems.is_empty() {
        return Err(DeployError::Invalid {
            file: file.to_path_buf(),
            problems,
        });
    }
    write_whole(to, text.as_bytes()).map_err(|err| {
        let hint = if err.kind() == std::io::ErrorKind::PermissionDenied {
            if cfg!(windows) {
                "; run it as an administrator"
            } else {
                "; run it as root"
            }
        } else {
            ""
        };
        DeployError::Io(ConfigError {
            path: to.to_path_buf(),
            line: None,
            key: None,
            message: format!("cannot write it: {err}{hint}"),
        })
    })
}

/// Writes `bytes` whole to `to` ([`callsupport_kept::write_aside`]), its folder made if needed.
fn write_whole(to: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = to.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    callsupport_kept::write_aside(to, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "[ticket_api]\nurl = \"https://support.example.com/api\"\n";

    #[test]
    fn a_valid_file_is_installed_whole_with_its_folder_made() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("org.toml");
        std::fs::write(&file, VALID).unwrap();
        let to = dir.path().join("ProgramData/CallSupport/config.toml");
        install(&file, &to).unwrap();
        assert_eq!(std::fs::read_to_string(&to).unwrap(), VALID);
        // Installed again over itself: still whole, nothing left beside it.
        install(&file, &to).unwrap();
        let names: Vec<_> = std::fs::read_dir(to.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["config.toml"]);
    }

    #[test]
    fn an_invalid_file_names_its_problems_and_leaves_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("org.toml");
        std::fs::write(&file, "[ticket_api]\nurl = 5\nbogus = 1\n").unwrap();
        let to = dir.path().join("config.toml");
        std::fs::write(&to, VALID).unwrap();
        let err = install(&file, &to).unwrap_err();
        let DeployError::Invalid { problems, .. } = &err else {
            panic!("{err:?}");
        };
        assert!(
            problems
                .iter()
                .any(|p| p.key.as_deref() == Some("ticket_api.bogus") && p.line == Some(3)),
            "{problems:?}"
        );
        assert!(err.to_string().contains("nothing was installed"), "{err}");
        assert_eq!(std::fs::read_to_string(&to).unwrap(), VALID);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn a_missing_file_and_an_unwritable_place_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = install(&dir.path().join("absent.toml"), &dir.path().join("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("absent.toml") && err.contains("cannot read"),
            "{err}"
        );

        let file = dir.path().join("org.toml");
        std::fs::write(&file, VALID).unwrap();
        // A folder where the file should go cannot be replaced by it.
        let to = dir.path().join("taken");
        std::fs::create_dir(&to).unwrap();
        let err = install(&file, &to).unwrap_err().to_string();
        assert!(
            err.contains("taken") && err.contains("cannot write"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            2,
            "nothing left beside"
        );
    }
}
