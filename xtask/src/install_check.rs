//! The installers checked with the system's own tools, as IT would use them.
//!
//! `sha256sum --check` agrees with the `SHA256SUMS` beside them, and `lintian` finds no error in
//! the `.deb`. Then each package goes into a fresh throwaway root with the real `dpkg` or `rpm`
//! (`--root`: nothing touches the machine's own `/usr`). From there: the desktop entry passes
//! `desktop-file-validate` and is registered the way the desktop's trigger does it; the installed
//! `callsupport --version` answers; `callsupport doctor` finds every check ok against the
//! reference ticket server with a machine-wide file in the root's `/etc`; a report goes through,
//! and no file written holds the token. Removing the package (`dpkg --purge`, `rpm --erase`) must
//! leave nothing behind but the user's data and IT's file. Both install the same files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, ensure};

use crate::dist::{Packages, out_dir};
use crate::ticket_server;
use crate::util::{cmd, output, root, run};

/// The package's name in dpkg's database.
const PACKAGE: &str = "callsupport";
/// The submit token the check's server takes (passed through the environment).
const TOKEN: &str = "install-check-token";

/// The files both packages must install (directories aside).
fn expected_files() -> BTreeSet<String> {
    let mut files: BTreeSet<String> = [
        "/usr/bin/callsupport-app",
        "/usr/bin/callsupport",
        "/usr/bin/callsupport-tray",
        "/usr/share/applications/callsupport.desktop",
    ]
    .map(String::from)
    .into();
    for size in [16, 24, 32, 48, 64, 128, 256, 512] {
        files.insert(format!(
            "/usr/share/icons/hicolor/{size}x{size}/apps/callsupport-app.png"
        ));
    }
    files
}

pub fn check(packages: &Packages) -> anyhow::Result<()> {
    run(&mut cmd(
        "sha256sum",
        &["--check", "SHA256SUMS"],
        &out_dir(),
    ))?;
    // Debian's own package checker: no error; its warnings are shown.
    run(cmd(
        "lintian",
        &["--fail-on", "error", "--tag-display-limit", "0"],
        &root(),
    )
    .arg(&packages.deb))?;
    let deb_files = install_use_remove(Manager::Dpkg, &packages.deb)?;
    let rpm_files = install_use_remove(Manager::Rpm, &packages.rpm)?;
    // The changelog is Debian's alone.
    let deb_files: BTreeSet<String> = deb_files
        .into_iter()
        .filter(|path| !path.ends_with("/changelog.gz"))
        .collect();
    ensure!(
        rpm_files == deb_files,
        "the .rpm and the .deb install different files:\n  only in the .rpm: {:?}\n  only in the .deb: {:?}",
        rpm_files.difference(&deb_files).collect::<Vec<_>>(),
        deb_files.difference(&rpm_files).collect::<Vec<_>>()
    );
    Ok(())
}

/// One package through its whole life in a fresh throwaway root; the files it installed.
fn install_use_remove(manager: Manager, package: &Path) -> anyhow::Result<BTreeSet<String>> {
    let root = Sysroot::new(manager)?;
    let files = root.install(package)?;
    root.check_desktop_entry()?;
    root.check_programs()?;
    root.use_installed()?;
    root.remove()?;
    std::fs::remove_dir_all(&root.dir)?;
    Ok(files)
}

/// The system's package manager for one kind of package, pointed at the throwaway root.
#[derive(Clone, Copy)]
enum Manager {
    Dpkg,
    Rpm,
}

impl Manager {
    fn name(self) -> &'static str {
        match self {
            Manager::Dpkg => "dpkg",
            Manager::Rpm => "rpm",
        }
    }

    /// Its database inside the root.
    fn database(self) -> &'static str {
        match self {
            Manager::Dpkg => "var/lib/dpkg",
            Manager::Rpm => "var/lib/rpm",
        }
    }

    /// Creates an empty database in `root`.
    fn init(self, root: &Path) -> anyhow::Result<()> {
        let database = root.join(self.database());
        match self {
            Manager::Dpkg => {
                for sub in ["info", "updates"] {
                    std::fs::create_dir_all(database.join(sub))?;
                }
                std::fs::write(database.join("status"), "")?;
            }
            Manager::Rpm => {
                std::fs::create_dir_all(&database)?;
                run(&mut self.command(root, &["--initdb"]))?;
            }
        }
        Ok(())
    }

    fn command(self, root: &Path, args: &[&str]) -> Command {
        let mut command = cmd(self.name(), &[], &crate::util::root());
        match self {
            Manager::Dpkg => command
                .arg("--force-not-root")
                .arg(format!("--root={}", root.display())),
            Manager::Rpm => command
                .arg("--root")
                .arg(root)
                .args(["--dbpath", "/var/lib/rpm"]),
        };
        command.args(args);
        command
    }

    /// Installs `package`; the libraries it depends on are the machine's own, outside the root.
    fn install(self, root: &Path, package: &Path) -> anyhow::Result<()> {
        let args: &[&str] = match self {
            Manager::Dpkg => &["--force-depends", "--install"],
            Manager::Rpm => &["--nodeps", "--install"],
        };
        run(self.command(root, args).arg(package))
    }

    /// What the installed package owns, folders included.
    fn owned(self, root: &Path) -> anyhow::Result<String> {
        let args: &[&str] = match self {
            Manager::Dpkg => &["--listfiles", PACKAGE],
            Manager::Rpm => &["--query", "--list", PACKAGE],
        };
        output(&mut self.command(root, args))
    }

    /// Removes the package with everything it owns (`dpkg --purge`, `rpm --erase`).
    fn remove(self, root: &Path) -> anyhow::Result<()> {
        let args: &[&str] = match self {
            Manager::Dpkg => &["--purge", PACKAGE],
            Manager::Rpm => &["--erase", PACKAGE],
        };
        run(&mut self.command(root, args))
    }
}

