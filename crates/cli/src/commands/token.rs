//! `callsupport token set | status | forget`: the ticket API token in the system's credential
//! store (Secret Service, Credential Manager, Keychain), for the configured ticket API. `set`
//! reads the token from standard input, never from the command line, where shells keep history
//! and other users can read process lists.

use std::io::BufRead;
use std::process::ExitCode;

use callsupport_desk::Error;
use callsupport_desk::config::Config;
use callsupport_desk::secrets::{forget_token, store_token, stored_token};

use crate::output;

#[derive(clap::Subcommand)]
pub enum Args {
    /// Store the token read from standard input (one line) for the configured ticket API.
    Set,
    /// Say whether a token is stored (never the token).
    Status,
    /// Remove the stored token.
    Forget,
}

pub fn run(config: &Config, args: Args, json: bool) -> Result<ExitCode, Error> {
    let api = &config.ticket_api;
    let host = api.destination_host();
    let (said, value) = match args {
        Args::Set => {
            let mut token = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut token)
                .map_err(Error::io("cannot read the token from standard input"))?;
            store_token(api, &token)?;
            (format!("stored the ticket API token for {host}"), true)
        }
        Args::Status => {
            let stored = stored_token(api)?.is_some();
            (
                if stored {
                    format!("a ticket API token is stored for {host}")
                } else {
                    format!("no ticket API token is stored for {host}")
                },
                stored,
            )
        }
        Args::Forget => {
            let removed = forget_token(api)?;
            (
                if removed {
                    format!("removed the ticket API token for {host}")
                } else {
                    format!("no ticket API token was stored for {host}")
                },
                removed,
            )
        }
    };
    if json {
        output::json(&serde_json::json!({ "host": host, "stored": value, "message": said }));
    } else {
        output::line(&said);
    }
    Ok(ExitCode::SUCCESS)
}
