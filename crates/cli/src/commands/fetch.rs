//! `callsupport fetch TICKET --out FILE`: a ticket's bundle from the configured ticket API, with
//! an agent token, checked against the SHA-256 the service recorded.

use std::path::PathBuf;
use std::process::ExitCode;

use callsupport_desk::Error;
use callsupport_desk::api::AGENT_TOKEN_ENV;
use callsupport_desk::bundle::human_bytes;
use callsupport_desk::config::Config;
use callsupport_desk::fetch::{FetchError, fetch_bundle};

use crate::output;

#[derive(clap::Args)]
pub struct Args {
    /// The ticket id, such as CS-000042.
    ticket: String,
    /// Where to write the bundle; must not exist yet.
    #[arg(long, value_name = "FILE.zip")]
    out: PathBuf,
    /// The environment variable that holds the agent token.
    #[arg(long, value_name = "NAME", default_value = AGENT_TOKEN_ENV)]
    token_env: String,
}

pub fn run(config: &Config, args: Args, json: bool) -> Result<ExitCode, Error> {
    let token = std::env::var(&args.token_env)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| FetchError::MissingToken(args.token_env.clone()))?;
    let fetched = output::runtime()?.block_on(fetch_bundle(
        &config.ticket_api,
        token.trim(),
        &args.ticket,
        &args.out,
        output::progress(!json),
    ));
    output::progress_done(!json);
    let fetched = fetched?;
    if json {
        output::json(&fetched);
    } else {
        println!(
            "wrote {} ({}), the bundle of {}; SHA-256 {} as the service recorded",
            fetched.path.display(),
            human_bytes(fetched.bytes),
            fetched.ticket_id,
            fetched.sha256
        );
    }
    Ok(ExitCode::SUCCESS)
}
