//! Start at sign-in (`startup.at_login`): the agent keeps the user's login start in step with the
//! configuration, so the report shortcut works and waiting reports go out after a restart.
//!
//! On Linux that is an XDG autostart entry ([`xdg`]); on Windows a value under the user's `Run`
//! key ([`run_key`]). Either is written only when it would change and removed when the setting is
//! off, and one not written by Call Support is left alone. On macOS it is not set up yet
//! (docs/install.md).

use std::path::PathBuf;

#[cfg(windows)]
pub mod run_key;
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub mod xdg;

/// This agent's login start: its own program and configuration file.
#[derive(Debug, Clone)]
pub struct LoginStart {
    agent: PathBuf,
    config: Option<PathBuf>,
}

impl LoginStart {
    pub fn new(config: Option<PathBuf>) -> LoginStart {
        let agent = std::env::current_exe().unwrap_or_else(|_| {
            PathBuf::from(format!("callsupport-tray{}", std::env::consts::EXE_SUFFIX))
        });
        // Relative to where the agent was started, it would not be found at sign-in.
        let config = config.map(|c| std::path::absolute(&c).unwrap_or(c));
        LoginStart { agent, config }
    }

    /// Puts the login start in place (`at_login`) or takes it out.
    pub fn set(&self, at_login: bool) {
        #[cfg(target_os = "linux")]
        if let Some(folder) = xdg::folder() {
            xdg::apply(&folder, at_login, &self.agent, self.config.as_deref());
        }
        #[cfg(windows)]
        run_key::apply(
            run_key::RUN_KEY,
            at_login,
            &self.agent,
            self.config.as_deref(),
        );
        #[cfg(not(any(target_os = "linux", windows)))]
        let _ = at_login;
    }
}
