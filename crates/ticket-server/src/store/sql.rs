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

/// Commits written down before their bundle goes into the blob store ([`super::Commit`] as
/// JSON), the same in both databases.
pub const PENDING_TABLE: &str = "CREATE TABLE IF NOT EXISTS pending_commits (
    blob_key    TEXT PRIMARY KEY,
    since       TEXT NOT NULL,
    commit_json TEXT NOT NULL
)";

pub const PEND_COMMIT: &str = "INSERT INTO pending_commits (blob_key, since, commit_json) VALUES ($1, $2, $3) ON CONFLICT (blob_key) DO NOTHING";

pub const PENDING_COMMITS: &str =
    "SELECT since, commit_json FROM pending_commits ORDER BY since LIMIT $1";

pub const DROP_PENDING: &str = "DELETE FROM pending_commits WHERE blob_key = $1";

/// PostgreSQL only (SQLite has no `INSERT` in a `WITH`, and runs [`INSERT_TICKET`],
/// [`QUEUE_FORWARD`] and [`DROP_PENDING`] in a transaction instead): `Tickets::record` of a new
/// ticket in one statement, so one transaction on a connection every request shares. The ticket;
/// its forward, when `$10`, due at `$11`; its pending row `$12` cleared; how many tickets went in.
pub const RECORD_TICKET: &str = concat!(
    "WITH ticket AS (INSERT INTO tickets (seq, ",
    ticket_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (bundle_id) DO NOTHING RETURNING ticket_id),
    queued AS (INSERT INTO forwards (ticket_id, attempts, next_at, linked, updated_at)
        SELECT ticket_id, 0, $11, 0, $11 FROM ticket WHERE $10::BOOLEAN ON CONFLICT (ticket_id) DO NOTHING),
    cleared AS (DELETE FROM pending_commits WHERE blob_key = $12 AND EXISTS (SELECT 1 FROM ticket))
    SELECT count(*) FROM ticket"
);

/// PostgreSQL only: `Tickets::record` of an added bundle in one statement, as [`RECORD_TICKET`];
/// the ticket's forward, if it has one, due again at `$9` ([`REOPEN_FORWARD`]).
pub const RECORD_ATTACHMENT: &str = concat!(
    "WITH added AS (INSERT INTO attachments (ticket_id, ",
    attachment_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (bundle_id) DO NOTHING RETURNING bundle_id),
    cleared AS (DELETE FROM pending_commits WHERE blob_key = $8 AND EXISTS (SELECT 1 FROM added)),
    reopened AS (UPDATE forwards SET done_at = NULL, next_at = $9, updated_at = $9 WHERE ticket_id = $1 AND EXISTS (SELECT 1 FROM added))
    SELECT count(*) FROM added"
);

/// The forwarding queue's table, the same in both databases.
pub const FORWARDS_TABLE: &str = "CREATE TABLE IF NOT EXISTS forwards (
    ticket_id      TEXT PRIMARY KEY REFERENCES tickets(ticket_id),
    attempts       BIGINT NOT NULL,
    next_at        TEXT NOT NULL,
    claimed_until  TEXT,
    work_item_id   BIGINT,
    work_item_url  TEXT,
    attachment_url TEXT,
    linked         BIGINT NOT NULL,
    last_error     TEXT,
    done_at        TEXT,
    updated_at     TEXT NOT NULL
)";

/// A forward's columns, in the order the `SELECT`s give them.
macro_rules! forward_columns {
    () => {
        "ticket_id, attempts, next_at, work_item_id, work_item_url, attachment_url, linked, last_error, done_at, updated_at"
    };
}

pub const QUEUE_FORWARD: &str = "INSERT INTO forwards (ticket_id, attempts, next_at, linked, updated_at) VALUES ($1, 0, $2, 0, $2) ON CONFLICT (ticket_id) DO NOTHING";

/// Forwards due by `$1` (UTC, RFC 3339, so text order is time order) that nobody holds.
pub const DUE_FORWARDS: &str = "SELECT ticket_id FROM forwards WHERE done_at IS NULL AND next_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1) ORDER BY next_at LIMIT $2";

/// Takes forward `$2` until `$1`, unless it is done or held by someone else at `$3`.
pub const CLAIM_FORWARD: &str = "UPDATE forwards SET claimed_until = $1 WHERE ticket_id = $2 AND done_at IS NULL AND (claimed_until IS NULL OR claimed_until <= $3)";

pub const FORWARD_OF: &str = concat!(
    "SELECT ",
    forward_columns!(),
    " FROM forwards WHERE ticket_id = $1"
);

/// The forwards not done yet, the longest waiting first.
pub const OPEN_FORWARDS: &str = concat!(
    "SELECT ",
    forward_columns!(),
    " FROM forwards WHERE done_at IS NULL ORDER BY next_at LIMIT $1"
);

/// Writes forward `$11`.
pub const SAVE_FORWARD: &str = "UPDATE forwards SET attempts = $1, next_at = $2, work_item_id = $3, work_item_url = $4, attachment_url = $5, linked = $6, last_error = $7, done_at = $8, updated_at = $9, claimed_until = $10 WHERE ticket_id = $11";

/// Links from support for a ticket ([`super::LinkRecord`]), the same in both databases.
pub const LINKS_TABLE: &str = "CREATE TABLE IF NOT EXISTS links (
    link_id    TEXT PRIMARY KEY,
    ticket_id  TEXT NOT NULL REFERENCES tickets(ticket_id),
    url        TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    max_uses   BIGINT NOT NULL,
    uses       BIGINT NOT NULL
)";

