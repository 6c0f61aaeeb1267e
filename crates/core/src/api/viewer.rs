//! The support agent's viewer: received bundles opened by path, checked, and read for calls.
//!
//! A [`Viewer`] needs no configuration (an agent's machine may have none). Opening reads only
//! the zip's central directory and the manifest, so it is quick whatever the bundle's size; the
//! hashes are checked afterwards ([`Viewer::verify`]), and the calls read on request
//! ([`Viewer::calls`]). Every bundle is hostile until proven otherwise: the reader's rules refuse
//! unsafe names, duplicates and sizes that do not add up, with an error that says why.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use ts_rs::TS;

use crate::bundle::manifest::Manifest;
use crate::bundle::reader::Bundle;
use crate::calls::{self, Calls};
use crate::error::Error;

/// A bundle opened in the viewer.
#[derive(Debug, Clone, Serialize, TS)]
pub struct OpenedBundle {
    /// What the other viewer calls name it by.
    pub id: String,
    /// Its file, home folder as `~`.
    pub path: String,
    pub bytes: u64,
    pub manifest: Manifest,
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

/// The bundles open in this window, by id.
#[derive(Default)]
pub struct Viewer {
    open: Mutex<HashMap<String, PathBuf>>,
}

/// A viewer call named a bundle that is not open.
#[derive(Debug, Clone, thiserror::Error)]
#[error("that bundle is no longer open; open it again")]
pub struct NotOpen;

impl Viewer {
    /// Opens `path`: the manifest only (see the module documentation).
    pub fn open(&self, path: &Path) -> Result<OpenedBundle, Error> {
        let bundle = Bundle::open(path)?;
        let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let id = bundle.manifest.bundle_id.to_string();
        self.open
            .lock()
            .expect("viewer lock")
            .insert(id.clone(), path.to_path_buf());
        log::info!("viewer: opened bundle {id} ({bytes} bytes)");
        Ok(OpenedBundle {
            id,
            path: crate::sources::display_path(path),
            bytes,
            manifest: bundle.manifest,
        })
    }

    fn path(&self, id: &str) -> Result<PathBuf, Error> {
        self.open
            .lock()
            .expect("viewer lock")
            .get(id)
            .cloned()
            .ok_or(Error::Viewer(NotOpen))
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

    /// The calls in an open bundle's call-operations logs.
    pub fn calls(&self, id: &str) -> Result<Calls, Error> {
        let mut bundle = Bundle::open(&self.path(id)?)?;
        Ok(calls::from_bundle(&mut bundle))
    }
}
