//! The library crates are layers: each depends only on the crates below it, so no cycle can form
//! and each builds only what it needs. The tests here hold the workspace to that, and keep the
//! desktop's system libraries out of the reference server and of xtask.

/// The library crates, lowest first. A crate may depend (for its build, not its tests) only on
/// crates before it in this list.
const LAYERS: &[&str] = &[
    "callsupport-error",
    "callsupport-redact",
    "callsupport-kept",
    "callsupport-seal",
    "callsupport-link",
    "callsupport-demo",
    "callsupport-outside-tools",
    "callsupport-screen",
    "callsupport-bundle",
    "callsupport-config",
    "callsupport-logs",
    "callsupport-upload",
    "callsupport-desk",
];

/// Crates that bring the desktop (D-Bus, GTK, WebKit, file watching, the keyring) or the app's
/// generated contracts: the reference server must build without any of them.
const NOT_FOR_THE_SERVER: &[&str] = &[
    "dbus",
    "libdbus-sys",
    "gtk",
    "gtk-sys",
    "webkit2gtk",
    "webkit2gtk-sys",
    "tauri",
    "notify",
    "keyring",
    "ts-rs",
    "schemars",
];

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::process::Command;

    use super::{LAYERS, NOT_FOR_THE_SERVER};
    use crate::util::root;

    fn cargo(args: &[&str]) -> String {
        let output = Command::new(env!("CARGO"))
            .args(args)
            .current_dir(root())
            .output()
            .expect("cargo runs");
        assert!(
            output.status.success(),
            "cargo {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("UTF-8")
    }

    /// Each workspace package's dependencies on other workspace packages, by kind.
    fn workspace_edges() -> BTreeMap<String, Vec<(String, Option<String>)>> {
        let metadata: serde_json::Value = serde_json::from_str(&cargo(&[
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ]))
        .expect("cargo metadata is JSON");
        let packages = metadata["packages"].as_array().expect("packages");
        let ours: BTreeSet<&str> = packages.iter().filter_map(|p| p["name"].as_str()).collect();
        packages
            .iter()
            .map(|p| {
                let deps = p["dependencies"]
                    .as_array()
                    .expect("dependencies")
                    .iter()
                    .filter(|d| ours.contains(d["name"].as_str().unwrap_or_default()))
                    .map(|d| {
                        let kind = d["kind"].as_str().map(str::to_owned);
                        (d["name"].as_str().unwrap_or_default().to_owned(), kind)
                    })
                    .collect();
                (p["name"].as_str().unwrap_or_default().to_owned(), deps)
            })
            .collect()
    }

    #[test]
    fn library_crates_depend_only_on_the_layers_below() {
        let edges = workspace_edges();
        let mut wrong = Vec::new();
        for (at, name) in LAYERS.iter().enumerate() {
            let deps = edges
                .get(*name)
                .unwrap_or_else(|| panic!("{name} is not in the workspace"));
            for (dep, kind) in deps {
                if kind.as_deref() == Some("dev") {
                    continue; // tests may use a crate above, e.g. the server for real uploads
                }
                match LAYERS.iter().position(|l| l == dep) {
                    Some(below) if below < at => {}
                    _ => wrong.push(format!("{name} depends on {dep}")),
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "library crates must depend only on crates below them in xtask/src/layers.rs: {}",
            wrong.join("; ")
        );
    }

    #[test]
    fn the_server_and_the_fuzz_target_need_only_the_bundle_format_small_files_sealing_and_links() {
        let edges = workspace_edges();
        let server: Vec<&str> = edges["callsupport-ticket-server"]
            .iter()
            .filter(|(_, kind)| kind.as_deref() != Some("dev"))
            .map(|(dep, _)| dep.as_str())
            .collect();
        // `kept`: upload records written whole and synced, and the disk's free space; `seal`:
        // sealed bundles opened with the server's identity to be checked; `link`: links from
        // support signed and checked.
        assert_eq!(
            server,
            [
                "callsupport-bundle",
                "callsupport-kept",
                "callsupport-link",
                "callsupport-seal"
            ]
        );
        let fuzz = std::fs::read_to_string(root().join("fuzz/Cargo.toml")).expect("fuzz manifest");
        assert!(
            fuzz.contains("callsupport-bundle =") && !fuzz.contains("callsupport-desk"),
            "the fuzz target depends on callsupport-bundle alone"
        );
    }

    #[test]
    fn the_server_builds_nothing_of_the_desktop() {
        let tree = cargo(&[
            "tree",
            "--offline",
            "-p",
            "callsupport-ticket-server",
            "-e",
            "normal,build,dev",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ]);
        let names: BTreeSet<&str> = tree
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .collect();
        let found: Vec<&&str> = NOT_FOR_THE_SERVER
            .iter()
            .filter(|name| names.contains(**name))
            .collect();
        assert!(
            found.is_empty(),
            "the reference server's tree (with its tests) has {found:?}"
        );
        assert!(names.contains("callsupport-bundle"), "{tree}");
    }
}
