//! The support agent's side of the ticket API: a ticket's bundle (or one added to it later)
//! downloaded by ticket id with an agent token, checked against the SHA-256 the server recorded,
//! and written under a name that did not exist (written aside, linked into place; nothing
//! half-written is left); links asking the user for more logs made ([`make_link`]); and the
//! service's public key for links, which the app checks them with ([`link_key`]).

use callsupport_error::{Coded, ErrorCode};
use std::io::Write;
use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{UploadError, http_client};
use callsupport_bundle::progress::Progress;
use callsupport_bundle::writer::{Partial, WriteError};
use callsupport_config::TicketApiConfig;

/// A bundle downloaded for a ticket.
#[derive(Debug, Clone, Serialize)]
pub struct Fetched {
    pub ticket_id: String,
    /// The added bundle fetched ([`fetch_added`]); `None` for the ticket's own.
    pub bundle_id: Option<String>,
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: String,
    /// Where the ticket stands in the organisation's ticket system, when the service forwards.
    pub ticket_system: Option<TicketSystemView>,
    /// The bundles added to the ticket later (support asked for logs), oldest first.
    pub added: Vec<AddedBundle>,
}

/// Where a ticket stands in the organisation's ticket system (Azure DevOps), as the service
/// that forwards it says (the ticket's `forward`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TicketSystemView {
    /// The ticket is there, with its bundle.
    pub done: bool,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub work_item_id: Option<i64>,
    /// Where a person opens the work item.
    pub work_item_url: Option<String>,
    /// Attempts made so far.
    pub attempts: u32,
    /// Why the last attempt failed, in the service's words.
    pub last_error: Option<String>,
    /// While not done: when the service tries again (UTC, RFC 3339).
    pub next_attempt_at: Option<String>,
}

