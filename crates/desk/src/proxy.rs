//! Which proxy requests to the ticket API go through, told the way the HTTP client decides it:
//! the environment's `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` (either case) unless `NO_PROXY`
//! names the host, else, on Windows, the user's Internet settings (`ProxyEnable`, `ProxyServer`,
//! `ProxyOverride` under `HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings`).
//! `doctor` shows it, since a proxy in the way explains most "cannot reach" reports in companies.

/// The proxy in use for `url`, and where it was set; `None` for a direct connection.
pub fn in_use(url: &url::Url) -> Option<(String, String)> {
    from_env(url, |name| std::env::var(name).ok()).or_else(|| system(url))
}

/// From the environment (`var` reads one variable).
fn from_env(url: &url::Url, var: impl Fn(&str) -> Option<String>) -> Option<(String, String)> {
    let get = |name: &str| {
        [name.to_owned(), name.to_lowercase()]
            .into_iter()
            .find_map(|n| var(&n).filter(|v| !v.trim().is_empty()).map(|v| (n, v)))
    };
    let host = url.host_str().unwrap_or_default();
    if let Some((_, no_proxy)) = get("NO_PROXY")
        && bypassed(host, no_proxy.split(','))
    {
        return None;
    }
    let names: &[&str] = if url.scheme() == "https" {
        &["HTTPS_PROXY", "ALL_PROXY"]
    } else {
        &["HTTP_PROXY", "ALL_PROXY"]
    };
    names
        .iter()
        .find_map(|name| get(name))
        .map(|(name, value)| (value, name))
}

/// Whether `host` is left out by a bypass list (`NO_PROXY`, or Windows' `ProxyOverride`): `*`,
/// the host itself, a domain it is in (`.contoso.com`, `contoso.com`, `*.contoso.com`), or
/// `<local>` for a name without a dot.
fn bypassed<'a>(host: &str, list: impl Iterator<Item = &'a str>) -> bool {
    let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
    list.map(|entry| entry.trim().to_ascii_lowercase())
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            let domain = entry.trim_start_matches('*').trim_start_matches('.');
            entry == "*"
                || (entry == "<local>" && !host.contains('.'))
                || host == domain
                || host.ends_with(&format!(".{domain}"))
        })
}

/// The proxy named in Windows' `ProxyServer` for `scheme`: `host:port` for every scheme, or
/// `http=host:port;https=host:port` per scheme.
#[cfg_attr(not(windows), allow(dead_code))]
fn server_for(scheme: &str, server: &str) -> Option<String> {
    if !server.contains('=') {
        return Some(server.trim().to_owned()).filter(|s| !s.is_empty());
    }
    server.split(';').find_map(|part| {
        let (key, value) = part.split_once('=')?;
        (key.trim().eq_ignore_ascii_case(scheme)).then(|| value.trim().to_owned())
    })
}

#[cfg(windows)]
fn system(url: &url::Url) -> Option<(String, String)> {
    use windows_registry::CURRENT_USER;
    let key = CURRENT_USER
        .open(r"Software\Microsoft\Windows\CurrentVersion\Internet Settings")
        .ok()?;
    if key.get_u32("ProxyEnable").ok()? == 0 {
        return None;
    }
    let server = server_for(url.scheme(), &key.get_string("ProxyServer").ok()?)?;
    let overrides = key.get_string("ProxyOverride").unwrap_or_default();
    if bypassed(url.host_str().unwrap_or_default(), overrides.split(';')) {
        return None;
    }
    Some((server, "the Windows Internet settings".to_owned()))
}

#[cfg(not(windows))]
fn system(_url: &url::Url) -> Option<(String, String)> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> url::Url {
        url::Url::parse(text).unwrap()
    }

    #[test]
    fn the_environment_names_the_proxy_unless_no_proxy_covers_the_host() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let api = url("https://support.contoso.com/api/v1/tickets");
        assert_eq!(
            from_env(&api, env(&[("https_proxy", "http://proxy:3128")])),
            Some(("http://proxy:3128".into(), "https_proxy".into()))
        );
        assert_eq!(
            from_env(&api, env(&[("HTTP_PROXY", "http://proxy:3128")])),
            None,
            "HTTP_PROXY is for http:// only"
        );
        assert_eq!(
            from_env(
                &api,
                env(&[
                    ("HTTPS_PROXY", "http://p:1"),
                    ("NO_PROXY", "localhost,.contoso.com")
                ])
            ),
            None
        );
        assert_eq!(from_env(&api, env(&[])), None);
    }

    #[test]
    fn bypass_lists_and_per_scheme_servers_read_as_windows_writes_them() {
        assert!(bypassed(
            "support.contoso.com",
            "*.contoso.com;<local>".split(';')
        ));
        assert!(bypassed("intranet", "<local>".split(';')));
        assert!(!bypassed(
            "support.fabrikam.com",
            "*.contoso.com;<local>".split(';')
        ));
        assert!(!bypassed("notcontoso.com", "contoso.com".split(',')));
        assert_eq!(
            server_for("https", "http=p:80;https=ps:443"),
            Some("ps:443".into())
        );
        assert_eq!(server_for("https", "proxy:8080"), Some("proxy:8080".into()));
        assert_eq!(server_for("https", "ftp=p:21"), None);
    }
}
