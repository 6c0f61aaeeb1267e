//! Ticket records: in SQLite under the data folder (the default), or in PostgreSQL, where several
//! server instances share them.
//!
//! # Brief overview
//!
//! [`Tickets`] is what the routes need of the records; [`sqlite::Sqlite`] and [`postgres::Postgres`]
//! run the same statements ([`sql`]), written in the SQL both understand (`$1` parameters,
//! `ON CONFLICT … DO NOTHING`, `UPDATE … RETURNING`); only the tables' definitions differ. The
//! bundles themselves are in the blob store ([`crate::blobs`]), under [`bundle_key`] and
//! [`attachment_key`].
//!
//! A new ticket takes a number first ([`Tickets::next_ticket_number`], never handed out twice, by
//! one row that every writer updates). What is to be recorded is written down as a pending
//! [`Commit`] ([`Tickets::pend`]); then the bundle goes into the blob store under that id; then
//! [`Tickets::record`] records it, queues its forward and clears the pending row, all at once. A
//! crash between two steps leaves a pending row that [`crate::recover`] finishes or undoes.
//! Recording a bundle id that is already there (`ON CONFLICT DO NOTHING`) answers with the ticket
//! stored before, so two writers, in one server or in two, racing with one bundle end on one
//! ticket.

pub mod postgres;
mod sql;
pub mod sqlite;

use std::path::Path;
use std::sync::Arc;

use callsupport_bundle::ticket::TicketRequest;
use serde::{Deserialize, Serialize};

/// One stored ticket.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TicketRecord {
    pub ticket_id: String,
    pub bundle_id: String,
    pub created_at: String,
    pub summary: String,
    pub category: String,
    /// The report as it was received.
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    pub bundle_sha256: String,
    pub bundle_bytes: u64,
    /// Bundles added later, when support asked for more logs; oldest first.
    pub attachments: Vec<AttachmentRecord>,
    /// Where forwarding it to the organisation's ticket system stands (one ticket's view only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward: Option<Forward>,
}

/// A bundle added to an existing ticket.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttachmentRecord {
    pub bundle_id: String,
    pub created_at: String,
    pub summary: String,
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    pub bundle_sha256: String,
    pub bundle_bytes: u64,
}

/// What a commit stored: the ticket it is on and the bundle's own facts.
#[derive(Debug, Clone)]
pub struct Stored {
    pub ticket_id: String,
    pub bundle_id: String,
    pub bundle_sha256: String,
    pub bundle_bytes: u64,
}

impl TicketRecord {
    fn stored(&self) -> Stored {
        Stored {
            ticket_id: self.ticket_id.clone(),
            bundle_id: self.bundle_id.clone(),
            bundle_sha256: self.bundle_sha256.clone(),
            bundle_bytes: self.bundle_bytes,
        }
    }
}

/// A link from support asking for more logs for a ticket, signed by this service
/// ([`callsupport_link`]), usable `max_uses` times until `expires_at`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LinkRecord {
    pub link_id: String,
    pub ticket_id: String,
    /// The link to send the user (`callsupport://report?…`).
    pub url: String,
    pub created_at: String,
    /// Until when the app opens it (UTC, RFC 3339). Logs a user agreed to send before then are
    /// taken for a week after, as a report can wait offline.
    pub expires_at: String,
    pub max_uses: u32,
    /// Reports that came through it so far.
    pub uses: u32,
}

/// Where putting a bundle added later on the ticket's work item stands.
#[derive(Debug, Clone, PartialEq)]
pub struct AddedForward {
    pub bundle_id: String,
    /// The bundle as an attachment of the ticket system, once uploaded.
    pub attachment_url: Option<String>,
    /// The bundle is on the work item.
    pub linked: bool,
}

/// Where forwarding a ticket to the organisation's ticket system stands (its row in the queue).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Forward {
    pub ticket_id: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (UTC, RFC 3339).
    pub next_at: String,
    /// The work item made for the ticket, once there is one.
    pub work_item_id: Option<i64>,
    pub work_item_url: Option<String>,
    /// The bundle as an attachment of the ticket system, once uploaded.
    pub attachment_url: Option<String>,
    /// The bundle (attachment or link) is on the work item.
    pub linked: bool,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When the forward was complete; `None` while it waits.
    pub done_at: Option<String>,
    pub updated_at: String,
}

