//! `cargo xtask bench`: release-build benchmarks against the real alternatives, in one run, and a
//! fixed-time fuzzing run of the bundle reader.
//!
//! `cargo xtask bench [index|redaction|bundle|privacy|calls|viewer|upload|backends|app|fuzz] [--idle-secs N] [--fuzz-secs N]`;
//! without a part it runs them all. `app` builds the UI and the desktop app in release, beside a
//! bare Tauri window, and runs both on a private X display. Fuzzing needs the nightly toolchain (sanitizers) and `cargo-fuzz`, which
//! is installed from crates.io when missing.

use std::path::Path;

use anyhow::{Context, bail};

use crate::deps;
use crate::util::{cmd, output, root, run, which};

/// Debian packages the benchmarks compare against.
const BENCH: &[(&str, &str)] = &[
    ("zip", "Info-ZIP's zip, which bundles are compared with"),
    ("age", "age, which sealing bundles is compared with"),
    ("curl", "curl, which uploads are compared with"),
    ("findutils", "find, which the index is compared with"),
    ("jq", "jq, which reading call records is compared with"),
    (
        "postgresql",
        "PostgreSQL, the shared ticket database of the server's backends benchmark",
    ),
    (
        "xvfb",
        "a virtual display for the app's start, open time and memory",
    ),
    (
        "xdotool",
        "presses the report shortcut and watches windows appear",
    ),
    (
        "dbus-daemon",
        "a private session bus for the app (single instance, tray)",
    ),
];

const FUZZ_TARGET: &str = "bundle_reader";

pub fn run_bench(args: &[String]) -> anyhow::Result<()> {
    let mut forwarded = Vec::new();
    let (mut fuzz, mut parts, mut fuzz_secs) = (false, 0, 60u64);
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "fuzz" => fuzz = true,
            "--fuzz-secs" => {
                fuzz_secs = rest
                    .next()
                    .and_then(|s| s.parse().ok())
                    .context("--fuzz-secs needs a number of seconds")?;
            }
            "index" | "redaction" | "bundle" | "privacy" | "calls" | "viewer" | "upload"
            | "backends" | "hostile" | "app" => {
                parts += 1;
                forwarded.push(arg.clone());
            }
            _ => forwarded.push(arg.clone()),
        }
    }
    let everything = !fuzz && parts == 0;
    deps::packages(&[BENCH])?;
    if everything || forwarded.iter().any(|a| a == "backends") {
        deps::azurite()?;
    }
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
            "callsupport-ticket-server",
            "-p",
            "callsupport-bench",
        ],
        &root,
    ))?;
    if everything || forwarded.iter().any(|a| a == "app") {
        // The app embeds the UI: build it first, then the app, its tray agent and the bare window.
        run(&mut cmd(
            "npm",
            &["run", "--silent", "build"],
            &root.join("ui"),
        ))?;
        run(&mut cmd(
            "cargo",
            &[
                "build",
                "--release",
                "--quiet",
                "-p",
                "callsupport-app",
                "-p",
                "callsupport-tray",
                "-p",
                "bare-window",
            ],
            &root,
        ))?;
    }
    let bench = root.join("target/release/callsupport-bench");
    let bench = bench.to_str().expect("utf-8 path");
    if everything || parts > 0 {
        let mut command = cmd(bench, &[], &root);
        command.args(&forwarded);
        if everything || forwarded.iter().any(|a| a == "bundle") {
            // `collect` by the Windows build too, under Wine, on the same corpus.
            deps::packages(&[crate::windows::PACKAGES])?;
            let windows = crate::windows::Windows::prepare(&root)?;
            run(&mut windows.cargo(
                "build",
                &["--locked", "--release", "--quiet", "-p", "callsupport-cli"],
            ))?;
            let exe = windows.out_dir("release").join("callsupport.exe");
            command.env("CALLSUPPORT_BENCH_WINE_CLI", exe);
            windows.wine_env(&mut command);
        }
        run(&mut command)?;
    }
    if everything || fuzz {
        fuzz_reader(&root, bench, fuzz_secs)?;
    }
    Ok(())
}

/// Fuzzes the bundle reader for `secs` seconds from seed bundles made by the writer; fails on
/// any crash, leak, timeout or out-of-memory, leaving the input in `fuzz/artifacts/`.
fn fuzz_reader(root: &Path, bench: &str, secs: u64) -> anyhow::Result<()> {
    let toolchains = output(&mut cmd("rustup", &["toolchain", "list"], root))?;
    if !toolchains.lines().any(|l| l.starts_with("nightly")) {
        bail!(
            "fuzzing needs the nightly toolchain (for the sanitizers), and this machine has none"
        );
    }
    if which("cargo-fuzz").is_none() {
        eprintln!("Installing cargo-fuzz (libFuzzer for Rust) from crates.io");
        run(&mut cmd(
            "cargo",
            &["install", "cargo-fuzz", "--version", "^0.13", "--locked"],
            root,
        ))?;
    }
    let seeds = root.join("target/fuzz-seeds");
    let corpus = root.join("target/fuzz-corpus");
    std::fs::create_dir_all(&corpus)?;
    run(&mut cmd(
        bench,
        &["--fuzz-seeds", seeds.to_str().expect("utf-8 path")],
        root,
    ))?;
    let max_time = format!("-max_total_time={secs}");
    let mut fuzz = cmd(
        "cargo",
        &[
            "+nightly",
            "fuzz",
            "run",
            FUZZ_TARGET,
            corpus.to_str().expect("utf-8 path"),
            seeds.to_str().expect("utf-8 path"),
            "--",
            &max_time,
            "-rss_limit_mb=1024",
            "-timeout=10",
            "-print_final_stats=1",
        ],
        root,
    );
    eprintln!("$ cargo +nightly fuzz run {FUZZ_TARGET} … {max_time}");
    let result = fuzz
        .output()
        .context("cannot start `cargo +nightly fuzz`")?;
    let log = String::from_utf8_lossy(&result.stderr);
    let stat = |name: &str| {
        log.lines()
            .find_map(|l| l.strip_prefix(&format!("stat::{name}:")))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| "?".to_owned())
    };
    if !result.status.success() {
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "fuzzing the bundle reader failed ({}); the input is in fuzz/artifacts/{FUZZ_TARGET}/:\n{}",
            result.status,
            tail.join("\n")
        );
    }
    // libFuzzer's status lines read `#1234 DONE cov: 567 ft: 890 corp: …`.
    let coverage = log
        .lines()
        .rev()
        .find_map(|l| l.split(" cov: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or("?");
    let corpus_files = std::fs::read_dir(&corpus)?.count();
    println!(
        "fuzz {FUZZ_TARGET}: {} runs in {secs} s ({} exec/s), {coverage} coverage points, {} new inputs, corpus {corpus_files}, peak RSS {} MiB, no crash",
        stat("number_of_executed_units"),
        stat("average_exec_per_sec"),
        stat("new_units_added"),
        stat("peak_rss_mb"),
    );
    Ok(())
}
