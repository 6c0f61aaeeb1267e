//! The environment every end-to-end test runs in: a private X display, the ticket server, demo
//! logs, a hermetic home folder, and `tauri-driver`; plus one app session per test.

use std::ffi::OsString;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use callsupport_demo::{demo_config, write_demo_logs};
use callsupport_ticket_server::{AzureDevOps, ForwardConfig, RunningServer, ServerConfig};
use fantoccini::error::NewSessionError;
use fantoccini::{Client, ClientBuilder};

use crate::Options;
use crate::notifications::Notifications;

pub const TOKEN_ENV: &str = "CALLSUPPORT_E2E_TOKEN";
pub const SUBMIT_TOKEN: &str = "e2e-submit-token";
pub const AGENT_TOKEN: &str = "e2e-agent-token";

/// A child process stopped with SIGTERM (so WebKitWebDriver goes too), then killed if it lingers.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Harness {
    // Dropped first: the app and its driver go before their folders do.
    _driver: Process,
    /// The desktop's notification service (dunst), where detection prompts appear.
    pub notifications: Notifications,
    _dbus: Process,
    _xvfb: Process,
    pub app: PathBuf,
    pub out: PathBuf,
    pub server: Option<RunningServer>,
    pub server_data: PathBuf,
    pub logs: PathBuf,
    pub config: PathBuf,
    /// The X display the app runs on (`:99`), for driving native dialogs.
    pub display: String,
    /// What the app's environment holds (display, bus, private home, data folder, token).
    pub env: Vec<(String, OsString)>,
    webdriver_url: String,
    pub dir: tempfile::TempDir,
}

