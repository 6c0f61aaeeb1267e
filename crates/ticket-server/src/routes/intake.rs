//! `POST /api/v1/tickets`: a report as `multipart/form-data` (the `report` part and the `bundle`
//! streamed to disk with its SHA-256 and a size limit), or as JSON naming a finished resumable upload;
//! dry runs; the receipt.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{ConnectInfo, FromRequest, Multipart, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use callsupport_bundle::hash::HashingWriter;
use callsupport_bundle::human_bytes;
use callsupport_bundle::ticket::{Problem, TicketReceipt, TicketRequest};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use crate::limit::{Full, Slot};
use crate::problem::ApiProblem;
use crate::store::Stored;
use crate::upload_store::room_on_disk;

use super::auth::{Admitted, admit, check_submit_token, limited};
use super::commit::{answered, store_ticket};
use super::{AppState, DRAIN_MARGIN, MAX_REPORT_BYTES, Shared};

pub(super) fn receipt(state: &AppState, stored: &Stored) -> TicketReceipt {
    TicketReceipt {
        ticket_id: stored.ticket_id.clone(),
        ticket_url: format!("{}/api/v1/tickets/{}", state.public_url, stored.ticket_id),
        bundle_sha256: stored.bundle_sha256.clone(),
        bundle_bytes: stored.bundle_bytes,
    }
}

/// Removes an upload in progress unless it was moved into the store.
struct Incoming(PathBuf);

impl Drop for Incoming {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Whether the query asks for a dry run (`dry_run=true`); other parameters are not ours and are
/// left alone, a `dry_run` that is neither true nor false is a problem document.
fn is_dry_run(query: Option<&str>) -> Result<bool, ApiProblem> {
    let mut dry = false;
    for pair in query.unwrap_or_default().split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, "true"));
        if name != "dry_run" {
            continue;
        }
        dry = match value {
            "true" | "1" => true,
            "false" | "0" => false,
            other => {
                return Err(ApiProblem::bad_request(
                    "query_invalid",
                    format!("dry_run must be true or false, not `{other}`"),
                ));
            }
        };
    }
    Ok(dry)
}

/// Receives a report; on a refusal, first reads the rest of the request (up to a bound) so the
/// client, still sending, gets to read the answer instead of a broken connection.
#[utoipa::path(
    post,
    path = "/api/v1/tickets",
    tag = "submit",
    request_body(
        content(
            (Option<crate::openapi::TicketForm> = "multipart/form-data"),
            (Option<crate::openapi::UploadedTicketForm> = "application/json")
        ),
        description = "The report and its bundle, as a form; or, as JSON, the report and a finished resumable upload (`/api/v1/uploads`) that holds the bundle. The bundle is stored only once its SHA-256, its manifest and every file in it check out. Required, except with `dry_run=true`, which takes no body."
    ),
    params(
        ("Idempotency-Key" = Option<uuid::Uuid>, Header, description = "The bundle id: a repeated request returns the first ticket. Required, except with `dry_run=true`"),
        ("dry_run" = Option<bool>, Query, description = "Only check the token, with no body: 204 when it is accepted, 401 when it is refused; nothing is stored. `callsupport doctor` uses it.")
    ),
    responses(
        (status = 201, description = "Ticket created", body = TicketReceipt,
            headers(("Location" = String, description = "The ticket's URL"))),
        (status = 200, description = "The same Idempotency-Key again: the ticket made the first time", body = TicketReceipt,
            headers(("Location" = String, description = "The ticket's URL"))),
        (status = 204, description = "`dry_run=true`: the token is accepted; nothing was read or stored",
            headers(("X-Max-Bundle-Bytes" = u64, description = "The largest bundle the server accepts"))),
        (status = 400, description = "Malformed request: parts or headers missing or invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong submit token", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body stopped arriving for the server's --body-idle-secs (`body_timeout`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "JSON: no such upload", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "JSON: the upload is not finished", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "JSON: the upload expired", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The bundle or the report is over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The report is invalid, or the bundle is damaged, not a bundle, or another report's; logs added to a ticket came without a good link from support (`link_required`, `link_invalid`, `link_expired`, `link_used_up`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many reports or dry runs from this address (`rate_limited`), or too many of its reports arriving at once (`too_many_at_once`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 500, description = "The server failed; the problem carries an incident number for its log", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The server is taking in as many reports as it can at once (`server_busy`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 507, description = "The server has no room for the report now (`insufficient_storage`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait")))
    ),
    security(("submit_token" = []), ())
)]
pub async fn create_ticket(
    State(state): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, ApiProblem> {
    if is_dry_run(query.as_deref())? {
        // A check of the token and of the way here, nothing more: nothing is read or stored.
        let has_body = headers.contains_key(header::TRANSFER_ENCODING)
            || headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|n| n.trim() != "0");
        if has_body {
            return Err(ApiProblem::bad_request(
                "dry_run_with_body",
                "a dry run takes no body; send the report without dry_run=true",
            ));
        }
        limited(
            &state,
            state.lookups.as_ref(),
            peer,
            &headers,
            "token checks",
        )?;
        check_submit_token(&state, &headers)?;
        tracing::info!(peer = %peer, "dry run: token accepted");
        return Ok((
            StatusCode::NO_CONTENT,
            [("x-max-bundle-bytes", state.max_bundle_bytes.to_string())],
        )
            .into_response());
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if json {
        // The bundle came through a resumable upload; the body names it.
        return receive_uploaded(state, peer, headers, request).await;
    }
    let _slot = intake_slot(&state, peer, &headers)?;
    let multipart: Result<Multipart, MultipartRejection> =
        Multipart::from_request(request, &()).await;
    let mut multipart = multipart.map_err(|err| {
        ApiProblem::bad_request(
            "multipart_invalid",
            format!("send multipart/form-data with `report` and `bundle` parts: {err}"),
        )
    })?;
    let drain_budget = state.max_bundle_bytes.saturating_add(DRAIN_MARGIN);
    let started = Instant::now();
    match receive_ticket(state, peer, headers, &mut multipart).await {
        Ok(response) => {
            // A repeat is answered before its body is read: read it, so the client gets the answer.
            drain(&mut multipart, drain_budget).await;
            Ok(response)
        }
        Err(problem) => {
            tracing::warn!(
                peer = %peer,
                status = problem.status.as_u16(),
                code = problem.code,
                ms = started.elapsed().as_millis() as u64,
                "report refused"
            );
            drain(&mut multipart, drain_budget).await;
            Err(problem)
        }
    }
}

/// A slot to receive a bundle in: one of `Intake::at_once`, one of its address's, and room on the
/// disk for the body (or the largest bundle, when the length is not given) above the margin kept.
fn intake_slot(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<Slot, ApiProblem> {
    let client = state.proxies.client_key(peer.ip(), headers);
    let slot = state.intake.take(&client).map_err(|full| match full {
        Full::Server => ApiProblem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_busy",
            "the server is receiving as many reports as it takes at once; try again shortly",
        )
        .retry_after(5),
        Full::Client => ApiProblem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_at_once",
            "this address is sending as many reports at once as it may; send this one when one of them is done",
        )
        .retry_after(5),
    })?;
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(state.max_bundle_bytes);
    room_on_disk(&state.incoming, length, state.min_free_bytes, "this report")?;
    Ok(slot)
}

