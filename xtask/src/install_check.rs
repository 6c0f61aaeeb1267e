//! The installers checked with the system's own tools, as IT would use them.
//!
//! The `.deb` goes into a throwaway root with the real `dpkg` (`--root`, nothing touches the
//! machine's own `/usr`). From there: the desktop entry passes `desktop-file-validate` and is
//! registered the way the desktop's trigger does it; the installed `callsupport --version` answers;
//! `callsupport doctor` finds every check ok against the reference ticket server with a
//! machine-wide file in the root's `/etc`; a report goes through, and no file written holds the
//! token. `dpkg --purge` must then leave no file behind except the user's data. The `.rpm` is
//! read with `rpm` and must carry the same files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail, ensure};

use crate::dist::Packages;
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
    let deb_files = deb(&packages.deb)?;
    let rpm_files = rpm_files(&packages.rpm)?;
    ensure!(
        rpm_files == deb_files,
        "the .rpm and the .deb install different files:\n  only in the .rpm: {:?}\n  only in the .deb: {:?}",
        rpm_files.difference(&deb_files).collect::<Vec<_>>(),
        deb_files.difference(&rpm_files).collect::<Vec<_>>()
    );
    eprintln!("The .rpm carries the same {} files.", rpm_files.len());
    Ok(())
}

/// Installs, uses and removes the `.deb` in a throwaway root; returns the files it installed.
fn deb(deb: &Path) -> anyhow::Result<BTreeSet<String>> {
    let root = root();
    let sysroot = root.join("target/install-root");
    if sysroot.exists() {
        std::fs::remove_dir_all(&sysroot)?;
    }
    let admin = sysroot.join("var/lib/dpkg");
    for dir in ["info", "updates"] {
        std::fs::create_dir_all(admin.join(dir))?;
    }
    std::fs::write(admin.join("status"), "")?;
    let sysroot_arg = format!("--root={}", sysroot.display());
    let dpkg = |args: &[&str]| {
        let mut command = cmd("dpkg", &[&sysroot_arg, "--force-not-root"], &root);
        command.args(args);
        command
    };
    // The libraries the package depends on are the machine's own, outside the throwaway root.
    run(dpkg(&["--force-depends", "--install"]).arg(deb))?;

    let listed = output(&mut dpkg(&["--listfiles", PACKAGE]))?;
    let installed: BTreeSet<String> = listed
        .lines()
        .filter(|path| sysroot.join(path.trim_start_matches('/')).is_file())
        .map(String::from)
        .collect();
    let missing: Vec<_> = expected_files().difference(&installed).cloned().collect();
    ensure!(missing.is_empty(), "the .deb does not install {missing:?}");
    eprintln!("The .deb installed {} files.", installed.len());

    let applications = sysroot.join("usr/share/applications");
    let entry = applications.join("callsupport.desktop");
    run(cmd("desktop-file-validate", &[], &root).arg(&entry))?;
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

    let bin = sysroot.join("usr/bin");
    let version = output(Command::new(bin.join("callsupport")).arg("--version"))?;
    ensure!(
        version.trim() == format!("callsupport {}", callsupport_core::VERSION),
        "`callsupport --version` said `{}`",
        version.trim()
    );
    for program in ["callsupport-app", "callsupport-tray"] {
        // Runs from the root: every library it links is found.
        output(Command::new(bin.join(program)).arg("--help"))?;
    }

    let home = sysroot.join("home/ana");
    let logs = home.join(".local/share/ContosoCalls/logs");
    std::fs::create_dir_all(&logs)?;
    std::fs::write(
        logs.join("calling-2026-11-25.log"),
        "2026-11-25T09:00:00Z call started\n",
    )?;
    let server_data = root.join("target/install-check-server");
    if server_data.exists() {
        std::fs::remove_dir_all(&server_data)?;
    }
    let (_server, base) =
        ticket_server::start(&root, &server_data, &[("CALLSUPPORT_SERVER_TOKEN", TOKEN)])?;
    // What IT deploys: the machine-wide file, with the ticket API locked.
    let managed = sysroot.join("etc/callsupport/config.toml");
    std::fs::create_dir_all(managed.parent().expect("has a folder"))?;
    std::fs::write(
        &managed,
        format!(
            "locked = [\"ticket_api.url\"]\n\n[ticket_api]\nurl = \"{base}/api/v1/tickets\"\ntoken_env = \"CALLSUPPORT_INSTALL_TOKEN\"\n\n[[sources]]\nid = \"contoso\"\nname = \"Contoso Calls\"\nroot = \"{}\"\nkind = \"text\"\ninclude = [\"*.log\"]\n",
            logs.display()
        ),
    )?;
    // `share`: where the desktop looks for applications (XDG_DATA_DIRS).
    let installed_cli = |share: &Path, args: &[&str]| {
        let mut command = Command::new(bin.join("callsupport"));
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("XDG_DATA_DIRS", share)
            .env("XDG_CONFIG_DIRS", sysroot.join("etc/xdg"))
            .env("CALLSUPPORT_MANAGED_CONFIG", &managed)
            .env("CALLSUPPORT_INSTALL_TOKEN", TOKEN);
        command
    };

    // What desktop-file-utils' dpkg trigger does after an install or a removal.
    let desktop_trigger = || run(cmd("update-desktop-database", &[], &root).arg(&applications));
    desktop_trigger()?;
    let cache = std::fs::read_to_string(applications.join("mimeinfo.cache"))?;
    for mime in ["x-scheme-handler/callsupport", "application/zip"] {
        ensure!(
            cache.contains(&format!("{mime}=callsupport.desktop;")),
            "the desktop does not register the app for {mime}:\n{cache}"
        );
    }
    let share = sysroot.join("usr/share");
    let checks = doctor(installed_cli(&share, &["doctor", "--json"]))?;
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
    let elsewhere = sysroot.join("usr/local/share");
    std::fs::create_dir_all(&elsewhere)?;
    let checks = doctor(installed_cli(&elsewhere, &["doctor", "--json"]))?;
    ensure!(
        checks["link_handler"].0 == "warning",
        "doctor found a link handler where none is: {checks:?}"
    );
    std::fs::remove_dir_all(sysroot.join("usr/local"))?;

    run(&mut installed_cli(
        &share,
        &["report", "--summary", "Checking the installed package"],
    ))?;
    let data = home.join(".local/share/callsupport");
    ensure!(
        data.join("history").read_dir()?.count() == 1,
        "the installed CLI's report is not in its History"
    );
    // The token went in through the environment; no file the programs wrote may hold it.
    let holding: Vec<PathBuf> = files_under(&sysroot)?
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

    run(&mut dpkg(&["--purge", PACKAGE]))?;
    // The trigger again: the desktop's cache (its file, not ours) forgets the app.
    let cache = applications.join("mimeinfo.cache");
    desktop_trigger()?;
    ensure!(
        !std::fs::read_to_string(&cache)?.contains("callsupport"),
        "the desktop still lists the removed app"
    );
    let left: Vec<PathBuf> = files_under(&sysroot)?
        .into_iter()
        .filter(|path| {
            !(path.starts_with(&admin)
                || path.starts_with(&home)
                || path == &managed
                || path == &cache)
        })
        .collect();
    ensure!(
        left.is_empty(),
        "`dpkg --purge` left files behind: {left:?}"
    );
    ensure!(
        data.join("history").is_dir(),
        "the user's data went with the package"
    );
    eprintln!("dpkg --purge removed every installed file; the user's data and IT's file stay.");
    std::fs::remove_dir_all(&sysroot)?;
    Ok(installed)
}

