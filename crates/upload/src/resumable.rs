//! A bundle sent as a resumable upload (tus 1.0), then named in the ticket request.
//!
//! # Brief overview
//!
//! [`Uploader::offer`] asks `OPTIONS` of the uploads endpoint beside the ticket API
//! (`…/api/v1/tickets` → `…/api/v1/uploads`) whether the server takes tus 1.0 with *creation* for a
//! bundle this size; anything else means one request instead. [`Uploader::send_resumable`] finds the
//! upload kept in the slot again (`HEAD`: the server's offset) or creates one (`POST`), then sends
//! the rest in chunks (`PATCH`), each with its SHA-256 as `Upload-Checksum` when the server offers
//! it, so a chunk cut off counts whole or not at all and a cut costs at most one chunk. A chunk
//! that breaks off (a cut connection, a new network), a `409` (the server is at another offset),
//! `423` (an earlier request still writing) or `460` (damaged on the way) is answered by asking
//! `HEAD` again and going on from there; only when that fails too, or three requests in a row move
//! nothing, does the attempt end (and the retry policy's wait begin). With every byte there, `POST {ticket_api.url}` with
//! JSON `{report, upload}` makes the ticket, and the slot is cleared.
//!
//! The token is only ever sent to the ticket API's own origin: an upload the server places on
//! another origin is left, and the bundle goes in one request.

use std::io::SeekFrom;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, LOCATION};
use reqwest::{Method, StatusCode, Url};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::slot::{Resume, ResumeSlot};
use super::{Meter, Sink, UploadError, Uploader, report};
use callsupport_bundle::ticket::tus::{
    CHECKSUM_MISMATCH, OFFSET_OCTET_STREAM, TUS_CHECKSUM_ALGORITHM, TUS_EXTENSION, TUS_MAX_SIZE,
    TUS_RESUMABLE, TUS_VERSION, UPLOAD_CHECKSUM, UPLOAD_LENGTH, UPLOAD_METADATA, UPLOAD_OFFSET,
    VERSION,
};
use callsupport_bundle::ticket::{IDEMPOTENCY_KEY, TicketReceipt, TicketRequest};

/// The bytes of one chunk unless [`Uploader::with_chunk_bytes`] says otherwise: what a cut
/// connection may cost.
pub const CHUNK_BYTES: usize = 4 << 20;
/// Progress is reported per piece of this size as a chunk goes out.
const PIECE_BYTES: usize = 256 * 1024;
/// Requests in a row that move the upload no further before the attempt gives up.
const STALLS: u32 = 3;

/// What the server offers for an upload of this size.
pub(super) struct Offer {
    endpoint: Url,
    /// `Upload-Checksum` with `sha256` is understood.
    checksum: bool,
}

/// How a resumable send ended.
pub(super) enum Resumable {
    Done(TicketReceipt),
    /// The upload cannot be used after all; the bundle goes in one request.
    NotHere,
}

