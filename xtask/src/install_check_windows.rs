//! The Windows installers checked under Wine, as IT would deploy them.
//!
//! Each installer (per-machine, per-user, MSI) gets a throwaway Wine prefix of its own. In it:
//! a configuration with a problem stops the silent install with nothing written; then the silent
//! install with the organisation's file (`/CONFIG=`, `CONFIG=`) puts the programs, the link handler,
//! "Open with" for `.zip`, the Start menu entry and the login start in place, every program signed;
//! the installed `callsupport doctor` finds the reference ticket server and the installation's
//! registrations, and a report goes through. The silent uninstall then takes all of it away and
//! leaves only the user's data and IT's file: every file and registry key the prefix gained is
//! accounted for.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, ensure};

use crate::dist_windows::{Installers, PROGRAMS};
use crate::install_check::{doctor, files_under};
use crate::signing::Signer;
use crate::ticket_server;
use crate::util::{root, run};
use crate::windows::Windows;

/// The submit token the check's server takes (passed through the environment).
const TOKEN: &str = "install-check-token";

/// How an installer is driven and where it puts things.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Machine,
    User,
    Msi,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Machine => "per-machine installer",
            Kind::User => "per-user installer",
            Kind::Msi => "MSI",
        }
    }

    /// The registry hive its registrations go to.
    fn hive(self) -> &'static str {
        match self {
            Kind::User => "HKCU",
            Kind::Machine | Kind::Msi => "HKLM",
        }
    }

    /// The installation folder, inside the prefix.
    fn install_dir(self, prefix: &Prefix) -> PathBuf {
        match self {
            Kind::User => prefix.user_dir.join("AppData/Local/Programs/Call Support"),
            Kind::Machine | Kind::Msi => prefix.drive_c.join("Program Files/Call Support"),
        }
    }

    /// Where the configuration passed to the installer ends up.
    fn config_file(self, prefix: &Prefix) -> PathBuf {
        match self {
            Kind::User => prefix
                .user_dir
                .join("AppData/Roaming/callsupport/config.toml"),
            Kind::Machine | Kind::Msi => prefix.drive_c.join("ProgramData/CallSupport/config.toml"),
        }
    }

    /// The command line that must start the agent at sign-in.
    fn run_command(self, dir: &str) -> String {
        match self {
            Kind::User => format!("\"{dir}\\callsupport-tray.exe\""),
            Kind::Machine | Kind::Msi => format!("\"{dir}\\callsupport-tray.exe\" --at-login"),
        }
    }

    /// The silent install, with `config` (a Windows path) as the organisation's file.
    fn install(self, windows: &Windows, installer: &Path, config: &str) -> Command {
        match self {
            Kind::Msi => windows.wine(
                "msiexec",
                &[
                    "/i",
                    &windows_path(installer),
                    "/qn",
                    &format!("CONFIG={config}"),
                ],
            ),
            Kind::Machine | Kind::User => {
                windows.wine(installer, &["/S", &format!("/CONFIG={config}")])
            }
        }
    }

    /// The exit codes a refused configuration may give: the installer's own, or Windows
    /// Installer's (1603, "fatal error during installation", on Windows; Wine's msiexec says
    /// 1627, "function failed during execution"). Wine hands on their low 8 bits.
    fn refused_codes(self) -> Vec<i32> {
        match self {
            Kind::Msi => vec![1603 & 0xff, 1627 & 0xff],
            Kind::Machine | Kind::User => vec![2],
        }
    }

    /// The silent uninstall.
    fn uninstall(self, windows: &Windows, installer: &Path, dir: &Path) -> Command {
        match self {
            Kind::Msi => windows.wine("msiexec", &["/x", &windows_path(installer), "/qn"]),
            Kind::Machine | Kind::User => windows.wine(dir.join("uninstall.exe"), &["/S"]),
        }
    }
}

pub fn check(installers: &Installers) -> anyhow::Result<()> {
    let root = root();
    let windows = Windows::prepare(&root)?;
    let (_server, base) = ticket_server::start_fresh(&root, "install-check-server-windows", TOKEN)?;
    for (kind, installer) in [
        (Kind::Machine, &installers.machine),
        (Kind::User, &installers.user),
        (Kind::Msi, &installers.msi),
    ] {
        let prefix = windows.with_fresh_prefix(root.join("target/windows/install-check"))?;
        let result = install_use_remove(kind, &prefix, installer, &installers.signer, &base);
        prefix.stop();
        result.with_context(|| format!("the {} ({})", kind.name(), installer.display()))?;
    }
    std::fs::remove_dir_all(root.join("target/windows/install-check"))?;
    Ok(())
}