impl TicketSystemView {
    /// From a ticket record's `forward`, if it has one.
    pub fn of(record: &serde_json::Value) -> Option<TicketSystemView> {
        let forward = record.get("forward").filter(|f| f.is_object())?;
        let text = |key: &str| forward[key].as_str().map(str::to_owned);
        let done = !forward["done_at"].is_null();
        Some(TicketSystemView {
            done,
            work_item_id: forward["work_item_id"].as_i64(),
            work_item_url: text("work_item_url"),
            attempts: forward["attempts"].as_u64().unwrap_or(0) as u32,
            last_error: text("last_error"),
            next_attempt_at: if done { None } else { text("next_at") },
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("`{0}` is not a ticket id; use the id support quotes, such as CS-000042")]
    BadTicketId(String),
    #[error("no agent token: set the environment variable {0} to the ticket API's agent token")]
    MissingToken(String),
    #[error("cannot reach the support service at {host}: {detail}")]
    Unreachable { host: String, detail: String },
    #[error("the support service at {host} refused the agent token ({status}); check it")]
    Refused { host: String, status: u16 },
    #[error("the support service has no ticket {0}")]
    NoSuchTicket(String),
    #[error(
        "ticket {ticket} has no added bundle `{bundle}`; `callsupport fetch {ticket}` lists those it has"
    )]
    NoSuchAdded { ticket: String, bundle: String },
    #[error(
        "cannot check this link with the support service at {host} ({detail}); ask support to send it again, or ask IT to set ticket_api.link_key"
    )]
    NoLinkKey { host: String, detail: String },
    #[error("the support service failed ({status}) for ticket {ticket}: {detail}")]
    Failed {
        ticket: String,
        status: u16,
        detail: String,
    },
    #[error(
        "the bundle of {ticket} arrived as {actual} but the service recorded {expected}; nothing was kept, try again"
    )]
    Damaged {
        ticket: String,
        expected: String,
        actual: String,
    },
    #[error("the download of {0} was cancelled; nothing was kept")]
    Cancelled(String),
    #[error(transparent)]
    Client(#[from] UploadError),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// How much is received between two progress reports (and at the end).
const PROGRESS_EVERY: u64 = 1 << 20;

/// Downloads the bundle of `ticket_id` to `out` (which must not exist), with `token`, telling
/// `on_progress` as it goes ([`Progress::Downloading`]); `false` from it cancels the download.
/// The answer also lists the bundles added to the ticket later ([`Fetched::added`]).
pub async fn fetch_bundle(
    api: &TicketApiConfig,
    token: &str,
    ticket_id: &str,
    out: &Path,
    on_progress: impl FnMut(Progress) -> bool,
) -> Result<Fetched, FetchError> {
    fetch(api, token, ticket_id, None, out, on_progress).await
}

/// Downloads bundle `bundle_id`, added to `ticket_id` later (support asked for logs), as
/// [`fetch_bundle`] does the ticket's own.
pub async fn fetch_added(
    api: &TicketApiConfig,
    token: &str,
    ticket_id: &str,
    bundle_id: &str,
    out: &Path,
    on_progress: impl FnMut(Progress) -> bool,
) -> Result<Fetched, FetchError> {
    fetch(api, token, ticket_id, Some(bundle_id), out, on_progress).await
}

async fn fetch(
    api: &TicketApiConfig,
    token: &str,
    ticket_id: &str,
    added: Option<&str>,
    out: &Path,
    mut on_progress: impl FnMut(Progress) -> bool,
) -> Result<Fetched, FetchError> {
    let id = ticket_id_of(ticket_id)?;
    if out.exists() {
        return Err(WriteError::OutputExists(out.to_path_buf()).into());
    }
    let client = http_client(api)?;
    let host = api.destination_host();
    let ticket_url = ticket_url(api, id);
    let unreachable = |err: reqwest::Error| FetchError::Unreachable {
        host: host.clone(),
        detail: err.to_string(),
    };
    let record = client
        .get(&ticket_url)
        .bearer_auth(token)
        .send()
        .await
        .map_err(unreachable)?;
    let record: serde_json::Value = check(record, id, &host)
        .await?
        .json()
        .await
        .map_err(unreachable)?;
    let added_bundles = AddedBundle::list(&record);
    let (url, expected, recorded_bytes) = match added {
        None => (
            format!("{ticket_url}/bundle"),
            record["bundle_sha256"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            record["bundle_bytes"].as_u64(),
        ),
        Some(bundle_id) => {
            let bundle = added_bundles
                .iter()
                .find(|b| b.bundle_id == bundle_id.trim())
                .ok_or_else(|| FetchError::NoSuchAdded {
                    ticket: id.to_owned(),
                    bundle: bundle_id.chars().take(80).collect(),
                })?;
            (
                format!("{ticket_url}/attachments/{}", bundle.bundle_id),
                bundle.bundle_sha256.clone(),
                Some(bundle.bundle_bytes),
            )
        }
    };

    let response = client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .map_err(unreachable)?;
    let response = check(response, id, &host).await?;
    let bytes_total = response.content_length().or(recorded_bytes).unwrap_or(0);
    let partial = Partial::create(out, uuid::Uuid::now_v7())?;
    let output = |source: std::io::Error| WriteError::Output {
        path: out.to_path_buf(),
        source,
    };
    let mut file = std::io::BufWriter::new(partial.file.try_clone().map_err(output)?);
    let (mut sha, mut bytes, mut reported) = (Sha256::new(), 0u64, 0u64);
    let mut body = response.bytes_stream();
    let mut tell = |bytes_received| {
        on_progress(Progress::Downloading {
            bytes_received,
            bytes_total: bytes_total.max(bytes_received),
        })
    };
    if !tell(0) {
        return Err(FetchError::Cancelled(id.to_owned()));
    }
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(unreachable)?;
        sha.update(&chunk);
        file.write_all(&chunk).map_err(output)?;
        bytes += chunk.len() as u64;
        if bytes - reported >= PROGRESS_EVERY {
            reported = bytes;
            if !tell(bytes) {
                return Err(FetchError::Cancelled(id.to_owned()));
            }
        }
    }
    tell(bytes);
    file.flush().map_err(output)?;
    drop(file);
    let actual = hex::encode(sha.finalize());
    if actual != expected {
        return Err(FetchError::Damaged {
            ticket: id.to_owned(),
            expected,
            actual,
        });
    }
    let path = partial.commit(out)?;
    log::info!(
        "fetched {} of {id} ({bytes} bytes)",
        added.map_or("the bundle".to_owned(), |b| format!("added bundle {b}"))
    );
    Ok(Fetched {
        ticket_id: id.to_owned(),
        bundle_id: added.map(str::to_owned),
        path,
        bytes,
        sha256: actual,
        ticket_system: TicketSystemView::of(&record),
        added: added_bundles,
    })
}

/// The ticket's address on the service.
fn ticket_url(api: &TicketApiConfig, id: &str) -> String {
    format!("{}/{id}", api.parsed_url().as_str().trim_end_matches('/'))
}

/// A link asking the user for more logs for a ticket, as the service made it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MadeLink {
    pub link_id: String,
    pub ticket_id: String,
    /// The link to send the user.
    pub url: String,
    /// Until when the user can open it (UTC, RFC 3339).
    pub expires_at: String,
    /// How many reports may come through it.
    pub max_uses: u32,
    pub uses: u32,
}

