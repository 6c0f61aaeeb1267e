//! The ticket API contract shared by the upload client and the reference server.
//!
//! `POST {ticket_api.url}` as `multipart/form-data`: part `report` ([`TicketRequest`] as JSON) and
//! part `bundle` (the zip), with `Idempotency-Key: <bundle_id>`. Success is `201` (or `200` for a
//! repeated key) with a [`TicketReceipt`]; errors are RFC 9457 [`Problem`] documents.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::report::Report;

/// Media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";
/// Header carrying the bundle id so a retried upload creates one ticket.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

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
