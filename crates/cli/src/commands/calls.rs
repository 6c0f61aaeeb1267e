//! `callsupport calls FILE…`: every call in a bundle's call-operations logs, with its failures.
//! More files merge into the same calls by call id: JSON-lines files of call client operations
//! records (Azure Monitor exports from a storage account or Log Analytics) or other bundles; a
//! record found twice counts once.

use std::path::PathBuf;
use std::process::ExitCode;

use callsupport_desk::Error;
use callsupport_desk::calls::{self, Call, Operation};

use crate::output;

#[derive(clap::Args)]
pub struct Args {
    /// A bundle, or a JSON-lines file of call client operations records; more files are merged
    /// by call id.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

pub fn run(args: Args, json: bool) -> Result<ExitCode, Error> {
    let mut log = calls::CallLog::default();
    for path in &args.files {
        log.read_file(path)?;
    }
    let found = log.finish();
    if json {
        output::json(&found);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} in {} ({} records{}{})",
        plural(found.calls.len(), "call"),
        plural(found.files.len(), "call-operations file"),
        found.records,
        if found.duplicates > 0 {
            format!("; {} seen twice, counted once", found.duplicates)
        } else {
            String::new()
        },
        if found.malformed > 0 {
            format!(
                "; {} not readable",
                plural(found.malformed as usize, "line")
            )
        } else {
            String::new()
        }
    );
    for call in &found.calls {
        println!();
        print_call(call);
    }
    for problem in &found.problems {
        eprintln!(
            "note: {} line {}: {}",
            problem.file, problem.line, problem.reason
        );
    }
    if found.malformed > found.problems.len() as u64 {
        eprintln!(
            "note: and {} more lines not readable",
            found.malformed - found.problems.len() as u64
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_call(call: &Call) {
    let start = call.start.map_or("time unknown".to_owned(), |s| {
        s.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    });
    let length = call.duration().map_or(String::new(), |d| {
        format!(", {}", seconds(d.num_milliseconds().max(0) as u64))
    });
    println!(
        "call {}  {start}{length}, {}, {}, {}",
        call.call_id,
        plural(call.participants.len(), "participant"),
        plural(call.operations.len(), "operation"),
        match call.failures {
            0 => "no failures".to_owned(),
            n => format!("{n} failed"),
        }
    );
    for operation in call.failed_operations() {
        print_failure(operation);
    }
}

fn print_failure(operation: &Operation) {
    let at = operation.at.map_or("--:--:--".to_owned(), |at| {
        at.format("%H:%M:%S").to_string()
    });
    let signature = operation
        .result_signature
        .map_or(String::new(), |s| format!(" {s}"));
    println!(
        "  FAILED {at}  {}  {}{signature}  after {}",
        operation.name,
        operation.result_type,
        seconds(operation.duration_ms)
    );
    if let Some(payload) = operation
        .failure
        .as_ref()
        .and_then(|f| f.payload.as_deref())
    {
        println!("         {payload}");
    }
}

fn seconds(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {} s", ms / 60_000, ms % 60_000 / 1000),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
