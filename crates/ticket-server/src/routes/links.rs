//! Links from support ([`callsupport_link`]): an agent makes one for a ticket (agent token), signed
//! with this server's key, expiring, usable a bounded number of times; anyone may read the public
//! key the app checks links with. When logs come through a link, [`take_link`] checks it again
//! and counts the use.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use callsupport_bundle::ticket::{Problem, TicketRequest};
use callsupport_link::Link;
use chrono::{SecondsFormat, Utc};

use crate::problem::ApiProblem;
use crate::store::LinkRecord;

use super::agent::find;
use super::auth::Agent;
use super::{AppState, Shared};

/// How long a link lasts when the agent does not say, in hours.
pub const DEFAULT_HOURS: u32 = 72;
/// The longest a link may last, in hours (30 days).
pub const MAX_HOURS: u32 = 720;
/// How many reports may come through a link when the agent does not say.
pub const DEFAULT_USES: u32 = 3;
/// The most reports one link may bring.
pub const MAX_USES: u32 = 100;
/// How long after its expiry logs agreed to through a link are still taken: a report the user
/// sent in time may wait offline in the outbox.
pub const GRACE: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// The body of `POST /api/v1/tickets/{id}/links`; both fields may be left out.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLink {
    /// How long the link lasts, in hours (1 to 720; 72 when left out).
    #[schema(minimum = 1, maximum = 720, example = 72)]
    pub hours: Option<u32>,
    /// How many reports may come through it (1 to 100; 3 when left out).
    #[schema(minimum = 1, maximum = 100, example = 3)]
    pub uses: Option<u32>,
}

/// `GET /api/v1/tickets/{id}/links`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct LinkList {
    pub links: Vec<LinkRecord>,
}

/// `GET /api/v1/link-key`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct LinkKeyView {
    /// The public key links are signed with (`ed25519:` and 43 characters); IT may pin it in the
    /// app's `ticket_api.link_key`.
    #[schema(example = "ed25519:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")]
    pub key: String,
}

/// The public key the app checks links from support with.
#[utoipa::path(
    get,
    path = "/api/v1/link-key",
    tag = "reports",
    responses((status = 200, description = "The key links from support are signed with", body = LinkKeyView))
)]
pub async fn link_key(State(state): State<Shared>) -> Json<LinkKeyView> {
    Json(LinkKeyView {
        key: state.link_key.public().to_string(),
    })
}

