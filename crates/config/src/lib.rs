//! The configuration file: TOML in a fixed shape (`docs/configure.md`), checked strictly.
//!
//! # Brief overview
//!
//! [`Config::load`] reads one file (named by `--config` or `CALLSUPPORT_CONFIG`), rejects unknown
//! keys and bad values, and names the file, line and key of every error ([`ConfigError`]). Paths in
//! source roots keep their placeholders here; [`crate::sources`] expands them when it scans.
//! [`layers`] lays the user's file over the machine-wide one, which may lock keys; [`settings`]
//! lists the effective values with where each came from and changes the user's own.

mod check;
mod layers;
pub mod presets;
mod schema;
pub mod settings;
pub mod shortcut;
mod source;
mod tls;

pub use layers::{
    ConfigFiles, Layer, Layered, MANAGED_CONFIG_ENV, Origin, load_layered, managed_path, user_path,
};
pub use schema::{SCHEMA_PATH, json_schema};
pub use source::{Globs, SourceConfigError};
pub use tls::{CaFileError, ca_certificates};

use callsupport_error::{Coded, ErrorCode};
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

pub use callsupport_bundle::SourceKind;
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

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketApiConfig {
    /// Where reports are posted, e.g. `https://support.example.com/api/v1/tickets`.
    pub url: String,
    /// The environment variable that holds the bearer token, if the API needs one.
    #[serde(default)]
    pub token_env: Option<String>,
    /// The organisation's name as the consent screen shows it ("Contoso IT").
    #[serde(default)]
    pub organisation: Option<String>,
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    /// How long the connection may stay silent (no bytes either way) before it counts as failed.
    #[serde(default = "default_read_timeout")]
    pub read_timeout_secs: u64,
    /// Allow plain `http://` to hosts other than loopback. Off: reports would cross the network unencrypted.
    #[serde(default)]
    pub allow_insecure_http: bool,
    /// Attempts after the first when the service cannot be reached or is busy (backing off from
    /// 1 s to 60 s); after them the report waits in the outbox.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// PEM files of extra certificate authorities to trust for the ticket API (a corporate CA),
    /// on top of the operating system's.
    #[serde(default)]
    pub ca_files: Vec<String>,
    /// Reports larger than this many MiB go in resumable pieces (tus) when the service offers
    /// it, and go on from where they stopped after a cut connection or a restart; 0 for every
    /// report. Smaller ones, and every report to a service without it, go in one request.
    #[serde(default = "default_resumable_over_mb")]
    pub resumable_over_mb: u64,
}

fn default_connect_timeout() -> u64 {
    10
}
fn default_retries() -> u32 {
    4
}
fn default_read_timeout() -> u64 {
    60
}
fn default_resumable_over_mb() -> u64 {
    8
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Letters, digits and `-`; names the source's folder inside the bundle.
    pub id: String,
    pub name: String,
    /// Folder to scan; may start with a placeholder such as `{local_data}`.
    pub root: String,
    #[serde(default = "default_include")]
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    pub kind: SourceKind,
    /// Overrides `collection.max_age_days` for this source.
    #[serde(default)]
    pub max_age_days: Option<u32>,
    /// The most this source may add to a bundle, in MiB; its newest files are kept.
    #[serde(default)]
    pub max_mb: Option<u64>,
    /// Follow symbolic links while scanning, even out of the root. Off by default.
    #[serde(default)]
    pub follow_links: bool,
}

fn default_include() -> Vec<String> {
    vec!["**/*".to_owned()]
}

/// Limits past which the outbox tells the user (it never drops a report by itself).
#[derive(Debug, Clone, Copy)]
pub struct OutboxLimits {
    pub max_age: std::time::Duration,
    pub max_total_bytes: u64,
}

/// When queued reports are worth telling the user about. The outbox never drops a report itself.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutboxConfig {
    /// A report waiting longer than this is shown as a problem.
    #[serde(default = "default_outbox_max_age_days")]
    pub max_age_days: u32,
    /// Reports waiting beyond this total size are shown as a problem.
    #[serde(default = "default_outbox_max_total_mb")]
    pub max_total_mb: u64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            max_age_days: default_outbox_max_age_days(),
            max_total_mb: default_outbox_max_total_mb(),
        }
    }
}

