//! `callsupport sources`: statuses from the live index, and `--watch` streaming changes.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::Machine;

const URL: &str = "http://127.0.0.1:9/api/v1/tickets";

#[test]
fn json_lists_each_source_with_its_status_and_files() {
    let machine = Machine::new();
    std::fs::remove_dir_all(machine.acs_logs()).unwrap();
    let config = machine.config("callsupport.toml", URL);

    let run = machine
        .run(&["sources", "--json", "--config", config.to_str().unwrap()])
        .success();

    let sources: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    let by_id = |id: &str| {
        sources
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap()
            .clone()
    };
    let app = by_id("app");
    assert_eq!(app["status"]["state"], "watching", "{app}");
    let names: Vec<&str> = app["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["relative"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["app.log", "calls/2025-05-01.log"],
        "old.log is too old: {app}"
    );
    assert!(app["skipped"].to_string().contains("too old"), "{app}");
    let acs = by_id("acs");
    assert_eq!(acs["status"]["state"], "missing", "{acs}");
    assert_eq!(acs["files"].as_array().unwrap().len(), 0);
}

#[test]
fn watch_streams_a_new_file_as_a_json_line() {
    let machine = Machine::new();
    let config = machine.config("callsupport.toml", URL);
    let mut child = machine
        .command()
        .args(["sources", "--watch", "--config", config.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel::<serde_json::Value>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            let _ = tx.send(serde_json::from_str(&line).expect("every line is JSON"));
        }
    });
    let next_until = |deadline: Instant, want: &dyn Fn(&serde_json::Value) -> bool| {
        while let Ok(event) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            if want(&event) {
                return Some(event);
            }
        }
        None
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    // The existing files come first, as file_added lines.
    let existing = next_until(deadline, &|e| {
        e["type"] == "file_added" && e["file"]["relative"] == "app.log"
    });
    assert!(existing.is_some(), "app.log listed");
    let new = machine.app_logs().join("new.log");
    std::fs::write(&new, "2025-05-01T11:00:00Z INFO new\n").unwrap();
    let added = next_until(deadline, &|e| {
        e["type"] == "file_added" && e["file"]["relative"] == "new.log"
    });
    let _ = child.kill();
    let _ = child.wait();
    let added = added.expect("the new file is streamed");
    assert_eq!(
        added["source_id"]
            .as_str()
            .or(added["file"]["source_id"].as_str()),
        Some("app")
    );
    assert_eq!(added["file"]["size"], 30);
}
