//! A received bundle checked and made a ticket: its hash and manifest against the request, every
//! file against the manifest, then written down as pending, into the blob store, and recorded with
//! its forward; the answer (201, or 200 for a bundle already a ticket). The received file stays
//! until the caller has the answer, so a failure on the way loses nothing the client sent.

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

use chrono::Utc;

use crate::faults;
use crate::forward::now_text;
use crate::problem::ApiProblem;
use crate::recover::clear_after;
use crate::store::{Commit, NewBundle, Stored};

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
    let (record, created) = commit(state, request, data, sha256, size).await?;
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
    let opener = Opener {
        identity: state.seal_identity.clone(),
        scratch: state.incoming.clone(),
        limit: state.max_bundle_bytes,
    };
    // A few checks at a time: each inflates a whole bundle, and more at once only share the cores.
    let _turn = state.checks.acquire().await.map_err(ApiProblem::internal)?;
    blocking(move || check_bundle(&data_path, &checked, max_unpacked, &opener)).await?;
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
    if let Some(ticket) = &request.report.ticket_id {
        super::links::take_link(state, &request, ticket).await?;
    }
    let row = NewBundle::new(&request, &sha256, size).map_err(ApiProblem::internal)?;
    let commit = match &request.report.ticket_id {
        Some(ticket) => Commit::attachment(ticket, row),
        None => {
            let number = store
                .next_ticket_number()
                .await
                .map_err(ApiProblem::internal)?;
            Commit::ticket(number, row, state.forwarder.is_some())
        }
    };
    store_commit(state, &commit, data)
        .await
        .map_err(ApiProblem::internal)
}

/// The three steps of a commit (see [`crate::store`]): written down as pending, the blob put
/// from `data`, then recorded with its forward. A failure leaves what was done for
/// [`crate::recover`] to finish or undo, and `data` for the client's next try.
async fn store_commit(
    state: &AppState,
    commit: &Commit,
    data: &Path,
) -> anyhow::Result<(Stored, bool)> {
    let now = now_text(Utc::now());
    faults::step("pend").await?;
    state.store.pend(commit, &now).await?;
    faults::step("put").await?;
    state.blobs.put_file(&commit.blob_key, data).await?;
    faults::step("record").await?;
    let (stored, created) = state.store.record(commit, &now).await?;
    if created {
        // A new ticket is queued; logs added to a ticket open its forward again.
        if let Some(forwarder) = &state.forwarder {
            forwarder.wake();
        }
    } else {
        // Recorded meanwhile, by another request or by the recovery of this very commit.
        clear_after(&*state.store, &*state.blobs, commit, &stored).await?;
    }
    faults::step("finish").await?;
    Ok((stored, created))
}

/// How a sealed bundle is opened to be checked: with the server's identity, into an anonymous
/// file in `scratch`, at most `limit` bytes (a sealed bundle is no larger than the one inside).
struct Opener {
    identity: Option<std::sync::Arc<callsupport_seal::Identities>>,
    scratch: std::path::PathBuf,
    limit: u64,
}

/// The bundle must open as a Call Support bundle, belong to this report, unpack to at most
/// `max_unpacked` bytes, and be intact; the first file that is not ends the check. A sealed
/// bundle is checked opened, and stored as it came.
fn check_bundle(
    path: &Path,
    request: &TicketRequest,
    max_unpacked: u64,
    opener: &Opener,
) -> Result<(), ApiProblem> {
    let sealed = callsupport_seal::is_sealed(path).map_err(ApiProblem::internal)?;
    if !sealed {
        let bundle = Bundle::open(path)
            .map_err(|err| ApiProblem::unprocessable("bundle_invalid", err.to_string()))?;
        return check_opened(bundle, request, max_unpacked);
    }
    let Some(identity) = &opener.identity else {
        return Err(ApiProblem::unprocessable(
            "bundle_sealed",
            "the bundle is sealed, and this server has no identity to open it with; start it with --seal-identity FILE and add its public key to privacy.recipients",
        ));
    };
    let opened = callsupport_seal::unseal_to_temp(path, identity, &opener.scratch, opener.limit)
        .map_err(|err| match err {
            callsupport_seal::SealError::NotForUs => ApiProblem::unprocessable(
                "bundle_sealed",
                "the bundle is sealed for other keys than this server's; add the server's public key to privacy.recipients",
            ),
            callsupport_seal::SealError::Io { .. } => ApiProblem::internal(err),
            other => ApiProblem::unprocessable("bundle_damaged", other.to_string()),
        })?;
    let bundle = Bundle::from_reader(std::io::BufReader::new(opened), path)
        .map_err(|err| ApiProblem::unprocessable("bundle_invalid", err.to_string()))?;
    check_opened(bundle, request, max_unpacked)
}

/// [`check_bundle`] of an opened bundle.
fn check_opened<R: std::io::Read + std::io::Seek>(
    mut bundle: Bundle<R>,
    request: &TicketRequest,
    max_unpacked: u64,
) -> Result<(), ApiProblem> {
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