/// The ticket records.
#[async_trait::async_trait]
pub trait Tickets: Send + Sync {
    async fn get(&self, ticket_id: &str) -> anyhow::Result<Option<TicketRecord>>;

    /// Newest first.
    async fn list(&self, limit: u32) -> anyhow::Result<Vec<TicketRecord>>;

    /// What was stored under `bundle_id` (a ticket's bundle or an added one), if anything.
    async fn stored(&self, bundle_id: &str) -> anyhow::Result<Option<Stored>>;

    /// A bundle added to `ticket_id`, by its bundle id.
    async fn attachment(
        &self,
        ticket_id: &str,
        bundle_id: &str,
    ) -> anyhow::Result<Option<AttachmentRecord>>;

    /// The number of the next new ticket. Numbers are handed out once, also to tickets whose
    /// bundle then fails to go into the blob store, so two writers never share one.
    async fn next_ticket_number(&self) -> anyhow::Result<i64>;

    /// Writes `commit` down as pending since `now`, before its bundle goes into the blob store.
    async fn pend(&self, commit: &Commit, now: &str) -> anyhow::Result<()>;

    /// The pending commits, the oldest first.
    async fn pending(&self, limit: u32) -> anyhow::Result<Vec<Pending>>;

    /// Forgets the pending commit of blob `blob_key`.
    async fn drop_pending(&self, blob_key: &str) -> anyhow::Result<()>;

    /// Records `commit`, whose bundle is in the blob store, in one transaction: the ticket (or
    /// the bundle added to it), its forward queued (due at `now`) when the commit asks, and its
    /// pending row cleared. `false` (and what was stored before) when the bundle id was recorded
    /// meanwhile; the pending row then stays for the caller to clear once its blob is gone.
    async fn record(&self, commit: &Commit, now: &str) -> anyhow::Result<(Stored, bool)>;

    /// Tickets whose forward is due by `now` and held by nobody, the longest waiting first.
    async fn due_forwards(&self, now: &str, limit: u32) -> anyhow::Result<Vec<String>>;

    /// Holds a forward until `until` unless it is done or another holder's hold lasts past
    /// `now`; whether this caller holds it.
    async fn claim_forward(&self, ticket_id: &str, until: &str, now: &str) -> anyhow::Result<bool>;

    async fn forward(&self, ticket_id: &str) -> anyhow::Result<Option<Forward>>;

    /// The forwards not done yet, the longest waiting first.
    async fn open_forwards(&self, limit: u32) -> anyhow::Result<Vec<Forward>>;

    /// Writes where a forward stands, held until `claimed_until` (`None` lets it go).
    async fn save_forward(
        &self,
        forward: &Forward,
        claimed_until: Option<&str>,
    ) -> anyhow::Result<()>;

    /// Where the bundles added to `ticket_id` stand on its work item (those begun).
    async fn added_forwards(&self, ticket_id: &str) -> anyhow::Result<Vec<AddedForward>>;

    /// Writes where an added bundle of `ticket_id` stands on its work item.
    async fn save_added_forward(&self, ticket_id: &str, added: &AddedForward)
    -> anyhow::Result<()>;

    /// Keeps a new link.
    async fn create_link(&self, link: &LinkRecord) -> anyhow::Result<()>;

    /// The links made for `ticket_id`, oldest first.
    async fn links(&self, ticket_id: &str) -> anyhow::Result<Vec<LinkRecord>>;

    async fn link(&self, link_id: &str) -> anyhow::Result<Option<LinkRecord>>;

    /// Whether bundle `bundle_id` may come through `link_id` of `ticket_id`: it took a use of
    /// the link before (a report sent again after its first try failed), or takes one now.
    /// `false` when the link has none left (or is not that ticket's, or unknown).
    async fn use_link(
        &self,
        link_id: &str,
        ticket_id: &str,
        bundle_id: &str,
    ) -> anyhow::Result<bool>;
}

