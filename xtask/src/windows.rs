//! Windows, built and tested from this Linux machine.
//!
//! rustup cannot fetch another target's standard library here, so Debian's Rust (`rustc-web`,
//! 1.96, in `/usr/bin`) builds one from its source (`rust-web-src`) with `-Zbuild-std`;
//! mingw-w64 links and compiles the C in our dependencies; Wine runs the test programs, in a
//! private prefix under `target/windows/wine`. Wine 8.0 lacks `bcryptprimitives.dll`, from which
//! Rust programs take their random bytes, so a small stand-in built from
//! `xtask/windows/processprng.c` goes into the prefix (it is never shipped).
//!
//! Everything lands in `target/windows`, apart from the Linux build, so neither invalidates the
//! other.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::util::{cmd, run as run_cmd};

/// The variable through which the tests find the outside-tools bridge (`callsupport-outside-tools`).
const BRIDGE_ENV: &str = "CALLSUPPORT_OUTSIDE_TOOLS";

/// The Windows target: the GNU ABI, which mingw-w64 links (MSVC's linker does not run here).
pub const TARGET: &str = "x86_64-pc-windows-gnu";

/// Debian packages for building and testing the Windows programs, with the reason for each.
pub const PACKAGES: &[(&str, &str)] = &[
    (
        "rustc-web",
        "Debian's Rust 1.96, which can build the standard library for Windows (rustup cannot fetch it here)",
    ),
    ("cargo-web", "the cargo that goes with it"),
    (
        "rust-web-src",
        "the standard library's source, which -Zbuild-std compiles for Windows",
    ),
    (
        "libstd-rust-web-dev",
        "the host standard library of Debian's Rust (build scripts and macros)",
    ),
    ("rust-web-clippy", "clippy for the Windows target"),
    (
        "gcc-mingw-w64-x86-64",
        "links Windows programs and compiles the C in our dependencies for Windows",
    ),
    (
        "g++-mingw-w64-x86-64",
        "compiles the C++ in our dependencies for Windows",
    ),
    (
        "mingw-w64-x86-64-dev",
        "the Windows headers and import libraries",
    ),
    (
        "binutils-mingw-w64-x86-64",
        "the Windows linker, archiver and resource compiler",
    ),
    ("wine64", "runs the Windows test programs here"),
    ("wine", "the `wine` command"),
    (
        "nsis",
        "makensis, which builds the per-machine and per-user installers (64-bit stubs)",
    ),
    ("wixl", "builds the MSI from WiX source (msitools)"),
    (
        "osslsigncode",
        "signs the Windows programs and installers (Authenticode) and verifies the signatures",
    ),
    ("openssl", "makes the test signing certificate"),
];

/// Debian's tools, called by their full paths: rustup's stay first on PATH for the Linux build.
const CARGO: &str = "/usr/bin/cargo";
const RUSTC: &str = "/usr/bin/rustc";
const RUSTDOC: &str = "/usr/bin/rustdoc";
const CLIPPY_DRIVER: &str = "/usr/bin/clippy-driver";

/// The crates whose test suites run under Wine: every library crate and the programs that ship
/// for Windows apart from the app (which needs WebView2, which Wine does not have).
pub const TESTED: &[&str] = &[
    "callsupport-error",
    "callsupport-redact",
    "callsupport-kept",
    "callsupport-demo",
    "callsupport-bundle",
    "callsupport-config",
    "callsupport-logs",
    "callsupport-upload",
    "callsupport-desk",
    "callsupport-cli",
    "callsupport-ticket-server",
    "callsupport-screen",
    "callsupport-tray",
];

/// `cargo xtask windows`: installs what is missing, then the Windows stages of `cargo xtask test`.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    if let Some(arg) = args.first() {
        bail!("`cargo xtask windows` takes no arguments (got `{arg}`)");
    }
    let root = crate::util::root();
    let mut stages = crate::util::Stages::default();
    let result = stages
        .time("install what is missing", || {
            crate::deps::packages(&[PACKAGES])
        })
        .and_then(|()| time_stages(&mut stages, &root));
    stages.print();
    result
}

/// The Windows stages, timed: the toolchain and prefix made ready, clippy for Windows, the test
/// suites under Wine. `cargo xtask test` runs them too, its packages installed first.
pub fn time_stages(stages: &mut crate::util::Stages, root: &Path) -> anyhow::Result<()> {
    let win = stages.time("Windows: prepare the toolchain and the Wine prefix", || {
        Windows::prepare(root)
    })?;
    stages.time(
        "Windows: lints (clippy -D warnings, x86_64-pc-windows-gnu)",
        || win.clippy(),
    )?;
    stages.time("Windows: unit and integration tests under Wine", || {
        win.test()
    })
}