/// The Windows machine a prefix stands for: its `C:` and the user's profile folder.
struct Prefix {
    drive_c: PathBuf,
    user_dir: PathBuf,
}

impl Prefix {
    fn of(windows: &Windows) -> anyhow::Result<Prefix> {
        let drive_c = windows.prefix().join("drive_c");
        let users = drive_c.join("users");
        let user = std::fs::read_dir(&users)?
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.path())
            .find(|path| path.file_name().is_some_and(|name| name != "Public"))
            .with_context(|| format!("no user's folder in {}", users.display()))?;
        Ok(Prefix {
            drive_c,
            user_dir: user,
        })
    }
}

fn install_use_remove(
    kind: Kind,
    windows: &Windows,
    installer: &Path,
    signer: &Signer,
    base: &str,
) -> anyhow::Result<()> {
    let prefix = Prefix::of(windows)?;
    // Every Windows profile has this key (the user's file types); a new Wine prefix does not.
    run(&mut windows.wine("reg", &["add", r"HKCU\Software\Classes", "/f"]))?;
    let files_before = files_under(&prefix.drive_c)?;
    let keys_before = registry_keys(windows)?;
    let dir = kind.install_dir(&prefix);

    // The calling app's logs, which the organisation's file names as a source.
    let logs = prefix.drive_c.join("ContosoCalls/logs");
    std::fs::create_dir_all(&logs)?;
    std::fs::write(
        logs.join("calling-2026-11-25.log"),
        "2026-11-25T09:00:00Z call started\n",
    )?;
    let staging = windows.prefix().join("deploy");
    std::fs::create_dir_all(&staging)?;
    let config = staging.join("config.toml");
    let config_text = format!(
        "[ticket_api]\nurl = \"{base}/api/v1/tickets\"\ntoken_env = \"CALLSUPPORT_INSTALL_TOKEN\"\n\n[[sources]]\nid = \"contoso\"\nname = \"Contoso Calls\"\nroot = 'C:\\ContosoCalls\\logs'\nkind = \"text\"\ninclude = [\"*.log\"]\n"
    );
    std::fs::write(&config, &config_text)?;
    let bad = staging.join("bad.toml");
    std::fs::write(&bad, "[ticket_api]\nurl = \"ftp://nowhere\"\n")?;

    // A configuration with a problem: refused, nothing installed.
    let refused = kind
        .install(windows, installer, &windows_path(&bad))
        .status()
        .context("cannot start the installer under Wine")?;
    windows.wait()?;
    ensure!(
        refused
            .code()
            .is_some_and(|code| kind.refused_codes().contains(&code)),
        "a bad configuration did not stop the install with exit code {:?}: {refused}",
        kind.refused_codes()
    );
    // The CLI's own log (the user's data folder) says why; nothing else may be written.
    let data = prefix.user_dir.join("AppData/Local/callsupport");
    let written: Vec<PathBuf> = files_under(&prefix.drive_c)?
        .difference(&files_before)
        .filter(|path| !path.starts_with(&logs) && !path.starts_with(data.join("logs")))
        .filter(|path| !wine_own(path, &prefix))
        .cloned()
        .collect();
    ensure!(written.is_empty(), "a refused install wrote {written:?}");
    eprintln!(
        "{}: a bad configuration is refused, nothing written.",
        kind.name()
    );

    // The silent install with the organisation's file; the per-user installer is given it
    // relative to where it runs, as a user would from their Downloads folder.
    let config_arg = match kind {
        Kind::User => config
            .strip_prefix(root())?
            .to_string_lossy()
            .replace('/', "\\"),
        Kind::Machine | Kind::Msi => windows_path(&config),
    };
    run(&mut kind.install(windows, installer, &config_arg))?;
    windows.wait()?;
    let mut installed: Vec<PathBuf> = PROGRAMS.iter().map(|name| dir.join(name)).collect();
    installed.push(dir.join("WebView2Loader.dll"));
    installed.push(dir.join("callsupport.png"));
    installed.push(dir.join("policy/CallSupport.admx"));
    installed.push(dir.join("policy/en-US/CallSupport.adml"));
    if !matches!(kind, Kind::Msi) {
        installed.push(dir.join("uninstall.exe"));
    }
    for file in &installed {
        ensure!(file.is_file(), "{} was not installed", file.display());
        if file.extension().is_some_and(|ext| ext == "exe") {
            signer.verify(file)?;
        }
    }
    ensure!(
        std::fs::read_to_string(kind.config_file(&prefix))
            .ok()
            .as_deref()
            == Some(&config_text),
        "the organisation's file is not at {}",
        kind.config_file(&prefix).display()
    );
    let shown = windows_path(&dir);
    let hive = kind.hive();
    let app = format!("\"{shown}\\callsupport-app.exe\" -- \"%1\"");
    for (key, name, wanted) in [
        (
            r"Software\Classes\callsupport\shell\open\command",
            "",
            app.as_str(),
        ),
        (r"Software\Classes\callsupport", "URL Protocol", ""),
        (
            r"Software\Classes\CallSupport.Bundle\shell\open\command",
            "",
            &app,
        ),
        (
            r"Software\Classes\.zip\OpenWithProgids",
            "CallSupport.Bundle",
            "",
        ),
        (
            r"Software\Microsoft\Windows\CurrentVersion\Run",
            "Call Support",
            &kind.run_command(&shown),
        ),
        (
            r"Software\Classes\AppUserModelId\com.callsupport.desktop",
            "DisplayName",
            "Call Support",
        ),
    ] {
        let found = reg_value(windows, &format!("{hive}\\{key}"), name)?;
        ensure!(
            found.as_deref() == Some(wanted),
            "{hive}\\{key} {name:?} is {found:?}, not {wanted:?}"
        );
    }
    let shortcut = start_menu_entry(&prefix);
    ensure!(shortcut.is_some(), "no Start menu entry for Call Support");
    eprintln!(
        "{}: installed silently with the organisation's file; {} files in place, every program \
         signed, the registrations made.",
        kind.name(),
        installed.len()
    );

    use_installed(kind, windows, &dir)?;

    // The silent uninstall: everything of it goes; the user's data and IT's file stay.
    run(&mut kind.uninstall(windows, installer, &dir))?;
    windows.wait()?;
    ensure!(
        !dir.exists(),
        "{} is left after uninstalling",
        dir.display()
    );
    ensure!(
        start_menu_entry(&prefix).is_none(),
        "the Start menu entry is left"
    );
    for (key, name) in [
        (
            r"Software\Classes\.zip\OpenWithProgids",
            "CallSupport.Bundle",
        ),
        (
            r"Software\Microsoft\Windows\CurrentVersion\Run",
            "Call Support",
        ),
    ] {
        let found = reg_value(windows, &format!("{hive}\\{key}"), name)?;
        ensure!(found.is_none(), "{hive}\\{key} {name:?} is left: {found:?}");
    }
    ensure!(
        data.join("history").is_dir(),
        "the user's data went with the program"
    );
    let left: Vec<PathBuf> = files_under(&prefix.drive_c)?
        .difference(&files_before)
        .filter(|path| {
            !(path.starts_with(&logs)
                || path.starts_with(&data)
                || **path == kind.config_file(&prefix)
                || wine_own(path, &prefix))
        })
        .cloned()
        .collect();
    ensure!(left.is_empty(), "uninstalling left files behind: {left:?}");
    let keys: Vec<String> = registry_keys(windows)?
        .difference(&keys_before)
        .filter(|key| !wine_own_key(key))
        .cloned()
        .collect();
    ensure!(
        keys.is_empty(),
        "uninstalling left registry keys behind: {keys:?}"
    );
    eprintln!(
        "{}: uninstalled silently; nothing left but the user's data and the configuration file.",
        kind.name()
    );
    Ok(())
}