/// The throwaway root: its own package database, a user's home, IT's machine-wide file.
struct Sysroot {
    manager: Manager,
    dir: PathBuf,
    home: PathBuf,
    /// What IT deploys: `/etc/callsupport/config.toml` inside the root.
    managed: PathBuf,
    applications: PathBuf,
}

impl Sysroot {
    fn new(manager: Manager) -> anyhow::Result<Sysroot> {
        let dir = root().join("target/install-root");
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        manager.init(&dir)?;
        Ok(Sysroot {
            manager,
            home: dir.join("home/ana"),
            managed: dir.join("etc/callsupport/config.toml"),
            applications: dir.join("usr/share/applications"),
            dir,
        })
    }

    fn bin(&self, program: &str) -> PathBuf {
        self.dir.join("usr/bin").join(program)
    }

    /// What desktop-file-utils' package trigger does after an install or a removal.
    fn desktop_trigger(&self) -> anyhow::Result<String> {
        run(cmd("update-desktop-database", &[], &root()).arg(&self.applications))?;
        Ok(std::fs::read_to_string(
            self.applications.join("mimeinfo.cache"),
        )?)
    }

    /// Installs the package; returns the files it put in place.
    fn install(&self, package: &Path) -> anyhow::Result<BTreeSet<String>> {
        self.manager.install(&self.dir, package)?;
        let installed: BTreeSet<String> = self
            .manager
            .owned(&self.dir)?
            .lines()
            .filter(|path| self.dir.join(path.trim_start_matches('/')).is_file())
            .map(String::from)
            .collect();
        let missing: Vec<_> = expected_files().difference(&installed).cloned().collect();
        ensure!(
            missing.is_empty(),
            "{} did not install {missing:?}",
            self.manager.name()
        );
        eprintln!(
            "{} installed {} files.",
            self.manager.name(),
            installed.len()
        );
        Ok(installed)
    }

    /// The menu entry is valid, passes links and files, and the desktop takes it as the handler.
    fn check_desktop_entry(&self) -> anyhow::Result<()> {
        let entry = self.applications.join("callsupport.desktop");
        run(cmd("desktop-file-validate", &[], &root()).arg(&entry))?;
        let text = std::fs::read_to_string(&entry)?;
        for line in [
            "Exec=callsupport-app %U",
            "MimeType=x-scheme-handler/callsupport;application/zip;",
        ] {
            ensure!(
                text.lines().any(|l| l == line),
                "the desktop entry lacks `{line}`:\n{text}"
            );
        }
        let cache = self.desktop_trigger()?;
        for mime in ["x-scheme-handler/callsupport", "application/zip"] {
            ensure!(
                cache.contains(&format!("{mime}=callsupport.desktop;")),
                "the desktop does not register the app for {mime}:\n{cache}"
            );
        }
        Ok(())
    }

    /// Each installed program starts from the root: every library it links is found.
    fn check_programs(&self) -> anyhow::Result<()> {
        let version = output(Command::new(self.bin("callsupport")).arg("--version"))?;
        ensure!(
            version.trim() == format!("callsupport {}", crate::VERSION),
            "`callsupport --version` said `{}`",
            version.trim()
        );
        for program in ["callsupport-app", "callsupport-tray"] {
            output(Command::new(self.bin(program)).arg("--help"))?;
        }
        Ok(())
    }

    /// The installed CLI as the user runs it, with `share` as where the desktop looks for
    /// applications (XDG_DATA_DIRS).
    fn cli(&self, share: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(self.bin("callsupport"));
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("XDG_DATA_DIRS", share)
            .env("XDG_CONFIG_DIRS", self.dir.join("etc/xdg"))
            .env("CALLSUPPORT_MANAGED_CONFIG", &self.managed)
            .env("CALLSUPPORT_INSTALL_TOKEN", TOKEN);
        command
    }

