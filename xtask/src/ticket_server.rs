//! The reference ticket server as a child process of an xtask (the demo, the API check).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::Context;

use crate::util::Guard;

/// Builds the debug server if needed and starts it, as [`start`], with an empty data folder
/// `target/<folder>` and `token` as its submit token: the installers' checks.
pub fn start_fresh(root: &Path, folder: &str, token: &str) -> anyhow::Result<(Guard, String)> {
    crate::util::run(&mut crate::util::cmd(
        "cargo",
        &["build", "--quiet", "-p", "callsupport-ticket-server"],
        root,
    ))?;
    let data = root.join("target").join(folder);
    if data.exists() {
        std::fs::remove_dir_all(&data)?;
    }
    start(root, &data, &[("CALLSUPPORT_SERVER_TOKEN", token)], &[])
}

/// Starts the debug build of the server on a free loopback port with its data in `data` and the
/// extra `env` (tokens go there, out of the process list) and `args`; returns it with its base
/// URL (`http://127.0.0.1:PORT`).
pub fn start(
    root: &Path,
    data: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> anyhow::Result<(Guard, String)> {
    let mut server = Command::new(root.join("target/debug/callsupport-ticket-server"));
    server
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut server = Guard(server.spawn().context("cannot start the ticket server")?);
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().expect("piped")).read_line(&mut line)?;
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .context("the ticket server did not start")?
        .to_owned();
    Ok((server, base))
}