impl OutboxConfig {
    pub fn limits(&self) -> OutboxLimits {
        OutboxLimits {
            max_age: std::time::Duration::from_secs(u64::from(self.max_age_days) * 86_400),
            max_total_bytes: self.max_total_mb.saturating_mul(1024 * 1024),
        }
    }
}

fn default_outbox_max_age_days() -> u32 {
    14
}
fn default_outbox_max_total_mb() -> u64 {
    1024
}

/// The global keyboard shortcut, the desktop counterpart of shake-to-report.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShortcutConfig {
    /// Opens the report dialog from any app, e.g. `CmdOrCtrl+Alt+Shift+R`; `""` turns it off.
    #[serde(default = "default_report_shortcut")]
    pub report: String,
}

impl Default for ShortcutConfig {
    fn default() -> Self {
        Self {
            report: default_report_shortcut(),
        }
    }
}

impl ShortcutConfig {
    /// The checked report shortcut; `None` when turned off.
    pub fn report(&self) -> Option<crate::shortcut::Shortcut> {
        crate::shortcut::Shortcut::parse(&self.report).ok()
    }
}

fn default_report_shortcut() -> String {
    crate::shortcut::DEFAULT_REPORT_SHORTCUT.to_owned()
}

/// What runs when the user signs in.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartupConfig {
    /// Start the tray agent at sign-in, so the shortcut works and waiting reports are sent.
    #[serde(default = "yes")]
    pub at_login: bool,
}

impl Default for StartupConfig {
    fn default() -> Self {
        Self { at_login: true }
    }
}

/// Proactive detection ([`crate::detect`]): what counts as trouble and how often to ask.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DetectionConfig {
    /// Watch the readable call logs and offer to report what went wrong.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Least time between two prompts, in minutes.
    #[serde(default = "default_cooldown_minutes")]
    pub cooldown_minutes: u32,
    /// Most prompts in one day; 0 never prompts (detections are still listed).
    #[serde(default = "default_daily_cap")]
    pub daily_cap: u32,
    /// A failed operation (`ResultType` not `Succeeded`, or `ResultSignature` 400 or more).
    #[serde(default = "yes")]
    pub failed_operation: bool,
    /// This many failed operations in one call count as several; 0 turns the rule off.
    #[serde(default = "default_failures_per_call")]
    pub failures_per_call: u32,
    /// A call whose records stop without a hang-up.
    #[serde(default = "yes")]
    pub unexpected_end: bool,
    /// A call every join attempt of which failed.
    #[serde(default = "yes")]
    pub join_failed: bool,
    /// Minutes without a record after which a call with no hang-up counts as over.
    #[serde(default = "default_call_end_minutes")]
    pub call_end_minutes: u32,
    /// Lines of text logs that are trouble, per source.
    #[serde(default)]
    pub patterns: Vec<PatternConfig>,
}

impl Default for DetectionConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            cooldown_minutes: default_cooldown_minutes(),
            daily_cap: default_daily_cap(),
            failed_operation: true,
            failures_per_call: default_failures_per_call(),
            unexpected_end: true,
            join_failed: true,
            call_end_minutes: default_call_end_minutes(),
            patterns: Vec::new(),
        }
    }
}

fn default_cooldown_minutes() -> u32 {
    30
}
fn default_daily_cap() -> u32 {
    3
}
fn default_failures_per_call() -> u32 {
    3
}
fn default_call_end_minutes() -> u32 {
    10
}