impl Uploader {
    /// Whether the server takes a resumable upload of `length` bytes, and how.
    pub(super) async fn offer(&self, length: u64) -> Result<Option<Offer>, UploadError> {
        let Ok(endpoint) = self.url.join("uploads") else {
            return Ok(None);
        };
        let response = self
            .request(Method::OPTIONS, endpoint.clone())
            .send()
            .await
            .map_err(|err| self.unreachable(&err))?;
        if !response.status().is_success() {
            log::info!(
                "{} offers no resumable uploads ({}); sending in one request",
                self.host,
                response.status()
            );
            return Ok(None);
        }
        let headers = response.headers();
        let versions = list(headers, TUS_VERSION);
        let extensions = list(headers, TUS_EXTENSION);
        if !versions.iter().any(|v| v == VERSION) || !extensions.iter().any(|e| e == "creation") {
            log::info!(
                "{} offers tus {versions:?} with {extensions:?}, not 1.0.0 with creation; sending in one request",
                self.host
            );
            return Ok(None);
        }
        let max_size = headers
            .get(TUS_MAX_SIZE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if max_size.is_some_and(|max| length > max) {
            // The single request gets the server's own words for the refusal.
            return Ok(None);
        }
        let checksum = extensions.iter().any(|e| e == "checksum")
            && list(headers, TUS_CHECKSUM_ALGORITHM)
                .iter()
                .any(|a| a == "sha256");
        Ok(Some(Offer { endpoint, checksum }))
    }

    /// Sends the bundle's `total` bytes as a resumable upload, from where the slot's upload got
    /// to, and makes the ticket from it.
    pub(super) async fn send_resumable(
        &self,
        bundle: &Path,
        request: &TicketRequest,
        total: u64,
        offer: &Offer,
        slot: &dyn ResumeSlot,
        sink: &Sink,
    ) -> Result<Resumable, UploadError> {
        let bundle_error = |source| UploadError::Bundle {
            path: bundle.display().to_string(),
            source,
        };
        let mut file = tokio::fs::File::open(bundle).await.map_err(bundle_error)?;
        let (url, mut offset) = match self.resume(request, total, slot).await? {
            Some(Found::There(url, offset)) => (url, offset),
            Some(Found::Ticket(receipt)) => return Ok(Resumable::Done(receipt)),
            None => match self.create(&offer.endpoint, request, total).await? {
                Some(url) => {
                    let kept = Resume {
                        url: url.to_string(),
                        bundle_sha256: request.bundle_sha256.clone(),
                        length: total,
                    };
                    if let Err(err) = slot.save(&kept) {
                        log::warn!("the upload {url} cannot be kept for later: {err}");
                    }
                    (url, 0)
                }
                None => return Ok(Resumable::NotHere),
            },
        };

        let meter = Meter::new(offset, total);
        let mut stalls = 0;
        while offset < total {
            let length = (total - offset).min(self.chunk_bytes as u64) as usize;
            file.seek(SeekFrom::Start(offset))
                .await
                .map_err(bundle_error)?;
            let mut chunk = vec![0; length];
            file.read_exact(&mut chunk).await.map_err(bundle_error)?;
            let checksum = offer
                .checksum
                .then(|| format!("sha256 {}", STANDARD.encode(Sha256::digest(&chunk))));
            let cancelled = Arc::new(AtomicBool::new(false));
            let body = chunk_body(
                Bytes::from(chunk),
                offset,
                meter,
                sink.clone(),
                cancelled.clone(),
            );
            let mut patch = self
                .tus(Method::PATCH, url.clone())
                .header(CONTENT_TYPE, OFFSET_OCTET_STREAM)
                .header(CONTENT_LENGTH, length)
                .header(UPLOAD_OFFSET, offset);
            if let Some(checksum) = checksum {
                patch = patch.header(UPLOAD_CHECKSUM, checksum);
            }
            let before = offset;
            offset = match patch.body(body).send().await {
                Err(err) => {
                    let error = self.transport_error(&err, &cancelled);
                    if !error.is_retryable() {
                        return Err(error);
                    }
                    // A cut connection or a new network: if the server answers at once, go on
                    // from its offset; if it does not, this attempt ends here.
                    log::info!("the chunk at byte {offset} of {url} broke off: {error}");
                    self.where_is(&url, total).await?.ok_or_else(|| gone(slot))?
                }
                Ok(response) => match response.status() {
                    StatusCode::NO_CONTENT | StatusCode::OK => upload_offset(response.headers())
                        .filter(|&at| at > before && at <= total)
                        .ok_or_else(|| UploadError::ServerError {
                            status: response.status().as_u16(),
                            detail: format!(
                                "the upload's Upload-Offset after {length} bytes from {before} is not between them and {total}"
                            ),
                        })?,
                    StatusCode::CONFLICT | StatusCode::LOCKED => {
                        if response.status() == StatusCode::LOCKED {
                            tokio::time::sleep(Duration::from_millis(500)).await;
                        }
                        self.where_is(&url, total).await?.ok_or_else(|| gone(slot))?
                    }
                    status if status.as_u16() == CHECKSUM_MISMATCH => {
                        log::warn!(
                            "the chunk at byte {offset} of {url} was damaged on the way; sending it again"
                        );
                        self.where_is(&url, total).await?.ok_or_else(|| gone(slot))?
                    }
                    StatusCode::NOT_FOUND | StatusCode::GONE => return Err(gone(slot)),
                    _ => return Err(self.refusal(response).await),
                },
            };
            if offset > before {
                stalls = 0;
            } else {
                stalls += 1;
                if stalls >= STALLS {
                    return Err(UploadError::ServerError {
                        status: 409,
                        detail: format!(
                            "the upload stays at byte {offset} of {total} after {STALLS} tries"
                        ),
                    });
                }
            }
        }
        match self.ticket_from(&url, request, slot).await? {
            Some(receipt) => {
                slot.clear();
                Ok(Resumable::Done(receipt))
            }
            None => Err(gone(slot)),
        }
    }

    /// Where the upload kept in `slot` stands, if the server still has it for this bundle; or
    /// the ticket it already became (a repeat after a lost answer).
    async fn resume(
        &self,
        request: &TicketRequest,
        total: u64,
        slot: &dyn ResumeSlot,
    ) -> Result<Option<Found>, UploadError> {
        let Some(kept) = slot.load() else {
            return Ok(None);
        };
        let same = kept.bundle_sha256 == request.bundle_sha256 && kept.length == total;
        let url = match Url::parse(&kept.url) {
            Ok(url) if same && url.origin() == self.url.origin() => url,
            _ => {
                slot.clear();
                return Ok(None);
            }
        };
        if let Some(offset) = self.where_is(&url, total).await? {
            log::info!(
                "bundle {}: going on from byte {offset} of {total}",
                request.bundle_id
            );
            return Ok(Some(Found::There(url, offset)));
        }
        let ticket = self.ticket_from(&url, request, slot).await?;
        slot.clear();
        Ok(ticket.map(Found::Ticket))
    }

    /// Creates an upload of `total` bytes; its URL, or `None` when the server put it on another
    /// origin, where the token does not go.
    async fn create(
        &self,
        endpoint: &Url,
        request: &TicketRequest,
        total: u64,
    ) -> Result<Option<Url>, UploadError> {
        let metadata = format!(
            "filename {},filetype {}",
            STANDARD.encode(format!("{}.zip", request.bundle_id)),
            STANDARD.encode("application/zip")
        );
        let response = self
            .tus(Method::POST, endpoint.clone())
            .header(UPLOAD_LENGTH, total)
            .header(UPLOAD_METADATA, metadata)
            .send()
            .await
            .map_err(|err| self.unreachable(&err))?;
        if response.status() != StatusCode::CREATED {
            return match self.refusal(response).await {
                // This address holds as many unfinished uploads as the server keeps for it
                // (reports waiting here, each with its own): this one goes in one request.
                UploadError::Busy { code, .. } if code == "upload_quota_exceeded" => {
                    log::info!(
                        "{} keeps no more unfinished uploads for this computer; sending bundle {} in one request",
                        self.host,
                        request.bundle_id
                    );
                    Ok(None)
                }
                refused => Err(refused),
            };
        }
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| endpoint.join(v).ok())
            .ok_or_else(|| UploadError::ServerError {
                status: 201,
                detail: "the upload was created without a usable Location".into(),
            })?;
        if location.origin() != self.url.origin() {
            log::warn!(
                "{} put the upload at {location}, another origin than the ticket API; sending in one request",
                self.host
            );
            return Ok(None);
        }
        log::info!(
            "bundle {}: resumable upload {location} of {total} bytes",
            request.bundle_id
        );
        Ok(Some(location))
    }