/// Runs doctor and returns each check's status and detail by name.
fn doctor(mut command: Command) -> anyhow::Result<BTreeMap<String, (String, String)>> {
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

/// The files an `.rpm` installs (`rpm -qlp`, directories aside).
fn rpm_files(rpm: &Path) -> anyhow::Result<BTreeSet<String>> {
    let listed = output(cmd("rpm", &["--query", "--list", "--package"], &root()).arg(rpm))?;
    let dirs = output(
        cmd(
            "rpm",
            &[
                "--query",
                "--package",
                "--queryformat",
                "[%{FILEMODES:perms} %{FILENAMES}\n]",
            ],
            &root(),
        )
        .arg(rpm),
    )?;
    let directories: BTreeSet<&str> = dirs
        .lines()
        .filter_map(|line| line.strip_prefix('d').and_then(|l| l.split_once(' ')))
        .map(|(_, path)| path)
        .collect();
    let files: BTreeSet<String> = listed
        .lines()
        .filter(|path| !directories.contains(path))
        .map(String::from)
        .collect();
    if files.is_empty() {
        bail!("`rpm -qlp` lists nothing in {}", rpm.display());
    }
    Ok(files)
}

/// Every file and link under `dir` (not the folders).
fn files_under(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                pending.push(entry.path());
            } else {
                found.push(entry.path());
            }
        }
    }
    Ok(found)
}
