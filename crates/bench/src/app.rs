//! The desktop app against a bare Tauri window, in the same run, on a private X display:
//! release binary sizes; start to window shown; the report dialog's open time (global shortcut to
//! the window shown with its file list, in the app the tray agent starts); memory (PSS summed over
//! the app and its WebKit processes) with the window open, and idle in the tray: the agent alone,
//! at start and after windows were opened and closed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use callsupport_demo::{demo_config, write_demo_logs};

use crate::measure::{median, mib};

const RUNS: usize = 5;
const APP_TITLE: &str = "Call Support";
const BARE_TITLE: &str = "Bare Tauri";
/// How long a window settles before its memory is read.
const SETTLE: Duration = Duration::from_secs(3);

/// A child process stopped with SIGTERM (its WebKit processes go with it), killed if it lingers.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        // SAFETY: sending a signal to our own child.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The private desktop: an X display, a session bus, a home folder, demo logs and a config.
struct Desktop {
    display: String,
    /// One connection for watching windows, opened at first use.
    conn: std::cell::RefCell<Option<x11rb::rust_connection::RustConnection>>,
    env: Vec<(String, PathBuf)>,
    config: PathBuf,
    _bus: Process,
    _x: Process,
    _dir: tempfile::TempDir,
}

impl Desktop {
    fn start() -> Desktop {
        let dir = tempfile::tempdir().expect("temp dir");
        let number = (150..199)
            .find(|n| !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists())
            .expect("a free X display");
        let display = format!(":{number}");
        let x = Process(
            Command::new("Xvfb")
                .args([&display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("Xvfb (package xvfb)"),
        );
        wait(Duration::from_secs(10), || {
            Path::new(&format!("/tmp/.X11-unix/X{number}")).exists()
        })
        .expect("Xvfb started");
        let socket = dir.path().join("bus");
        let bus = Process(
            Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--nopidfile"])
                .arg(format!("--address=unix:path={}", socket.display()))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("dbus-daemon (package dbus-daemon)"),
        );
        wait(Duration::from_secs(10), || socket.exists()).expect("dbus-daemon started");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        let logs = dir.path().join("logs");
        write_demo_logs(&logs, chrono::Utc::now()).expect("demo logs");
        let config = dir.path().join("config.toml");
        // Nothing listens there: the benchmark sends nothing.
        std::fs::write(
            &config,
            demo_config(
                &logs,
                "http://127.0.0.1:9/api/v1/tickets",
                "CALLSUPPORT_BENCH_NONE",
            ),
        )
        .expect("config");
        let env = vec![
            ("DISPLAY".to_owned(), PathBuf::from(&display)),
            (
                "DBUS_SESSION_BUS_ADDRESS".to_owned(),
                PathBuf::from(format!("unix:path={}", socket.display())),
            ),
            ("HOME".to_owned(), home.clone()),
            ("XDG_CONFIG_HOME".to_owned(), home.join(".config")),
            ("XDG_CACHE_HOME".to_owned(), home.join(".cache")),
            ("XDG_DATA_HOME".to_owned(), home.join(".local/share")),
            ("CALLSUPPORT_DATA_DIR".to_owned(), dir.path().join("data")),
            ("CALLSUPPORT_MANAGED_CONFIG".to_owned(), PathBuf::new()),
            ("GSETTINGS_BACKEND".to_owned(), PathBuf::from("memory")),
        ];
        Desktop {
            display,
            conn: std::cell::RefCell::new(None),
            env,
            config,
            _bus: bus,
            _x: x,
            _dir: dir,
        }
    }

    fn spawn(&self, program: &Path, args: &[&str]) -> Process {
        Process(
            Command::new(program)
                .args(args)
                .envs(self.env.iter().map(|(k, v)| (k, v)))
                .env_remove("CALLSUPPORT_CONFIG")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|err| panic!("cannot start {}: {err}", program.display())),
        )
    }

    /// The mapped top-level windows titled exactly `title`, asked over one X connection (a new
    /// `xdotool` every poll would flood the server with connections and slow the app down).
    fn windows(&self, title: &str) -> Vec<u32> {
        use x11rb::connection::Connection;
        use x11rb::protocol::xproto::{AtomEnum, ConnectionExt, MapState};
        let conn = self.x11();
        let root = conn.setup().roots[0].root;
        let Ok(tree) = conn.query_tree(root).map(|c| c.reply()) else {
            return Vec::new();
        };
        let Ok(tree) = tree else { return Vec::new() };
        tree.children
            .into_iter()
            .filter(|&window| {
                let mapped = conn
                    .get_window_attributes(window)
                    .ok()
                    .and_then(|c| c.reply().ok())
                    .is_some_and(|a| a.map_state == MapState::VIEWABLE);
                mapped
                    && conn
                        .get_property(false, window, AtomEnum::WM_NAME, AtomEnum::ANY, 0, 256)
                        .ok()
                        .and_then(|c| c.reply().ok())
                        .is_some_and(|p| p.value == title.as_bytes())
            })
            .collect()
    }

    fn x11(&self) -> std::cell::RefMut<'_, x11rb::rust_connection::RustConnection> {
        let mut slot = self.conn.borrow_mut();
        if slot.is_none() {
            let (conn, _) = x11rb::connect(Some(&self.display)).expect("X display");
            *slot = Some(conn);
        }
        std::cell::RefMut::map(slot, |c| c.as_mut().expect("connected"))
    }

