//! `callsupport`: Call Support's use cases for scripts, IT and support agents, without a display.
//!
//! Every command takes `--config FILE` (or `CALLSUPPORT_CONFIG`) and `--json`; it exits 0 on success
//! and otherwise prints one line saying what went wrong and what to do, and exits non-zero.

mod commands;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use callsupport_desk::api::default_data_dir;
use callsupport_desk::applog::{self, AppLog};
use callsupport_desk::config::{Config, ConfigFiles, load_layered};
use callsupport_desk::outbox::Outbox;
use callsupport_desk::{Error, ErrorCode};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "callsupport",
    version,
    about = "Collect, check and send Call Support bundles"
)]
struct Cli {
    /// Configuration file (default: the CALLSUPPORT_CONFIG environment variable).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print results as JSON on standard output.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the configured log sources, their status and the support files each holds now.
    Sources(commands::sources::Args),
    /// Collect the current support files into a bundle.
    Collect(commands::collect::Args),
    /// Send a bundle to the configured ticket API and print the ticket id.
    Submit(commands::submit::Args),
    /// Collect a bundle into the outbox and send it; what cannot be sent now stays queued.
    Report(commands::report::Args),
    /// The reports waiting to be delivered: list, flush (send now) or remove one.
    #[command(subcommand)]
    Outbox(commands::outbox::Args),
    /// Check every file of a bundle against its manifest.
    Verify(commands::verify::Args),
    /// Show a bundle's report, host facts and files without extracting it.
    Inspect(commands::inspect::Args),
    /// Write a bundle's files into a new folder, checking each against the manifest.
    Extract(commands::extract::Args),
    /// List the calls in a bundle's call-operations logs, with their failures.
    Calls(commands::calls::Args),
    /// Print the Log Analytics (KQL) queries that find a call in Azure Monitor.
    Kql(commands::kql::Args),
    /// Write only a bundle's encrypted SDK logs, with a small manifest, for the SDK vendor.
    VendorExport(commands::vendor_export::Args),
    /// Open a bundle sealed for the organisation's keys into a plain bundle, with an identity.
    Unseal(commands::unseal::Args),
    /// Download a ticket's bundle (or one added to it later) from the ticket API with an agent
    /// token.
    Fetch(commands::fetch::Args),
    /// Links asking a user for more logs for a ticket, made by the ticket API with an agent token.
    #[command(subcommand)]
    Link(commands::link::Args),
    /// The configuration: show what is in effect, check a file, print the JSON Schema.
    #[command(subcommand)]
    Config(commands::config::Args),
    /// Check that this computer is ready to send reports: configuration, log folders, the ticket
    /// API and its token, disk space, the link handler.
    Doctor,
    /// The ticket API token in the system's credential store: set (from standard input),
    /// status, forget.
    #[command(subcommand)]
    Token(commands::token::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    // Our own log, which bundles carry; without a writable data folder the command runs unlogged.
    let _ = AppLog::open(&default_data_dir(), log::LevelFilter::Info).map(AppLog::install);
    log::info!(
        "callsupport {} {}",
        callsupport_desk::VERSION,
        std::env::args().nth(1).unwrap_or_default()
    );
    let result = match cli.command {
        Command::Sources(args) => {
            load(cli.config).and_then(|c| commands::sources::run(&c, args, json))
        }
        Command::Collect(args) => {
            load(cli.config).and_then(|c| commands::collect::run(&c, args, json))
        }
        Command::Submit(args) => {
            load(cli.config).and_then(|c| commands::submit::run(&c, args, json))
        }
        Command::Report(args) => load(cli.config)
            .and_then(|c| Ok((c, outbox()?)))
            .and_then(|(c, o)| commands::report::run(&c, &o, args, json)),
        Command::Outbox(args) => load(cli.config)
            .and_then(|c| Ok((c, outbox()?)))
            .and_then(|(c, o)| commands::outbox::run(&c, &o, args, json)),
        Command::Verify(args) => commands::verify::run(args, json),
        Command::Inspect(args) => commands::inspect::run(args, json),
        Command::Extract(args) => commands::extract::run(args, json),
        Command::Calls(args) => commands::calls::run(args, json),
        Command::Kql(args) => commands::kql::run(args, json),
        Command::VendorExport(args) => commands::vendor_export::run(args, json),
        Command::Unseal(args) => commands::unseal::run(args, json),
        Command::Fetch(args) => load(cli.config).and_then(|c| commands::fetch::run(&c, args, json)),
        Command::Link(args) => load(cli.config).and_then(|c| commands::link::run(&c, args, json)),
        Command::Config(args) => commands::config::run(cli.config, args, json),
        Command::Doctor => commands::doctor::run(cli.config, json),
        Command::Token(args) => load(cli.config).and_then(|c| commands::token::run(&c, args, json)),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            output::error(&err, json);
            ExitCode::from(exit_code(err.code()))
        }
    }
}

/// The machine-wide file under the user's (`--config`, `CALLSUPPORT_CONFIG` or their own).
fn load(explicit: Option<PathBuf>) -> Result<Config, Error> {
    let layered = load_layered(&ConfigFiles::locate(explicit.as_deref()))?;
    for ignored in &layered.ignored {
        eprintln!("warning: {ignored}");
    }
    let mut config = layered.config;
    applog::add_source(&mut config, &default_data_dir());
    for note in &config.notes {
        eprintln!("note: {note}");
    }
    for problem in &config.problems {
        eprintln!("warning: {problem}; this source is left out");
    }
    Ok(config)
}

/// The outbox of this user's data folder (`CALLSUPPORT_DATA_DIR` moves it).
fn outbox() -> Result<Outbox, Error> {
    let data_dir = default_data_dir();
    Outbox::open(&data_dir).map_err(Error::io(format!(
        "cannot open the outbox in {}",
        data_dir.display()
    )))
}

/// Exit codes scripts can tell apart: 1 general, 3 configuration, 4 network, 5 refused by the server.
pub(crate) fn exit_code(code: ErrorCode) -> u8 {
    match code {
        ErrorCode::ConfigInvalid => 3,
        ErrorCode::Unreachable | ErrorCode::ServerBusy => 4,
        ErrorCode::Unauthorized | ErrorCode::Rejected => 5,
        _ => 1,
    }
}
