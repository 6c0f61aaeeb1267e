//! `callsupport inspect`: show a bundle's manifest without extracting anything.

use std::path::PathBuf;
use std::process::ExitCode;

use callsupport_desk::Error;
use callsupport_desk::bundle::human_bytes;
use callsupport_desk::bundle::reader::Bundle;

use crate::output;

#[derive(clap::Args)]
pub struct Args {
    /// The bundle to show.
    bundle: PathBuf,
}

pub fn run(args: Args, json: bool) -> Result<ExitCode, Error> {
    let mut bundle = Bundle::open(&args.bundle)?;
    let verification = bundle.verify();
    let manifest = bundle.manifest;
    let problems: Vec<_> = verification
        .problems
        .iter()
        .map(|(path, problem)| serde_json::json!({ "path": path, "problem": problem.to_string() }))
        .collect();
    if json {
        let mut value = serde_json::to_value(&manifest).expect("manifest serializes");
        value["integrity"] = serde_json::json!({
            "intact": verification.intact(),
            "files_checked": verification.files_checked,
            "problems": problems,
        });
        output::json(&value);
        return Ok(ExitCode::SUCCESS);
    }
    let report = &manifest.report;
    println!(
        "bundle    {} ({}, made {} by {} {})",
        manifest.bundle_id,
        manifest.format,
        manifest.created_at,
        manifest.generator.name,
        manifest.generator.version
    );
    println!("summary   {}", report.summary);
    if !report.description.is_empty() {
        println!(
            "detail    {}",
            report.description.replace('\n', "\n          ")
        );
    }
    println!(
        "category  {}",
        serde_json::to_value(report.category)
            .unwrap_or_default()
            .as_str()
            .unwrap_or("other")
    );
    println!("when      {}", report.occurred_at);
    if !report.call_ids.is_empty() {
        println!("calls     {}", report.call_ids.join(", "));
    }
    let host = &manifest.host;
    println!(
        "host      {} ({}, {}), {}, {}",
        host.os_version, host.os, host.arch, host.locale, host.timezone
    );
    println!(
        "consent   {} to {}, statement {}",
        manifest.consent.accepted_at,
        manifest.consent.destination,
        manifest.consent.statement_sha256
    );
    if verification.intact() {
        println!(
            "integrity intact: every file matches its SHA-256 ({} files)",
            verification.files_checked
        );
    } else {
        println!(
            "integrity DAMAGED: {} file(s) fail their check",
            verification.problems.len()
        );
        for (path, problem) in &verification.problems {
            println!("  {path}: {problem}");
        }
    }
    println!("files     {}", manifest.files.len());
    for file in &manifest.files {
        let flags = [(file.encrypted, "encrypted"), (file.truncated, "truncated")]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, name)| *name)
            .collect::<Vec<_>>()
            .join(", ");
        println!(
            "  {:>10}  {}{}",
            human_bytes(file.size),
            file.path,
            if flags.is_empty() {
                String::new()
            } else {
                format!("  ({flags})")
            }
        );
    }
    for skipped in &manifest.skipped {
        println!("skipped   {}: {}", skipped.original_path, skipped.reason);
    }
    Ok(ExitCode::SUCCESS)
}