/// A new link asking the user for more logs for the ticket: signed, expiring, usable a few times.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/links",
    tag = "agents",
    params(("id" = String, Path, description = "The ticket id", example = "CS-000001")),
    request_body(content = NewLink, content_type = "application/json"),
    responses(
        (status = 201, description = "The link, to send to the user", body = LinkRecord),
        (status = 400, description = "The body is not a link request (`link_request_invalid`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong agent token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Agent access is off on this server", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ticket", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many agent requests from this address (`rate_limited`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait")))
    ),
    security(("agent_token" = []))
)]
pub async fn create_link(
    State(state): State<Shared>,
    _agent: Agent,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> Result<Response, ApiProblem> {
    let asked = new_link(&body)?;
    let ticket = find(&state, &id).await?;
    let now = Utc::now();
    let hours = asked.hours.unwrap_or(DEFAULT_HOURS);
    let expires_at = now + chrono::TimeDelta::hours(i64::from(hours));
    let link_id = uuid::Uuid::now_v7().simple().to_string();
    let link = state
        .link_key
        .sign(&ticket.ticket_id, &link_id, expires_at)
        .map_err(ApiProblem::internal)?;
    let record = LinkRecord {
        link_id,
        ticket_id: ticket.ticket_id,
        url: link.url(),
        created_at: now.to_rfc3339_opts(SecondsFormat::Secs, true),
        expires_at: link.expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        max_uses: asked.uses.unwrap_or(DEFAULT_USES),
        uses: 0,
    };
    state
        .store
        .create_link(&record)
        .await
        .map_err(ApiProblem::internal)?;
    tracing::info!(
        ticket_id = %record.ticket_id,
        link_id = %record.link_id,
        hours,
        max_uses = record.max_uses,
        "link made"
    );
    Ok((StatusCode::CREATED, Json(record)).into_response())
}

/// The request's body as a [`NewLink`], within its limits.
fn new_link(body: &[u8]) -> Result<NewLink, ApiProblem> {
    let bad = |detail: String| ApiProblem::bad_request("link_request_invalid", detail);
    let asked: NewLink = serde_json::from_slice(body).map_err(|err| {
        bad(format!(
            "the body must be a JSON object with `hours` (1 to {MAX_HOURS}) and `uses` (1 to {MAX_USES}), both optional: {err}"
        ))
    })?;
    if asked.hours.is_some_and(|h| !(1..=MAX_HOURS).contains(&h)) {
        return Err(bad(format!("`hours` must be 1 to {MAX_HOURS}")));
    }
    if asked.uses.is_some_and(|u| !(1..=MAX_USES).contains(&u)) {
        return Err(bad(format!("`uses` must be 1 to {MAX_USES}")));
    }
    Ok(asked)
}

/// The links made for the ticket, oldest first, with how often each was used.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}/links",
    tag = "agents",
    params(("id" = String, Path, description = "The ticket id", example = "CS-000001")),
    responses(
        (status = 200, description = "The ticket's links", body = LinkList),
        (status = 401, description = "Missing or wrong agent token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Agent access is off on this server", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ticket", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many agent requests from this address (`rate_limited`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait")))
    ),
    security(("agent_token" = []))
)]
pub async fn list_links(
    State(state): State<Shared>,
    _agent: Agent,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiProblem> {
    let ticket = find(&state, &id).await?;
    let links = state
        .store
        .links(&ticket.ticket_id)
        .await
        .map_err(ApiProblem::internal)?;
    Ok(Json(LinkList { links }).into_response())
}

/// Logs added to `ticket` must come through a link this server signed for it, within its time
/// (and [`GRACE`]) and its uses; one use is taken, once for each bundle (a report sent again
/// after a failure keeps the use it took). A refusal says what the user can do.
pub(super) async fn take_link(
    state: &AppState,
    request: &TicketRequest,
    ticket: &str,
) -> Result<(), ApiProblem> {
    let report = &request.report;
    let invalid = |detail: String| ApiProblem::unprocessable("link_invalid", detail);
    let Some(text) = &report.link else {
        return Err(ApiProblem::unprocessable(
            "link_required",
            format!(
                "logs are added to ticket `{ticket}` only through a link from support made by this service; ask support for a link, or send the report as a new ticket"
            ),
        ));
    };
    let link = Link::parse(text).map_err(|err| invalid(err.to_string()))?;
    if link.ticket_id != ticket {
        return Err(invalid(format!(
            "the link is for ticket `{}`, and the report adds to `{ticket}`",
            link.ticket_id
        )));
    }
    link.check_signature(&state.link_key.public())
        .map_err(|err| invalid(err.to_string()))?;
    if link.expires_at + GRACE <= Utc::now() {
        return Err(ApiProblem::unprocessable(
            "link_expired",
            format!(
                "the link from support for `{ticket}` expired on {}; ask support for a new one, or send the report as a new ticket",
                link.expires_at.to_rfc3339_opts(SecondsFormat::Secs, true)
            ),
        ));
    }
    let link_id = link.link_id.as_deref().unwrap_or_default();
    let store = &state.store;
    if store
        .use_link(link_id, ticket, &request.bundle_id.to_string())
        .await
        .map_err(ApiProblem::internal)?
    {
        return Ok(());
    }
    match store.link(link_id).await.map_err(ApiProblem::internal)? {
        Some(record) if record.ticket_id == ticket => Err(ApiProblem::unprocessable(
            "link_used_up",
            format!(
                "the link from support for `{ticket}` was used {} times, all it may be; ask support for a new one, or send the report as a new ticket",
                record.uses
            ),
        )),
        _ => Err(invalid(format!(
            "this service has no record of the link for `{ticket}`; ask support for a new one"
        ))),
    }
}
