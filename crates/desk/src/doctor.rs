//! `callsupport doctor`: is this computer ready to send reports? Each check says ok, warning or
//! error and, when it is not ok, what to do.
//!
//! # Brief overview
//!
//! The checks, in order: the configuration (every layer valid; what the user's file set that was
//! ignored), every source (found, readable, how many files), the proxy requests go through (from
//! the environment, or Windows' Internet settings), the ticket API (reached over TLS
//! with the trust store, extra CAs and proxy in effect), the submit token (a dry run the
//! reference server answers without storing anything), free disk for the outbox, and the
//! `callsupport://` link handler. A check that depends on one that failed says so instead of
//! failing again. Nothing is written, nothing is sent but the dry run.

use std::path::Path;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::config::{Config, ConfigFiles, load_layered};
use crate::upload::{describe, http_client, untrusted_certificate};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Warning,
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Error => "error",
        }
    }
}

/// One check's finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable name for scripts: `config`, `source:<id>`, `proxy`, `ticket_api`, `token`, `disk`,
    /// `link_handler`, and on Windows `webview`.
    pub name: String,
    pub status: Status,
    /// What was found, in words.
    pub detail: String,
    /// What to do about it, when it is not ok.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
}

impl Check {
    fn ok(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            status: Status::Ok,
            detail: detail.into(),
            advice: None,
        }
    }

    fn not_ok(
        status: Status,
        name: impl Into<String>,
        detail: impl Into<String>,
        advice: impl Into<String>,
    ) -> Check {
        Check {
            name: name.into(),
            status,
            detail: detail.into(),
            advice: Some(advice.into()),
        }
    }
}

/// Runs every check for the configuration `files` name and the data folder `data_dir`.
pub async fn examine(files: &ConfigFiles, data_dir: &Path) -> Vec<Check> {
    let mut checks = Vec::new();
    let config = match load_layered(files) {
        Ok(layered) => {
            let from: Vec<String> = [&layered.managed, &layered.user]
                .into_iter()
                .flatten()
                .map(|layer| callsupport_bundle::display_path(&layer.path))
                .collect();
            checks.push(if layered.ignored.is_empty() {
                Check::ok(
                    "config",
                    format!(
                        "valid ({})",
                        if from.is_empty() {
                            "defaults only".to_owned()
                        } else {
                            from.join(" under ")
                        }
                    ),
                )
            } else {
                Check::not_ok(
                    Status::Warning,
                    "config",
                    layered
                        .ignored
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                    "remove these keys from the user's file: the organisation's values apply",
                )
            });
            Some(layered.config)
        }
        Err(err) => {
            checks.push(Check::not_ok(
                Status::Error,
                "config",
                err.to_string(),
                "fix the file at that line (`callsupport config check FILE` checks one)",
            ));
            None
        }
    };
    let Some(config) = config else {
        for name in ["sources", "ticket_api", "token"] {
            checks.push(Check::not_ok(
                Status::Error,
                name,
                "not checked: the configuration is not valid",
                "fix the configuration first",
            ));
        }
        checks.extend(this_computer(data_dir, 200));
        return checks;
    };
    checks.extend(sources(&config));
    checks.push(proxy(&config));
    checks.extend(ticket_api(&config).await);
    checks.extend(this_computer(data_dir, config.collection.max_bundle_mb));
    checks
}

/// What does not depend on the configuration: free disk, the link handler, and on Windows the
/// WebView2 Runtime.
fn this_computer(data_dir: &Path, max_bundle_mb: u64) -> Vec<Check> {
    vec![
        disk(data_dir, max_bundle_mb),
        link_handler(),
        #[cfg(windows)]
        webview_check(webview2_version()),
    ]
}

/// Windows: the Microsoft Edge WebView2 Runtime, in which the app's window runs. Windows 11 and
/// current Windows 10 carry it; the installers do not bring it.
#[cfg_attr(not(windows), allow(dead_code))]
fn webview_check(version: Option<String>) -> Check {
    match version {
        Some(version) => Check::ok(
            "webview",
            format!("Microsoft Edge WebView2 Runtime {version}"),
        ),
        None => Check::not_ok(
            Status::Error,
            "webview",
            "the Microsoft Edge WebView2 Runtime is not installed: the app's window cannot open \
             (the tray agent and the CLI still send reports)",
            "install Microsoft's Evergreen WebView2 Runtime \
             (https://go.microsoft.com/fwlink/p/?LinkId=2124703), or deploy it with your software \
             distribution",
        ),
    }
}

