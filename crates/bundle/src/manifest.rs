//! The `manifest.json` of a bundle: the format's contract (`docs/bundle-format.md` describes it).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::host::HostFacts;
use crate::kind::SourceKind;
use crate::report::Report;

/// The format tag of every bundle this version writes and reads.
pub const FORMAT: &str = "callsupport/bundle@1";
/// Name of the manifest entry inside the zip.
pub const MANIFEST_NAME: &str = "manifest.json";
/// Prefix of every collected file's entry.
pub const FILES_PREFIX: &str = "files/";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub bundle_id: Uuid,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub created_at: DateTime<Utc>,
    pub generator: Generator,
    pub host: HostFacts,
    pub report: Report,
    pub consent: Consent,
    pub sources: Vec<ManifestSource>,
    pub files: Vec<ManifestFile>,
    pub skipped: Vec<ManifestSkipped>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Generator {
    pub name: String,
    pub version: String,
}

/// What the user saw and agreed to before anything left the machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Consent {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub accepted_at: DateTime<Utc>,
    /// SHA-256 of the exact statement text shown on the consent screen.
    pub statement_sha256: String,
    /// The statement itself, word for word as its hash covers it: its paragraphs, one a line,
    /// then one `path<TAB>bytes` line a file. Absent in bundles written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    /// The version of the statement's wording, which changes whenever its sentences do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement_version: Option<String>,
    /// The language the statement was shown in (BCP 47, `en`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Whether readable files had personal details replaced.
    pub redaction: bool,
    /// Where the report was going: the ticket API's host, or `file` for an export.
    pub destination: String,
    /// The public keys (`age1…`) the bundle was sealed for; empty when it was not sealed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sealed_for: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ManifestSource {
    pub id: String,
    pub name: String,
    pub kind: SourceKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Stored,
    Deflated,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ManifestFile {
    /// Entry name inside the zip: `files/<source>/<relative path>`.
    pub path: String,
    pub source: String,
    /// Where it was on the user's machine, home folder shown as `~`.
    pub original_path: String,
    pub size: u64,
    pub sha256: String,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub modified_at: DateTime<Utc>,
    pub kind: SourceKind,
    pub encrypted: bool,
    /// The file grew while it was copied; the bundle holds it up to the size seen at the snapshot.
    pub truncated: bool,
    /// Replacements made in this file, in all.
    pub redactions: u32,
    /// Replacements by kind (`email`, `ipv4`, …).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub redactions_by_kind: std::collections::BTreeMap<String, u32>,
    /// Whether personal details were replaced in this file, and if not, why.
    #[serde(default)]
    pub redaction: FileRedaction,
    pub method: Method,
    /// A compressed file whose text was unpacked, cleaned and packed again in its own format:
    /// the entry is that new file (its `size` and `sha256` are the packed bytes').
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repacked: Option<Repacked>,
}

/// The format a cleaned compressed file was packed in again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Repacked {
    /// A gzip file (RFC 1952) of one member.
    Gzip,
    /// A zip archive: its text members cleaned, the others copied as they were.
    Zip,
}

/// Redaction of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum FileRedaction {
    /// Readable, and personal details were replaced.
    Applied,
    /// Readable, but redaction was turned off.
    #[default]
    Off,
    /// Cannot be read (encrypted by its vendor, a picture, binary, compressed in a format not
    /// unpacked here), so it cannot be redacted.
    Impossible,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ManifestSkipped {
    pub original_path: String,
    pub reason: String,
}
