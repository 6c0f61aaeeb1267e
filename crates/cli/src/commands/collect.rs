//! `callsupport collect`: snapshot the support files into a bundle.

use std::path::PathBuf;
use std::process::ExitCode;

use callsupport_desk::Error;
use callsupport_desk::bundle::human_bytes;
use callsupport_desk::collect::collect;
use callsupport_desk::config::Config;
use callsupport_desk::consent::Destination;

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
    let (prepared, consent) = args.report.prepare_agreed(config, Destination::File)?;
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
