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
    let mut files = files_under(&data)?;
    files.extend(files_under(&harness.dir.path().join("home"))?);
    let mut leaks = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file)?;
        if [SUBMIT_TOKEN, AGENT_TOKEN]
            .iter()
            .any(|token| holds(&bytes, token))
        {
            leaks.push(file);
        }
    }
    ensure!(leaks.is_empty(), "a token is written in {leaks:?}");
    eprintln!(
        "  no token in the {} files the app, the agent and WebKit wrote",
        files.len()
    );
    Ok(())
}

fn holds(bytes: &[u8], needle: &str) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The files under `dir` whose bytes hold `needle`.
pub fn grep_files(dir: &Path, needle: &str) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for file in files_under(dir)? {
        if holds(&std::fs::read(&file)?, needle) {
            found.push(file);
        }
    }
    Ok(found)
}

/// Every file under `dir`.
fn files_under(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            if path.is_dir() {
                folders.push(path);
            } else {
                found.push(path);
            }
        }
    }
    Ok(found)
}
