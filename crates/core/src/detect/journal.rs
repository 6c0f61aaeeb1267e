//! What detection keeps on disk, in `<data>/detect/`: every detection with its decision
//! (`detected.jsonl`, newest last, trimmed to the latest [`KEEP`]) and the state that must
//! survive a restart (`state.json`: how far each log was read, the prompter's counts and mutes),
//! written aside and renamed into place.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Detection;
use super::prompt::{Decision, PromptState};
use crate::tail::Tail;

/// Detections kept for History → Detected.
pub const KEEP: usize = 500;

/// A detection and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
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
        if detected.is_empty() {
            return Ok(());
        }
        std::fs::create_dir_all(&self.dir)?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.detected_path())?;
        let mut text = Vec::new();
        for one in detected {
            serde_json::to_writer(&mut text, one).map_err(std::io::Error::other)?;
            text.push(b'\n');
        }
        file.write_all(&text)?;
        drop(file);
        let all = self.read_all();
        if all.len() > 2 * KEEP {
            let mut text = Vec::new();
            for one in &all[all.len() - KEEP..] {
                serde_json::to_writer(&mut text, one).map_err(std::io::Error::other)?;
                text.push(b'\n');
            }
            write_aside(&self.detected_path(), &text)?;
        }
        Ok(())
    }

    /// The latest detections, newest first, at most [`KEEP`]; unreadable lines are passed over.
    pub fn list(&self) -> Vec<Detected> {
        let mut all = self.read_all();
        all.reverse();
        all.truncate(KEEP);
        all
    }

    fn read_all(&self) -> Vec<Detected> {
        std::fs::read_to_string(self.detected_path())
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }
}

/// Writes `bytes` beside `path` and renames it over: the file is whole, old or new.
fn write_aside(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let aside = path.with_extension(format!("{}.new", uuid::Uuid::now_v7().simple()));
    std::fs::write(&aside, bytes)?;
    std::fs::rename(&aside, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&aside);
    })
}
