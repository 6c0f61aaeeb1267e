//! The support agent's side of the ticket API: a ticket's bundle downloaded by ticket id with an
//! agent token, checked against the SHA-256 the server recorded, and written under a name that
//! did not exist (written aside, linked into place; nothing half-written is left).

use std::io::Write;
use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::bundle::writer::{Partial, WriteError};
use crate::config::TicketApiConfig;
use crate::upload::{UploadError, http_client};

/// A bundle downloaded for a ticket.
#[derive(Debug, Clone, Serialize)]
pub struct Fetched {
    pub ticket_id: String,
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: String,
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
    #[error(transparent)]
    Client(#[from] UploadError),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Downloads the bundle of `ticket_id` to `out` (which must not exist), with `token`.
pub async fn fetch_bundle(
    api: &TicketApiConfig,
    token: &str,
    ticket_id: &str,
    out: &Path,
) -> Result<Fetched, FetchError> {
    let id = ticket_id.trim();
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(FetchError::BadTicketId(ticket_id.to_owned()));
    }
    if out.exists() {
        return Err(WriteError::OutputExists(out.to_path_buf()).into());
    }
    let client = http_client(api)?;
    let host = api.destination_host();
    let base = api.parsed_url();
    let ticket_url = format!("{}/{id}", base.as_str().trim_end_matches('/'));
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
    let expected = record["bundle_sha256"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let response = client
        .get(format!("{ticket_url}/bundle"))
        .bearer_auth(token)
        .send()
        .await
        .map_err(unreachable)?;
    let response = check(response, id, &host).await?;
    let partial = Partial::create(out, uuid::Uuid::now_v7())?;
    let output = |source: std::io::Error| WriteError::Output {
        path: out.to_path_buf(),
        source,
    };
    let mut file = std::io::BufWriter::new(partial.file.try_clone().map_err(output)?);
    let (mut sha, mut bytes) = (Sha256::new(), 0u64);
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(unreachable)?;
        sha.update(&chunk);
        file.write_all(&chunk).map_err(output)?;
        bytes += chunk.len() as u64;
    }
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
    log::info!("fetched the bundle of {id} ({bytes} bytes)");
    Ok(Fetched {
        ticket_id: id.to_owned(),
        path,
        bytes,
        sha256: actual,
    })
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
