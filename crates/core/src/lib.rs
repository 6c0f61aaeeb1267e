//! Call Support's domain logic, shared by the desktop app, the CLI and the reference ticket server.
//!
//! # Brief overview
//!
//! A [`config::Config`] names the ticket API and the log [`sources`]. [`sources::scan`] finds the
//! support files of each source; [`collect::collect`] snapshots them into a support bundle (a zip with
//! a `manifest.json`, see [`bundle`]); [`upload::submit`] posts the bundle to the ticket API and checks
//! the server's receipt. [`api`] holds the use cases the shells call and the types that cross the IPC
//! boundary, with their generated TypeScript.
//!
//! This crate knows nothing of Tauri or any UI. Long operations report through a callback
//! ([`progress::Progress`]) that returns `false` to cancel.

pub mod api;
pub mod applog;
pub mod collect;
pub mod consent;
pub mod doctor;
pub mod error;
pub mod outbox;
pub mod screenshot;
pub mod support_link;
mod tidy;

pub use error::{Error, ErrorCode};

// The layers below, under the names the shells use.
pub use callsupport_bundle as bundle;
pub use callsupport_bundle::{GENERATOR, VERSION, hash, host, progress, report, survey, ticket};
pub use callsupport_config as config;
pub use callsupport_config::{presets, shortcut};
pub use callsupport_logs::{calls, detect, index, sources, tail};
pub use callsupport_redact as redact;
pub use callsupport_upload as upload;
pub use callsupport_upload::{fetch, secrets};

/// The program `name` installed beside the running one (the app and its tray agent find each
/// other so, in an install and in `target/`); just the name, for the `PATH`, if that fails.
pub fn program_beside(name: &str) -> std::path::PathBuf {
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&file)))
        .unwrap_or_else(|| std::path::PathBuf::from(file))
}
