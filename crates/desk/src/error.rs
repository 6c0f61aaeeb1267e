//! The one error the shells see: every lower crate's error, and the failures of the use cases
//! themselves, each with the [`ErrorCode`] callers branch on.
//!
//! A lower crate's error says its own code ([`Coded`]); this enum only wraps it. The variants
//! below the wrapped ones are the use cases' own, each named for what went wrong, so that an
//! input the user can fix is never reported as a failure of the disk.

use std::path::PathBuf;

pub use callsupport_error::{Coded, ErrorCode};

use crate::api::{ExportError, PreviewError};
use crate::bundle::extract::ExtractError;
use crate::bundle::reader::ReadError;
use crate::bundle::vendor::VendorError;
use crate::bundle::writer::WriteError;
use crate::calls::CallFileError;
use crate::calls::kql::BadCallId;
use crate::config::ConfigError;
use crate::config::settings::SettingError;
use crate::fetch::FetchError;
use crate::report::ReportError;
use crate::screenshot::ScreenshotError;
use crate::secrets::SecretError;
use crate::sources::SourceError;
use crate::support_link::LinkError;
use crate::survey::SurveyError;
use crate::upload::UploadError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    // The layers below, each with its own code.
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Setting(#[from] SettingError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Survey(#[from] SurveyError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Extract(#[from] ExtractError),
    #[error(transparent)]
    Vendor(#[from] VendorError),
    #[error(transparent)]
    CallId(#[from] BadCallId),
    #[error(transparent)]
    CallFile(#[from] CallFileError),
    #[error(transparent)]
    Upload(#[from] UploadError),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Seal(#[from] callsupport_seal::SealError),

    // The use cases' own.
    #[error(transparent)]
    Preview(#[from] PreviewError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error(transparent)]
    Policy(#[from] crate::policy::PolicyError),
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(transparent)]
    Screenshot(#[from] ScreenshotError),
    #[error("this report was already sent or has expired; start a new report")]
    UnknownReport,
    #[error("`{0}` is not a report id; `callsupport outbox list` shows them")]
    NotAReportId(String),
    #[error("no report {0} in the outbox; `callsupport outbox list` shows them")]
    NotInOutbox(String),
    #[error(
        "report {id} was agreed to go to {agreed}, but reports now go to {now}; it is held until you agree to send it there (or remove it)"
    )]
    DestinationChanged {
        id: uuid::Uuid,
        agreed: String,
        now: String,
    },
    #[error("report {0} is being sent by another Call Support process; try again when it is done")]
    ReportInUse(uuid::Uuid),
    #[error("no report from this computer went to ticket {0}; look it up in History")]
    UnknownTicket(String),
    #[error(
        "no detection `{0}` is listed on this computer; start the report from the tray instead"
    )]
    UnknownDetection(String),
    #[error("`{0}` is not one of the files offered for this report")]
    NotOffered(String),
    #[error(
        "the ticket service gave `{0}` as the ticket's link, which is not a web address; copy the ticket id instead"
    )]
    NotAWebLink(String),
    #[error("`{0}` is not a time; pick a date and time")]
    NotATime(String),
    #[error("{}", if *asked { "not agreed to; nothing was done" } else { "what is printed above must be agreed to before going on; answer in a terminal, or add --yes to agree" })]
    NotAgreed { asked: bool },
    #[error("that bundle is no longer open; open it again")]
    NotOpen,
    #[error("{0} is not a file of this bundle")]
    NotInBundle(String),
    #[error(
        "{0} is encrypted by the calling software; only its vendor can read it (Export for vendor)"
    )]
    Encrypted(String),
    #[error(
        "{0} is an archive of several files, not one log; extract the bundle (`callsupport extract`) to read them"
    )]
    NotALog(String),
    #[error("cannot search for that: {0}")]
    BadSearch(String),
    #[error("{} is damaged ({count} file(s) fail their check, first {first}: {problem}); collect a new bundle", path.display())]
    Damaged {
        path: PathBuf,
        count: usize,
        first: String,
        problem: String,
    },
    #[error("{entry} cannot be read from the bundle: {problem}")]
    DamagedEntry { entry: String, problem: String },
    #[error("the first scan of the sources did not finish within {0} s")]
    ScanTimedOut(u64),
    #[error("cannot open a browser ({0}); copy the ticket's link instead")]
    NoBrowser(String),
    /// Work handed to another thread ended without an answer (it panicked or was dropped).
    #[error("{what} stopped: {detail}")]
    Stopped { what: &'static str, detail: String },
    /// Reading or writing our own files (the outbox, the history, kept copies) failed.
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    /// A send failed, and the report waits in the outbox; the code is the failure's.
    #[error("{source}; report {id} waits in the outbox to be sent again")]
    Queued { id: uuid::Uuid, source: Box<Error> },
}

