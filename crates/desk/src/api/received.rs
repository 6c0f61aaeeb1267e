//! Tickets opened in the viewer by id: the ticket's bundle fetched from the ticket API with the
//! support agent's token into `<data>/received/TICKET.zip` (a bundle added to it later into
//! `TICKET.BUNDLE.zip`), then opened as any bundle; and links made for a ticket, asking the user
//! for more logs.
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
use crate::fetch::{AddedBundle, FetchError, MadeLink, fetch_added, fetch_bundle, ticket_id_of};
use crate::progress::Progress;

/// The ticket a bundle was fetched for: which of its bundles this is, and the bundles added to
/// it later (support asked for logs), which the viewer offers to open.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct FetchedTicket {
    pub ticket_id: String,
    /// The added bundle this is; `None` for the ticket's own.
    pub added_bundle: Option<String>,
    /// The bundles added to the ticket later, oldest first.
    pub added: Vec<AddedBundle>,
}

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
        on_progress: impl FnMut(Progress),
    ) -> Result<OpenedBundle, Error> {
        self.receive(api, received, ticket, None, typed_token, on_progress)
            .await
    }

    /// Fetches bundle `bundle_id`, added to `ticket` later, into `received` and opens it, with
    /// the token the viewer holds, as [`Viewer::fetch_ticket`] does the ticket's own.
    pub async fn fetch_added(
        &self,
        api: &TicketApiConfig,
        received: &Path,
        ticket: &str,
        bundle_id: &str,
        on_progress: impl FnMut(Progress),
    ) -> Result<OpenedBundle, Error> {
        self.receive(api, received, ticket, Some(bundle_id), None, on_progress)
            .await
    }

    /// A link asking the user for more logs for `ticket`, made by the service with the token
    /// the viewer holds, lasting `hours` and usable `uses` times (the service's defaults when
    /// `None`).
    pub async fn make_link(
        &self,
        api: &TicketApiConfig,
        ticket: &str,
        hours: Option<u32>,
        uses: Option<u32>,
    ) -> Result<MadeLink, Error> {
        let token = self.token(None)?;
        self.forget_if_refused(crate::fetch::make_link(api, &token, ticket, hours, uses).await)
    }

    /// `result`, after forgetting the token when the service refused it (the viewer then asks
    /// again).
    fn forget_if_refused<T>(&self, result: Result<T, FetchError>) -> Result<T, Error> {
        if matches!(result, Err(FetchError::Refused { .. })) {
            *self.agent_token.lock().expect("viewer lock") = None;
        }
        Ok(result?)
    }

    /// The token typed now, else the one remembered, else the environment's.
    fn token(&self, typed: Option<&str>) -> Result<String, Error> {
        Ok(typed
            .map(str::to_owned)
            .or_else(|| self.remembered_token())
            .or_else(environment_token)
            .ok_or_else(|| FetchError::MissingToken(AGENT_TOKEN_ENV.to_owned()))?)
    }

    async fn receive(
        &self,
        api: &TicketApiConfig,
        received: &Path,
        ticket: &str,
        added: Option<&str>,
        typed_token: Option<&str>,
        mut on_progress: impl FnMut(Progress),
    ) -> Result<OpenedBundle, Error> {
        let id = ticket_id_of(ticket)?;
        let added = added.map(str::trim);
        if let Some(bundle) = added
            && ticket_id_of(bundle).is_err()
        {
            return Err(FetchError::NoSuchAdded {
                ticket: id.to_owned(),
                bundle: bundle.chars().take(80).collect(),
            }
            .into());
        }
        let typed = typed_token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        let token = self.token(typed.as_deref())?;
        std::fs::create_dir_all(received).map_err(Error::io(format!(
            "cannot create {} for received bundles",
            received.display()
        )))?;
        crate::tidy::remove_older_than(received, KEEP_RECEIVED, SystemTime::now());

        let name = match added {
            None => format!("{id}.zip"),
            Some(bundle) => format!("{id}.{bundle}.zip"),
        };
        let dest = received.join(&name);
        let staging = received.join(format!(
            ".{name}.{}.fetching",
            uuid::Uuid::now_v7().simple()
        ));
        self.fetch_cancelled.store(false, Ordering::SeqCst);
        let tell = |progress| {
            on_progress(progress);
            !self.fetch_cancelled.load(Ordering::SeqCst)
        };
        let fetched = match added {
            None => fetch_bundle(api, &token, id, &staging, tell).await,
            Some(bundle) => fetch_added(api, &token, id, bundle, &staging, tell).await,
        };
        let fetched = self.forget_if_refused(fetched)?;
        if typed.is_some() {
            *self.agent_token.lock().expect("viewer lock") = typed;
        }
        if let Err(err) = std::fs::rename(&staging, &dest) {
            let _ = std::fs::remove_file(&staging);
            return Err(Error::io(format!("cannot keep {}", dest.display()))(err));
        }
        let mut opened = self.open(&dest)?;
        opened.ticket_system = fetched.ticket_system.clone();
        opened.ticket = Some(FetchedTicket {
            ticket_id: fetched.ticket_id,
            added_bundle: fetched.bundle_id,
            added: fetched.added,
        });
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
