//! One module a subcommand; each parses its arguments and calls the core.

pub mod collect;
pub mod extract;
pub mod inspect;
pub mod sources;
pub mod submit;
pub mod verify;
