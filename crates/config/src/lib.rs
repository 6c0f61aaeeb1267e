//! The configuration file: TOML in a fixed shape (`docs/configure.md`), checked strictly.
//!
//! # Brief overview
//!
//! [`Config::load`] reads one file (named by `--config` or `CALLSUPPORT_CONFIG`), rejects unknown
//! keys and bad values, and names the file, line and key of every error ([`ConfigError`]). Paths in
//! source roots keep their placeholders here; [`SourceConfig::expanded_root`] expands them.
//! [`layers`] lays the user's file over the machine-wide one, which may lock keys; [`settings`]
//! lists the effective values with where each came from and changes the user's own; [`deploy`]
//! puts a checked file in place for the installers and IT's scripts.
//!
//! `sections.rs` holds the sections and their defaults, `load.rs` reading and checking a file,
//! [`presets`] the known calling apps, [`shortcut`] the report shortcut, `schema.rs` the JSON
//! Schema (committed as `schemas/config.schema.json`, kept fresh by a test).

pub mod admx;
mod check;
pub mod deploy;
mod layers;
mod load;
pub mod policy;
pub mod presets;
mod schema;
mod sections;
pub mod settings;
pub mod shortcut;
mod source;
mod tls;

pub use layers::{
    ConfigFiles, Layer, Layered, MANAGED_CONFIG_ENV, Origin, load_layered, load_layered_over,
    managed_path, user_path,
};
pub use schema::{SCHEMA_PATH, json_schema};
pub use sections::*;
pub use source::{Globs, SourceConfigError};
pub use tls::{CaFileError, ca_certificates};

use std::fmt;
use std::path::PathBuf;

pub use callsupport_bundle::SourceKind;
use callsupport_error::{Coded, ErrorCode};
use serde::Deserialize;

/// The environment variable that points at a configuration file for tests and scripts.
pub const CONFIG_ENV: &str = "CALLSUPPORT_CONFIG";

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub ticket_api: TicketApiConfig,
    /// Known calling apps to collect from, by name (see [`crate::presets`]).
    #[serde(default)]
    pub presets: Vec<String>,
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    #[serde(default)]
    pub collection: CollectionConfig,
    #[serde(default)]
    pub privacy: PrivacyConfig,
    #[serde(default)]
    pub outbox: OutboxConfig,
    #[serde(default)]
    pub shortcut: ShortcutConfig,
    #[serde(default)]
    pub startup: StartupConfig,
    #[serde(default)]
    pub detection: DetectionConfig,
    #[serde(default)]
    pub survey: SurveyConfig,
    #[serde(default)]
    pub viewer: ViewerConfig,
    /// Keys (or sections) the user's file and the app cannot change; read from the machine-wide
    /// file only.
    #[serde(default)]
    pub locked: Vec<String>,
    /// Problems that disable one source or preset but not the rest (bad glob, unknown placeholder,
    /// unknown preset), located like any other configuration error.
    #[serde(skip)]
    pub problems: Vec<ConfigError>,
    /// Things worth saying that are not problems, e.g. a preset for another platform was ignored.
    #[serde(skip)]
    pub notes: Vec<String>,
}

/// A configuration problem, located in its file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub path: PathBuf,
    /// 1-based line, when the problem is tied to one.
    pub line: Option<usize>,
    /// Dotted key path such as `sources[0].root`, when known.
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": key `{key}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl Coded for ConfigError {
    fn code(&self) -> ErrorCode {
        ErrorCode::ConfigInvalid
    }
}

impl Coded for SourceConfigError {
    fn code(&self) -> ErrorCode {
        ErrorCode::ConfigInvalid
    }
}

impl Coded for CaFileError {
    fn code(&self) -> ErrorCode {
        ErrorCode::ConfigInvalid
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("c.toml"), text)
    }

    const MINIMAL: &str = r#"
[ticket_api]
url = "https://support.example.com/api/v1/tickets"
token_env = "CALLSUPPORT_TOKEN"

[[sources]]
id = "acs"
name = "Calling SDK logs"
root = "{local_data}/Packages"
include = ["**/acs*.blog", "**/*.etl"]
exclude = []
kind = "encrypted"

