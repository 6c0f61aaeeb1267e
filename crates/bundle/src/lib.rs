//! The support bundle format (`callsupport/bundle@1`) and the ticket API's wire contract: what the
//! app writes and sends, and what the reference server and the support agent's viewer read.
//!
//! # Brief overview
//!
//! [`manifest`] is the format's contract: the report ([`report`], with the end-of-call
//! [`survey`]), the host ([`host`]), the consent, and every file with its hash. [`writer`] streams
//! [`InputFile`]s into a bundle under a temporary name, hashing each one in the same pass through
//! [`zip_out`], our own zip container writer, writes the manifest last and renames the result into
//! place; readable files pass through a [`ContentFilter`] (redaction) on the way. [`readable`] says what can be read in a file (text, text in gzip or a zip archive), which the
//! writer, the preview and the consent statement all ask. [`reader`] opens
//! a bundle as hostile input and verifies every file against the manifest; [`extract`] writes its
//! files out, checked, into a new folder; [`vendor`] cuts out the encrypted logs for the SDK
//! vendor. [`ticket`] is the ticket API's wire contract (the request, the receipt, problem
//! documents, the tus vocabulary), shared by the upload client and the reference server.
//!
//! Long operations report through a callback ([`progress::Progress`]) that returns `false` to
//! cancel. This crate needs no system library and nothing of the app: the reference server and
//! the fuzz target depend on it alone.
//!
//! Features: `ts` derives the TypeScript declarations of the types the app's window shows,
//! `schema` their JSON Schema for the configuration, `openapi` their OpenAPI schemas for the
//! reference server's document.

pub mod display;
pub mod extract;
pub mod hash;
pub mod host;
mod kind;
pub mod manifest;
pub mod progress;
pub mod readable;
pub mod reader;
mod repack;
pub mod report;
pub mod survey;
pub mod ticket;
pub mod vendor;
pub mod writer;
pub mod zip_out;

pub use display::{HOME_SHOWN_AS, display_path, human_bytes};
pub use kind::{APPLOG_SOURCE_ID, SCREENSHOT_SOURCE_ID, SourceKind};
pub use manifest::{FORMAT, Manifest};
pub use writer::{ContentFilter, InputFile, Sealer};

/// The generator name written into every manifest and sent as the user agent.
pub const GENERATOR: &str = "callsupport";
/// This build's version, shared by the app, the CLI and the server.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
