//! `callsupport fetch TICKET --out FILE [--added BUNDLE_ID]`: a ticket's bundle (or one added to
//! it later, when support asked for more logs) from the configured ticket API, with an agent
//! token, checked against the SHA-256 the service recorded. The bundles added to the ticket are
//! listed either way.

use std::path::PathBuf;
use std::process::ExitCode;

use callsupport_desk::Error;
use callsupport_desk::api::AGENT_TOKEN_ENV;
use callsupport_desk::bundle::human_bytes;
use callsupport_desk::config::Config;
use callsupport_desk::fetch::{FetchError, fetch_added, fetch_bundle};

use crate::output;

#[derive(clap::Args)]
pub struct Args {
    /// The ticket id, such as CS-000042.
    ticket: String,
    /// Where to write the bundle; must not exist yet.
    #[arg(long, value_name = "FILE.zip")]
    out: PathBuf,
    /// Download this bundle added to the ticket later (its id, as the ticket's list shows it)
    /// instead of the ticket's own.
    #[arg(long, value_name = "BUNDLE_ID")]
    added: Option<String>,
    /// The environment variable that holds the agent token.
    #[arg(long, value_name = "NAME", default_value = AGENT_TOKEN_ENV)]
    token_env: String,
}

pub fn run(config: &Config, args: Args, json: bool) -> Result<ExitCode, Error> {
    let token = std::env::var(&args.token_env)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| FetchError::MissingToken(args.token_env.clone()))?;
    let runtime = output::runtime()?;
    let (api, token, out) = (&config.ticket_api, token.trim(), &args.out);
    let fetched = match &args.added {
        None => runtime.block_on(fetch_bundle(
            api,
            token,
            &args.ticket,
            out,
            output::progress(!json),
        )),
        Some(bundle) => runtime.block_on(fetch_added(
            api,
            token,
            &args.ticket,
            bundle,
            out,
            output::progress(!json),
        )),
    };
    output::progress_done(!json);
    let fetched = fetched?;
    if json {
        output::json(&fetched);
        return Ok(ExitCode::SUCCESS);
    }
    let which = match &fetched.bundle_id {
        None => format!("the bundle of {}", fetched.ticket_id),
        Some(bundle) => format!("bundle {bundle}, added to {}", fetched.ticket_id),
    };
    println!(
        "wrote {} ({}), {which}; SHA-256 {} as the service recorded",
        fetched.path.display(),
        human_bytes(fetched.bytes),
        fetched.sha256
    );
    if !fetched.added.is_empty() {
        println!(
            "{} added to {} later (fetch one with --added BUNDLE_ID):",
            match fetched.added.len() {
                1 => "1 bundle was".to_owned(),
                n => format!("{n} bundles were"),
            },
            fetched.ticket_id
        );
        for added in &fetched.added {
            println!(
                "  {}  {}  {:>9}  {}",
                added.bundle_id,
                added.created_at,
                human_bytes(added.bundle_bytes),
                added.summary
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
