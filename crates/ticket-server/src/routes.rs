//! HTTP routes of the reference ticket API.
//!
//! `POST /api/v1/tickets` streams the `bundle` part to disk with its SHA-256 and a size limit, checks
//! it against the `report` part and against its own manifest (every file's hash), and only then creates
//! the ticket. Sent as JSON, it names a finished resumable upload ([`crate::uploads`]) instead, which
//! goes through the same checks. A repeated `Idempotency-Key` returns the first ticket with `200`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{
    ConnectInfo, DefaultBodyLimit, FromRequest, Multipart, Path as UrlPath, RawQuery, Request,
    State,
};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, head, post};
use callsupport_bundle::hash::HashingWriter;
use callsupport_bundle::human_bytes;
use callsupport_bundle::reader::Bundle;
use callsupport_bundle::ticket::{IDEMPOTENCY_KEY, Problem, TicketReceipt, TicketRequest};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use crate::blobs::BlobStore;
use crate::forward::Forwarder;
use crate::limit::Limiter;
use crate::problem::ApiProblem;
use crate::range::{RangeAsked, byte_range};
use crate::secret::Secret;
use crate::store::{Forward, NewBundle, Stored, TicketRecord, Tickets, attachment_key, bundle_key};
use crate::uploads::{self, Uploads};

/// Largest `report` part accepted.
const MAX_REPORT_BYTES: usize = 1 << 20;
/// How much more than the bundle limit a refused request may still send before the connection is cut.
const DRAIN_MARGIN: u64 = 64 << 20;

pub struct AppState {
    pub store: Arc<dyn Tickets>,
    /// Forwards new tickets to the organisation's ticket system, when set up.
    pub forwarder: Option<Arc<Forwarder>>,
    /// Where a multipart request's bundle is written while it arrives (cleared at start).
    pub incoming: PathBuf,
    /// Where the bundles are.
    pub blobs: Arc<dyn BlobStore>,
    /// How long a signed link to a bundle lasts; `None` streams bundles through the server.
    pub signed_links: Option<std::time::Duration>,
    /// Resumable uploads in progress (`/api/v1/uploads`).
    pub uploads: Uploads,
    pub submit_token: Option<Secret>,
    pub agent_token: Option<Secret>,
    pub limiter: Option<Limiter>,
    pub max_bundle_bytes: u64,
    pub public_url: String,
}

type Shared = Arc<AppState>;

/// The routes; `/api/v1/uploads` only when `resumable` (a server without it is what clients fall
/// back from).
pub fn router(state: Shared, resumable: bool) -> Router {
    let uploads = Router::new()
        .route(
            "/api/v1/uploads",
            post(uploads::create_upload).options(uploads::options_uploads),
        )
        .route(
            "/api/v1/uploads/{id}",
            head(uploads::head_upload)
                .patch(uploads::patch_upload)
                .delete(uploads::delete_upload),
        )
        .layer(axum::middleware::map_response(uploads::tus_resumable));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/tickets", post(create_ticket).get(list_tickets))
        .route("/api/v1/tickets/{id}", get(get_ticket))
        .route("/api/v1/forwards", get(list_forwards))
        .route("/api/v1/tickets/{id}/bundle", get(get_bundle))
        .route(
            "/api/v1/tickets/{id}/attachments/{bundle_id}",
            get(get_attachment),
        )
        .merge(if resumable { uploads } else { Router::new() })
        // The bundle size limit is enforced while streaming, with a problem document.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

/// Whether the server is up.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "The server is up", body = String, content_type = "text/plain"))
)]
pub async fn healthz() -> &'static str {
    "ok"
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", body = Object))
)]
pub async fn openapi_json() -> Response {
    use utoipa::OpenApi;
    Json(crate::openapi::ApiDoc::openapi()).into_response()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn check_token(
    headers: &HeaderMap,
    expected: Option<&Secret>,
    who: &str,
) -> Result<(), ApiProblem> {
    let Some(expected) = expected else {
        return Ok(());
    };
    match bearer(headers) {
        Some(token) if expected.matches(token) => Ok(()),
        Some(_) => Err(ApiProblem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            format!("the {who} token is not valid"),
        )),
        None => Err(ApiProblem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            format!("send the {who} token as `Authorization: Bearer <token>`"),
        )),
    }
}

