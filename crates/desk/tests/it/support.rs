//! Fixtures shared by the modules: a temporary log tree, configuration files, an in-process ticket
//! server, and runners for the outside tools that check our bundles.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, SystemTime};

use callsupport_desk::bundle::writer::WrittenBundle;
use callsupport_desk::collect::{Plan, collect};
use callsupport_desk::config::Config;
use callsupport_desk::consent::{Destination, Statement};
use callsupport_desk::report::Report;
use callsupport_ticket_server::{RunningServer, ServerConfig};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

pub use callsupport_demo::{random_bytes, text_log};

/// Environment variable holding the right submit token (set once for the whole test binary).
pub const TOKEN_ENV: &str = "CALLSUPPORT_IT_CORE_TOKEN";
/// Environment variable holding a token the server does not accept.
pub const WRONG_TOKEN_ENV: &str = "CALLSUPPORT_IT_CORE_WRONG_TOKEN";
/// Environment variable that no test ever sets.
pub const UNSET_TOKEN_ENV: &str = "CALLSUPPORT_IT_CORE_TOKEN_NEVER_SET";
/// The submit token the test servers expect.
pub const SUBMIT_TOKEN: &str = "submit-s3cret";
/// The agent token the test servers expect.
pub const AGENT_TOKEN: &str = "agent-s3cret";

/// Sets the token variables, once, before the first test that needs them reads them.
pub fn tokens() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: runs once per process, before any test reads these variables, which are private to
        // this test binary; the code under test reads the environment through `std::env`, which
        // takes the same lock as `set_var`.
        unsafe {
            std::env::set_var(TOKEN_ENV, SUBMIT_TOKEN);
            std::env::set_var(WRONG_TOKEN_ENV, "not-the-token");
        }
    });
}

/// Hex SHA-256 of some bytes, computed here rather than with the crate's own helper.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Hex SHA-256 of a file's content.
pub fn sha256_of(path: &Path) -> String {
    sha256_hex(&fs::read(path).unwrap())
}

/// Writes `bytes` to `path`, creating parent folders.
pub fn write_file(path: &Path, bytes: &[u8]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

/// Sets a file's modification time to `age` ago.
pub fn age_file(path: &Path, age: Duration) {
    File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() - age)
        .unwrap();
}

pub const DAY: Duration = Duration::from_secs(86_400);

/// Two sources under one temporary folder:
///
/// - `app/` (text, `**/*.log`, excluding `**/secret*`): `app.log`, `nested/deeper/call-2.log`, an
///   excluded `secret-token.log`, a `notes.txt` the include globs do not match, and `old.log` whose
///   mtime is 30 days back;
/// - `acs/` (encrypted, `**/acs*.blog`): `acs_1.blog`, `session/acs_2.blog` (random bytes).
pub struct LogTree {
    pub dir: TempDir,
}

impl LogTree {
    pub fn new() -> LogTree {
        let tree = LogTree {
            dir: tempfile::tempdir().unwrap(),
        };
        write_file(&tree.app("app.log"), text_log("app", 50).as_bytes());
        write_file(
            &tree.app("nested/deeper/call-2.log"),
            text_log("nested", 30).as_bytes(),
        );
        write_file(&tree.app("secret-token.log"), b"token=do-not-send-this\n");
        write_file(&tree.app("notes.txt"), b"not a log\n");
        write_file(&tree.app("old.log"), text_log("old", 10).as_bytes());
        age_file(&tree.app("old.log"), 30 * DAY);
        write_file(&tree.acs("acs_1.blog"), &random_bytes(8 * 1024, 1));
        write_file(
            &tree.acs("session/acs_2.blog"),
            &random_bytes(5 * 1024 + 3, 2),
        );
        tree
    }

    pub fn app_root(&self) -> PathBuf {
        self.dir.path().join("app")
    }

    pub fn acs_root(&self) -> PathBuf {
        self.dir.path().join("acs")
    }

