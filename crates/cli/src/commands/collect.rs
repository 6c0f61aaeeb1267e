//! `callsupport collect`: snapshot the support files into a bundle.

use std::path::PathBuf;
use std::process::ExitCode;

use callsupport_desk::Error;
use callsupport_desk::bundle::human_bytes;
use callsupport_desk::collect::{collect, scan_sources};
use callsupport_desk::config::Config;
use callsupport_desk::consent::Destination;
use callsupport_desk::policy::Policy;
use callsupport_desk::prepare::prepare;

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
    // The same road as the app's consent screen: the organisation's policy is kept there.
    let request = args.report.request(true);
    // Call-operations files are read for their calls only when the report names a call.
    let about_calls = !request.report.call_ids.is_empty();
    let (prepared, unavailable) = prepare(config, request, Destination::File, || {
        Ok(scan_sources(config, about_calls)?)
    })?;
    for err in &unavailable {
        eprintln!("warning: {err}; collecting the other sources");
    }
    if !Policy::of(config).collects_logs() {
        eprintln!(
            "note: your organisation does not allow collecting logs (privacy.allow_log_collection); the bundle holds the report and this computer's basic facts only"
        );
    }
    args.report.agree(&prepared.statement)?;
    let consent = prepared.consent(config)?;
    let written = collect(
        &prepared.plan,
        prepared.report,
        consent,
        &args.out,
        output::progress(!json),
    )?;
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
