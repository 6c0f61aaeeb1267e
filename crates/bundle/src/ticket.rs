//! The ticket API contract shared by the upload client and the reference server.
//!
//! `POST {ticket_api.url}` as `multipart/form-data`: part `report` ([`TicketRequest`] as JSON) and
//! part `bundle` (the zip), with `Idempotency-Key: <bundle_id>`. Success is `201` (or `200` for a
//! repeated key) with a [`TicketReceipt`]; errors are RFC 9457 [`Problem`] documents.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use std::path::Path;

use crate::host::HostFacts;
use crate::reader::{Bundle, ReadError};
use crate::report::Report;
use crate::writer::WrittenBundle;

/// Media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";
/// Header carrying the bundle id so a retried upload creates one ticket.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// The resumable upload protocol (tus 1.0) as the client and the reference server both speak it:
/// its version, its `PATCH` media type, its own status and its headers (lower case, as HTTP
/// libraries compare them).
pub mod tus {
    /// The protocol version.
    pub const VERSION: &str = "1.0.0";
    /// The media type of a `PATCH` body.
    pub const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";
    /// Status for a chunk whose checksum does not match (the checksum extension's own code).
    pub const CHECKSUM_MISMATCH: u16 = 460;

    pub const TUS_RESUMABLE: &str = "tus-resumable";
    pub const TUS_VERSION: &str = "tus-version";
    pub const TUS_EXTENSION: &str = "tus-extension";
    pub const TUS_MAX_SIZE: &str = "tus-max-size";
    pub const TUS_CHECKSUM_ALGORITHM: &str = "tus-checksum-algorithm";
    pub const UPLOAD_OFFSET: &str = "upload-offset";
    pub const UPLOAD_LENGTH: &str = "upload-length";
    pub const UPLOAD_METADATA: &str = "upload-metadata";
    pub const UPLOAD_CHECKSUM: &str = "upload-checksum";
    pub const UPLOAD_EXPIRES: &str = "upload-expires";
    pub const UPLOAD_DEFER_LENGTH: &str = "upload-defer-length";
}

/// The `report` part of a ticket request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketRequest {
    #[serde(flatten)]
    pub report: Report,
    pub bundle_id: Uuid,
    pub bundle_sha256: String,
    pub app_version: String,
    pub os_version: String,
}

impl TicketRequest {
    /// The `report` part for a bundle just written.
    pub fn for_bundle(bundle: &WrittenBundle) -> TicketRequest {
        TicketRequest {
            report: bundle.manifest.report.clone(),
            bundle_id: bundle.manifest.bundle_id,
            bundle_sha256: bundle.sha256.clone(),
            app_version: crate::VERSION.to_owned(),
            os_version: bundle.manifest.host.os_version.clone(),
        }
    }

    /// The `report` part for a bundle read back from disk (`callsupport submit`), opened as a
    /// reader does, with the bundle's size.
    pub fn for_file(path: &Path) -> Result<(TicketRequest, u64), ReadError> {
        let bundle = Bundle::open(path)?;
        let (sha256, bytes) = crate::hash::sha256_file(path).map_err(|source| ReadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let manifest = bundle.manifest;
        let request = TicketRequest {
            report: manifest.report,
            bundle_id: manifest.bundle_id,
            bundle_sha256: sha256,
            app_version: crate::VERSION.to_owned(),
            os_version: if manifest.host.os_version.is_empty() {
                HostFacts::current().os_version
            } else {
                manifest.host.os_version
            },
        };
        Ok((request, bytes))
    }
}

/// The server's answer once it has stored the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketReceipt {
    pub ticket_id: String,
    pub ticket_url: String,
    pub bundle_sha256: String,
    pub bundle_bytes: u64,
}

/// An RFC 9457 problem document with a machine-readable `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    #[serde(rename = "type", default = "about_blank")]
    pub kind: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub status: u16,
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    pub code: String,
}

fn about_blank() -> String {
    "about:blank".to_owned()
}

impl Problem {
    pub fn new(status: u16, code: &str, title: &str, detail: impl Into<String>) -> Problem {
        Problem {
            kind: about_blank(),
            title: title.to_owned(),
            status,
            detail: detail.into(),
            code: code.to_owned(),
        }
    }
}
