//! Proves that `cargo xtask` builds on a machine with no system libraries: xtask is what installs
//! them, so nothing in its dependency tree may need one.
//!
//! xtask is built into a scratch target folder with pkg-config pointed at an empty folder, so
//! every `-sys` crate that looks for a library fails as it would on a new machine.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

pub fn xtask_builds_without_system_libraries(root: &Path) -> anyhow::Result<()> {
    let scratch = root.join("target/bare-xtask");
    let no_libraries = scratch.join("pkgconfig-empty");
    std::fs::create_dir_all(&no_libraries)?;
    let output = Command::new("cargo")
        .args(["build", "--quiet", "--package", "xtask", "--target-dir"])
        .arg(&scratch)
        .current_dir(root)
        .env("PKG_CONFIG_LIBDIR", &no_libraries)
        .env("PKG_CONFIG_PATH", "")
        .env_remove("PKG_CONFIG_SYSROOT_DIR")
        .output()
        .context("cannot run cargo")?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stderr}");
    match crate_needing_a_library(&stderr) {
        Some(name) => bail!(
            "xtask must build with no system library installed (it is what installs them), but \
             `{name}` in its dependency tree needs one: take the crate that brings it out of \
             xtask's dependencies"
        ),
        None => bail!("xtask does not build with pkg-config finding no library (see above)"),
    }
}

/// The crate cargo names in "failed to run custom build command for `NAME vX.Y`".
fn crate_needing_a_library(stderr: &str) -> Option<&str> {
    let rest = stderr
        .split("failed to run custom build command for `")
        .nth(1)?;
    rest.split('`').next()
}

#[cfg(test)]
mod tests {
    use super::crate_needing_a_library;

    #[test]
    fn names_the_crate_whose_build_script_failed() {
        let stderr = "   Compiling foo v1.0.0\nerror: failed to run custom build command for \
                      `libdbus-sys v0.2.7`\n\nCaused by:\n  The system library `dbus-1` …";
        assert_eq!(crate_needing_a_library(stderr), Some("libdbus-sys v0.2.7"));
        assert_eq!(
            crate_needing_a_library("error: could not compile `x`"),
            None
        );
    }
}
