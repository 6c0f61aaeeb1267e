//! After every other test: neither token is in any file that the app, the tray agent or WebKit
//! wrote: the data folder (outbox, History, the app's own logs, received bundles) and the private
//! home (WebKit's storage and caches, the login entry). The submit token came from the
//! environment; the agent token was typed into the viewer.

use std::path::{Path, PathBuf};

use anyhow::ensure;

use crate::harness::{AGENT_TOKEN, Harness, SUBMIT_TOKEN};

pub async fn no_token_is_written(harness: &Harness) -> anyhow::Result<()> {
    let data = harness.app_data();
    // The other tests ran first: the app's log and History are there to be searched.
    let log = data.join("logs/callsupport.log");
    ensure!(
        std::fs::metadata(&log).is_ok_and(|m| m.len() > 0),
        "{} is missing; this test searches what the others left, so run it after them",
        log.display()
    );
    let mut searched = 0;
    for dir in [data, harness.dir.path().join("home")] {
        searched += grep_files(&dir, "")?.len();
        for token in [SUBMIT_TOKEN, AGENT_TOKEN] {
            let leaks = grep_files(&dir, token)?;
            ensure!(leaks.is_empty(), "a token is written in {leaks:?}");
        }
    }
    eprintln!("  no token in the {searched} files the app, the agent and WebKit wrote");
    Ok(())
}

/// The files under `dir` whose bytes hold `needle` (every file for an empty `needle`).
pub fn grep_files(dir: &Path, needle: &str) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            if path.is_dir() {
                folders.push(path);
            } else if needle.is_empty()
                || std::fs::read(&path)?
                    .windows(needle.len())
                    .any(|w| w == needle.as_bytes())
            {
                found.push(path);
            }
        }
    }
    Ok(found)
}
