//! The sections of the file, each with its keys, defaults and documentation (which the JSON
//! Schema carries).

use std::net::IpAddr;

use serde::Deserialize;

use crate::SourceKind;

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
    /// The public key links from support are signed with (`ed25519:…`, as the ticket service
    /// prints it and serves it at `/api/v1/link-key`). Set, links are checked against it alone;
    /// not set, the key is asked of the ticket service when a link is opened.
    #[serde(default)]
    pub link_key: Option<String>,
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

impl SourceConfig {
    /// A source of `kind` taking every file under `root`, the other keys at their defaults.
    pub fn new(id: &str, name: &str, root: &str, kind: SourceKind) -> SourceConfig {
        SourceConfig {
            id: id.to_owned(),
            name: name.to_owned(),
            root: root.to_owned(),
            include: default_include(),
            exclude: Vec::new(),
            kind,
            max_age_days: None,
            max_mb: None,
            follow_links: false,
        }
    }
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
    /// Replace personal details and secrets in readable logs with tokens on their way into the
    /// bundle (the files on disk are never changed). Off, the consent statement says that readable
    /// files are sent unchanged.
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
    /// Seal every bundle with age for these public keys (`age1…`, as `age-keygen -y` prints
    /// them): the report in the outbox, a file saved with *Save to file* and the server's copy
    /// are then ciphertext only these keys' holders can open. Include the reference server's key
    /// so it can check what it receives.
    #[serde(default)]
    pub recipients: Vec<String>,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        Self {
            redact: true,
            allow_contact_email: false,
            allow_screenshot: false,
            allow_export: true,
            allow_log_collection: true,
            recipients: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

impl TicketApiConfig {
    /// The parsed URL. Only valid after [`Config::load`] succeeded.
    pub fn parsed_url(&self) -> url::Url {
        url::Url::parse(&self.url).expect("validated when the config was loaded")
    }

    /// The pinned key links from support are checked with, if any. Only valid after
    /// [`Config::load`] succeeded.
    pub fn pinned_link_key(&self) -> Option<callsupport_link::PublicKey> {
        self.link_key
            .as_deref()
            .map(|key| callsupport_link::PublicKey::parse(key).expect("validated when loaded"))
    }

    /// The host a report goes to, as the consent screen names it.
    pub fn destination_host(&self) -> String {
        let url = self.parsed_url();
        match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), UrlError> {
        let url = url::Url::parse(&self.url).map_err(|err| UrlError::NotAUrl {
            url: self.url.clone(),
            reason: err.to_string(),
        })?;
        match url.scheme() {
            "https" => Ok(()),
            "http" if self.allow_insecure_http || is_loopback(&url) => Ok(()),
            "http" => Err(UrlError::Unencrypted(self.url.clone())),
            other => Err(UrlError::Scheme(other.to_owned())),
        }
    }
}

/// Why `ticket_api.url` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    #[error("`{url}` is not a URL ({reason})")]
    NotAUrl { url: String, reason: String },
    #[error(
        "`{0}` would send reports unencrypted; use https, or set ticket_api.allow_insecure_http = true"
    )]
    Unencrypted(String),
    #[error("scheme `{0}` is not supported; use https")]
    Scheme(String),
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// The support agent's side of the app: opening received bundles.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewerConfig {
    /// The agent's age identity file (`age-keygen -o FILE`), which opens bundles sealed for its
    /// public key (`privacy.recipients` on the users' computers). `~` is the home folder.
    #[serde(default)]
    pub identity_file: Option<String>,
}

impl ViewerConfig {
    /// The identity file, `~` expanded.
    pub fn identity_path(&self) -> Option<std::path::PathBuf> {
        let path = self.identity_file.as_deref()?.trim();
        match path.strip_prefix("~/").or_else(|| path.strip_prefix("~\\")) {
            Some(rest) => dirs::home_dir().map(|home| home.join(rest)),
            None => Some(std::path::PathBuf::from(path)),
        }
    }
}
