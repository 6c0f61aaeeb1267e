//! Writes the generated contracts committed to the repository: the TypeScript of the IPC types,
//! the configuration's JSON Schema and its Group Policy template. `cargo xtask codegen` runs it.
//!
//! Unit tests (`api::typescript::tests::typescript_bindings_are_fresh`, in callsupport-config
//! `schema::tests::the_committed_schema_is_fresh` and `admx::tests::the_committed_template_is_fresh`)
//! fail when the committed files are stale.

use std::path::Path;

use callsupport_desk::api::{TYPESCRIPT_PATH, typescript};
use callsupport_desk::config::admx::{ADML_PATH, ADMX_PATH, adml, admx};
use callsupport_desk::config::{SCHEMA_PATH, json_schema};

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for (relative, fresh) in [
        (TYPESCRIPT_PATH, typescript()),
        (SCHEMA_PATH, json_schema()),
        (ADMX_PATH, admx()),
        (ADML_PATH, adml()),
    ] {
        let path = root.join(relative);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(fresh.as_str()) {
            eprintln!("{relative} is up to date");
            continue;
        }
        std::fs::create_dir_all(path.parent().expect("has a parent"))?;
        std::fs::write(&path, fresh)?;
        eprintln!("wrote {relative}");
    }
    Ok(())
}
