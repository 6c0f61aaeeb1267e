//! `cargo xtask codegen`: writes the generated contracts that are committed to the repository
//! (the TypeScript of the IPC types, the configuration's JSON Schema) by running the example that
//! makes them. xtask itself links none of the product's crates, so it builds on a machine that
//! has none of their system libraries yet.

use crate::util::{cmd, root, run};

pub fn run_codegen() -> anyhow::Result<()> {
    run(&mut cmd(
        "cargo",
        &[
            "run",
            "--quiet",
            "-p",
            "callsupport-desk",
            "--example",
            "codegen",
        ],
        &root(),
    ))
}