/// The installed CLI: its version, doctor against the reference server, a report sent.
fn use_installed(kind: Kind, windows: &Windows, dir: &Path) -> anyhow::Result<()> {
    let cli = dir.join("callsupport.exe");
    let with_token = |args: &[&str]| {
        let mut command = windows.wine(&cli, args);
        command.env("CALLSUPPORT_INSTALL_TOKEN", TOKEN);
        command
    };
    let version = crate::util::output(&mut with_token(&["--version"]))?;
    ensure!(
        version.trim() == format!("callsupport {}", crate::VERSION),
        "the installed `callsupport --version` said `{}`",
        version.trim()
    );
    let checks = doctor(with_token(&["doctor", "--json"]))?;
    let status = |name: &str| checks.get(name).map(|(status, _)| status.as_str());
    for name in ["ticket_api", "source:contoso", "link_handler"] {
        ensure!(
            status(name) == Some("ok"),
            "doctor's {name} check is not ok; all checks: {checks:?}"
        );
    }
    // Wine has no WebView2: doctor must say the app's window cannot open.
    ensure!(
        status("webview") == Some("error") && checks["webview"].1.contains("WebView2"),
        "doctor's webview check is {:?} where Wine has no WebView2",
        checks.get("webview")
    );
    let (_, handler) = &checks["link_handler"];
    ensure!(
        handler.contains("callsupport-app.exe"),
        "callsupport:// links do not open the installed app: {handler}"
    );
    run(&mut with_token(&[
        "report",
        "--yes",
        "--summary",
        &format!("Checking the {}", kind.name()),
    ]))?;
    let shown: Vec<String> = checks
        .iter()
        .map(|(name, (status, _))| format!("{name} {status}"))
        .collect();
    eprintln!(
        "{}: the installed doctor: {}; a report went through.",
        kind.name(),
        shown.join(", ")
    );
    Ok(())
}

