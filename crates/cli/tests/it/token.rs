//! `callsupport token`: the ticket API token kept in the system's credential store — the real
//! Secret Service (gnome-keyring) on a private session bus on Linux, the Credential Manager on
//! Windows — used by `submit` and `doctor` when no environment variable holds one, and never
//! written in plain text to any file or log.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
#[cfg(unix)]
use std::process::{Child, Command};
#[cfg(unix)]
use std::time::{Duration, Instant};

use crate::support::{Machine, SUBMIT_TOKEN, TicketServer};

/// A private session bus with gnome-keyring's Secret Service, its login keyring unlocked.
#[cfg(unix)]
struct SecretService {
    bus: Child,
    keyring: Child,
    address: String,
}

#[cfg(unix)]
impl SecretService {
    fn start(home: &Path) -> SecretService {
        let runtime = home.join("run");
        std::fs::create_dir_all(&runtime).unwrap();
        std::fs::set_permissions(
            &runtime,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        let socket = runtime.join("bus");
        let address = format!("unix:path={}", socket.display());
        let bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile"])
            .arg(format!("--address={address}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (package dbus-daemon)");
        wait(|| socket.exists(), "the session bus");
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("HOME", home)
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (package gnome-keyring)");
        // The login keyring's password, then end of input.
        keyring
            .stdin
            .take()
            .unwrap()
            .write_all(b"test-login-password")
            .unwrap();
        let owned = || {
            Command::new("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .env("DBUS_SESSION_BUS_ADDRESS", &address)
                .output()
                .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("boolean true"))
        };
        wait(owned, "the Secret Service");
        SecretService {
            bus,
            keyring,
            address,
        }
    }
}

#[cfg(unix)]
impl Drop for SecretService {
    fn drop(&mut self) {
        for child in [&mut self.keyring, &mut self.bus] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[cfg(unix)]
fn wait(mut ready: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ready() {
        assert!(Instant::now() < deadline, "{what} did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The files under `dir` whose bytes hold `needle`.
fn holding(dir: &Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in walk(dir) {
        if std::fs::read(&entry)
            .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
        {
            found.push(entry.display().to_string());
        }
    }
    found
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn a_stored_token_sends_reports_and_is_written_nowhere_in_plain_text() {
    let server = TicketServer::start();
    #[cfg_attr(windows, allow(unused_mut))]
    let mut machine = Machine::new();
    #[cfg(unix)]
    let _secrets = {
        let secrets = SecretService::start(&machine.home());
        machine
            .env
            .push(("DBUS_SESSION_BUS_ADDRESS".into(), secrets.address.clone()));
        machine.env.push((
            "XDG_RUNTIME_DIR".into(),
            machine.home().join("run").display().to_string(),
        ));
        secrets
    };
    // The configuration names a variable, which this machine does not set.
    let config = machine.config("callsupport.toml", &server.url());
    let config = config.to_str().unwrap();

    assert_no_token_stored(&machine, config);
    let bundle = machine.collect(std::path::Path::new(config), "B.zip");
    machine
        .run(&["submit", "--config", config, bundle.to_str().unwrap()])
        .failure(3, &["token is missing", "callsupport token set"]);

    // An empty line is refused, and nothing is stored.
    let empty = machine
        .command()
        .args(["token", "set", "--config", config])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(empty.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("the token is empty"));
    assert_no_token_stored(&machine, config);

    let mut set = machine
        .command()
        .args(["token", "set", "--config", config])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    set.stdin
        .take()
        .unwrap()
        .write_all(format!("{SUBMIT_TOKEN}\n").as_bytes())
        .unwrap();
    let out = set.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("stored the ticket API token for"));

    let sent = machine
        .run(&["submit", "--config", config, bundle.to_str().unwrap()])
        .success();
    assert!(sent.stdout().contains("CS-000001"), "{}", sent.stdout());
    let doctor = machine
        .run(&["doctor", "--json", "--config", config])
        .success()
        .json();
    let token = doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "token")
        .unwrap()
        .clone();
    assert_eq!(token["status"], "ok", "{token}");
    assert!(
        token["detail"]
            .as_str()
            .unwrap()
            .contains("credential store"),
        "{token}"
    );

    // Not in our data folder, our log, the configuration, or the keyring's own file in clear.
    let leaks = holding(machine.dir.path(), SUBMIT_TOKEN);
    assert!(
        leaks.is_empty(),
        "the token is written in plain text in {leaks:?}"
    );
    #[cfg(unix)]
    assert!(
        !walk(&machine.home().join(".local/share/keyrings")).is_empty(),
        "the keyring keeps it (encrypted) in its own file"
    );

    machine
        .run(&["token", "forget", "--config", config])
        .success();
    machine
        .run(&["submit", "--config", config, bundle.to_str().unwrap()])
        .failure(3, &["token is missing"]);
}

/// `token status` says that no token is stored.
fn assert_no_token_stored(machine: &Machine, config: &str) {
    let status = machine
        .run(&["token", "status", "--config", config])
        .success();
    assert!(
        status.stdout().starts_with("no ticket API token is stored"),
        "{}",
        status.stdout()
    );
}