/// Asks the service for a link for `ticket_id`, lasting `hours` and usable `uses` times (the
/// service's defaults when `None`), with the agent's `token`.
pub async fn make_link(
    api: &TicketApiConfig,
    token: &str,
    ticket_id: &str,
    hours: Option<u32>,
    uses: Option<u32>,
) -> Result<MadeLink, FetchError> {
    let id = ticket_id_of(ticket_id)?;
    let client = http_client(api)?;
    let host = api.destination_host();
    let unreachable = |err: reqwest::Error| FetchError::Unreachable {
        host: host.clone(),
        detail: err.to_string(),
    };
    let mut body = serde_json::Map::new();
    if let Some(hours) = hours {
        body.insert("hours".into(), hours.into());
    }
    if let Some(uses) = uses {
        body.insert("uses".into(), uses.into());
    }
    let response = client
        .post(format!("{}/links", ticket_url(api, id)))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .map_err(unreachable)?;
    let made: MadeLink = check(response, id, &host)
        .await?
        .json()
        .await
        .map_err(unreachable)?;
    log::info!(
        "made link {} for {id}, until {}",
        made.link_id,
        made.expires_at
    );
    Ok(made)
}

/// The service's public key for links ([`callsupport_link`]), asked of it at `/api/v1/link-key`
/// (beside the tickets' address); no token is needed.
pub async fn link_key(api: &TicketApiConfig) -> Result<callsupport_link::PublicKey, FetchError> {
    let client = http_client(api)?;
    let host = api.destination_host();
    let unreachable = |err: reqwest::Error| FetchError::Unreachable {
        host: host.clone(),
        detail: err.to_string(),
    };
    let url = api
        .parsed_url()
        .join("link-key")
        .map_err(|err| FetchError::NoLinkKey {
            host: host.clone(),
            detail: err.to_string(),
        })?;
    let response = client.get(url).send().await.map_err(unreachable)?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError::NoLinkKey {
            host,
            detail: format!("it answered {status}; it may need an update"),
        });
    }
    let answer: serde_json::Value = response.json().await.map_err(unreachable)?;
    answer["key"]
        .as_str()
        .and_then(|key| callsupport_link::PublicKey::parse(key).ok())
        .ok_or_else(|| FetchError::NoLinkKey {
            host,
            detail: "its answer holds no key".to_owned(),
        })
}

/// A bundle added to a ticket later, as the ticket's record lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AddedBundle {
    pub bundle_id: String,
    /// When it arrived (UTC, RFC 3339).
    pub created_at: String,
    /// What the user wrote.
    pub summary: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub bundle_bytes: u64,
    pub bundle_sha256: String,
}

