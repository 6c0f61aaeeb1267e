//! Integration tests of `callsupport-desk`: one binary, one module an area (see `Cargo.toml`).
//!
//! Every test builds its own log tree, configuration and data folder under a temporary folder, talks
//! to the real reference ticket server started in-process on `127.0.0.1:0`, and checks bundles with
//! tools we did not write (`unzip -t`, Python's `zipfile` and `hashlib`, `sha256sum`).

mod collect; // Plan + collect into a bundle: manifest fields, zip methods, limits, cancel, streaming
mod compressed; // gzip and zip text logs: cleaned, packed again, read back by Python
mod delivery; // the outbox through a fault-injecting proxy: 200 reports, each delivered exactly once
mod desk; // api::Desk end to end: prepare_report -> ConsentView -> send_report -> stored ticket
mod detect; // detection replayed into watched logs: rules fire once, cooldown, cap, restart, rotation
mod reader; // Bundle::open / verify against hostile, hand-made zips
mod received; // Viewer::fetch_ticket from the real server: tokens, the kept copy, bad ids, cancel
mod resumable; // tus uploads to the real server: chunks, fallback, restart, lost upload or answer, 20 cuts of 200 MiB
mod sealed; // bundles sealed with age: consent, outbox, saved file, server check, viewer; Debian's age opens them
mod support; // shared fixtures: log trees, config files, external tool runners, in-process server
mod upload; // upload::Uploader against the real ticket server: receipt, idempotency, failures
mod viewer; // api::Viewer: a bundle's manifest, check and calls; a big log a window at a time
