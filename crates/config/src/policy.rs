//! Group policy: the Windows way IT manages settings, laid over the machine-wide file and locked.
//!
//! # Brief overview
//!
//! Policy values live under `HKEY_LOCAL_MACHINE\Software\Policies\CallSupport` (machine policy)
//! and the same path under `HKEY_CURRENT_USER` (user policy): one subkey per section, one value
//! per key, named as in the TOML file (`ticket_api\url`, `privacy\allow_export`). Switches are
//! `REG_DWORD` 0 or 1, numbers `REG_DWORD`, text `REG_SZ`, lists `REG_MULTI_SZ`. Where both hives
//! set a key, the machine's wins, as Windows policy does. Every key policy sets is locked.
//!
//! [`POLICY_KEYS`] is the list of keys policy may set; the ADMX template that Group Policy
//! editors show (`packaging/windows/CallSupport.admx`) is generated from it. The values read
//! become a [`Layer`] whose text is their TOML rendering, so an error names the registry key and
//! value like a file's line and key.

use std::path::PathBuf;

use crate::settings::{KEYS, SettingKind};
use crate::{ConfigError, Layer};

/// The registry path (under either hive) the policy values live under.
pub const POLICY_KEY: &str = r"Software\Policies\CallSupport";

/// Moves (or, empty, turns off) the policy key: tests, and IT trying a policy out.
pub const POLICY_KEY_ENV: &str = "CALLSUPPORT_POLICY_KEY";

/// How a key's registry value is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyType {
    /// `REG_DWORD` 0 or 1.
    Switch,
    /// `REG_DWORD`.
    Number,
    /// `REG_SZ`.
    Text,
    /// `REG_MULTI_SZ`.
    List,
}

/// The keys policy may set: every switch, number and text of the configuration, and the lists of
/// text. Sources, presets and detection patterns are structured; they stay in the machine-wide
/// file.
pub fn policy_keys() -> impl Iterator<Item = (&'static str, PolicyType)> {
    KEYS.iter().filter_map(|key| {
        let kind = match key.kind {
            SettingKind::Switch => PolicyType::Switch,
            SettingKind::Number => PolicyType::Number,
            SettingKind::Text => PolicyType::Text,
            SettingKind::List if POLICY_LISTS.contains(&key.key) => PolicyType::List,
            SettingKind::List => return None,
        };
        Some((key.key, kind))
    })
}

/// The lists policy may set (`REG_MULTI_SZ`).
const POLICY_LISTS: &[&str] = &["ticket_api.ca_files", "privacy.recipients"];

/// One registry value as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegValue {
    Dword(u32),
    Qword(u64),
    String(String),
    MultiString(Vec<String>),
    /// A type policy has no use for (binary, for instance).
    Other,
}

/// The policy values set, as `(dotted key, value)`, read from `hive\key` for every key policy may
/// set. `read` returns a value, or `None` when it is not set.
pub fn read_values(
    mut read: impl FnMut(&str, &str) -> Option<RegValue>,
) -> Vec<(&'static str, RegValue)> {
    policy_keys()
        .filter_map(|(key, _)| {
            let (section, name) = key.split_once('.')?;
            read(section, name).map(|value| (key, value))
        })
        .collect()
}

/// The layer the values of `values` make (`None` when there are none); `origin` names where they
/// were read (`HKLM\Software\Policies\CallSupport`). A value of the wrong type is an error naming
/// it and the type it must have.
pub fn layer(origin: &str, values: &[(&str, RegValue)]) -> Result<Option<Layer>, ConfigError> {
    if values.is_empty() {
        return Ok(None);
    }
    let mut table = toml::Table::new();
    for (key, value) in values {
        let kind = policy_keys()
            .find(|(k, _)| k == key)
            .map(|(_, kind)| kind)
            .ok_or_else(|| error(origin, key, "is not a key group policy can set"))?;
        let value = convert(kind, value).map_err(|err| error(origin, key, &err.to_string()))?;
        let (section, name) = key.split_once('.').expect("policy keys are section.key");
        table
            .entry(section)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .expect("sections are tables")
            .insert(name.to_owned(), value);
    }
    let text = toml::to_string(&table).map_err(|err| error(origin, "", &err.to_string()))?;
    Ok(Some(Layer {
        path: PathBuf::from(origin),
        text,
        table,
    }))
}

/// A registry value policy cannot use for its key.
#[derive(Debug, thiserror::Error)]
enum WrongValue {
    #[error("must be 0 (off) or 1 (on), not {0}; set it as the template does")]
    NotASwitch(u32),
    #[error("must be a {}; set it as the template does", .0.registry_type())]
    WrongType(PolicyType),
}