/// The key, under `SOFTWARE` (and `SOFTWARE\WOW6432Node`), where Microsoft's installers record
/// the WebView2 Runtime's version (`pv`).
pub const WEBVIEW2_CLIENT: &str =
    r"Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}";

/// The WebView2 Runtime's version where Microsoft's installers record it: for the machine (the
/// 32-bit view on 64-bit Windows, then the native one), then for the user. `0.0.0.0` means
/// removed.
#[cfg(windows)]
pub fn webview2_version() -> Option<String> {
    use windows_registry::{CURRENT_USER, LOCAL_MACHINE};
    [
        (
            LOCAL_MACHINE,
            format!(r"SOFTWARE\WOW6432Node\{WEBVIEW2_CLIENT}"),
        ),
        (LOCAL_MACHINE, format!(r"SOFTWARE\{WEBVIEW2_CLIENT}")),
        (CURRENT_USER, format!(r"Software\{WEBVIEW2_CLIENT}")),
    ]
    .into_iter()
    .find_map(|(hive, key)| {
        let version = hive.open(&key).ok()?.get_string("pv").ok()?;
        (!version.is_empty() && version != "0.0.0.0").then_some(version)
    })
}

fn sources(config: &Config) -> Vec<Check> {
    let mut checks = Vec::new();
    // A source's own problem is said by its check below; the others (an unknown preset) here.
    for problem in config
        .problems
        .iter()
        .filter(|p| !p.key.as_deref().is_some_and(|k| k.starts_with("sources[")))
    {
        checks.push(Check::not_ok(
            Status::Warning,
            "presets",
            problem.to_string(),
            "use one of the known presets; the configured sources still work",
        ));
    }
    if config.sources.is_empty() {
        checks.push(Check::not_ok(
            Status::Warning,
            "sources",
            "no log folders configured",
            "add [[sources]] or presets = [...] to the configuration",
        ));
    }
    for source in &config.sources {
        let name = format!("source:{}", source.id);
        match crate::sources::scan(source, config.max_age(source), SystemTime::now()) {
            Ok(scan) if scan.files.is_empty() => checks.push(Check::not_ok(
                Status::Warning,
                name,
                format!(
                    "{} is there but holds no recent log files",
                    callsupport_bundle::display_path(&scan.root)
                ),
                "make a call with the app, or check `include` and `collection.max_age_days`",
            )),
            Ok(scan) => checks.push(Check::ok(
                name,
                format!(
                    "{}: {} files ({})",
                    callsupport_bundle::display_path(&scan.root),
                    scan.files.len(),
                    callsupport_bundle::human_bytes(scan.files.iter().map(|f| f.size).sum())
                ),
            )),
            Err(err @ crate::sources::SourceError::RootMissing { .. }) => {
                checks.push(Check::not_ok(
                    Status::Warning,
                    name,
                    err.to_string(),
                    "if the calling app is not installed on this computer, this is expected",
                ))
            }
            Err(err) => checks.push(Check::not_ok(
                Status::Error,
                name,
                err.to_string(),
                "fix the source's `root`, or the folder's permissions",
            )),
        }
    }
    checks
}

/// The proxy requests to the ticket API go through, if any: always ok, it says what is in the way.
fn proxy(config: &Config) -> Check {
    match crate::proxy::in_use(&config.ticket_api.parsed_url()) {
        Some((proxy, from)) => Check::ok("proxy", format!("through {proxy} (set in {from})")),
        None => Check::ok("proxy", "direct: no proxy is set for the ticket API"),
    }
}

