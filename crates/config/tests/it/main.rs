//! Integration tests of `callsupport-config`: one binary, one module an area.
//!
//! Every test writes its configuration files under a temporary folder; nothing reads the real
//! machine-wide or user file.

mod file; // Config::load: the documented minimal file, located errors, missing file
mod layers; // machine-wide file + user file: locked keys, origins, a broken user file, changing a setting
mod policy_template; // the Group Policy template, read by Python's XML parser
