//! The support agent's viewer: received bundles opened by path, checked, and read for calls.
//!
//! A [`Viewer`] needs no configuration (an agent's machine may have none). Opening reads only
//! the zip's central directory and the manifest, so it is quick whatever the bundle's size; the
//! hashes are checked afterwards ([`Viewer::verify`]), and the calls read on request
//! ([`Viewer::calls`]). Every bundle is hostile until proven otherwise: the reader's rules refuse
//! unsafe names, duplicates and sizes that do not add up, with an error that says why.
//!
//! A bundle sealed for the organisation's keys opens with the agent's identity
//! ([`Viewer::use_identity_file`]: `viewer.identity_file`, or [`IDENTITY_ENV`]): it is opened
//! once into a private folder of the viewer's, removed when the viewer ends.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

use serde::Serialize;
use ts_rs::TS;

use super::logview::{Level, LogInfo, LogMatches, LogWindow, OpenLog};
use crate::bundle::manifest::Manifest;
use crate::bundle::reader::Bundle;
use crate::bundle::vendor::{VendorExport, export_for_vendor};
use crate::calls::{self, Calls};
use crate::error::Error;

/// The variable naming an age identity file that opens sealed bundles; it comes before
/// `viewer.identity_file`.
pub const IDENTITY_ENV: &str = "CALLSUPPORT_IDENTITY";

/// Whether a file's name is a bundle's: `.zip`, or `.age` for one sealed for the organisation's
/// keys (`….zip.age`); what the app opens when it is double-clicked or dropped.
pub fn is_bundle_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip") || e.eq_ignore_ascii_case("age"))
}

/// The extensions the viewer's open dialog offers.
pub const BUNDLE_EXTENSIONS: &[&str] = &["zip", "age"];

/// A bundle opened in the viewer.
#[derive(Debug, Clone, Serialize, TS)]
pub struct OpenedBundle {
    /// What the other viewer calls name it by.
    pub id: String,
    /// Its file, home folder as `~`.
    pub path: String,
    pub bytes: u64,
    /// It came sealed for the organisation's keys, and was opened with the agent's identity.
    pub sealed: bool,
    pub manifest: Manifest,
    /// For a bundle fetched by ticket id: where that ticket stands in the organisation's
    /// ticket system.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ticket_system: Option<crate::fetch::TicketSystemView>,
    /// For a bundle fetched by ticket id: the ticket, and the bundles added to it later.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ticket: Option<super::FetchedTicket>,
}

