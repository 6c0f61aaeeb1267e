//! `cargo xtask dist`: every installer, built offline on this machine and checked.
//!
//! Linux: a `.deb` and an `.rpm`, each carrying the app (`callsupport-app`), the CLI
//! (`callsupport`) and the tray agent (`callsupport-tray`) in `/usr/bin`, the desktop entry from
//! `src-tauri/linux/` (the `callsupport://` handler and the `.zip` viewer association) and the
//! icons at every size. Tauri's bundler makes them; the CLI and the agent are built first and
//! handed to it as sidecars (`bundle.externalBin`).
//!
//! Windows ([`dist_windows`]): the same three programs cross-built, signed, in a per-machine and
//! a per-user NSIS installer and an MSI.
//!
//! The programs are built with the `dist` profile (full LTO, stripped). The installers land in
//! `target/packages/` with a `SHA256SUMS`, and are then installed, used and removed by
//! [`install_check`] and, under Wine, [`install_check_windows`]. On macOS the same command makes
//! the `.dmg` (written, never run here).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::util::{cmd, output, root, run};
use crate::{deps, dist_windows, install_check, install_check_windows};

/// The `.deb` must stay under this (an Electron app of the same kind ships 80 MiB and more).
pub const DEB_BUDGET: u64 = 15 * 1024 * 1024;

/// Where the packages are put.
pub fn out_dir() -> PathBuf {
    root().join("target/packages")
}

/// The packages one run made.
pub struct Packages {
    pub deb: PathBuf,
    pub rpm: PathBuf,
}

pub fn run_dist(args: &[String]) -> anyhow::Result<()> {
    let (linux, windows) = match args {
        [] => (true, true),
        [flag, which] if flag == "--only" && which == "linux" => (true, false),
        [flag, which] if flag == "--only" && which == "windows" => (false, true),
        _ => bail!(
            "usage: cargo xtask dist [--only linux|windows] (got `{}`)",
            args.join(" ")
        ),
    };
    if cfg!(target_os = "macos") {
        // Configured, never run here: there is no macOS machine to try it on.
        let made = build_dmg()?;
        println!("\nInstallers in {}:", out_dir().display());
        for file in made {
            println!("  {:<50} {}", file_name(&file), mib(file.metadata()?.len()));
        }
        return Ok(());
    }
    if !cfg!(target_os = "linux") {
        bail!(
            "`cargo xtask dist` builds every installer, the Windows ones included, on Linux \
             (Debian's makensis, wixl and osslsigncode); run it there"
        );
    }
    let mut stages = crate::util::Stages::default();
    let result = build_and_check(linux, windows, &mut stages);
    stages.print();
    result
}

/// Builds the Linux packages, the Windows installers or both, then checks each, every step timed
/// in `stages` (`cargo xtask test` shows them with its own).
pub fn build_and_check(
    linux: bool,
    windows: bool,
    stages: &mut crate::util::Stages,
) -> anyhow::Result<()> {
    let mut needed = vec![deps::BUILD];
    if windows {
        needed.push(crate::windows::PACKAGES);
    }
    deps::packages(&needed)?;
    fresh_out_dir()?;
    let packages = if linux {
        Some(stages.time("installers: the .deb and .rpm, built", build)?)
    } else {
        None
    };
    let installers = if windows {
        Some(stages.time(
            "installers: Windows (NSIS per machine and per user, MSI), built and signed",
            || dist_windows::build(&out_dir()),
        )?)
    } else {
        None
    };
    let mut all: Vec<&PathBuf> = Vec::new();
    if let Some(packages) = &packages {
        all.extend([&packages.deb, &packages.rpm]);
    }
    if let Some(installers) = &installers {
        all.extend(installers.all());
    }
    write_sums(&all)?;
    report(packages.as_ref(), installers.as_ref())?;
    if let Some(packages) = &packages {
        stages.time(
            "installers: the .deb and .rpm installed, used and removed",
            || install_check::check(packages),
        )?;
    }
    if let Some(installers) = &installers {
        stages.time(
            "installers: Windows installed, used and removed under Wine",
            || install_check_windows::check(installers),
        )?;
    }
    Ok(())
}

