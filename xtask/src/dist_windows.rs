//! The Windows installers, built on this Linux machine: the programs cross-built with the `dist`
//! profile, signed, and packed by Debian's `makensis` into a per-machine and a per-user installer
//! (`src-tauri/windows/installer.nsi`), and by `wixl` (msitools) into an MSI
//! (`src-tauri/windows/callsupport.wxs`) for IT departments that deploy only MSI. Every program,
//! the uninstaller and each installer carries an Authenticode signature ([`crate::signing`]).
//!
//! Tauri's own Windows bundling is not used: it downloads an NSIS plugin from the internet, which
//! this machine cannot reach, and WiX 3 runs only on Windows.

use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};

use crate::signing::Signer;
use crate::util::{cmd, root, run};
use crate::windows::Windows;

/// Each installer must stay under this (issue budget: an IT share, an email attachment).
pub const INSTALLER_BUDGET: u64 = 20 * 1024 * 1024;

/// The programs an installer carries, and the WebView2 loader the app links at run time (the GNU
/// target does not link it statically).
pub const PROGRAMS: &[&str] = &[
    "callsupport-app.exe",
    "callsupport.exe",
    "callsupport-tray.exe",
];
const LOADER: &str = "WebView2Loader.dll";
/// The icon Windows shows on the tray agent's notifications (installed as `callsupport.png`).
const ICON_PNG: &str = "icons/128x128.png";

/// The Windows installers one run made.
pub struct Installers {
    /// Per-machine (administrator; Program Files, HKLM).
    pub machine: PathBuf,
    /// Per-user (no administrator; the user's Programs folder, HKCU).
    pub user: PathBuf,
    /// Per-machine, as an MSI.
    pub msi: PathBuf,
    /// Who signed them, and the CA that verifies them.
    pub signer: Signer,
    /// The signed programs inside, for the size report.
    pub programs: PathBuf,
}

impl Installers {
    pub fn all(&self) -> [&PathBuf; 3] {
        [&self.machine, &self.user, &self.msi]
    }
}

/// Builds the programs for Windows and the installers into `out`.
pub fn build(out: &Path) -> anyhow::Result<Installers> {
    let root = root();
    let windows = Windows::prepare(&root)?;
    // The app embeds the UI as it is built now (the Linux packages' build has just done it;
    // building it again would rebuild the app for nothing).
    if !ui_built_after_sources(&root)? {
        crate::deps::node_modules()?;
        run(&mut cmd("npm", &["--prefix", "ui", "run", "build"], &root))?;
    }
    let mut args = vec!["--locked", "--profile", "dist"];
    for package in ["callsupport-app", "callsupport-cli", "callsupport-tray"] {
        args.extend(["-p", package]);
    }
    run(&mut windows.cargo("build", &args))?;

    let built = windows.out_dir("dist");
    let programs = root.join("target/windows/signed");
    if programs.exists() {
        std::fs::remove_dir_all(&programs)?;
    }
    std::fs::create_dir_all(&programs)?;
    let signer = Signer::from_env()?;
    eprintln!("Signing with {}.", signer.kind);
    for name in PROGRAMS.iter().chain([&LOADER]) {
        let to = programs.join(name);
        std::fs::copy(built.join(name), &to)
            .with_context(|| format!("cannot copy {name} from {}", built.display()))?;
        if name.ends_with(".exe") {
            signer.sign(&to)?;
        }
    }

    let version = crate::VERSION;
    let installers = Installers {
        machine: out.join(format!("CallSupport-{version}-x64-machine-setup.exe")),
        user: out.join(format!("CallSupport-{version}-x64-user-setup.exe")),
        msi: out.join(format!("CallSupport-{version}-x64.msi")),
        signer,
        programs,
    };
    // The three at once: makensis compresses on one core.
    std::thread::scope(|scope| {
        let (programs, signer) = (&installers.programs, &installers.signer);
        let jobs = [
            scope.spawn(|| nsis("machine", programs, &installers.machine, signer)),
            scope.spawn(|| nsis("user", programs, &installers.user, signer)),
            scope.spawn(|| msi(programs, &installers.msi, signer)),
        ];
        jobs.into_iter()
            .try_for_each(|job| job.join().expect("an installer's build panicked"))
    })?;
    tampered_fails(&installers.machine, &installers.signer)?;
    for file in installers.all() {
        installers.signer.verify(file)?;
        let size = file.metadata()?.len();
        ensure!(
            size <= INSTALLER_BUDGET,
            "{} is {size} bytes, over its budget of {INSTALLER_BUDGET}",
            file.display()
        );
    }
    Ok(installers)
}

