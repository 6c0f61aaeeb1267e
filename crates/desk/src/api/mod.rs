//! The use cases the shells call, and the types that cross the IPC boundary.
//!
//! # Brief overview
//!
//! A [`Desk`] is the app's working state: the loaded configuration, the data folder and the reports
//! the user is reviewing. The Tauri shell keeps one in `tauri::State` and each command is one call to
//! it; the CLI uses the same calls. Every type here derives `ts_rs::TS`; [`typescript`] renders them
//! and a test keeps `ui/src/lib/backend/generated/types.ts` equal to it.

mod detected;
mod export;
pub mod logview;
mod preview;
mod received;
mod screenshot;
mod support;
mod surveys;
mod viewer;

pub use detected::DetectionPrefill;
pub use export::{ExportError, ExportReceipt, suggested_file_name, suggested_folder};
pub use preview::{FilePreview, PREVIEW_BYTES, PreviewError, PreviewPart};
pub use received::{AGENT_TOKEN_ENV, KEEP_RECEIVED};
pub use screenshot::ScreenshotView;
pub use surveys::SurveyAnswer;
pub use viewer::{FileIntegrity, IntegrityView, OpenedBundle, Viewer};

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

use crate::collect::Plan;
use crate::config::settings::{self, SettingError, SettingsView};
use crate::config::{Config, ConfigFiles, Layered, SourceKind};
use crate::consent::{Destination, Statement};
use crate::error::{Error, ErrorCode};
use crate::index::{CallSeen, Index, IndexEvent, IndexedFile, SourceSnapshot, SourceStatus};
use crate::outbox::{
    Delivered, FlushOutcome, FlushSummary, LastError, NotDelivered, Outbox, Tending, Which,
};
use crate::progress::Progress;
use crate::redact::{RedactionContext, Redactor};
use crate::report::{Category, Report, ReportError};
use crate::sources::{SourceScan, apply_size_limit};
use crate::support_link::SupportRequest;
use crate::upload::Uploader;
use crate::upload::retry::RetryPolicy;
use callsupport_bundle::display_path;

/// The environment variable that moves the app's data folder (tests, portable installs).
pub const DATA_DIR_ENV: &str = "CALLSUPPORT_DATA_DIR";

/// The app's data folder: `CALLSUPPORT_DATA_DIR`, or the platform's local data folder.
pub fn default_data_dir() -> PathBuf {
    match std::env::var_os(DATA_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => dirs::data_local_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join("callsupport"),
    }
}

/// What the user fills in on the report screen.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct ReportDraft {
    pub summary: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub category: Category,
    #[serde(default)]
    pub call_ids: Vec<String>,
    /// When it happened; now when not given.
    #[serde(default)]
    #[ts(type = "string | null")]
    pub occurred_at: Option<DateTime<Utc>>,
    /// An address support may write to; only where `privacy.allow_contact_email` allows it.
    #[serde(default)]
    pub contact: Option<String>,
    /// *Export Logs*: the report is to be saved to a file, and the consent screen says so.
    #[serde(default)]
    pub to_file: bool,
    /// Adds the logs to this existing ticket; only the one support's open link names.
    #[serde(default)]
    pub ticket_id: Option<String>,
    /// A screenshot the user took for this report ([`ScreenshotView::id`]); only where
    /// `privacy.allow_screenshot` allows it.
    #[serde(default)]
    pub screenshot: Option<String>,
    /// The end-of-call survey the report comes from (*Attach logs*).
    #[serde(default)]
    pub survey: Option<crate::survey::Survey>,
}

/// A screen of the app window that the tray, the shortcut or a link asks for: the payload of the
/// `navigate` event, and `?view=` in the address of a new window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum View {
    Report,
    /// *Export Logs*: the report flow, saving to a file.
    Export,
    History,
    Settings,
    /// The support agent's bundle viewer.
    Viewer,
    /// The end-of-call survey (the tray agent asks after a call).
    Survey,
}

impl View {
    pub fn as_str(self) -> &'static str {
        match self {
            View::Report => "report",
            View::Export => "export",
            View::History => "history",
            View::Settings => "settings",
            View::Viewer => "viewer",
            View::Survey => "survey",
        }
    }

    /// The view named `name` (as [`View::as_str`] spells it).
    pub fn parse(name: &str) -> Option<View> {
        [
            View::Report,
            View::Export,
            View::History,
            View::Settings,
            View::Viewer,
            View::Survey,
        ]
        .into_iter()
        .find(|view| view.as_str() == name)
    }
}

