//! Reports waiting in the outbox: sent when the network allows, listed with what the user should
//! hear about them, removed on request.

use chrono::Utc;
use uuid::Uuid;

use super::{Desk, QueuedReport, QueuedReports, SendReceipt};
use crate::error::{Error, ErrorCode};
use crate::outbox::{Delivered, FlushOutcome, FlushSummary, Outbox, Tending, Which};
use crate::upload::Uploader;
use crate::upload::retry::RetryPolicy;

impl Desk {
    /// The outbox, opened (and cleared of what dead processes left) once per desk.
    pub(super) fn outbox(&self) -> Result<Outbox, Error> {
        let mut opened = self.outbox.lock().expect("outbox lock");
        if let Some(outbox) = opened.as_ref() {
            return Ok(outbox.clone());
        }
        let outbox = Outbox::open(&self.data_dir).map_err(Error::io(format!(
            "cannot open the outbox in {}",
            self.data_dir.display()
        )))?;
        *opened = Some(outbox.clone());
        Ok(outbox)
    }

    /// Sends every queued report that is due (never tried, or failed in a way time can fix),
    /// one after the other ([`Outbox::flush`]). One that another process is sending right now
    /// counts as not delivered this time. Returns what was delivered and what failed.
    pub async fn flush_outbox(&self) -> Result<FlushSummary, Error> {
        let outbox = self.outbox()?;
        let uploader = Uploader::new(&self.config().ticket_api)?;
        let policy = RetryPolicy::for_api(&self.config().ticket_api);
        outbox
            .flush(&uploader, &policy, Which::Due, |_| |_| true)
            .await
            .map_err(Error::io("cannot read the outbox"))
    }
}

impl Desk {
    /// The app's background task calls this every [`Tending::TICK`]: while reports wait, it sends
    /// them when `tending` says it is time, probing the service after the network failed. Returns
    /// what a pass did, when one ran.
    pub async fn tend_outbox(&self, tending: &mut Tending) -> Option<Result<FlushSummary, Error>> {
        let waiting = self
            .outbox()
            .ok()
            .and_then(|outbox| outbox.list().ok())
            .is_some_and(|(entries, _)| entries.iter().any(|e| e.due()));
        let now = std::time::Instant::now();
        if !waiting || !tending.due(now, self.service_reachable()).await {
            return None;
        }
        let result = self.flush_outbox().await;
        let outcome = match &result {
            Ok(summary) if summary.failed.is_empty() => FlushOutcome::Delivered,
            Ok(summary)
                if summary
                    .failed
                    .iter()
                    .all(|e| e.code == ErrorCode::Unreachable) =>
            {
                FlushOutcome::Offline
            }
            _ => FlushOutcome::Refused,
        };
        tending.record(now, outcome);
        Some(result)
    }

    /// One tick of a background sender (the app, the tray agent): [`Desk::tend_outbox`], with
    /// what it did written to the log. True when reports were delivered or failed again, so the
    /// caller can tell a window that the outbox changed.
    pub async fn tend_outbox_logged(&self, tending: &mut Tending) -> bool {
        match self.tend_outbox(tending).await {
            Some(Ok(summary)) if !summary.delivered.is_empty() || !summary.failed.is_empty() => {
                log::info!(
                    "outbox: {} delivered, {} still waiting",
                    summary.delivered.len(),
                    summary.failed.len()
                );
                true
            }
            Some(Err(err)) => {
                log::warn!("outbox: {err}");
                false
            }
            _ => false,
        }
    }

    /// Whether a TCP connection to the ticket API's host opens within a few seconds.
    async fn service_reachable(&self) -> bool {
        let url = self.config().ticket_api.parsed_url();
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return false;
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let connect = tokio::net::TcpStream::connect((host, port));
        matches!(
            tokio::time::timeout(std::time::Duration::from_secs(3), connect).await,
            Ok(Ok(_))
        )
    }
}