impl PolicyType {
    /// The registry type (and for switches the values) a key of this kind is written as.
    fn registry_type(self) -> &'static str {
        match self {
            PolicyType::Switch => "REG_DWORD of 0 or 1",
            PolicyType::Number => "REG_DWORD",
            PolicyType::Text => "REG_SZ",
            PolicyType::List => "REG_MULTI_SZ",
        }
    }
}

/// The TOML value of a registry value for a key of `kind`.
fn convert(kind: PolicyType, value: &RegValue) -> Result<toml::Value, WrongValue> {
    let number = |n: u64| toml::Value::Integer(i64::try_from(n).unwrap_or(i64::MAX));
    match (kind, value) {
        (PolicyType::Switch, RegValue::Dword(0 | 1)) => {
            Ok(toml::Value::Boolean(*value == RegValue::Dword(1)))
        }
        (PolicyType::Switch, RegValue::Dword(n)) => Err(WrongValue::NotASwitch(*n)),
        (PolicyType::Number, RegValue::Dword(n)) => Ok(number(u64::from(*n))),
        (PolicyType::Number, RegValue::Qword(n)) => Ok(number(*n)),
        (PolicyType::Text, RegValue::String(s)) => Ok(toml::Value::String(s.clone())),
        (PolicyType::List, RegValue::MultiString(items)) => Ok(toml::Value::Array(
            items.iter().cloned().map(toml::Value::String).collect(),
        )),
        (kind, _) => Err(WrongValue::WrongType(kind)),
    }
}

fn error(origin: &str, key: &str, message: &str) -> ConfigError {
    let value = key.replace('.', "\\");
    ConfigError {
        path: PathBuf::from(format!("{origin}\\{value}")),
        line: None,
        key: Some(key.to_owned()),
        message: message.to_owned(),
    }
}

/// The machine's and the user's policy values laid together (the machine's win), as a layer.
/// Reads the registry under `key` in both hives; on other systems there is no policy.
#[cfg(windows)]
pub fn read(key: &str) -> Result<Option<Layer>, ConfigError> {
    use windows_registry::{CURRENT_USER, LOCAL_MACHINE};
    let mut values: Vec<(&str, RegValue)> = Vec::new();
    let mut origins = Vec::new();
    for (hive, name) in [(LOCAL_MACHINE, "HKLM"), (CURRENT_USER, "HKCU")] {
        let Ok(root) = hive.open(key) else { continue };
        let read = read_values(|section, value| registry_value(&root, section, value));
        if !read.is_empty() {
            origins.push(format!("{name}\\{key}"));
        }
        for (k, v) in read {
            if !values.iter().any(|(set, _)| *set == k) {
                values.push((k, v));
            }
        }
    }
    layer(&origins.join(" and "), &values)
}

#[cfg(windows)]
fn registry_value(root: &windows_registry::Key, section: &str, name: &str) -> Option<RegValue> {
    use windows_registry::Type;
    let value = root.open(section).ok()?.get_value(name).ok()?;
    Some(match value.ty() {
        Type::U32 => RegValue::Dword(u32::try_from(value).ok()?),
        Type::U64 => RegValue::Qword(u64::try_from(value).ok()?),
        Type::String | Type::ExpandString => RegValue::String(String::try_from(value).ok()?),
        // The list ends with an empty string (and the parse may yield more); none is an entry.
        Type::MultiString => RegValue::MultiString(
            Vec::<String>::try_from(value)
                .ok()?
                .into_iter()
                .filter(|entry| !entry.is_empty())
                .collect(),
        ),
        Type::Bytes | Type::Other(_) => RegValue::Other,
    })
}

