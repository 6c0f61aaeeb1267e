//! The configuration's layers: built-in defaults, the machine-wide file IT manages, group policy
//! (Windows), the user's file.
//!
//! # Brief overview
//!
//! [`ConfigFiles::locate`] finds the two files ([`managed_path`] per platform, or
//! `CALLSUPPORT_MANAGED_CONFIG`; the user's file, or `--config` / `CALLSUPPORT_CONFIG`) and, on
//! Windows, the policy key ([`crate::policy`]). [`load_layered`] lays group policy over the
//! machine-wide file, then the user's file over both key by key, except the keys the machine-wide
//! file lists in `locked` (a section locks every key in it) and every key policy sets: the user's
//! values for those are left out and reported. Errors name the file that set the wrong value, its line
//! and key. A user file that is broken does not stop the app: it starts with the machine-wide and
//! default values, and [`Layered::ignored`] says what was ignored and why.

use std::path::{Path, PathBuf};

use super::{CONFIG_ENV, Config, ConfigError};

/// Moves (or, empty, turns off) the machine-wide file: tests, and IT trying a file out.
pub const MANAGED_CONFIG_ENV: &str = "CALLSUPPORT_MANAGED_CONFIG";

/// Where the machine-wide file is on this platform.
pub fn managed_path() -> PathBuf {
    if cfg!(windows) {
        let data = std::env::var_os("ProgramData").unwrap_or_else(|| "C:\\ProgramData".into());
        PathBuf::from(data).join("CallSupport").join("config.toml")
    } else if cfg!(target_os = "macos") {
        PathBuf::from("/Library/Application Support/CallSupport/config.toml")
    } else {
        PathBuf::from("/etc/callsupport/config.toml")
    }
}

/// Where the user's own file is: `<config dir>/callsupport/config.toml`.
pub fn user_path() -> Option<PathBuf> {
    dirs::config_dir().map(|dir| dir.join("callsupport").join("config.toml"))
}

/// The files the configuration is made of; either may be absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFiles {
    pub managed: Option<PathBuf>,
    pub user: Option<PathBuf>,
    /// The files were named (`--config`, the environment): one that is missing is an error,
    /// not an absent layer.
    pub named: bool,
    /// The registry key group policy is read from (Windows; [`crate::policy::POLICY_KEY`]).
    pub policy: Option<String>,
}

impl ConfigFiles {
    /// The machine-wide file (`CALLSUPPORT_MANAGED_CONFIG`, or the platform's place) and the
    /// user's: `explicit` (from `--config`), `CALLSUPPORT_CONFIG`, or the platform's place.
    pub fn locate(explicit: Option<&Path>) -> ConfigFiles {
        let managed = match std::env::var_os(MANAGED_CONFIG_ENV) {
            Some(path) if path.is_empty() => None,
            Some(path) => Some(PathBuf::from(path)),
            None => Some(managed_path()),
        };
        let named =
            explicit.is_some() || std::env::var_os(CONFIG_ENV).is_some_and(|p| !p.is_empty());
        let user = match (explicit, std::env::var_os(CONFIG_ENV)) {
            (Some(path), _) => Some(path.to_path_buf()),
            (None, Some(path)) if !path.is_empty() => Some(PathBuf::from(path)),
            _ => user_path(),
        };
        let policy = match std::env::var(crate::policy::POLICY_KEY_ENV) {
            Ok(key) if key.is_empty() => None,
            Ok(key) => Some(key),
            Err(_) => cfg!(windows).then(|| crate::policy::POLICY_KEY.to_owned()),
        };
        ConfigFiles {
            managed,
            user,
            named,
            policy,
        }
    }
}

/// The effective configuration and where its values came from.
#[derive(Debug, Clone)]
pub struct Layered {
    pub config: Config,
    /// The machine-wide file, when there is one.
    pub managed: Option<Layer>,
    /// Group policy's values, when it sets any (`path` names the registry keys).
    pub policy: Option<Layer>,
    /// The user's file, when there is one and it was used.
    pub user: Option<Layer>,
    /// Keys the user cannot change (the machine-wide file's `locked`, and what policy sets).
    pub locked: Vec<String>,
    /// What of the user's file was left out, and why.
    pub ignored: Vec<ConfigError>,
}

/// One file as it was read.
#[derive(Debug, Clone)]
pub struct Layer {
    pub path: PathBuf,
    pub text: String,
    pub table: toml::Table,
}

impl Layer {
    /// Whether this file sets `key` (`ticket_api.url`, `sources`).
    pub fn sets(&self, key: &str) -> bool {
        lookup(&self.table, key).is_some()
    }
}

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Default,
    /// The machine-wide file.
    Organisation,
    /// Group policy (Windows), which locks what it sets.
    Policy,
    /// The user's file.
    User,
}