/// One NSIS installer (`mode` = machine or user), signed, uninstaller included.
fn nsis(mode: &str, programs: &Path, out: &Path, signer: &Signer) -> anyhow::Result<()> {
    let root = root();
    let define = |name: &str, value: &dyn AsRef<std::ffi::OsStr>| {
        let mut arg = std::ffi::OsString::from(format!("-D{name}="));
        arg.push(value.as_ref());
        arg
    };
    let mut makensis = cmd("makensis", &["-V2", "-WX"], &root);
    makensis
        .arg(define("MODE", &mode))
        .arg(define("VERSION", &crate::VERSION))
        .arg(define("BINDIR", &programs))
        .arg(define("POLICYDIR", &root.join("src-tauri/windows/policy")))
        .arg(define("ICON", &root.join("icons/icon.ico")))
        .arg(define("ICONPNG", &root.join(ICON_PNG)))
        .arg(define("OUTFILE", &out))
        .arg(define("SIGN_UNINSTALLER", &signer.nsis_command()))
        .arg(root.join("src-tauri/windows/installer.nsi"));
    run(&mut makensis).with_context(|| format!("makensis could not build the {mode} installer"))?;
    signer.sign(out)
}

/// The MSI: the same programs and registrations as the per-machine installer.
fn msi(programs: &Path, out: &Path, signer: &Signer) -> anyhow::Result<()> {
    let root = root();
    // wixl takes source files only by paths relative to where it runs.
    let relative = |path: &Path| -> anyhow::Result<String> {
        Ok(path
            .strip_prefix(&root)
            .with_context(|| format!("{} is outside the repository", path.display()))?
            .to_string_lossy()
            .into_owned())
    };
    let mut wixl = cmd("wixl", &["--arch", "x64"], &root);
    for (name, value) in [
        ("Version", crate::VERSION.to_owned()),
        ("BinDir", relative(programs)?),
        ("PolicyDir", "src-tauri/windows/policy".to_owned()),
        ("Icon", "icons/icon.ico".to_owned()),
        ("IconPng", ICON_PNG.to_owned()),
    ] {
        wixl.arg("--define").arg(format!("{name}={value}"));
    }
    wixl.arg("--output")
        .arg(out)
        .arg("src-tauri/windows/callsupport.wxs");
    run(&mut wixl).context("wixl could not build the MSI")?;
    signer.sign(out)
}

/// Whether `ui/dist` was built after the last change to the UI's sources.
fn ui_built_after_sources(root: &Path) -> anyhow::Result<bool> {
    let Ok(built) = std::fs::metadata(root.join("ui/dist/index.html")).and_then(|m| m.modified())
    else {
        return Ok(false);
    };
    let ui = root.join("ui");
    let mut sources = crate::install_check::files_under(&ui.join("src"))?;
    sources.extend(["index.html", "package.json", "vite.config.ts"].map(|f| ui.join(f)));
    for file in sources {
        if file.metadata()?.modified()? > built {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The signature check can fail: a copy of `installer` with one byte changed must not verify.
fn tampered_fails(installer: &Path, signer: &Signer) -> anyhow::Result<()> {
    let copy = installer.with_extension("tampered");
    let mut bytes = std::fs::read(installer)?;
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&copy, bytes)?;
    let verified = signer.verify(&copy);
    std::fs::remove_file(&copy)?;
    ensure!(
        verified.is_err(),
        "a changed copy of {} still verifies: the signature check proves nothing",
        installer.display()
    );
    Ok(())
}
