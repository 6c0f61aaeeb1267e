//! Integration tests of the `callsupport` binary: one test binary, one module an area.
//!
//! Each test runs the built program as a subprocess with a hermetic environment (temporary `HOME`
//! and data folder, no `CALLSUPPORT_*` variables inherited) against the real ticket server started
//! in-process, and checks what it prints, its exit code, and the bundles it writes with `unzip`,
//! Python and `sha256sum`.

mod calls; // `calls` and `kql`: calls and failures from a bundle, queries for a call id
mod config; // config show / check / schema, the schema checked by Python's jsonschema
mod crash; // `report` killed at random moments, then `outbox flush`: each report exactly once
mod doctor; // `doctor` against the real server: ready, refused or missing token, unreachable, missing folder
mod errors; // bad input: exit code and exactly one `error: ` line on stderr naming the problem
mod policy; // each `[privacy]` switch locked by IT, kept by the CLI and the app's Desk alike
mod sources; // `sources`: statuses from the live index, `--watch` streaming JSON lines
mod support; // shared fixtures: the subprocess environment, config files, log tree, ticket server
mod token; // `token set/status/forget` with the real Secret Service; the token in no file
mod workflow; // collect -> unzip -t -> verify -> inspect -> submit, as text and as --json
