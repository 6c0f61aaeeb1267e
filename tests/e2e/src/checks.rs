//! Checks made with tools we did not write: Info-ZIP's `unzip`, Python's `zipfile`, `sha256sum`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

/// `unzip -t` must pass.
pub fn unzip_test(bundle: &Path) -> anyhow::Result<()> {
    let out = Command::new("unzip")
        .arg("-t")
        .arg(bundle)
        .output()
        .context("cannot run unzip (package unzip)")?;
    if !out.status.success() {
        bail!(
            "unzip -t {} failed:\n{}",
            bundle.display(),
            String::from_utf8_lossy(&out.stdout)
        );
    }
    Ok(())
}

/// SHA-256 of a file according to coreutils.
pub fn sha256sum(path: &Path) -> anyhow::Result<String> {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .context("cannot run sha256sum")?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .next()
        .map(str::to_owned)
        .context("sha256sum printed nothing")
}

/// Python reads the manifest, hashes every listed entry, and prints the manifest back.
/// Fails when any entry's SHA-256 or size differs from the manifest.
pub fn python_verify(bundle: &Path) -> anyhow::Result<serde_json::Value> {
    const SCRIPT: &str = r#"
import hashlib, json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    manifest = json.loads(z.read("manifest.json"))
    bad = []
    for f in manifest["files"]:
        data = z.read(f["path"])
        if hashlib.sha256(data).hexdigest() != f["sha256"] or len(data) != f["size"]:
            bad.append(f["path"])
    if bad:
        sys.exit("entries differ from the manifest: " + ", ".join(bad))
    print(json.dumps(manifest))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(bundle)
        .output()
        .context("cannot run python3")?;
    if !out.status.success() {
        bail!(
            "python zipfile check failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// One entry's text, as Python's `zipfile` reads it.
pub fn entry_text(bundle: &Path, name: &str) -> anyhow::Result<String> {
    let out = Command::new("python3")
        .args(["-c", "import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())"])
        .arg(bundle)
        .arg(name)
        .output()
        .context("cannot run python3")?;
    if !out.status.success() {
        bail!(
            "python could not read {name}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}