/// The cargo profile the shipped programs are built with (`Cargo.toml`), and its folder.
const PROFILE: &str = "dist";

/// Builds the `.deb` and `.rpm`.
fn build() -> anyhow::Result<Packages> {
    let bundle = bundle("deb,rpm")?;
    let out = out_dir();
    let version = crate::VERSION;
    let packages = Packages {
        deb: out.join(format!("callsupport_{version}_amd64.deb")),
        rpm: out.join(format!("callsupport-{version}-1.x86_64.rpm")),
    };
    recompress_deb(&only_file(&bundle.join("deb"), "deb")?, &packages.deb)?;
    std::fs::copy(only_file(&bundle.join("rpm"), "rpm")?, &packages.rpm)?;
    Ok(packages)
}

/// macOS: the `.dmg` the bundler made, copied out.
fn build_dmg() -> anyhow::Result<Vec<PathBuf>> {
    let bundle = bundle("dmg")?;
    let out = fresh_out_dir()?;
    let file = only_file(&bundle.join("dmg"), "dmg")?;
    let to = out.join(file_name(&file));
    std::fs::copy(&file, &to)?;
    write_sums(&[&to])?;
    Ok(vec![to])
}

/// Builds the CLI and the agent, then has Tauri's bundler build the app and make `bundles` with
/// them; returns the bundler's output folder.
fn bundle(bundles: &str) -> anyhow::Result<PathBuf> {
    deps::node_modules()?;
    let root = root();
    let binaries = root.join("target").join(PROFILE);
    let bundle = binaries.join("bundle");
    // Nothing stale is picked up from an earlier run.
    if bundle.exists() {
        std::fs::remove_dir_all(&bundle)
            .with_context(|| format!("cannot clear {}", bundle.display()))?;
    }
    run(&mut cmd(
        "cargo",
        &[
            "build",
            "--locked",
            "--profile",
            PROFILE,
            "-p",
            "callsupport-cli",
            "-p",
            "callsupport-tray",
        ],
        &root,
    ))?;

    // The CLI and the agent travel as Tauri "sidecars": next to the app, in `/usr/bin` here and
    // in `Contents/MacOS` on macOS.
    let sidecars = sidecars(&binaries)?;
    let config = root.join("target/dist-tauri.json");
    let extra = serde_json::json!({ "bundle": { "externalBin": sidecars } });
    std::fs::write(&config, extra.to_string())
        .with_context(|| format!("cannot write {}", config.display()))?;
    let config_arg = config.to_string_lossy().into_owned();
    let tauri = root.join("ui/node_modules/.bin/tauri");
    let mut tauri = cmd(
        &tauri.to_string_lossy(),
        &[
            "build",
            "--ci",
            "--bundles",
            bundles,
            "--config",
            &config_arg,
            "--",
            "--locked",
            "--profile",
            PROFILE,
        ],
        &root.join("src-tauri"),
    );
    run(&mut tauri)?;
    Ok(bundle)
}

/// `target/packages/`, emptied.
fn fresh_out_dir() -> anyhow::Result<PathBuf> {
    let out = out_dir();
    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    std::fs::create_dir_all(&out)?;
    Ok(out)
}

/// `SHA256SUMS` beside the packages, in the format `sha256sum --check` reads.
fn write_sums(files: &[&PathBuf]) -> anyhow::Result<()> {
    let mut sums = String::new();
    for file in files {
        let sha256 = crate::util::sha256_file(file)?;
        sums.push_str(&format!("{sha256}  {}\n", file_name(file)));
    }
    std::fs::write(out_dir().join("SHA256SUMS"), sums)?;
    Ok(())
}

