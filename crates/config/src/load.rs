//! Finding, reading and checking a file: every error names the file, the line and the key.

use std::path::{Path, PathBuf};

use crate::{
    CONFIG_ENV, Config, ConfigError, DetectionConfig, SourceConfig, SourceConfigError, SourceKind,
    ca_certificates, settings,
};

impl Config {
    /// Finds the file to use: `explicit` (from `--config`) or else `CALLSUPPORT_CONFIG`.
    pub fn locate(explicit: Option<&Path>) -> Result<PathBuf, ConfigError> {
        if let Some(path) = explicit {
            return Ok(path.to_path_buf());
        }
        match std::env::var_os(CONFIG_ENV) {
            Some(path) if !path.is_empty() => Ok(PathBuf::from(path)),
            _ => Err(ConfigError {
                path: PathBuf::from("(none)"),
                line: None,
                key: None,
                message: format!("no configuration given; pass --config FILE or set {CONFIG_ENV}"),
            }),
        }
    }

    /// Reads and checks one configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|err| ConfigError {
            path: path.to_path_buf(),
            line: None,
            key: None,
            message: match err.kind() {
                std::io::ErrorKind::NotFound => "file not found; check the path".to_owned(),
                _ => format!("cannot read it: {err}"),
            },
        })?;
        Config::parse(path, &text)
    }

    /// Parses and checks configuration text; `path` only names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let error = |line, key: Option<String>, message: String| ConfigError {
            path: path.to_path_buf(),
            line,
            key,
            message,
        };
        let deserializer = toml::de::Deserializer::parse(text).map_err(|err| {
            let line = line_of(text, err.span());
            error(line, None, syntax_message(text, line, err.message()))
        })?;
        let config: Config = serde_path_to_error::deserialize(deserializer).map_err(|err| {
            let key = err.path().to_string();
            let inner = err.into_inner();
            let key = (key != ".").then_some(key);
            error(line_of(text, inner.span()), key, inner.message().to_owned())
        })?;
        let mut config = config;
        config.validate().map_err(|(key, message)| {
            let line = line_of(text, span_of_key(text, &key));
            error(line, Some(key), message)
        })?;
        config.expand_presets();
        config.problems = config
            .source_problems()
            .into_iter()
            .map(|(key, message)| error(line_of(text, span_of_key(text, &key)), Some(key), message))
            .collect();
        Ok(config)
    }

    /// How old a source's files may be to go into a bundle.
    pub fn max_age(&self, source: &SourceConfig) -> std::time::Duration {
        let days = source.max_age_days.unwrap_or(self.collection.max_age_days);
        std::time::Duration::from_secs(u64::from(days) * 86_400)
    }

    /// Appends the sources of the named presets that apply to this platform; unknown names become
    /// problems, other platforms' presets notes.
    fn expand_presets(&mut self) {
        for name in self.presets.clone() {
            match crate::presets::lookup(&name) {
                crate::presets::Lookup::Unknown => {}
                crate::presets::Lookup::OtherPlatform(platforms) => self.notes.push(format!(
                    "preset `{name}` is for {platforms}, not {}; it was ignored",
                    std::env::consts::OS
                )),
                crate::presets::Lookup::Found(sources) => {
                    for source in sources {
                        if !self.sources.iter().any(|s| s.id == source.id) {
                            self.sources.push(source);
                        }
                    }
                }
            }
        }
    }

    /// Problems confined to one source or preset: `(key, message)` pairs.
    fn source_problems(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        for (i, name) in self.presets.iter().enumerate() {
            if matches!(
                crate::presets::lookup(name),
                crate::presets::Lookup::Unknown
            ) {
                problems.push((
                    format!("presets[{i}]"),
                    format!(
                        "unknown preset `{name}`; known presets: {}",
                        crate::presets::names().join(", ")
                    ),
                ));
            }
        }
        for (i, source) in self.sources.iter().enumerate() {
            if let Err(err) = source.expanded_root().and_then(|_| source.globs()) {
                let key = match &err {
                    SourceConfigError::BadGlob { key, .. } => key.clone(),
                    _ => "root".to_owned(),
                };
                problems.push((format!("sources[{i}].{key}"), err.to_string()));
            }
        }
        problems
    }

    /// Checks values serde cannot: URL scheme, ids, globs, limits. Returns the key and the message.
    fn validate(&self) -> Result<(), (String, String)> {
        self.ticket_api
            .validate()
            .map_err(|err| ("ticket_api.url".to_owned(), err.to_string()))?;
        if let Some(key) = &self.ticket_api.link_key {
            callsupport_link::PublicKey::parse(key)
                .map_err(|err| ("ticket_api.link_key".to_owned(), err.to_string()))?;
        }
        for (i, path) in self.ticket_api.ca_files.iter().enumerate() {
            ca_certificates(Path::new(path))
                .map_err(|err| (format!("ticket_api.ca_files[{i}]"), err.to_string()))?;
        }
        if let Some(name) = &self.ticket_api.token_env
            && (name.is_empty() || name.contains('='))
        {
            return Err((
                "ticket_api.token_env".into(),
                "must name an environment variable".into(),
            ));
        }
        for (i, key) in self.locked.iter().enumerate() {
            if !settings::is_known_key(key) {
                return Err((
                    format!("locked[{i}]"),
                    format!("`{key}` is not a key of this configuration"),
                ));
            }
        }
        if !self.shortcut.report.is_empty() {
            crate::shortcut::Shortcut::parse(&self.shortcut.report)
                .map_err(|err| ("shortcut.report".to_owned(), err.to_string()))?;
        }
        self.detection.validate(&self.sources)?;
        if !(1..=100).contains(&self.survey.sample_percent) {
            return Err((
                "survey.sample_percent".into(),
                "must be between 1 and 100".into(),
            ));
        }
        self.survey
            .scale
            .check()
            .map_err(|err| ("survey.scale".to_owned(), err.to_string()))?;
        let mut seen = std::collections::HashSet::new();
        for (i, source) in self.sources.iter().enumerate() {
            let key = |field: &str| format!("sources[{i}].{field}");
            if source.id.is_empty()
                || !source
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                return Err((key("id"), "use only letters, digits and '-'".into()));
            }
            if source.kind == SourceKind::Screenshot {
                return Err((
                    key("kind"),
                    "`screenshot` is for the pictures users add to a report; use encrypted, text or call-operations".into(),
                ));
            }
            if source.id == callsupport_bundle::SCREENSHOT_SOURCE_ID {
                return Err((
                    key("id"),
                    format!(
                        "`{}` is reserved for screenshots users add to a report; choose another id",
                        source.id
                    ),
                ));
            }
            if source.id == callsupport_bundle::APPLOG_SOURCE_ID {
                return Err((
                    key("id"),
                    format!(
                        "`{}` is reserved for Call Support's own log; choose another id",
                        source.id
                    ),
                ));
            }
            if !seen.insert(source.id.as_str()) {
                return Err((
                    key("id"),
                    format!("`{}` is used by another source", source.id),
                ));
            }
            if source.root.trim().is_empty() {
                return Err((key("root"), "must name a folder".into()));
            }
            if source.max_mb == Some(0) {
                return Err((key("max_mb"), "must be at least 1".into()));
            }
            if source.max_age_days == Some(0) {
                return Err((key("max_age_days"), "must be at least 1".into()));
            }
        }
        callsupport_seal::Recipients::parse(&self.privacy.recipients).map_err(|err| match err {
            callsupport_seal::SealError::BadRecipient { index, .. } => {
                (format!("privacy.recipients[{index}]"), err.to_string())
            }
            other => ("privacy.recipients".to_owned(), other.to_string()),
        })?;
        if let Some(path) = &self.viewer.identity_file
            && path.trim().is_empty()
        {
            return Err((
                "viewer.identity_file".into(),
                "must name a file made by `age-keygen -o FILE`".into(),
            ));
        }
        if self.outbox.max_age_days == 0 {
            return Err(("outbox.max_age_days".into(), "must be at least 1".into()));
        }
        if self.outbox.max_total_mb == 0 {
            return Err(("outbox.max_total_mb".into(), "must be at least 1".into()));
        }
        if self.collection.max_bundle_mb == 0 {
            return Err((
                "collection.max_bundle_mb".into(),
                "must be at least 1".into(),
            ));
        }
        if self.collection.max_age_days == 0 {
            return Err((
                "collection.max_age_days".into(),
                "must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

impl DetectionConfig {
    /// Values serde cannot check: bounds, regular expressions, the sources patterns name.
    fn validate(&self, sources: &[SourceConfig]) -> Result<(), (String, String)> {
        if self.cooldown_minutes > 7 * 24 * 60 {
            return Err((
                "detection.cooldown_minutes".into(),
                "must be at most 10080 (a week)".into(),
            ));
        }
        if !(1..=24 * 60).contains(&self.call_end_minutes) {
            return Err((
                "detection.call_end_minutes".into(),
                "must be between 1 and 1440 minutes".into(),
            ));
        }
        for (i, pattern) in self.patterns.iter().enumerate() {
            let key = |field: &str| format!("detection.patterns[{i}].{field}");
            let known = sources.iter().find(|s| s.id == pattern.source);
            match known {
                None => {
                    let ids: Vec<&str> = sources.iter().map(|s| s.id.as_str()).collect();
                    return Err((
                        key("source"),
                        format!(
                            "no source has the id `{}`; use one of: {}",
                            pattern.source,
                            if ids.is_empty() {
                                "(none configured)".to_owned()
                            } else {
                                ids.join(", ")
                            }
                        ),
                    ));
                }
                Some(source) if source.kind != SourceKind::Text => {
                    return Err((
                        key("source"),
                        format!(
                            "source `{}` is not of kind `text`; patterns are for readable text logs",
                            pattern.source
                        ),
                    ));
                }
                Some(_) => {}
            }
            if let Err(err) = regex::Regex::new(&pattern.pattern) {
                let first = err
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .trim()
                    .to_owned();
                return Err((key("pattern"), format!("not a regular expression: {first}")));
            }
            if pattern.name.trim().is_empty() || pattern.name.chars().count() > 120 {
                return Err((
                    key("name"),
                    "say in a few words what the line means (1 to 120 characters)".into(),
                ));
            }
        }
        Ok(())
    }
}

/// TOML's own message, with a hint when a line with a backslash in double quotes broke it: a
/// Windows path written as `"C:\Users\…"`, where TOML reads `\U` as an escape.
pub(crate) fn syntax_message(text: &str, line: Option<usize>, message: &str) -> String {
    let culprit = line
        .and_then(|n| text.lines().nth(n.saturating_sub(1)))
        .is_some_and(|l| l.contains('\\') && l.contains('"'));
    if culprit && (message.contains("escape") || message.contains("unicode")) {
        format!(
            "{message}; a backslash in double quotes starts an escape: write Windows paths in single quotes ('C:\\Logs') or with / ('C:/Logs')"
        )
    } else {
        message.to_owned()
    }
}

/// 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> Option<usize> {
    let start = span?.start.min(text.len());
    Some(text[..start].bytes().filter(|&b| b == b'\n').count() + 1)
}

/// Finds where a dotted key such as `sources[0].include[1]` is written, to point errors at a line.
pub(crate) fn span_of_key(text: &str, key: &str) -> Option<std::ops::Range<usize>> {
    let doc = toml::de::DeTable::parse(text).ok()?;
    let mut span = doc.span();
    let mut table = Some(doc.get_ref());
    let mut value: Option<&toml::de::DeValue<'_>> = None;
    for segment in key.split('.') {
        let (name, indexes) = match segment.find('[') {
            Some(at) => (&segment[..at], &segment[at..]),
            None => (segment, ""),
        };
        let found = table?.iter().find(|(k, _)| k.get_ref() == name)?.1;
        span = found.span();
        let mut current = found.get_ref();
        for index in indexes.split(['[', ']']).filter(|s| !s.is_empty()) {
            let item = current.as_array()?.get(index.parse::<usize>().ok()?)?;
            span = item.span();
            current = item.get_ref();
        }
        value = Some(current);
        table = current.as_table();
    }
    value.map(|_| span)
}