/// A link's columns, in the order the `SELECT`s give them.
macro_rules! link_columns {
    () => {
        "link_id, ticket_id, url, created_at, expires_at, max_uses, uses"
    };
}

pub const INSERT_LINK: &str = concat!(
    "INSERT INTO links (",
    link_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
);

pub const LINKS_OF: &str = concat!(
    "SELECT ",
    link_columns!(),
    " FROM links WHERE ticket_id = $1 ORDER BY created_at, link_id"
);

pub const LINK_BY_ID: &str = concat!("SELECT ", link_columns!(), " FROM links WHERE link_id = $1");

/// Which bundle took which use of a link, so that a bundle sent again (its first try failed
/// after its use was taken) is let through on that use instead of taking another.
pub const LINK_USES_TABLE: &str = "CREATE TABLE IF NOT EXISTS link_uses (
    bundle_id TEXT PRIMARY KEY,
    link_id   TEXT NOT NULL
)";

/// The use bundle `$1` took of link `$2`, if it took one.
pub const LINK_USE_OF: &str = "SELECT 1 FROM link_uses WHERE bundle_id = $1 AND link_id = $2";

/// Takes one use of link `$1` for ticket `$2`, if it has one left: one statement, so two
/// reports racing for the last use cannot both have it.
pub const USE_LINK: &str = "UPDATE links SET uses = uses + 1 WHERE link_id = $1 AND ticket_id = $2 AND uses < max_uses RETURNING uses";

/// Notes that bundle `$1` took a use of link `$2`.
pub const NOTE_LINK_USE: &str =
    "INSERT INTO link_uses (bundle_id, link_id) VALUES ($1, $2) ON CONFLICT (bundle_id) DO NOTHING";

/// PostgreSQL only (SQLite runs [`LINK_USE_OF`], [`USE_LINK`] and [`NOTE_LINK_USE`] in a
/// transaction instead): whether bundle `$3` may come through link `$1` of ticket `$2`, in one
/// statement. A use it took before lets it through again; otherwise it takes one, if one is
/// left, and notes it. More than 0 lets it through.
pub const TAKE_LINK_USE: &str = "WITH earlier AS (SELECT 1 FROM link_uses WHERE bundle_id = $3 AND link_id = $1),
    taken AS (UPDATE links SET uses = uses + 1 WHERE link_id = $1 AND ticket_id = $2 AND uses < max_uses AND NOT EXISTS (SELECT 1 FROM earlier) RETURNING uses),
    noted AS (INSERT INTO link_uses (bundle_id, link_id) SELECT $3, $1 FROM taken ON CONFLICT (bundle_id) DO NOTHING)
    SELECT (SELECT count(*) FROM earlier) + (SELECT count(*) FROM taken)";

/// Where putting a bundle added later on the ticket's work item stands, one row per bundle.
pub const ADDED_FORWARDS_TABLE: &str = "CREATE TABLE IF NOT EXISTS added_forwards (
    bundle_id      TEXT PRIMARY KEY,
    ticket_id      TEXT NOT NULL,
    attachment_url TEXT,
    linked         BIGINT NOT NULL
)";

pub const ADDED_FORWARDS_OF: &str =
    "SELECT bundle_id, attachment_url, linked FROM added_forwards WHERE ticket_id = $1";

pub const SAVE_ADDED_FORWARD: &str = "INSERT INTO added_forwards (bundle_id, ticket_id, attachment_url, linked) VALUES ($1, $2, $3, $4) ON CONFLICT (bundle_id) DO UPDATE SET attachment_url = excluded.attachment_url, linked = excluded.linked";

/// A bundle was added to ticket `$2` at `$1`: its forward, if it has one, is due again, to put
/// the bundle on the work item too.
pub const REOPEN_FORWARD: &str =
    "UPDATE forwards SET done_at = NULL, next_at = $1, updated_at = $1 WHERE ticket_id = $2";

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite numbers `$n` in the order they first appear, whatever `n` says; a statement whose
    /// `$2` came before its `$1` would bind the wrong values there.
    #[test]
    fn parameters_first_appear_in_their_own_order() {
        for statement in [
            TICKET_BY_ID,
            TICKET_BY_BUNDLE,
            NEWEST_TICKETS,
            ATTACHMENTS_OF,
            STORED_ATTACHMENT,
            NEXT_TICKET_NUMBER,
            SEED_COUNTER,
            INSERT_TICKET,
            INSERT_ATTACHMENT,
            QUEUE_FORWARD,
            DUE_FORWARDS,
            CLAIM_FORWARD,
            FORWARD_OF,
            OPEN_FORWARDS,
            SAVE_FORWARD,
            PEND_COMMIT,
            PENDING_COMMITS,
            DROP_PENDING,
            INSERT_LINK,
            LINKS_OF,
            LINK_BY_ID,
            USE_LINK,
            LINK_USE_OF,
            NOTE_LINK_USE,
            ADDED_FORWARDS_OF,
            SAVE_ADDED_FORWARD,
            REOPEN_FORWARD,
        ] {
            let mut seen: Vec<u32> = Vec::new();
            let mut rest = statement;
            while let Some(at) = rest.find('$') {
                rest = &rest[at + 1..];
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let n: u32 = digits.parse().unwrap();
                if !seen.contains(&n) {
                    assert_eq!(n as usize, seen.len() + 1, "{statement}");
                    seen.push(n);
                }
            }
        }
    }
}
