//! `callsupport vendor-export BUNDLE --out FILE`: only the encrypted SDK and media-stack logs of
//! a bundle, with a small manifest, for the calling SDK vendor's support.

use std::path::PathBuf;
use std::process::ExitCode;

use callsupport_desk::Error;
use callsupport_desk::bundle::human_bytes;
use callsupport_desk::bundle::reader::Bundle;
use callsupport_desk::bundle::vendor::export_for_vendor;

use crate::output;

#[derive(clap::Args)]
pub struct Args {
    /// The bundle to cut the vendor's part from.
    bundle: PathBuf,
    /// Where to write the vendor's zip; must not exist yet.
    #[arg(long, value_name = "FILE.zip")]
    out: PathBuf,
}

pub fn run(args: Args, json: bool) -> Result<ExitCode, Error> {
    let mut bundle = Bundle::open(&args.bundle)?;
    let export = export_for_vendor(&mut bundle, &args.out)?;
    if json {
        output::json(&export);
    } else {
        println!(
            "wrote {} ({}, {} encrypted {}, checked against the bundle's manifest)",
            export.path.display(),
            human_bytes(export.bytes),
            export.files,
            if export.files == 1 { "file" } else { "files" }
        );
    }
    Ok(ExitCode::SUCCESS)
}