    /// The upload's offset (`HEAD`), or `None` when the server no longer has it or has it for
    /// another length.
    async fn where_is(&self, url: &Url, total: u64) -> Result<Option<u64>, UploadError> {
        let response = self
            .tus(Method::HEAD, url.clone())
            .send()
            .await
            .map_err(|err| self.unreachable(&err))?;
        match response.status() {
            StatusCode::OK | StatusCode::NO_CONTENT => {}
            StatusCode::NOT_FOUND | StatusCode::GONE => return Ok(None),
            _ => return Err(self.refusal(response).await),
        }
        let headers = response.headers();
        let length = headers
            .get(UPLOAD_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if length.is_some_and(|length| length != total) {
            return Ok(None);
        }
        upload_offset(headers)
            .filter(|&at| at <= total)
            .map(Some)
            .ok_or_else(|| UploadError::ServerError {
                status: response.status().as_u16(),
                detail: format!("HEAD {url} gave no Upload-Offset within {total}"),
            })
    }

    /// Makes the ticket from a finished upload; `None` when the server has neither the upload
    /// nor a ticket from it. An upload the server refuses to make a ticket of (its bytes are not
    /// the bundle's, the bundle is damaged or too large) is let go, here and on the server, so
    /// the next attempt starts a new one instead of meeting the same refusal.
    async fn ticket_from(
        &self,
        url: &Url,
        request: &TicketRequest,
        slot: &dyn ResumeSlot,
    ) -> Result<Option<TicketReceipt>, UploadError> {
        let response = self
            .request(Method::POST, self.url.clone())
            .header(IDEMPOTENCY_KEY, request.bundle_id.to_string())
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&serde_json::json!({ "report": request, "upload": url.as_str() }))
            .send()
            .await
            .map_err(|err| self.unreachable(&err))?;
        if matches!(response.status(), StatusCode::NOT_FOUND | StatusCode::GONE) {
            return Ok(None);
        }
        match self.receipt(response, request).await {
            Err(err) if refuses_the_bytes(&err) => {
                slot.clear();
                if let Err(left) = self.terminate_at(url.as_str()).await {
                    log::info!("the refused upload {url} is left to expire: {left}");
                }
                Err(err)
            }
            answer => answer.map(Some),
        }
    }