/// What the app knows at start: where reports go, what each source holds, the calls its logs show.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AppOverview {
    pub destination: String,
    pub organisation: Option<String>,
    pub sources: Vec<SourceOverview>,
    /// The latest calls in the call-operations logs, newest first (at most [`RECENT_CALLS`]).
    pub recent_calls: Vec<CallSeen>,
    /// Whether the report form offers a contact e-mail (`privacy.allow_contact_email`).
    pub allow_contact: bool,
    /// Whether the report form offers a screenshot (`privacy.allow_screenshot`).
    pub allow_screenshot: bool,
    /// Whether reports may be saved to a file (`privacy.allow_export`).
    pub allow_export: bool,
    /// Whether log files go with reports (`privacy.allow_log_collection`).
    pub allow_log_collection: bool,
    /// Support's open request for logs (from a link), if any.
    pub support_request: Option<SupportRequest>,
    /// Why the last link could not be used, in words.
    pub link_problem: Option<String>,
    /// The detection the report starts from, when the user answered a prompt.
    pub detection: Option<DetectionPrefill>,
    /// The call the survey asks about, when the tray agent asked.
    pub survey_call: Option<String>,
    /// The scale of the survey's scores (`survey.scale`).
    pub survey_scale: crate::survey::Scale,
}

/// How many recent calls the report screen offers.
pub const RECENT_CALLS: usize = 8;

#[derive(Debug, Clone, Serialize, TS)]
pub struct SourceOverview {
    pub id: String,
    pub name: String,
    pub kind: SourceKind,
    pub file_count: u32,
    pub total_bytes: u64,
    /// Why the source has no files to offer, in words; `null` when it is fine.
    pub problem: Option<String>,
    pub status: SourceStatus,
}

/// Everything the consent screen shows. `statement` paragraphs are shown word for word.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ConsentView {
    pub report_id: String,
    pub destination: String,
    pub organisation: Option<String>,
    pub statement: Vec<String>,
    pub statement_sha256: String,
    /// Prepared to be saved to a file (*Export Logs*) rather than sent.
    pub to_file: bool,
    pub groups: Vec<FileGroup>,
    pub file_count: u32,
    pub total_bytes: u64,
    pub skipped: Vec<SkippedFile>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct FileGroup {
    pub source_id: String,
    pub name: String,
    pub kind: SourceKind,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct FileEntry {
    /// Stable id for choosing the file: `<source id>/<path below the source's folder>`.
    pub id: String,
    /// Path below the source's folder, as the list shows it.
    pub name: String,
    /// Full path on this computer, home folder as `~`.
    pub path: String,
    pub size: u64,
    #[ts(type = "string")]
    pub modified_at: DateTime<Utc>,
    pub encrypted: bool,
    /// Ticked: it goes into the report. Unticked files are listed, and left out.
    pub included: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
}

/// A report the server has stored.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SendReceipt {
    pub ticket_id: String,
    pub ticket_url: String,
    pub bundle_id: String,
    pub bundle_sha256: String,
    pub bundle_bytes: u64,
}

/// The one error type of the IPC boundary: a code to branch on and a sentence to show.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        ApiError {
            code: err.code(),
            message: err.to_string(),
        }
    }
}

/// The reason recorded for a file the user unticked.
pub const LEFT_OUT_BY_USER: &str = "left out by you";

/// A report on the consent screen: the plan the user sees is the plan that is packed.
struct Prepared {
    report: Report,
    /// Every file the consent screen lists, ticked or not.
    offered: Plan,
    /// What is packed: `offered` without the files the user unticked.
    plan: Plan,
    statement: Statement,
    destination: Destination,
    /// Its bundle in the outbox once collected: a retry sends the same bundle (same id: one
    /// ticket).
    queued: Option<Uuid>,
}

/// The app's working state, shared by every command.
pub struct Desk {
    config: RwLock<Arc<Config>>,
    /// The files the configuration came from, when the app loaded them (for Settings).
    layers: Mutex<Option<(ConfigFiles, Layered)>>,
    data_dir: PathBuf,
    /// The live index of every source's files; the report screens read it, never the disk.
    index: Index,
    pending: Mutex<HashMap<String, Prepared>>,
    /// Cancel flags of the sends in progress, by report id.
    sending: Mutex<HashMap<String, Arc<AtomicBool>>>,
    /// Opened at first use; `None` until then or while it cannot be opened.
    outbox: Mutex<Option<Outbox>>,
    /// Support's request for logs from the last link opened.
    link: Mutex<support::LinkState>,
    /// The detection the report screen starts from (a prompt answered with *Report it*).
    detection: Mutex<Option<DetectionPrefill>>,
    /// The call the survey is about (the tray agent asked after it ended).
    survey_call: Mutex<Option<String>>,
}