    /// IT's file in place, doctor finds everything ok against the reference server, a report
    /// goes through, and the token is in no file.
    fn use_installed(&self) -> anyhow::Result<()> {
        let logs = self.home.join(".local/share/ContosoCalls/logs");
        std::fs::create_dir_all(&logs)?;
        std::fs::write(
            logs.join("calling-2026-11-25.log"),
            "2026-11-25T09:00:00Z call started\n",
        )?;
        let (_server, base) = ticket_server::start_fresh(&root(), "install-check-server", TOKEN)?;
        std::fs::create_dir_all(self.managed.parent().expect("has a folder"))?;
        std::fs::write(
            &self.managed,
            format!(
                "locked = [\"ticket_api.url\"]\n\n[ticket_api]\nurl = \"{base}/api/v1/tickets\"\ntoken_env = \"CALLSUPPORT_INSTALL_TOKEN\"\n\n[[sources]]\nid = \"contoso\"\nname = \"Contoso Calls\"\nroot = \"{}\"\nkind = \"text\"\ninclude = [\"*.log\"]\n",
                logs.display()
            ),
        )?;

        let share = self.dir.join("usr/share");
        let checks = doctor(self.cli(&share, &["doctor", "--json"]))?;
        let not_ok: Vec<_> = checks.iter().filter(|(_, (s, _))| s != "ok").collect();
        ensure!(
            not_ok.is_empty() && checks.contains_key("source:contoso"),
            "doctor on the installed package: {checks:?}"
        );
        let (_, handler) = &checks["link_handler"];
        ensure!(
            handler.ends_with("callsupport.desktop"),
            "callsupport:// links do not open the installed app: {handler}"
        );
        eprintln!(
            "doctor on the installed package: {} checks ok.",
            checks.len()
        );
        // A desktop without the package's entry: doctor says so.
        let elsewhere = self.dir.join("usr/local/share");
        std::fs::create_dir_all(&elsewhere)?;
        let checks = doctor(self.cli(&elsewhere, &["doctor", "--json"]))?;
        ensure!(
            checks["link_handler"].0 == "warning",
            "doctor found a link handler where none is: {checks:?}"
        );
        std::fs::remove_dir_all(self.dir.join("usr/local"))?;

        run(&mut self.cli(
            &share,
            &[
                "report",
                "--yes",
                "--summary",
                "Checking the installed package",
            ],
        ))?;
        ensure!(
            self.user_data().join("history").read_dir()?.count() == 1,
            "the installed CLI's report is not in its History"
        );
        // The token went in through the environment; no file the programs wrote may hold it.
        let holding: Vec<PathBuf> = files_under(&self.dir)?
            .into_iter()
            .filter(|path| {
                std::fs::read(path).is_ok_and(|bytes| {
                    bytes
                        .windows(TOKEN.len())
                        .any(|window| window == TOKEN.as_bytes())
                })
            })
            .collect();
        ensure!(
            holding.is_empty(),
            "the ticket API token is written in {holding:?}"
        );
        Ok(())
    }

    fn user_data(&self) -> PathBuf {
        self.home.join(".local/share/callsupport")
    }

    /// Removes the package: nothing of it is left; the user's data and IT's file are.
    fn remove(&self) -> anyhow::Result<()> {
        self.manager.remove(&self.dir)?;
        // The desktop's cache (its file, not ours) forgets the app.
        ensure!(
            !self.desktop_trigger()?.contains("callsupport"),
            "the desktop still lists the removed app"
        );
        let cache = self.applications.join("mimeinfo.cache");
        let database = self.dir.join(self.manager.database());
        let left: Vec<PathBuf> = files_under(&self.dir)?
            .into_iter()
            .filter(|path| {
                !(path.starts_with(&database)
                    || path.starts_with(&self.home)
                    || path == &self.managed
                    || path == &cache)
            })
            .collect();
        ensure!(
            left.is_empty(),
            "removing with {} left files behind: {left:?}",
            self.manager.name()
        );
        ensure!(
            self.user_data().join("history").is_dir(),
            "the user's data went with the package"
        );
        eprintln!(
            "{} removed every installed file; the user's data and IT's file stay.",
            self.manager.name()
        );
        Ok(())
    }
}

/// Runs doctor (`--json`) and returns each check's status and detail by name.
pub fn doctor(mut command: Command) -> anyhow::Result<BTreeMap<String, (String, String)>> {
    let out = command
        .output()
        .context("cannot run the installed doctor")?;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "doctor printed no JSON: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let checks = json["checks"]
        .as_array()
        .context("doctor's JSON has no `checks`")?;
    let text = |value: &serde_json::Value| value.as_str().unwrap_or_default().to_owned();
    Ok(checks
        .iter()
        .map(|check| {
            (
                text(&check["name"]),
                (text(&check["status"]), text(&check["detail"])),
            )
        })
        .collect())
}

/// Every file and link under `dir` (not the folders).
pub fn files_under(dir: &Path) -> anyhow::Result<BTreeSet<PathBuf>> {
    let mut found = BTreeSet::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                pending.push(entry.path());
            } else {
                found.insert(entry.path());
            }
        }
    }
    Ok(found)
}