/// Copies the CLI and the agent to the names Tauri's sidecars take (`NAME-TARGET_TRIPLE`) and
/// returns the names to list in `bundle.externalBin`.
fn sidecars(binaries: &Path) -> anyhow::Result<Vec<String>> {
    let rustc = output(&mut cmd("rustc", &["-vV"], &root()))?;
    let triple = rustc
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .context("`rustc -vV` names no host triple")?;
    let folder = root().join("target/sidecars");
    std::fs::create_dir_all(&folder)?;
    let exe = std::env::consts::EXE_SUFFIX;
    ["callsupport", "callsupport-tray"]
        .iter()
        .map(|name| {
            let from = binaries.join(format!("{name}{exe}"));
            let to = folder.join(format!("{name}-{triple}{exe}"));
            std::fs::copy(&from, &to)
                .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
            Ok(folder.join(name).to_string_lossy().into_owned())
        })
        .collect()
}

/// Writes `from` again as `to` with its files xz-compressed, as Debian's own packages are
/// (Tauri's bundler writes gzip, about 45% larger here). Contents and control files stay as
/// they are.
fn recompress_deb(from: &Path, to: &Path) -> anyhow::Result<()> {
    let unpacked = root().join("target/deb-repack");
    if unpacked.exists() {
        std::fs::remove_dir_all(&unpacked)?;
    }
    let dpkg_deb = |args: &[&str], paths: &[&Path]| {
        let mut command = cmd("dpkg-deb", args, &root());
        command.args(paths);
        run(&mut command)
    };
    dpkg_deb(&["--raw-extract"], &[from, &unpacked])?;
    dpkg_deb(&["--root-owner-group", "-Zxz", "--build"], &[&unpacked, to])?;
    std::fs::remove_dir_all(&unpacked)?;
    Ok(())
}

/// The one file with extension `ext` that the bundler wrote into `dir`.
fn only_file(dir: &Path, ext: &str) -> anyhow::Result<PathBuf> {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("the bundler wrote no {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == ext))
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        _ => bail!("expected one .{ext} in {}, found {found:?}", dir.display()),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Prints what was made and how big it is; over the budget, a shipping build fails.
fn report(
    packages: Option<&Packages>,
    installers: Option<&dist_windows::Installers>,
) -> anyhow::Result<()> {
    println!("\nInstallers in {}:", out_dir().display());
    let mut all: Vec<&PathBuf> = Vec::new();
    if let Some(packages) = packages {
        all.extend([&packages.deb, &packages.rpm]);
    }
    if let Some(installers) = installers {
        all.extend(installers.all());
    }
    for file in all {
        println!("  {:<40} {}", file_name(file), mib(file.metadata()?.len()));
    }
    println!("Programs inside ({PROFILE} profile):");
    let binaries = root().join("target").join(PROFILE);
    for name in ["callsupport-app", "callsupport", "callsupport-tray"] {
        let mut line = format!("  {name:<20}");
        if packages.is_some() {
            line.push_str(&format!(
                " Linux {:>9}",
                mib(binaries.join(name).metadata()?.len())
            ));
        }
        if let Some(installers) = installers {
            let exe = installers.programs.join(format!("{name}.exe"));
            line.push_str(&format!(
                " Windows (signed) {:>9}",
                mib(exe.metadata()?.len())
            ));
        }
        println!("{line}");
    }
    if let Some(installers) = installers {
        println!(
            "Windows programs and installers signed with {}.",
            installers.signer.kind
        );
    }
    if let Some(packages) = packages {
        let deb = packages.deb.metadata()?.len();
        println!(
            "The .deb is {} of its {} budget ({:.0}%).",
            mib(deb),
            mib(DEB_BUDGET),
            deb as f64 * 100.0 / DEB_BUDGET as f64
        );
        if deb > DEB_BUDGET {
            bail!("the .deb is over its size budget");
        }
    }
    Ok(())
}
