//! The types that cross the IPC boundary: what the window sends and what it is shown. Each
//! derives `ts_rs::TS`; [`super::typescript`] renders them for the UI.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::DetectionPrefill;
use crate::config::SourceKind;
use crate::error::{Error, ErrorCode};
use crate::index::{CallSeen, SourceStatus};
use crate::outbox::LastError;
use crate::report::Category;
use crate::support_link::SupportRequest;

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
    /// What can be read in it: cleaned on its way when redaction is on, or sent as it is.
    pub content: FileContent,
    /// Ticked: it goes into the report. Unticked files are listed, and left out.
    pub included: bool,
}

/// What can be read in a file offered for a report. The first three are readable (previewed,
/// and cleaned when redaction is on); the others go as they are, for the reason they name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FileContent {
    Text,
    /// Text in a gzip file: unpacked, cleaned and packed again.
    Gzip,
    /// Text files in a zip archive: unpacked, cleaned and packed again.
    Zip,
    /// Encrypted by the calling software's vendor.
    Encrypted,
    /// The screenshot the user added.
    Picture,
    /// Binary content.
    Binary,
    /// Compressed in a format this app cannot unpack.
    Compressed,
    /// An archive protected by a password.
    Password,
    /// A compressed file damaged from its start.
    Damaged,
}

impl FileContent {
    /// What can be read in a planned file.
    pub fn of(file: &crate::sources::SourceFile) -> FileContent {
        use crate::bundle::readable::{Readable, Unreadable};
        if file.kind == crate::config::SourceKind::Screenshot {
            return FileContent::Picture;
        }
        match crate::consent::readable_of(file) {
            Readable::Text => FileContent::Text,
            Readable::Gzip => FileContent::Gzip,
            Readable::Zip => FileContent::Zip,
            Readable::No(Unreadable::Encrypted) => FileContent::Encrypted,
            Readable::No(Unreadable::Binary) => FileContent::Binary,
            Readable::No(Unreadable::Compressed) => FileContent::Compressed,
            Readable::No(Unreadable::Password) => FileContent::Password,
            Readable::No(Unreadable::Damaged) => FileContent::Damaged,
        }
    }

    /// Whether its text can be previewed and cleaned.
    pub fn readable(self) -> bool {
        matches!(
            self,
            FileContent::Text | FileContent::Gzip | FileContent::Zip
        )
    }
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
    /// Where the user agreed to send it (the ticket API's host).
    pub destination: String,
    /// Where reports go now, when that is another place: the report is held there until the
    /// user agrees to the new destination.
    pub held_for: Option<String>,
}

/// Everything that waits, and what the user should hear about it (too old, too much).
#[derive(Debug, Clone, Serialize, TS)]
pub struct QueuedReports {
    pub reports: Vec<QueuedReport>,
    pub warnings: Vec<String>,
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
