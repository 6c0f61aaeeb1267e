//! `cargo xtask bench`: release-build benchmarks against the real alternatives, in one run.

use crate::util::{cmd, root, run};

pub fn run_bench(args: &[String]) -> anyhow::Result<()> {
    let mut command = cmd(
        "cargo",
        &[
            "run",
            "--release",
            "--quiet",
            "-p",
            "callsupport-bench",
            "--",
        ],
        &root(),
    );
    command.args(args);
    run(&mut command)
}
