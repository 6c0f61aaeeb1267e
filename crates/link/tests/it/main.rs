//! The link crate's tests: links signed, read back, checked; every edit and every bad shape
//! refused with its own reason.

mod keys;
mod links;