/// The end-of-call survey ([`crate::survey`]): whether and how often a finished call is asked
/// about, and the scale of its scores.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyConfig {
    /// Ask after calls at all. Off unless the organisation turns it on.
    #[serde(default)]
    pub enabled: bool,
    /// Of the calls that end, the share asked about, in percent (1 to 100).
    #[serde(default = "default_sample_percent")]
    pub sample_percent: u8,
    /// Least time between two surveys, in hours.
    #[serde(default = "default_survey_hours")]
    pub min_hours_between: u32,
    /// The scores' scale; the SDK's default is 1 to 5, bad at 2 or below.
    #[serde(default)]
    pub scale: callsupport_bundle::survey::Scale,
}

impl Default for SurveyConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            sample_percent: default_sample_percent(),
            min_hours_between: default_survey_hours(),
            scale: callsupport_bundle::survey::Scale::default(),
        }
    }
}

fn default_sample_percent() -> u8 {
    25
}
fn default_survey_hours() -> u32 {
    8
}

/// A text-log line that is trouble: `pattern` (a regular expression) in a file of `source`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PatternConfig {
    /// The id of a source of kind `text`.
    pub source: String,
    /// A regular expression (Rust `regex` syntax), matched against each line.
    pub pattern: String,
    /// What it means, in the words a prompt uses: "The microphone stopped working".
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionConfig {
    #[serde(default = "default_max_age_days")]
    pub max_age_days: u32,
    #[serde(default = "default_max_bundle_mb")]
    pub max_bundle_mb: u64,
}

impl Default for CollectionConfig {
    fn default() -> Self {
        Self {
            max_age_days: default_max_age_days(),
            max_bundle_mb: default_max_bundle_mb(),
        }
    }
}

fn default_max_age_days() -> u32 {
    7
}
fn default_max_bundle_mb() -> u64 {
    200
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrivacyConfig {
    /// Replace personal details in readable logs. Redaction itself arrives with issue 4; until then
    /// the consent statement says that readable files are sent unchanged.
    #[serde(default = "yes")]
    pub redact: bool,
    #[serde(default)]
    pub allow_contact_email: bool,
    #[serde(default)]
    pub allow_screenshot: bool,
    /// *Save to file* and *Export Logs*: reports written where the user chooses. Off, every
    /// report goes to the ticket API.
    #[serde(default = "yes")]
    pub allow_export: bool,
    /// Log files go with reports. Off, a report carries the user's words and the computer's
    /// basic facts only (and a screenshot, where those are allowed).
    #[serde(default = "yes")]
    pub allow_log_collection: bool,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        Self {
            redact: true,
            allow_contact_email: false,
            allow_screenshot: false,
            allow_export: true,
            allow_log_collection: true,
        }
    }
}

fn yes() -> bool {
    true
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
        let deserializer = toml::de::Deserializer::parse(text)
            .map_err(|err| error(line_of(text, err.span()), None, err.message().to_owned()))?;
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
            .map_err(|m| ("ticket_api.url".to_owned(), m))?;
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

impl TicketApiConfig {
    /// The parsed URL. Only valid after [`Config::load`] succeeded.
    pub fn parsed_url(&self) -> url::Url {
        url::Url::parse(&self.url).expect("validated when the config was loaded")
    }

    /// The host a report goes to, as the consent screen names it.
    pub fn destination_host(&self) -> String {
        let url = self.parsed_url();
        match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        }
    }

    fn validate(&self) -> Result<(), String> {
        let url = url::Url::parse(&self.url)
            .map_err(|err| format!("`{}` is not a URL ({err})", self.url))?;
        match url.scheme() {
            "https" => Ok(()),
            "http" if self.allow_insecure_http || is_loopback(&url) => Ok(()),
            "http" => Err(format!(
                "`{}` would send reports unencrypted; use https, or set ticket_api.allow_insecure_http = true",
                self.url
            )),
            other => Err(format!("scheme `{other}` is not supported; use https")),
        }
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// 1-based line of a byte offset.
fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> Option<usize> {
    let start = span?.start.min(text.len());
    Some(text[..start].bytes().filter(|&b| b == b'\n').count() + 1)
}

/// Finds where a dotted key such as `sources[0].include[1]` is written, to point errors at a line.
fn span_of_key(text: &str, key: &str) -> Option<std::ops::Range<usize>> {
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