impl Error {
    /// A failure of our own files, saying what was being done.
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Config(err) => err.code(),
            Error::Setting(err) => err.code(),
            Error::Source(err) => err.code(),
            Error::Report(err) => err.code(),
            Error::Survey(err) => err.code(),
            Error::Write(err) => err.code(),
            Error::Read(err) => err.code(),
            Error::Extract(err) => err.code(),
            Error::Vendor(err) => err.code(),
            Error::CallId(err) => err.code(),
            Error::CallFile(err) => err.code(),
            Error::Upload(err) => err.code(),
            Error::Fetch(err) => err.code(),
            Error::Secret(err) => err.code(),
            Error::Seal(err) => err.code(),
            Error::Preview(err) => err.code(),
            Error::Export(err) => err.code(),
            Error::Policy(err) => err.code(),
            Error::Link(err) => err.code(),
            Error::Screenshot(err) => err.code(),
            Error::UnknownReport
            | Error::NotAReportId(_)
            | Error::NotInOutbox(_)
            | Error::UnknownTicket(_)
            | Error::UnknownDetection(_)
            | Error::NotOffered(_)
            | Error::NotAWebLink(_)
            | Error::NotATime(_)
            | Error::NotOpen
            | Error::NotAgreed { asked: false }
            | Error::NotInBundle(_)
            | Error::Encrypted(_)
            | Error::NotALog(_)
            | Error::BadSearch(_) => ErrorCode::ReportInvalid,
            Error::Damaged { .. } | Error::DamagedEntry { .. } => ErrorCode::Integrity,
            Error::ScanTimedOut(_) => ErrorCode::SourceUnavailable,
            Error::NotAgreed { asked: true } => ErrorCode::Cancelled,
            Error::DestinationChanged { .. } => ErrorCode::DestinationChanged,
            Error::ReportInUse(_)
            | Error::NoBrowser(_)
            | Error::Stopped { .. }
            | Error::Io { .. } => ErrorCode::Io,
            Error::Queued { source, .. } => source.code(),
        }
    }
}

impl Coded for Error {
    fn code(&self) -> ErrorCode {
        Error::code(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_the_user_can_fix_is_not_a_disk_failure() {
        for err in [
            Error::NotAReportId("x".into()),
            Error::NotOffered("acs/a.log".into()),
            Error::NotATime("tomorrow".into()),
            Error::BadSearch("unclosed group".into()),
            Error::CallFile(CallFileError::NotCallRecords {
                shown: "a.jsonl".into(),
                why: "line 1: not JSON".into(),
            }),
            Error::Write(WriteError::OutputExists("a.zip".into())),
        ] {
            assert_eq!(err.code(), ErrorCode::ReportInvalid, "{err}");
        }
    }

    #[test]
    fn a_queued_report_keeps_the_code_of_its_failure() {
        let err = Error::Queued {
            id: uuid::Uuid::nil(),
            source: Box::new(Error::Upload(UploadError::Cancelled)),
        };
        assert_eq!(err.code(), ErrorCode::Cancelled);
    }
}
