//! Sources for known calling applications, selected by name: `presets = ["acs-windows", "zoom"]`.
//!
//! # Brief overview
//!
//! Each preset expands into one or more sources for the platform the app runs on. A preset with no
//! sources for this platform is ignored with a note, not an error. Every folder comes from public
//! documentation, cited per preset (the letters refer to the sources listed in `docs/presets.md`); folders
//! that no vendor document confirms are marked UNCONFIRMED, and all of them may simply not exist on a
//! given machine, which the index reports as "missing" and keeps watching for.

use crate::{SourceConfig, SourceKind};

/// What a preset name resolves to here.
pub enum Lookup {
    Found(Vec<SourceConfig>),
    /// Known, but only for these platforms.
    OtherPlatform(&'static str),
    Unknown,
}

struct Preset {
    name: &'static str,
    /// One entry per platform (`std::env::consts::OS`) with the sources it has there.
    platforms: &'static [(&'static str, &'static [Spec])],
    platform_names: &'static str,
}

struct Spec {
    id: &'static str,
    name: &'static str,
    root: &'static str,
    include: &'static [&'static str],
    kind: SourceKind,
}

const PRESETS: &[Preset] = &[
    // ACS Calling SDK, native Windows apps. Support's own instructions search the user's AppData for
    // `acs*.blog` and attach every `*.blog` and `*.etl` (troubleshooting-info.md, log-file-retrieval
    // tutorial: A1, A2). Packaged apps keep them under %LOCALAPPDATA%\Packages\<family>\; the exact
    // subfolder is UNCONFIRMED, hence the `**`. Encrypted in release builds (log-sharing concept, A2).
    Preset {
        name: "acs-windows",
        platform_names: "windows",
        platforms: &[(
            "windows",
            &[Spec {
                id: "acs",
                name: "Calling SDK logs",
                root: "{local_data}/Packages",
                include: &["**/acs*.blog", "**/*.etl"],
                kind: SourceKind::Encrypted,
            }],
        )],
    },
    // ACS Calling SDK on Apple platforms: the SDK writes `*.blog` into the app container's
    // Library/Caches (iOS: A1, A2; UI library `getLogFiles`: A4). A native macOS location is
    // UNCONFIRMED; sandboxed macOS apps keep Caches under ~/Library/Containers/<bundle id>/Data.
    Preset {
        name: "acs-macos",
        platform_names: "macos",
        platforms: &[(
            "macos",
            &[Spec {
                id: "acs",
                name: "Calling SDK logs",
                root: "{home}/Library/Containers",
                include: &["*/Data/Library/Caches/**/*.blog"],
                kind: SourceKind::Encrypted,
            }],
        )],
    },
    // Microsoft Teams classic: `logs.txt` is the desktop log; media-stack and skylib folders hold the
    // binary `.blog` media logs (T2: Windows %APPDATA%\Microsoft\Teams, macOS
    // ~/Library/Application Support/Microsoft/Teams, Linux ~/.config/Microsoft/Microsoft Teams).
    // The raw media-stack folder on Windows is UNCONFIRMED.
    Preset {
        name: "teams-classic",
        platform_names: "windows, macos, linux",
        platforms: &[
            (
                "windows",
                &[
                    Spec {
                        id: "teams-classic",
                        name: "Teams (classic) log",
                        root: "{data}/Microsoft/Teams",
                        include: &["logs.txt"],
                        kind: SourceKind::Text,
                    },
                    Spec {
                        id: "teams-classic-media",
                        name: "Teams (classic) media logs",
                        root: "{data}/Microsoft/Teams",
                        include: &["media-stack/*.blog", "skylib/*.blog"],
                        kind: SourceKind::Encrypted,
                    },
                ],
            ),
            (
                "macos",
                &[
                    Spec {
                        id: "teams-classic",
                        name: "Teams (classic) log",
                        root: "{home}/Library/Application Support/Microsoft/Teams",
                        include: &["logs.txt"],
                        kind: SourceKind::Text,
                    },
                    Spec {
                        id: "teams-classic-media",
                        name: "Teams (classic) media logs",
                        root: "{home}/Library/Application Support/Microsoft/Teams",
                        include: &["media-stack/*.blog", "skylib/*.blog"],
                        kind: SourceKind::Encrypted,
                    },
                ],
            ),
            (
                "linux",
                &[
                    Spec {
                        id: "teams-classic",
                        name: "Teams (classic) log",
                        root: "{config}/Microsoft/Microsoft Teams",
                        include: &["logs.txt"],
                        kind: SourceKind::Text,
                    },
                    Spec {
                        id: "teams-classic-media",
                        name: "Teams (classic) media logs",
                        root: "{config}/Microsoft/Microsoft Teams",
                        include: &["media-stack/*.blog", "skylib/*.blog"],
                        kind: SourceKind::Encrypted,
                    },
                ],
            ),
        ],
    },
    // New Microsoft Teams. Windows: Microsoft lists
    // %LOCALAPPDATA%\Packages\MSTeams_8wekyb3d8bbwe\LocalCache\Microsoft\MSTeams\Logs as diagnostics
    // logs (T3); the `MSTeams_*.log` naming is community-reported (C1, UNCONFIRMED). macOS: only the
    // container roots are documented (T4); the Logs subfolder is UNCONFIRMED.
    Preset {
        name: "teams-new",
        platform_names: "windows, macos",
        platforms: &[
            (
                "windows",
                &[Spec {
                    id: "teams",
                    name: "Teams logs",
                    root: "{local_data}/Packages/MSTeams_8wekyb3d8bbwe/LocalCache/Microsoft/MSTeams/Logs",
                    include: &["*.log", "*.txt"],
                    kind: SourceKind::Text,
                }],
            ),
            (
                "macos",
                &[Spec {
                    id: "teams",
                    name: "Teams logs",
                    root: "{home}/Library/Group Containers/UBF8T346G9.com.microsoft.teams",
                    include: &["**/Logs/*.log"],
                    kind: SourceKind::Text,
                }],
            ),
        ],
    },
    // Zoom desktop client: no vendor page documents its log folder (all UNCONFIRMED). Windows
    // %APPDATA%\Zoom\logs and Linux ~/.zoom/logs are community-reported; macOS ~/Library/Logs/zoom.us
    // comes from the Homebrew cask (Z1). Treated as readable text, so redaction applies.
    Preset {
        name: "zoom",
        platform_names: "windows, macos, linux",
        platforms: &[
            (
                "windows",
                &[Spec {
                    id: "zoom",
                    name: "Zoom logs",
                    root: "{data}/Zoom/logs",
                    include: &["**/*.log", "**/*.txt"],
                    kind: SourceKind::Text,
                }],
            ),
            (
                "macos",
                &[Spec {
                    id: "zoom",
                    name: "Zoom logs",
                    root: "{home}/Library/Logs/zoom.us",
                    include: &["**/*.log", "**/*.txt"],
                    kind: SourceKind::Text,
                }],
            ),
            (
                "linux",
                &[Spec {
                    id: "zoom",
                    name: "Zoom logs",
                    root: "{home}/.zoom/logs",
                    include: &["**/*.log", "**/*.txt"],
                    kind: SourceKind::Text,
                }],
            ),
        ],
    },
    // Chrome's WebRTC text logs: `<Profile>/WebRTC Logs/<epoch>.gz` plus the `Log List` index (W2–W5),
    // under the profile roots of W1. Gzip-compressed text; Chrome deletes them after 5 days.
    Preset {
        name: "chromium-webrtc",
        platform_names: "windows, macos, linux",
        platforms: &[
            (
                "windows",
                &[Spec {
                    id: "chrome-webrtc",
                    name: "Chrome WebRTC logs",
                    root: "{local_data}/Google/Chrome/User Data",
                    include: &["*/WebRTC Logs/*.gz", "*/WebRTC Logs/Log List"],
                    kind: SourceKind::Text,
                }],
            ),
            (
                "macos",
                &[Spec {
                    id: "chrome-webrtc",
                    name: "Chrome WebRTC logs",
                    root: "{home}/Library/Application Support/Google/Chrome",
                    include: &["*/WebRTC Logs/*.gz", "*/WebRTC Logs/Log List"],
                    kind: SourceKind::Text,
                }],
            ),
            (
                "linux",
                &[Spec {
                    id: "chrome-webrtc",
                    name: "Chrome WebRTC logs",
                    root: "{config}/google-chrome",
                    include: &["*/WebRTC Logs/*.gz", "*/WebRTC Logs/Log List"],
                    kind: SourceKind::Text,
                }],
            ),
        ],
    },
];

