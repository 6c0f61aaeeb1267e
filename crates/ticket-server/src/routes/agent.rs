//! The agents' side, behind the agent token: tickets listed and read, forwards to the ticket
//! system, bundles and added logs served whole or by range, or redirected to a signed link.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use callsupport_bundle::ticket::Problem;

use crate::problem::ApiProblem;
use crate::range::{RangeAsked, byte_range};
use crate::store::{Forward, TicketRecord, attachment_key, bundle_key};

use super::auth::Agent;
use super::{AppState, Shared};

/// The newest tickets (up to 500).
#[utoipa::path(
    get,
    path = "/api/v1/tickets",
    tag = "agents",
    responses(
        (status = 200, description = "The newest tickets first", body = crate::openapi::TicketList),
        (status = 401, description = "Missing or wrong agent token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Agent access is off on this server", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many agent requests from this address (`rate_limited`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait")))
    ),
    security(("agent_token" = []))
)]
pub async fn list_tickets(
    State(state): State<Shared>,
    _agent: Agent,
) -> Result<Response, ApiProblem> {
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
        (status = 429, description = "Too many agent requests from this address (`rate_limited`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 404, description = "No such ticket", body = Problem, content_type = "application/problem+json")
    ),
    security(("agent_token" = []))
)]
pub async fn get_ticket(
    State(state): State<Shared>,
    _agent: Agent,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiProblem> {
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
        (status = 403, description = "Agent access is off on this server", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many agent requests from this address (`rate_limited`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait")))
    ),
    security(("agent_token" = []))
)]
pub async fn list_forwards(
    State(state): State<Shared>,
    _agent: Agent,
) -> Result<Response, ApiProblem> {
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
        (status = 429, description = "Too many agent requests from this address (`rate_limited`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 404, description = "No such ticket", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "The range is past the end of the bundle",
            headers(("Content-Range" = String, description = "bytes */total")))
    ),
    security(("agent_token" = []))
)]
pub async fn get_bundle(
    State(state): State<Shared>,
    _agent: Agent,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiProblem> {
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
        (status = 429, description = "Too many agent requests from this address (`rate_limited`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 404, description = "No such ticket, or no such bundle on it", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "The range is past the end of the bundle",
            headers(("Content-Range" = String, description = "bytes */total")))
    ),
    security(("agent_token" = []))
)]
pub async fn get_attachment(
    State(state): State<Shared>,
    _agent: Agent,
    headers: HeaderMap,
    UrlPath((id, bundle_id)): UrlPath<(String, String)>,
) -> Result<Response, ApiProblem> {
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

pub(super) async fn find(state: &AppState, id: &str) -> Result<TicketRecord, ApiProblem> {
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
