//! Installs what the build and the tests need and the machine lacks, saying what and why.
//!
//! Debian packages come from apt (as root, or through sudo), the UI's packages from `npm ci`, and
//! `tauri-driver` from crates.io. Each is checked first, so a prepared machine installs nothing.

use std::path::PathBuf;

use anyhow::{Context, bail};

use crate::util::{cmd, output, root, run, which};

/// Debian packages needed to build the desktop app, with the reason shown to whoever installs them.
pub const BUILD: &[(&str, &str)] = &[
    (
        "build-essential",
        "C compiler for the bundled SQLite and the TLS library",
    ),
    ("pkg-config", "locates the system libraries below"),
    (
        "libwebkit2gtk-4.1-dev",
        "the WebKitGTK webview the app's window is built on",
    ),
    ("libayatana-appindicator3-dev", "the tray icon"),
    ("librsvg2-dev", "icons in the tray menu"),
    (
        "libdbus-1-dev",
        "D-Bus, through which the app keeps the ticket API token in the Secret Service",
    ),
];

/// Debian packages needed to run the tests.
pub const TEST: &[(&str, &str)] = &[
    (
        "xvfb",
        "a virtual display, so the app can run without a screen",
    ),
    ("xauth", "lets the app connect to the virtual display"),
    (
        "webkit2gtk-driver",
        "WebKitWebDriver, through which the end-to-end tests drive the app",
    ),
    (
        "unzip",
        "Info-ZIP's `unzip -t` checks our bundles independently",
    ),
    (
        "age",
        "Debian's age decrypts the bundles we seal and seals bundles we open, independently",
    ),
    (
        "python3",
        "Python's zipfile checks our bundles independently",
    ),
    (
        "python3-venv",
        "a private Python environment for schemathesis, which checks the ticket API",
    ),
    (
        "dbus-daemon",
        "a private session bus for the app under test (single instance, tray)",
    ),
    (
        "xdotool",
        "types into the native save dialog, which WebDriver cannot reach",
    ),
    (
        "python3-jsonschema",
        "checks configuration files against our JSON Schema independently",
    ),
    (
        "gnome-keyring",
        "a real Secret Service, where `callsupport token set` keeps the ticket API token",
    ),
    (
        "dunst",
        "a real notification service, which shows the detection prompt and answers it",
    ),
    (
        "desktop-file-utils",
        "checks the installed desktop entry and registers its link handler, as a desktop does",
    ),
    (
        "xdg-utils",
        "xdg-mime, through which doctor asks which app opens callsupport:// links",
    ),
    ("rpm", "reads the .rpm installer we build"),
    (
        "postgresql",
        "PostgreSQL, which the ticket server's tests start privately to keep tickets in",
    ),
    (
        "lintian",
        "Debian's package checker, run on the .deb we build",
    ),
];

/// Debian packages for `cargo xtask run --headless`.
pub const HEADLESS: &[(&str, &str)] = &[
    (
        "xvfb",
        "a virtual display, so the app can run without a screen",
    ),
    ("xauth", "lets the app connect to the virtual display"),
    ("x11-utils", "xwininfo, to wait until the window is shown"),
    ("imagemagick", "`import` takes the screenshot of the window"),
];

