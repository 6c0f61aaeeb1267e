//! Ticket storage: SQLite for the tickets, a folder for the bundles.
//!
//! Layout under the data folder: `tickets.sqlite3`, `bundles/<ticket id>.zip`, the bundles added
//! to a ticket later (support asked for logs) as `bundles/<ticket id>/<bundle id>.zip`, and
//! `incoming/` for uploads in progress (cleared at start). One connection behind a mutex
//! serialises writers, so "look up the bundle id, else insert and move the file into place" is
//! atomic.

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

/// How a commit went.
#[derive(Debug)]
pub enum Commit {
    /// Stored (`true`), or stored before under the same bundle id (`false`).
    Stored(Stored, bool),
    /// The report names a ticket to add to, and there is none by that id.
    UnknownTicket(String),
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
);";

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

    pub fn bundle_path(&self, ticket_id: &str) -> PathBuf {
        self.dir.join("bundles").join(format!("{ticket_id}.zip"))
    }

    /// Where a bundle added to `ticket_id` later is kept.
    pub fn attachment_path(&self, ticket_id: &str, bundle_id: &str) -> PathBuf {
        self.dir
            .join("bundles")
            .join(ticket_id)
            .join(format!("{bundle_id}.zip"))
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

    /// Stores a checked upload: a new ticket, or a bundle added to the ticket the report names;
    /// for a bundle id seen before, what was stored then (`false`).
    pub fn commit(
        &self,
        request: &TicketRequest,
        upload: &Path,
        sha256: &str,
        bytes: u64,
    ) -> anyhow::Result<Commit> {
        let mut db = self.db.lock().expect("db lock");
        let bundle_id = request.bundle_id.to_string();
        if let Some(existing) = query_one(&db, "bundle_id", &bundle_id)? {
            let _ = std::fs::remove_file(upload);
            return Ok(Commit::Stored(existing.stored(), false));
        }
        if let Some(existing) = stored_attachment(&db, &bundle_id)? {
            let _ = std::fs::remove_file(upload);
            return Ok(Commit::Stored(existing, false));
        }
        if let Some(ticket_id) = &request.report.ticket_id {
            if query_one(&db, "ticket_id", ticket_id)?.is_none() {
                let _ = std::fs::remove_file(upload);
                return Ok(Commit::UnknownTicket(ticket_id.clone()));
            }
            return self.attach(&mut db, ticket_id, request, upload, sha256, bytes);
        }
        let tx = db.transaction()?;
        let next: i64 = tx.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM tickets", [], |r| {
            r.get(0)
        })?;
        let record = TicketRecord {
            ticket_id: format!("CS-{next:06}"),
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
        tx.execute(
            &format!(
                "INSERT INTO tickets (seq, {COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            ),
            params![
                next,
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
        let target = self.bundle_path(&record.ticket_id);
        std::fs::rename(upload, &target)
            .with_context(|| format!("cannot move the bundle to {}", target.display()))?;
        if let Err(err) = tx.commit() {
            let _ = std::fs::remove_file(&target);
            return Err(err.into());
        }
        Ok(Commit::Stored(record.stored(), true))
    }

    fn attach(
        &self,
        db: &mut Connection,
        ticket_id: &str,
        request: &TicketRequest,
        upload: &Path,
        sha256: &str,
        bytes: u64,
    ) -> anyhow::Result<Commit> {
        let stored = Stored {
            ticket_id: ticket_id.to_owned(),
            bundle_id: request.bundle_id.to_string(),
            bundle_sha256: sha256.to_owned(),
            bundle_bytes: bytes,
        };
        let tx = db.transaction()?;
        tx.execute(
            &format!(
                "INSERT INTO attachments (ticket_id, {ATTACHMENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
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
        let target = self.attachment_path(ticket_id, &stored.bundle_id);
        if let Some(folder) = target.parent() {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("cannot create {}", folder.display()))?;
        }
        std::fs::rename(upload, &target)
            .with_context(|| format!("cannot move the bundle to {}", target.display()))?;
        if let Err(err) = tx.commit() {
            let _ = std::fs::remove_file(&target);
            return Err(err.into());
        }
        Ok(Commit::Stored(stored, true))
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