impl Desk {
    /// A desk whose index changes go nowhere (CLI, tests).
    pub fn new(config: Config, data_dir: PathBuf) -> Desk {
        Desk::with_index_sink(config, data_dir, |_| {})
    }

    /// A desk that starts watching the configured sources and hands every change to `on_change`.
    pub fn with_index_sink(
        mut config: Config,
        data_dir: PathBuf,
        on_change: impl Fn(IndexEvent) + Send + 'static,
    ) -> Desk {
        crate::applog::add_source(&mut config, &data_dir);
        let index = Index::start(&config, on_change);
        Desk::assemble(config, data_dir, index)
    }

    /// A desk that only delivers what waits in the outbox (the tray agent): it watches no source.
    pub fn for_delivery(config: Config, data_dir: PathBuf) -> Desk {
        let mut nothing = config.clone();
        nothing.sources.clear();
        let index = Index::start(&nothing, |_| {});
        Desk::assemble(config, data_dir, index)
    }

    fn assemble(config: Config, data_dir: PathBuf, index: Index) -> Desk {
        Desk {
            config: RwLock::new(Arc::new(config)),
            layers: Mutex::new(None),
            data_dir,
            index,
            pending: Mutex::new(HashMap::new()),
            sending: Mutex::new(HashMap::new()),
            outbox: Mutex::new(None),
            link: Mutex::new(support::LinkState::default()),
            detection: Mutex::new(None),
            survey_call: Mutex::new(None),
        }
    }

    /// The configuration in effect now (a setting changed in the app replaces it).
    pub fn config(&self) -> Arc<Config> {
        self.config.read().expect("config lock").clone()
    }

    /// Gives the desk the files its configuration came from, for the Settings screen.
    pub fn set_layers(&self, files: ConfigFiles, layered: Layered) {
        *self.layers.lock().expect("layers lock") = Some((files, layered));
    }

    /// The Settings screen: every key's effective value, where it came from, whether it is locked.
    pub fn settings(&self) -> Result<SettingsView, Error> {
        let layers = self.layers.lock().expect("layers lock");
        let (_, layered) = layers.as_ref().ok_or(SettingError::NoUserFile)?;
        Ok(settings::view(layered))
    }

    /// Changes one of the user's settings in their file and puts it into effect.
    pub fn change_setting(&self, key: &str, value: &str) -> Result<SettingsView, Error> {
        let mut layers = self.layers.lock().expect("layers lock");
        let (files, layered) = layers.as_mut().ok_or(SettingError::NoUserFile)?;
        let changed = settings::change(files, layered, key, value)?;
        let mut config = changed.config.clone();
        crate::applog::add_source(&mut config, &self.data_dir);
        *self.config.write().expect("config lock") = Arc::new(config);
        log::info!("setting {key} changed");
        *layered = changed;
        Ok(settings::view(layered))
    }

    fn destination(&self) -> Destination {
        Destination::TicketApi {
            organisation: self.config().ticket_api.organisation.clone(),
            host: self.config().ticket_api.destination_host(),
        }
    }

    /// Every source as the index holds it; waits for the first scan if it is still running.
    fn sources_now(&self) -> Vec<SourceSnapshot> {
        self.index.wait_ready(FIRST_SCAN_WAIT);
        self.index.snapshot()
    }

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

