//! Reporting an issue: what the app knows at start, the report planned and shown on the consent
//! screen with the files the user may untick, and the send, cancellable, through the outbox.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use chrono::Utc;
use uuid::Uuid;

use super::queue::receipt_of;
use super::{
    AppOverview, ConsentView, Desk, ExportError, FileContent, FileEntry, FileGroup, FilePreview,
    PreviewError, RECENT_CALLS, ReportDraft, SendReceipt, SkippedFile, SourceOverview, preview,
};
use crate::collect::Plan;
use crate::config::Config;
use crate::consent::{Destination, Statement};
use crate::error::{Error, ErrorCode};
use crate::index::{CallSeen, SourceSnapshot, SourceStatus};
use crate::policy::Policy;
use crate::prepare::{Found, ReportRequest, prepare};
use crate::progress::Progress;
use crate::redact::{RedactionContext, Redactor};
use crate::report::Report;
use crate::sources::{SourceScan, apply_size_limit};
use crate::upload::Uploader;
use crate::upload::retry::RetryPolicy;
use callsupport_bundle::display_path;

/// The reason recorded for a file the user unticked.
pub const LEFT_OUT_BY_USER: &str = "left out by you";

/// A report on the consent screen: the plan the user sees is the plan that is packed.
pub(super) struct Prepared {
    pub(super) report: Report,
    /// Every file the consent screen lists, ticked or not.
    pub(super) offered: Plan,
    /// What is packed: `offered` without the files the user unticked.
    pub(super) plan: Plan,
    pub(super) statement: Statement,
    pub(super) destination: Destination,
    /// Whether readable files are cleaned, as the statement says.
    pub(super) redact: bool,
    /// Its bundle in the outbox once collected: a retry sends the same bundle (same id: one
    /// ticket).
    pub(super) queued: Option<Uuid>,
}

impl Desk {
    /// Where reports go and what each source holds right now.
    pub fn overview(&self) -> AppOverview {
        let now = SystemTime::now();
        let snapshots = self.sources_now();
        let (support_request, link_problem) = self.link_state();
        let sources = snapshots
            .iter()
            .map(|snapshot| {
                let scan = snapshot.to_scan(self.config().max_age(&snapshot.config), now);
                SourceOverview {
                    id: snapshot.config.id.clone(),
                    name: snapshot.config.name.clone(),
                    kind: snapshot.config.kind,
                    file_count: scan.files.len() as u32,
                    total_bytes: scan.files.iter().map(|f| f.size).sum(),
                    problem: problem(snapshot),
                    status: snapshot.status.clone(),
                }
            })
            .collect();
        AppOverview {
            destination: self.config().ticket_api.destination_host(),
            organisation: self.config().ticket_api.organisation.clone(),
            sources,
            recent_calls: recent_calls(&snapshots),
            allow_contact: self.config().privacy.allow_contact_email,
            allow_screenshot: self.config().privacy.allow_screenshot,
            allow_export: self.config().privacy.allow_export,
            allow_log_collection: self.config().privacy.allow_log_collection,
            support_request,
            link_problem,
            detection: self.detection_prefill(),
            survey_call: self.survey_call(),
            survey_scale: self.config().survey.scale,
        }
    }

    /// Checks the draft against the organisation's policy and the report's rules, snapshots the
    /// file list ([`prepare`], the road the CLI takes too) and returns what the consent screen
    /// shows.
    pub fn prepare_report(&self, draft: ReportDraft) -> Result<ConsentView, Error> {
        let (ticket_id, link) = match draft.ticket_id {
            Some(ticket) => {
                let (ticket, link) = self.requested_ticket(&ticket)?;
                (Some(ticket), Some(link))
            }
            None => (None, None),
        };
        let screenshot = draft
            .screenshot
            .as_deref()
            .map(|id| crate::screenshot::path_of(&self.data_dir, id))
            .transpose()?;
        let report = Report {
            summary: draft.summary,
            description: draft.description,
            category: draft.category,
            occurred_at: draft.occurred_at.unwrap_or_else(Utc::now),
            call_ids: draft.call_ids,
            contact: draft.contact.filter(|c| !c.trim().is_empty()),
            ticket_id,
            link,
            survey: draft
                .survey
                .map(|survey| survey.checked(self.config().survey.scale))
                .transpose()?,
        };
        let request = ReportRequest {
            report,
            to_file: draft.to_file,
            screenshot,
        };
        let config = self.config();
        let (prepared, _) = prepare(&config, request, self.destination(), || {
            Ok(Found {
                scans: self.live_scans(),
                ..Found::default()
            })
        })?;
        let view = consent_view(
            Uuid::now_v7().to_string(),
            &prepared.plan,
            &prepared.plan,
            &prepared.statement,
            &prepared.destination,
            &config,
        );
        let pending = Prepared {
            report: prepared.report,
            offered: prepared.plan.clone(),
            plan: prepared.plan,
            statement: prepared.statement,
            destination: prepared.destination,
            redact: prepared.redact,
            queued: None,
        };
        self.pending
            .lock()
            .expect("pending reports lock")
            .insert(view.report_id.clone(), pending);
        Ok(view)
    }

