//! Resumable uploads at `/api/v1/uploads` (tus 1.0: core, creation, checksum, termination,
//! expiration), for large bundles on poor links: the handlers, over [`Uploads`] on disk.
//!
//! `OPTIONS` says what is offered; `POST` (with the submit token and `Upload-Length`) creates an
//! upload; `PATCH` appends at the offset `HEAD` reports; `DELETE` drops it. A chunk that breaks
//! off is kept as far as it got (the client asks `HEAD` and goes on from there), except one with a
//! checksum, which is kept whole or not at all. A finished upload becomes a ticket through
//! `POST /api/v1/tickets` with a JSON body naming it ([`Uploads::finished`]).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use callsupport_bundle::ticket::Problem;

use crate::problem::ApiProblem;
use crate::routes::{AppState, DRAIN_MARGIN, check_submit_token, limited};
use crate::tus::{self, Checksum};
use crate::upload_store::Busy;
pub use crate::upload_store::Uploads;

type Shared = Arc<AppState>;

/// Every upload answer names the protocol version; a refused version also the ones spoken.
pub async fn tus_resumable(mut response: Response) -> Response {
    let refused = response.status() == StatusCode::PRECONDITION_FAILED;
    let headers = response.headers_mut();
    headers.insert(tus::TUS_RESUMABLE, HeaderValue::from_static(tus::VERSION));
    if refused {
        headers.insert(tus::TUS_VERSION, HeaderValue::from_static(tus::VERSION));
    }
    response
}

/// What every upload request but `OPTIONS` needs: the protocol version, then the submit token.
fn admit(state: &AppState, headers: &HeaderMap) -> Result<(), ApiProblem> {
    tus::check_version(headers)?;
    check_submit_token(state, headers)
}

fn expires(at: DateTime<Utc>) -> String {
    httpdate::fmt_http_date(at.into())
}

/// What this server offers for resumable uploads.
#[utoipa::path(
    options,
    path = "/api/v1/uploads",
    tag = "uploads",
    responses((status = 204, description = "The tus version, extensions, largest upload and checksum algorithms",
        headers(
            ("Tus-Resumable" = String, description = "1.0.0"),
            ("Tus-Version" = String, description = "1.0.0"),
            ("Tus-Extension" = String, description = "creation,checksum,termination,expiration"),
            ("Tus-Max-Size" = u64, description = "The largest bundle the server accepts"),
            ("Tus-Checksum-Algorithm" = String, description = "sha1,sha256")
        )))
)]
pub async fn options_uploads(State(state): State<Shared>) -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            (tus::TUS_VERSION, tus::VERSION.to_owned()),
            (tus::TUS_EXTENSION, tus::EXTENSIONS.to_owned()),
            (tus::TUS_MAX_SIZE, state.max_bundle_bytes.to_string()),
            (
                tus::TUS_CHECKSUM_ALGORITHM,
                tus::CHECKSUM_ALGORITHMS.to_owned(),
            ),
        ],
    )
        .into_response()
}

