//! Facts about this machine that go into a manifest: no host name or user name.

use serde::{Deserialize, Serialize};

/// The `host` object of a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HostFacts {
    pub os: String,
    pub os_version: String,
    pub arch: String,
    pub locale: String,
    pub timezone: String,
}

impl HostFacts {
    /// Reads the facts of the running machine.
    pub fn current() -> HostFacts {
        let info = os_info::get();
        HostFacts {
            os: std::env::consts::OS.to_owned(),
            os_version: format!("{} {}", info.os_type(), info.version()),
            arch: std::env::consts::ARCH.to_owned(),
            locale: locale(),
            timezone: iana_time_zone::get_timezone().unwrap_or_else(|_| "UTC".to_owned()),
        }
    }
}

fn locale() -> String {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|var| std::env::var(var).ok())
        .find(|value| !value.is_empty())
        .map(|value| {
            value
                .split(['.', '@'])
                .next()
                .unwrap_or_default()
                .replace('_', "-")
        })
        .filter(|value| !value.is_empty() && value != "C" && value != "POSIX")
        .unwrap_or_else(|| "en-US".to_owned())
}
