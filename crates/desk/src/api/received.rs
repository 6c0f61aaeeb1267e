//! Tickets opened in the viewer by id: the ticket's bundle fetched from the ticket API with the
//! support agent's token into `<data>/received/TICKET.zip`, then opened as any bundle.
//!
//! # Brief overview
//!
//! The token is the one the agent typed in the viewer, kept in memory for this run of the app
//! and never written anywhere, or else the environment's [`AGENT_TOKEN_ENV`]. A token the
//! service refuses is forgotten, so the viewer asks again. The download goes to a hidden name
//! and is renamed over `TICKET.zip` only once whole and matching the SHA-256 the service
//! recorded; a failure or a cancel leaves what was there. Received bundles are removed after
//! [`KEEP_RECEIVED`]: the service keeps the original.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use super::{OpenedBundle, Viewer};
use crate::config::TicketApiConfig;
use crate::error::Error;
use crate::fetch::{FetchError, fetch_bundle, ticket_id_of};
use crate::progress::Progress;

/// The environment variable that may hold the agent token (as for `callsupport fetch`).
pub const AGENT_TOKEN_ENV: &str = "CALLSUPPORT_AGENT_TOKEN";

/// How long a received bundle stays in the data folder.
pub const KEEP_RECEIVED: Duration = Duration::from_secs(14 * 24 * 3600);

impl super::Desk {
    /// The folder received bundles go to, under the app's data folder.
    pub fn received_dir(&self) -> PathBuf {
        self.data_dir.join("received")
    }
}

impl Viewer {
    /// Whether a ticket can be fetched without asking for a token.
    pub fn has_agent_token(&self) -> bool {
        self.remembered_token().is_some() || environment_token().is_some()
    }

    fn remembered_token(&self) -> Option<String> {
        self.agent_token.lock().expect("viewer lock").clone()
    }

    /// Fetches the bundle of `ticket` into `received` and opens it. `typed_token`, when given,
    /// is used and, once the service accepts it, remembered for this run. `on_progress` hears
    /// [`Progress::Downloading`]; [`Viewer::cancel_fetch`] stops the download.
    pub async fn fetch_ticket(
        &self,
        api: &TicketApiConfig,
        received: &Path,
        ticket: &str,
        typed_token: Option<&str>,
        mut on_progress: impl FnMut(Progress),
    ) -> Result<OpenedBundle, Error> {
        let id = ticket_id_of(ticket)?;
        let typed = typed_token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        let token = typed
            .clone()
            .or_else(|| self.remembered_token())
            .or_else(environment_token)
            .ok_or_else(|| FetchError::MissingToken(AGENT_TOKEN_ENV.to_owned()))?;
        std::fs::create_dir_all(received).map_err(Error::io(format!(
            "cannot create {} for received bundles",
            received.display()
        )))?;
        crate::tidy::remove_older_than(received, KEEP_RECEIVED, SystemTime::now());

        let dest = received.join(format!("{id}.zip"));
        let staging = received.join(format!(".{id}.{}.fetching", uuid::Uuid::now_v7().simple()));
        self.fetch_cancelled.store(false, Ordering::SeqCst);
        let fetched = fetch_bundle(api, &token, id, &staging, |progress| {
            on_progress(progress);
            !self.fetch_cancelled.load(Ordering::SeqCst)
        })
        .await;
        let fetched = match fetched {
            Err(err @ FetchError::Refused { .. }) => {
                *self.agent_token.lock().expect("viewer lock") = None;
                return Err(err.into());
            }
            Err(err) => return Err(err.into()),
            Ok(fetched) => fetched,
        };
        if typed.is_some() {
            *self.agent_token.lock().expect("viewer lock") = typed;
        }
        if let Err(err) = std::fs::rename(&staging, &dest) {
            let _ = std::fs::remove_file(&staging);
            return Err(Error::io(format!("cannot keep {}", dest.display()))(err));
        }
        let mut opened = self.open(&dest)?;
        opened.ticket_system = fetched.ticket_system;
        Ok(opened)
    }

    /// Stops a download [`Viewer::fetch_ticket`] has under way; nothing of it is kept.
    pub fn cancel_fetch(&self) {
        self.fetch_cancelled.store(true, Ordering::SeqCst);
    }
}

fn environment_token() -> Option<String> {
    std::env::var(AGENT_TOKEN_ENV)
        .ok()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}
