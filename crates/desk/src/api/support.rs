//! Support asking for logs with a link ([`crate::support_link`]): the desk remembers the open
//! request (or why a link was refused) until a report answers it or the user sets it aside.

use chrono::Utc;

use super::Desk;
use crate::error::Error;
use crate::report::ReportError;
use crate::support_link::SupportRequest;

/// The last link opened: the request it carried, or why it was refused.
#[derive(Debug, Default)]
pub(super) struct LinkState {
    pub request: Option<SupportRequest>,
    pub problem: Option<String>,
}

impl Desk {
    /// Reads a `callsupport://` link; the report screen then names its ticket (or says why the
    /// link cannot be used).
    pub fn open_link(&self, link: &str) -> Result<SupportRequest, Error> {
        let mut state = self.link.lock().expect("link lock");
        match SupportRequest::parse(link, Utc::now()) {
            Ok(request) => {
                log::info!("support asked for logs for ticket {}", request.ticket_id);
                *state = LinkState {
                    request: Some(request.clone()),
                    problem: None,
                };
                Ok(request)
            }
            Err(err) => {
                log::warn!("link refused: {err}");
                *state = LinkState {
                    request: None,
                    problem: Some(err.to_string()),
                };
                Err(err.into())
            }
        }
    }

    /// Sets the open request (or the refused link's message) aside.
    pub fn dismiss_link(&self) {
        *self.link.lock().expect("link lock") = LinkState::default();
    }

    /// The open request and the last refusal, for the report screen.
    pub(super) fn link_state(&self) -> (Option<SupportRequest>, Option<String>) {
        let state = self.link.lock().expect("link lock");
        let open = state.request.clone().filter(|r| r.is_open(Utc::now()));
        (open, state.problem.clone())
    }

    /// `ticket_id` if support's open request is for it; a report cannot attach itself to other
    /// tickets, or after the link expired.
    pub(super) fn requested_ticket(&self, ticket_id: &str) -> Result<String, Error> {
        let (open, _) = self.link_state();
        match open {
            Some(request) if request.ticket_id == ticket_id => Ok(request.ticket_id),
            _ => Err(ReportError::RequestClosed(ticket_id.to_owned()).into()),
        }
    }

    /// A report for the request was delivered: it is answered.
    pub(super) fn request_answered(&self, ticket_id: &str) {
        let mut state = self.link.lock().expect("link lock");
        if state
            .request
            .as_ref()
            .is_some_and(|r| r.ticket_id == ticket_id)
        {
            *state = LinkState::default();
        }
    }
}
