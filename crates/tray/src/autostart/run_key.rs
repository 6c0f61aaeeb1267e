//! Windows: the value `Call Support` under the user's
//! `HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run`, the command line that starts
//! the agent at sign-in (with the same `--config`). A value of that name whose program is not the
//! agent is someone else's and is left alone.

use std::io;
use std::path::Path;

use windows_registry::CURRENT_USER;

/// The user's login programs.
pub const RUN_KEY: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";
/// The value's name, which Windows shows in Task Manager's startup list.
pub const VALUE: &str = "Call Support";
/// The agent's program name, which marks a value as ours.
const AGENT_EXE: &str = "callsupport-tray.exe";

/// Puts the value under `key` (`at_login`) or takes it out; logs what changed.
pub fn apply(key: &str, at_login: bool, agent: &Path, config: Option<&Path>) {
    match sync(key, at_login, agent, config) {
        Ok(Some(done)) => log::info!("login start {done}: HKCU\\{key}\\{VALUE}"),
        Ok(None) => {}
        Err(err) => log::warn!(
            "login start not {}: HKCU\\{key}\\{VALUE}: {err}",
            if at_login { "set up" } else { "removed" }
        ),
    }
}

/// What was done, if anything.
pub fn sync(
    key: &str,
    at_login: bool,
    agent: &Path,
    config: Option<&Path>,
) -> io::Result<Option<&'static str>> {
    let run = CURRENT_USER.create(key)?;
    let existing = run.get_string(VALUE).ok();
    let ours = existing.as_deref().is_some_and(is_ours);
    if existing.is_some() && !ours {
        return Ok(None);
    }
    if !at_login {
        if ours {
            run.remove_value(VALUE)?;
            return Ok(Some("removed"));
        }
        return Ok(None);
    }
    let wanted = command_line(agent, config);
    if existing.as_deref() == Some(wanted.as_str()) {
        return Ok(None);
    }
    run.set_string(VALUE, &wanted)?;
    Ok(Some(if existing.is_some() {
        "updated"
    } else {
        "set up"
    }))
}

/// The command line that starts `agent` (with `--config`): each path in double quotes, which a
/// Windows path cannot contain.
pub fn command_line(agent: &Path, config: Option<&Path>) -> String {
    let mut line = format!("\"{}\"", agent.display());
    if let Some(config) = config {
        line.push_str(&format!(" --config \"{}\"", config.display()));
    }
    line
}

/// Whether a registered command line starts the agent.
fn is_ours(line: &str) -> bool {
    Path::new(callsupport_desk::doctor::registered_program(line))
        .file_name()
        .is_some_and(|name| name.eq_ignore_ascii_case(AGENT_EXE))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key of its own under the test user's hive, removed afterwards.
    struct ScratchKey(String);

    impl ScratchKey {
        fn new() -> ScratchKey {
            ScratchKey(format!(
                r"Software\CallSupportTests\{}-{}\Run",
                std::process::id(),
                unique_suffix()
            ))
        }
    }

    impl Drop for ScratchKey {
        fn drop(&mut self) {
            let parent = self.0.trim_end_matches(r"\Run");
            let _ = CURRENT_USER.remove_tree(parent);
        }
    }

    fn unique_suffix() -> u128 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    }

    fn value(key: &str) -> Option<String> {
        CURRENT_USER.open(key).ok()?.get_string(VALUE).ok()
    }

    #[test]
    fn set_up_kept_updated_and_removed_in_the_registry_but_never_someone_elses() {
        let key = ScratchKey::new();
        let agent = Path::new(r"C:\Program Files\Call Support\callsupport-tray.exe");
        assert_eq!(sync(&key.0, true, agent, None).unwrap(), Some("set up"));
        assert_eq!(
            value(&key.0).as_deref(),
            Some(r#""C:\Program Files\Call Support\callsupport-tray.exe""#)
        );
        assert_eq!(sync(&key.0, true, agent, None).unwrap(), None, "unchanged");
        let config = Path::new(r"C:\ProgramData\Call Support\callsupport.toml");
        assert_eq!(
            sync(&key.0, true, agent, Some(config)).unwrap(),
            Some("updated")
        );
        assert_eq!(
            value(&key.0).as_deref(),
            Some(
                r#""C:\Program Files\Call Support\callsupport-tray.exe" --config "C:\ProgramData\Call Support\callsupport.toml""#
            )
        );
        assert_eq!(sync(&key.0, false, agent, None).unwrap(), Some("removed"));
        assert_eq!(value(&key.0), None);
        assert_eq!(sync(&key.0, false, agent, None).unwrap(), None);

        // Someone else's value of that name is theirs.
        CURRENT_USER
            .create(&key.0)
            .unwrap()
            .set_string(VALUE, r"C:\Other\other.exe /start")
            .unwrap();
        assert_eq!(sync(&key.0, false, agent, None).unwrap(), None);
        assert_eq!(sync(&key.0, true, agent, None).unwrap(), None);
        assert_eq!(value(&key.0).as_deref(), Some(r"C:\Other\other.exe /start"));
    }

    #[test]
    fn only_the_agent_counts_as_ours() {
        assert!(is_ours(r#""C:\x\callsupport-tray.exe" --config "c.toml""#));
        assert!(is_ours(r"C:\x\CALLSUPPORT-TRAY.EXE"));
        assert!(!is_ours(r#""C:\x\callsupport-app.exe""#));
        assert!(!is_ours(""));
    }
}