impl Layered {
    /// Whether `key` or a section holding it is locked.
    pub fn is_locked(&self, key: &str) -> bool {
        self.locked.iter().any(|lock| covers(lock, key))
    }

    /// The layer `key`'s effective value comes from.
    pub fn origin(&self, key: &str) -> Origin {
        if self.user.as_ref().is_some_and(|l| l.sets(key)) && !self.is_locked(key) {
            Origin::User
        } else if self.policy.as_ref().is_some_and(|l| l.sets(key)) {
            Origin::Policy
        } else if self.managed.as_ref().is_some_and(|l| l.sets(key)) {
            Origin::Organisation
        } else {
            Origin::Default
        }
    }
}

/// Whether locking `lock` locks `key`: the same key, or a section above it.
fn covers(lock: &str, key: &str) -> bool {
    key == lock
        || key
            .strip_prefix(lock)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// Reads both files and lays them over each other (see the module overview).
pub fn load_layered(files: &ConfigFiles) -> Result<Layered, ConfigError> {
    let policy = match &files.policy {
        Some(key) => crate::policy::read(key)?,
        None => None,
    };
    load_layered_over(files, policy)
}

/// [`load_layered`] with group policy's values given (`files.policy` is not read): for systems
/// and tests where policy comes from elsewhere than the registry.
pub fn load_layered_over(
    files: &ConfigFiles,
    policy: Option<Layer>,
) -> Result<Layered, ConfigError> {
    let managed = match &files.managed {
        Some(path) => read_layer(path)?,
        None => None,
    };
    let mut ignored = Vec::new();
    if files.named
        && let Some(path) = &files.user
        && !path.exists()
    {
        return Err(ConfigError {
            path: path.clone(),
            line: None,
            key: None,
            message: "file not found; check the path".to_owned(),
        });
    }
    let user = match &files.user {
        Some(path) => match read_layer(path) {
            Ok(layer) => layer,
            Err(err) => {
                ignored.push(err);
                None
            }
        },
        None => None,
    };
    if managed.is_none() && policy.is_none() && user.is_none() && ignored.is_empty() {
        return Err(ConfigError {
            path: files
                .managed
                .clone()
                .or_else(|| files.user.clone())
                .unwrap_or_else(|| PathBuf::from("(none)")),
            line: None,
            key: None,
            message: format!(
                "no configuration was found; IT installs {}, or pass --config FILE or set {CONFIG_ENV}",
                managed_path().display()
            ),
        });
    }
    let mut locked = managed
        .as_ref()
        .map(locked_keys)
        .transpose()?
        .unwrap_or_default();
    // The organisation's layers: the machine-wide file, and group policy over it, locked.
    let mut base = managed
        .as_ref()
        .map(|m| m.table.clone())
        .unwrap_or_default();
    base.remove("locked");
    if let Some(policy) = &policy {
        let mut none = Vec::new();
        overlay(&mut base, &policy.table, "", &[], &mut none);
        for (key, _) in crate::policy::policy_keys() {
            if policy.sets(key) && !locked.iter().any(|lock| covers(lock, key)) {
                locked.push(key.to_owned());
            }
        }
    }
    let mut merged = base.clone();
    let mut user = user;
    if let Some(layer) = &mut user {
        if layer.table.remove("locked").is_some() {
            ignored.push(located(
                layer,
                "locked",
                "only the machine-wide file can lock keys; this list is ignored",
            ));
        }
        let mut refused = Vec::new();
        overlay(&mut merged, &layer.table, "", &locked, &mut refused);
        let mut refused: Vec<ConfigError> = refused
            .iter()
            .map(|key| {
                located(
                    layer,
                    key,
                    "this is managed by your organisation; your value is ignored",
                )
            })
            .collect();
        refused.sort_by_key(|e| e.line);
        ignored.extend(refused);
    }
    match parse_merged(&merged, &[policy.as_ref(), managed.as_ref()], user.as_ref()) {
        Ok(mut config) => Ok(Layered {
            config: {
                config.locked = locked.clone();
                config
            },
            managed,
            policy,
            user,
            locked,
            ignored,
        }),
        Err(err) if user.as_ref().is_some_and(|u| u.path == err.path) => {
            // The user's file is at fault: start without it, and say so.
            let mut config = parse_merged(&base, &[policy.as_ref(), managed.as_ref()], None)
                .map_err(|_| err.clone())?;
            config.locked = locked.clone();
            ignored.push(ConfigError {
                message: format!("{}; your settings file was ignored", err.message),
                ..err
            });
            Ok(Layered {
                config,
                managed,
                policy,
                user: None,
                locked,
                ignored,
            })
        }
        // Nothing usable is left once the user's unreadable file is set aside: that file is the
        // cause worth naming, not what is missing without it.
        Err(_) if files.user.is_some() && user.is_none() && !ignored.is_empty() => {
            Err(ignored.swap_remove(0))
        }
        Err(err) => Err(err),
    }
}

/// Reads one file; a missing file is no layer.
fn read_layer(path: &Path) -> Result<Option<Layer>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => {
            return Err(ConfigError {
                path: path.to_path_buf(),
                line: None,
                key: None,
                message: format!("cannot read it: {err}"),
            });
        }
    };
    let table = text.parse::<toml::Table>().map_err(|err| {
        let line = crate::load::line_of(&text, err.span());
        ConfigError {
            path: path.to_path_buf(),
            line,
            key: None,
            message: crate::load::syntax_message(&text, line, err.message()),
        }
    })?;
    Ok(Some(Layer {
        path: path.to_path_buf(),
        text,
        table,
    }))
}

