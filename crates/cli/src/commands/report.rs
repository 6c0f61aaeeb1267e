//! `callsupport report`: collect a bundle into the outbox and send it, as the app's *Send* does.
//! A report that cannot be sent now stays queued; `callsupport outbox flush` sends it later.

use std::process::ExitCode;

use callsupport_desk::Error;
use callsupport_desk::config::Config;
use callsupport_desk::consent::Destination;
use callsupport_desk::outbox::Outbox;
use callsupport_desk::upload::Uploader;
use callsupport_desk::upload::retry::RetryPolicy;

use super::report_args::ReportArgs;
use crate::output;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    report: ReportArgs,
}

pub fn run(config: &Config, outbox: &Outbox, args: Args, json: bool) -> Result<ExitCode, Error> {
    // Checked before collecting: without a token there is no point in packing anything.
    let uploader = Uploader::new(&config.ticket_api)?;
    let destination = Destination::TicketApi {
        organisation: config.ticket_api.organisation.clone(),
        host: config.ticket_api.destination_host(),
    };
    // The same road as the app's consent screen: the organisation's policy is kept there.
    let (prepared, consent) = args.report.prepare_agreed(config, destination)?;
    let entry = outbox.queue(
        &prepared.plan,
        prepared.report,
        consent,
        config.ticket_api.destination_host(),
        output::progress(!json),
    )?;
    let policy = RetryPolicy::for_api(&config.ticket_api);
    let delivered = output::runtime()?.block_on(outbox.deliver(
        &entry,
        &uploader,
        &policy,
        output::progress(!json),
    ));
    output::progress_done(!json);
    let delivered = delivered.map_err(|err| match err {
        Error::Upload(_) => Error::Queued {
            id: entry.id,
            source: Box::new(err),
        },
        other => other,
    })?;
    if json {
        output::json(&serde_json::to_value(&delivered).expect("serializes"));
    } else {
        output::line(&delivered.ticket_id);
        eprintln!(
            "sent: ticket {} ({})",
            delivered.ticket_id, delivered.ticket_url
        );
    }
    Ok(ExitCode::SUCCESS)
}
