//! `callsupport kql CALL_ID`: the Log Analytics queries that find a call in Azure Monitor.

use std::process::ExitCode;

use callsupport_desk::Error;
use callsupport_desk::calls::kql;

use crate::output;

#[derive(clap::Args)]
pub struct Args {
    /// The call id, as the logs or a bundle show it.
    call_id: String,
}

pub fn run(args: Args, json: bool) -> Result<ExitCode, Error> {
    let queries = kql::queries(&args.call_id)?;
    if json {
        output::json(&queries);
        return Ok(ExitCode::SUCCESS);
    }
    for (i, query) in queries.iter().enumerate() {
        if i > 0 {
            println!();
        }
        println!("// {}: {}", query.table, query.title);
        println!("{}", query.text);
    }
    Ok(ExitCode::SUCCESS)
}
