//! A received bundle checked and made a ticket: its hash and manifest against the request, every
//! file against the manifest, then into the blob store, then recorded; the answer (201, or 200 for a
//! bundle already a ticket).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use callsupport_bundle::human_bytes;
use callsupport_bundle::reader::Bundle;
use callsupport_bundle::ticket::TicketRequest;
use uuid::Uuid;

use crate::problem::ApiProblem;
use crate::store::{NewBundle, Stored, attachment_key, bundle_key};

use super::intake::receipt;
use super::{AppState, Shared, blocking};

/// Checks the received bundle at `data` against the report and itself, then makes (or finds)
/// the ticket; the answer the client gets.
#[allow(clippy::too_many_arguments)]
pub(super) async fn store_ticket(
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
pub(super) fn answered(
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
    let max_unpacked = state.max_unpacked_bytes;
    // A few checks at a time: each inflates a whole bundle, and more at once only share the cores.
    let _turn = state.checks.acquire().await.map_err(ApiProblem::internal)?;
    blocking(move || check_bundle(&data_path, &checked, max_unpacked)).await?;
    drop(_turn);
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

/// The bundle must open as a Call Support bundle, belong to this report, unpack to at most
/// `max_unpacked` bytes, and be intact; the first file that is not ends the check.
fn check_bundle(path: &Path, request: &TicketRequest, max_unpacked: u64) -> Result<(), ApiProblem> {
    let mut bundle = Bundle::open(path)
        .map_err(|err| ApiProblem::unprocessable("bundle_invalid", err.to_string()))?;
    if bundle.manifest.bundle_id != request.bundle_id {
        return Err(ApiProblem::unprocessable(
            "bundle_id_mismatch",
            "the bundle's manifest has another bundle_id than the report",
        ));
    }
    let unpacked = bundle.unpacked_bytes();
    if unpacked > max_unpacked {
        return Err(ApiProblem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "bundle_unpacks_too_large",
            format!(
                "the bundle's files come to {} unpacked; this server takes at most {}",
                human_bytes(unpacked),
                human_bytes(max_unpacked)
            ),
        ));
    }
    if let Some((name, problem)) = bundle.first_problem() {
        return Err(ApiProblem::unprocessable(
            "bundle_damaged",
            format!("`{name}` fails its check: {problem}; the bundle was damaged on the way"),
        ));
    }
    Ok(())
}
