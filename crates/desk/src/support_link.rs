//! Links from support asking for logs, as the app takes them: read ([`callsupport_link::Link`]),
//! then checked with the organisation's key before anything is shown. The key is the one IT
//! pinned in `ticket_api.link_key`, or else the one the configured ticket service serves; a link
//! signed by anything else, edited, unsigned or expired is refused in words the user can act on.
//!
//! Opening a good link brings up the report dialog with the ticket named; the report carries the
//! link, so the service can check it again and count its uses.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::TicketApiConfig;
use crate::error::Error;
pub use callsupport_link::{Link, LinkError, SCHEME};

/// What support asked for, once its link passed its check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SupportRequest {
    /// The existing ticket the logs are for.
    pub ticket_id: String,
    /// Until when the link may be used.
    #[ts(type = "string")]
    pub expires_at: DateTime<Utc>,
}

impl SupportRequest {
    /// Whether the request may still be used at `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.expires_at > now
    }
}

impl From<&Link> for SupportRequest {
    fn from(link: &Link) -> SupportRequest {
        SupportRequest {
            ticket_id: link.ticket_id.clone(),
            expires_at: link.expires_at,
        }
    }
}

/// Reads `text` and checks it as of `now`: its shape, then its signature (with the pinned key,
/// or the service's), then its expiry. An unsigned link is refused before anything is asked of
/// the network.
pub async fn check(api: &TicketApiConfig, text: &str, now: DateTime<Utc>) -> Result<Link, Error> {
    let link = Link::parse(text)?;
    if link.link_id.is_none() {
        return Err(LinkError::Unsigned.into());
    }
    let key = match api.pinned_link_key() {
        Some(key) => key,
        None => crate::fetch::link_key(api).await?,
    };
    link.check(&key, now)?;
    Ok(link)
}