/// Whether every file matches the manifest, and if not, which and how.
#[derive(Debug, Clone, Serialize, TS)]
pub struct IntegrityView {
    pub intact: bool,
    pub files_checked: u32,
    #[ts(type = "number")]
    pub bytes_checked: u64,
    pub problems: Vec<FileIntegrity>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct FileIntegrity {
    pub path: String,
    pub problem: String,
}

/// The bundles open in this window, by id, each with the Azure Monitor exports added to it.
#[derive(Default)]
pub struct Viewer {
    open: Mutex<HashMap<String, PathBuf>>,
    exports: Mutex<HashMap<String, Vec<PathBuf>>>,
    /// Readable logs opened for the log screen, by log id.
    logs: Mutex<HashMap<String, OpenLog>>,
    /// A bundle the app opened for the window (command line, drop), until the page takes it.
    handed: Mutex<Option<Result<OpenedBundle, super::ApiError>>>,
    /// The agent token typed in the viewer and accepted; in memory only (see `received`).
    pub(super) agent_token: Mutex<Option<String>>,
    /// Set to stop a ticket download under way.
    pub(super) fetch_cancelled: AtomicBool,
    /// The agent's age identity file, which opens sealed bundles.
    identity_file: Mutex<Option<PathBuf>>,
    /// Where sealed bundles are opened to; removed with the viewer.
    opened_dir: Mutex<Option<tempfile::TempDir>>,
}

impl Viewer {
    /// The identity that opens sealed bundles: [`IDENTITY_ENV`] when set, else `configured`
    /// (`viewer.identity_file`).
    pub fn use_identity_file(&self, configured: Option<PathBuf>) {
        let chosen = std::env::var_os(IDENTITY_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or(configured);
        *self.identity_file.lock().expect("viewer lock") = chosen;
    }

    /// Opens `path`: the manifest only (see the module documentation). A sealed bundle is
    /// opened with the agent's identity first.
    pub fn open(&self, path: &Path) -> Result<OpenedBundle, Error> {
        let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let sealed = callsupport_seal::is_sealed(path).unwrap_or(false);
        let readable = if sealed {
            self.unseal(path)?
        } else {
            path.to_path_buf()
        };
        let bundle = Bundle::open(&readable).map_err(|err| match err {
            // Named by the file the agent chose, not the viewer's private copy.
            crate::bundle::reader::ReadError::NotAZip { detail, .. } => {
                crate::bundle::reader::ReadError::NotAZip {
                    path: path.to_path_buf(),
                    detail,
                }
            }
            other => other,
        })?;
        let id = bundle.manifest.bundle_id.to_string();
        self.open
            .lock()
            .expect("viewer lock")
            .insert(id.clone(), readable);
        log::info!(
            "viewer: opened bundle {id} ({bytes} bytes{})",
            if sealed { ", sealed" } else { "" }
        );
        Ok(OpenedBundle {
            id,
            path: callsupport_bundle::display_path(path),
            bytes,
            sealed,
            manifest: bundle.manifest,
            ticket_system: None,
            ticket: None,
        })
    }

    /// Opens a sealed bundle with the agent's identity into the viewer's private folder.
    fn unseal(&self, path: &Path) -> Result<PathBuf, Error> {
        let identity_file = self.identity_file.lock().expect("viewer lock").clone();
        let Some(identity_file) = identity_file else {
            return Err(crate::bundle::reader::ReadError::Sealed {
                path: path.to_path_buf(),
            }
            .into());
        };
        let mut dir = self.opened_dir.lock().expect("viewer lock");
        if dir.is_none() {
            *dir = Some(
                tempfile::Builder::new()
                    .prefix("callsupport-opened-")
                    .tempdir()
                    .map_err(Error::io("no room to open a sealed bundle"))?,
            );
        }
        let target = dir
            .as_ref()
            .expect("made above")
            .path()
            .join(format!("{}.zip", uuid::Uuid::now_v7().simple()));
        crate::unseal::unseal_file(path, &identity_file, &target)?;
        Ok(target)
    }

    /// Opens `path` for the window to take with [`Viewer::take_handed`] (the app opened it: a
    /// `.zip` on the command line, a drop); a refusal is kept for the window to say.
    pub fn hand_over(&self, path: &Path) {
        let opened = self.open(path).map_err(super::ApiError::from);
        if let Err(err) = &opened {
            log::warn!("bundle not opened: {}", err.message);
        }
        *self.handed.lock().expect("viewer lock") = Some(opened);
    }

    /// The bundle handed over for the window, once; `None` when there is none.
    pub fn take_handed(&self) -> Result<Option<OpenedBundle>, super::ApiError> {
        self.handed.lock().expect("viewer lock").take().transpose()
    }

    fn path(&self, id: &str) -> Result<PathBuf, Error> {
        self.open
            .lock()
            .expect("viewer lock")
            .get(id)
            .cloned()
            .ok_or(Error::NotOpen)
    }

    /// Hashes every file of an open bundle and compares it with the manifest.
    pub fn verify(&self, id: &str) -> Result<IntegrityView, Error> {
        let mut bundle = Bundle::open(&self.path(id)?)?;
        let checked = bundle.verify();
        Ok(IntegrityView {
            intact: checked.intact(),
            files_checked: checked.files_checked as u32,
            bytes_checked: checked.bytes_checked,
            problems: checked
                .problems
                .iter()
                .map(|(path, problem)| FileIntegrity {
                    path: path.clone(),
                    problem: problem.to_string(),
                })
                .collect(),
        })
    }

    /// The calls in an open bundle's call-operations logs, with the records of the exports added
    /// to it merged in by call id (a record in both counts once).
    pub fn calls(&self, id: &str) -> Result<Calls, Error> {
        let mut bundle = Bundle::open(&self.path(id)?)?;
        let mut log = calls::CallLog::default();
        log.read_bundle(&mut bundle);
        let exports = self.exports.lock().expect("viewer lock").get(id).cloned();
        for export in exports.unwrap_or_default() {
            log.read_file(&export)?;
        }
        Ok(log.finish())
    }

    /// Writes the bundle's encrypted SDK logs for the vendor ([`crate::bundle::vendor`]) to a
    /// file the save dialog chose (replaced only once the new one is whole).
    pub fn export_for_vendor(&self, id: &str, out: &Path) -> Result<VendorExport, Error> {
        let mut bundle = Bundle::open(&self.path(id)?)?;
        let export = super::export::save_over(out, "new", |staging| {
            Ok(export_for_vendor(&mut bundle, staging)?)
        })?;
        Ok(VendorExport {
            path: out.to_path_buf(),
            ..export
        })
    }

    /// Opens a readable file of an open bundle for the log screen (see [`super::logview`]).
    pub fn open_log(&self, id: &str, entry: &str) -> Result<LogInfo, Error> {
        let mut bundle = Bundle::open(&self.path(id)?)?;
        let log = OpenLog::open(&mut bundle, entry)?;
        let log_id = format!("{id}:{entry}");
        let info = log.info(&log_id);
        self.logs.lock().expect("viewer lock").insert(log_id, log);
        Ok(info)
    }

    fn with_log<T>(
        &self,
        log_id: &str,
        f: impl FnOnce(&mut OpenLog) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut logs = self.logs.lock().expect("viewer lock");
        let log = logs.get_mut(log_id).ok_or(Error::NotOpen)?;
        f(log)
    }

    /// Up to `count` lines of the filtered log from position `first`.
    pub fn log_window(&self, log_id: &str, first: u32, count: u32) -> Result<LogWindow, Error> {
        self.with_log(log_id, |log| log.window(first, count))
    }

    /// Shows only lines of `levels` (and those naming none, with `unlevelled`); how many pass.
    pub fn log_filter(
        &self,
        log_id: &str,
        levels: &[Level],
        unlevelled: bool,
    ) -> Result<u32, Error> {
        self.with_log(log_id, |log| Ok(log.filter(levels, unlevelled)))
    }

    pub fn log_search(&self, log_id: &str, query: &str) -> Result<LogMatches, Error> {
        self.with_log(log_id, |log| log.search(query))
    }

    /// The position of the first filtered line at or after `time`.
    pub fn log_position_at(
        &self,
        log_id: &str,
        time: chrono::DateTime<chrono::Utc>,
    ) -> Result<u32, Error> {
        self.with_log(log_id, |log| log.position_at(time))
    }

    /// Forgets a log the screen closed (its temporary copy goes with it).
    pub fn close_log(&self, log_id: &str) {
        self.logs.lock().expect("viewer lock").remove(log_id);
    }

    /// Adds an Azure Monitor export (JSON lines of call client operations records, from a
    /// storage-account archive or Log Analytics) to an open bundle; returns the merged calls.
    /// A file in which no line is a record is refused and not added.
    pub fn add_export(&self, id: &str, path: &Path) -> Result<Calls, Error> {
        self.path(id)?;
        let mut check = calls::CallLog::default();
        check.read_file(path)?;
        self.exports
            .lock()
            .expect("viewer lock")
            .entry(id.to_owned())
            .or_default()
            .push(path.to_path_buf());
        log::info!("viewer: export added to bundle {id}");
        self.calls(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_that_holds_no_call_records_is_not_added() {
        let dir = tempfile::tempdir().unwrap();
        let viewer = Viewer::default();
        viewer
            .open
            .lock()
            .unwrap()
            .insert("b".into(), dir.path().join("b.zip"));
        let notes = dir.path().join("notes.jsonl");
        std::fs::write(&notes, "{\"category\":\"CallSummary\"}\nhello\n").unwrap();
        let err = viewer.add_export("b", &notes).unwrap_err();
        assert!(
            err.to_string()
                .contains("holds no call client operations records"),
            "{err}"
        );
        assert!(viewer.exports.lock().unwrap().is_empty());
        assert!(matches!(
            viewer.add_export("nope", &notes),
            Err(Error::NotOpen)
        ));
    }
}
