//! `cargo xtask codegen`: writes the generated contracts that are committed to the repository:
//! the TypeScript bindings of the IPC types and the configuration's JSON Schema.
//!
//! Core unit tests (`api::tests::typescript_bindings_are_fresh`,
//! `config::schema::tests::the_committed_schema_is_fresh`) fail when they are stale.

use callsupport_core::api::{TYPESCRIPT_PATH, typescript};
use callsupport_core::config::{SCHEMA_PATH, json_schema};

use crate::util::root;

pub fn run() -> anyhow::Result<()> {
    write(TYPESCRIPT_PATH, typescript())?;
    write(SCHEMA_PATH, json_schema())
}

fn write(relative: &str, fresh: String) -> anyhow::Result<()> {
    let path = root().join(relative);
    if std::fs::read_to_string(&path).ok().as_deref() == Some(fresh.as_str()) {
        eprintln!("{relative} is up to date");
        return Ok(());
    }
    std::fs::create_dir_all(path.parent().expect("has a parent"))?;
    std::fs::write(&path, fresh)?;
    eprintln!("wrote {relative}");
    Ok(())
}
