//! Windows: the value `Call Support` under the user's
//! `HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run`, the command line that starts
//! the agent at sign-in (with the same `--config`). A value of that name whose program is not the
//! agent is someone else's and is left alone.
//!
//! The per-machine installer starts the agent for every user from the same value under
//! `HKEY_LOCAL_MACHINE` (with `--at-login`, so a user who turned `startup.at_login` off sees it
//! exit at once). While that value is there the user's own is not needed, and one of ours is
//! taken out, so the agent is not started twice.

use std::path::Path;

use windows_registry::{CURRENT_USER, Key, LOCAL_MACHINE};

/// The user's login programs.
pub const RUN_KEY: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";
/// The value's name, which Windows shows in Task Manager's startup list.
pub const VALUE: &str = "Call Support";
/// The agent's program name, which marks a value as ours.
const AGENT_EXE: &str = "callsupport-tray.exe";

/// Puts the value under the user's `key` (`at_login`) or takes it out, minding the machine's
/// value under the same key; logs what changed.
pub fn apply(key: &str, at_login: bool, agent: &Path, config: Option<&Path>) {
    let machine = LOCAL_MACHINE.open(key).ok();
    match CURRENT_USER
        .create(key)
        .and_then(|user| sync(&user, machine.as_ref(), at_login, agent, config))
    {
        Ok(Some(done)) => log::info!("login start {done}: HKCU\\{key}\\{VALUE}"),
        Ok(None) => {}
        Err(err) => log::warn!(
            "login start not {}: HKCU\\{key}\\{VALUE}: {err}",
            if at_login { "set up" } else { "removed" }
        ),
    }
}

/// What was done to the user's value under `run`, if anything; `machine` is the machine's `Run`
/// key, when it can be read.
pub fn sync(
    run: &Key,
    machine: Option<&Key>,
    at_login: bool,
    agent: &Path,
    config: Option<&Path>,
) -> windows_registry::Result<Option<&'static str>> {
    let existing = run.get_string(VALUE).ok();
    let ours = existing.as_deref().is_some_and(is_ours);
    if existing.is_some() && !ours {
        return Ok(None);
    }
    let machine_starts_it = machine
        .and_then(|key| key.get_string(VALUE).ok())
        .is_some_and(|line| is_ours(&line));
    if !at_login || machine_starts_it {
        if ours {
            run.remove_value(VALUE)?;
            return Ok(Some(if machine_starts_it {
                "left to the machine's (removed)"
            } else {
                "removed"
            }));
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

    /// The user's value, synced under the scratch key with no machine value.
    fn sync_user(
        key: &ScratchKey,
        at_login: bool,
        agent: &Path,
        config: Option<&Path>,
    ) -> Option<&'static str> {
        sync(
            &CURRENT_USER.create(&key.0).unwrap(),
            None,
            at_login,
            agent,
            config,
        )
        .unwrap()
    }

    #[test]
    fn set_up_kept_updated_and_removed_in_the_registry_but_never_someone_elses() {
        let key = ScratchKey::new();
        let agent = Path::new(r"C:\Program Files\Call Support\callsupport-tray.exe");
        assert_eq!(sync_user(&key, true, agent, None), Some("set up"));
        assert_eq!(
            value(&key.0).as_deref(),
            Some(r#""C:\Program Files\Call Support\callsupport-tray.exe""#)
        );
        assert_eq!(sync_user(&key, true, agent, None), None, "unchanged");
        let config = Path::new(r"C:\ProgramData\Call Support\callsupport.toml");
        assert_eq!(sync_user(&key, true, agent, Some(config)), Some("updated"));
        assert_eq!(
            value(&key.0).as_deref(),
            Some(
                r#""C:\Program Files\Call Support\callsupport-tray.exe" --config "C:\ProgramData\Call Support\callsupport.toml""#
            )
        );
        assert_eq!(sync_user(&key, false, agent, None), Some("removed"));
        assert_eq!(value(&key.0), None);
        assert_eq!(sync_user(&key, false, agent, None), None);

        // Someone else's value of that name is theirs.
        CURRENT_USER
            .create(&key.0)
            .unwrap()
            .set_string(VALUE, r"C:\Other\other.exe /start")
            .unwrap();
        assert_eq!(sync_user(&key, false, agent, None), None);
        assert_eq!(sync_user(&key, true, agent, None), None);
        assert_eq!(value(&key.0).as_deref(), Some(r"C:\Other\other.exe /start"));
    }

    #[test]
    fn the_machines_start_at_sign_in_replaces_the_users_own() {
        let user = ScratchKey::new();
        let machine = ScratchKey::new();
        let agent = Path::new(r"C:\Program Files\Call Support\callsupport-tray.exe");
        assert_eq!(sync_user(&user, true, agent, None), Some("set up"));
        let machine_key = CURRENT_USER.create(&machine.0).unwrap();
        // Someone else's machine value changes nothing.
        machine_key
            .set_string(VALUE, r"C:\Other\other.exe")
            .unwrap();
        let user_key = CURRENT_USER.create(&user.0).unwrap();
        assert_eq!(
            sync(&user_key, Some(&machine_key), true, agent, None).unwrap(),
            None
        );
        assert!(value(&user.0).is_some());
        // The installer's value: the user's own goes, and is not put back.
        machine_key
            .set_string(VALUE, format!("{} --at-login", command_line(agent, None)))
            .unwrap();
        assert_eq!(
            sync(&user_key, Some(&machine_key), true, agent, None).unwrap(),
            Some("left to the machine's (removed)")
        );
        assert_eq!(value(&user.0), None);
        assert_eq!(
            sync(&user_key, Some(&machine_key), true, agent, None).unwrap(),
            None
        );
        assert_eq!(value(&user.0), None);
    }

    #[test]
    fn only_the_agent_counts_as_ours() {
        assert!(is_ours(r#""C:\x\callsupport-tray.exe" --config "c.toml""#));
        assert!(is_ours(r"C:\x\CALLSUPPORT-TRAY.EXE"));
        assert!(!is_ours(r#""C:\x\callsupport-app.exe""#));
        assert!(!is_ours(""));
    }
}