/// A checked bundle on its way into the records: the blob it goes to and what is recorded once
/// it is there. Written down before the blob is stored, so a crash between the two is found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Commit {
    /// Where the bundle goes in the blob store.
    pub blob_key: String,
    /// The new ticket, or the ticket the bundle is added to.
    pub ticket_id: String,
    /// The new ticket's number; `None` for a bundle added to `ticket_id`.
    pub number: Option<i64>,
    pub row: NewBundle,
    /// Queue the new ticket for forwarding to the organisation's ticket system.
    pub forward: bool,
}

impl Commit {
    /// A new ticket, `number`, for `row`.
    pub fn ticket(number: i64, row: NewBundle, forward: bool) -> Commit {
        let ticket_id = ticket_id(number);
        Commit {
            blob_key: bundle_key(&ticket_id),
            ticket_id,
            number: Some(number),
            row,
            forward,
        }
    }

    /// `row` added to `ticket_id`.
    pub fn attachment(ticket_id: &str, row: NewBundle) -> Commit {
        Commit {
            blob_key: attachment_key(ticket_id, &row.bundle_id),
            ticket_id: ticket_id.to_owned(),
            number: None,
            row,
            forward: false,
        }
    }
}

/// A commit written down and not yet recorded or undone.
#[derive(Debug, Clone)]
pub struct Pending {
    /// When it was written down (UTC, RFC 3339).
    pub since: String,
    pub commit: Commit,
}

/// A checked bundle about to be recorded, as its columns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewBundle {
    pub bundle_id: String,
    pub created_at: String,
    pub summary: String,
    pub category: String,
    pub report_json: String,
    pub bundle_sha256: String,
    pub bundle_bytes: i64,
}

impl NewBundle {
    pub fn new(request: &TicketRequest, sha256: &str, bytes: u64) -> anyhow::Result<NewBundle> {
        Ok(NewBundle {
            bundle_id: request.bundle_id.to_string(),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            summary: request.report.summary.clone(),
            category: serde_json::to_value(request.report.category)?
                .as_str()
                .unwrap_or("other")
                .to_owned(),
            report_json: serde_json::to_string(request)?,
            bundle_sha256: sha256.to_owned(),
            bundle_bytes: i64::try_from(bytes)?,
        })
    }

    fn stored(&self, ticket_id: &str) -> Stored {
        Stored {
            ticket_id: ticket_id.to_owned(),
            bundle_id: self.bundle_id.clone(),
            bundle_sha256: self.bundle_sha256.clone(),
            bundle_bytes: self.bundle_bytes as u64,
        }
    }
}

/// Where the records are, as the server is started with.
#[derive(Debug, Clone, Default)]
pub enum DatabaseConfig {
    /// `tickets.sqlite3` in the data folder (the default).
    #[default]
    DataFolder,
    /// A PostgreSQL connection string (`postgres://user:password@host/database` or
    /// `host=… user=… dbname=…`); the tables are made if missing.
    Postgres(String),
}

impl DatabaseConfig {
    pub async fn open(&self, data_dir: &Path) -> anyhow::Result<Arc<dyn Tickets>> {
        Ok(match self {
            DatabaseConfig::DataFolder => Arc::new(sqlite::Sqlite::open(data_dir)?),
            DatabaseConfig::Postgres(url) => Arc::new(postgres::Postgres::connect(url).await?),
        })
    }
}

/// The blob store key of a ticket's bundle.
pub fn bundle_key(ticket_id: &str) -> String {
    format!("bundles/{ticket_id}.zip")
}

/// The blob store key of a bundle added to `ticket_id` later.
pub fn attachment_key(ticket_id: &str, bundle_id: &str) -> String {
    format!("bundles/{ticket_id}/{bundle_id}.zip")
}

/// A ticket's id from its number.
pub fn ticket_id(number: i64) -> String {
    format!("CS-{number:06}")
}

/// A stored report back as JSON (`null` if it no longer reads).
fn report_value(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or(serde_json::Value::Null)
}
