//! One module a subcommand; each parses its arguments and calls `callsupport-desk`.

pub mod calls;
pub mod collect;
pub mod config;
pub mod doctor;
pub mod extract;
pub mod fetch;
pub mod inspect;
pub mod kql;
pub mod link;
pub mod outbox;
pub mod report;
mod report_args;
pub mod sources;
pub mod submit;
pub mod token;
pub mod unseal;
pub mod vendor_export;
pub mod verify;
