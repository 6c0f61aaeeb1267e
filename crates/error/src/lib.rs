//! The small set of codes the UI and scripts branch on, and the trait by which every crate's
//! errors say theirs.
//!
//! # Brief overview
//!
//! Each library crate keeps its own error types (`thiserror` enums that say what went wrong and
//! what to do) and implements [`Coded`] for them: the crate that knows a failure also knows what
//! kind it is. The use-case crate wraps them and asks them for their code; the shells turn that
//! into `{code, message}` at the IPC boundary and into exit statuses in the CLI. Nobody matches
//! on the English text.

use serde::{Deserialize, Serialize};

/// What kind of failure happened, for code that must react to it. A variant exists only because a
/// caller (the UI, or a script through the CLI's `--json`) branches on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The configuration is missing or wrong: IT must fix it.
    ConfigInvalid,
    /// A log folder is missing or unreadable.
    SourceUnavailable,
    /// The user's input needs fixing (e.g. empty summary, a file name, a ticket id).
    ReportInvalid,
    /// The user cancelled.
    Cancelled,
    /// The network or the server could not be reached: try again later.
    Unreachable,
    /// The server refused our credentials.
    Unauthorized,
    /// The server refused the report's content or size.
    Rejected,
    /// The server is overloaded or failed: try again later.
    ServerBusy,
    /// A bundle is damaged, or the server stored something else than we sent.
    Integrity,
    /// Reading or writing local files failed.
    Io,
    /// The organisation manages this setting; it cannot be changed here.
    Managed,
    /// A waiting report was agreed for another destination than the one configured now: it is
    /// held until the user agrees to the new one.
    DestinationChanged,
}

/// An error that knows which [`ErrorCode`] it is.
pub trait Coded {
    fn code(&self) -> ErrorCode;
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn codes_are_snake_case_words() {
        let json = serde_json::to_string(&ErrorCode::SourceUnavailable).unwrap();
        assert_eq!(json, "\"source_unavailable\"");
        let back: ErrorCode = serde_json::from_str("\"server_busy\"").unwrap();
        assert_eq!(back, ErrorCode::ServerBusy);
    }
}
