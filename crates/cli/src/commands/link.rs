//! `callsupport link create TICKET [--hours N] [--uses N]`: a link asking the user for more logs
//! for a ticket, made and signed by the ticket service with the agent token. The user opens it
//! with Call Support; the logs they send are added to the ticket.

use std::process::ExitCode;

use callsupport_desk::Error;
use callsupport_desk::api::AGENT_TOKEN_ENV;
use callsupport_desk::config::Config;
use callsupport_desk::fetch::{FetchError, make_link};

use crate::output;

#[derive(clap::Subcommand)]
pub enum Args {
    /// Make a link for a ticket, to send the user by chat or e-mail.
    Create {
        /// The ticket id, such as CS-000042.
        ticket: String,
        /// How long the link lasts, in hours (1 to 720; the service's default, 72, when left out).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=720))]
        hours: Option<u32>,
        /// How many reports may come through it (1 to 100; the service's default, 3, when left out).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100))]
        uses: Option<u32>,
        /// The environment variable that holds the agent token.
        #[arg(long, value_name = "NAME", default_value = AGENT_TOKEN_ENV)]
        token_env: String,
    },
}

pub fn run(config: &Config, args: Args, json: bool) -> Result<ExitCode, Error> {
    let Args::Create {
        ticket,
        hours,
        uses,
        token_env,
    } = args;
    let token = std::env::var(&token_env)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .ok_or(FetchError::MissingToken(token_env))?;
    let made = output::runtime()?.block_on(make_link(
        &config.ticket_api,
        token.trim(),
        &ticket,
        hours,
        uses,
    ))?;
    if json {
        output::json(&made);
    } else {
        println!("{}", made.url);
        eprintln!(
            "a link for {}: it opens Call Support's report form for the ticket until {}, for up to {} {}",
            made.ticket_id,
            made.expires_at,
            made.max_uses,
            if made.max_uses == 1 {
                "report"
            } else {
                "reports"
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
