//! The outside tools our tests check with: Info-ZIP's `unzip`, Python, `sha256sum`.
//!
//! Tests check what we write with tools we did not write. On Linux they run here. The Windows
//! builds of the tests run under Wine, which can start a Linux program but cannot wait for it or
//! read its output; there `cargo xtask test` runs a small bridge on loopback and names it in
//! [`BRIDGE_ENV`], and [`output`] asks it to run the tool on the Linux side, with Windows paths
//! in the arguments (`C:\users\…`) turned into the Linux paths Wine maps them to. Without the
//! variable the tool runs where the test runs, as on a Windows machine with the tools installed.
//!
//! The wire: one JSON line `{"program", "args"}` each way the request, `{"code", "stdout",
//! "stderr"}` the answer, then the connection closes.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, ExitStatus, Output};

/// The variable that holds the bridge's `127.0.0.1:PORT`.
pub const BRIDGE_ENV: &str = "CALLSUPPORT_OUTSIDE_TOOLS";

/// Runs `program` with `args` to completion and returns what it wrote and how it ended.
pub fn output(program: &str, args: &[&str]) -> std::io::Result<Output> {
    match std::env::var(BRIDGE_ENV) {
        Ok(address) if !address.is_empty() => through_bridge(&address, program, args),
        _ => Command::new(program).args(args).output(),
    }
}

/// Runs `program` with `args`; it must succeed. Returns its standard output.
pub fn run(program: &str, args: &[&str]) -> String {
    let out = output(program, args).unwrap_or_else(|err| panic!("cannot run {program}: {err}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{program} {args:?} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `unzip -t` of a zip: passes when Info-ZIP finds no errors.
pub fn assert_unzip_t_passes(zip: &std::path::Path) {
    let out = run("unzip", &["-t", zip.to_str().expect("UTF-8 path")]);
    assert!(out.contains("No errors detected"), "unzip -t said:\n{out}");
}

/// The SHA-256 of a file, in hex, as `sha256sum` prints it.
pub fn sha256sum(path: &std::path::Path) -> String {
    run("sha256sum", &[path.to_str().expect("UTF-8 path")])
        .split_whitespace()
        .next()
        .expect("sha256sum prints the hash first")
        .to_owned()
}

fn through_bridge(address: &str, program: &str, args: &[&str]) -> std::io::Result<Output> {
    let mut stream = std::net::TcpStream::connect(address)?;
    let mut request = serde_json::json!({ "program": program, "args": args }).to_string();
    request.push('\n');
    stream.write_all(request.as_bytes())?;
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer)?;
    let answer: serde_json::Value = serde_json::from_str(&answer).map_err(|err| {
        std::io::Error::other(format!("the outside-tools bridge answered badly: {err}"))
    })?;
    if let Some(error) = answer["error"].as_str() {
        return Err(std::io::Error::other(format!(
            "the outside-tools bridge cannot run {program}: {error}"
        )));
    }
    let text = |key: &str| answer[key].as_str().unwrap_or_default().as_bytes().to_vec();
    Ok(Output {
        status: exit_status(answer["code"].as_i64().unwrap_or(-1) as i32),
        stdout: text("stdout"),
        stderr: text("stderr"),
    })
}

#[cfg(windows)]
fn exit_status(code: i32) -> ExitStatus {
    std::os::windows::process::ExitStatusExt::from_raw(code as u32)
}

#[cfg(unix)]
fn exit_status(code: i32) -> ExitStatus {
    // A wait status: the exit code in the second byte.
    std::os::unix::process::ExitStatusExt::from_raw((code & 0xff) << 8)
}