[collection]
max_age_days = 7
max_bundle_mb = 200

[privacy]
redact = true
"#;

    #[test]
    fn the_documented_minimal_file_loads() {
        let config = parse(MINIMAL).unwrap();
        assert_eq!(config.sources[0].kind, SourceKind::Encrypted);
        assert_eq!(config.ticket_api.destination_host(), "support.example.com");
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let text = MINIMAL.replace(
            "[privacy]\nredact = true",
            "[privacy]\nredact = true\ncolour = 1",
        );
        let err = parse(&text).unwrap_err();
        assert_eq!(err.line, Some(20), "{err}");
        assert_eq!(err.key.as_deref(), Some("privacy.colour"), "{err}");
        assert!(err.message.contains("unknown field `colour`"), "{err}");
    }

    #[test]
    fn bad_source_id_points_at_its_line() {
        let err = parse(&MINIMAL.replace("id = \"acs\"", "id = \"a c s\"")).unwrap_err();
        assert_eq!(
            (err.line, err.key.as_deref()),
            (Some(7), Some("sources[0].id")),
            "{err}"
        );
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let remote = MINIMAL.replace("https://support.example.com", "http://support.example.com");
        let err = parse(&remote).unwrap_err();
        assert_eq!(err.line, Some(3), "{err}");
        assert!(err.message.contains("unencrypted"), "{err}");
        assert!(
            parse(&MINIMAL.replace("https://support.example.com", "http://127.0.0.1:9")).is_ok()
        );
        assert!(parse(&MINIMAL.replace("https://support.example.com", "http://[::1]:9")).is_ok());
    }

    #[test]
    fn screenshots_are_not_a_kind_or_an_id_for_configured_sources() {
        let err =
            parse(&MINIMAL.replace("kind = \"encrypted\"", "kind = \"screenshot\"")).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("sources[0].kind"), "{err}");
        assert!(
            err.message
                .contains("use encrypted, text or call-operations"),
            "{err}"
        );
        let err = parse(&MINIMAL.replace("id = \"acs\"", "id = \"screenshot\"")).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("sources[0].id"), "{err}");
        assert!(err.message.contains("reserved"), "{err}");
    }

    #[test]
    fn bad_glob_is_located_and_confined_to_its_source() {
        let config = parse(&MINIMAL.replace("\"**/*.etl\"", "\"**/[.etl\"")).unwrap();
        let err = &config.problems[0];
        assert_eq!(err.key.as_deref(), Some("sources[0].include[1]"), "{err}");
        assert_eq!(err.line, Some(10), "{err}");
        assert!(err.message.contains("source `acs`"), "{err}");
    }

    #[test]
    fn unknown_preset_is_a_located_problem() {
        let config = parse(&MINIMAL.replace(
            "[ticket_api]",
            "presets = [\"zoom\", \"skype-classic\"]\n[ticket_api]",
        ))
        .unwrap();
        let err = &config.problems[0];
        assert_eq!(
            (err.line, err.key.as_deref()),
            (Some(2), Some("presets[1]")),
            "{err}"
        );
        assert!(
            err.message.contains("unknown preset `skype-classic`"),
            "{err}"
        );
    }

    #[test]
    fn the_report_shortcut_has_a_default_can_be_turned_off_and_is_checked() {
        assert_eq!(
            parse(MINIMAL).unwrap().shortcut.report().unwrap().as_str(),
            "CmdOrCtrl+Alt+Shift+R"
        );
        let off = parse(&format!("{MINIMAL}\n[shortcut]\nreport = \"\"\n")).unwrap();
        assert!(off.shortcut.report().is_none());
        let text = format!("{MINIMAL}\n[shortcut]\nreport = \"Ctlr+R\"\n");
        let err = parse(&text).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("shortcut.report"), "{err}");
        assert_eq!(err.line, Some(text.lines().count()), "{err}");
        assert!(err.message.contains("`Ctlr`"), "{err}");
    }

    #[test]
    fn syntax_error_has_a_line() {
        let err = parse("[ticket_api\nurl = 1").unwrap_err();
        assert_eq!(err.line, Some(1), "{err}");
    }
}
