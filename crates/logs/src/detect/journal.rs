//! What detection keeps on disk, in `<data>/detect/`: every detection with its decision
//! (`detected.jsonl`, newest last, trimmed to the latest [`KEEP`]) and the state that must
//! survive a restart (`state.json`: how far each log was read, the prompter's counts and mutes),
//! written aside and renamed into place.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Detection;
use super::prompt::{Decision, PromptState};
use crate::tail::Tail;
use callsupport_kept::{append_lines, read_lines, write_aside};

/// Detections kept for History → Detected.
pub const KEEP: usize = 500;

/// A detection and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Detected {
    #[serde(flatten)]
    pub detection: Detection,
    pub decision: Decision,
}

/// What detection remembers between runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SavedState {
    /// How far each log was read, by path.
    pub positions: BTreeMap<PathBuf, Tail>,
    pub prompts: PromptState,
}

pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    pub fn new(data_dir: &Path) -> Journal {
        Journal {
            dir: data_dir.join("detect"),
        }
    }

    fn detected_path(&self) -> PathBuf {
        self.dir.join("detected.jsonl")
    }

    fn state_path(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// The saved state; `None` on the very first run (nothing saved yet). A damaged file counts
    /// as none, with a warning: positions are then taken afresh.
    pub fn load_state(&self) -> Option<SavedState> {
        let text = std::fs::read_to_string(self.state_path()).ok()?;
        match serde_json::from_str(&text) {
            Ok(state) => Some(state),
            Err(err) => {
                log::warn!("detection state unreadable ({err}); starting afresh");
                None
            }
        }
    }

    pub fn save_state(&self, state: &SavedState) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let text = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
        write_aside(&self.state_path(), &text)
    }

    /// Adds detections at the end; past twice [`KEEP`] lines the file is cut to the latest.
    pub fn append(&self, detected: &[Detected]) -> std::io::Result<()> {
        append_lines(&self.detected_path(), detected, KEEP)
    }

    /// The latest detections, newest first, at most [`KEEP`]; unreadable lines are passed over.
    pub fn list(&self) -> Vec<Detected> {
        let mut all: Vec<Detected> = read_lines(&self.detected_path());
        all.reverse();
        all.truncate(KEEP);
        all
    }
}
