//! The crate's error type, and the small set of codes the UI and scripts branch on.

use serde::{Deserialize, Serialize};

use crate::api::{ExportError, PreviewError};
use crate::bundle::extract::ExtractError;
use crate::bundle::reader::ReadError;
use crate::bundle::vendor::VendorError;
use crate::bundle::writer::WriteError;
use crate::calls::CallFileError;
use crate::config::ConfigError;
use crate::config::settings::SettingError;
use crate::fetch::FetchError;
use crate::report::ReportError;
use crate::screenshot::ScreenshotError;
use crate::sources::SourceError;
use crate::upload::UploadError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Extract(#[from] ExtractError),
    #[error(transparent)]
    Upload(#[from] UploadError),
    #[error(transparent)]
    Preview(#[from] PreviewError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error(transparent)]
    Setting(#[from] SettingError),
    #[error(transparent)]
    Link(#[from] crate::support_link::LinkError),
    #[error(transparent)]
    Screenshot(#[from] crate::screenshot::ScreenshotError),
    #[error(transparent)]
    CallId(#[from] crate::calls::kql::BadCallId),
    #[error(transparent)]
    CallFile(#[from] crate::calls::CallFileError),
    #[error(transparent)]
    Vendor(#[from] crate::bundle::vendor::VendorError),
    #[error(transparent)]
    Viewer(#[from] crate::api::NotOpen),
    #[error(transparent)]
    Fetch(#[from] crate::fetch::FetchError),
    #[error("this report was already sent or has expired; start a new report")]
    UnknownReport,
    #[error("no report from this computer went to ticket {0}; look it up in History")]
    UnknownTicket(String),
    #[error(transparent)]
    UnknownDetection(#[from] crate::api::UnknownDetection),
    #[error(transparent)]
    Survey(#[from] crate::survey::SurveyError),
    #[error(
        "the ticket service gave `{0}` as the ticket's link, which is not a web address; copy the ticket id instead"
    )]
    NotAWebLink(String),
    #[error("{0}")]
    Io(String),
    /// A send failed, and the report waits in the outbox; the code is the failure's.
    #[error("{source}; report {id} waits in the outbox to be sent again")]
    Queued { id: uuid::Uuid, source: Box<Error> },
}

/// What kind of failure happened, for code that must react to it. A variant exists only because a
/// caller (the UI, or a script through the CLI's `--json`) branches on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The configuration is missing or wrong: IT must fix it.
    ConfigInvalid,
    /// A log folder is missing or unreadable.
    SourceUnavailable,
    /// The user's input needs fixing (e.g. empty summary).
    ReportInvalid,
    /// The user cancelled.
    Cancelled,
    /// The network or the server could not be reached: try again later.
    Unreachable,
    /// The server refused our credentials.
    Unauthorized,
    /// The server refused the report's content or size.
    Rejected,
    /// The server is overloaded or failed: try again later.
    ServerBusy,
    /// A bundle is damaged, or the server stored something else than we sent.
    Integrity,
    /// Reading or writing local files failed.
    Io,
    /// The organisation manages this setting; it cannot be changed here.
    Managed,
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Queued { source, .. } => source.code(),
            Error::Config(_) => ErrorCode::ConfigInvalid,
            Error::Source(_) => ErrorCode::SourceUnavailable,
            Error::Report(_)
            | Error::CallId(_)
            | Error::Viewer(_)
            | Error::UnknownReport
            | Error::UnknownTicket(_)
            | Error::UnknownDetection(_)
            | Error::Survey(_)
            | Error::NotAWebLink(_)
            | Error::Export(ExportError::NotForSending) => ErrorCode::ReportInvalid,
            Error::Export(ExportError::NotAllowed) => ErrorCode::Managed,
            Error::Write(WriteError::Cancelled) | Error::Upload(UploadError::Cancelled) => {
                ErrorCode::Cancelled
            }
            Error::Write(WriteError::Input { .. }) => ErrorCode::SourceUnavailable,
            Error::Write(_) | Error::Io(_) => ErrorCode::Io,
            Error::Read(_) | Error::Extract(ExtractError::Damaged { .. }) => ErrorCode::Integrity,
            Error::CallFile(CallFileError::Unreadable { .. }) => ErrorCode::Io,
            Error::CallFile(CallFileError::Bundle(_)) => ErrorCode::Integrity,
            Error::CallFile(CallFileError::NotCallRecords { .. }) => ErrorCode::ReportInvalid,
            Error::Extract(_) | Error::Export(_) => ErrorCode::Io,
            Error::Setting(SettingError::Managed(_) | SettingError::NotForUsers(_)) => {
                ErrorCode::Managed
            }
            Error::Setting(SettingError::Write { .. } | SettingError::NoUserFile) => ErrorCode::Io,
            Error::Setting(_) | Error::Link(_) => ErrorCode::ReportInvalid,
            Error::Fetch(err) => match err {
                FetchError::BadTicketId(_) | FetchError::NoSuchTicket(_) => {
                    ErrorCode::ReportInvalid
                }
                FetchError::MissingToken(_) => ErrorCode::ConfigInvalid,
                FetchError::Unreachable { .. } => ErrorCode::Unreachable,
                FetchError::Refused { .. } => ErrorCode::Unauthorized,
                FetchError::Failed { .. } => ErrorCode::ServerBusy,
                FetchError::Damaged { .. } => ErrorCode::Integrity,
                FetchError::Client(_) => ErrorCode::ConfigInvalid,
                FetchError::Write(_) => ErrorCode::Io,
                FetchError::Cancelled(_) => ErrorCode::Cancelled,
            },
            Error::Vendor(VendorError::NothingEncrypted(_)) => ErrorCode::ReportInvalid,
            Error::Vendor(VendorError::Damaged { .. }) => ErrorCode::Integrity,
            Error::Vendor(VendorError::Write(_)) => ErrorCode::Io,
            Error::Screenshot(ScreenshotError::NotAllowed) => ErrorCode::Managed,
            Error::Screenshot(ScreenshotError::Gone | ScreenshotError::BadPicture { .. }) => {
                ErrorCode::ReportInvalid
            }
            Error::Screenshot(_) => ErrorCode::Io,
            Error::Preview(PreviewError::Unreadable { .. }) => ErrorCode::Io,
            Error::Preview(_) => ErrorCode::ReportInvalid,
            Error::Upload(err) => match err {
                UploadError::MissingToken(_)
                | UploadError::Untrusted { .. }
                | UploadError::CaFile(_) => ErrorCode::ConfigInvalid,
                UploadError::Unreachable { .. } => ErrorCode::Unreachable,
                UploadError::Unauthorized { .. } => ErrorCode::Unauthorized,
                UploadError::TooLarge { .. } | UploadError::Rejected { .. } => ErrorCode::Rejected,
                UploadError::Busy { .. } | UploadError::ServerError { .. } => ErrorCode::ServerBusy,
                UploadError::HashMismatch { .. } => ErrorCode::Integrity,
                UploadError::Bundle { .. } => ErrorCode::Io,
                UploadError::Cancelled => ErrorCode::Cancelled,
            },
        }
    }
}
