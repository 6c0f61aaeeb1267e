//! Integration tests of `callsupport-logs`: one binary, one module an area.
//!
//! Every test builds its own log tree under a temporary folder.

mod index; // the live index on real folders: changes, missing roots, rotation, bursts, links, polling
mod support; // shared fixtures: log files of a given size and shape
