//! `callsupport collect`: snapshot the support files into a bundle.

use std::path::PathBuf;
use std::process::ExitCode;

use callsupport_desk::Error;
use callsupport_desk::bundle::human_bytes;
use callsupport_desk::collect::{Plan, collect};
use callsupport_desk::config::Config;
use callsupport_desk::consent::{Destination, Statement};

use super::report_args::ReportArgs;
use crate::output;

#[derive(clap::Args)]
pub struct Args {
    /// Where to write the bundle (`.zip`); must not exist yet.
    #[arg(long, value_name = "FILE.zip")]
    out: PathBuf,
    #[command(flatten)]
    report: ReportArgs,
}

pub fn run(config: &Config, args: Args, json: bool) -> Result<ExitCode, Error> {
    let report = args.report.report()?;
    let (plan, unavailable) = Plan::from_config_for_calls(config, &report.call_ids)?;
    for err in &unavailable {
        eprintln!("warning: {err}; collecting the other sources");
    }
    // Whoever runs the CLI is the one agreeing; the record says what the bundle holds.
    let statement = Statement::new(&plan, &Destination::File, config.privacy.redact);
    let consent = statement.agreed(&Destination::File, config.privacy.redact);
    let written = collect(&plan, report, consent, &args.out, output::progress(!json))?;
    output::progress_done(!json);
    if json {
        output::json(&serde_json::json!({
            "path": written.path, "bundle_id": written.manifest.bundle_id, "sha256": written.sha256,
            "bytes": written.bytes, "files": written.manifest.files.len(), "skipped": written.manifest.skipped.len(),
        }));
    } else {
        println!(
            "wrote {} ({}, {} files, {} skipped), bundle {}",
            written.path.display(),
            human_bytes(written.bytes),
            written.manifest.files.len(),
            written.manifest.skipped.len(),
            written.manifest.bundle_id
        );
    }
    Ok(ExitCode::SUCCESS)
}