/// Every preset name, for error messages and documentation.
pub fn names() -> Vec<&'static str> {
    PRESETS.iter().map(|p| p.name).collect()
}

/// The sources a preset has on this platform.
pub fn lookup(name: &str) -> Lookup {
    lookup_for(name, std::env::consts::OS)
}

fn lookup_for(name: &str, os: &str) -> Lookup {
    let Some(preset) = PRESETS.iter().find(|p| p.name == name) else {
        return Lookup::Unknown;
    };
    match preset
        .platforms
        .iter()
        .find(|(platform, _)| *platform == os)
    {
        Some((_, specs)) => Lookup::Found(specs.iter().map(to_source).collect()),
        None => Lookup::OtherPlatform(preset.platform_names),
    }
}

fn to_source(spec: &Spec) -> SourceConfig {
    SourceConfig {
        id: spec.id.to_owned(),
        name: spec.name.to_owned(),
        root: spec.root.to_owned(),
        include: spec.include.iter().map(|s| (*s).to_owned()).collect(),
        exclude: Vec::new(),
        kind: spec.kind,
        max_age_days: None,
        max_mb: None,
        follow_links: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_resolves_on_each_platform_it_names() {
        for preset in PRESETS {
            for (os, specs) in preset.platforms {
                assert!(
                    preset.platform_names.contains(os),
                    "{} lists {os}",
                    preset.name
                );
                let Lookup::Found(sources) = lookup_for(preset.name, os) else {
                    panic!("{} on {os}", preset.name)
                };
                assert_eq!(sources.len(), specs.len());
                for source in sources {
                    // Globs compile and placeholders are known (roots may not exist here).
                    if let Err(err) = source.expanded_root().and_then(|_| source.globs()) {
                        assert!(!err.to_string().contains("glob"), "{}: {err}", preset.name);
                    }
                    assert!(
                        source
                            .id
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-')
                    );
                }
            }
        }
    }

    #[test]
    fn other_platforms_and_unknown_names() {
        assert!(matches!(
            lookup_for("acs-windows", "linux"),
            Lookup::OtherPlatform("windows")
        ));
        assert!(matches!(
            lookup_for("acs-windows", "windows"),
            Lookup::Found(_)
        ));
        assert!(matches!(lookup_for("skype", "windows"), Lookup::Unknown));
    }

    #[test]
    fn acs_windows_matches_sdk_logs_anywhere_under_packages() {
        let Lookup::Found(sources) = lookup_for("acs-windows", "windows") else {
            panic!()
        };
        let mut source = sources[0].clone();
        source.root = "/x".into();
        let resolved = source.globs().unwrap();
        assert!(resolved.matches("Contoso_8wekyb3d8bbwe/LocalState/acs_sdk_0.blog"));
        assert!(resolved.matches("App/trace.etl"));
        assert!(!resolved.matches("App/media_stack.blog"));
    }

    /// On Windows the presets land in the user's known folders, as Windows reports them (the
    /// same folders `%LOCALAPPDATA%` and `%APPDATA%` name).
    #[cfg(windows)]
    #[test]
    fn windows_presets_resolve_against_the_known_folders() {
        let folder = |var: &str| std::path::PathBuf::from(std::env::var(var).unwrap());
        let root = |name: &str| match lookup(name) {
            Lookup::Found(sources) => sources[0].expanded_root().unwrap(),
            _ => panic!("{name} is not a Windows preset"),
        };
        assert_eq!(root("acs-windows"), folder("LOCALAPPDATA").join("Packages"));
        assert_eq!(
            root("teams-new"),
            folder("LOCALAPPDATA")
                .join("Packages/MSTeams_8wekyb3d8bbwe/LocalCache/Microsoft/MSTeams/Logs")
        );
        assert!(root("teams-classic").starts_with(folder("APPDATA")));
    }
}