    pub fn app(&self, relative: &str) -> PathBuf {
        self.app_root().join(relative)
    }

    pub fn acs(&self, relative: &str) -> PathBuf {
        self.acs_root().join(relative)
    }

    /// The `[[sources]]` tables for this tree.
    pub fn sources_toml(&self) -> String {
        format!(
            r#"
[[sources]]
id = "app"
name = "App logs"
root = '{}'
include = ["**/*.log"]
exclude = ["**/secret*"]
kind = "text"

[[sources]]
id = "acs"
name = "Calling SDK logs"
root = '{}'
include = ["**/acs*.blog"]
kind = "encrypted"
"#,
            self.app_root().display(),
            self.acs_root().display()
        )
    }

    /// The files a collection must pick up, as (entry name in the bundle, source path).
    pub fn expected_files(&self) -> Vec<(String, PathBuf)> {
        vec![
            ("files/app/app.log".into(), self.app("app.log")),
            (
                "files/app/nested/deeper/call-2.log".into(),
                self.app("nested/deeper/call-2.log"),
            ),
            ("files/acs/acs_1.blog".into(), self.acs("acs_1.blog")),
            (
                "files/acs/session/acs_2.blog".into(),
                self.acs("session/acs_2.blog"),
            ),
        ]
    }
}

/// A configuration file's text: the ticket API, the given `[[sources]]` and the collection limits.
pub fn config_toml(
    url: &str,
    token_env: Option<&str>,
    sources: &str,
    max_bundle_mb: u64,
) -> String {
    let token = token_env
        .map(|name| format!("token_env = \"{name}\"\n"))
        .unwrap_or_default();
    format!(
        "[ticket_api]\nurl = \"{url}\"\n{token}{sources}\n[collection]\nmax_age_days = 7\nmax_bundle_mb = {max_bundle_mb}\n\n[privacy]\nredact = true\n"
    )
}

/// Writes `text` as `config.toml` in `dir` and loads it.
pub fn load_config(dir: &Path, text: &str) -> Config {
    let path = dir.join("config.toml");
    fs::write(&path, text).unwrap();
    Config::load(&path).unwrap_or_else(|err| panic!("{err}\n{text}"))
}

/// Collects `config`'s sources into `out`, agreeing as a file export would.
pub fn collect_bundle(config: &Config, out: &Path) -> WrittenBundle {
    let (plan, _) = Plan::from_config(config).unwrap();
    let statement = Statement::new(&plan, &Destination::File, false);
    let consent = statement.agreed(&Destination::File, false);
    collect(&plan, Report::new("audio dropped"), consent, out, |_| true).unwrap()
}

/// A log tree collected into `<tree>/out/bundle.zip`, for tests that need any valid bundle.
pub fn collected_bundle(tree: &LogTree) -> WrittenBundle {
    let config = load_config(
        tree.dir.path(),
        &config_toml(
            "https://support.example.com/api/v1/tickets",
            None,
            &tree.sources_toml(),
            200,
        ),
    );
    let out = tree.dir.path().join("out");
    fs::create_dir_all(&out).unwrap();
    collect_bundle(&config, &out.join("bundle.zip"))
}

/// The reference ticket server, running in this test's runtime, with its data folder.
pub struct Server {
    pub running: RunningServer,
    pub data: TempDir,
}

impl Server {
    pub async fn start(max_bundle_bytes: u64) -> Server {
        Server::start_at("127.0.0.1:0", max_bundle_bytes).await
    }

    /// Starts a server listening on `listen` (`127.0.0.1:0` picks a free port).
    pub async fn start_at(listen: &str, max_bundle_bytes: u64) -> Server {
        Server::start_with(ServerConfig {
            listen: listen.parse().unwrap(),
            max_bundle_bytes,
            ..Server::config()
        })
        .await
    }

