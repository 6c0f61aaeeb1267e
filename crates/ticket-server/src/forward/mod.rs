//! Forwarding tickets to the organisation's ticket system (Azure DevOps), from the server's own
//! queue.
//!
//! # Brief overview
//!
//! A new ticket is recorded and answered to the client; forwarding it is a row in the `forwards`
//! table ([`crate::store::Forward`]), written in the same transaction as the ticket, so a ticket system that is down, slow or refusing
//! never loses a report. [`run`] takes due rows one at a time, holding each for a while so that two
//! server instances never forward the same ticket at once, and does what is left of the three
//! steps: create the work item (title, repro steps with the report, calls and versions, tags, area),
//! put the bundle on it (attached when under the organisation's limit, with the chunked upload when
//! large; otherwise a hyperlink to the bundle on this server), and mark it done. Logs added to
//! the ticket later (through a link from support) open its forward again, and go on the same
//! work item the same way. Each step's result
//! is written before the next, so a retry goes on from there instead of making a second work item.
//! A failure is kept on the row (agents see it at `GET /api/v1/forwards` and on the ticket) and
//! the row comes due again after a doubling wait, or after the pause the service asked for.

pub mod ado;

use std::sync::Arc;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use futures_util::{FutureExt, TryStreamExt};
use std::panic::AssertUnwindSafe;
use tokio::sync::Notify;

use crate::blobs::BlobStore;
use crate::store::{AddedForward, Forward, TicketRecord, Tickets, attachment_key, bundle_key};
use ado::{AdoError, AzureDevOps, Client, NewWorkItem};
use callsupport_bundle::ticket::TicketRequest;

/// How forwarding is set up.
#[derive(Debug, Clone)]
pub struct ForwardConfig {
    pub azure_devops: AzureDevOps,
    /// The wait after the first failure; it doubles up to `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
}

impl ForwardConfig {
    pub fn new(azure_devops: AzureDevOps) -> ForwardConfig {
        ForwardConfig {
            azure_devops,
            retry_base: Duration::from_secs(10),
            retry_max: Duration::from_secs(3600),
        }
    }
}

/// The forwarding worker's handle: wake it when a ticket is queued.
pub struct Forwarder {
    client: Client,
    config: ForwardConfig,
    /// Base of the links to bundles on this server (`--public-url`).
    public_url: String,
    wake: Notify,
}

/// How long one instance holds a forward it is working on.
const HOLD: chrono::TimeDelta = chrono::TimeDelta::minutes(10);
/// How often the queue is looked at when nothing wakes the worker.
const POLL: Duration = Duration::from_secs(1);

impl Forwarder {
    pub fn new(config: ForwardConfig, public_url: String) -> anyhow::Result<Forwarder> {
        Ok(Forwarder {
            client: Client::new(config.azure_devops.clone())?,
            config,
            public_url,
            wake: Notify::new(),
        })
    }

