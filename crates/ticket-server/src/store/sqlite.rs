//! The records in SQLite: `tickets.sqlite3` in the data folder, one connection behind a mutex,
//! every call on a blocking thread.

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use rusqlite::{Connection, OptionalExtension, params};

use super::sql::*;
use super::{
    AddedForward, AttachmentRecord, Commit, Forward, LinkRecord, NewBundle, Pending, Stored,
    TicketRecord, Tickets, report_value,
};

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
);";

pub struct Sqlite {
    db: Arc<Mutex<Connection>>,
}

impl Sqlite {
    /// Opens (or creates) `tickets.sqlite3` in `dir`.
    pub fn open(dir: &Path) -> anyhow::Result<Sqlite> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join("tickets.sqlite3");
        let db =
            Connection::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "FULL")?;
        db.execute_batch(SCHEMA)
            .context("cannot create the tickets tables")?;
        db.execute(SEED_COUNTER, [])
            .context("cannot start the ticket numbers")?;
        db.execute(FORWARDS_TABLE, [])
            .context("cannot create the forwarding queue")?;
        db.execute(PENDING_TABLE, [])
            .context("cannot create the table of pending commits")?;
        db.execute(LINKS_TABLE, [])
            .context("cannot create the table of links")?;
        db.execute(LINK_USES_TABLE, [])
            .context("cannot create the table of links' uses")?;
        db.execute(ADDED_FORWARDS_TABLE, [])
            .context("cannot create the table of added bundles' forwards")?;
        Ok(Sqlite {
            db: Arc::new(Mutex::new(db)),
        })
    }

    /// Runs `work` on the connection, on a blocking thread.
    async fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || work(&db.lock().unwrap_or_else(|e| e.into_inner())))
            .await?
    }
}

#[async_trait::async_trait]
impl Tickets for Sqlite {
    async fn get(&self, ticket_id: &str) -> anyhow::Result<Option<TicketRecord>> {
        let id = ticket_id.to_owned();
        self.with(move |db| one_ticket(db, TICKET_BY_ID, &id)).await
    }

