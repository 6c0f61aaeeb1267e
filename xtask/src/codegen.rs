//! `cargo xtask codegen`: writes the generated contracts that are committed to the repository.
//!
//! A core unit test (`api::tests::typescript_bindings_are_fresh`) fails when they are stale.

use callsupport_core::api::{TYPESCRIPT_PATH, typescript};

use crate::util::root;

pub fn run() -> anyhow::Result<()> {
    let path = root().join(TYPESCRIPT_PATH);
    let fresh = typescript();
    if std::fs::read_to_string(&path).ok().as_deref() == Some(fresh.as_str()) {
        eprintln!("{TYPESCRIPT_PATH} is up to date");
        return Ok(());
    }
    std::fs::create_dir_all(path.parent().expect("has a parent"))?;
    std::fs::write(&path, fresh)?;
    eprintln!("wrote {TYPESCRIPT_PATH}");
    Ok(())
}
