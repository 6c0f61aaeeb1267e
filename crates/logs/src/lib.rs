//! The calling logs on this machine and in bundles: where they are, what they hold, and what they
//! say went wrong.
//!
//! # Brief overview
//!
//! [`sources`] resolves a configured source and lists its support files ([`sources::scan`], one
//! shot); [`index`] keeps the same records up to date from file-system events (`notify`, with a
//! polling fallback), so screens never scan the disk. [`tail`] reads a growing log from where it
//! stopped, across restarts and rotation. [`calls`] reads call client operations records (from
//! files, bundles or Azure Monitor exports) into calls with their failures, and writes the Log
//! Analytics queries for a call. [`detect`] judges each call once it is over and decides, within
//! its limits, whether to ask the user to report it.
//!
//! Nothing here writes to a source: files are opened read-only, for as long as a read needs.
//! The `ts` feature derives the TypeScript declarations of the types the app's window shows.

pub mod calls;
pub mod detect;
pub mod file_id;
pub mod index;
pub mod sources;
pub mod tail;
