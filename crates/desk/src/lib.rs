//! Call Support's use cases, shared by the desktop app, the tray agent and the CLI.
//!
//! # Brief overview
//!
//! [`api::Desk`] is what the shells call: it owns the live index of the configured sources, plans
//! a report through [`prepare`] (the one road, shared with the CLI, that keeps the organisation's
//! [`policy`]) into a [`collect::Plan`] and shows it with the exact statement the user agrees to
//! ([`consent`]), packs exactly that plan into a bundle, keeps it in the [`outbox`] until the
//! ticket API's receipt matches, and keeps the history. [`api::Viewer`] is the support agent's
//! side: a received bundle opened, checked and read. Beside them: our own log ([`applog`]), which
//! every bundle carries; screenshots ([`screenshot`]); links from support ([`support_link`]); and
//! the readiness checks of `callsupport doctor` ([`doctor`]). [`api`] also holds the types that
//! cross the IPC boundary, with their generated TypeScript, and [`error`] the one error the shells
//! see, with the codes they branch on.
//!
//! The layers below are re-exported under the names the shells use: [`bundle`] (the format and
//! the ticket API's contract), [`redact`], [`config`], [`sources`], [`index`], [`calls`],
//! [`detect`] and [`upload`]. This crate knows nothing of Tauri or any UI. Long operations report
//! through a callback ([`progress::Progress`]) that returns `false` to cancel.

pub mod api;
pub mod applog;
pub mod collect;
pub mod consent;
pub mod doctor;
pub mod error;
pub mod outbox;
pub mod policy;
pub mod prepare;
pub mod proxy;
pub mod screenshot;
pub mod support_link;
mod tidy;
pub mod unseal;

pub use error::{Error, ErrorCode};

// The layers below, under the names the shells use.
pub use callsupport_bundle as bundle;
pub use callsupport_bundle::{GENERATOR, VERSION, hash, host, progress, report, survey, ticket};
pub use callsupport_config as config;
pub use callsupport_config::{presets, shortcut};
pub use callsupport_logs::{calls, detect, index, sources, tail};
pub use callsupport_redact as redact;
pub use callsupport_seal as seal;
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