/// The workspace's developer tools that drive Linux programs, with why they are not built for
/// Windows.
const LINUX_ONLY: &[(&str, &str)] = &[
    (
        "xtask",
        "installs Debian packages and drives this Linux machine",
    ),
    (
        "callsupport-bench",
        "measures against Linux tools (find, zip, curl) with Linux process accounting",
    ),
    (
        "callsupport-e2e",
        "drives the Linux app through WebKitWebDriver under Xvfb",
    ),
];

/// The Windows build: Debian's toolchain, the target folder and the Wine prefix.
pub struct Windows {
    root: PathBuf,
    target_dir: PathBuf,
    prefix: PathBuf,
}

impl Windows {
    /// Checks the toolchain is there and makes the Wine prefix ready (once; later calls are quick).
    pub fn prepare(root: &Path) -> anyhow::Result<Self> {
        for tool in [
            CARGO,
            RUSTC,
            CLIPPY_DRIVER,
            "/usr/bin/x86_64-w64-mingw32-gcc",
        ] {
            if !Path::new(tool).is_file() {
                bail!(
                    "{tool} is missing: install the Windows build packages (`cargo xtask test` does, \
                     as root or through sudo)"
                );
            }
        }
        let windows = Self {
            root: root.to_owned(),
            target_dir: root.join("target/windows"),
            prefix: root.join("target/windows/wine"),
        };
        windows.wine_prefix()?;
        Ok(windows)
    }

    /// The same toolchain with a new, empty Wine prefix at `prefix` (an older one there is
    /// removed first): a throwaway Windows for the installers' check.
    pub fn with_fresh_prefix(&self, prefix: PathBuf) -> anyhow::Result<Self> {
        let windows = Self {
            root: self.root.clone(),
            target_dir: self.target_dir.clone(),
            prefix,
        };
        if windows.prefix.exists() {
            windows.stop();
            std::fs::remove_dir_all(&windows.prefix)
                .with_context(|| format!("cannot remove {}", windows.prefix.display()))?;
        }
        windows.wine_prefix()?;
        Ok(windows)
    }

    /// The Wine prefix: its `drive_c` is the Windows machine's `C:`.
    pub fn prefix(&self) -> &Path {
        &self.prefix
    }

