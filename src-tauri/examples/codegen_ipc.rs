//! Writes `ui/src/lib/backend/generated/ipc.ts`, the command and event names of the IPC list
//! (`src/ipc.rs`), for the UI. `cargo xtask codegen` runs it; the test
//! `ipc::tests::the_committed_typescript_is_fresh` fails while the committed file is stale.
//!
//! It includes `src/ipc.rs` as it is rather than linking the app, so it builds and runs fast.

use std::path::Path;

// Only the TypeScript is used here; the rest of the module serves the crate and `build.rs`.
#[allow(dead_code)]
#[path = "../src/ipc.rs"]
mod ipc;

fn main() -> std::io::Result<()> {
    let relative = ipc::TYPESCRIPT_PATH;
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    let fresh = ipc::typescript();
    if std::fs::read_to_string(&path).ok().as_deref() == Some(fresh.as_str()) {
        eprintln!("{relative} is up to date");
        return Ok(());
    }
    std::fs::create_dir_all(path.parent().expect("has a parent"))?;
    std::fs::write(&path, fresh)?;
    eprintln!("wrote {relative}");
    Ok(())
}
