//! Support bundles (`callsupport/bundle@1`): a zip of the collected files plus `manifest.json`.
//!
//! # Brief overview
//!
//! [`manifest`] is the format's contract. [`writer`] streams files into a bundle under a temporary
//! name, hashing each one in the same pass, writes the manifest last and renames the result into
//! place. [`reader`] opens a bundle as hostile input and verifies every file against the manifest;
//! [`extract`] writes its files out, checked, into a new folder.

pub mod extract;
pub mod manifest;
pub mod reader;
pub mod vendor;
pub mod writer;
pub mod zip_out;

pub use manifest::{FORMAT, Manifest};