    /// The sources as the live index holds them, each cut to its own size limit.
    fn live_scans(&self) -> Vec<SourceScan> {
        let now = SystemTime::now();
        self.sources_now()
            .iter()
            .filter(|s| s.root.is_some())
            .map(|s| {
                let mut scan = s.to_scan(self.config().max_age(&s.config), now);
                apply_size_limit(&mut scan, s.config.max_mb);
                scan
            })
            .collect()
    }

    /// Leaves the files with the given ids (see [`FileEntry::id`]) out of a prepared report, and
    /// puts back every other file offered. Returns the consent screen as it now reads: the
    /// statement, the totals and the skipped list change with the choice, and what is sent is
    /// exactly that.
    pub fn choose_files(&self, report_id: &str, left_out: &[String]) -> Result<ConsentView, Error> {
        let mut pending = self.pending.lock().expect("pending reports lock");
        let prepared = pending.get_mut(report_id).ok_or(Error::UnknownReport)?;
        if prepared.queued.is_some() {
            // Already packed into the outbox: the bundle cannot change any more.
            return Err(Error::UnknownReport);
        }
        let offered_ids: Vec<String> = prepared.offered.selected.iter().map(file_id).collect();
        if let Some(unknown) = left_out.iter().find(|id| !offered_ids.contains(id)) {
            return Err(Error::NotOffered(unknown.to_string()));
        }
        let mut plan = prepared.offered.clone();
        let (kept, dropped): (Vec<_>, Vec<_>) = plan
            .selected
            .into_iter()
            .partition(|f| !left_out.contains(&file_id(f)));
        plan.selected = kept;
        plan.skipped
            .extend(dropped.into_iter().map(|f| crate::sources::Skipped {
                original_path: f.path,
                reason: LEFT_OUT_BY_USER.to_owned(),
            }));
        prepared.statement = Statement::sealed(
            &plan,
            &prepared.destination,
            prepared.redact,
            &prepared.statement.sealed_for,
        );
        prepared.plan = plan;
        Ok(consent_view(
            report_id.to_owned(),
            &prepared.offered,
            &prepared.plan,
            &prepared.statement,
            &prepared.destination,
            &self.config(),
        ))
    }

    /// One readable file of a prepared report as it will be sent, replacements marked
    /// ([`preview::preview_file`]).
    pub fn preview_file(&self, report_id: &str, id: &str) -> Result<FilePreview, Error> {
        let file = {
            let pending = self.pending.lock().expect("pending reports lock");
            let prepared = pending.get(report_id).ok_or(Error::UnknownReport)?;
            prepared
                .offered
                .selected
                .iter()
                .find(|f| file_id(f) == id)
                .cloned()
                .ok_or_else(|| PreviewError::UnknownFile(id.to_owned()))?
        };
        let redactor = self
            .config()
            .privacy
            .redact
            .then(|| Redactor::new(RedactionContext::current()));
        Ok(preview::preview_file(
            id.to_owned(),
            &file,
            redactor.as_ref(),
        )?)
    }

