//! The statements both databases run, word for word: `$n` parameters in the order they first
//! appear (SQLite numbers named parameters that way), `ON CONFLICT … DO NOTHING`, `RETURNING`.
//! Column lists are fixed here, and each backend reads rows in this order.

/// A ticket's columns, in the order the `SELECT`s give them.
macro_rules! ticket_columns {
    () => {
        "ticket_id, bundle_id, created_at, summary, category, report_json, bundle_sha256, bundle_bytes"
    };
}

/// An added bundle's columns, in the order the `SELECT`s give them.
macro_rules! attachment_columns {
    () => {
        "bundle_id, created_at, summary, report_json, bundle_sha256, bundle_bytes"
    };
}

pub const TICKET_BY_ID: &str = concat!(
    "SELECT ",
    ticket_columns!(),
    " FROM tickets WHERE ticket_id = $1"
);

pub const TICKET_BY_BUNDLE: &str = concat!(
    "SELECT ",
    ticket_columns!(),
    " FROM tickets WHERE bundle_id = $1"
);

pub const NEWEST_TICKETS: &str = concat!(
    "SELECT ",
    ticket_columns!(),
    " FROM tickets ORDER BY seq DESC LIMIT $1"
);

pub const ATTACHMENTS_OF: &str = concat!(
    "SELECT ",
    attachment_columns!(),
    " FROM attachments WHERE ticket_id = $1 ORDER BY seq"
);

/// An added bundle as [`super::Stored`]: ticket id, bundle id, SHA-256, bytes.
pub const STORED_ATTACHMENT: &str = "SELECT ticket_id, bundle_id, bundle_sha256, bundle_bytes FROM attachments WHERE bundle_id = $1";

pub const NEXT_TICKET_NUMBER: &str =
    "UPDATE ticket_counter SET next = next + 1 WHERE id = 1 RETURNING next";

/// Seeds the counter from the tickets there are (a database from before the counter).
pub const SEED_COUNTER: &str = "INSERT INTO ticket_counter (id, next) SELECT 1, COALESCE(MAX(seq), 0) FROM tickets WHERE true ON CONFLICT (id) DO NOTHING";

pub const INSERT_TICKET: &str = concat!(
    "INSERT INTO tickets (seq, ",
    ticket_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (bundle_id) DO NOTHING"
);

pub const INSERT_ATTACHMENT: &str = concat!(
    "INSERT INTO attachments (ticket_id, ",
    attachment_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (bundle_id) DO NOTHING"
);
