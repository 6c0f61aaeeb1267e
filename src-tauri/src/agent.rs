//! The tray agent, `callsupport-tray`, installed beside the app: it holds the tray icon, the
//! report shortcut and the outbox while no window is open. The app starts it every time it
//! starts, unless the agent started the app; one already running keeps the job and the new one
//! ends at once.

use std::path::Path;
use std::process::{Command, Stdio};

/// Starts the agent beside this program, handing on `config`; its failure is logged, not fatal
/// (the app works without a tray).
pub fn ensure_running(config: Option<&Path>) {
    // Set by the agent in the environment of the apps it starts.
    if std::env::var_os("CALLSUPPORT_TRAY_AGENT").is_some() {
        return;
    }
    let program = callsupport_desk::program_beside("callsupport-tray");
    let mut command = Command::new(&program);
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    command.stdin(Stdio::null()).stdout(Stdio::null());
    // Its own process group: it outlives the app, and a Ctrl+C meant for the app does not reach it.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    match command.spawn() {
        Ok(mut child) => {
            // Reaped when it ends (at once, when another agent runs), so it never lingers as a zombie.
            std::thread::spawn(move || child.wait());
        }
        Err(err) => log::warn!("no tray: cannot start {}: {err}", program.display()),
    }
}