    /// Packs the prepared report exactly as shown into the outbox and sends it from there. On
    /// failure it stays queued (and prepared), so sending again sends the same bundle; the outbox
    /// also sends it on its own ([`Desk::flush_outbox`]).
    pub async fn send_report(
        &self,
        report_id: &str,
        on_progress: impl Fn(Progress) -> bool + Send + Sync + Clone + 'static,
    ) -> Result<SendReceipt, Error> {
        let mut prepared = {
            let mut pending = self.pending.lock().expect("pending reports lock");
            match pending.get(report_id) {
                None => return Err(Error::UnknownReport),
                // The user agreed to a file, not to sending.
                Some(p) if p.destination == Destination::File => {
                    return Err(ExportError::NotForSending.into());
                }
                Some(_) => pending.remove(report_id).expect("just seen"),
            }
        };
        let cancelled = self.start_cancellable(report_id);
        let flag = cancelled.clone();
        let on_progress = move |progress| !flag.load(Ordering::SeqCst) && on_progress(progress);
        let result = self
            .send_prepared(&mut prepared, on_progress, &cancelled)
            .await;
        self.end_cancellable(report_id);
        if let (Err(err), Some(id)) = (&result, prepared.queued)
            && err.code() == ErrorCode::Cancelled
        {
            // The user stopped it: it must not go out later from the outbox either.
            match self.outbox().map(|outbox| outbox.remove(id)) {
                Ok(Ok(_)) => prepared.queued = None,
                Ok(Err(err)) => log::warn!("outbox: cancelled report {id} not removed: {err}"),
                Err(err) => log::warn!("outbox: cancelled report {id} not removed: {err}"),
            }
        }
        if result.is_ok() {
            // It went with the report (or was left out of it): it is not kept any longer.
            for file in &prepared.offered.selected {
                if file.source_id == crate::screenshot::SOURCE_ID {
                    crate::screenshot::remove_path(&file.path);
                }
            }
        }
        if result.is_ok() {
            // A report started from a detection, or from the survey, answered it.
            self.dismiss_detection();
            if prepared.report.survey.is_some() {
                self.dismiss_survey();
            }
        }
        match (&result, &prepared.report.ticket_id) {
            (Ok(_), Some(ticket)) => self.request_answered(ticket),
            (Ok(_), None) => {}
            (Err(_), _) => {
                self.pending
                    .lock()
                    .expect("pending reports lock")
                    .insert(report_id.to_owned(), prepared);
            }
        }
        result
    }

    /// Registers a send or save of `report_id` that [`Desk::cancel`] can stop; returns its flag.
    pub(super) fn start_cancellable(&self, report_id: &str) -> Arc<AtomicBool> {
        let cancelled = Arc::new(AtomicBool::new(false));
        self.sending
            .lock()
            .expect("sending lock")
            .insert(report_id.to_owned(), cancelled.clone());
        cancelled
    }

    pub(super) fn end_cancellable(&self, report_id: &str) {
        self.sending.lock().expect("sending lock").remove(report_id);
    }

    /// Whether a send or a save is in progress (the app waits for it before it ends).
    pub fn is_busy(&self) -> bool {
        !self.sending.lock().expect("sending lock").is_empty()
    }

    /// Asks a send in progress to stop; it ends with `ErrorCode::Cancelled` and leaves nothing behind.
    pub fn cancel(&self, report_id: &str) {
        if let Some(flag) = self.sending.lock().expect("sending lock").get(report_id) {
            flag.store(true, Ordering::SeqCst);
        }
    }

    /// Collects (cancelled through `on_progress`, so nothing half-written is queued) and delivers
    /// (cancelled also while waiting for the server's answer: the request is dropped, and the
    /// server stores nothing from a request that did not end).
    async fn send_prepared(
        &self,
        prepared: &mut Prepared,
        on_progress: impl Fn(Progress) -> bool + Send + Sync + Clone + 'static,
        cancelled: &AtomicBool,
    ) -> Result<SendReceipt, Error> {
        let uploader = Uploader::new(&self.config().ticket_api)?;
        let outbox = self.outbox()?;
        let id = match prepared.queued {
            Some(id) => id,
            None => {
                let policy = Policy::of(&self.config());
                policy.check_redaction_agreed(prepared.redact)?;
                policy.check_sealing_agreed(&prepared.statement.sealed_for)?;
                let consent = prepared
                    .statement
                    .agreed(&prepared.destination, prepared.redact);
                let (plan, report) = (prepared.plan.clone(), prepared.report.clone());
                let (queue, host) = (outbox.clone(), self.config().ticket_api.destination_host());
                let progress = on_progress.clone();
                let entry = tokio::task::spawn_blocking(move || {
                    queue.queue(&plan, report, consent, host, progress)
                })
                .await
                .map_err(|err| Error::Stopped {
                    what: "collection",
                    detail: err.to_string(),
                })??;
                prepared.queued = Some(entry.id);
                entry.id
            }
        };
        let entry = match outbox.get(id) {
            Ok(entry) => entry,
            // Gone from the outbox: the outbox delivered it meanwhile.
            Err(_) => {
                return match outbox
                    .history()
                    .ok()
                    .and_then(|h| h.into_iter().find(|d| d.bundle_id == id.to_string()))
                {
                    Some(delivered) => Ok(receipt_of(&delivered)),
                    None => Err(Error::UnknownReport),
                };
            }
        };
        let policy = RetryPolicy::for_api(&self.config().ticket_api);
        let deliver = outbox.deliver(&entry, &uploader, &policy, on_progress.clone());
        let delivered = tokio::select! {
            delivered = deliver => delivered?,
            () = until_set(cancelled) => return Err(crate::upload::UploadError::Cancelled.into()),
        };
        on_progress(Progress::Confirming);
        Ok(receipt_of(&delivered))
    }
}

