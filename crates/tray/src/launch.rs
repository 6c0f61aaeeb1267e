//! Starts the app, `callsupport-app`, to show a screen. The app runs once per user: when it
//! already runs, the new launch hands the screen to it and ends.

use std::path::PathBuf;
use std::process::Command;

use crate::menu::View;

/// Set in the app's environment when the agent started it (the agent's process id).
pub const AGENT_ENV: &str = "CALLSUPPORT_TRAY_AGENT";

pub struct Launcher {
    program: PathBuf,
    config: Option<PathBuf>,
}

impl Launcher {
    /// The app installed beside the agent; `config` is handed on.
    pub fn new(config: Option<PathBuf>) -> Launcher {
        Launcher {
            program: callsupport_desk::program_beside("callsupport-app"),
            config,
        }
    }

    pub fn show(&self, view: View) {
        self.start(&["--show", view.as_str()], view.as_str());
    }

    /// The report screen, filled from detection `id` (the user answered a prompt).
    pub fn report_detection(&self, id: &str) {
        self.start(
            &["--show", View::Report.as_str(), "--detection", id],
            "a detection",
        );
    }

    /// The end-of-call survey about `call_id`.
    pub fn survey(&self, call_id: &str) {
        self.start(&["--survey", call_id], "the survey");
    }

    fn start(&self, args: &[&str], what: &str) {
        let mut command = Command::new(&self.program);
        command.args(args);
        // The app need not start an agent: this one runs.
        command.env(AGENT_ENV, std::process::id().to_string());
        if let Some(config) = &self.config {
            command.arg("--config").arg(config);
        }
        match command.spawn() {
            Ok(mut child) => {
                log::info!("app started for {what}");
                // Reaped when it ends, so no finished app lingers as a zombie.
                std::thread::spawn(move || child.wait());
            }
            Err(err) => log::error!("cannot start {}: {err}", self.program.display()),
        }
    }
}
