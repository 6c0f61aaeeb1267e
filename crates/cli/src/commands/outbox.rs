//! `callsupport outbox list|flush|agree ID|remove ID`: the reports waiting to be delivered. A
//! report agreed for a destination that has changed since is held, and `agree` sends it to the
//! new one once the user says so.

use std::process::ExitCode;

use callsupport_desk::Error;
use callsupport_desk::bundle::human_bytes;
use callsupport_desk::config::Config;
use callsupport_desk::outbox::{Entry, Outbox, Which};
use callsupport_desk::upload::Uploader;
use callsupport_desk::upload::retry::RetryPolicy;
use uuid::Uuid;

use crate::output;

#[derive(clap::Subcommand)]
pub enum Args {
    /// List the queued reports, with how sending them went so far.
    List,
    /// Send every queued report now (those that failed for good too, e.g. after a token fix).
    Flush,
    /// Agree that a report held because reports now go elsewhere be sent to the new destination.
    Agree {
        /// The report's bundle id, as `outbox list` shows it.
        id: String,
        /// Agree without being asked (the destination is printed all the same).
        #[arg(long)]
        yes: bool,
    },
    /// Remove a queued report without sending it.
    Remove {
        /// The report's bundle id, as `outbox list` shows it.
        id: String,
    },
}

pub fn run(config: &Config, outbox: &Outbox, args: Args, json: bool) -> Result<ExitCode, Error> {
    match args {
        Args::List => list(config, outbox, json),
        Args::Flush => flush(config, outbox, json),
        Args::Agree { id, yes } => agree(config, outbox, &id, yes, json),
        Args::Remove { id } => {
            let parsed = Uuid::parse_str(&id).map_err(|_| Error::NotAReportId(id.clone()))?;
            if !outbox
                .remove(parsed)
                .map_err(Error::io(format!("cannot remove report {id}")))?
            {
                return Err(Error::NotInOutbox(id));
            }
            if json {
                output::json(&serde_json::json!({ "removed": id }));
            } else {
                output::line(&format!("removed {id}"));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn entries(outbox: &Outbox) -> Result<Vec<Entry>, Error> {
    let (entries, problems) = outbox.list().map_err(Error::io("cannot read the outbox"))?;
    for problem in problems {
        eprintln!("warning: {problem}");
    }
    Ok(entries)
}

fn list(config: &Config, outbox: &Outbox, json: bool) -> Result<ExitCode, Error> {
    let entries = entries(outbox)?;
    let now = config.ticket_api.destination_host();
    for warning in outbox.warnings(&entries, config.outbox.limits(), chrono::Utc::now()) {
        eprintln!("warning: {warning}");
    }
    if json {
        let rows: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "id": e.id, "summary": e.queued.request.report.summary,
                    "queued_at": e.queued.queued_at, "destination": e.queued.destination,
                    "bytes": e.bytes, "attempts": e.attempts,
                    "held_for": (e.queued.destination != now).then_some(&now),
                })
            })
            .collect();
        output::json(&serde_json::Value::Array(rows));
        return Ok(ExitCode::SUCCESS);
    }
    if entries.is_empty() {
        output::line("the outbox is empty");
    }
    for entry in &entries {
        let state = match &entry.attempts.last_error {
            _ if entry.queued.destination != now => format!(
                "held: agreed for {}, reports now go to {now} (`callsupport outbox agree {}`)",
                entry.queued.destination, entry.id
            ),
            None => "queued".to_owned(),
            Some(error) if error.retryable => format!("will retry: {}", error.message),
            Some(error) => format!("failed: {}", error.message),
        };
        output::line(&format!(
            "{}  {}  {}  \"{}\"  {state}",
            entry.id,
            entry.queued.queued_at.format("%Y-%m-%d %H:%M"),
            human_bytes(entry.bytes),
            entry.queued.request.report.summary
        ));
    }
    Ok(ExitCode::SUCCESS)
}

fn agree(
    config: &Config,
    outbox: &Outbox,
    id: &str,
    yes: bool,
    json: bool,
) -> Result<ExitCode, Error> {
    let parsed = Uuid::parse_str(id).map_err(|_| Error::NotAReportId(id.to_owned()))?;
    let entry = outbox
        .get(parsed)
        .map_err(|_| Error::NotInOutbox(id.to_owned()))?;
    let now = config.ticket_api.destination_host();
    eprintln!(
        "Report {id} (\"{}\") was agreed to go to {}. Agreeing sends it to {now} instead.",
        entry.queued.request.report.summary, entry.queued.destination
    );
    if !yes {
        crate::commands::report_args::ask()?;
    } else {
        eprintln!("Agreed (--yes).");
    }
    let entry = outbox.agree_destination(parsed, &now)?;
    if json {
        output::json(&serde_json::json!({ "id": id, "destination": entry.queued.destination }));
    } else {
        output::line(&format!(
            "{id}  agreed for {now}; `callsupport outbox flush` sends it"
        ));
    }
    Ok(ExitCode::SUCCESS)
}

fn flush(config: &Config, outbox: &Outbox, json: bool) -> Result<ExitCode, Error> {
    let waiting = entries(outbox)?.len();
    if waiting == 0 {
        if json {
            output::json(&serde_json::json!({ "delivered": [], "failed": [] }));
        } else {
            output::line("the outbox is empty");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let uploader = Uploader::new(&config.ticket_api)?;
    let policy = RetryPolicy::for_api(&config.ticket_api);
    let summary = output::runtime()?
        .block_on(outbox.flush(&uploader, &policy, Which::All, |_| output::progress(!json)))
        .map_err(Error::io("cannot read the outbox"))?;
    output::progress_done(!json);
    if json {
        output::json(
            &serde_json::json!({ "delivered": summary.delivered, "failed": summary.failed }),
        );
    } else {
        for sent in &summary.delivered {
            output::line(&format!(
                "{}  sent: ticket {}",
                sent.bundle_id, sent.ticket_id
            ));
        }
        for failed in &summary.failed {
            output::line(&format!("{}  not sent: {}", failed.id, failed.message));
        }
    }
    if let Some(first) = summary.failed.first() {
        eprintln!(
            "error: {} of {waiting} report(s) not sent; they stay in the outbox",
            summary.failed.len()
        );
        return Ok(ExitCode::from(crate::exit_code(first.code)));
    }
    Ok(ExitCode::SUCCESS)
}