/// The machine-wide file's `locked` list, each a key or section this configuration has.
fn locked_keys(layer: &Layer) -> Result<Vec<String>, ConfigError> {
    let Some(value) = layer.table.get("locked") else {
        return Ok(Vec::new());
    };
    let bad = |key: String, message: String| Err(located(layer, &key, &message));
    let Some(items) = value.as_array() else {
        return bad(
            "locked".into(),
            "must be a list of keys, such as [\"ticket_api.url\"]".into(),
        );
    };
    let mut keys = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(key) if super::settings::is_known_key(key) => keys.push(key.to_owned()),
            Some(key) => {
                return bad(
                    format!("locked[{i}]"),
                    format!(
                        "`{key}` is not a key of this configuration; see `callsupport config show`"
                    ),
                );
            }
            None => {
                return bad(
                    format!("locked[{i}]"),
                    "must be a key name in quotes".into(),
                );
            }
        }
    }
    Ok(keys)
}

/// Lays `over` onto `base` key by key (tables merge, other values replace), leaving out what
/// `locked` covers; the keys left out are added to `refused`.
fn overlay(
    base: &mut toml::Table,
    over: &toml::Table,
    prefix: &str,
    locked: &[String],
    refused: &mut Vec<String>,
) {
    for (name, value) in over {
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        if locked.iter().any(|lock| covers(lock, &key)) {
            refused.push(key);
            continue;
        }
        match (base.get_mut(name), value) {
            (Some(toml::Value::Table(inner)), toml::Value::Table(value)) => {
                overlay(inner, value, &key, locked, refused)
            }
            _ => {
                base.insert(name.clone(), value.clone());
            }
        }
    }
}

/// Checks the merged values as one configuration; an error points at the layer that set the key:
/// the user's file, else the first of the organisation's layers (policy, then the machine-wide
/// file) that sets it.
fn parse_merged(
    merged: &toml::Table,
    organisation: &[Option<&Layer>],
    user: Option<&Layer>,
) -> Result<Config, ConfigError> {
    let first = organisation.iter().flatten().copied().next();
    let text = toml::to_string(merged).map_err(|err| ConfigError {
        path: PathBuf::from("(merged)"),
        line: None,
        key: None,
        message: err.to_string(),
    })?;
    let relocate = |err: ConfigError| -> ConfigError {
        let key = err.key.clone().unwrap_or_default();
        let layer = user
            .filter(|l| l.sets(&key))
            .or_else(|| {
                organisation
                    .iter()
                    .flatten()
                    .copied()
                    .find(|l| l.sets(&key))
            })
            .or(user)
            .or(first);
        match layer {
            Some(layer) => ConfigError {
                path: layer.path.clone(),
                line: crate::load::line_of(
                    &layer.text,
                    crate::load::span_of_key(&layer.text, &key),
                ),
                ..err
            },
            None => err,
        }
    };
    let mut config = Config::parse(Path::new("(merged)"), &text).map_err(relocate)?;
    config.problems = std::mem::take(&mut config.problems)
        .into_iter()
        .map(relocate)
        .collect();
    Ok(config)
}

/// An error about `key` in `layer`, with its line.
fn located(layer: &Layer, key: &str, message: &str) -> ConfigError {
    ConfigError {
        path: layer.path.clone(),
        line: crate::load::line_of(&layer.text, crate::load::span_of_key(&layer.text, key)),
        key: Some(key.to_owned()),
        message: message.to_owned(),
    }
}

/// The value at a dotted key (`ticket_api.url`), if the table has it.
fn lookup<'a>(table: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    let mut parts = key.split('.');
    let mut value = table.get(parts.next()?)?;
    for part in parts {
        value = value.as_table()?.get(part)?;
    }
    Some(value)
}