    /// What [`Server::start`] runs with; `data_dir` is replaced by the server's own folder.
    pub fn config() -> ServerConfig {
        ServerConfig {
            submit_token: Some(SUBMIT_TOKEN.into()),
            agent_token: Some(AGENT_TOKEN.into()),
            max_bundle_bytes: 64 << 20,
            ..ServerConfig::new("127.0.0.1:0".parse().unwrap(), PathBuf::new())
        }
    }

    pub async fn start_with(config: ServerConfig) -> Server {
        let data = tempfile::tempdir().unwrap();
        let running = callsupport_ticket_server::start(ServerConfig {
            data_dir: data.path().to_path_buf(),
            ..config
        })
        .await
        .unwrap();
        Server { running, data }
    }

    pub fn url(&self) -> String {
        self.running.tickets_url()
    }

    /// Where the server keeps the bundle of a ticket.
    pub fn stored_bundle(&self, ticket_id: &str) -> PathBuf {
        self.data
            .path()
            .join("bundles")
            .join(format!("{ticket_id}.zip"))
    }

    /// Names in one of the server's folders (`bundles`, `incoming`).
    pub fn folder(&self, name: &str) -> Vec<String> {
        names_in(&self.data.path().join(name))
    }
}

/// What the ticket API answers an agent at `url` (a ticket, or the list of tickets), as JSON.
pub async fn agent_get(url: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(url)
        .bearer_auth(AGENT_TOKEN)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A loopback URL on which nothing listens: a port that was bound and released.
pub fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/api/v1/tickets")
}

/// The file names in a folder, sorted.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

pub use callsupport_outside_tools::{assert_unzip_t_passes, run as run_tool, sha256sum};

/// What Python's `zipfile` sees in a bundle: for each entry its size, SHA-256 and compression
/// method (0 stored, 8 deflated), after `testzip()` found every CRC right.
pub fn python_entries(bundle: &Path) -> serde_json::Value {
    const SCRIPT: &str = r#"
import hashlib, json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    bad = z.testzip()
    if bad is not None:
        sys.exit("bad CRC in " + bad)
    out = {}
    for info in z.infolist():
        data = z.read(info)
        out[info.filename] = {
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "compress_type": info.compress_type,
        }
    print(json.dumps(out))
"#;
    let out = run_tool("python3", &["-c", SCRIPT, bundle.to_str().unwrap()]);
    serde_json::from_str(&out).unwrap()
}

/// The entry names of a zip as Python's zipfile reads them, sorted.
pub fn zip_names(zip: &Path) -> Vec<String> {
    let out = run_tool(
        "python3",
        &[
            "-c",
            "import sys, zipfile; print('\\n'.join(sorted(zipfile.ZipFile(sys.argv[1]).namelist())))",
            zip.to_str().unwrap(),
        ],
    );
    out.lines().map(str::to_owned).collect()
}

/// This process's peak resident memory so far, in MiB (Linux: `VmHWM`).
#[cfg(not(windows))]
pub fn own_peak_mib() -> f64 {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib / 1024.0
}

/// This process's peak working set so far, in MiB (Windows: `GetProcessMemoryInfo`).
#[cfg(windows)]
pub fn own_peak_mib() -> f64 {
    use windows_sys::Win32::System::ProcessStatus::{
        GetProcessMemoryInfo, PROCESS_MEMORY_COUNTERS,
    };
    use windows_sys::Win32::System::Threading::GetCurrentProcess;
    // SAFETY: the pseudo-handle of this process needs no closing; the structure is sized.
    unsafe {
        let mut counters: PROCESS_MEMORY_COUNTERS = std::mem::zeroed();
        counters.cb = std::mem::size_of::<PROCESS_MEMORY_COUNTERS>() as u32;
        let ok = GetProcessMemoryInfo(GetCurrentProcess(), &mut counters, counters.cb);
        assert!(ok != 0, "cannot read this process's memory");
        counters.PeakWorkingSetSize as f64 / (1024.0 * 1024.0)
    }
}
