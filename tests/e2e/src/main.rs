//! The end-to-end suite: the built app under Xvfb, driven through WebDriver (`tauri-driver` with
//! WebKitWebDriver), against the real ticket server on loopback, with results checked by tools we
//! did not write (`unzip -t`, Python's `zipfile`, `sha256sum`).
//!
//! Run by `cargo xtask test`:
//! `callsupport-e2e --app target/debug/callsupport-app --tauri-driver PATH --out target/e2e`.
//! Each test gets its own app instance; a screenshot of every screen is saved under `--out`.

mod cancel;
mod checks;
mod consent;
mod harness;
mod keyboard;
mod look;
mod noticed;
mod notifications;
mod picture;
mod privacy;
mod reach;
mod secrets;
mod settings;
mod slow_link;
mod tests;
mod viewer;
mod x11;
mod xdnd;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};

pub struct Options {
    pub app: PathBuf,
    pub tauri_driver: PathBuf,
    pub native_driver: PathBuf,
    pub out: PathBuf,
    /// Runs only the tests whose name holds this (while working on one).
    pub only: Option<String>,
}

fn parse_args() -> anyhow::Result<Options> {
    let mut app = None;
    let mut tauri_driver = None;
    let mut native_driver = PathBuf::from("/usr/bin/WebKitWebDriver");
    let mut out = PathBuf::from("target/e2e");
    let mut only = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--app" => app = Some(PathBuf::from(value()?)),
            "--tauri-driver" => tauri_driver = Some(PathBuf::from(value()?)),
            "--native-driver" => native_driver = PathBuf::from(value()?),
            "--out" => out = PathBuf::from(value()?),
            "--only" => only = Some(value()?),
            other => bail!(
                "unknown argument `{other}`; usage: callsupport-e2e --app PATH --tauri-driver PATH [--native-driver PATH] [--out DIR] [--only NAME]"
            ),
        }
    }
    let options = Options {
        app: app.context("--app PATH is required (the built callsupport-app)")?,
        tauri_driver: tauri_driver.context("--tauri-driver PATH is required")?,
        native_driver,
        out,
        only,
    };
    for (what, path) in [
        ("--app", &options.app),
        ("--tauri-driver", &options.tauri_driver),
        ("--native-driver", &options.native_driver),
    ] {
        if !path.is_file() {
            bail!("{what} {} does not exist", path.display());
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() {
    let options = match parse_args() {
        Ok(options) => options,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    let harness = match harness::Harness::start(&options).await {
        Ok(harness) => harness,
        Err(err) => {
            eprintln!("error: cannot set up the end-to-end environment: {err:#}");
            std::process::exit(1);
        }
    };
    let mut failed = 0;
    let mut all = tests::all();
    if let Some(only) = &options.only {
        all.retain(|(name, _)| name.contains(only.as_str()));
        if all.is_empty() {
            eprintln!("error: no test's name holds `{only}`");
            std::process::exit(2);
        }
    }
    for (name, test) in &all {
        let start = Instant::now();
        match test(&harness).await {
            Ok(()) => eprintln!(
                "test {name} ... ok ({:.1} s)",
                start.elapsed().as_secs_f64()
            ),
            Err(err) => {
                failed += 1;
                eprintln!(
                    "test {name} ... FAILED ({:.1} s)\n  {err:#}",
                    start.elapsed().as_secs_f64()
                );
            }
        }
    }
    harness.stop().await;
    eprintln!(
        "\nend-to-end: {} passed, {failed} failed, in {:.1} s; screenshots in {}",
        all.len() - failed,
        started.elapsed().as_secs_f64(),
        options.out.display()
    );
    if failed > 0 {
        std::process::exit(1);
    }
}