/// Creates an upload of `Upload-Length` bytes (tus creation); the bytes follow with `PATCH`.
#[utoipa::path(
    post,
    path = "/api/v1/uploads",
    tag = "uploads",
    params(
        ("Tus-Resumable" = crate::openapi::TusVersion, Header, description = "The protocol version: 1.0.0"),
        ("Upload-Length" = u64, Header, description = "The bundle's size in bytes"),
        ("Upload-Metadata" = Option<String>, Header, description = "tus metadata: `key base64value` pairs, comma-separated")
    ),
    responses(
        (status = 201, description = "The upload is created; send its bytes to the Location",
            headers(
                ("Location" = String, description = "The upload's URL"),
                ("Upload-Expires" = String, description = "When an untouched upload is removed (HTTP date)"),
                ("Tus-Resumable" = String, description = "1.0.0")
            )),
        (status = 400, description = "Upload-Length missing or malformed, metadata malformed, or a body sent", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong submit token", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Tus-Resumable missing or another version", body = Problem, content_type = "application/problem+json",
            headers(("Tus-Version" = String, description = "1.0.0"))),
        (status = 413, description = "Upload-Length is over the largest bundle accepted", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many uploads started from this address (`rate_limited`, with Retry-After), or its unfinished uploads hold what one address may (`upload_quota_exceeded`)", body = Problem, content_type = "application/problem+json"),
        (status = 507, description = "The server has no room for another upload now (`insufficient_storage`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait")))
    ),
    security(("submit_token" = []), ())
)]
pub async fn create_upload(
    State(state): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, ApiProblem> {
    admit(&state, &headers)?;
    limited(&state, state.limiter.as_ref(), peer, &headers, "uploads")?;
    if headers.contains_key(tus::UPLOAD_DEFER_LENGTH) {
        return Err(ApiProblem::bad_request(
            "tus_defer_length_unsupported",
            "this server needs Upload-Length when the upload is created",
        ));
    }
    let length = tus::bytes(&headers, tus::UPLOAD_LENGTH)?.ok_or_else(|| {
        ApiProblem::bad_request(
            "tus_upload_length_missing",
            "send the bundle's size as Upload-Length",
        )
    })?;
    if length > state.max_bundle_bytes {
        return Err(ApiProblem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "bundle_too_large",
            format!(
                "bundles may be at most {} bytes (Tus-Max-Size)",
                state.max_bundle_bytes
            ),
        ));
    }
    let has_body = tus::bytes(&headers, "content-length")?.is_some_and(|n| n > 0);
    if has_body {
        return Err(ApiProblem::bad_request(
            "tus_body_unexpected",
            "create the upload without a body, then send the bytes with PATCH",
        ));
    }
    let metadata = tus::metadata(&headers)?;
    let client = state.proxies.client_key(peer.ip(), &headers);
    let (id, record) = state
        .uploads
        .create(length, metadata, &client, Utc::now())?;
    tracing::info!(upload = %id, length, "upload created");
    Ok((
        StatusCode::CREATED,
        [
            (
                header::LOCATION,
                format!("{}/api/v1/uploads/{id}", state.public_url),
            ),
            (
                header::HeaderName::from_static(tus::UPLOAD_EXPIRES),
                expires(record.expires_at),
            ),
        ],
    )
        .into_response())
}

