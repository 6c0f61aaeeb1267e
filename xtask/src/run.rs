//! `cargo xtask run`: the product on this machine in one command, with demo logs and a local server.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use callsupport_demo::{demo_config, write_demo_logs};

use crate::util::{Guard, cmd, root, run as run_cmd, which};
use crate::{deps, ticket_server};

const TOKEN_ENV: &str = "CALLSUPPORT_DEMO_TOKEN";

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let headless = match args {
        [] => false,
        [flag] if flag == "--headless" => true,
        other => bail!(
            "`cargo xtask run` takes only --headless (got `{}`)",
            other.join(" ")
        ),
    };
    let has_display = std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty())
        || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|d| !d.is_empty());
    if !headless && !has_display {
        bail!(
            "no display found (DISPLAY and WAYLAND_DISPLAY are not set); run `cargo xtask run --headless` to run under Xvfb and save a screenshot to target/"
        );
    }
    let root = root();
    let sets: &[&[(&str, &str)]] = if headless {
        &[deps::BUILD, deps::HEADLESS]
    } else {
        &[deps::BUILD]
    };
    deps::packages(sets)?;
    deps::node_modules()?;
    run_cmd(&mut cmd(
        "npm",
        &["run", "--silent", "build"],
        &root.join("ui"),
    ))?;
    run_cmd(&mut cmd(
        "cargo",
        &[
            "build",
            "-p",
            "callsupport-app",
            "-p",
            "callsupport-tray",
            "-p",
            "callsupport-ticket-server",
        ],
        &root,
    ))?;

    let demo = root.join("target/demo");
    let logs = demo.join("logs");
    let _ = std::fs::remove_dir_all(&logs);
    let files = write_demo_logs(&logs, chrono::Utc::now())?;
    let token = format!("demo-{}", uuid_like());

    let (server, base) = ticket_server::start(
        &root,
        &demo.join("server"),
        &[("CALLSUPPORT_SERVER_TOKEN", &token)],
        &[],
    )?;
    let config = demo.join("config.toml");
    std::fs::write(
        &config,
        demo_config(&logs, &format!("{base}/api/v1/tickets"), TOKEN_ENV),
    )?;
    eprintln!(
        "ticket server: {base} (tickets and bundles in {})",
        demo.join("server").display()
    );
    eprintln!("demo logs:     {} ({files} files)", logs.display());
    eprintln!("config:        {}", config.display());

    let mut app = Command::new(root.join("target/debug/callsupport-app"));
    app.arg("--config")
        .arg(&config)
        .env(TOKEN_ENV, &token)
        .env("CALLSUPPORT_DATA_DIR", demo.join("app-data"));
    // The webview's own data and caches stay in target/ too: a demo leaves the home folder alone.
    for (var, sub) in [
        ("XDG_DATA_HOME", "data"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_CONFIG_HOME", "config"),
    ] {
        app.env(var, demo.join("xdg").join(sub));
    }
    if !headless {
        eprintln!("opening Call Support; close its window to stop");
        let status = app.status().context("cannot start the app")?;
        stop_agent(&config);
        drop(server);
        if !status.success() {
            bail!("the app exited with {status}");
        }
        return Ok(());
    }
    let result = headless_run(&mut app, &root.join("target/callsupport-window.png"));
    stop_agent(&config);
    result
}

/// Ends the tray agent the demo app started (it outlives the app by design; the demo's server
/// and folders do not).
fn stop_agent(config: &Path) {
    let pattern = format!("callsupport-tray --config {}", config.display());
    let _ = Command::new("pkill").args(["-f", &pattern]).status();
}

/// Runs the app on a private Xvfb display and saves a screenshot of its window.
fn headless_run(app: &mut Command, screenshot: &Path) -> anyhow::Result<()> {
    let (display, _xvfb) = crate::util::xvfb("1280x800x24")?;
    let _app = Guard(
        app.env("DISPLAY", &display)
            .env("GSETTINGS_BACKEND", "memory")
            .spawn()
            .context("cannot start the app")?,
    );
    let xwininfo = which("xwininfo").context("xwininfo is missing (package x11-utils)")?;
    let mut window = None;
    wait_for(Duration::from_secs(30), || {
        window = Command::new(&xwininfo)
            .args(["-name", "Call Support"])
            .env("DISPLAY", &display)
            .output()
            .ok()
            .and_then(|o| window_id(&String::from_utf8_lossy(&o.stdout)));
        window.is_some()
    })
    .context("the app's window did not appear within 30 s")?;
    let window = window.expect("found above");
    // The window exists before the webview has painted; give it a moment.
    std::thread::sleep(Duration::from_secs(3));
    run_cmd(
        cmd("import", &["-window", &window], Path::new("."))
            .arg(screenshot)
            .env("DISPLAY", &display),
    )?;
    eprintln!("screenshot of the running app: {}", screenshot.display());
    Ok(())
}

/// The id in xwininfo's "xwininfo: Window id: 0x1a00003 "Call Support"" line.
fn window_id(xwininfo: &str) -> Option<String> {
    xwininfo.lines().find_map(|line| {
        line.split("Window id: ")
            .nth(1)?
            .split_whitespace()
            .next()
            .map(str::to_owned)
    })
}

fn wait_for(limit: Duration, mut ready: impl FnMut() -> bool) -> anyhow::Result<()> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if ready() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    bail!("gave up after {} s", limit.as_secs())
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}{:x}", nanos, std::process::id())
}
