//! `callsupport-bench`: the project's benchmarks, each against the real alternative in the same run.
//!
//! Run through `cargo xtask bench` (release builds). Prints medians, ratios, sizes and peak memory,
//! because the machines are shared and noisy. `callsupport-bench [index|redaction|bundle|privacy|calls|viewer|upload|backends|hostile|app] [--idle-secs N]`
//! runs one part; without a part it runs all. `--fuzz-seeds DIR` writes the seed bundles the fuzz
//! target starts from (the fuzzing itself is run by `cargo xtask bench fuzz`).

mod app;
mod backends;
mod bundle;
mod calls;
mod fuzz_seeds;
mod hostile;
mod index;
mod measure;
mod privacy;
mod redaction;
mod upload;
mod viewer;

use std::path::Path;
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--measure") {
        return measure::measure_child(&args[1..]);
    }
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["--child-index", root] => index::child(Some(Path::new(root))),
        ["--child-baseline"] => index::child(None),
        ["--fuzz-seeds", dir] => fuzz_seeds::write(Path::new(dir)),
        ["--upload-child", ..] => upload::upload_child(&args[1..]),
        rest => {
            let (parts, idle) = parse(rest);
            if parts.contains(&"index") {
                index::run(idle);
            }
            if parts.contains(&"redaction") {
                redaction::run();
            }
            if parts.contains(&"bundle") {
                bundle::run(&measure::cli_path());
            }
            if parts.contains(&"privacy") {
                privacy::run(&measure::cli_path());
            }
            if parts.contains(&"calls") {
                calls::run(&measure::cli_path());
            }
            if parts.contains(&"viewer") {
                viewer::run(&measure::cli_path());
            }
            if parts.contains(&"upload") {
                upload::run(&measure::cli_path());
            } else if parts.contains(&"upload-server") {
                upload::run_server_only();
            }
            if parts.contains(&"backends") {
                backends::run();
            }
            if parts.contains(&"hostile") {
                hostile::run();
            }
            if parts.contains(&"app") {
                let beside = |name: &str| {
                    std::env::current_exe()
                        .expect("own path")
                        .with_file_name(name)
                };
                app::run(
                    &beside("callsupport-app"),
                    &beside("callsupport-tray"),
                    &beside("bare-window"),
                );
            }
        }
    }
}

fn parse<'a>(args: &[&'a str]) -> (Vec<&'a str>, Duration) {
    let mut parts = Vec::new();
    let mut idle = Duration::from_secs(60);
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match *arg {
            "index" | "redaction" | "bundle" | "privacy" | "calls" | "viewer" | "upload"
            | "upload-server" | "backends" | "hostile" | "app" => parts.push(*arg),
            "--idle-secs" => {
                let secs = rest
                    .next()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_else(|| usage());
                idle = Duration::from_secs(secs);
            }
            _ => usage(),
        }
    }
    if parts.is_empty() {
        parts = vec![
            "index",
            "redaction",
            "bundle",
            "privacy",
            "calls",
            "viewer",
            "upload",
            "backends",
            "hostile",
            "app",
        ];
    }
    (parts, idle)
}

fn usage() -> ! {
    eprintln!(
        "usage: callsupport-bench [index] [redaction] [bundle] [privacy] [calls] [viewer] [upload] [backends] [hostile] [app] [--idle-secs N]"
    );
    std::process::exit(2);
}
