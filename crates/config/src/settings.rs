//! The Settings screen's content: every key's effective value, where it came from, whether the
//! organisation locked it; and changes to the few keys a user may set, written to their own file.
//!
//! # Brief overview
//!
//! [`KEYS`] is the list of keys (and sections) this configuration has; `locked = [...]` may name
//! any of them. [`view`] renders a [`Layered`] configuration for the screen. [`change`] checks a
//! new value, writes it into the user's file with its comments and layout kept (`toml_edit`),
//! checks the whole configuration again, and only then replaces the file (written beside it and
//! renamed): a value that would make the configuration invalid never reaches the file.

use callsupport_error::{Coded, ErrorCode};
use std::path::Path;

use serde::Serialize;

use super::{Config, ConfigError, ConfigFiles, Layered, Origin, load_layered};

/// How a setting is edited on the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SettingKind {
    Text,
    Number,
    Switch,
    /// Shown only: a list or a section (sources, presets).
    List,
}

/// One key: its dotted name, its label on the screen, how it is edited, and whether a user may
/// change it (the others are the organisation's).
pub struct Key {
    pub key: &'static str,
    pub label: &'static str,
    pub kind: SettingKind,
    pub user_may_change: bool,
}

const fn key(key: &'static str, label: &'static str, kind: SettingKind, user: bool) -> Key {
    Key {
        key,
        label,
        kind,
        user_may_change: user,
    }
}

/// Every key, in the order the screen shows them.
pub const KEYS: &[Key] = &[
    key(
        "shortcut.report",
        "Keyboard shortcut for Report an Issue",
        SettingKind::Text,
        true,
    ),
    key(
        "collection.max_age_days",
        "Include logs from the last (days)",
        SettingKind::Number,
        true,
    ),
    key(
        "collection.max_bundle_mb",
        "Largest report (MB)",
        SettingKind::Number,
        true,
    ),
    key(
        "ticket_api.url",
        "Support service address",
        SettingKind::Text,
        false,
    ),
    key(
        "ticket_api.organisation",
        "Organisation",
        SettingKind::Text,
        false,
    ),
    key(
        "ticket_api.token_env",
        "Sign-in token from environment variable",
        SettingKind::Text,
        false,
    ),
    key(
        "ticket_api.connect_timeout_secs",
        "Connection timeout (s)",
        SettingKind::Number,
        false,
    ),
    key(
        "ticket_api.read_timeout_secs",
        "Silence timeout (s)",
        SettingKind::Number,
        false,
    ),
    key(
        "ticket_api.retries",
        "Retries before a report waits",
        SettingKind::Number,
        false,
    ),
    key(
        "ticket_api.resumable_over_mb",
        "Resumable upload above (MiB)",
        SettingKind::Number,
        false,
    ),
    key(
        "ticket_api.allow_insecure_http",
        "Allow unencrypted http",
        SettingKind::Switch,
        false,
    ),
    key(
        "ticket_api.ca_files",
        "Extra certificate authorities",
        SettingKind::List,
        false,
    ),
    key(
        "ticket_api.link_key",
        "Key that signs links from support",
        SettingKind::Text,
        false,
    ),
    key(
        "startup.at_login",
        "Start Call Support when you sign in",
        SettingKind::Switch,
        true,
    ),
    key(
        "privacy.redact",
        "Replace personal details in readable logs",
        SettingKind::Switch,
        false,
    ),
    key(
        "privacy.allow_contact_email",
        "Offer a contact e-mail",
        SettingKind::Switch,
        false,
    ),
    key(
        "privacy.allow_screenshot",
        "Offer a screenshot",
        SettingKind::Switch,
        false,
    ),
    key(
        "privacy.allow_log_collection",
        "Send log files with reports",
        SettingKind::Switch,
        false,
    ),
    key(
        "privacy.allow_export",
        "Allow saving reports to a file",
        SettingKind::Switch,
        false,
    ),
    key(
        "privacy.recipients",
        "Keys reports are sealed for",
        SettingKind::List,
        false,
    ),
    key(
        "outbox.max_age_days",
        "Warn when a report waits longer than (days)",
        SettingKind::Number,
        false,
    ),
    key(
        "outbox.max_total_mb",
        "Warn when waiting reports exceed (MB)",
        SettingKind::Number,
        false,
    ),
    key(
        "presets",
        "Calling apps collected from",
        SettingKind::List,
        false,
    ),
    key("sources", "Log folders", SettingKind::List, false),
    key(
        "detection.enabled",
        "Offer to report problems noticed in calls",
        SettingKind::Switch,
        true,
    ),
    key(
        "detection.cooldown_minutes",
        "Least time between two offers (minutes)",
        SettingKind::Number,
        false,
    ),
    key(
        "detection.daily_cap",
        "Most offers a day",
        SettingKind::Number,
        false,
    ),
    key(
        "survey.enabled",
        "Ask about calls when they end",
        SettingKind::Switch,
        false,
    ),
    key(
        "survey.sample_percent",
        "Share of calls asked about (%)",
        SettingKind::Number,
        false,
    ),
    key(
        "detection.patterns",
        "Log lines that are trouble",
        SettingKind::List,
        false,
    ),
];

