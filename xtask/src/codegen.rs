//! `cargo xtask codegen`: writes the generated contracts that are committed to the repository
//! (the TypeScript of the IPC types, the configuration's JSON Schema, the IPC command and event
//! names) by running the examples that make them. xtask itself links none of the product's crates,
//! so it builds on a machine that has none of their system libraries yet.

use crate::util::{cmd, root, run};

/// Each package's example that writes its contracts (the names differ: examples of one
/// workspace share a folder): `callsupport-desk` the IPC types (`generated/types.ts`) and the
/// schema, the app the names of `src-tauri/src/ipc.rs` (`generated/ipc.ts`).
const WRITERS: &[(&str, &str)] = &[
    ("callsupport-desk", "codegen_types"),
    ("callsupport-app", "codegen_ipc"),
];

pub fn run_codegen() -> anyhow::Result<()> {
    for (package, example) in WRITERS {
        run(&mut cmd(
            "cargo",
            &["run", "--quiet", "-p", package, "--example", example],
            &root(),
        ))?;
    }
    Ok(())
}
