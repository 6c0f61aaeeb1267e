//! What a source's files are, and the sources the app itself adds to a bundle.

use serde::{Deserialize, Serialize};

/// The source of the app's own log, which every bundle carries (`files/callsupport/…`).
pub const APPLOG_SOURCE_ID: &str = "callsupport";
/// The source of a screenshot the user added to a report (`files/screenshot/…`).
pub const SCREENSHOT_SOURCE_ID: &str = "screenshot";

/// What a source's files are, which decides how they are packed and whether they can be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// Vendor-encrypted SDK or media-stack logs (`*.blog`, `*.etl`): stored as they are.
    Encrypted,
    /// Readable text logs.
    Text,
    /// Call client operations records, one JSON object a line.
    CallOperations,
    /// A screenshot the user added to a report: a picture, stored as it is. Not for configured
    /// sources (see [`SCREENSHOT_SOURCE_ID`]).
    #[cfg_attr(feature = "schema", schemars(skip))]
    Screenshot,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Encrypted => "encrypted",
            SourceKind::Text => "text",
            SourceKind::CallOperations => "call-operations",
            SourceKind::Screenshot => "screenshot",
        }
    }
}