/// Installs the packages of `sets` that are missing (Debian and Ubuntu only).
pub fn packages(sets: &[&[(&str, &str)]]) -> anyhow::Result<()> {
    let wanted: Vec<(&str, &str)> = sets.iter().flat_map(|s| s.iter().copied()).collect();
    if which("dpkg-query").is_none() {
        eprintln!("note: this is not a Debian or Ubuntu system; make sure these are installed:");
        for (name, why) in &wanted {
            eprintln!("  {name}: {why}");
        }
        return Ok(());
    }
    let mut missing: Vec<(&str, &str)> = Vec::new();
    for (name, why) in wanted {
        let status = cmd("dpkg-query", &["-W", "-f=${Status}", name], &root()).output();
        let installed = status
            .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
            .unwrap_or(false);
        if !installed && !missing.iter().any(|(n, _)| *n == name) {
            missing.push((name, why));
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("Installing Debian packages this project needs:");
    for (name, why) in &missing {
        eprintln!("  {name}: {why}");
    }
    let names: Vec<&str> = missing.iter().map(|(n, _)| *n).collect();
    let uid = output(&mut cmd("id", &["-u"], &root())).unwrap_or_default();
    let sudo: Vec<&str> = if uid.trim() == "0" {
        vec![]
    } else if which("sudo").is_some() {
        vec!["sudo"]
    } else {
        bail!(
            "installing needs root: run `apt-get install -y {}` as root, then run this again",
            names.join(" ")
        );
    };
    let apt = |args: &[&str]| {
        let mut all: Vec<&str> = sudo.clone();
        all.push("apt-get");
        all.extend_from_slice(args);
        let mut command = cmd(all[0], &all[1..], &root());
        command.env("DEBIAN_FRONTEND", "noninteractive");
        run(&mut command)
    };
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(&names);
    apt(&install)
}

/// Runs `npm ci` in `ui/` unless `node_modules` already matches the lock file.
pub fn node_modules() -> anyhow::Result<()> {
    let ui = root().join("ui");
    if which("npm").is_none() {
        bail!(
            "npm is not installed; install Node.js 20 or newer (https://nodejs.org or `apt-get install nodejs npm`)"
        );
    }
    let lock = ui.join("package-lock.json");
    let installed = ui.join("node_modules/.package-lock.json");
    let fresh = match (std::fs::metadata(&lock), std::fs::metadata(&installed)) {
        (Ok(lock), Ok(installed)) => installed.modified()? >= lock.modified()?,
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    eprintln!("Installing the UI's npm packages (ui/package-lock.json)");
    run(&mut cmd("npm", &["ci", "--no-audit", "--no-fund"], &ui))
}

/// Finds `tauri-driver`, installing it from crates.io if it is missing.
pub fn tauri_driver() -> anyhow::Result<PathBuf> {
    if let Some(path) = which("tauri-driver") {
        return Ok(path);
    }
    eprintln!("Installing tauri-driver (the WebDriver bridge to the app) from crates.io");
    run(&mut cmd(
        "cargo",
        &["install", "tauri-driver", "--version", "^2", "--locked"],
        &root(),
    ))?;
    which("tauri-driver")
        .context("tauri-driver was installed but is not on PATH or in ~/.cargo/bin")
}

/// The Azurite version the ticket server's blob storage tests run against (from npm, into
/// `target/tools/azurite`, where the tests look for it).
const AZURITE: &str = "3.37.0";

/// Installs Azurite, the Azure Storage emulator, from npm unless this version is there.
pub fn azurite() -> anyhow::Result<PathBuf> {
    let prefix = root().join("target/tools/azurite");
    let program = prefix.join("node_modules/.bin/azurite-blob");
    let installed = std::fs::read_to_string(prefix.join("node_modules/azurite/package.json"))
        .is_ok_and(|manifest| manifest.contains(&format!("\"version\": \"{AZURITE}\"")));
    if program.is_file() && installed {
        return Ok(program);
    }
    eprintln!(
        "Installing Azurite {AZURITE} (the Azure Storage emulator the ticket server's blob storage tests use) from npm"
    );
    std::fs::create_dir_all(&prefix)?;
    run(&mut cmd(
        "npm",
        &[
            "install",
            "--prefix",
            prefix.to_str().expect("utf-8 path"),
            "--no-audit",
            "--no-fund",
            "--silent",
            &format!("azurite@{AZURITE}"),
        ],
        &root(),
    ))?;
    Ok(program)
}

/// The moto version whose S3 server the ticket server's blob storage tests run against.
const MOTO: &str = "5.1.22";

/// Installs moto's S3 server from PyPI into `target/tools/moto` unless this version is there.
pub fn moto() -> anyhow::Result<PathBuf> {
    python_tool(
        "moto",
        "bin/moto_server",
        &format!("moto[server]=={MOTO}"),
        MOTO,
        "an S3 server the ticket server's blob storage tests use",
    )
}

/// The schemathesis version the API conformance stage runs (from PyPI, into a venv under target/).
const SCHEMATHESIS: &str = "4.32.5";

/// Finds schemathesis's `st` in the project's own venv, creating the venv and installing it from
/// PyPI if missing.
pub fn schemathesis() -> anyhow::Result<PathBuf> {
    python_tool(
        "schemathesis",
        "bin/st",
        &format!("schemathesis=={SCHEMATHESIS}"),
        SCHEMATHESIS,
        "checks the ticket API against its OpenAPI document",
    )
}

/// `program` from a private venv `target/tools/NAME` holding `requirement` at `version`; the venv
/// is made anew from PyPI when the program is missing or pip shows another version.
fn python_tool(
    name: &str,
    program: &str,
    requirement: &str,
    version: &str,
    why: &str,
) -> anyhow::Result<PathBuf> {
    let venv = root().join("target/tools").join(name);
    let program = venv.join(program);
    let pip = venv.join("bin/pip");
    let pip = pip.to_str().expect("utf-8 path");
    let package = requirement.split(['[', '=']).next().unwrap_or(name);
    let installed = output(&mut cmd(pip, &["show", package], &root()))
        .is_ok_and(|shown| shown.lines().any(|l| l == format!("Version: {version}")));
    if program.is_file() && installed {
        return Ok(program);
    }
    eprintln!("Installing {name} {version} ({why}) from PyPI");
    let _ = std::fs::remove_dir_all(&venv);
    run(&mut cmd(
        "python3",
        &["-m", "venv", venv.to_str().expect("utf-8 path")],
        &root(),
    ))?;
    run(&mut cmd(
        pip,
        &[
            "install",
            "--quiet",
            "--disable-pip-version-check",
            requirement,
        ],
        &root(),
    ))?;
    Ok(program)
}
