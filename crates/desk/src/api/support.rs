//! Support asking for logs with a link ([`crate::support_link`]): the desk checks it, then
//! remembers the open request (or why a link was refused) until a report answers it or the user
//! sets it aside.

use chrono::Utc;

use super::Desk;
use crate::error::Error;
use crate::report::ReportError;
use crate::support_link::{self, SupportRequest};

/// The last link opened: the request it carried, or why it was refused.
#[derive(Debug, Default)]
pub(super) struct LinkState {
    pub request: Option<OpenRequest>,
    pub problem: Option<String>,
}

/// A request whose link passed its check.
#[derive(Debug, Clone)]
pub(super) struct OpenRequest {
    pub request: SupportRequest,
    /// The link as the service signed it, which the report carries.
    pub link: String,
}

impl Desk {
    /// Reads and checks a `callsupport://` link ([`support_link::check`]); the report screen
    /// then names its ticket, or says why the link cannot be used.
    pub async fn open_link(&self, link: &str) -> Result<SupportRequest, Error> {
        let api = self.config().ticket_api.clone();
        let checked = support_link::check(&api, link, Utc::now()).await;
        let mut state = self.link.lock().expect("link lock");
        match checked {
            Ok(link) => {
                let request = SupportRequest::from(&link);
                log::info!(
                    "support asked for logs for ticket {} (link {})",
                    request.ticket_id,
                    link.link_id.as_deref().unwrap_or_default()
                );
                *state = LinkState {
                    request: Some(OpenRequest {
                        request: request.clone(),
                        link: link.url(),
                    }),
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
                Err(err)
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
        let open = state
            .request
            .as_ref()
            .map(|open| open.request.clone())
            .filter(|r| r.is_open(Utc::now()));
        (open, state.problem.clone())
    }

    /// `ticket_id` and the link that asked for it, if support's open request is for it; a report
    /// cannot attach itself to other tickets, or after the link expired.
    pub(super) fn requested_ticket(&self, ticket_id: &str) -> Result<(String, String), Error> {
        let state = self.link.lock().expect("link lock");
        match &state.request {
            Some(open)
                if open.request.ticket_id == ticket_id && open.request.is_open(Utc::now()) =>
            {
                Ok((open.request.ticket_id.clone(), open.link.clone()))
            }
            _ => Err(ReportError::RequestClosed(ticket_id.to_owned()).into()),
        }
    }

    /// A report for the request was delivered: it is answered.
    pub(super) fn request_answered(&self, ticket_id: &str) {
        let mut state = self.link.lock().expect("link lock");
        if state
            .request
            .as_ref()
            .is_some_and(|open| open.request.ticket_id == ticket_id)
        {
            *state = LinkState::default();
        }
    }
}