    /// Time until a visible window titled `title` appears, polled every 2 ms.
    fn time_to_window(&self, since: Instant, title: &str) -> Duration {
        wait(Duration::from_secs(20), || !self.windows(title).is_empty())
            .unwrap_or_else(|_| panic!("no window {title} within 20 s"));
        since.elapsed()
    }

    /// Ends every tray agent an app started here; it outlives the app by design.
    fn stop_agents(&self) {
        let pattern = format!("callsupport-tray --config {}", self.config.display());
        let _ = Command::new("pkill").args(["-f", &pattern]).status();
        wait(Duration::from_secs(5), || {
            !Command::new("pgrep")
                .args(["-f", &pattern])
                .output()
                .is_ok_and(|o| !o.stdout.is_empty())
        })
        .expect("the tray agent ends on SIGTERM");
    }

    fn press(&self, keys: &str) {
        let status = Command::new("xdotool")
            .args(["key", "--clearmodifiers", keys])
            .env("DISPLAY", &self.display)
            .status()
            .expect("xdotool");
        assert!(status.success(), "xdotool key {keys}");
    }

    /// Closes the window as a window manager's close button does.
    fn close(&self, title: &str) {
        use x11rb::connection::Connection;
        use x11rb::protocol::xproto::{ClientMessageEvent, ConnectionExt, EventMask};
        let windows = self.windows(title);
        let conn = self.x11();
        let atom = |name: &[u8]| conn.intern_atom(false, name).unwrap().reply().unwrap().atom;
        let (protocols, delete) = (atom(b"WM_PROTOCOLS"), atom(b"WM_DELETE_WINDOW"));
        for window in windows {
            let event = ClientMessageEvent::new(
                32,
                window,
                protocols,
                [delete, x11rb::CURRENT_TIME, 0, 0, 0],
            );
            conn.send_event(false, window, EventMask::NO_EVENT, event)
                .expect("send close");
        }
        conn.flush().expect("flush");
        drop(conn);
        wait(Duration::from_secs(10), || self.windows(title).is_empty()).expect("window closed");
    }
}

