//! Links from support asking for logs: `callsupport://report?ticket=CS-000123&expires=…`.
//!
//! An agent sends the link (by chat or e-mail) when a ticket needs logs; opening it brings up the
//! report dialog with the ticket named, and the report is attached to that ticket rather than
//! opening a new one. [`SupportRequest::parse`] checks everything the link says: the scheme, the
//! action, a ticket id of the shape tickets have, and the expiry (RFC 3339 or Unix seconds), so
//! a stale or mistyped link is refused with words the user can act on.

use callsupport_error::{Coded, ErrorCode};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The scheme the app registers.
pub const SCHEME: &str = "callsupport";

/// What support asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SupportRequest {
    /// The existing ticket the logs are for.
    pub ticket_id: String,
    /// Until when the link may be used.
    #[ts(type = "string")]
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("this is not a Call Support link; ask support to send it again")]
    NotOurs,
    #[error(
        "this link asks for `{0}`, which this version of Call Support does not do; it may need an update"
    )]
    UnknownAction(String),
    #[error("the link names no ticket; ask support to send it again")]
    NoTicket,
    #[error("`{0}` is not a ticket number; ask support to send the link again")]
    BadTicket(String),
    #[error("the link has no expiry date; ask support to send it again")]
    NoExpiry,
    #[error("`{0}` is not a date; ask support to send the link again")]
    BadExpiry(String),
    #[error(
        "this link from support expired on {0}; ask them for a new one, or report the problem as a new issue"
    )]
    Expired(String),
}

/// The longest ticket id a link may carry.
const MAX_TICKET_LEN: usize = 64;

impl SupportRequest {
    /// Reads a link as of `now`.
    pub fn parse(link: &str, now: DateTime<Utc>) -> Result<SupportRequest, LinkError> {
        let url = url::Url::parse(link.trim()).map_err(|_| LinkError::NotOurs)?;
        if url.scheme() != SCHEME {
            return Err(LinkError::NotOurs);
        }
        // `callsupport://report?…` puts the action in the host; `callsupport:report?…` in the path.
        let action = url
            .host_str()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| url.path().trim_matches('/'));
        if action != "report" {
            return Err(LinkError::UnknownAction(action.to_owned()));
        }
        let param = |name: &str| {
            url.query_pairs()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.trim().to_owned())
        };
        let ticket_id = param("ticket")
            .filter(|t| !t.is_empty())
            .ok_or(LinkError::NoTicket)?;
        if ticket_id.len() > MAX_TICKET_LEN
            || !ticket_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(LinkError::BadTicket(ticket_id));
        }
        let expires = param("expires")
            .filter(|e| !e.is_empty())
            .ok_or(LinkError::NoExpiry)?;
        let expires_at = parse_time(&expires).ok_or(LinkError::BadExpiry(expires))?;
        if expires_at <= now {
            return Err(LinkError::Expired(
                expires_at
                    .with_timezone(&chrono::Local)
                    .format("%-d %B %Y at %H:%M")
                    .to_string(),
            ));
        }
        Ok(SupportRequest {
            ticket_id,
            expires_at,
        })
    }

    /// Whether the request may still be used at `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.expires_at > now
    }
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    let seconds: i64 = text.parse().ok()?;
    DateTime::from_timestamp(seconds, 0)
}

impl Coded for LinkError {
    fn code(&self) -> ErrorCode {
        ErrorCode::ReportInvalid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-25T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_good_link_names_the_ticket_and_its_expiry() {
        for link in [
            "callsupport://report?ticket=CS-000123&expires=2026-11-26T12:00:00Z",
            "callsupport:report?expires=1795694400&ticket=CS-000123",
            " callsupport://report/?ticket=CS-000123&expires=2026-11-26T13:00:00%2B01:00 ",
        ] {
            let request =
                SupportRequest::parse(link, now()).unwrap_or_else(|e| panic!("{link}: {e}"));
            assert_eq!(request.ticket_id, "CS-000123", "{link}");
            assert!(request.is_open(now()));
        }
    }

    #[test]
    fn bad_links_say_what_is_wrong() {
        let cases = [
            (
                "https://example.com/report?ticket=CS-1&expires=1895694400",
                LinkError::NotOurs,
            ),
            ("not a link", LinkError::NotOurs),
            (
                "callsupport://delete?ticket=CS-1&expires=1895694400",
                LinkError::UnknownAction("delete".into()),
            ),
            (
                "callsupport://report?expires=1895694400",
                LinkError::NoTicket,
            ),
            (
                "callsupport://report?ticket=CS%201;rm&expires=1895694400",
                LinkError::BadTicket("CS 1;rm".into()),
            ),
            ("callsupport://report?ticket=CS-1", LinkError::NoExpiry),
            (
                "callsupport://report?ticket=CS-1&expires=soon",
                LinkError::BadExpiry("soon".into()),
            ),
        ];
        for (link, expected) in cases {
            assert_eq!(SupportRequest::parse(link, now()), Err(expected), "{link}");
        }
        let expired = SupportRequest::parse(
            "callsupport://report?ticket=CS-1&expires=2026-11-24T12:00:00Z",
            now(),
        )
        .unwrap_err();
        assert!(matches!(expired, LinkError::Expired(_)));
        assert!(expired.to_string().contains("2026"), "{expired}");
    }
}
