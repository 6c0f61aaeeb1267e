//! Linux: an XDG autostart entry, `~/.config/autostart/callsupport-tray.desktop`, which starts the
//! agent (with the same `--config`). The entry is written only when it would change and removed
//! when the setting is off; a file of that name not written by Call Support is left alone.

use std::io;
use std::path::{Path, PathBuf};

/// The entry's file name in the autostart folder.
pub const FILE_NAME: &str = "callsupport-tray.desktop";
/// The line that marks an entry as ours.
const MARK: &str = "X-CallSupport-Agent=true";

/// Where the entry goes: `$XDG_CONFIG_HOME/autostart`.
pub fn folder() -> Option<PathBuf> {
    dirs::config_dir().map(|dir| dir.join("autostart"))
}

/// Puts the entry in `folder` (`at_login`) or takes it out; logs what changed.
pub fn apply(folder: &Path, at_login: bool, agent: &Path, config: Option<&Path>) {
    match sync(folder, at_login, agent, config) {
        Ok(Some(done)) => log::info!("login start {done}: {}", folder.join(FILE_NAME).display()),
        Ok(None) => {}
        Err(err) => log::warn!(
            "login start not {}: {}: {err}",
            if at_login { "set up" } else { "removed" },
            folder.join(FILE_NAME).display()
        ),
    }
}

/// What was done, if anything.
fn sync(
    folder: &Path,
    at_login: bool,
    agent: &Path,
    config: Option<&Path>,
) -> io::Result<Option<&'static str>> {
    let path = folder.join(FILE_NAME);
    let existing = std::fs::read_to_string(&path).ok();
    let ours = existing.as_deref().is_some_and(|text| text.contains(MARK));
    if existing.is_some() && !ours {
        return Ok(None);
    }
    if !at_login {
        if ours {
            std::fs::remove_file(&path)?;
            return Ok(Some("removed"));
        }
        return Ok(None);
    }
    let wanted = entry(agent, config);
    if existing.as_deref() == Some(wanted.as_str()) {
        return Ok(None);
    }
    std::fs::create_dir_all(folder)?;
    let partial = folder.join(format!(".{FILE_NAME}.partial"));
    std::fs::write(&partial, &wanted)?;
    std::fs::rename(&partial, &path)?;
    Ok(Some(if existing.is_some() {
        "updated"
    } else {
        "set up"
    }))
}

/// The desktop entry that starts `agent` (with `--config`).
pub fn entry(agent: &Path, config: Option<&Path>) -> String {
    let mut exec = quote(&agent.to_string_lossy());
    if let Some(config) = config {
        exec.push_str(" --config ");
        exec.push_str(&quote(&config.to_string_lossy()));
    }
    // `TryExec`: once the package is removed, the entry left in the user's folder starts nothing.
    // A plain string value, where only `\` needs escaping.
    let try_exec = agent.to_string_lossy().replace('\\', "\\\\");
    format!(
        "[Desktop Entry]\nType=Application\nName=Call Support\nComment=Report calling problems to your support team\nExec={exec}\nTryExec={try_exec}\nIcon=callsupport-app\nTerminal=false\nNoDisplay=true\nX-GNOME-Autostart-enabled=true\n{MARK}\n"
    )
}

/// One `Exec` argument, quoted as the Desktop Entry specification asks: in double quotes, with
/// `"`, `` ` ``, `$` and `\` escaped; `%` doubled, since field codes start with it.
fn quote(arg: &str) -> String {
    let mut quoted = String::from("\"");
    for c in arg.chars() {
        match c {
            '"' | '`' | '$' | '\\' => {
                quoted.push('\\');
                quoted.push(c);
            }
            '%' => quoted.push_str("%%"),
            _ => quoted.push(c),
        }
    }
    quoted.push('"');
    // In a desktop file's value a backslash is itself escaped.
    quoted.replace('\\', "\\\\")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_starts_the_agent_with_its_config_quoted() {
        let text = entry(
            Path::new("/opt/Call Support/callsupport-tray"),
            Some(Path::new("/home/ana/100% \"mine\"/c.toml")),
        );
        assert!(
            text.contains(
                "Exec=\"/opt/Call Support/callsupport-tray\" --config \"/home/ana/100%% \\\\\"mine\\\\\"/c.toml\"\n"
            ),
            "{text}"
        );
        assert!(text.starts_with("[Desktop Entry]\nType=Application\n"));
        assert!(
            text.contains("\nTryExec=/opt/Call Support/callsupport-tray\n"),
            "{text}"
        );
    }

    #[test]
    fn set_up_kept_updated_and_removed_but_never_someone_elses() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("autostart");
        let agent = Path::new("/usr/bin/callsupport-tray");
        assert_eq!(sync(&folder, true, agent, None).unwrap(), Some("set up"));
        assert_eq!(sync(&folder, true, agent, None).unwrap(), None, "unchanged");
        let config = Path::new("/etc/c.toml");
        assert_eq!(
            sync(&folder, true, agent, Some(config)).unwrap(),
            Some("updated")
        );
        assert!(
            std::fs::read_to_string(folder.join(FILE_NAME))
                .unwrap()
                .contains("--config")
        );
        assert_eq!(sync(&folder, false, agent, None).unwrap(), Some("removed"));
        assert!(!folder.join(FILE_NAME).exists());
        assert_eq!(sync(&folder, false, agent, None).unwrap(), None);

        // The user's own file of that name is theirs.
        std::fs::write(folder.join(FILE_NAME), "[Desktop Entry]\nHidden=true\n").unwrap();
        assert_eq!(sync(&folder, false, agent, None).unwrap(), None);
        assert_eq!(sync(&folder, true, agent, None).unwrap(), None);
        assert_eq!(
            std::fs::read_to_string(folder.join(FILE_NAME)).unwrap(),
            "[Desktop Entry]\nHidden=true\n"
        );
        // Nothing half-written is left.
        assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 1);
    }
}
