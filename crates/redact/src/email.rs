//! E-mail addresses, plain (`jane.doe@contoso.com`) or URL-encoded (`jane.doe%40contoso.com`).
//!
//! Anchored on `@` and `%40`. The local part is `[A-Za-z0-9._+-]` or non-ASCII (no leading `.`
//! or `-`); the domain needs at least two labels (non-ASCII allowed), the last one letters only and at least two long, so npm-style
//! `@scope/pkg@1.2.3` and `name@2x` are not addresses. Numbered in lower case, with `%40` read as
//! `@`, so `Jane@Contoso.com` and `jane%40contoso.com` share a token.

use std::sync::LazyLock;

use memchr::memmem::Finder;

use crate::bytes::Hit;
use crate::kind::Kind;

static ENCODED_AT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"%40"));

pub(crate) fn find(line: &[u8], hits: &mut Vec<Hit>) {
    for at in memchr::memchr_iter(b'@', line) {
        hits.extend(address(line, at, 1));
    }
    for at in ENCODED_AT.find_iter(line) {
        hits.extend(address(line, at, 3));
    }
}

fn local_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte >= 0x80 || matches!(byte, b'.' | b'_' | b'+' | b'-')
}

fn label_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte >= 0x80 || byte == b'-'
}

fn address(line: &[u8], at: usize, anchor: usize) -> Option<Hit> {
    let mut start = at;
    while start > 0 && local_byte(line[start - 1]) {
        start -= 1;
    }
    while start < at && matches!(line[start], b'.' | b'-') {
        start += 1;
    }
    if start == at || line[at - 1] == b'.' {
        return None;
    }
    let domain = at + anchor;
    let end = domain_end(line, domain)?;
    let mut norm = Vec::with_capacity(end - start);
    norm.extend(line[start..at].iter().map(u8::to_ascii_lowercase));
    norm.push(b'@');
    norm.extend(line[domain..end].iter().map(u8::to_ascii_lowercase));
    Some(Hit::normalized(start, end, Kind::Email, norm))
}

/// The end of the longest run of labels from `from` whose last label is a plausible TLD.
fn domain_end(line: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    let mut labels = 0;
    let mut end = None;
    loop {
        let label = at;
        while at < line.len() && label_byte(line[at]) {
            at += 1;
        }
        if at == label || line[label] == b'-' || line[at - 1] == b'-' {
            break;
        }
        labels += 1;
        let text = &line[label..at];
        if labels >= 2 && text.len() >= 2 && text.iter().all(u8::is_ascii_alphabetic) {
            end = Some(at);
        }
        let next = line.get(at + 1).copied().unwrap_or(b'-');
        if line.get(at) == Some(&b'.') && (next.is_ascii_alphanumeric() || next >= 0x80) {
            at += 1;
        } else {
            break;
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(line: &str) -> Vec<(String, String)> {
        let mut hits = Vec::new();
        find(line.as_bytes(), &mut hits);
        hits.into_iter()
            .map(|hit| {
                (
                    line[hit.start..hit.end].to_owned(),
                    String::from_utf8(hit.norm.unwrap()).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn finds_addresses_and_normalizes_them() {
        assert_eq!(
            found("user Jane.Doe@Contoso.COM."),
            [("Jane.Doe@Contoso.COM".into(), "jane.doe@contoso.com".into())]
        );
        assert_eq!(
            found("?login_hint=jane.doe%40contoso.com&x=1"),
            [(
                "jane.doe%40contoso.com".into(),
                "jane.doe@contoso.com".into()
            )]
        );
        assert_eq!(found("a.b+tag@mail.example.co.uk;").len(), 1);
        assert_eq!(
            found("von jürgen@müller.example.de."),
            [(
                "jürgen@müller.example.de".into(),
                "jürgen@müller.example.de".into()
            )]
        );
    }

    #[test]
    fn leaves_package_specs_and_handles_alone() {
        assert!(found("@azure/communication-calling@1.19.2-beta.2").is_empty());
        assert!(found("icon@2x and @here and a@b").is_empty());
        assert!(found("x@localhost").is_empty());
        assert!(found("weird@domain.123").is_empty());
    }
}