    /// `program` (a Windows path, or a file on this machine) with `args`, run under Wine.
    pub fn wine(&self, program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Command {
        let mut command = Command::new("wine");
        command.arg(program).args(args).current_dir(&self.root);
        self.wine_env(&mut command);
        command
    }

    /// Waits until every program of the prefix has exited (an uninstaller runs on from a copy;
    /// `wineboot` goes on writing the prefix after it returns).
    pub fn wait(&self) -> anyhow::Result<()> {
        let mut wait = Command::new("wineserver");
        wait.arg("--wait");
        self.wine_env(&mut wait);
        run_cmd(&mut wait)
    }

    /// The folder the Windows programs of cargo profile `profile` land in.
    pub fn out_dir(&self, profile: &str) -> PathBuf {
        self.target_dir.join(TARGET).join(profile)
    }

    /// Stops the prefix's Wine server and what runs in it.
    pub fn stop(&self) {
        let mut stop = Command::new("wineserver");
        stop.arg("-k");
        self.wine_env(&mut stop);
        let _ = stop.status();
    }

    /// A `cargo` command (`build`, `test`, `clippy`…) for the Windows target with `args` after it.
    pub fn cargo(&self, subcommand: &str, args: &[&str]) -> Command {
        let mut command = cmd(CARGO, &[subcommand], &self.root);
        command
            .args(["-Zbuild-std=std,panic_unwind", "--target", TARGET])
            .arg("--target-dir")
            .arg(&self.target_dir)
            .args(args);
        self.env(&mut command);
        command
    }

    /// Clippy over every crate of the workspace but [`LINUX_ONLY`], for Windows: the app's and
    /// the agent's Windows code compiles and is linted every run.
    pub fn clippy(&self) -> anyhow::Result<()> {
        let mut args = vec!["--workspace", "--all-targets"];
        for (name, _) in LINUX_ONLY {
            args.extend(["--exclude", name]);
        }
        args.extend(["--", "-D", "warnings"]);
        run_cmd(&mut self.cargo("clippy", &args))
    }

    /// Builds the test suites of [`TESTED`] and runs them under Wine, with the outside tools they
    /// check with run on the Linux side.
    pub fn test(&self) -> anyhow::Result<()> {
        let bridge = crate::outside_bridge::Bridge::start(&self.prefix)?;
        // Every suite runs even when one fails, so one run shows every failure.
        let mut args: Vec<&str> = vec!["--no-fail-fast"];
        for name in TESTED {
            args.extend(["-p", name]);
        }
        // A display for the tests that put a window on the screen (the screenshot's).
        let (display, _xvfb) = crate::util::xvfb("1024x768x24")?;
        let mut command = self.cargo("test", &args);
        command
            .env(BRIDGE_ENV, &bridge.address)
            .env("DISPLAY", &display);
        // A test that hangs under Wine must fail the run, not hold it until CI's limit.
        let result = run_with_limit(&mut command, TEST_LIMIT);
        // Wine's server outlives the tests by a few seconds; stop it so nothing lingers.
        self.stop();
        result
    }

    /// Only what running a program under Wine needs (the prefix, quiet logs, no display), for a
    /// command that starts `wine` itself.
    pub fn wine_env(&self, command: &mut Command) {
        command
            .env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
    }

    fn env(&self, command: &mut Command) {
        let mingw = |tool: &str| format!("x86_64-w64-mingw32-{tool}");
        // Debian's `cargo-clippy` and `clippy-driver` before rustup's, which know nothing of
        // Debian's standard library source.
        let path = std::env::var_os("PATH").unwrap_or_default();
        let path = std::env::join_paths(
            std::iter::once(PathBuf::from("/usr/bin")).chain(std::env::split_paths(&path)),
        )
        .unwrap_or(path);
        command
            .env("PATH", path)
            .env("RUSTC", RUSTC)
            .env("RUSTDOC", RUSTDOC)
            .env("CLIPPY_DRIVER", CLIPPY_DRIVER)
            // -Zbuild-std is unstable; Debian's stable compiler allows it with this.
            .env("RUSTC_BOOTSTRAP", "1")
            .env_remove("RUSTC_WRAPPER")
            .env_remove("RUSTC_WORKSPACE_WRAPPER")
            .env("CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER", mingw("gcc"))
            .env("CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER", "wine")
            .env("CC_x86_64_pc_windows_gnu", mingw("gcc"))
            .env("CXX_x86_64_pc_windows_gnu", mingw("g++"))
            .env("AR_x86_64_pc_windows_gnu", mingw("ar"))
            .env("RC_x86_64_pc_windows_gnu", mingw("windres"))
            // File and line in backtraces, not full debug info: the Windows target folder is
            // several times smaller, and links faster.
            .env("CARGO_PROFILE_DEV_DEBUG", "line-tables-only");
        // No "fixme" chatter in test output, no Mono or Gecko install prompts, no windows on the
        // developer's display (the tests get a private one).
        self.wine_env(command);
    }

    /// Creates the prefix if it is new and puts the `ProcessPrng` stand-in into its `system32`.
    fn wine_prefix(&self) -> anyhow::Result<()> {
        let system32 = self.prefix.join("drive_c/windows/system32");
        if !system32.is_dir() {
            eprintln!(
                "Creating a private Wine prefix in {} (about 10 s, once)",
                self.prefix.display()
            );
            std::fs::create_dir_all(&self.prefix)?;
            let mut boot = Command::new("wineboot");
            boot.arg("--init");
            self.env(&mut boot);
            run_cmd(&mut boot)?;
            self.wait()?;
        }
        let dll = system32.join("bcryptprimitives.dll");
        let source = self.root.join("xtask/windows/processprng.c");
        let fresh = match (std::fs::metadata(&dll), std::fs::metadata(&source)) {
            (Ok(dll), Ok(source)) => dll.modified()? >= source.modified()?,
            _ => false,
        };
        if !fresh {
            let def = self.root.join("xtask/windows/processprng.def");
            let mut gcc = Command::new("x86_64-w64-mingw32-gcc");
            gcc.args(["-O2", "-shared", "-o"])
                .arg(&dll)
                .arg(&source)
                .arg(&def)
                .arg("-lbcrypt");
            run_cmd(&mut gcc).context("cannot build the ProcessPrng stand-in for Wine")?;
        }
        Ok(())
    }
}

/// The longest the Windows test suites may take, built and run (about 6 min measured here).
const TEST_LIMIT: std::time::Duration = std::time::Duration::from_secs(25 * 60);

/// Runs `command`, killing it (and what it started) when it is not done within `limit`.
fn run_with_limit(command: &mut Command, limit: std::time::Duration) -> anyhow::Result<()> {
    use std::os::unix::process::CommandExt;
    eprintln!(
        "$ {} (at most {} min)",
        crate::util::show(command),
        limit.as_secs() / 60
    );
    // Its own process group, so the test programs under Wine go with it.
    let mut child = command
        .process_group(0)
        .spawn()
        .context("cannot start cargo")?;
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            if status.success() {
                return Ok(());
            }
            bail!("the Windows tests failed ({status}); see above");
        }
        if start.elapsed() > limit {
            kill_group(child.id());
            let _ = child.wait();
            bail!(
                "the Windows tests did not finish within {} min: a test hangs under Wine (the \
                 last `test … has been running for over 60 seconds` above names it)",
                limit.as_secs() / 60
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

/// Kills the process group `pid` leads.
fn kill_group(pid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .status();
}
