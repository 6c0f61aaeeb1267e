//! The use cases the shells call, and the types that cross the IPC boundary.
//!
//! # Brief overview
//!
//! A [`Desk`] is the app's working state: the loaded configuration, the data folder and the reports
//! the user is reviewing. The Tauri shell keeps one in `tauri::State` and each command is one call to
//! it; the CLI uses the same calls. [`Viewer`] is the support agent's side.
//!
//! One file a use case: `report.rs` (overview, plan, consent, send), `queue.rs` (the outbox),
//! `history.rs`, `export.rs` (Save to file), `preview.rs`, `screenshot.rs`, `support.rs` (support's
//! request for logs), `detected.rs`, `surveys.rs`, `viewer.rs`, `received.rs` and `logview.rs` (the
//! agent's viewer). The types that cross the IPC boundary are in `ipc.rs` (and beside the use case
//! that returns them); each derives `ts_rs::TS`, [`typescript`] renders them all, and a test keeps
//! `ui/src/lib/backend/generated/types.ts` equal to it.

mod detected;
mod export;
mod history;
mod ipc;
pub mod logview;
mod preview;
mod queue;
mod received;
mod report;
mod screenshot;
mod support;
mod surveys;
mod typescript;
mod viewer;

pub use detected::DetectionPrefill;
pub use export::{ExportError, ExportReceipt, suggested_file_name, suggested_folder};
pub use ipc::*;
pub use preview::{FilePreview, PREVIEW_BYTES, PreviewError, PreviewPart};
pub use received::{AGENT_TOKEN_ENV, FetchedTicket, KEEP_RECEIVED};
pub use report::LEFT_OUT_BY_USER;
pub use screenshot::ScreenshotView;
pub use surveys::SurveyAnswer;
pub use typescript::{TYPESCRIPT_PATH, typescript};
pub use viewer::{
    BUNDLE_EXTENSIONS, FileIntegrity, IntegrityView, OpenedBundle, Viewer, is_bundle_name,
};

use report::{FIRST_SCAN_WAIT, Prepared};

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};

use crate::config::settings::{self, SettingError, SettingsView};
use crate::config::{Config, ConfigFiles, Layered};
use crate::consent::Destination;
use crate::error::Error;
use crate::index::{Index, IndexEvent, SourceSnapshot};
use crate::outbox::Outbox;

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
}