/// How long a report waits for the first scan of the sources before using what is known.
pub(super) const FIRST_SCAN_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Why a source offers no files, for people: `None` while it is being watched or polled.
/// Resolves once `flag` is set (checked every 50 ms).
async fn until_set(flag: &AtomicBool) {
    while !flag.load(Ordering::SeqCst) {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The calls of every call-operations file, one entry per call id, newest first; calls without a
/// time come last.
fn recent_calls(snapshots: &[SourceSnapshot]) -> Vec<CallSeen> {
    let mut by_id: HashMap<&str, CallSeen> = HashMap::new();
    for call in snapshots
        .iter()
        .flat_map(|s| &s.files)
        .flat_map(|f| &f.calls)
    {
        by_id
            .entry(&call.call_id)
            .and_modify(|seen| seen.merge(call))
            .or_insert_with(|| call.clone());
    }
    let mut calls: Vec<CallSeen> = by_id.into_values().collect();
    calls.sort_by(|a, b| (b.last_at, &b.call_id).cmp(&(a.last_at, &a.call_id)));
    calls.truncate(RECENT_CALLS);
    calls
}

fn problem(snapshot: &SourceSnapshot) -> Option<String> {
    let root = snapshot
        .root
        .as_deref()
        .map(display_path)
        .unwrap_or_default();
    match &snapshot.status {
        SourceStatus::Watching | SourceStatus::Polling { .. } | SourceStatus::Starting => None,
        SourceStatus::Missing => Some(format!(
            "the folder {root} does not exist on this computer (yet)"
        )),
        SourceStatus::Denied { reason } => {
            Some(format!("the folder {root} cannot be read: {reason}"))
        }
        SourceStatus::Invalid { reason } => Some(reason.clone()),
    }
}

/// A file's id on the consent screen: its place in the bundle, without `files/`.
fn file_id(file: &crate::sources::SourceFile) -> String {
    format!("{}/{}", file.source_id, file.relative)
}

/// The consent screen: every file `offered`, ticked when `plan` (what is packed) holds it.
fn consent_view(
    report_id: String,
    offered: &Plan,
    plan: &Plan,
    statement: &Statement,
    destination: &Destination,
    config: &Config,
) -> ConsentView {
    let included: std::collections::HashSet<String> = plan.selected.iter().map(file_id).collect();
    let groups = offered
        .sources
        .iter()
        .map(|source| FileGroup {
            source_id: source.id.clone(),
            name: source.name.clone(),
            kind: source.kind,
            files: offered
                .selected
                .iter()
                .filter(|f| f.source_id == source.id)
                .map(|f| FileEntry {
                    id: file_id(f),
                    name: f.relative.clone(),
                    path: display_path(&f.path),
                    size: f.size,
                    modified_at: f.modified.into(),
                    encrypted: f.encrypted,
                    content: FileContent::of(f),
                    included: included.contains(&file_id(f)),
                })
                .collect(),
        })
        .filter(|group| !group.files.is_empty())
        .collect();
    ConsentView {
        report_id,
        destination: config.ticket_api.destination_host(),
        organisation: config.ticket_api.organisation.clone(),
        statement: statement.paragraphs.clone(),
        statement_sha256: statement.sha256(),
        to_file: *destination == Destination::File,
        groups,
        file_count: plan.selected.len() as u32,
        total_bytes: plan.total_bytes(),
        // The files the user unticked stay in the list above; the others left out are here.
        skipped: plan
            .skipped
            .iter()
            .filter(|s| s.reason != LEFT_OUT_BY_USER)
            .map(|s| SkippedFile {
                path: display_path(&s.original_path),
                reason: s.reason.clone(),
            })
            .collect(),
    }
}