/// The submit token, when the server asks for one.
pub(crate) fn check_submit_token(state: &AppState, headers: &HeaderMap) -> Result<(), ApiProblem> {
    check_token(headers, state.submit_token.as_ref(), "submit")
}

fn receipt(state: &AppState, stored: &Stored) -> TicketReceipt {
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
        (status = 404, description = "JSON: no such upload", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "JSON: the upload is not finished", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "JSON: the upload expired", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The bundle or the report is over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The report is invalid, or the bundle is damaged, not a bundle, or another report's", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many reports from this client", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 500, description = "The server failed", body = Problem, content_type = "application/problem+json")
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
        Ok(response) => Ok(response),
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

/// Token, rate limit and `Idempotency-Key` of a report: the key when it may go on.
fn admit(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> Result<Uuid, ApiProblem> {
    check_submit_token(state, headers)?;
    if let Some(limiter) = &state.limiter {
        // Per token when reports need one, else per address.
        let client = match &state.submit_token {
            Some(secret) => secret.label(),
            None => peer.ip().to_string(),
        };
        if let Err(wait) = limiter.take(&client, Instant::now()) {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            return Err(ApiProblem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many reports from this client; try again in {secs} s"),
            )
            .retry_after(secs));
        }
    }
    let key = headers
        .get(IDEMPOTENCY_KEY)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiProblem::bad_request(
                "idempotency_key_missing",
                "send the bundle id as the Idempotency-Key header",
            )
        })?;
    Uuid::parse_str(key.trim()).map_err(|_| {
        ApiProblem::bad_request(
            "idempotency_key_invalid",
            "Idempotency-Key must be the bundle id (a UUID)",
        )
    })
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
    let key = admit(&state, peer, &headers)?;
    let body = axum::body::to_bytes(request.into_body(), MAX_REPORT_BYTES)
        .await
        .map_err(|_| {
            ApiProblem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "report_too_large",
                "the report is over 1 MiB",
            )
        })?;
    let named: UploadedTicket = serde_json::from_slice(&body).map_err(|err| {
        ApiProblem::unprocessable(
            "report_invalid",
            format!("send {{\"report\": …, \"upload\": \"<upload URL>\"}}: {err}"),
        )
    })?;
    let request = normalized(named.report)?;
    if request.bundle_id != key {
        return Err(ApiProblem::unprocessable(
            "idempotency_key_mismatch",
            "Idempotency-Key must equal the report's bundle_id",
        ));
    }
    // A repeat after a lost answer: the upload became that ticket and is gone, the answer stays.
    if let Some(stored) = state
        .store
        .stored(&key.to_string())
        .await
        .map_err(ApiProblem::internal)?
    {
        return Ok(answered(&state, peer, &stored, false, started));
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
    let key = admit(&state, peer, &headers)?;

    let mut request: Option<TicketRequest> = None;
    let mut upload: Option<(Incoming, String, u64)> = None;
    while let Some(mut field) = multipart.next_field().await.map_err(|err| {
        ApiProblem::bad_request(
            "multipart_invalid",
            format!("the request body is not valid multipart: {err}"),
        )
    })? {
        match field.name().unwrap_or_default() {
            "report" => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field
                    .chunk()
                    .await
                    .map_err(|err| ApiProblem::bad_request("multipart_invalid", err.to_string()))?
                {
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
                    ApiProblem::bad_request(
                        "multipart_invalid",
                        format!("the upload broke off: {err}"),
                    )
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

/// Checks the received bundle at `data` against the report and itself, then makes (or finds)
/// the ticket; the answer the client gets.
#[allow(clippy::too_many_arguments)]
async fn store_ticket(
    state: &Shared,
    peer: SocketAddr,
    key: Uuid,
    request: TicketRequest,
    data: &Path,
    sha256: String,
    size: u64,
    started: Instant,
) -> Result<Response, ApiProblem> {
    if request.bundle_id != key {
        return Err(ApiProblem::unprocessable(
            "idempotency_key_mismatch",
            "Idempotency-Key must equal the report's bundle_id",
        ));
    }
    if request.bundle_sha256 != sha256 {
        return Err(ApiProblem::unprocessable(
            "bundle_hash_mismatch",
            format!(
                "the bundle received has SHA-256 {sha256}, the report says {}; it was damaged on the way",
                request.bundle_sha256
            ),
        ));
    }
    let adds_to = request.report.ticket_id.clone();
    let (record, created) = commit(state, request, data, sha256, size).await?;
    if created
        && adds_to.is_none()
        && let Some(forwarder) = &state.forwarder
        && let Err(err) = forwarder.queue(&*state.store, &record.ticket_id).await
    {
        // The ticket is stored and answered; only its forward is late. Say so loudly.
        tracing::error!(ticket_id = %record.ticket_id, "cannot queue the ticket for forwarding: {err:#}");
    }
    Ok(answered(state, peer, &record, created, started))
}

/// The receipt: `201` for a bundle stored now, `200` for one stored before under its id.
fn answered(
    state: &AppState,
    peer: SocketAddr,
    record: &Stored,
    created: bool,
    started: Instant,
) -> Response {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let body = receipt(state, record);
    tracing::info!(
        peer = %peer,
        status = status.as_u16(),
        ticket_id = %record.ticket_id,
        bundle_id = %record.bundle_id,
        bytes = record.bundle_bytes,
        ms = started.elapsed().as_millis() as u64,
        "{}",
        if created { "bundle stored" } else { "bundle repeated" }
    );
    (
        status,
        [(header::LOCATION, body.ticket_url.clone())],
        Json(body),
    )
        .into_response()
}

/// Checks the bundle, puts it into the blob store and records it: a new ticket, or a bundle added
/// to the ticket the report names; for a bundle id recorded before, what was stored then (`false`).
async fn commit(
    state: &Shared,
    request: TicketRequest,
    data: &Path,
    sha256: String,
    size: u64,
) -> Result<(Stored, bool), ApiProblem> {
    let (checked, data_path) = (request.clone(), data.to_path_buf());
    blocking(move || check_bundle(&data_path, &checked)).await?;
    let store = &state.store;
    let earlier = store
        .stored(&request.bundle_id.to_string())
        .await
        .map_err(ApiProblem::internal)?;
    if let Some(earlier) = earlier {
        return Ok((earlier, false));
    }
    if let Some(ticket) = &request.report.ticket_id
        && store
            .get(ticket)
            .await
            .map_err(ApiProblem::internal)?
            .is_none()
    {
        return Err(ApiProblem::unprocessable(
            "ticket_not_found",
            format!("the report adds to ticket `{ticket}`, and there is no such ticket"),
        ));
    }
    let (ticket, number) = match &request.report.ticket_id {
        Some(ticket) => (ticket.clone(), None),
        None => {
            let number = store
                .next_ticket_number()
                .await
                .map_err(ApiProblem::internal)?;
            (crate::store::ticket_id(number), Some(number))
        }
    };
    let key = match number {
        Some(_) => bundle_key(&ticket),
        None => attachment_key(&ticket, &request.bundle_id.to_string()),
    };
    state
        .blobs
        .put_file(&key, data)
        .await
        .map_err(ApiProblem::internal)?;
    let row = NewBundle::new(&request, &sha256, size).map_err(ApiProblem::internal)?;
    let recorded = match number {
        Some(number) => store.insert_ticket(number, &row).await,
        None => store.insert_attachment(&ticket, &row).await,
    }
    .map_err(ApiProblem::internal);
    // Not recorded, or a new ticket's bundle that another request recorded first under its own
    // number: this copy is nobody's. (An added bundle recorded meanwhile has this very key.)
    let orphan = match &recorded {
        Err(_) => true,
        Ok((_, created)) => !created && number.is_some(),
    };
    if orphan && let Err(err) = state.blobs.delete(&key).await {
        tracing::warn!(key, "cannot remove a bundle no ticket has: {err:#}");
    }
    recorded
}

/// Runs `work` (reading a whole bundle) on a blocking thread.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiProblem> + Send + 'static,
) -> Result<T, ApiProblem> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiProblem::internal)?
}

/// The bundle must open as a Call Support bundle, belong to this report, and be intact.
fn check_bundle(path: &Path, request: &TicketRequest) -> Result<(), ApiProblem> {
    let mut bundle = Bundle::open(path)
        .map_err(|err| ApiProblem::unprocessable("bundle_invalid", err.to_string()))?;
    if bundle.manifest.bundle_id != request.bundle_id {
        return Err(ApiProblem::unprocessable(
            "bundle_id_mismatch",
            "the bundle's manifest has another bundle_id than the report",
        ));
    }
    let verification = bundle.verify();
    if let Some((name, problem)) = verification.problems.iter().next() {
        return Err(ApiProblem::unprocessable(
            "bundle_damaged",
            format!(
                "{} file(s) fail their check, first `{name}`: {problem}",
                verification.problems.len()
            ),
        ));
    }
    Ok(())
}

/// The newest tickets (up to 500).
#[utoipa::path(
    get,
    path = "/api/v1/tickets",
    tag = "agents",
    responses(
        (status = 200, description = "The newest tickets first", body = crate::openapi::TicketList),
        (status = 401, description = "Missing or wrong agent token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Agent access is off on this server", body = Problem, content_type = "application/problem+json")
    ),
    security(("agent_token" = []))
)]
pub async fn list_tickets(
    State(state): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, ApiProblem> {
    agent(&state, &headers)?;
    let records = state.store.list(500).await.map_err(ApiProblem::internal)?;
    Ok(Json(serde_json::json!({ "tickets": records })).into_response())
}

/// One ticket.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}",
    tag = "agents",
    params(("id" = String, Path, description = "The ticket id", example = "CS-000001")),
    responses(
        (status = 200, description = "The ticket", body = TicketRecord),
        (status = 401, description = "Missing or wrong agent token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Agent access is off on this server", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ticket", body = Problem, content_type = "application/problem+json")
    ),
    security(("agent_token" = []))
)]
pub async fn get_ticket(
    State(state): State<Shared>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiProblem> {
    agent(&state, &headers)?;
    let mut record = find(&state, &id).await?;
    record.forward = state
        .store
        .forward(&record.ticket_id)
        .await
        .map_err(ApiProblem::internal)?;
    Ok(Json(record).into_response())
}

/// Forwards to the organisation's ticket system that are not done: waiting for their next
/// attempt, each with why the last one failed.
#[utoipa::path(
    get,
    path = "/api/v1/forwards",
    tag = "agents",
    responses(
        (status = 200, description = "The forwards not done yet, the longest waiting first (at most 500)", body = ForwardList),
        (status = 401, description = "Missing or wrong agent token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Agent access is off on this server", body = Problem, content_type = "application/problem+json")
    ),
    security(("agent_token" = []))
)]
pub async fn list_forwards(
    State(state): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, ApiProblem> {
    agent(&state, &headers)?;
    let forwards = state
        .store
        .open_forwards(500)
        .await
        .map_err(ApiProblem::internal)?;
    Ok(Json(ForwardList { forwards }).into_response())
}

/// `GET /api/v1/forwards`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ForwardList {
    pub forwards: Vec<Forward>,
}

