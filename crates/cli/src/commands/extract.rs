//! `callsupport extract`: write a bundle's files into a new folder, each checked on the way out.

use std::path::PathBuf;
use std::process::ExitCode;

use callsupport_desk::Error;
use callsupport_desk::bundle::extract::{Unlisted, extract};
use callsupport_desk::bundle::human_bytes;
use callsupport_desk::bundle::reader::Bundle;

use crate::output;

#[derive(clap::Args)]
pub struct Args {
    /// The bundle to extract.
    bundle: PathBuf,
    /// The folder to extract into; it must be new or empty. Nothing is written outside it.
    #[arg(long, value_name = "DIR")]
    to: PathBuf,
    /// Extract the listed files of a bundle that also holds entries its manifest does not list,
    /// leaving those out (they are named). Without it, such a bundle is refused.
    #[arg(long)]
    leave_out_unlisted: bool,
}

pub fn run(args: Args, json: bool) -> Result<ExitCode, Error> {
    let mut bundle = Bundle::open(&args.bundle)?;
    let unlisted = if args.leave_out_unlisted {
        Unlisted::LeaveOut
    } else {
        Unlisted::Refuse
    };
    let extracted = extract(&mut bundle, &args.to, unlisted)?;
    if json {
        output::json(&serde_json::json!({
            "folder": extracted.folder, "files": extracted.files, "bytes": extracted.bytes,
            "left_out": extracted.left_out,
        }));
    } else {
        println!(
            "extracted {} files ({}) to {}, each matching its SHA-256",
            extracted.files,
            human_bytes(extracted.bytes),
            extracted.folder.display()
        );
        for name in &extracted.left_out {
            println!("left out `{name}`: the manifest does not list it");
        }
    }
    Ok(ExitCode::SUCCESS)
}