    async fn list(&self, limit: u32) -> anyhow::Result<Vec<TicketRecord>> {
        self.with(move |db| {
            let mut stmt = db.prepare(NEWEST_TICKETS)?;
            let rows = stmt.query_map(params![i64::from(limit)], row_to_record)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn stored(&self, bundle_id: &str) -> anyhow::Result<Option<Stored>> {
        let id = bundle_id.to_owned();
        self.with(move |db| stored(db, &id)).await
    }

    async fn attachment(
        &self,
        ticket_id: &str,
        bundle_id: &str,
    ) -> anyhow::Result<Option<AttachmentRecord>> {
        let (ticket, bundle) = (ticket_id.to_owned(), bundle_id.to_owned());
        self.with(move |db| {
            Ok(attachments_of(db, &ticket)?
                .into_iter()
                .find(|a| a.bundle_id == bundle))
        })
        .await
    }

    async fn next_ticket_number(&self) -> anyhow::Result<i64> {
        self.with(|db| Ok(db.query_row(NEXT_TICKET_NUMBER, [], |row| row.get(0))?))
            .await
    }

    async fn pend(&self, commit: &Commit, now: &str) -> anyhow::Result<()> {
        let (key, now, json) = (
            commit.blob_key.clone(),
            now.to_owned(),
            serde_json::to_string(commit)?,
        );
        self.with(move |db| {
            db.execute(PEND_COMMIT, params![key, now, json])?;
            Ok(())
        })
        .await
    }

    async fn pending(&self, limit: u32) -> anyhow::Result<Vec<Pending>> {
        self.with(move |db| {
            let mut stmt = db.prepare(PENDING_COMMITS)?;
            let rows = stmt.query_map(params![i64::from(limit)], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })?;
            rows.map(|row| {
                let (since, json) = row?;
                Ok(Pending {
                    since,
                    commit: serde_json::from_str(&json)?,
                })
            })
            .collect()
        })
        .await
    }

    async fn drop_pending(&self, blob_key: &str) -> anyhow::Result<()> {
        let key = blob_key.to_owned();
        self.with(move |db| {
            db.execute(DROP_PENDING, params![key])?;
            Ok(())
        })
        .await
    }

    async fn record(&self, commit: &Commit, now: &str) -> anyhow::Result<(Stored, bool)> {
        let (commit, now) = (commit.clone(), now.to_owned());
        self.with(move |db| {
            let tx = db.unchecked_transaction()?;
            let row = &commit.row;
            let inserted = match commit.number {
                Some(number) => tx.execute(
                    INSERT_TICKET,
                    params![
                        number,
                        commit.ticket_id,
                        row.bundle_id,
                        row.created_at,
                        row.summary,
                        row.category,
                        row.report_json,
                        row.bundle_sha256,
                        row.bundle_bytes,
                    ],
                )?,
                None => tx.execute(
                    INSERT_ATTACHMENT,
                    params![
                        commit.ticket_id,
                        row.bundle_id,
                        row.created_at,
                        row.summary,
                        row.report_json,
                        row.bundle_sha256,
                        row.bundle_bytes,
                    ],
                )?,
            };
            if inserted == 1 {
                if commit.forward {
                    tx.execute(QUEUE_FORWARD, params![commit.ticket_id, now])?;
                }
                if commit.number.is_none() {
                    tx.execute(REOPEN_FORWARD, params![now, commit.ticket_id])?;
                }
                tx.execute(DROP_PENDING, params![commit.blob_key])?;
            }
            let answer = inserted_or_earlier(&tx, inserted, row, &commit.ticket_id)?;
            tx.commit()?;
            Ok(answer)
        })
        .await
    }

    async fn due_forwards(&self, now: &str, limit: u32) -> anyhow::Result<Vec<String>> {
        let now = now.to_owned();
        self.with(move |db| {
            let mut stmt = db.prepare(DUE_FORWARDS)?;
            let rows = stmt.query_map(params![now, i64::from(limit)], |row| row.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn claim_forward(&self, ticket_id: &str, until: &str, now: &str) -> anyhow::Result<bool> {
        let (ticket, until, now) = (ticket_id.to_owned(), until.to_owned(), now.to_owned());
        self.with(move |db| Ok(db.execute(CLAIM_FORWARD, params![until, ticket, now])? == 1))
            .await
    }

    async fn forward(&self, ticket_id: &str) -> anyhow::Result<Option<Forward>> {
        let ticket = ticket_id.to_owned();
        self.with(move |db| {
            Ok(db
                .query_row(FORWARD_OF, params![ticket], row_to_forward)
                .optional()?)
        })
        .await
    }

    async fn open_forwards(&self, limit: u32) -> anyhow::Result<Vec<Forward>> {
        self.with(move |db| {
            let mut stmt = db.prepare(OPEN_FORWARDS)?;
            let rows = stmt.query_map(params![i64::from(limit)], row_to_forward)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn save_forward(
        &self,
        forward: &Forward,
        claimed_until: Option<&str>,
    ) -> anyhow::Result<()> {
        let (f, claimed) = (forward.clone(), claimed_until.map(str::to_owned));
        self.with(move |db| {
            db.execute(
                SAVE_FORWARD,
                params![
                    i64::from(f.attempts),
                    f.next_at,
                    f.work_item_id,
                    f.work_item_url,
                    f.attachment_url,
                    i64::from(f.linked),
                    f.last_error,
                    f.done_at,
                    f.updated_at,
                    claimed,
                    f.ticket_id,
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn added_forwards(&self, ticket_id: &str) -> anyhow::Result<Vec<AddedForward>> {
        let ticket = ticket_id.to_owned();
        self.with(move |db| {
            let mut stmt = db.prepare(ADDED_FORWARDS_OF)?;
            let rows = stmt.query_map(params![ticket], |row| {
                Ok(AddedForward {
                    bundle_id: row.get(0)?,
                    attachment_url: row.get(1)?,
                    linked: row.get::<_, i64>(2)? != 0,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn save_added_forward(
        &self,
        ticket_id: &str,
        added: &AddedForward,
    ) -> anyhow::Result<()> {
        let (ticket, added) = (ticket_id.to_owned(), added.clone());
        self.with(move |db| {
            db.execute(
                SAVE_ADDED_FORWARD,
                params![
                    added.bundle_id,
                    ticket,
                    added.attachment_url,
                    i64::from(added.linked)
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn create_link(&self, link: &LinkRecord) -> anyhow::Result<()> {
        let link = link.clone();
        self.with(move |db| {
            db.execute(
                INSERT_LINK,
                params![
                    link.link_id,
                    link.ticket_id,
                    link.url,
                    link.created_at,
                    link.expires_at,
                    i64::from(link.max_uses),
                    i64::from(link.uses),
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn links(&self, ticket_id: &str) -> anyhow::Result<Vec<LinkRecord>> {
        let ticket = ticket_id.to_owned();
        self.with(move |db| {
            let mut stmt = db.prepare(LINKS_OF)?;
            let rows = stmt.query_map(params![ticket], row_to_link)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn link(&self, link_id: &str) -> anyhow::Result<Option<LinkRecord>> {
        let id = link_id.to_owned();
        self.with(move |db| {
            Ok(db
                .query_row(LINK_BY_ID, params![id], row_to_link)
                .optional()?)
        })
        .await
    }

    async fn use_link(
        &self,
        link_id: &str,
        ticket_id: &str,
        bundle_id: &str,
    ) -> anyhow::Result<bool> {
        let (link, ticket, bundle) = (
            link_id.to_owned(),
            ticket_id.to_owned(),
            bundle_id.to_owned(),
        );
        self.with(move |db| {
            let tx = db.unchecked_transaction()?;
            let earlier = tx
                .query_row(LINK_USE_OF, params![bundle, link], |_| Ok(()))
                .optional()?
                .is_some();
            let allowed = earlier
                || match tx
                    .query_row(USE_LINK, params![link, ticket], |row| row.get::<_, i64>(0))
                    .optional()?
                {
                    Some(_) => {
                        tx.execute(NOTE_LINK_USE, params![bundle, link])?;
                        true
                    }
                    None => false,
                };
            tx.commit()?;
            Ok(allowed)
        })
        .await
    }
}

fn row_to_link(row: &rusqlite::Row<'_>) -> rusqlite::Result<LinkRecord> {
    Ok(LinkRecord {
        link_id: row.get(0)?,
        ticket_id: row.get(1)?,
        url: row.get(2)?,
        created_at: row.get(3)?,
        expires_at: row.get(4)?,
        max_uses: row.get::<_, i64>(5)? as u32,
        uses: row.get::<_, i64>(6)? as u32,
    })
}

fn row_to_forward(row: &rusqlite::Row<'_>) -> rusqlite::Result<Forward> {
    Ok(Forward {
        ticket_id: row.get(0)?,
        attempts: row.get::<_, i64>(1)? as u32,
        next_at: row.get(2)?,
        work_item_id: row.get(3)?,
        work_item_url: row.get(4)?,
        attachment_url: row.get(5)?,
        linked: row.get::<_, i64>(6)? != 0,
        last_error: row.get(7)?,
        done_at: row.get(8)?,
        updated_at: row.get(9)?,
    })
}

/// `(stored, true)` when the insert took; else what was stored under the bundle id before.
fn inserted_or_earlier(
    db: &Connection,
    inserted: usize,
    row: &NewBundle,
    ticket: &str,
) -> anyhow::Result<(Stored, bool)> {
    if inserted == 1 {
        return Ok((row.stored(ticket), true));
    }
    let earlier =
        stored(db, &row.bundle_id)?.context("a bundle id conflicted, and no record has it")?;
    Ok((earlier, false))
}

fn one_ticket(db: &Connection, sql: &str, value: &str) -> anyhow::Result<Option<TicketRecord>> {
    let Some(mut record) = db
        .query_row(sql, params![value], row_to_record)
        .optional()?
    else {
        return Ok(None);
    };
    record.attachments = attachments_of(db, &record.ticket_id)?;
    Ok(Some(record))
}

fn stored(db: &Connection, bundle_id: &str) -> anyhow::Result<Option<Stored>> {
    if let Some(ticket) = one_ticket(db, TICKET_BY_BUNDLE, bundle_id)? {
        return Ok(Some(ticket.stored()));
    }
    Ok(db
        .query_row(STORED_ATTACHMENT, params![bundle_id], |row| {
            Ok(Stored {
                ticket_id: row.get(0)?,
                bundle_id: row.get(1)?,
                bundle_sha256: row.get(2)?,
                bundle_bytes: row.get::<_, i64>(3)? as u64,
            })
        })
        .optional()?)
}

fn attachments_of(db: &Connection, ticket_id: &str) -> anyhow::Result<Vec<AttachmentRecord>> {
    let mut stmt = db.prepare(ATTACHMENTS_OF)?;
    let rows = stmt.query_map(params![ticket_id], |row| {
        Ok(AttachmentRecord {
            bundle_id: row.get(0)?,
            created_at: row.get(1)?,
            summary: row.get(2)?,
            report: report_value(&row.get::<_, String>(3)?),
            bundle_sha256: row.get(4)?,
            bundle_bytes: row.get::<_, i64>(5)? as u64,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn row_to_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<TicketRecord> {
    Ok(TicketRecord {
        ticket_id: row.get(0)?,
        bundle_id: row.get(1)?,
        created_at: row.get(2)?,
        summary: row.get(3)?,
        category: row.get(4)?,
        report: report_value(&row.get::<_, String>(5)?),
        bundle_sha256: row.get(6)?,
        bundle_bytes: row.get::<_, i64>(7)? as u64,
        attachments: Vec::new(),
        forward: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_database_from_before_the_counter_goes_on_from_its_last_ticket() {
        let dir = tempfile::tempdir().unwrap();
        let old = Connection::open(dir.path().join("tickets.sqlite3")).unwrap();
        old.execute_batch(
            "CREATE TABLE tickets (seq INTEGER PRIMARY KEY AUTOINCREMENT, ticket_id TEXT NOT NULL UNIQUE, bundle_id TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, summary TEXT NOT NULL, category TEXT NOT NULL, report_json TEXT NOT NULL, bundle_sha256 TEXT NOT NULL, bundle_bytes INTEGER NOT NULL);
             INSERT INTO tickets (ticket_id, bundle_id, created_at, summary, category, report_json, bundle_sha256, bundle_bytes)
                 VALUES ('CS-000001', 'a', 't', 's', 'other', '{}', 'h', 1), ('CS-000002', 'b', 't', 's', 'other', '{}', 'h', 1);",
        )
        .unwrap();
        drop(old);
        let store = Sqlite::open(dir.path()).unwrap();
        assert_eq!(store.next_ticket_number().await.unwrap(), 3);
        assert_eq!(store.list(10).await.unwrap().len(), 2);
        // Opening again does not start the numbers over.
        drop(store);
        let store = Sqlite::open(dir.path()).unwrap();
        assert_eq!(store.next_ticket_number().await.unwrap(), 4);
    }
}