/// Sections that `locked` may name as a whole.
const SECTIONS: &[&str] = &[
    "ticket_api",
    "collection",
    "privacy",
    "outbox",
    "shortcut",
    "detection",
    "survey",
    "startup",
];

/// Whether `key` names a key or section of this configuration.
pub fn is_known_key(key: &str) -> bool {
    KEYS.iter().any(|k| k.key == key) || SECTIONS.contains(&key)
}

/// One row of the Settings screen.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Setting {
    pub key: String,
    pub label: String,
    /// The effective value as text (`""` when unset).
    pub value: String,
    pub kind: SettingKind,
    pub origin: Origin,
    /// Locked by the organisation: shown as managed, cannot be changed.
    pub locked: bool,
    /// The user may change it here.
    pub editable: bool,
}

/// The Settings screen.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SettingsView {
    pub settings: Vec<Setting>,
    /// The machine-wide file, home folder as `~`, when there is one.
    pub managed_file: Option<String>,
    /// The user's file, where changes are written.
    pub user_file: Option<String>,
    /// What of the user's file was ignored, in words (with file, line and key).
    pub ignored: Vec<String>,
}

/// Why a setting cannot be changed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SettingError {
    #[error("`{0}` is managed by your organisation and cannot be changed here")]
    Managed(String),
    #[error("`{0}` is set by your IT department, not here")]
    NotForUsers(String),
    #[error("`{0}` is not a setting")]
    Unknown(String),
    #[error("`{value}` is not a whole number; {key} needs one, such as 7")]
    NotANumber { key: String, value: String },
    #[error("there is no settings file for this user (no configuration folder)")]
    NoUserFile,
    #[error("{0}")]
    Invalid(ConfigError),
    #[error("cannot save your settings in {path}: {message}")]
    Write { path: String, message: String },
}

/// The screen's rows for `layered`.
pub fn view(layered: &Layered) -> SettingsView {
    let settings = KEYS
        .iter()
        .map(|k| {
            let locked = layered.is_locked(k.key);
            Setting {
                key: k.key.to_owned(),
                label: k.label.to_owned(),
                value: value(&layered.config, k.key),
                kind: k.kind,
                origin: layered.origin(k.key),
                locked,
                editable: k.user_may_change && !locked,
            }
        })
        .collect();
    let shown = |layer: &Option<super::Layer>| {
        layer
            .as_ref()
            .map(|l| callsupport_bundle::display_path(&l.path))
    };
    SettingsView {
        settings,
        managed_file: shown(&layered.managed),
        user_file: shown(&layered.user),
        ignored: layered.ignored.iter().map(ToString::to_string).collect(),
    }
}

/// The effective value of `key` as text.
fn value(config: &Config, key: &str) -> String {
    let api = &config.ticket_api;
    match key {
        "shortcut.report" => config.shortcut.report.clone(),
        "startup.at_login" => config.startup.at_login.to_string(),
        "collection.max_age_days" => config.collection.max_age_days.to_string(),
        "collection.max_bundle_mb" => config.collection.max_bundle_mb.to_string(),
        "ticket_api.url" => api.url.clone(),
        "ticket_api.organisation" => api.organisation.clone().unwrap_or_default(),
        "ticket_api.token_env" => api.token_env.clone().unwrap_or_default(),
        "ticket_api.connect_timeout_secs" => api.connect_timeout_secs.to_string(),
        "ticket_api.read_timeout_secs" => api.read_timeout_secs.to_string(),
        "ticket_api.retries" => api.retries.to_string(),
        "ticket_api.resumable_over_mb" => api.resumable_over_mb.to_string(),
        "ticket_api.allow_insecure_http" => api.allow_insecure_http.to_string(),
        "ticket_api.ca_files" => api.ca_files.join(", "),
        "ticket_api.link_key" => api.link_key.clone().unwrap_or_default(),
        "privacy.recipients" => config.privacy.recipients.join(", "),
        "privacy.redact" => config.privacy.redact.to_string(),
        "privacy.allow_contact_email" => config.privacy.allow_contact_email.to_string(),
        "privacy.allow_screenshot" => config.privacy.allow_screenshot.to_string(),
        "privacy.allow_export" => config.privacy.allow_export.to_string(),
        "privacy.allow_log_collection" => config.privacy.allow_log_collection.to_string(),
        "outbox.max_age_days" => config.outbox.max_age_days.to_string(),
        "outbox.max_total_mb" => config.outbox.max_total_mb.to_string(),
        "detection.enabled" => config.detection.enabled.to_string(),
        "detection.cooldown_minutes" => config.detection.cooldown_minutes.to_string(),
        "detection.daily_cap" => config.detection.daily_cap.to_string(),
        "detection.patterns" => config
            .detection
            .patterns
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        "survey.enabled" => config.survey.enabled.to_string(),
        "survey.sample_percent" => config.survey.sample_percent.to_string(),
        "presets" => config.presets.join(", "),
        "sources" => config
            .sources
            .iter()
            .filter(|s| s.id != callsupport_bundle::APPLOG_SOURCE_ID)
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    }
}