/// Where an upload stands: the offset to go on from.
#[utoipa::path(
    head,
    path = "/api/v1/uploads/{id}",
    tag = "uploads",
    params(
        ("id" = String, Path, description = "The upload's id, the last part of its Location"),
        ("Tus-Resumable" = crate::openapi::TusVersion, Header, description = "The protocol version: 1.0.0")
    ),
    responses(
        (status = 200, description = "The upload's offset and length",
            headers(
                ("Upload-Offset" = u64, description = "The bytes received so far"),
                ("Upload-Length" = u64, description = "The bundle's size"),
                ("Upload-Expires" = String, description = "When it is removed if untouched (HTTP date)"),
                ("Cache-Control" = String, description = "no-store")
            )),
        (status = 401, description = "Missing or wrong submit token"),
        (status = 404, description = "No such upload"),
        (status = 410, description = "The upload expired and is gone"),
        (status = 412, description = "Tus-Resumable missing or another version")
    ),
    security(("submit_token" = []), ())
)]
pub async fn head_upload(
    State(state): State<Shared>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiProblem> {
    admit(&state, &headers)?;
    let (_, upload) = state.uploads.get(&id, Utc::now())?;
    let mut response = (
        StatusCode::OK,
        [
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (
                header::HeaderName::from_static(tus::UPLOAD_OFFSET),
                upload.offset.to_string(),
            ),
            (
                header::HeaderName::from_static(tus::UPLOAD_LENGTH),
                upload.record.length.to_string(),
            ),
            (
                header::HeaderName::from_static(tus::UPLOAD_EXPIRES),
                expires(upload.record.expires_at),
            ),
        ],
    )
        .into_response();
    if let Some(metadata) = upload.record.metadata.as_deref()
        && let Ok(value) = HeaderValue::from_str(metadata)
    {
        response.headers_mut().insert(tus::UPLOAD_METADATA, value);
    }
    Ok(response)
}

/// Appends the body at `Upload-Offset`. A chunk that breaks off is kept as far as it got, unless
/// it carries `Upload-Checksum`: then it is kept whole or not at all.
#[utoipa::path(
    patch,
    path = "/api/v1/uploads/{id}",
    tag = "uploads",
    params(
        ("id" = String, Path, description = "The upload's id, the last part of its Location"),
        ("Tus-Resumable" = crate::openapi::TusVersion, Header, description = "The protocol version: 1.0.0"),
        ("Upload-Offset" = u64, Header, description = "Where these bytes start: the offset HEAD reports"),
        ("Upload-Checksum" = Option<String>, Header, description = "`sha1 <base64 digest>` or `sha256 <base64 digest>` of this chunk")
    ),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream", description = "The next bytes of the bundle"),
    responses(
        (status = 204, description = "The bytes are stored",
            headers(
                ("Upload-Offset" = u64, description = "The new offset"),
                ("Upload-Expires" = String, description = "When it is removed if untouched (HTTP date)")
            )),
        (status = 400, description = "Upload-Offset or Upload-Checksum missing or malformed, or the chunk goes past Upload-Length", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong submit token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such upload", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body stopped arriving for the server's --body-idle-secs (`body_timeout`); what arrived is kept, unless the chunk carries Upload-Checksum", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Upload-Offset is not where the upload is; ask HEAD", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The upload expired and is gone", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Tus-Resumable missing or another version", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/offset+octet-stream", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "Another request is writing to this upload", body = Problem, content_type = "application/problem+json"),
        (status = 460, description = "The chunk does not match its Upload-Checksum; nothing of it was kept", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "The server failed; the problem carries an incident number for its log", body = Problem, content_type = "application/problem+json")
    ),
    security(("submit_token" = []), ())
)]
pub async fn patch_upload(
    State(state): State<Shared>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    body: Body,
) -> Result<Response, ApiProblem> {
    let mut stream = body.into_data_stream();
    let answer = append_chunk(&state, &headers, &id, &mut stream).await;
    if answer.is_err() {
        // Read what the client is still sending (up to a bound), so that it reads the refusal
        // instead of a connection reset.
        let mut budget = DRAIN_MARGIN;
        while let Some(Ok(chunk)) = stream.next().await {
            match budget.checked_sub(chunk.len() as u64) {
                Some(left) => budget = left,
                None => break,
            }
        }
    }
    answer
}

