//! `callsupport submit`: send a bundle to the ticket API and print the ticket id.

use std::path::PathBuf;
use std::process::ExitCode;

use callsupport_desk::Error;
use callsupport_desk::bundle::reader::Bundle;
use callsupport_desk::config::Config;
use callsupport_desk::ticket::TicketRequest;
use callsupport_desk::upload::Uploader;
use callsupport_desk::upload::retry::RetryPolicy;
use callsupport_desk::upload::slot::MemorySlot;

use crate::output;

#[derive(clap::Args)]
pub struct Args {
    /// The bundle to send.
    bundle: PathBuf,
}

pub fn run(config: &Config, args: Args, json: bool) -> Result<ExitCode, Error> {
    // Never send a damaged bundle: the server would refuse it after the whole upload. The check
    // and the whole file's hash (for the request) each read the bundle: on two threads at once.
    let (verification, request) = std::thread::scope(|scope| {
        let hashing = scope.spawn(|| TicketRequest::for_file(&args.bundle));
        let verification = Bundle::open(&args.bundle).map(|mut bundle| bundle.verify());
        (
            verification,
            hashing.join().expect("the hashing thread ends"),
        )
    });
    let verification = verification?;
    if let Some((name, problem)) = verification.problems.iter().next() {
        return Err(Error::Damaged {
            path: args.bundle.clone(),
            count: verification.problems.len(),
            first: name.clone(),
            problem: problem.to_string(),
        });
    }
    let (request, _) = request?;
    let uploader = Uploader::new(&config.ticket_api)?;
    let policy = RetryPolicy::for_api(&config.ticket_api);
    let receipt = output::runtime()?.block_on(uploader.deliver(
        &args.bundle,
        &request,
        &MemorySlot::default(),
        &policy,
        output::progress(!json),
    ))?;
    output::progress_done(!json);
    if json {
        output::json(&serde_json::json!({
            "ticket_id": receipt.ticket_id, "ticket_url": receipt.ticket_url,
            "bundle_id": request.bundle_id, "bundle_sha256": receipt.bundle_sha256, "bundle_bytes": receipt.bundle_bytes,
        }));
    } else {
        println!("{}", receipt.ticket_id);
        eprintln!(
            "sent: ticket {} ({})",
            receipt.ticket_id, receipt.ticket_url
        );
    }
    Ok(ExitCode::SUCCESS)
}