/// The bundle, whole or a byte range of it (`Range: bytes=…`, one range), so an agent's
/// download can resume.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}/bundle",
    tag = "agents",
    params(
        ("id" = String, Path, description = "The ticket id", example = "CS-000001"),
        ("Range" = Option<String>, Header, description = "One byte range, e.g. `bytes=1000-`")
    ),
    responses(
        (status = 200, description = "The whole bundle", content_type = "application/zip", body = Vec<u8>),
        (status = 206, description = "The range asked for", content_type = "application/zip", body = Vec<u8>,
            headers(("Content-Range" = String, description = "bytes first-last/total"))),
        (status = 307, description = "The bundle is in blob storage: read it through this signed, read-only link, valid for the server's --signed-link-minutes (the Range header goes along; the agent token must not)",
            headers(("Location" = String, description = "The signed link"), ("Cache-Control" = String, description = "no-store"))),
        (status = 401, description = "Missing or wrong agent token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Agent access is off on this server", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ticket", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "The range is past the end of the bundle",
            headers(("Content-Range" = String, description = "bytes */total")))
    ),
    security(("agent_token" = []))
)]
pub async fn get_bundle(
    State(state): State<Shared>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiProblem> {
    agent(&state, &headers)?;
    let record = find(&state, &id).await?;
    let key = bundle_key(&record.ticket_id);
    serve_zip(
        &state,
        &key,
        record.bundle_bytes,
        &record.ticket_id,
        &headers,
    )
    .await
}

/// A bundle added to the ticket later (support asked for logs), whole or a byte range of it.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}/attachments/{bundle_id}",
    tag = "agents",
    params(
        ("id" = String, Path, description = "The ticket id", example = "CS-000001"),
        ("bundle_id" = String, Path, description = "The added bundle's id, as the ticket lists it"),
        ("Range" = Option<String>, Header, description = "One byte range, e.g. `bytes=1000-`")
    ),
    responses(
        (status = 200, description = "The whole bundle", content_type = "application/zip", body = Vec<u8>),
        (status = 206, description = "The range asked for", content_type = "application/zip", body = Vec<u8>,
            headers(("Content-Range" = String, description = "bytes first-last/total"))),
        (status = 307, description = "The bundle is in blob storage: read it through this signed, read-only link, valid for the server's --signed-link-minutes (the Range header goes along; the agent token must not)",
            headers(("Location" = String, description = "The signed link"), ("Cache-Control" = String, description = "no-store"))),
        (status = 401, description = "Missing or wrong agent token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Agent access is off on this server", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ticket, or no such bundle on it", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "The range is past the end of the bundle",
            headers(("Content-Range" = String, description = "bytes */total")))
    ),
    security(("agent_token" = []))
)]
pub async fn get_attachment(
    State(state): State<Shared>,
    headers: HeaderMap,
    UrlPath((id, bundle_id)): UrlPath<(String, String)>,
) -> Result<Response, ApiProblem> {
    agent(&state, &headers)?;
    let record = find(&state, &id).await?;
    let attachment = state
        .store
        .attachment(&record.ticket_id, &bundle_id)
        .await
        .map_err(ApiProblem::internal)?
        .ok_or_else(|| {
            ApiProblem::new(
                StatusCode::NOT_FOUND,
                "bundle_not_found",
                format!("ticket `{id}` has no bundle `{bundle_id}`"),
            )
        })?;
    let key = attachment_key(&record.ticket_id, &attachment.bundle_id);
    let name = format!("{}-{}", record.ticket_id, attachment.bundle_id);
    serve_zip(&state, &key, attachment.bundle_bytes, &name, &headers).await
}

