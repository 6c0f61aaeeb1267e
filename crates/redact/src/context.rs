//! What redaction knows about this machine: the user's name and the host name.

use serde::{Deserialize, Serialize};

/// The names redaction looks for as words, besides the patterns every log gets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedactionContext {
    /// The account name of the user whose logs are collected (`jane`, `jane.doe`).
    pub user_name: Option<String>,
    /// This machine's host name (`WIN-7F3K2LQ`, `janes-mbp.local`).
    pub host_name: Option<String>,
}

impl RedactionContext {
    /// The names of the running machine: the user from `USER`, `USERNAME` or `LOGNAME` (else the
    /// home folder's name), the host from `gethostname` on Unix, `COMPUTERNAME` on Windows, else
    /// `HOSTNAME` or `/etc/hostname`.
    pub fn current() -> RedactionContext {
        RedactionContext {
            user_name: current_user(),
            host_name: current_host(),
        }
    }
}

fn non_empty(value: String) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

fn current_user() -> Option<String> {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find_map(non_empty)
        .or_else(|| {
            dirs::home_dir()
                .and_then(|home| {
                    home.file_name()
                        .map(|name| name.to_string_lossy().into_owned())
                })
                .and_then(non_empty)
        })
}

fn current_host() -> Option<String> {
    system_host_name()
        .or_else(|| std::env::var("COMPUTERNAME").ok().and_then(non_empty))
        .or_else(|| std::env::var("HOSTNAME").ok().and_then(non_empty))
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .and_then(non_empty)
        })
}

#[cfg(unix)]
fn system_host_name() -> Option<String> {
    let mut buffer = [0u8; 256];
    // SAFETY: the pointer and length describe `buffer`, which outlives the call; gethostname
    // writes at most that many bytes.
    let status = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    if status != 0 {
        return None;
    }
    let len = buffer
        .iter()
        .position(|&byte| byte == 0)
        .unwrap_or(buffer.len());
    non_empty(String::from_utf8_lossy(&buffer[..len]).into_owned())
}

#[cfg(not(unix))]
fn system_host_name() -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_reads_names_of_this_machine() {
        let context = RedactionContext::current();
        if let Some(host) = &context.host_name {
            assert!(!host.is_empty() && host.trim() == host);
        }
        #[cfg(unix)]
        assert_eq!(context.host_name, system_host_name());
        let user = ["USER", "USERNAME", "LOGNAME"]
            .iter()
            .filter_map(|name| std::env::var(name).ok())
            .find(|value| !value.trim().is_empty());
        if let Some(user) = user {
            assert_eq!(context.user_name.as_deref(), Some(user.trim()));
        }
    }

    #[test]
    fn blank_values_are_no_names() {
        assert_eq!(non_empty("  ".into()), None);
        assert_eq!(non_empty(" jane\n".into()), Some("jane".into()));
    }
}
