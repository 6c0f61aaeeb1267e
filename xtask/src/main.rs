//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! - `cargo xtask run [--headless]`: install what is missing, build, start the reference ticket
//!   server with demo logs, and open the app (under Xvfb with a screenshot when headless).
//! - `cargo xtask test`: install what is missing and run every suite: lints, UI unit tests, Rust
//!   tests, the end-to-end suite in the real app under Xvfb, and the Windows build with its tests
//!   under Wine.
//! - `cargo xtask bench`: release-build benchmarks against `find`, `zip` and friends, medians and
//!   ratios, then a fixed-time fuzzing run of the bundle reader.
//! - `cargo xtask codegen`: regenerate the committed TypeScript bindings (IPC types and names).
//! - `cargo xtask dist`: the `.deb` and `.rpm`, and the Windows installers (NSIS per machine and per
//!   user, MSI), signed; each installed, used and removed again to check it (Windows under Wine).
//! - `cargo xtask windows`: only the Windows part of `test`: lints, and the test suites under Wine.

mod api_check;
mod bare;
mod bench;
mod codegen;
mod deps;
mod dist;
mod dist_windows;
mod install_check;
mod install_check_windows;
#[cfg(test)]
mod layers;
mod outside_bridge;
mod run;
mod signing;
mod test;
mod ticket_server;
mod util;
mod windows;

/// The workspace's version, which every crate of the product shares.
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run::run(&args[1..]),
        Some("test") => test::run(&args[1..]),
        Some("codegen") => codegen::run_codegen(),
        Some("bench") => bench::run_bench(&args[1..]),
        Some("dist") => dist::run_dist(&args[1..]),
        Some("windows") => windows::run(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <run [--headless] | test [api] | bench [index|redaction|bundle|calls|viewer|upload|backends|hostile|app|fuzz] [--idle-secs N] [--fuzz-secs N] | codegen | dist | windows>"
            );
            std::process::exit(2);
        }
    };
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}
