//! Every problem of one configuration file at once, for `callsupport config check`: each
//! top-level section is read on its own, so a mistake in one does not hide the next; once all of
//! them read, the whole file is checked as [`Config::parse`] checks it, and its per-source
//! problems are listed too.

use std::path::Path;

use serde::de::DeserializeOwned;

use super::{
    CollectionConfig, Config, ConfigError, DetectionConfig, OutboxConfig, PrivacyConfig,
    ShortcutConfig, SourceConfig, StartupConfig, SurveyConfig, TicketApiConfig, ViewerConfig,
};
use crate::load::{line_of, span_of_key};

impl Config {
    /// The file at `path` and every problem of it ([`Config::check_all`]); an error when it
    /// cannot be read.
    pub fn read_and_check(path: &Path) -> Result<(String, Vec<ConfigError>), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|err| ConfigError {
            path: path.to_path_buf(),
            line: None,
            key: None,
            message: format!("cannot read it: {err}"),
        })?;
        let problems = Config::check_all(path, &text);
        Ok((text, problems))
    }

    /// Every problem of `text` (the file at `path`), each with its line and key; none when it is
    /// a valid configuration.
    pub fn check_all(path: &Path, text: &str) -> Vec<ConfigError> {
        let error = |line, key: Option<String>, message: String| ConfigError {
            path: path.to_path_buf(),
            line,
            key,
            message,
        };
        let table: toml::Table = match text.parse() {
            Ok(table) => table,
            Err(err) => {
                let err: toml::de::Error = err;
                return vec![error(
                    line_of(text, err.span()),
                    None,
                    err.message().to_owned(),
                )];
            }
        };
        let mut errors = Vec::new();
        for (name, value) in &table {
            let read = match name.as_str() {
                "ticket_api" => section::<TicketApiConfig>(value),
                "presets" | "locked" => section::<Vec<String>>(value),
                "sources" => section::<Vec<SourceConfig>>(value),
                "collection" => section::<CollectionConfig>(value),
                "privacy" => section::<PrivacyConfig>(value),
                "outbox" => section::<OutboxConfig>(value),
                "shortcut" => section::<ShortcutConfig>(value),
                "startup" => section::<StartupConfig>(value),
                "detection" => section::<DetectionConfig>(value),
                "survey" => section::<SurveyConfig>(value),
                "viewer" => section::<ViewerConfig>(value),
                _ => Err((
                    String::new(),
                    format!(
                        "`{name}` is not a section of this configuration (see `callsupport config schema`)"
                    ),
                )),
            };
            if let Err((inner, message)) = read {
                let key = match inner.as_str() {
                    "" | "." => name.clone(),
                    _ if inner.starts_with('[') => format!("{name}{inner}"),
                    _ => format!("{name}.{inner}"),
                };
                let line = line_of(
                    text,
                    span_of_key(text, &key).or_else(|| span_of_key(text, name)),
                );
                errors.push(error(line, Some(key), message));
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.line);
            return errors;
        }
        match Config::parse(path, text) {
            Ok(config) => config.problems,
            Err(err) => vec![err],
        }
    }
}

/// Reads one section alone; the key within it and the message when it does not read.
fn section<T: DeserializeOwned>(value: &toml::Value) -> Result<(), (String, String)> {
    serde_path_to_error::deserialize::<_, T>(value.clone())
        .map(drop)
        .map_err(|err| {
            let path = err.path().to_string();
            (path, err.into_inner().message().to_owned())
        })
}
