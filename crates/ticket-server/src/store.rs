//! Ticket records: SQLite under the data folder (`tickets.sqlite3`), and `incoming/` for uploads in
//! progress (cleared at start). The bundles themselves are in the blob store ([`crate::blobs`]),
//! under [`bundle_key`] and [`attachment_key`].
//!
//! A new ticket takes a number first ([`Store::next_ticket_number`], never handed out twice), its
//! bundle goes into the blob store under that id, and only then is it recorded; recording a bundle
//! id that is already there ([`Store::insert_ticket`], `ON CONFLICT DO NOTHING`) answers with the
//! ticket stored before, so two writers racing with one bundle end on one ticket.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use callsupport_core::ticket::TicketRequest;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use uuid::Uuid;

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

pub struct Store {
    dir: PathBuf,
    db: Mutex<Connection>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tickets (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id     TEXT NOT NULL UNIQUE,
    bundle_id     TEXT NOT NULL UNIQUE,
    created_at    TEXT NOT NULL,
    summary       TEXT NOT NULL,
    category      TEXT NOT NULL,
    report_json   TEXT NOT NULL,
    bundle_sha256 TEXT NOT NULL,
    bundle_bytes  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS attachments (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id     TEXT NOT NULL REFERENCES tickets(ticket_id),
    bundle_id     TEXT NOT NULL UNIQUE,
    created_at    TEXT NOT NULL,
    summary       TEXT NOT NULL,
    report_json   TEXT NOT NULL,
    bundle_sha256 TEXT NOT NULL,
    bundle_bytes  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ticket_counter (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    next BIGINT NOT NULL
);
INSERT INTO ticket_counter (id, next) SELECT 1, COALESCE(MAX(seq), 0) FROM tickets WHERE true
    ON CONFLICT (id) DO NOTHING;";

const ATTACHMENT_COLUMNS: &str =
    "bundle_id, created_at, summary, report_json, bundle_sha256, bundle_bytes";

const COLUMNS: &str =
    "ticket_id, bundle_id, created_at, summary, category, report_json, bundle_sha256, bundle_bytes";

impl Store {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> anyhow::Result<Store> {
        for sub in ["bundles", "incoming"] {
            std::fs::create_dir_all(dir.join(sub))
                .with_context(|| format!("cannot create {}", dir.join(sub).display()))?;
        }
        // Uploads that were in flight when the server stopped are incomplete by definition.
        for entry in std::fs::read_dir(dir.join("incoming"))?.flatten() {
            let _ = std::fs::remove_file(entry.path());
        }
        let path = dir.join("tickets.sqlite3");
        let db =
            Connection::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "FULL")?;
        db.execute_batch(SCHEMA)
            .context("cannot create the tickets table")?;
        Ok(Store {
            dir: dir.to_path_buf(),
            db: Mutex::new(db),
        })
    }

    /// A fresh path for an upload in progress.
    pub fn incoming_path(&self) -> PathBuf {
        self.dir
            .join("incoming")
            .join(format!("{}.partial", Uuid::now_v7()))
    }

    pub fn get(&self, ticket_id: &str) -> anyhow::Result<Option<TicketRecord>> {
        let db = self.db.lock().expect("db lock");
        query_one(&db, "ticket_id", ticket_id)
    }

    /// Newest first.
    pub fn list(&self, limit: u32) -> anyhow::Result<Vec<TicketRecord>> {
        let db = self.db.lock().expect("db lock");
        let mut stmt = db.prepare(&format!(
            "SELECT {COLUMNS} FROM tickets ORDER BY seq DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map(params![limit], row_to_record)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// What was stored under `bundle_id` (a ticket's bundle or an attachment), if anything.
    pub fn stored(&self, bundle_id: &str) -> anyhow::Result<Option<Stored>> {
        let db = self.db.lock().expect("db lock");
        if let Some(existing) = query_one(&db, "bundle_id", bundle_id)? {
            return Ok(Some(existing.stored()));
        }
        stored_attachment(&db, bundle_id)
    }

    /// The number of the next new ticket. Numbers are handed out once, also to tickets whose
    /// bundle then fails to go into the blob store, so two writers never share one.
    pub fn next_ticket_number(&self) -> anyhow::Result<i64> {
        let db = self.db.lock().expect("db lock");
        Ok(db.query_row(
            "UPDATE ticket_counter SET next = next + 1 WHERE id = 1 RETURNING next",
            [],
            |row| row.get(0),
        )?)
    }

    /// Records a new ticket whose bundle is in the blob store; `false` (and the bundle stored
    /// before) when the bundle id was recorded meanwhile.
    pub fn insert_ticket(
        &self,
        number: i64,
        request: &TicketRequest,
        sha256: &str,
        bytes: u64,
    ) -> anyhow::Result<(Stored, bool)> {
        let db = self.db.lock().expect("db lock");
        let record = TicketRecord {
            ticket_id: ticket_id(number),
            bundle_id: request.bundle_id.to_string(),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            summary: request.report.summary.clone(),
            category: serde_json::to_value(request.report.category)?
                .as_str()
                .unwrap_or("other")
                .to_owned(),
            report: serde_json::to_value(request)?,
            bundle_sha256: sha256.to_owned(),
            bundle_bytes: bytes,
            attachments: Vec::new(),
        };
        let inserted = db.execute(
            &format!(
                "INSERT INTO tickets (seq, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (bundle_id) DO NOTHING"
            ),
            params![
                number,
                record.ticket_id,
                record.bundle_id,
                record.created_at,
                record.summary,
                record.category,
                record.report.to_string(),
                record.bundle_sha256,
                record.bundle_bytes as i64,
            ],
        )?;
        if inserted == 1 {
            return Ok((record.stored(), true));
        }
        let existing = query_one(&db, "bundle_id", &record.bundle_id)?
            .context("a ticket's bundle id conflicted, and no ticket has it")?;
        Ok((existing.stored(), false))
    }

    /// Records a bundle added to `ticket_id` whose file is in the blob store; `false` (and the
    /// bundle stored before) when the bundle id was recorded meanwhile.
    pub fn insert_attachment(
        &self,
        ticket_id: &str,
        request: &TicketRequest,
        sha256: &str,
        bytes: u64,
    ) -> anyhow::Result<(Stored, bool)> {
        let db = self.db.lock().expect("db lock");
        let stored = Stored {
            ticket_id: ticket_id.to_owned(),
            bundle_id: request.bundle_id.to_string(),
            bundle_sha256: sha256.to_owned(),
            bundle_bytes: bytes,
        };
        let inserted = db.execute(
            &format!(
                "INSERT INTO attachments (ticket_id, {ATTACHMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (bundle_id) DO NOTHING"
            ),
            params![
                ticket_id,
                stored.bundle_id,
                chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                request.report.summary,
                serde_json::to_value(request)?.to_string(),
                sha256,
                bytes as i64,
            ],
        )?;
        if inserted == 1 {
            return Ok((stored, true));
        }
        let existing = stored_attachment(&db, &stored.bundle_id)?
            .context("an added bundle's id conflicted, and no record has it")?;
        Ok((existing, false))
    }

    /// A bundle added to `ticket_id`, by its bundle id.
    pub fn attachment(
        &self,
        ticket_id: &str,
        bundle_id: &str,
    ) -> anyhow::Result<Option<AttachmentRecord>> {
        let db = self.db.lock().expect("db lock");
        Ok(attachments_of(&db, ticket_id)?
            .into_iter()
            .find(|a| a.bundle_id == bundle_id))
    }
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

fn stored_attachment(db: &Connection, bundle_id: &str) -> anyhow::Result<Option<Stored>> {
    Ok(db
        .query_row(
            "SELECT ticket_id, bundle_id, bundle_sha256, bundle_bytes FROM attachments WHERE bundle_id = ?1",
            params![bundle_id],
            |row| {
                Ok(Stored {
                    ticket_id: row.get(0)?,
                    bundle_id: row.get(1)?,
                    bundle_sha256: row.get(2)?,
                    bundle_bytes: row.get::<_, i64>(3)? as u64,
                })
            },
        )
        .optional()?)
}

fn attachments_of(db: &Connection, ticket_id: &str) -> anyhow::Result<Vec<AttachmentRecord>> {
    let mut stmt = db.prepare(&format!(
        "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE ticket_id = ?1 ORDER BY seq"
    ))?;
    let rows = stmt.query_map(params![ticket_id], |row| {
        let report: String = row.get(3)?;
        Ok(AttachmentRecord {
            bundle_id: row.get(0)?,
            created_at: row.get(1)?,
            summary: row.get(2)?,
            report: serde_json::from_str(&report).unwrap_or(serde_json::Value::Null),
            bundle_sha256: row.get(4)?,
            bundle_bytes: row.get::<_, i64>(5)? as u64,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn query_one(db: &Connection, column: &str, value: &str) -> anyhow::Result<Option<TicketRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM tickets WHERE {column} = ?1");
    let Some(mut record) = db
        .query_row(&sql, params![value], row_to_record)
        .optional()?
    else {
        return Ok(None);
    };
    record.attachments = attachments_of(db, &record.ticket_id)?;
    Ok(Some(record))
}

fn row_to_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<TicketRecord> {
    let report: String = row.get(5)?;
    Ok(TicketRecord {
        ticket_id: row.get(0)?,
        bundle_id: row.get(1)?,
        created_at: row.get(2)?,
        summary: row.get(3)?,
        category: row.get(4)?,
        report: serde_json::from_str(&report).unwrap_or(serde_json::Value::Null),
        bundle_sha256: row.get(6)?,
        bundle_bytes: row.get::<_, i64>(7)? as u64,
        attachments: Vec::new(),
    })
}
