//! `callsupport verify`: check every file of a bundle against its manifest.

use std::path::PathBuf;
use std::process::ExitCode;

use callsupport_desk::Error;
use callsupport_desk::bundle::human_bytes;
use callsupport_desk::bundle::reader::Bundle;

use crate::output;

#[derive(clap::Args)]
pub struct Args {
    /// The bundle to check.
    bundle: PathBuf,
}

pub fn run(args: Args, json: bool) -> Result<ExitCode, Error> {
    let mut bundle = Bundle::open(&args.bundle)?;
    let result = bundle.verify();
    if json {
        output::json(&serde_json::json!({
            "intact": result.intact(),
            "bundle_id": bundle.manifest.bundle_id,
            "files_checked": result.files_checked,
            "bytes_checked": result.bytes_checked,
            "problems": result.problems.iter().map(|(path, p)| serde_json::json!({"path": path, "problem": p.to_string()})).collect::<Vec<_>>(),
        }));
    } else if result.intact() {
        println!(
            "intact: {} files, {} checked against the manifest",
            result.files_checked,
            human_bytes(result.bytes_checked)
        );
    } else {
        for (path, problem) in &result.problems {
            println!("{path}: {problem}");
        }
        eprintln!(
            "error: {} is damaged: {} file(s) fail their check",
            args.bundle.display(),
            result.problems.len()
        );
    }
    Ok(if result.intact() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
