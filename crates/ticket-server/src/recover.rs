//! Finishing or undoing what a crash or a failed store left half done.
//!
//! # Brief overview
//!
//! A checked bundle becomes a record in three steps (see [`crate::store`]): its [`Commit`] is
//! written down as pending, its bundle goes into the blob store, and the record, its forward and
//! the pending row's removal go in together. The bytes the client sent stay until the record is
//! in. So whatever stops a commit half way (a crash, a blob store or database that refuses) leaves
//! at most a pending row and perhaps its blob, and the client can send the report again.
//!
//! [`finish_pending`] runs at start and then every few minutes ([`crate::housekeeping`]) and settles each
//! pending row: a bundle recorded meanwhile clears it (and its blob, if the record is another
//! ticket's); a complete blob is adopted (recorded, with its forward queued) as the request would
//! have done; a missing or partial blob waits out [`GRACE`], since another instance may still be
//! putting it, and is then removed with its row. Blobs are removed only by these rules (and, in
//! a request, only by [`clear_after`] once another ticket's record has the bundle), so no request
//! removes a blob that another request, or this task, is about to record.

use chrono::{DateTime, TimeDelta, Utc};

use crate::blobs::BlobStore;
use crate::forward::{Forwarder, now_text};
use crate::store::{Commit, Stored, Tickets};

/// How long a pending commit without its whole blob is left to the request that wrote it.
pub const GRACE: TimeDelta = TimeDelta::hours(1);

/// Pending commits settled in one round.
const ROUND: u32 = 100;

/// What one round did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Bundles whose blob was there and that were recorded now.
    pub adopted: usize,
    /// Pending rows cleared, with their blob when no record has it.
    pub undone: usize,
}

/// Settles the pending commits (up to [`ROUND`] of them), as of `now`.
pub async fn finish_pending(
    store: &dyn Tickets,
    blobs: &dyn BlobStore,
    forwarder: Option<&Forwarder>,
    now: DateTime<Utc>,
) -> anyhow::Result<Recovered> {
    let mut recovered = Recovered::default();
    for pending in store.pending(ROUND).await? {
        let stale = DateTime::parse_from_rfc3339(&pending.since)
            .map_or(true, |since| now - since.with_timezone(&Utc) > GRACE);
        match settle(store, blobs, &pending.commit, stale, &now_text(now)).await {
            Ok(Settled::Adopted) => {
                recovered.adopted += 1;
                if pending.commit.forward
                    && let Some(forwarder) = forwarder
                {
                    forwarder.wake();
                }
                tracing::warn!(
                    ticket_id = pending.commit.ticket_id,
                    bundle_id = pending.commit.row.bundle_id,
                    "a bundle stored before a crash or a failure is recorded now"
                );
            }
            Ok(Settled::Undone) => recovered.undone += 1,
            Ok(Settled::Waiting) => {}
            Err(err) => tracing::warn!(
                blob_key = pending.commit.blob_key,
                "cannot settle a pending commit yet: {err:#}"
            ),
        }
    }
    Ok(recovered)
}

/// What became of one pending commit.
enum Settled {
    Adopted,
    Undone,
    Waiting,
}

async fn settle(
    store: &dyn Tickets,
    blobs: &dyn BlobStore,
    commit: &Commit,
    stale: bool,
    now: &str,
) -> anyhow::Result<Settled> {
    if let Some(stored) = store.stored(&commit.row.bundle_id).await? {
        clear_after(store, blobs, commit, &stored).await?;
        return Ok(Settled::Undone);
    }
    let whole = blobs.size(&commit.blob_key).await? == Some(commit.row.bundle_bytes as u64);
    if whole {
        match store.record(commit, now).await {
            Ok((_, true)) => return Ok(Settled::Adopted),
            Ok((stored, false)) => {
                clear_after(store, blobs, commit, &stored).await?;
                return Ok(Settled::Undone);
            }
            Err(err) if !stale => return Err(err),
            Err(err) => tracing::error!(
                blob_key = commit.blob_key,
                "a stored bundle could not be recorded for an hour; it is removed: {err:#}"
            ),
        }
    }
    if !stale {
        return Ok(Settled::Waiting);
    }
    blobs.delete(&commit.blob_key).await?;
    store.drop_pending(&commit.blob_key).await?;
    Ok(Settled::Undone)
}

/// Clears the pending row of `commit` once its bundle id is recorded as `stored`: its blob goes
/// too when the record is another ticket's (two writers raced with one bundle), and stays when it
/// is this commit's own.
pub async fn clear_after(
    store: &dyn Tickets,
    blobs: &dyn BlobStore,
    commit: &Commit,
    stored: &Stored,
) -> anyhow::Result<()> {
    if stored.ticket_id != commit.ticket_id {
        blobs.delete(&commit.blob_key).await?;
    }
    store.drop_pending(&commit.blob_key).await
}