/// `path` (inside a prefix's `drive_c`) as Windows names it, or (outside) through drive `Z:`.
fn windows_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    match text.find("/drive_c/") {
        Some(at) => format!("C:\\{}", text[at + "/drive_c/".len()..].replace('/', "\\")),
        None => format!("Z:{}", text.replace('/', "\\")),
    }
}

/// A registry value (`""` for the key's default), as `reg query` prints it; `None` when the key
/// or the value is not there.
fn reg_value(windows: &Windows, key: &str, name: &str) -> anyhow::Result<Option<String>> {
    let mut query = windows.wine("reg", &["query", key]);
    if name.is_empty() {
        query.arg("/ve");
    } else {
        query.args(["/v", name]);
    }
    let out = query
        .output()
        .context("cannot run `reg query` under Wine")?;
    if !out.status.success() {
        return Ok(None);
    }
    let shown = if name.is_empty() { "(Default)" } else { name };
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text.lines().find_map(|line| {
        let rest = line.trim_start().strip_prefix(shown)?;
        let rest = rest.trim_start().strip_prefix("REG_SZ")?;
        // `reg` separates with four spaces; an empty value leaves only them.
        Some(
            rest.strip_prefix("    ")
                .unwrap_or(rest.trim_start())
                .to_owned(),
        )
    }))
}

/// Every registry key of the prefix's machine and user hives (Wine keeps them as text).
fn registry_keys(windows: &Windows) -> anyhow::Result<BTreeSet<String>> {
    let mut keys = BTreeSet::new();
    windows.wait()?;
    for (file, hive) in [("system.reg", "HKLM"), ("user.reg", "HKCU")] {
        let text = std::fs::read_to_string(windows.prefix().join(file))?;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix('[')
                && let Some(end) = rest.find(']')
            {
                keys.insert(format!("{hive}\\{}", rest[..end].replace("\\\\", "\\")));
            }
        }
    }
    Ok(keys)
}

/// Files Wine itself writes as programs run (its caches, the installer's temporary copies).
fn wine_own(path: &Path, prefix: &Prefix) -> bool {
    let temp = prefix.user_dir.join("AppData/Local/Temp");
    path.starts_with(&temp)
}

/// Keys Wine itself adds as programs run, and the empty folders Windows Installer keeps its
/// records in (every Windows that ever installed an MSI has them; the product's own records under
/// them must be gone, and would show as keys of their own).
fn wine_own_key(key: &str) -> bool {
    const INSTALLER_FOLDERS: &[&str] = &[
        r"HKLM\Software\Classes\Installer\Features",
        r"HKLM\Software\Classes\Installer\Products",
        r"HKLM\Software\Classes\Installer\UpgradeCodes",
        r"HKLM\Software\Microsoft\Windows\CurrentVersion\Installer\UpgradeCodes",
        r"HKLM\Software\Microsoft\Windows\CurrentVersion\Installer\UserData\S-1-5-18\Components",
        r"HKLM\Software\Microsoft\Windows\CurrentVersion\Installer\UserData\S-1-5-18\Products",
    ];
    key.starts_with(r"HKCU\Software\Wine")
        || key.starts_with(r"HKLM\Software\Wine")
        || INSTALLER_FOLDERS.contains(&key)
}

/// The Start menu entry, in the common or the user's menu.
fn start_menu_entry(prefix: &Prefix) -> Option<PathBuf> {
    [
        prefix
            .drive_c
            .join("ProgramData/Microsoft/Windows/Start Menu/Programs"),
        prefix
            .user_dir
            .join("AppData/Roaming/Microsoft/Windows/Start Menu/Programs"),
    ]
    .into_iter()
    .map(|dir| dir.join("Call Support.lnk"))
    .find(|lnk| lnk.is_file())
}