/// Appends the chunk in `stream` to the upload `id`, as `PATCH` asks.
async fn append_chunk(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    stream: &mut axum::body::BodyDataStream,
) -> Result<Response, ApiProblem> {
    admit(state, headers)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type != tus::OFFSET_OCTET_STREAM {
        return Err(ApiProblem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "tus_content_type",
            format!("send the bytes as {}", tus::OFFSET_OCTET_STREAM),
        ));
    }
    let offset = tus::bytes(headers, tus::UPLOAD_OFFSET)?.ok_or_else(|| {
        ApiProblem::bad_request(
            "tus_upload_offset_missing",
            "send the offset the bytes start at as Upload-Offset",
        )
    })?;
    let checksum = Checksum::from_headers(headers)?;
    let uploads = &state.uploads;
    let (id, upload) = uploads.get(id, Utc::now())?;
    // The offset as it is once this request holds the upload, not as it was before.
    let (_busy, at) = Busy::claim(uploads, id)?;
    if offset != at {
        return Err(ApiProblem::new(
            StatusCode::CONFLICT,
            "tus_offset_mismatch",
            format!("the upload is at byte {at}, not {offset}; ask HEAD and go on from there"),
        ));
    }
    let data = uploads.data_path(id);
    let file = tokio::fs::OpenOptions::new()
        .append(true)
        .open(&data)
        .await
        .map_err(ApiProblem::internal)?;
    let mut file = tokio::io::BufWriter::with_capacity(256 * 1024, file);
    let mut hasher = checksum.as_ref().map(Checksum::hasher);
    let mut written = offset;
    let mut outcome = Ok(());
    let mut broken = false;
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(err) => {
                broken = true;
                outcome = Err(ApiProblem::body_broken(
                    "tus_body_broken",
                    &err,
                    "the chunk",
                ));
                break;
            }
        };
        if written + chunk.len() as u64 > upload.record.length {
            outcome = Err(ApiProblem::bad_request(
                "tus_upload_too_long",
                format!(
                    "the chunk goes past Upload-Length ({} bytes)",
                    upload.record.length
                ),
            ));
            break;
        }
        if let Some(hasher) = &mut hasher {
            hasher.update(&chunk);
        }
        file.write_all(&chunk).await.map_err(ApiProblem::internal)?;
        written += chunk.len() as u64;
    }
    file.flush().await.map_err(ApiProblem::internal)?;
    let file = file.into_inner();
    if let (Some(checksum), Some(hasher), Ok(())) = (&checksum, hasher, &outcome)
        && !checksum.matches(hasher)
    {
        outcome = Err(ApiProblem::new(
            StatusCode::from_u16(tus::CHECKSUM_MISMATCH).expect("a valid status"),
            "tus_checksum_mismatch",
            "the chunk does not match its Upload-Checksum; send it again",
        ));
    }
    // A chunk that broke off keeps what arrived, unless it has a checksum: that one counts whole
    // or not at all, as does a refused one.
    let kept = match &outcome {
        Ok(()) => written,
        Err(_) if broken && checksum.is_none() => written,
        Err(_) => offset,
    };
    file.set_len(kept).await.map_err(ApiProblem::internal)?;
    file.sync_all().await.map_err(ApiProblem::internal)?;
    let mut record = upload.record;
    record.touched(Utc::now(), uploads.keep);
    uploads
        .write_record(id, &record)
        .map_err(ApiProblem::internal)?;
    outcome?;
    Ok((
        StatusCode::NO_CONTENT,
        [
            (
                header::HeaderName::from_static(tus::UPLOAD_OFFSET),
                kept.to_string(),
            ),
            (
                header::HeaderName::from_static(tus::UPLOAD_EXPIRES),
                expires(record.expires_at),
            ),
        ],
    )
        .into_response())
}

/// Drops an upload (tus termination).
#[utoipa::path(
    delete,
    path = "/api/v1/uploads/{id}",
    tag = "uploads",
    params(
        ("id" = String, Path, description = "The upload's id, the last part of its Location"),
        ("Tus-Resumable" = crate::openapi::TusVersion, Header, description = "The protocol version: 1.0.0")
    ),
    responses(
        (status = 204, description = "The upload and its bytes are gone"),
        (status = 401, description = "Missing or wrong submit token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such upload", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The upload had expired", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Tus-Resumable missing or another version", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "Another request is writing to this upload", body = Problem, content_type = "application/problem+json")
    ),
    security(("submit_token" = []), ())
)]
pub async fn delete_upload(
    State(state): State<Shared>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiProblem> {
    admit(&state, &headers)?;
    let (id, _) = state.uploads.get(&id, Utc::now())?;
    let (_busy, _) = Busy::claim(&state.uploads, id)?;
    state.uploads.remove(id);
    tracing::info!(upload = %id, "upload terminated");
    Ok(StatusCode::NO_CONTENT.into_response())
}