/// Reads and discards what is left of a multipart body, giving up after `budget` bytes.
async fn drain(multipart: &mut Multipart, mut budget: u64) {
    while let Ok(Some(mut field)) = multipart.next_field().await {
        while let Ok(Some(chunk)) = field.chunk().await {
            match budget.checked_sub(chunk.len() as u64) {
                Some(left) => budget = left,
                None => return,
            }
        }
    }
}

/// Reads the `report` part as JSON: valid, and normalized.
fn parse_request(bytes: &[u8]) -> Result<TicketRequest, ApiProblem> {
    let parsed: TicketRequest = serde_json::from_slice(bytes).map_err(|err| {
        ApiProblem::unprocessable(
            "report_invalid",
            format!("the report part is not a valid report: {err}"),
        )
    })?;
    normalized(parsed)
}

/// The request with its report normalized, or why the report is invalid.
fn normalized(request: TicketRequest) -> Result<TicketRequest, ApiProblem> {
    Ok(TicketRequest {
        report: request
            .report
            .normalized()
            .map_err(|err| ApiProblem::unprocessable("report_invalid", err.to_string()))?,
        ..request
    })
}

/// A ticket whose bundle is a finished resumable upload: `{"report": …, "upload": URL or id}`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadedTicket {
    report: TicketRequest,
    upload: String,
}

