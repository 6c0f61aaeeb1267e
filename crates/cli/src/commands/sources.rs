//! `callsupport sources`: what each configured source holds right now.

use std::process::ExitCode;
use std::time::SystemTime;

use callsupport_core::Error;
use callsupport_core::config::Config;
use callsupport_core::consent::human_bytes;
use callsupport_core::sources::{display_path, scan_all};

use crate::output;

pub fn run(config: &Config, json: bool) -> Result<ExitCode, Error> {
    let scans = scan_all(config, SystemTime::now())?;
    if json {
        let value: Vec<_> = scans
            .iter()
            .map(|s| {
                serde_json::json!({
                    "id": s.id, "name": s.name, "kind": s.kind, "root": display_path(&s.root),
                    "files": s.files.iter().map(|f| serde_json::json!({
                        "path": display_path(&f.path), "size": f.size, "encrypted": f.encrypted,
                    })).collect::<Vec<_>>(),
                    "skipped": s.skipped.iter().map(|k| serde_json::json!({
                        "path": display_path(&k.original_path), "reason": k.reason,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        output::json(&value);
        return Ok(ExitCode::SUCCESS);
    }
    for scan in &scans {
        let bytes: u64 = scan.files.iter().map(|f| f.size).sum();
        println!(
            "{} ({}, {}): {} files, {}",
            scan.id,
            scan.name,
            display_path(&scan.root),
            scan.files.len(),
            human_bytes(bytes)
        );
        for file in &scan.files {
            println!("  {}  {}", human_bytes(file.size), file.relative);
        }
        for skipped in &scan.skipped {
            println!(
                "  skipped {}: {}",
                display_path(&skipped.original_path),
                skipped.reason
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