impl Harness {
    pub async fn start(options: &Options) -> anyhow::Result<Harness> {
        std::fs::create_dir_all(&options.out)?;
        let dir = tempfile::Builder::new()
            .prefix("callsupport-e2e-")
            .tempdir()?;
        let root = dir.path();
        let (display, xvfb) = start_xvfb()?;
        let (bus, dbus) = start_session_bus(root)?;
        let notifications = Notifications::start(root, &display, &bus)?;

        let server_data = root.join("server");
        // The service forwards tickets to an Azure DevOps that is down (nothing listens there),
        // so the viewer has a ticket that is not in the ticket system yet to show.
        let down = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let server = callsupport_ticket_server::start(ServerConfig {
            submit_token: Some(SUBMIT_TOKEN.into()),
            agent_token: Some(AGENT_TOKEN.into()),
            max_bundle_bytes: 512 << 20,
            forward: Some(ForwardConfig::new(AzureDevOps {
                organization_url: format!("http://{down}/contoso"),
                project: "Support".into(),
                work_item_type: "Bug".into(),
                area_path: None,
                token: "e2e-personal-access-token".into(),
                attachment_limit_bytes: 60 << 20,
                chunk_bytes: 8 << 20,
            })),
            ..ServerConfig::new("127.0.0.1:0".parse()?, server_data.clone())
        })
        .await?;
        let logs = root.join("logs");
        write_demo_logs(&logs, chrono::Utc::now())?;
        let config = root.join("config.toml");
        std::fs::write(
            &config,
            demo_config(&logs, &server.tickets_url(), TOKEN_ENV),
        )?;

        // The app, WebKit and the driver all see a private home: nothing lands in the real one.
        let home = root.join("home");
        for sub in ["", ".config", ".cache", ".local/share"] {
            std::fs::create_dir_all(home.join(sub))?;
        }
        // The desktop's URL opener, as xdg-open: there is no browser here, so it writes down
        // what it was asked to open ([`Harness::opened`]).
        let bin = root.join("bin");
        std::fs::create_dir_all(&bin)?;
        let opener = bin.join("xdg-open");
        std::fs::write(
            &opener,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n",
                root.join("opened.txt").display()
            ),
        )?;
        std::fs::set_permissions(&opener, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        let path = std::env::join_paths(std::iter::once(bin.clone()).chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ))?;
        let env: Vec<(String, OsString)> = vec![
            ("PATH".into(), path),
            ("DISPLAY".into(), display.clone().into()),
            ("DBUS_SESSION_BUS_ADDRESS".into(), bus.into()),
            ("GSETTINGS_BACKEND".into(), "memory".into()),
            ("MESA_SHADER_CACHE_DISABLE".into(), "true".into()),
            ("HOME".into(), home.clone().into()),
            ("XDG_CONFIG_HOME".into(), home.join(".config").into()),
            ("XDG_CACHE_HOME".into(), home.join(".cache").into()),
            ("XDG_DATA_HOME".into(), home.join(".local/share").into()),
            ("CALLSUPPORT_DATA_DIR".into(), root.join("app-data").into()),
            (TOKEN_ENV.into(), SUBMIT_TOKEN.into()),
            // The organisation's file: absent unless a test writes it.
            (
                "CALLSUPPORT_MANAGED_CONFIG".into(),
                root.join("managed.toml").into(),
            ),
        ];
        let port = free_port()?;
        let native_port = free_port()?;
        let driver = Command::new(&options.tauri_driver)
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
                "--native-driver",
            ])
            .arg(&options.native_driver)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env_remove("CALLSUPPORT_CONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start tauri-driver")?;
        let driver = Process(driver);
        wait_for(Duration::from_secs(20), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        })
        .context("tauri-driver did not open its port")?;
        Ok(Harness {
            app: options.app.clone(),
            out: options.out.clone(),
            server: Some(server),
            server_data,
            logs,
            config,
            display,
            env,
            webdriver_url: format!("http://127.0.0.1:{port}"),
            dir,
            _driver: driver,
            notifications,
            _dbus: dbus,
            _xvfb: xvfb,
        })
    }

    pub fn server_addr(&self) -> String {
        self.server
            .as_ref()
            .expect("server running")
            .addr()
            .to_string()
    }

    /// Every address the app asked the desktop to open (its browser), in order.
    pub fn opened(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("opened.txt"))
            .map(|text| text.lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// The app's data folder (outbox, history, our own log).
    /// The app started directly (not through WebDriver), in the same environment.
    pub fn app_command(&self, config: &Path) -> Command {
        let mut command = Command::new(&self.app);
        command
            .arg("--config")
            .arg(config)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env_remove("CALLSUPPORT_CONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        command
    }

    /// The app started with `link` alone, as a browser starts it (`-- LINK`), in the same
    /// environment; a link takes no other argument, so `config` comes from CALLSUPPORT_CONFIG.
    pub fn link_command(&self, config: &Path, link: &str) -> Command {
        let mut command = Command::new(&self.app);
        command
            .args(["--", link])
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("CALLSUPPORT_CONFIG", config)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        command
    }

    /// Where the organisation's (machine-wide) configuration file is for this run.
    pub fn managed_config(&self) -> PathBuf {
        self.dir.path().join("managed.toml")
    }

    pub fn app_data(&self) -> PathBuf {
        self.dir.path().join("app-data")
    }

    /// Starts the app with `config` and opens a WebDriver session on it.
    pub async fn session(&self, config: &Path) -> anyhow::Result<Client> {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".to_owned(),
            serde_json::json!({
                "application": self.app,
                "args": ["--config", config],
            }),
        );
        // tauri-driver opens its port before WebKitWebDriver is ready; retry briefly.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            // A session whose app never comes up must not hang the run.
            let mut builder = ClientBuilder::rustls()?;
            builder.capabilities(caps.clone());
            let connecting = builder.connect(&self.webdriver_url);
            let connected = tokio::time::timeout(Duration::from_secs(40), connecting)
                .await
                .context("WebDriver did not answer within 40 s: the app did not start")?;
            match connected {
                Ok(client) => {
                    // The app shows its window once the first screen is drawn; a user cannot
                    // type into it before, and neither do the tests.
                    crate::x11::wait_for_window(&self.display, "^Call Support$")
                        .await
                        .context("the app window was not shown")?;
                    return Ok(client);
                }
                Err(err)
                    if Instant::now() < deadline
                        && matches!(
                            err,
                            NewSessionError::Lost(_)
                                | NewSessionError::Failed(_)
                                | NewSessionError::FailedC(_)
                        ) =>
                {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(err) => return Err(err).context("cannot start a WebDriver session on the app"),
            }
        }
    }

    /// Ends a session and makes sure its app is gone: a window left behind would cover the next
    /// test's window, and WebKit stops painting a covered window (its screenshots go stale).
    pub async fn close(&self, client: Client, config: &Path) {
        let _ = client.close().await;
        // The tray agent the app started runs until Quit; the next test starts its own.
        self.stop_agent();
        let pattern = config.to_string_lossy().into_owned();
        let running = || {
            Command::new("pgrep")
                .args(["-f", &pattern])
                .output()
                .map(|o| !o.stdout.is_empty())
                .unwrap_or(false)
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while running() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if running() {
            let _ = Command::new("pkill")
                .args(["-KILL", "-f", &pattern])
                .status();
        }
        // The bus frees the app's name once it has seen the app go; the next test's app asks
        // for the same name.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    /// Ends this run's tray agent (`callsupport-tray`), as *Quit* would, and waits until it is gone.
    pub fn stop_agent(&self) {
        let pattern = format!("callsupport-tray --config {}", self.dir.path().display());
        let _ = Command::new("pkill")
            .args(["-TERM", "-f", &pattern])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while agent_running(&pattern) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if agent_running(&pattern) {
            let _ = Command::new("pkill")
                .args(["-KILL", "-f", &pattern])
                .status();
        }
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            let _ = server.stop().await;
        }
    }
}

fn agent_running(pattern: &str) -> bool {
    Command::new("pgrep")
        .args(["-f", pattern])
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false)
}

fn start_xvfb() -> anyhow::Result<(String, Process)> {
    let number = (90..140)
        .find(|n| {
            !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
        })
        .context("no free X display between :90 and :140")?;
    let display = format!(":{number}");
    let child = Command::new("Xvfb")
        .args([
            display.as_str(),
            "-screen",
            "0",
            "1280x800x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start Xvfb (package xvfb)")?;
    let process = Process(child);
    wait_for(Duration::from_secs(10), || {
        Path::new(&format!("/tmp/.X11-unix/X{number}")).exists()
    })
    .context("Xvfb did not start")?;
    Ok((display, process))
}

/// A private D-Bus session bus: the app finds its running instance (single instance) and shows
/// its tray icon through it, as on a desktop, without touching the machine's own session.
fn start_session_bus(root: &Path) -> anyhow::Result<(String, Process)> {
    let socket = root.join("session-bus");
    let address = format!("unix:path={}", socket.display());
    let child = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--nopidfile"])
        .arg(format!("--address={address}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start dbus-daemon (package dbus-daemon)")?;
    let process = Process(child);
    wait_for(Duration::from_secs(10), || socket.exists()).context("dbus-daemon did not start")?;
    Ok((address, process))
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_for(limit: Duration, mut ready: impl FnMut() -> bool) -> anyhow::Result<()> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if ready() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("gave up after {} s", limit.as_secs())
}