pub fn run(app: &Path, tray: &Path, bare: &Path) {
    let desktop = Desktop::start();
    let config = desktop.config.to_str().expect("utf-8 path").to_owned();
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    println!(
        "binaries (release): app {:.1} MiB, tray agent {:.1} MiB; bare Tauri window: {:.1} MiB",
        mib(size(app)),
        mib(size(tray)),
        mib(size(bare))
    );

    // Start to window shown, and memory with the window open, each median of RUNS.
    let mut starts = (Vec::new(), Vec::new());
    let mut open = (Vec::new(), Vec::new());
    let mut agents = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let process = desktop.spawn(app, &["--config", &config]);
        starts.0.push(desktop.time_to_window(started, APP_TITLE));
        std::thread::sleep(SETTLE);
        // The app with its WebKit processes; the tray agent it started is counted apart.
        let agent = pss_tree_named(process.0.id(), "callsupport-tra");
        open.0.push(pss_tree(process.0.id()) - agent);
        agents.push(agent);
        drop(process);
        desktop.stop_agents();

        let started = Instant::now();
        let process = desktop.spawn(bare, &[]);
        starts.1.push(desktop.time_to_window(started, BARE_TITLE));
        std::thread::sleep(SETTLE);
        open.1.push(pss_tree(process.0.id()));
        drop(process);
    }
    let (app_start, bare_start) = (median(&mut starts.0), median(&mut starts.1));
    println!(
        "start to window shown: app {} ms (with its file list), bare Tauri {} ms; median of {RUNS}",
        app_start.as_millis(),
        bare_start.as_millis()
    );
    let (app_open, bare_open) = (median_u64(&mut open.0), median_u64(&mut open.1));
    println!(
        "memory with the window open (PSS, app + WebKit processes): app {:.1} MiB, bare Tauri {:.1} MiB = {:.2}x (goal at most 1.2x); with the tray agent beside it ({:.1} MiB) {:.2}x",
        kib_mib(app_open),
        kib_mib(bare_open),
        app_open as f64 / bare_open as f64,
        kib_mib(median_u64(&mut agents)),
        (app_open + median_u64(&mut agents)) as f64 / bare_open as f64
    );

    // In the tray: the agent alone. Its shortcut starts the app with the report dialog; closed,
    // the app ends and the agent is all that is left.
    let agent = desktop.spawn(tray, &["--config", &config]);
    std::thread::sleep(SETTLE);
    let first_idle = pss_tree(agent.0.id());
    let (mut opens, mut idles) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let pressed = Instant::now();
        desktop.press("ctrl+alt+shift+r");
        opens.push(desktop.time_to_window(pressed, APP_TITLE));
        std::thread::sleep(Duration::from_millis(500));
        desktop.close(APP_TITLE);
        wait(Duration::from_secs(10), || {
            children(agent.0.id()).is_empty()
        })
        .expect("the app ends when its window closes");
        std::thread::sleep(SETTLE);
        idles.push(pss_tree(agent.0.id()));
    }
    let open_time = median(&mut opens);
    println!(
        "report dialog open (shortcut to window shown with its file list, a new app each time): median {} ms of {RUNS} (goal under 300 ms); fastest {} ms",
        open_time.as_millis(),
        opens.iter().min().expect("runs").as_millis()
    );
    println!(
        "memory idle in the tray, no window (PSS of the tray agent): {:.1} MiB at start, {:.1} MiB after a window was opened and closed (median of {RUNS}); goal under 60 MiB",
        kib_mib(first_idle),
        kib_mib(median_u64(&mut idles))
    );
    drop(agent);
    desktop.stop_agents();
}

/// PSS (KiB) of `pid` and every process below it.
fn pss_tree(pid: u32) -> u64 {
    let mut total = 0;
    let mut queue = vec![pid];
    while let Some(pid) = queue.pop() {
        total += pss(pid);
        queue.extend(children(pid));
    }
    total
}

/// PSS (KiB) of the processes below `pid` (and `pid` itself) whose name is `name` (as
/// `/proc/PID/comm` shows it, cut at 15 bytes), with everything below them.
fn pss_tree_named(pid: u32, name: &str) -> u64 {
    let mut total = 0;
    let mut queue = vec![pid];
    while let Some(pid) = queue.pop() {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim_end() == name {
            total += pss_tree(pid);
        } else {
            queue.extend(children(pid));
        }
    }
    total
}

fn pss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|stat| {
                    // `pid (name) state ppid …`; the name may hold spaces and parentheses.
                    let after = &stat[stat.rfind(')')? + 2..];
                    after.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

fn median_u64(values: &mut [u64]) -> u64 {
    values.sort_unstable();
    values[values.len() / 2]
}

fn kib_mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn wait(limit: Duration, mut ready: impl FnMut() -> bool) -> Result<(), ()> {
    let deadline = Instant::now() + limit;
    while !ready() {
        if Instant::now() > deadline {
            return Err(());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(())
}