/// Sets `key` to `text` in the user's file and returns the configuration as it now is.
pub fn change(
    files: &ConfigFiles,
    current: &Layered,
    key: &str,
    text: &str,
) -> Result<Layered, SettingError> {
    let known = KEYS
        .iter()
        .find(|k| k.key == key)
        .ok_or_else(|| SettingError::Unknown(key.to_owned()))?;
    if current.is_locked(key) {
        return Err(SettingError::Managed(key.to_owned()));
    }
    if !known.user_may_change {
        return Err(SettingError::NotForUsers(key.to_owned()));
    }
    let value: toml_edit::Value = match known.kind {
        SettingKind::Number => text
            .trim()
            .parse::<i64>()
            .map_err(|_| SettingError::NotANumber {
                key: key.to_owned(),
                value: text.to_owned(),
            })?
            .into(),
        _ => text.trim().into(),
    };
    let path = files.user.as_deref().ok_or(SettingError::NoUserFile)?;
    let old = match std::fs::read_to_string(path) {
        Ok(old) => old,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => return Err(write_error(path, err)),
    };
    let mut doc = old.parse::<toml_edit::DocumentMut>().map_err(|err| {
        SettingError::Invalid(ConfigError {
            path: path.to_path_buf(),
            line: crate::load::line_of(&old, err.span()),
            key: None,
            message: format!("{}; fix or remove your settings file first", err.message()),
        })
    })?;
    let (section, name) = key
        .split_once('.')
        .expect("settings users change are in a section");
    if !doc.contains_table(section) {
        doc[section] = toml_edit::table();
    }
    doc[section][name] = toml_edit::value(value);

    // Checked as the whole configuration before the file is touched.
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder).map_err(|err| write_error(path, err))?;
    let staging = folder.join(format!(
        ".config.toml.{}.new",
        uuid::Uuid::now_v7().simple()
    ));
    // Flushed before the rename, so a power cut after it leaves the new file, not an empty one.
    callsupport_kept::write_synced(&staging, doc.to_string().as_bytes())
        .map_err(|err| write_error(path, err))?;
    let trial = ConfigFiles {
        managed: files.managed.clone(),
        user: Some(staging.clone()),
        named: true,
        policy: files.policy.clone(),
    };
    let checked = load_layered(&trial)
        .map_err(SettingError::Invalid)
        .and_then(|layered| match layered.ignored.into_iter().next() {
            Some(problem) => Err(SettingError::Invalid(problem)),
            None => Ok(()),
        });
    if let Err(err) = checked {
        let _ = std::fs::remove_file(&staging);
        return Err(match err {
            SettingError::Invalid(problem) => SettingError::Invalid(ConfigError {
                path: path.to_path_buf(),
                ..problem
            }),
            other => other,
        });
    }
    if let Err(err) = std::fs::rename(&staging, path) {
        let _ = std::fs::remove_file(&staging);
        return Err(write_error(path, err));
    }
    load_layered(files).map_err(SettingError::Invalid)
}

fn write_error(path: &Path, err: std::io::Error) -> SettingError {
    SettingError::Write {
        path: callsupport_bundle::display_path(path),
        message: err.to_string(),
    }
}

impl Coded for SettingError {
    fn code(&self) -> ErrorCode {
        match self {
            SettingError::Managed(_) | SettingError::NotForUsers(_) => ErrorCode::Managed,
            SettingError::Write { .. } | SettingError::NoUserFile => ErrorCode::Io,
            SettingError::Unknown(_)
            | SettingError::NotANumber { .. }
            | SettingError::Invalid(_) => ErrorCode::ReportInvalid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_shows_its_value() {
        let text = "[ticket_api]\nurl = \"https://support.example.com/api/v1/tickets\"\norganisation = \"Contoso\"\ntoken_env = \"T\"\n";
        let config = Config::parse(Path::new("c.toml"), text).unwrap();
        // Lists that are empty unless a file fills them.
        let may_be_empty = [
            "ticket_api.ca_files",
            "ticket_api.link_key",
            "privacy.recipients",
            "presets",
            "sources",
            "detection.patterns",
        ];
        for key in KEYS.iter().map(|k| k.key) {
            assert!(
                may_be_empty.contains(&key) || !value(&config, key).is_empty(),
                "the Settings screen shows nothing for `{key}`"
            );
        }
    }
}
