//! Small helpers: the workspace root, and running commands with their command line shown.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Instant;

use anyhow::{Context, bail};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// A command with `dir` as its working directory.
pub fn cmd(program: &str, args: &[&str], dir: &Path) -> Command {
    let mut command = Command::new(program);
    command.args(args).current_dir(dir);
    command
}

/// Runs a command to completion, echoing it first; fails on a non-zero exit.
pub fn run(command: &mut Command) -> anyhow::Result<()> {
    let shown = show(command);
    eprintln!("$ {shown}");
    let status = command
        .status()
        .with_context(|| format!("cannot start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed with {status}");
    }
    Ok(())
}

/// Runs a command and returns its standard output; fails on a non-zero exit.
pub fn output(command: &mut Command) -> anyhow::Result<String> {
    let shown = show(command);
    let out = command
        .output()
        .with_context(|| format!("cannot start `{shown}`"))?;
    if !out.status.success() {
        bail!(
            "`{shown}` failed with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn show(command: &Command) -> String {
    let mut parts = vec![command.get_program().to_string_lossy().into_owned()];
    parts.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// Finds a program on PATH or in cargo's bin folder.
pub fn which(program: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(home).join("bin"));
    } else if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter()
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Times named stages and prints a table at the end.
#[derive(Default)]
pub struct Stages {
    done: Vec<(String, f64)>,
}

impl Stages {
    pub fn time<T>(
        &mut self,
        name: &str,
        f: impl FnOnce() -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        eprintln!("\n==> {name}");
        let start = Instant::now();
        let result = f().with_context(|| format!("stage `{name}` failed"));
        self.done
            .push((name.to_owned(), start.elapsed().as_secs_f64()));
        result
    }

    pub fn print(&self) {
        eprintln!("\nstage timings:");
        for (name, seconds) in &self.done {
            eprintln!("  {seconds:>7.1} s  {name}");
        }
        let total: f64 = self.done.iter().map(|(_, s)| s).sum();
        eprintln!("  {total:>7.1} s  total");
    }
}

/// Kills a child process when dropped, so an error never leaves a server or a display running.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The SHA-256 of a file, in hex, as `sha256sum` prints it.
pub fn sha256_file(path: &Path) -> anyhow::Result<String> {
    use sha2::{Digest, Sha256};
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

/// A private Xvfb display of `size` (`1280x800x24`): its name (`:91`) and the server, which stops
/// when dropped.
pub fn xvfb(size: &str) -> anyhow::Result<(String, Guard)> {
    let display = (90..140)
        .map(|n| format!(":{n}"))
        .find(|d| {
            !Path::new(&format!("/tmp/.X11-unix/X{}", &d[1..])).exists()
                && !Path::new(&format!("/tmp/.X{}-lock", &d[1..])).exists()
        })
        .context("no free X display number between :90 and :140")?;
    let server = Command::new("Xvfb")
        .args([display.as_str(), "-screen", "0", size, "-nolisten", "tcp"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("cannot start Xvfb (package xvfb)")?;
    let server = Guard(server);
    let socket = format!("/tmp/.X11-unix/X{}", &display[1..]);
    let start = Instant::now();
    while !Path::new(&socket).exists() {
        if start.elapsed().as_secs() >= 10 {
            bail!("Xvfb did not start within 10 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Ok((display, server))
}