impl Desk {
    /// The reports waiting in the outbox, oldest first.
    pub fn queued_reports(&self) -> Result<QueuedReports, Error> {
        let outbox = self.outbox()?;
        let (entries, mut warnings) = outbox.list().map_err(Error::io("cannot read the outbox"))?;
        warnings.extend(outbox.warnings(&entries, self.config().outbox.limits(), Utc::now()));
        let now = self.config().ticket_api.destination_host();
        Ok(QueuedReports {
            reports: entries
                .into_iter()
                .map(|entry| queued_view(entry, &now))
                .collect(),
            warnings,
        })
    }

    /// The user agreed that a report held for a changed destination go to the one configured
    /// now ([`Outbox::agree_destination`]). It is then sent with the others.
    pub fn agree_queued_destination(&self, id: &str) -> Result<QueuedReport, Error> {
        let parsed = Uuid::parse_str(id).map_err(|_| Error::NotAReportId(id.to_owned()))?;
        let outbox = self.outbox()?;
        let now = self.config().ticket_api.destination_host();
        let entry = outbox.agree_destination(parsed, &now)?;
        Ok(queued_view(entry, &now))
    }

    /// Removes a waiting report without sending it (the user's choice). A resumable upload it
    /// had begun is given up on the server too, in the background (the server would otherwise
    /// keep the bytes until the upload expires).
    pub fn remove_queued(&self, id: &str) -> Result<(), Error> {
        let parsed = Uuid::parse_str(id).map_err(|_| Error::UnknownReport)?;
        let outbox = self.outbox()?;
        let begun = outbox.upload_of(parsed);
        match outbox.remove(parsed) {
            Ok(true) => {
                log::info!("outbox: report {id} removed by the user");
                if let Some(begun) = begun {
                    self.give_up_upload(begun);
                }
                Ok(())
            }
            Ok(false) => Err(Error::UnknownReport),
            Err(err) => Err(Error::io(format!("cannot remove report {id}"))(err)),
        }
    }
}

impl Desk {
    /// Terminates a resumable upload on its own thread; failing is only logged (the server
    /// removes it when it expires anyway).
    fn give_up_upload(&self, begun: crate::upload::slot::Resume) {
        let api = self.config().ticket_api.clone();
        let url = begun.url.clone();
        let spawned = std::thread::Builder::new()
            .name("give-up-upload".into())
            .spawn(move || {
                let outcome = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|err| err.to_string())
                    .and_then(|runtime| {
                        let uploader = Uploader::new(&api).map_err(|err| err.to_string())?;
                        runtime
                            .block_on(uploader.terminate(&begun))
                            .map_err(|err| err.to_string())
                    });
                match outcome {
                    Ok(()) => log::info!("the upload {} was given up on the server", begun.url),
                    Err(err) => log::warn!(
                        "the upload {} stays on the server until it expires: {err}",
                        begun.url
                    ),
                }
            });
        if let Err(err) = spawned {
            log::warn!("cannot give up the upload {url}: {err}");
        }
    }
}

/// A waiting report as the window lists it; `now` is where reports go now.
fn queued_view(entry: crate::outbox::Entry, now: &str) -> QueuedReport {
    QueuedReport {
        id: entry.id.to_string(),
        summary: entry.queued.request.report.summary,
        queued_at: entry.queued.queued_at,
        bytes: entry.bytes,
        attempts: entry.attempts.count,
        last_error: entry.attempts.last_error,
        held_for: (entry.queued.destination != now).then(|| now.to_owned()),
        destination: entry.queued.destination,
    }
}

pub(super) fn receipt_of(delivered: &Delivered) -> SendReceipt {
    SendReceipt {
        ticket_id: delivered.ticket_id.clone(),
        ticket_url: delivered.ticket_url.clone(),
        bundle_id: delivered.bundle_id.clone(),
        bundle_sha256: delivered.bundle_sha256.clone(),
        bundle_bytes: delivered.bundle_bytes,
    }
}
