//! HTTP routes of the reference ticket API.
//!
//! `POST /api/v1/tickets` streams the `bundle` part to disk with its SHA-256 and a size limit, checks
//! it against the `report` part and against its own manifest (every file's hash), and only then creates
//! the ticket. Sent as JSON, it names a finished resumable upload ([`crate::uploads`]) instead, which
//! goes through the same checks. A repeated `Idempotency-Key` returns the first ticket with `200`.
//!
//! `auth.rs` says who may call; `intake.rs` receives reports, `commit.rs` checks a received bundle
//! and makes it a ticket; `agent.rs` serves tickets, forwards and bundles to agents; `links.rs`
//! makes and checks the signed links by which support asks for more logs.

mod agent;
mod auth;
mod commit;
mod intake;
mod links;

pub use agent::*;
pub(crate) use auth::{check_submit_token, limited};
pub use intake::*;
pub use links::*;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, head, post};

use crate::blobs::BlobStore;
use crate::forward::Forwarder;
use crate::limit::Limiter;
use crate::problem::ApiProblem;
use crate::secret::Secret;
use crate::store::Tickets;
use crate::uploads::{self, Uploads};

/// Largest `report` part accepted.
pub(super) const MAX_REPORT_BYTES: usize = 1 << 20;
/// How much more than the bundle limit a refused request may still send before the connection is cut.
pub(crate) const DRAIN_MARGIN: u64 = 64 << 20;

pub struct AppState {
    pub store: Arc<dyn Tickets>,
    /// Opens sealed bundles to check them; `None` refuses them.
    pub seal_identity: Option<Arc<callsupport_seal::Identities>>,
    /// Signs links from support ([`links`]).
    pub link_key: Arc<callsupport_link::LinkKey>,
    /// Forwards new tickets to the organisation's ticket system, when set up.
    pub forwarder: Option<Arc<Forwarder>>,
    /// Where a multipart request's bundle is written while it arrives (cleared at start).
    pub incoming: PathBuf,
    /// Where the bundles are.
    pub blobs: Arc<dyn BlobStore>,
    /// How long a signed link to a bundle lasts; `None` streams bundles through the server.
    pub signed_links: Option<std::time::Duration>,
    /// Resumable uploads in progress (`/api/v1/uploads`).
    pub uploads: Arc<Uploads>,
    pub submit_token: Option<Secret>,
    pub agent_token: Option<Secret>,
    /// Reports (and upload creations) a client address may make.
    pub limiter: Option<Limiter>,
    /// Token checks (dry runs) and agent requests a client address may make.
    pub lookups: Option<Limiter>,
    /// Bundles arriving in one request each, at once.
    pub intake: crate::limit::Slots,
    /// Free disk space kept: a bundle that could take the disk under it is refused.
    pub min_free_bytes: u64,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub proxies: crate::client::Proxies,
    pub max_bundle_bytes: u64,
    /// Most bytes a bundle's files may unpack to: what checking one inflates at most.
    pub max_unpacked_bytes: u64,
    /// Turns to check a received bundle: at most this many are inflated and hashed at once.
    pub checks: tokio::sync::Semaphore,
    pub public_url: String,
}

pub(super) type Shared = Arc<AppState>;

/// The routes; `/api/v1/uploads` only when `resumable` (a server without it is what clients fall
/// back from).
pub fn router(state: Shared, resumable: bool, body_idle: std::time::Duration) -> Router {
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
        .route(
            "/api/v1/tickets/{id}/links",
            post(create_link).get(list_links),
        )
        .route("/api/v1/link-key", get(link_key))
        .merge(if resumable { uploads } else { Router::new() })
        // The bundle size limit is enforced while streaming, with a problem document.
        .layer(DefaultBodyLimit::disable())
        // A body that stops coming ends its request (`408 body_timeout`) instead of holding it.
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(body_idle))
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

/// Runs `work` (reading a whole bundle) on a blocking thread.
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiProblem> + Send + 'static,
) -> Result<T, ApiProblem> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiProblem::internal)?
}
