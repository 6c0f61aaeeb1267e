//! The Call Support desktop app: a thin Tauri shell over `callsupport-core`.
//!
//! # Brief overview
//!
//! [`run`] reads the command line, loads the configuration into a core [`Desk`] kept in
//! `tauri::State`, and registers the commands of [`commands`], each a few lines that call the core.
//! A configuration that cannot be loaded does not stop the app: every command then answers with the
//! `config_invalid` error so the window can say what to fix.

mod args;
mod commands;

use callsupport_core::api::{ApiError, Desk, default_data_dir};
use callsupport_core::config::Config;

/// What the commands work on: the desk, or why there is none.
pub struct AppState {
    desk: Result<Desk, ApiError>,
}

impl AppState {
    fn desk(&self) -> Result<&Desk, ApiError> {
        self.desk.as_ref().map_err(Clone::clone)
    }
}

pub fn run() {
    let args = match args::Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(2);
        }
    };
    let desk = Config::locate(args.config.as_deref())
        .and_then(|path| Config::load(&path))
        .map(|config| Desk::new(config, default_data_dir()))
        .map_err(|err| ApiError::from(callsupport_core::Error::from(err)));
    if let Err(err) = &desk {
        eprintln!("warning: {}", err.message);
    }

    tauri::Builder::default()
        .manage(AppState { desk })
        .invoke_handler(tauri::generate_handler![
            commands::overview,
            commands::prepare_report,
            commands::send_report,
            commands::cancel_send,
        ])
        .run(tauri::generate_context!())
        .expect("error while running Call Support");
}