/// Sends a stored zip of `total` bytes as `name.zip`, honouring one `Range`; or, where the blob
/// store signs links, redirects to a signed one (the `Range` goes along).
async fn serve_zip(
    state: &AppState,
    key: &str,
    total: u64,
    name: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiProblem> {
    if let Some(ttl) = state.signed_links
        && let Some(link) = state
            .blobs
            .signed_url(key, ttl)
            .await
            .map_err(ApiProblem::internal)?
    {
        return Ok((
            StatusCode::TEMPORARY_REDIRECT,
            [
                (header::LOCATION, link),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
        )
            .into_response());
    }
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(value) => match byte_range(value, total) {
            RangeAsked::One(start, end) => Some((start, end)),
            RangeAsked::Ignored => None,
            RangeAsked::Unsatisfiable => {
                return Ok((
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    [(header::CONTENT_RANGE, format!("bytes */{total}"))],
                )
                    .into_response());
            }
        },
    };
    let (status, start, len) = match range {
        Some((start, end)) => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
        None => (StatusCode::OK, 0, total),
    };
    let body = Body::from_stream(
        state
            .blobs
            .read(key, start..start + len)
            .await
            .map_err(ApiProblem::internal)?,
    );
    let mut response = (
        status,
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_LENGTH, len.to_string()),
            (header::ACCEPT_RANGES, "bytes".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.zip\""),
            ),
        ],
        body,
    )
        .into_response();
    if range.is_some() {
        let value = format!("bytes {start}-{}/{total}", start + len - 1);
        response.headers_mut().insert(
            header::CONTENT_RANGE,
            value.parse().expect("a valid header value"),
        );
    }
    Ok(response)
}

fn agent(state: &AppState, headers: &HeaderMap) -> Result<(), ApiProblem> {
    match state.agent_token.as_ref() {
        None => Err(ApiProblem::new(
            StatusCode::FORBIDDEN,
            "agent_access_off",
            "agent access is off; start the server with --agent-token",
        )),
        Some(token) => check_token(headers, Some(token), "agent"),
    }
}

async fn find(state: &AppState, id: &str) -> Result<TicketRecord, ApiProblem> {
    state
        .store
        .get(id)
        .await
        .map_err(ApiProblem::internal)?
        .ok_or_else(|| {
            ApiProblem::new(
                StatusCode::NOT_FOUND,
                "ticket_not_found",
                format!("no ticket `{id}`"),
            )
        })
}
