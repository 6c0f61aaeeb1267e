//! `callsupport outbox list|flush|remove ID`: the reports waiting to be delivered.

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
