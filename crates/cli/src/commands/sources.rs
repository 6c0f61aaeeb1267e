//! `callsupport sources [--watch]`: each source's root, status and files, from the live index.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use callsupport_desk::Error;
use callsupport_desk::bundle::display_path;
use callsupport_desk::bundle::human_bytes;
use callsupport_desk::config::Config;
use callsupport_desk::index::{Index, IndexEvent, IndexedFile, SourceSnapshot, SourceStatus};

use crate::output;

#[derive(clap::Args)]
pub struct Args {
    /// After listing, keep watching and print every change as a JSON line until interrupted.
    #[arg(long)]
    watch: bool,
}

pub fn run(config: &Config, args: Args, json: bool) -> Result<ExitCode, Error> {
    let sink = move |event: IndexEvent| {
        if args.watch {
            output::line(&serde_json::to_string(&event).expect("events serialize"));
        }
    };
    let index = Index::start(config, sink);
    if !index.wait_ready(Duration::from_secs(60)) {
        return Err(Error::ScanTimedOut(60));
    }
    let snapshot = index.snapshot();
    if args.watch {
        // The first scan announces itself with one `rescanned` a source; list its files as
        // `file_added` lines, so the stream alone tells the whole state.
        for source in &snapshot {
            for file in &source.files {
                let event = IndexEvent::FileAdded {
                    file: IndexedFile::from(file),
                };
                output::line(&serde_json::to_string(&event).expect("events serialize"));
            }
        }
        eprintln!(
            "watching {} source(s); press Ctrl+C to stop",
            snapshot.len()
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::io("cannot start the runtime that waits for Ctrl+C"))?;
        runtime
            .block_on(async { tokio::signal::ctrl_c().await })
            .map_err(Error::io("cannot wait for Ctrl+C"))?;
        return Ok(ExitCode::SUCCESS);
    }
    if json {
        output::json(
            &snapshot
                .iter()
                .map(|s| source_json(config, s))
                .collect::<Vec<_>>(),
        );
    } else {
        for source in &snapshot {
            print_source(config, source);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn status_text(status: &SourceStatus) -> String {
    match status {
        SourceStatus::Polling { reason }
        | SourceStatus::Denied { reason }
        | SourceStatus::Invalid { reason } => {
            format!("{} ({reason})", status.label())
        }
        other => other.label().to_owned(),
    }
}

fn print_source(config: &Config, source: &SourceSnapshot) {
    let scan = source.to_scan(config.max_age(&source.config), SystemTime::now());
    let root = source
        .root
        .as_deref()
        .map(display_path)
        .unwrap_or_else(|| source.config.root.clone());
    let bytes: u64 = scan.files.iter().map(|f| f.size).sum();
    println!(
        "{} ({}): {root}\n  status: {}\n  {} files, {}",
        source.config.id,
        source.config.name,
        status_text(&source.status),
        scan.files.len(),
        human_bytes(bytes)
    );
    for file in &scan.files {
        let calls = if file.calls.is_empty() {
            String::new()
        } else {
            format!("  ({} calls)", file.calls.len())
        };
        println!("  {:>10}  {}{calls}", human_bytes(file.size), file.relative);
    }
    for skipped in &scan.skipped {
        println!(
            "  skipped {}: {}",
            display_path(&skipped.original_path),
            skipped.reason
        );
    }
}

fn source_json(config: &Config, source: &SourceSnapshot) -> serde_json::Value {
    let scan = source.to_scan(config.max_age(&source.config), SystemTime::now());
    serde_json::json!({
        "id": source.config.id,
        "name": source.config.name,
        "kind": source.config.kind,
        "root": source.root.as_deref().map(display_path),
        "status": source.status,
        "files": scan.files.iter().map(IndexedFile::from).collect::<Vec<_>>(),
        "skipped": scan.skipped.iter().map(|k| serde_json::json!({
            "path": display_path(&k.original_path), "reason": k.reason,
        })).collect::<Vec<_>>(),
    })
}
