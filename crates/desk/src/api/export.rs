//! *Save to file instead*: a prepared report written as a bundle where the user chooses.
//!
//! # Brief overview
//!
//! [`Desk::export_report`] packs the files the consent screen lists, as ticked, into a bundle
//! whose consent record names a file as the destination (nothing is sent). The bundle is written
//! beside the chosen path under a hidden name and renamed over it only when complete, so the
//! chosen path holds either the whole bundle or what it held before (the save dialog has asked
//! before replacing a file). A cancel or a failure removes everything it wrote.

use callsupport_error::{Coded, ErrorCode};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use serde::Serialize;
use ts_rs::TS;

use super::Desk;
use crate::collect::{Plan, collect};
use crate::consent::{Destination, Statement};
use crate::error::Error;
use crate::policy::Policy;
use crate::progress::Progress;
use crate::report::Report;

/// A report saved to a file.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ExportReceipt {
    /// Where it was saved, home folder as `~`.
    pub path: String,
    pub bundle_id: String,
    pub bundle_sha256: String,
    pub bundle_bytes: u64,
}

/// Why a report cannot be saved where the user chose.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{} is not a file name; choose a file to save the report to", .0.display())]
    NoFileName(PathBuf),
    #[error("the folder {} does not exist; choose another place to save the report", .0.display())]
    NoFolder(PathBuf),
    #[error("{} is a folder; choose a file name to save the report to", .0.display())]
    IsFolder(PathBuf),
    #[error(
        "this report was prepared to be saved to a file, and the consent given was for that; start a new report to send one"
    )]
    NotForSending,
}

/// The name the save dialog suggests: `call-support-report-2026-11-25-1015.zip`, local time;
/// `….zip.age` for a sealed report.
pub fn suggested_file_name(now: chrono::DateTime<chrono::Local>, sealed: bool) -> String {
    format!(
        "call-support-report-{}.zip{}",
        now.format("%Y-%m-%d-%H%M"),
        if sealed { ".age" } else { "" }
    )
}

/// The folder the save dialog opens in: the user's Downloads folder, else their home.
pub fn suggested_folder() -> Option<PathBuf> {
    dirs::download_dir().or_else(dirs::home_dir)
}

impl Desk {
    /// What the save dialog offers at `now`: the suggested file name, and the kind of file with
    /// its extension (a sealed report is an age file).
    pub fn export_file(
        &self,
        now: chrono::DateTime<chrono::Local>,
    ) -> (String, &'static str, &'static str) {
        // Sealed for the organisation's keys (`privacy.recipients`), a saved report is an age file.
        let sealed = !Policy::of(&self.config()).recipients().is_empty();
        let (kind, extension) = match sealed {
            true => ("Sealed report (.age)", "age"),
            false => ("Report (.zip)", "zip"),
        };
        (suggested_file_name(now, sealed), kind, extension)
    }

    /// Writes the prepared report to `dest` as shown on the consent screen, with a file as its
    /// destination. The report stays prepared: it can still be sent afterwards.
    pub async fn export_report(
        &self,
        report_id: &str,
        dest: &Path,
        on_progress: impl Fn(Progress) -> bool + Send + Sync + 'static,
    ) -> Result<ExportReceipt, Error> {
        let policy = Policy::of(&self.config());
        policy.check_export()?;
        let (plan, report, statement, redact) = {
            let pending = self.pending.lock().expect("pending reports lock");
            let prepared = pending.get(report_id).ok_or(Error::UnknownReport)?;
            // Prepared for a file (Export Logs), the statement shown is the one agreed to; from
            // the send screen (Save to file instead), the same words with a file as destination.
            let statement = match prepared.destination {
                Destination::File => prepared.statement.clone(),
                _ => Statement::sealed(
                    &prepared.plan,
                    &Destination::File,
                    prepared.redact,
                    &prepared.statement.sealed_for,
                ),
            };
            policy.check_redaction_agreed(prepared.redact)?;
            policy.check_sealing_agreed(&statement.sealed_for)?;
            (
                prepared.plan.clone(),
                prepared.report.clone(),
                statement,
                prepared.redact,
            )
        };
        let cancelled = self.start_cancellable(report_id);
        let on_progress =
            move |progress| !cancelled.load(Ordering::SeqCst) && on_progress(progress);
        let dest = dest.to_path_buf();
        let result = tokio::task::spawn_blocking(move || {
            write_export(&plan, report, &statement, redact, &dest, on_progress)
        })
        .await
        .map_err(|err| Error::Stopped {
            what: "saving",
            detail: err.to_string(),
        });
        self.end_cancellable(report_id);
        result?
    }
}

/// Writes a file the user chose in a save dialog (which already asked about replacing one there):
/// `write` makes it beside `dest` under a hidden name (`.<name>.<id>.<what>`), and only a
/// complete one is renamed over `dest`; on failure nothing of it is left.
pub(crate) fn save_over<T>(
    dest: &Path,
    what: &str,
    write: impl FnOnce(&Path) -> Result<T, Error>,
) -> Result<T, Error> {
    let name = dest
        .file_name()
        .ok_or_else(|| ExportError::NoFileName(dest.to_path_buf()))?;
    let folder = match dest.parent() {
        Some(parent) if parent.as_os_str().is_empty() => Path::new("."),
        Some(parent) => parent,
        None => return Err(ExportError::NoFileName(dest.to_path_buf()).into()),
    };
    if !folder.is_dir() {
        return Err(ExportError::NoFolder(folder.to_path_buf()).into());
    }
    if dest.is_dir() {
        return Err(ExportError::IsFolder(dest.to_path_buf()).into());
    }
    let staging = folder.join(format!(
        ".{}.{}.{what}",
        name.to_string_lossy(),
        uuid::Uuid::now_v7().simple()
    ));
    let written = write(&staging).inspect_err(|_| {
        let _ = std::fs::remove_file(&staging);
    })?;
    if let Err(err) = std::fs::rename(&staging, dest) {
        let _ = std::fs::remove_file(&staging);
        return Err(Error::io(format!("cannot save {}", dest.display()))(err));
    }
    Ok(written)
}

/// Writes the bundle beside `dest` and renames it over `dest` once complete.
fn write_export(
    plan: &Plan,
    report: Report,
    statement: &Statement,
    redact: bool,
    dest: &Path,
    on_progress: impl FnMut(Progress) -> bool,
) -> Result<ExportReceipt, Error> {
    let consent = statement.agreed(&Destination::File, redact);
    let written = save_over(dest, "saving", |staging| {
        Ok(collect(plan, report, consent, staging, on_progress)?)
    })?;
    log::info!(
        "bundle {} saved to a file: {} bytes",
        written.manifest.bundle_id,
        written.bytes
    );
    Ok(ExportReceipt {
        path: callsupport_bundle::display_path(dest),
        bundle_id: written.manifest.bundle_id.to_string(),
        bundle_sha256: written.sha256,
        bundle_bytes: written.bytes,
    })
}

impl Coded for ExportError {
    fn code(&self) -> ErrorCode {
        match self {
            ExportError::NoFileName(_)
            | ExportError::NoFolder(_)
            | ExportError::IsFolder(_)
            | ExportError::NotForSending => ErrorCode::ReportInvalid,
        }
    }
}