    /// Checks the draft, snapshots the file list and returns what the consent screen shows.
    pub fn prepare_report(&self, draft: ReportDraft) -> Result<ConsentView, Error> {
        if draft.to_file && !self.config().privacy.allow_export {
            return Err(ExportError::NotAllowed.into());
        }
        let contact = draft.contact.filter(|c| !c.trim().is_empty());
        if contact.is_some() && !self.config().privacy.allow_contact_email {
            return Err(ReportError::ContactNotAllowed.into());
        }
        let ticket_id = draft
            .ticket_id
            .map(|t| self.requested_ticket(&t))
            .transpose()?;
        let report = Report {
            summary: draft.summary,
            description: draft.description,
            category: draft.category,
            occurred_at: draft.occurred_at.unwrap_or_else(Utc::now),
            call_ids: draft.call_ids,
            contact,
            ticket_id,
            survey: draft
                .survey
                .map(|survey| survey.checked(self.config().survey.scale))
                .transpose()?,
        }
        .normalized()?;
        let now = SystemTime::now();
        // Where the organisation allows no log collection, no source is offered at all.
        let collect_logs = self.config().privacy.allow_log_collection;
        let scans: Vec<SourceScan> = self
            .sources_now()
            .iter()
            .filter(|s| collect_logs && s.root.is_some())
            .map(|s| {
                let mut scan = s.to_scan(self.config().max_age(&s.config), now);
                apply_size_limit(&mut scan, s.config.max_mb);
                scan
            })
            .collect();
        let mut scans = scans;
        if let Some(id) = &draft.screenshot {
            self.screenshot_allowed()?;
            let path = crate::screenshot::path_of(&self.data_dir, id)?;
            scans.insert(0, crate::screenshot::scan(&path)?);
        }
        let plan = Plan::from_scans_for_calls(
            scans,
            self.config()
                .collection
                .max_bundle_mb
                .saturating_mul(1 << 20),
            &report.call_ids,
        );
        let destination = if draft.to_file {
            Destination::File
        } else {
            self.destination()
        };
        let statement = Statement::new(&plan, &destination, self.config().privacy.redact);
        let view = consent_view(
            Uuid::now_v7().to_string(),
            &plan,
            &plan,
            &statement,
            &destination,
            &self.config(),
        );
        let prepared = Prepared {
            report,
            offered: plan.clone(),
            plan,
            statement,
            destination,
            queued: None,
        };
        self.pending
            .lock()
            .expect("pending reports lock")
            .insert(view.report_id.clone(), prepared);
        Ok(view)
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
        prepared.statement =
            Statement::new(&plan, &prepared.destination, self.config().privacy.redact);
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
                    let _ = std::fs::remove_file(&file.path);
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
    fn start_cancellable(&self, report_id: &str) -> Arc<AtomicBool> {
        let cancelled = Arc::new(AtomicBool::new(false));
        self.sending
            .lock()
            .expect("sending lock")
            .insert(report_id.to_owned(), cancelled.clone());
        cancelled
    }

    fn end_cancellable(&self, report_id: &str) {
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
                let consent = prepared
                    .statement
                    .agreed(&prepared.destination, self.config().privacy.redact);
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

    /// The outbox, opened (and cleared of what dead processes left) once per desk.
    fn outbox(&self) -> Result<Outbox, Error> {
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

/// A report waiting in the outbox, as the app lists it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct QueuedReport {
    pub id: String,
    pub summary: String,
    #[ts(type = "string")]
    pub queued_at: DateTime<Utc>,
    pub bytes: u64,
    /// Deliveries tried so far.
    pub attempts: u32,
    /// Why the last one failed; `null` before the first.
    pub last_error: Option<LastError>,
}

/// Everything that waits, and what the user should hear about it (too old, too much).
#[derive(Debug, Clone, Serialize, TS)]
pub struct QueuedReports {
    pub reports: Vec<QueuedReport>,
    pub warnings: Vec<String>,
}

impl Desk {
    /// The reports waiting in the outbox, oldest first.
    pub fn queued_reports(&self) -> Result<QueuedReports, Error> {
        let outbox = self.outbox()?;
        let (entries, mut warnings) = outbox.list().map_err(Error::io("cannot read the outbox"))?;
        warnings.extend(outbox.warnings(&entries, self.config().outbox.limits(), Utc::now()));
        Ok(QueuedReports {
            reports: entries
                .into_iter()
                .map(|entry| QueuedReport {
                    id: entry.id.to_string(),
                    summary: entry.queued.request.report.summary,
                    queued_at: entry.queued.queued_at,
                    bytes: entry.bytes,
                    attempts: entry.attempts.count,
                    last_error: entry.attempts.last_error,
                })
                .collect(),
            warnings,
        })
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

/// Where a report is, for the History screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    /// In the outbox; it goes out on its own.
    Waiting,
    /// In the outbox, refused by the service; it needs the user (or IT).
    NotAccepted,
    /// Delivered: the service has it.
    Sent,
}

/// One report on the History screen.
#[derive(Debug, Clone, Serialize, TS)]
pub struct HistoryEntry {
    pub id: String,
    pub summary: String,
    /// When it was made (queued).
    #[ts(type = "string")]
    pub made_at: DateTime<Utc>,
    pub state: ReportState,
    pub ticket_id: Option<String>,
    pub ticket_url: Option<String>,
    /// Why it waits or was refused, in words.
    pub detail: Option<String>,
}

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

fn receipt_of(delivered: &Delivered) -> SendReceipt {
    SendReceipt {
        ticket_id: delivered.ticket_id.clone(),
        ticket_url: delivered.ticket_url.clone(),
        bundle_id: delivered.bundle_id.clone(),
        bundle_sha256: delivered.bundle_sha256.clone(),
        bundle_bytes: delivered.bundle_bytes,
    }
}

/// How long a report waits for the first scan of the sources before using what is known.
const FIRST_SCAN_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

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

/// The TypeScript declarations of every IPC type, as committed in the UI.
pub fn typescript() -> String {
    let cfg = ts_rs::Config::new().with_large_int("number");
    let decls = [
        ErrorCode::decl(&cfg),
        ApiError::decl(&cfg),
        Progress::decl(&cfg),
        Category::decl(&cfg),
        SourceKind::decl(&cfg),
        ReportDraft::decl(&cfg),
        View::decl(&cfg),
        SettingsView::decl(&cfg),
        settings::Setting::decl(&cfg),
        settings::SettingKind::decl(&cfg),
        crate::config::Origin::decl(&cfg),
        AppOverview::decl(&cfg),
        CallSeen::decl(&cfg),
        SupportRequest::decl(&cfg),
        DetectionPrefill::decl(&cfg),
        crate::survey::Survey::decl(&cfg),
        SurveyAnswer::decl(&cfg),
        crate::survey::Scale::decl(&cfg),
        crate::survey::Rating::<crate::survey::CallIssue>::decl(&cfg),
        crate::survey::CallIssue::decl(&cfg),
        crate::survey::AudioIssue::decl(&cfg),
        crate::survey::VideoIssue::decl(&cfg),
        crate::survey::ScreenshareIssue::decl(&cfg),
        crate::detect::journal::Detected::decl(&cfg),
        crate::detect::Detection::decl(&cfg),
        crate::detect::Rule::decl(&cfg),
        crate::detect::prompt::Decision::decl(&cfg),
        SourceOverview::decl(&cfg),
        ConsentView::decl(&cfg),
        FileGroup::decl(&cfg),
        FileEntry::decl(&cfg),
        SkippedFile::decl(&cfg),
        SendReceipt::decl(&cfg),
        FilePreview::decl(&cfg),
        PreviewPart::decl(&cfg),
        crate::redact::Kind::decl(&cfg),
        crate::redact::Counts::decl(&cfg),
        ExportReceipt::decl(&cfg),
        ScreenshotView::decl(&cfg),
        OpenedBundle::decl(&cfg),
        crate::fetch::TicketSystemView::decl(&cfg),
        crate::bundle::vendor::VendorExport::decl(&cfg),
        logview::Level::decl(&cfg),
        logview::LogInfo::decl(&cfg),
        logview::LogLine::decl(&cfg),
        logview::LogWindow::decl(&cfg),
        logview::LogMatches::decl(&cfg),
        IntegrityView::decl(&cfg),
        FileIntegrity::decl(&cfg),
        crate::bundle::manifest::Manifest::decl(&cfg),
        crate::bundle::manifest::Generator::decl(&cfg),
        crate::host::HostFacts::decl(&cfg),
        crate::report::Report::decl(&cfg),
        crate::bundle::manifest::Consent::decl(&cfg),
        crate::bundle::manifest::ManifestSource::decl(&cfg),
        crate::bundle::manifest::ManifestFile::decl(&cfg),
        crate::bundle::manifest::FileRedaction::decl(&cfg),
        crate::bundle::manifest::Method::decl(&cfg),
        crate::bundle::manifest::ManifestSkipped::decl(&cfg),
        crate::calls::Calls::decl(&cfg),
        crate::calls::Call::decl(&cfg),
        crate::calls::Operation::decl(&cfg),
        crate::calls::FailureDetail::decl(&cfg),
        crate::calls::LineProblem::decl(&cfg),
        crate::calls::kql::Query::decl(&cfg),
        SourceStatus::decl(&cfg),
        IndexEvent::decl(&cfg),
        IndexedFile::decl(&cfg),
        QueuedReport::decl(&cfg),
        ReportState::decl(&cfg),
        HistoryEntry::decl(&cfg),
        QueuedReports::decl(&cfg),
        LastError::decl(&cfg),
        FlushSummary::decl(&cfg),
        NotDelivered::decl(&cfg),
        Delivered::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from crates/desk/src/api.rs by `cargo xtask codegen`. Do not edit by hand.\n",
    );
    for decl in decls {
        out.push_str("\nexport ");
        out.push_str(&decl);
        out.push('\n');
    }
    out
}

/// Where the generated declarations live, relative to the workspace root.
pub const TYPESCRIPT_PATH: &str = "ui/src/lib/backend/generated/types.ts";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typescript_bindings_are_fresh() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(TYPESCRIPT_PATH);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == typescript(),
            "{} is stale: run `cargo xtask codegen` and commit the result",
            TYPESCRIPT_PATH
        );
    }
}