/// No group policy on this system.
#[cfg(not(windows))]
pub fn read(_key: &str) -> Result<Option<Layer>, ConfigError> {
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switches_numbers_text_and_lists_become_their_toml_values() {
        let values = [
            ("privacy.allow_export", RegValue::Dword(0)),
            ("privacy.redact", RegValue::Dword(1)),
            ("collection.max_bundle_mb", RegValue::Dword(150)),
            (
                "ticket_api.url",
                RegValue::String("https://support.contoso.com/api/v1/tickets".into()),
            ),
            (
                "ticket_api.ca_files",
                RegValue::MultiString(vec![r"C:\ca\contoso.pem".into()]),
            ),
        ];
        let layer = layer(r"HKLM\Software\Policies\CallSupport", &values)
            .unwrap()
            .unwrap();
        let parsed: toml::Table = layer.text.parse().unwrap();
        assert_eq!(parsed, layer.table);
        assert_eq!(
            layer.table["privacy"]["allow_export"].as_bool(),
            Some(false)
        );
        assert_eq!(layer.table["privacy"]["redact"].as_bool(), Some(true));
        assert_eq!(
            layer.table["collection"]["max_bundle_mb"].as_integer(),
            Some(150)
        );
        assert_eq!(
            layer.table["ticket_api"]["ca_files"].as_array().unwrap()[0].as_str(),
            Some(r"C:\ca\contoso.pem")
        );
        assert!(super::layer("HKLM", &[]).unwrap().is_none());
    }

    #[test]
    fn a_value_of_the_wrong_type_is_named_with_the_type_it_must_have() {
        let err = layer(
            r"HKLM\Software\Policies\CallSupport",
            &[("privacy.allow_export", RegValue::String("no".into()))],
        )
        .unwrap_err();
        assert_eq!(
            err.path,
            PathBuf::from(r"HKLM\Software\Policies\CallSupport\privacy\allow_export")
        );
        assert!(
            err.message.contains("REG_DWORD of 0 or 1"),
            "{}",
            err.message
        );
        let err = layer("HKLM", &[("privacy.redact", RegValue::Dword(2))]).unwrap_err();
        assert!(err.message.contains("0 (off) or 1 (on)"), "{}", err.message);
    }

    #[test]
    fn policy_covers_the_switches_numbers_and_text_but_not_the_structured_keys() {
        let keys: Vec<&str> = policy_keys().map(|(k, _)| k).collect();
        for key in [
            "ticket_api.url",
            "privacy.allow_export",
            "privacy.allow_log_collection",
            "detection.enabled",
            "survey.enabled",
            "ticket_api.ca_files",
        ] {
            assert!(keys.contains(&key), "{key}");
        }
        for key in ["presets", "detection.patterns"] {
            assert!(!keys.contains(&key), "{key}");
        }
    }

    #[test]
    fn values_are_read_per_section_and_name() {
        let read = read_values(|section, name| {
            (section == "privacy" && name == "allow_export").then_some(RegValue::Dword(0))
        });
        assert_eq!(read, [("privacy.allow_export", RegValue::Dword(0))]);
    }
}

/// Under Wine (or on Windows): policy written with `reg.exe`, as IT's scripts write it, read back.
#[cfg(all(test, windows))]
mod registry_tests {
    use super::*;

    fn reg(args: &[&str]) {
        let out = std::process::Command::new("reg")
            .args(args)
            .output()
            .expect("reg.exe runs");
        assert!(
            out.status.success(),
            "reg {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A key of its own under both hives, deleted afterwards.
    struct ScratchKey(String);

    impl Drop for ScratchKey {
        fn drop(&mut self) {
            for hive in ["HKLM", "HKCU"] {
                let _ = std::process::Command::new("reg")
                    .args(["delete", &format!("{hive}\\{}", self.0), "/f"])
                    .output();
            }
        }
    }

    #[test]
    fn policy_written_with_reg_is_read_and_the_machine_wins() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let key = ScratchKey(format!(
            r"Software\CallSupportTests\policy-{}-{nanos}",
            std::process::id()
        ));
        let add = |hive: &str, section: &str, name: &str, ty: &str, data: &str| {
            let path = format!("{hive}\\{}\\{section}", key.0);
            reg(&["add", &path, "/v", name, "/t", ty, "/d", data, "/f"]);
        };
        assert!(read(&key.0).unwrap().is_none(), "nothing set: no layer");

        add("HKLM", "privacy", "allow_export", "REG_DWORD", "0");
        add("HKCU", "privacy", "allow_export", "REG_DWORD", "1");
        add("HKCU", "collection", "max_bundle_mb", "REG_DWORD", "77");
        let url = "https://support.contoso.example/api/v1/tickets";
        add("HKLM", "ticket_api", "url", "REG_SZ", url);
        add(
            "HKLM",
            "ticket_api",
            "ca_files",
            "REG_MULTI_SZ",
            r"C:\ca\a.pem\0C:\ca\b.pem",
        );
        let layer = read(&key.0).unwrap().unwrap();
        assert_eq!(
            layer.table["privacy"]["allow_export"].as_bool(),
            Some(false),
            "the machine's policy wins over the user's"
        );
        assert_eq!(
            layer.table["collection"]["max_bundle_mb"].as_integer(),
            Some(77)
        );
        assert_eq!(layer.table["ticket_api"]["url"].as_str(), Some(url));
        let cas: Vec<&str> = layer.table["ticket_api"]["ca_files"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert_eq!(cas, [r"C:\ca\a.pem", r"C:\ca\b.pem"]);
        let origin = layer.path.display().to_string();
        assert!(
            origin.starts_with("HKLM\\") && origin.contains(" and HKCU\\"),
            "{origin}"
        );

        // A switch written as text is named, with the type it must have.
        add("HKLM", "privacy", "redact", "REG_SZ", "yes");
        let err = read(&key.0).unwrap_err();
        assert!(err.path.ends_with(r"privacy\redact"), "{err}");
        assert!(err.message.contains("REG_DWORD"), "{err}");
    }
}
