//! The History screen: where each report went, the link to its ticket, and deleting local copies.

use uuid::Uuid;

use super::{Desk, HistoryEntry, ReportState};
use crate::error::Error;

impl Desk {
    /// The web page of a ticket this computer's reports went to, for the browser. Only a link
    /// the ticket service gave for one of them, and only `http` or `https`, is ever handed out:
    /// the window cannot have the app open anything else.
    pub fn ticket_link(&self, ticket_id: &str) -> Result<String, Error> {
        let link = self
            .history()?
            .into_iter()
            .find(|entry| entry.ticket_id.as_deref() == Some(ticket_id))
            .and_then(|entry| entry.ticket_url)
            .ok_or_else(|| Error::UnknownTicket(ticket_id.to_owned()))?;
        match url::Url::parse(&link) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(link),
            _ => Err(Error::NotAWebLink(link)),
        }
    }

    /// Every report this computer made and still knows of: the waiting ones first, then the
    /// delivered ones, newest first.
    pub fn history(&self) -> Result<Vec<HistoryEntry>, Error> {
        let queued = self.queued_reports()?;
        let delivered = self
            .outbox()?
            .history()
            .map_err(Error::io("cannot read the history"))?;
        let waiting = queued.reports.into_iter().map(|r| HistoryEntry {
            state: match &r.last_error {
                Some(error) if !error.retryable => ReportState::NotAccepted,
                _ => ReportState::Waiting,
            },
            detail: r.last_error.map(|e| e.message),
            id: r.id,
            summary: r.summary,
            made_at: r.queued_at,
            ticket_id: None,
            ticket_url: None,
        });
        let sent = delivered.into_iter().map(|d| HistoryEntry {
            id: d.bundle_id,
            summary: d.summary,
            made_at: d.queued_at,
            state: ReportState::Sent,
            ticket_id: Some(d.ticket_id),
            ticket_url: Some(d.ticket_url),
            detail: None,
        });
        Ok(waiting.chain(sent).collect())
    }

    /// Deletes what this computer keeps of a report: a waiting report is removed without being
    /// sent; a delivered one leaves the history (the service keeps its copy).
    pub fn delete_local_copy(&self, id: &str) -> Result<(), Error> {
        let parsed = Uuid::parse_str(id).map_err(|_| Error::UnknownReport)?;
        let outbox = self.outbox()?;
        let io = |err| Error::io(format!("cannot delete report {id}"))(err);
        if outbox.remove(parsed).map_err(io)? || outbox.forget_delivered(parsed).map_err(io)? {
            log::info!("report {id}: local copy deleted by the user");
            Ok(())
        } else {
            Err(Error::UnknownReport)
        }
    }
}
