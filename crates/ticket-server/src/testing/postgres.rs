//! A private PostgreSQL cluster from Debian's packages for one test: `initdb` into a temporary
//! folder, `pg_ctl start` on a free loopback port, `pg_ctl stop -m immediate` when dropped. As
//! root (PostgreSQL refuses to run as root) it runs as the `postgres` user through `runuser`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// A running cluster; stopped when dropped.
pub struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    /// `postgres://postgres@127.0.0.1:PORT/postgres`
    pub url: String,
    _dir: TempDir,
}

/// The newest installed server's programs: `CALLSUPPORT_PG_BIN`, else `/usr/lib/postgresql/N/bin`.
fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CALLSUPPORT_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).expect(
        "PostgreSQL is not installed (/usr/lib/postgresql/N/bin); `cargo xtask test` installs Debian's postgresql, or set CALLSUPPORT_PG_BIN",
    )
}

#[cfg(unix)]
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[cfg(not(unix))]
fn is_root() -> bool {
    false
}

/// `program args…`, as the `postgres` user when we are root.
fn as_owner(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(command: &mut Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("{what}: {err}"));
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = bin_dir();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        #[cfg(unix)]
        if is_root() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
            run(
                Command::new("chown").arg("postgres:").arg(&data),
                "chown the cluster folder",
            );
        }
        run(
            as_owner(&bin.join("initdb"))
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"])
                .args(["--locale=C"]),
            "initdb",
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off",
            data.display()
        );
        run(
            as_owner(&bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .args(["-w", "-t", "60", "-o", &options, "-l"])
                .arg(data.join("server.log"))
                .arg("start"),
            "pg_ctl start",
        );
        Postgres {
            bin,
            data,
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            _dir: dir,
        }
    }
}

impl Postgres {
    /// Creates database `name`; its URL.
    pub fn database(&self, name: &str) -> String {
        let port = self
            .url
            .rsplit_once(':')
            .unwrap()
            .1
            .split('/')
            .next()
            .unwrap();
        run(
            Command::new(self.bin.join("createdb")).args([
                "-h",
                "127.0.0.1",
                "-p",
                port,
                "-U",
                "postgres",
                name,
            ]),
            "createdb",
        );
        format!("{}/{name}", self.url.rsplit_once('/').unwrap().0)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = as_owner(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}
