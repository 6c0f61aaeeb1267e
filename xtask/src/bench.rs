//! `cargo xtask bench`: release-build benchmarks against the real alternatives, in one run.

use crate::deps;
use crate::util::{cmd, root, run};

/// Debian packages the benchmarks compare against.
const BENCH: &[(&str, &str)] = &[
    ("zip", "Info-ZIP's zip, which bundles are compared with"),
    ("findutils", "find, which the index is compared with"),
];

pub fn run_bench(args: &[String]) -> anyhow::Result<()> {
    deps::packages(&[BENCH])?;
    let root = root();
    run(&mut cmd(
        "cargo",
        &[
            "build",
            "--release",
            "--quiet",
            "-p",
            "callsupport-cli",
            "-p",
            "callsupport-bench",
        ],
        &root,
    ))?;
    let mut command = cmd(
        root.join("target/release/callsupport-bench")
            .to_str()
            .expect("utf-8 path"),
        &[],
        &root,
    );
    command.args(args);
    run(&mut command)
}
