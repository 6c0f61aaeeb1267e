//! The server's chores, done at start and then every few minutes: expired resumable uploads
//! swept ([`crate::upload_store`]), bundles left half received by a stopped server removed from
//! `incoming/`, and commits a crash or a failure left half done settled ([`crate::recover`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use crate::blobs::BlobStore;
use crate::forward::Forwarder;
use crate::recover;
use crate::store::Tickets;
use crate::upload_store::{Uploads, older_than};

/// What the chores work on.
pub(crate) struct Chores {
    pub uploads: Arc<Uploads>,
    pub incoming: PathBuf,
    pub store: Arc<dyn Tickets>,
    pub blobs: Arc<dyn BlobStore>,
    pub forwarder: Option<Arc<Forwarder>>,
}

/// How long a bundle arriving in one request may go unwritten before it is taken for left over
/// by a stopped server. Another instance on the same data folder may be receiving one right now;
/// a request whose body idles for `--body-idle-secs` ends long before.
const INCOMING_LEFT_OVER: TimeDelta = TimeDelta::hours(1);

/// Does the chores every `every`, for as long as the task runs.
pub(crate) async fn every(chores: Chores, every: std::time::Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let (uploads, incoming) = (chores.uploads.clone(), chores.incoming.clone());
        let swept = tokio::task::spawn_blocking(move || {
            let now = Utc::now();
            (uploads.sweep(now), sweep_incoming(&incoming, now))
        })
        .await;
        match swept {
            Ok((0, 0)) => {}
            Ok((uploads, incoming)) => {
                tracing::info!(
                    uploads,
                    incoming,
                    "expired uploads and left-over files removed"
                )
            }
            Err(err) => tracing::error!("the sweep failed: {err}"),
        }
        if let Err(err) = recover::finish_pending(
            &*chores.store,
            &*chores.blobs,
            chores.forwarder.as_deref(),
            Utc::now(),
        )
        .await
        {
            tracing::warn!("cannot read the pending commits: {err:#}");
        }
    }
}

/// Removes from `incoming/` what a stopped server left half received; how many went.
pub(crate) fn sweep_incoming(incoming: &Path, now: DateTime<Utc>) -> usize {
    let mut removed = 0;
    for entry in std::fs::read_dir(incoming).into_iter().flatten().flatten() {
        let path = entry.path();
        if older_than(&path, INCOMING_LEFT_OVER, now) && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}
