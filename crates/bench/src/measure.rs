//! Shared measuring: wall time and peak memory of a command, medians, sizes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Wall time and peak RSS (KiB) of a command, measured by a child of this program, so the
/// figures are the command's own.
pub fn measure(program: &Path, args: &[&str], dir: &Path) -> (Duration, u64) {
    measure_with_env(program, args, dir, &[])
}

/// Like [`measure`], with extra environment variables for the command.
pub fn measure_with_env(
    program: &Path,
    args: &[&str],
    dir: &Path,
    env: &[(&str, &str)],
) -> (Duration, u64) {
    let exe = std::env::current_exe().expect("own path");
    let started = Instant::now();
    let out = Command::new(exe)
        .arg("--measure")
        .arg(program)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .expect("run the measured command");
    let elapsed = started.elapsed();
    assert!(
        out.status.success(),
        "{} failed: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let peak = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or("0")
        .trim()
        .parse()
        .expect("peak KiB");
    (elapsed, peak)
}

/// `--measure PROGRAM ARGS…`: runs it, then prints the largest RSS any child reached (KiB).
pub fn measure_child(args: &[String]) {
    let status = Command::new(&args[0])
        .args(&args[1..])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("start the measured program");
    if !status.success() {
        eprintln!("{} exited with {status}", args[0]);
        std::process::exit(1);
    }
    // SAFETY: `usage` is a plain C struct that getrusage fills in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    println!("{}", usage.ru_maxrss);
}

pub fn median(values: &mut [Duration]) -> Duration {
    values.sort();
    values[values.len() / 2]
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The CLI built in release beside this program.
pub fn cli_path() -> PathBuf {
    std::env::current_exe()
        .expect("own path")
        .with_file_name("callsupport")
}