async fn receive_uploaded(
    state: Shared,
    peer: SocketAddr,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, ApiProblem> {
    let started = Instant::now();
    let admitted = admit(&state, peer, &headers).await;
    let body = axum::body::to_bytes(request.into_body(), MAX_REPORT_BYTES)
        .await
        .map_err(|err| {
            let length_limit = std::error::Error::source(&err)
                .is_some_and(|cause| cause.is::<http_body_util::LengthLimitError>());
            if length_limit {
                ApiProblem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "report_too_large",
                    "the report is over 1 MiB",
                )
            } else {
                ApiProblem::body_broken("report_invalid", &err, "the report")
            }
        });
    // The token and the key are judged before the body: read first only so the client hears why.
    let named = |body: &[u8]| {
        serde_json::from_slice::<UploadedTicket>(body).map_err(|err| {
            ApiProblem::unprocessable(
                "report_invalid",
                format!("send {{\"report\": …, \"upload\": \"<upload URL>\"}}: {err}"),
            )
        })
    };
    let key = match admitted? {
        // A repeat after a lost answer: the ticket has the bytes, so an upload still kept (the
        // answer, or the server, went away before it was let go) is let go now.
        Admitted::Repeat(stored) => {
            if let Ok(body) = &body
                && let Ok(named) = named(body)
                && let Ok(finished) = state.uploads.finished(&named.upload)
                && finished.length == stored.bundle_bytes
            {
                state.uploads.done(&finished);
            }
            return Ok(answered(&state, peer, &stored, false, started));
        }
        Admitted::New(key) => key,
    };
    let named = named(&body?)?;
    let request = normalized(named.report)?;
    if request.bundle_id != key {
        return Err(ApiProblem::unprocessable(
            "idempotency_key_mismatch",
            "Idempotency-Key must equal the report's bundle_id",
        ));
    }
    let finished = state.uploads.finished(&named.upload)?;
    let hashed = finished.data.clone();
    let (sha256, size) =
        tokio::task::spawn_blocking(move || callsupport_bundle::hash::sha256_file(&hashed))
            .await
            .map_err(ApiProblem::internal)?
            .map_err(ApiProblem::internal)?;
    let answer = store_ticket(
        &state,
        peer,
        key,
        request,
        &finished.data,
        sha256,
        size,
        started,
    )
    .await;
    if answer.is_ok() {
        // The ticket has the bytes (or had them from the first time): the upload is done.
        state.uploads.done(&finished);
    }
    answer
}

async fn receive_ticket(
    state: Shared,
    peer: SocketAddr,
    headers: HeaderMap,
    multipart: &mut Multipart,
) -> Result<Response, ApiProblem> {
    let started = Instant::now();
    let key = match admit(&state, peer, &headers).await? {
        Admitted::Repeat(stored) => return Ok(answered(&state, peer, &stored, false, started)),
        Admitted::New(key) => key,
    };

    let mut request: Option<TicketRequest> = None;
    let mut upload: Option<(Incoming, String, u64)> = None;
    while let Some(mut field) = multipart.next_field().await.map_err(|err| {
        ApiProblem::body_timed_out(&err, "the request body").unwrap_or_else(|| {
            ApiProblem::bad_request(
                "multipart_invalid",
                format!("the request body is not valid multipart: {err}"),
            )
        })
    })? {
        let twice = match field.name() {
            Some("report") => request.is_some(),
            Some("bundle") => upload.is_some(),
            _ => false,
        };
        if twice {
            return Err(ApiProblem::bad_request(
                "multipart_invalid",
                format!(
                    "the `{}` part is sent twice; send one `report` and one `bundle`",
                    field.name().unwrap_or_default()
                ),
            ));
        }
        match field.name().unwrap_or_default() {
            "report" => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|err| {
                    ApiProblem::body_broken("multipart_invalid", &err, "the report part")
                })? {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() > MAX_REPORT_BYTES {
                        return Err(ApiProblem::new(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "report_too_large",
                            "the report part is over 1 MiB",
                        ));
                    }
                }
                request = Some(parse_request(&bytes)?);
            }
            "bundle" => {
                let incoming = Incoming(state.incoming.join(format!("{}.partial", Uuid::now_v7())));
                let file = tokio::fs::File::create(&incoming.0)
                    .await
                    .map_err(ApiProblem::internal)?;
                let mut file = tokio::io::BufWriter::with_capacity(256 * 1024, file);
                let mut hasher = HashingWriter::new(std::io::sink());
                let mut size = 0u64;
                while let Some(chunk) = field.chunk().await.map_err(|err| {
                    ApiProblem::body_broken("multipart_invalid", &err, "the bundle part")
                })? {
                    size += chunk.len() as u64;
                    if size > state.max_bundle_bytes {
                        return Err(ApiProblem::new(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "bundle_too_large",
                            format!(
                                "bundles may be at most {}",
                                human_bytes(state.max_bundle_bytes)
                            ),
                        ));
                    }
                    std::io::Write::write_all(&mut hasher, &chunk).map_err(ApiProblem::internal)?;
                    file.write_all(&chunk).await.map_err(ApiProblem::internal)?;
                }
                file.flush().await.map_err(ApiProblem::internal)?;
                file.into_inner()
                    .sync_all()
                    .await
                    .map_err(ApiProblem::internal)?;
                let (sha256, _, _) = hasher.finish();
                upload = Some((incoming, sha256, size));
            }
            other => {
                return Err(ApiProblem::bad_request(
                    "multipart_invalid",
                    format!("unexpected part `{other}`; send `report` and `bundle`"),
                ));
            }
        }
    }
    let request = request
        .ok_or_else(|| ApiProblem::bad_request("report_missing", "the `report` part is missing"))?;
    let (incoming, sha256, size) = upload
        .ok_or_else(|| ApiProblem::bad_request("bundle_missing", "the `bundle` part is missing"))?;
    store_ticket(
        &state,
        peer,
        key,
        request,
        &incoming.0,
        sha256,
        size,
        started,
    )
    .await
}
