//! `callsupport unseal BUNDLE --identity FILE --out FILE.zip`: a bundle sealed with age for the
//! organisation's keys, opened with one of them into a plain bundle the other commands read.

use std::path::PathBuf;
use std::process::ExitCode;

use callsupport_desk::Error;
use callsupport_desk::bundle::human_bytes;

use crate::output;

#[derive(clap::Args)]
pub struct Args {
    /// The sealed bundle (as saved, fetched or stored).
    bundle: PathBuf,
    /// An age identity file (`age-keygen -o FILE`) whose key the bundle was sealed for.
    #[arg(long, value_name = "FILE", env = "CALLSUPPORT_IDENTITY")]
    identity: PathBuf,
    /// Where to write the opened bundle; must not exist yet.
    #[arg(long, value_name = "FILE.zip")]
    out: PathBuf,
}

pub fn run(args: Args, json: bool) -> Result<ExitCode, Error> {
    let bytes = callsupport_desk::unseal::unseal_file(&args.bundle, &args.identity, &args.out)?;
    if json {
        output::json(&serde_json::json!({ "path": args.out, "bytes": bytes }));
    } else {
        println!(
            "wrote {} ({}); check it with `callsupport verify`",
            args.out.display(),
            human_bytes(bytes)
        );
    }
    Ok(ExitCode::SUCCESS)
}
