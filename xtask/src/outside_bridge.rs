//! The Linux side of `callsupport-outside-tools`: runs the outside tools (`unzip`, `python3`,
//! `sha256sum`) for test programs running under Wine, which can start a Linux program but cannot
//! wait for it or read its output.
//!
//! It listens on loopback for as long as the Windows tests run. Each connection carries one JSON
//! line `{"program", "args"}`; Windows paths in the arguments (`C:\users\…`) become the Linux
//! paths the Wine prefix maps their drive to; the answer is `{"code", "stdout", "stderr"}`, or
//! `{"error"}` for a program not on the list.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The tools the tests check with; nothing else is run.
const TOOLS: &[&str] = &["unzip", "python3", "sha256sum", "age"];

/// The bridge for the Wine prefix at `prefix`; it stops with the xtask process.
pub struct Bridge {
    pub address: String,
}

impl Bridge {
    pub fn start(prefix: &Path) -> anyhow::Result<Bridge> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?.to_string();
        let prefix = prefix.to_owned();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let prefix = prefix.clone();
                std::thread::spawn(move || {
                    if let Err(err) = serve(stream, &prefix) {
                        eprintln!("outside-tools bridge: {err}");
                    }
                });
            }
        });
        Ok(Bridge { address })
    }
}

fn serve(stream: TcpStream, prefix: &Path) -> anyhow::Result<()> {
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line)?;
    let answer = match answer(&line, prefix) {
        Ok(answer) => answer,
        Err(err) => serde_json::json!({ "error": format!("{err:#}") }),
    };
    let mut out = answer.to_string();
    out.push('\n');
    (&stream).write_all(out.as_bytes())?;
    Ok(())
}

fn answer(line: &str, prefix: &Path) -> anyhow::Result<serde_json::Value> {
    let request: serde_json::Value = serde_json::from_str(line)?;
    let program = request["program"].as_str().unwrap_or_default();
    if !TOOLS.contains(&program) {
        anyhow::bail!(
            "`{program}` is not one of the outside tools ({})",
            TOOLS.join(", ")
        );
    }
    let args: Vec<String> = request["args"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .map(|a| unix_path(a, prefix))
                .collect()
        })
        .unwrap_or_default();
    let output = Command::new(program).args(&args).output()?;
    Ok(serde_json::json!({
        "code": output.status.code().unwrap_or(-1),
        "stdout": String::from_utf8_lossy(&output.stdout),
        "stderr": String::from_utf8_lossy(&output.stderr),
    }))
}

/// `C:\users\x\a.zip` as the Linux path the prefix maps drive C to; anything else as it is.
fn unix_path(arg: &str, prefix: &Path) -> String {
    let bytes = arg.as_bytes();
    let is_drive_path = bytes.len() >= 3
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && matches!(bytes[2], b'\\' | b'/');
    if !is_drive_path {
        // Rooted on the current drive (`/work/x\y.zip`, from the build's own paths): Wine runs
        // the tests from drive Z:, which is the Linux root.
        if arg.starts_with('/') && !arg.contains('\n') {
            return arg.replace('\\', "/");
        }
        return arg.to_owned();
    }
    let drive = prefix
        .join("dosdevices")
        .join(format!("{}:", arg[..1].to_ascii_lowercase()));
    let Ok(drive) = std::fs::canonicalize(&drive) else {
        return arg.to_owned();
    };
    let rest: PathBuf = arg[3..]
        .split(['\\', '/'])
        .filter(|p| !p.is_empty())
        .collect();
    drive.join(rest).to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::unix_path;

    #[test]
    fn windows_paths_become_the_paths_their_drive_maps_to() {
        let prefix = tempfile_dir();
        let drive_c = prefix.join("drive_c");
        std::fs::create_dir_all(prefix.join("dosdevices")).unwrap();
        std::fs::create_dir_all(&drive_c).unwrap();
        std::os::unix::fs::symlink("../drive_c", prefix.join("dosdevices/c:")).unwrap();
        let c = std::fs::canonicalize(&drive_c).unwrap();
        assert_eq!(
            unix_path(r"C:\users\root\Temp\.tmpX\out/b.zip", &prefix),
            c.join("users/root/Temp/.tmpX/out/b.zip").to_string_lossy()
        );
        assert_eq!(unix_path("-t", &prefix), "-t");
        assert_eq!(unix_path("import sys", &prefix), "import sys");
        assert_eq!(unix_path(r"Q:\nowhere", &prefix), r"Q:\nowhere");
        assert_eq!(
            unix_path(r"/work/main/crates/config/../..\src-tauri/a.admx", &prefix),
            "/work/main/crates/config/../../src-tauri/a.admx"
        );
        std::fs::remove_dir_all(&prefix).unwrap();
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-bridge-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