impl AddedBundle {
    /// The record's `attachments`, oldest first.
    pub fn list(record: &serde_json::Value) -> Vec<AddedBundle> {
        let Some(list) = record["attachments"].as_array() else {
            return Vec::new();
        };
        list.iter()
            .filter_map(|a| {
                let text = |key: &str| a[key].as_str().map(str::to_owned);
                Some(AddedBundle {
                    bundle_id: text("bundle_id")?,
                    created_at: text("created_at").unwrap_or_default(),
                    summary: text("summary").unwrap_or_default(),
                    bundle_bytes: a["bundle_bytes"].as_u64().unwrap_or(0),
                    bundle_sha256: text("bundle_sha256")?,
                })
            })
            .collect()
    }
}

/// `raw` as a ticket id (letters, digits, `-` and `_`, at most 64), surrounding spaces removed;
/// nothing else can name a ticket, a URL path or a file.
pub fn ticket_id_of(raw: &str) -> Result<&str, FetchError> {
    let id = raw.trim();
    let fine = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if fine {
        Ok(id)
    } else {
        Err(FetchError::BadTicketId(raw.to_owned()))
    }
}

/// The response, or what its status means for the agent.
async fn check(
    response: reqwest::Response,
    id: &str,
    host: &str,
) -> Result<reqwest::Response, FetchError> {
    let status = response.status().as_u16();
    match status {
        200..=299 => Ok(response),
        401 | 403 => Err(FetchError::Refused {
            host: host.to_owned(),
            status,
        }),
        404 => Err(FetchError::NoSuchTicket(id.to_owned())),
        _ => Err(FetchError::Failed {
            ticket: id.to_owned(),
            status,
            detail: response
                .text()
                .await
                .unwrap_or_default()
                .chars()
                .take(300)
                .collect(),
        }),
    }
}

impl Coded for FetchError {
    fn code(&self) -> ErrorCode {
        match self {
            FetchError::BadTicketId(_)
            | FetchError::NoSuchTicket(_)
            | FetchError::NoSuchAdded { .. } => ErrorCode::ReportInvalid,
            FetchError::NoLinkKey { .. } => ErrorCode::Unreachable,
            FetchError::MissingToken(_) => ErrorCode::ConfigInvalid,
            FetchError::Unreachable { .. } => ErrorCode::Unreachable,
            FetchError::Refused { .. } => ErrorCode::Unauthorized,
            FetchError::Failed { .. } => ErrorCode::ServerBusy,
            FetchError::Damaged { .. } => ErrorCode::Integrity,
            FetchError::Client(err) => err.code(),
            FetchError::Write(err) => err.code(),
            FetchError::Cancelled(_) => ErrorCode::Cancelled,
        }
    }
}

#[cfg(test)]
mod ticket_system_tests {
    use super::*;

    #[test]
    fn a_forward_reads_as_done_or_waiting() {
        assert_eq!(
            TicketSystemView::of(&serde_json::json!({"ticket_id": "CS-1"})),
            None
        );
        let waiting = serde_json::json!({"forward": {
            "attempts": 2, "next_at": "2026-11-25T10:00:00.000Z", "done_at": null,
            "work_item_id": null, "work_item_url": null,
            "last_error": "Azure DevOps answered 429 RequestBlockedException: slow down"
        }});
        let view = TicketSystemView::of(&waiting).unwrap();
        assert!(!view.done);
        assert_eq!(view.attempts, 2);
        assert_eq!(
            view.next_attempt_at.as_deref(),
            Some("2026-11-25T10:00:00.000Z")
        );
        assert!(view.last_error.unwrap().contains("429"));
        let done = serde_json::json!({"forward": {
            "attempts": 1, "next_at": "2026-11-25T10:00:00.000Z", "done_at": "2026-11-25T10:00:01.000Z",
            "work_item_id": 42, "work_item_url": "https://dev.azure.com/contoso/p/_workitems/edit/42",
            "last_error": null
        }});
        let view = TicketSystemView::of(&done).unwrap();
        assert!(view.done);
        assert_eq!(view.work_item_id, Some(42));
        assert_eq!(view.next_attempt_at, None);
    }
}