    /// Wakes the worker: a ticket was queued (with its record, [`Tickets::record`]).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Forwards due tickets until the task is dropped.
pub async fn run(forwarder: Arc<Forwarder>, store: Arc<dyn Tickets>, blobs: Arc<dyn BlobStore>) {
    loop {
        let now = Utc::now();
        match store.due_forwards(&now_text(now), 10).await {
            Ok(due) => {
                for ticket in due {
                    let hold = now_text(Utc::now() + HOLD);
                    match store
                        .claim_forward(&ticket, &hold, &now_text(Utc::now()))
                        .await
                    {
                        Ok(true) => {
                            // A panic in one row (a bug) is that row's failure, not the end of
                            // forwarding for every ticket until a restart.
                            let attempt =
                                AssertUnwindSafe(forward(&forwarder, &*store, &*blobs, &ticket))
                                    .catch_unwind()
                                    .await;
                            let attempt = match attempt {
                                Ok(recorded) => recorded,
                                Err(panic) => {
                                    let what = panic_message(panic.as_ref());
                                    after_panic(&forwarder, &*store, &ticket, &what).await
                                }
                            };
                            if let Err(err) = attempt {
                                tracing::warn!(
                                    ticket_id = ticket,
                                    "cannot record the forward: {err:#}"
                                );
                            }
                        }
                        Ok(false) => {}
                        Err(err) => tracing::warn!("cannot take a forward: {err:#}"),
                    }
                }
            }
            Err(err) => tracing::warn!("cannot read the forwarding queue: {err:#}"),
        }
        tokio::select! {
            _ = forwarder.wake.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

/// One attempt at forwarding `ticket_id`, which this instance holds.
async fn forward(
    forwarder: &Forwarder,
    store: &dyn Tickets,
    blobs: &dyn BlobStore,
    ticket_id: &str,
) -> anyhow::Result<()> {
    crate::faults::step("forward").await?;
    let (Some(mut row), Some(record)) =
        (store.forward(ticket_id).await?, store.get(ticket_id).await?)
    else {
        return Ok(());
    };
    row.attempts += 1;
    let hold = now_text(Utc::now() + HOLD);
    let attempt = steps(forwarder, store, blobs, &record, &mut row, &hold).await;
    let now = Utc::now();
    row.updated_at = now_text(now);
    match attempt {
        Ok(()) => {
            row.done_at = Some(now_text(now));
            row.last_error = None;
            tracing::info!(
                ticket_id,
                work_item = row.work_item_id,
                attempts = row.attempts,
                "ticket forwarded to Azure DevOps"
            );
        }
        Err(Step::Ado(err)) => {
            let wait =
                backoff(&forwarder.config, row.attempts).max(err.retry_after().unwrap_or_default());
            row.next_at = now_text(now + chrono::TimeDelta::from_std(wait)?);
            row.last_error = Some(err.to_string());
            tracing::warn!(
                ticket_id,
                attempts = row.attempts,
                wait_ms = wait.as_millis() as u64,
                "forwarding to Azure DevOps failed: {err}"
            );
        }
        Err(Step::Store(err)) => return Err(err),
    }
    store.save_forward(&row, None).await
}

/// Records on the row of `ticket_id` that its attempt panicked (`what`), and when it is tried
/// again, as for a failure of Azure DevOps.
async fn after_panic(
    forwarder: &Forwarder,
    store: &dyn Tickets,
    ticket_id: &str,
    what: &str,
) -> anyhow::Result<()> {
    tracing::error!(ticket_id, "the forward stopped on a bug (a panic): {what}");
    let Some(mut row) = store.forward(ticket_id).await? else {
        return Ok(());
    };
    // It counts as an attempt (one that panicked after writing a step has counted itself
    // already, and counts twice: harmless).
    row.attempts = row.attempts.saturating_add(1);
    let now = Utc::now();
    let wait = backoff(&forwarder.config, row.attempts);
    row.next_at = now_text(now + chrono::TimeDelta::from_std(wait)?);
    row.updated_at = now_text(now);
    row.last_error = Some(format!(
        "the forward stopped on an error of the server (a panic: {what}); it is tried again"
    ));
    store.save_forward(&row, None).await
}

/// What a panic said, when it said it in words.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned())
}

/// Why a step stopped.
enum Step {
    /// Azure DevOps failed or refused: try again later.
    Ado(AdoError),
    /// Our own records failed: leave the row held, it comes due when the hold ends.
    Store(anyhow::Error),
}

impl From<AdoError> for Step {
    fn from(err: AdoError) -> Step {
        Step::Ado(err)
    }
}

/// Does what is left: the work item, the attachment, the relation; each result written as it
/// comes.
async fn steps(
    forwarder: &Forwarder,
    store: &dyn Tickets,
    blobs: &dyn BlobStore,
    record: &TicketRecord,
    row: &mut Forward,
    hold: &str,
) -> Result<(), Step> {
    let client = &forwarder.client;
    let saved = |row: Forward| async move {
        store
            .save_forward(&row, Some(hold))
            .await
            .map_err(Step::Store)
    };
    let work_item = match row.work_item_id {
        Some(id) => id,
        None => {
            let text = WorkItemText::of(record, &forwarder.public_url);
            let item = client
                .create_work_item(&NewWorkItem {
                    title: &text.title,
                    description: &text.description,
                    tags: &format!("Call Support; {}", record.ticket_id),
                })
                .await?;
            row.work_item_id = Some(item.id);
            row.work_item_url = Some(item.url);
            saved(row.clone()).await?;
            item.id
        }
    };
    if !row.linked {
        let bundle = OnWorkItem {
            key: bundle_key(&record.ticket_id),
            bytes: record.bundle_bytes,
            file_name: format!("{}.zip", record.ticket_id),
            server_url: format!(
                "{}/api/v1/tickets/{}/bundle",
                forwarder.public_url, record.ticket_id
            ),
            comment: format!(
                "Call Support bundle of {} ({} bytes, SHA-256 {})",
                record.ticket_id, record.bundle_bytes, record.bundle_sha256
            ),
        };
        let mut uploaded = row.attachment_url.clone();
        let keep = |url: String| {
            row.attachment_url = Some(url);
            saved(row.clone())
        };
        bundle
            .put(forwarder, blobs, work_item, &mut uploaded, keep)
            .await?;
        row.attachment_url = uploaded;
        row.linked = true;
        saved(row.clone()).await?;
    }
    add_later_bundles(forwarder, store, blobs, record, work_item).await
}

/// One bundle on its way onto a work item.
struct OnWorkItem {
    /// Where it is in the blob store.
    key: String,
    bytes: u64,
    /// Its name as an attachment.
    file_name: String,
    /// Where agents fetch it from this server: the hyperlink when it is over the limit.
    server_url: String,
    /// The relation's comment.
    comment: String,
}

impl OnWorkItem {
    /// Puts the bundle on `work_item`: attached when within the organisation's limit (uploaded
    /// once: `uploaded` holds the attachment's URL, and `keep` writes it down before the
    /// relation is added), otherwise as a hyperlink to it on this server.
    async fn put<F, Kept>(
        &self,
        forwarder: &Forwarder,
        blobs: &dyn BlobStore,
        work_item: i64,
        uploaded: &mut Option<String>,
        keep: F,
    ) -> Result<(), Step>
    where
        F: FnOnce(String) -> Kept,
        Kept: std::future::Future<Output = Result<(), Step>>,
    {
        let client = &forwarder.client;
        if self.bytes > client.config().attachment_limit_bytes {
            return Ok(client
                .add_relation(work_item, "Hyperlink", &self.server_url, &self.comment)
                .await?);
        }
        let url = match uploaded {
            Some(url) => url.clone(),
            None => {
                let url = attach(client, blobs, &self.key, self.bytes, &self.file_name).await?;
                *uploaded = Some(url.clone());
                keep(url.clone()).await?;
                url
            }
        };
        Ok(client
            .add_relation(work_item, "AttachedFile", &url, &self.comment)
            .await?)
    }
}

/// Puts the bundles added to the ticket later (support asked for logs) on its work item, each
/// as the ticket's own: attached, or linked when over the organisation's limit. Each one's
/// progress is written as it comes, so a retry does not upload or relate one twice.
async fn add_later_bundles(
    forwarder: &Forwarder,
    store: &dyn Tickets,
    blobs: &dyn BlobStore,
    record: &TicketRecord,
    work_item: i64,
) -> Result<(), Step> {
    if record.attachments.is_empty() {
        return Ok(());
    }
    let ticket = &record.ticket_id;
    let begun = store.added_forwards(ticket).await.map_err(Step::Store)?;
    for added in &record.attachments {
        let mut state = begun
            .iter()
            .find(|b| b.bundle_id == added.bundle_id)
            .cloned()
            .unwrap_or_else(|| AddedForward {
                bundle_id: added.bundle_id.clone(),
                attachment_url: None,
                linked: false,
            });
        if state.linked {
            continue;
        }
        let bundle = OnWorkItem {
            key: attachment_key(ticket, &added.bundle_id),
            bytes: added.bundle_bytes,
            file_name: format!("{ticket}-added-{}.zip", added.bundle_id),
            server_url: format!(
                "{}/api/v1/tickets/{ticket}/attachments/{}",
                forwarder.public_url, added.bundle_id
            ),
            comment: format!(
                "Logs added to {ticket} on {} ({} bytes, SHA-256 {}): {}",
                added.created_at, added.bundle_bytes, added.bundle_sha256, added.summary
            ),
        };
        let mut uploaded = state.attachment_url.clone();
        let keep = |url: String| {
            let begun = AddedForward {
                attachment_url: Some(url),
                ..state.clone()
            };
            async move {
                store
                    .save_added_forward(ticket, &begun)
                    .await
                    .map_err(Step::Store)
            }
        };
        bundle
            .put(forwarder, blobs, work_item, &mut uploaded, keep)
            .await?;
        state.attachment_url = uploaded;
        state.linked = true;
        store
            .save_added_forward(ticket, &state)
            .await
            .map_err(Step::Store)?;
    }
    Ok(())
}

/// Uploads the bundle at `key` (`total` bytes) as an attachment: whole, or in chunks when over
/// the chunk size.
async fn attach(
    client: &Client,
    blobs: &dyn BlobStore,
    key: &str,
    total: u64,
    file_name: &str,
) -> Result<String, AdoError> {
    let read = |range: std::ops::Range<u64>| read_range(blobs, key, range);
    let chunk = client.config().chunk_bytes.max(1);
    if total <= chunk {
        let stream = read(0..total).await?;
        return client
            .upload_attachment(file_name, total, reqwest::Body::wrap_stream(stream))
            .await;
    }
    let (id, url) = client.start_chunked_attachment(file_name).await?;
    let mut start = 0;
    while start < total {
        let end = (start + chunk).min(total);
        let piece: Vec<bytes::Bytes> = read(start..end)
            .await?
            .try_collect()
            .await
            .map_err(|err| AdoError::Bundle(err.to_string()))?;
        client
            .upload_chunk(&id, file_name, start, total, piece.concat().into())
            .await?;
        start = end;
    }
    Ok(url)
}

async fn read_range(
    blobs: &dyn BlobStore,
    key: &str,
    range: std::ops::Range<u64>,
) -> Result<crate::blobs::BlobStream, AdoError> {
    blobs
        .read(key, range)
        .await
        .map_err(|err| AdoError::Bundle(format!("{err:#}")))
}

/// The wait after failed attempt `attempts`: doubling from the base, capped.
fn backoff(config: &ForwardConfig, attempts: u32) -> Duration {
    let doubled = config
        .retry_base
        .saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
    doubled.min(config.retry_max)
}

/// A time as the queue keeps it: UTC, RFC 3339 with milliseconds, so text order is time order.
pub fn now_text(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The work item's title and repro steps, from the report.
struct WorkItemText {
    title: String,
    description: String,
}

impl WorkItemText {
    fn of(record: &TicketRecord, public_url: &str) -> WorkItemText {
        let request: Option<TicketRequest> = serde_json::from_value(record.report.clone()).ok();
        let mut title = format!("[{}] {}", record.ticket_id, record.summary);
        if title.chars().count() > 255 {
            title = title.chars().take(254).collect::<String>() + "…";
        }
        let mut html = format!("<p><b>{}</b></p>", escape(&record.summary));
        if let Some(request) = &request {
            let report = &request.report;
            if !report.description.is_empty() {
                html += &format!(
                    "<p>{}</p>",
                    escape(&report.description).replace('\n', "<br>")
                );
            }
            html += "<ul>";
            html += &format!("<li>Category: {}</li>", escape(&record.category));
            html += &format!("<li>When: {}</li>", report.occurred_at.to_rfc3339());
            if !report.call_ids.is_empty() {
                html += &format!("<li>Calls: {}</li>", escape(&report.call_ids.join(", ")));
            }
            if let Some(contact) = &report.contact {
                html += &format!("<li>Contact: {}</li>", escape(contact));
            }
            html += &format!(
                "<li>App: {}; system: {}</li>",
                escape(&request.app_version),
                escape(&request.os_version)
            );
            html += "</ul>";
        }
        html += &format!(
            "<p>Call Support ticket {id}: {url}/api/v1/tickets/{id} (bundle {bytes} bytes, SHA-256 {sha})</p>",
            id = record.ticket_id,
            url = escape(public_url),
            bytes = record.bundle_bytes,
            sha = record.bundle_sha256
        );
        WorkItemText {
            title,
            description: html,
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_up_to_the_cap() {
        let config = ForwardConfig {
            retry_base: Duration::from_secs(10),
            retry_max: Duration::from_secs(60),
            ..ForwardConfig::new(AzureDevOps {
                organization_url: String::new(),
                project: String::new(),
                work_item_type: "Bug".into(),
                area_path: None,
                token: String::new(),
                attachment_limit_bytes: 0,
                chunk_bytes: 1,
            })
        };
        let waits: Vec<u64> = (1..=5).map(|n| backoff(&config, n).as_secs()).collect();
        assert_eq!(waits, [10, 20, 40, 60, 60]);
        assert_eq!(backoff(&config, 400).as_secs(), 60);
    }

    #[test]
    fn queue_times_sort_as_text_in_time_order() {
        let early = Utc::now();
        let late = early + chrono::TimeDelta::milliseconds(1);
        assert!(now_text(early) < now_text(late));
        assert!(now_text(early).ends_with('Z'));
    }

    #[test]
    fn user_text_cannot_become_markup() {
        assert_eq!(
            escape("<img src=x onerror=a()> & \"b\""),
            "&lt;img src=x onerror=a()&gt; &amp; &quot;b&quot;"
        );
    }
}