/// The service reached (TLS, proxy) and the token accepted, with one dry-run request.
async fn ticket_api(config: &Config) -> Vec<Check> {
    let api = &config.ticket_api;
    let host = api.destination_host();
    let found = crate::secrets::submit_token(api);
    let source = match found.as_ref().map(|(_, source)| *source) {
        Some(crate::secrets::TokenSource::Keyring) => {
            "the token stored in the system's credential store".to_owned()
        }
        _ => match &api.token_env {
            Some(name) => format!("the token in {name}"),
            None => "no token".to_owned(),
        },
    };
    let token = found.map(|(token, _)| token);
    let client = match http_client(api) {
        Ok(client) => client,
        Err(err) => {
            return vec![Check::not_ok(
                Status::Error,
                "ticket_api",
                err.to_string(),
                "fix ticket_api.ca_files",
            )];
        }
    };
    let mut url = api.parsed_url();
    url.query_pairs_mut().append_pair("dry_run", "true");
    let mut request = client
        .post(url)
        .timeout(Duration::from_secs(api.connect_timeout_secs.max(5) * 2));
    if let Some(token) = &token {
        request = request.bearer_auth(token);
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(err) => {
            let (detail, advice) = if untrusted_certificate(&err) {
                (
                    format!(
                        "{host} presented a certificate this computer does not trust: {}",
                        describe(&err)
                    ),
                    "add your organisation's certificate authority with ticket_api.ca_files",
                )
            } else {
                (
                    format!("cannot reach {host}: {}", describe(&err)),
                    "check the network, the proxy settings and ticket_api.url",
                )
            };
            return vec![
                Check::not_ok(Status::Error, "ticket_api", detail, advice),
                Check::not_ok(
                    Status::Error,
                    "token",
                    "not checked: the service cannot be reached",
                    "fix the connection first",
                ),
            ];
        }
    };
    let scheme = api.parsed_url().scheme().to_owned();
    let reached = Check::ok(
        "ticket_api",
        format!(
            "{host} answers over {}",
            if scheme == "https" {
                "TLS"
            } else {
                "plain http (allowed by ticket_api.allow_insecure_http)"
            }
        ),
    );
    let status = response.status().as_u16();
    let token_check = match (status, &api.token_env, &token) {
        (200..=299, _, Some(_)) => Check::ok("token", format!("the service accepts {source}")),
        (200..=299, _, None) => Check::ok("token", "the service takes reports without a token"),
        (401 | 403, Some(name), None) => Check::not_ok(
            Status::Error,
            "token",
            format!("{name} is not set, no token is stored, and the service wants one"),
            format!(
                "set the environment variable {name}, or store the token with `callsupport token set`"
            ),
        ),
        (401 | 403, _, Some(_)) => Check::not_ok(
            Status::Error,
            "token",
            format!("the service refused {source} ({status})"),
            "ask your support team for a valid ticket API token",
        ),
        (401 | 403, None, None) => Check::not_ok(
            Status::Error,
            "token",
            format!("the service wants a token ({status}) and none is configured"),
            "store it with `callsupport token set`, or name its variable in ticket_api.token_env",
        ),
        _ => Check::not_ok(
            Status::Warning,
            "token",
            format!("the service answered {status} to a dry run: it cannot check tokens this way"),
            "the token is checked with the first report",
        ),
    };
    vec![reached, token_check]
}

/// Room for the outbox: a report can be as large as `collection.max_bundle_mb`.
fn disk(data_dir: &Path, max_bundle_mb: u64) -> Check {
    let needed = max_bundle_mb * 1024 * 1024;
    let mut probe = data_dir.to_path_buf();
    while !probe.exists() {
        if !probe.pop() {
            break;
        }
    }
    match callsupport_kept::free_bytes(&probe) {
        Some(free) if free >= 2 * needed => Check::ok(
            "disk",
            format!(
                "{} free for the outbox in {}",
                callsupport_bundle::human_bytes(free),
                callsupport_bundle::display_path(data_dir)
            ),
        ),
        Some(free) => Check::not_ok(
            if free >= needed {
                Status::Warning
            } else {
                Status::Error
            },
            "disk",
            format!(
                "{} free in {}; a report may take up to {}",
                callsupport_bundle::human_bytes(free),
                callsupport_bundle::display_path(data_dir),
                callsupport_bundle::human_bytes(needed)
            ),
            "free some disk space, or lower collection.max_bundle_mb",
        ),
        None => Check::not_ok(
            Status::Warning,
            "disk",
            format!(
                "cannot tell the free space in {}",
                callsupport_bundle::display_path(data_dir)
            ),
            "make sure the data folder can be written",
        ),
    }
}

