//! Progress of the long operations, reported through a callback the caller supplies.
//!
//! A long operation calls `on_progress(Progress) -> bool`; returning `false` asks it to stop, and it then
//! removes whatever it had started writing. The app forwards these values over a Tauri channel, the
//! CLI prints them.

use serde::Serialize;

/// A stage of making and sending a report, or of receiving one, with the numbers the UI shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum Progress {
    /// Copying and packing the files into the bundle.
    Collecting {
        files_done: u32,
        files_total: u32,
        bytes_done: u64,
        bytes_total: u64,
    },
    /// Sending the bundle to the ticket API.
    Uploading {
        bytes_sent: u64,
        bytes_total: u64,
        bytes_per_second: u64,
    },
    /// A send failed in a way time can fix; the next attempt starts in `wait_seconds`.
    Retrying {
        /// The attempt about to be made (2 for the first retry).
        attempt: u32,
        attempts: u32,
        wait_seconds: u64,
        /// What went wrong, in words.
        reason: String,
    },
    /// Waiting for the server to check and store what it received.
    Confirming,
    /// Receiving a ticket's bundle from the ticket API (the support agent's side).
    Downloading {
        bytes_received: u64,
        bytes_total: u64,
    },
}