    /// Tells the server an upload will not be finished (tus termination), so it can let go of
    /// it now rather than when it expires. One the server no longer has is not an error.
    pub async fn terminate(&self, kept: &super::slot::Resume) -> Result<(), UploadError> {
        self.terminate_at(&kept.url).await
    }

    /// [`Uploader::terminate`] of the upload at `url`.
    async fn terminate_at(&self, url: &str) -> Result<(), UploadError> {
        let url = match Url::parse(url) {
            Ok(url) if url.origin() == self.url.origin() => url,
            // Not ours to tell (and the token does not go elsewhere).
            _ => return Ok(()),
        };
        let response = self
            .tus(Method::DELETE, url)
            .send()
            .await
            .map_err(|err| self.unreachable(&err))?;
        match response.status() {
            status if status.is_success() => Ok(()),
            StatusCode::NOT_FOUND | StatusCode::GONE => Ok(()),
            _ => Err(self.refusal(response).await),
        }
    }

    fn tus(&self, method: Method, url: Url) -> reqwest::RequestBuilder {
        self.request(method, url).header(TUS_RESUMABLE, VERSION)
    }
}

/// What a kept upload turned out to be.
enum Found {
    There(Url, u64),
    Ticket(TicketReceipt),
}

/// Whether a refusal of the ticket is about the uploaded bytes, which another try of the same
/// upload would meet again; not one about the token, or one that passes (busy, a server error).
fn refuses_the_bytes(err: &UploadError) -> bool {
    match err {
        UploadError::Rejected { status, .. } => *status != 408,
        UploadError::TooLarge { .. } | UploadError::HashMismatch { .. } => true,
        _ => false,
    }
}

/// The server lost the upload (expired, or removed): the next attempt starts a new one.
fn gone(slot: &dyn ResumeSlot) -> UploadError {
    slot.clear();
    UploadError::ServerError {
        status: 410,
        detail: "the service no longer has the upload; it starts again".into(),
    }
}

/// A comma-separated header as its items.
fn list(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect()
}

fn upload_offset(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(UPLOAD_OFFSET)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// One chunk as a body that reports progress piece by piece and can be stopped.
fn chunk_body(
    chunk: Bytes,
    offset: u64,
    meter: Meter,
    sink: Sink,
    cancelled: Arc<AtomicBool>,
) -> reqwest::Body {
    let pieces: Vec<Bytes> = (0..chunk.len())
        .step_by(PIECE_BYTES)
        .map(|start| chunk.slice(start..(start + PIECE_BYTES).min(chunk.len())))
        .collect();
    let mut sent = offset;
    let stream = futures_util::stream::iter(pieces).map(move |piece| {
        sent += piece.len() as u64;
        if report(&sink, meter.at(sent)) {
            Ok(piece)
        } else {
            cancelled.store(true, Ordering::SeqCst);
            Err(std::io::Error::other("cancelled"))
        }
    });
    reqwest::Body::wrap_stream(stream)
}