/// Whether `callsupport://` links (support asking for logs) open the app: asks the desktop which
/// application handles them.
#[cfg(not(windows))]
fn link_handler() -> Check {
    if !cfg!(target_os = "linux") {
        return Check::ok("link_handler", "registered by the installer on this system");
    }
    let answer = std::process::Command::new("xdg-mime")
        .args(["query", "default", "x-scheme-handler/callsupport"])
        .output();
    match answer {
        Ok(out)
            if out.status.success() && !String::from_utf8_lossy(&out.stdout).trim().is_empty() =>
        {
            Check::ok(
                "link_handler",
                format!(
                    "callsupport:// links open {}",
                    String::from_utf8_lossy(&out.stdout).trim()
                ),
            )
        }
        Ok(_) => Check::not_ok(
            Status::Warning,
            "link_handler",
            "no application is registered for callsupport:// links",
            "install Call Support from its package, which registers the link handler",
        ),
        Err(_) => Check::not_ok(
            Status::Warning,
            "link_handler",
            "cannot ask the desktop (xdg-mime is not installed)",
            "install xdg-utils to check, or open a callsupport:// link to try",
        ),
    }
}

/// Whether `callsupport://` links open the app: the command registered for the scheme in the
/// user's classes or the machine's (what the installer writes), and whether its program exists.
#[cfg(windows)]
fn link_handler() -> Check {
    use windows_registry::{CURRENT_USER, LOCAL_MACHINE};
    let key = r"Software\Classes\callsupport\shell\open\command";
    let command = [CURRENT_USER, LOCAL_MACHINE]
        .into_iter()
        .find_map(|hive| hive.open(key).ok()?.get_string("").ok());
    let Some(command) = command else {
        return Check::not_ok(
            Status::Warning,
            "link_handler",
            "no application is registered for callsupport:// links",
            "install Call Support with its installer, which registers the link handler",
        );
    };
    let program = registered_program(&command);
    if Path::new(program).is_file() {
        Check::ok(
            "link_handler",
            format!("callsupport:// links open {program}"),
        )
    } else {
        Check::not_ok(
            Status::Warning,
            "link_handler",
            format!("callsupport:// links are registered to {program}, which does not exist"),
            "install Call Support again, which registers the link handler anew",
        )
    }
}

/// The program of a command line registered with Windows (a link handler, a `Run` value):
/// `"C:\Program Files\app.exe" "%1"` or `C:\app.exe %1`.
pub fn registered_program(command: &str) -> &str {
    let command = command.trim();
    match command.strip_prefix('"') {
        Some(rest) => rest.split('"').next().unwrap_or(rest),
        None => command.split(' ').next().unwrap_or(command),
    }
}

#[cfg(test)]
mod tests {
    use super::registered_program;

    #[test]
    fn a_missing_webview_runtime_is_an_error_that_says_where_to_get_it() {
        let found = super::webview_check(Some("120.0.2210.91".to_owned()));
        assert_eq!(found.status, super::Status::Ok);
        assert!(found.detail.ends_with("120.0.2210.91"), "{found:?}");
        let missing = super::webview_check(None);
        assert_eq!(missing.status, super::Status::Error);
        assert!(
            missing
                .advice
                .as_deref()
                .is_some_and(|a| a.contains("Evergreen")),
            "{missing:?}"
        );
    }

    /// The version is read where Microsoft's installers write it (here, the user's key, in the
    /// test's private Wine prefix, which has no WebView2 of its own).
    #[cfg(windows)]
    #[test]
    fn the_webview_runtime_is_found_in_the_registry() {
        if std::env::var_os("WINEPREFIX").is_none() {
            return; // A real Windows machine: its own runtime is left alone.
        }
        windows_registry::CURRENT_USER
            .create(format!(r"Software\{}", super::WEBVIEW2_CLIENT))
            .unwrap()
            .set_string("pv", "120.0.2210.91")
            .unwrap();
        assert_eq!(super::webview2_version().as_deref(), Some("120.0.2210.91"));
    }

    #[test]
    fn the_program_of_a_registered_command_is_found_quoted_or_not() {
        assert_eq!(
            registered_program(r#""C:\Program Files\Call Support\callsupport-app.exe" "%1""#),
            r"C:\Program Files\Call Support\callsupport-app.exe"
        );
        assert_eq!(registered_program(r"C:\cs\app.exe %1"), r"C:\cs\app.exe");
        assert_eq!(registered_program("  "), "");
    }
}
