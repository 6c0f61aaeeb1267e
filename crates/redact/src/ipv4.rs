//! IPv4 addresses: four decimal octets, each 0–255 without leading zeros.
//!
//! Anchored on `.` between digits. A dotted run of digits is an address only if it has exactly
//! four parts and stands alone: not after a letter, `-`, `.` or `product/` (`Chrome/120.0.0.0`),
//! not before a letter, `_` or `-word` (`1.19.2.2_beta`, `1.2.3.4-rc1`), and not right after a
//! word that names a version (`version`, `ver`, `build`, `sdk`, `release`, `firmware`, `driver`,
//! optionally followed by `:`, `=`, quotes or spaces, as in `"SdkVersion": "1.31.1.0"`). A
//! trailing port (`:443`) or prefix length (`/24`) stays. Runs of three or five parts (versions,
//! OIDs, `10.0.19045.0`) are never addresses.
//!
//! Loopback (`127.0.0.0/8`), `0.0.0.0` and `255.x.x.x` (masks, broadcast) identify nobody and
//! are kept. A bare dotted quad with no version context is taken as an address: privacy wins.

use crate::bytes::{Hit, ends_with_ignore_case, is_word, word_at};
use crate::kind::Kind;

const VERSION_WORDS: [&[u8]; 7] = [
    b"version",
    b"ver",
    b"build",
    b"sdk",
    b"release",
    b"firmware",
    b"driver",
];

pub(crate) fn find(line: &[u8], hits: &mut Vec<Hit>) {
    let mut next = 0;
    for dot in memchr::memchr_iter(b'.', line) {
        if dot < next || dot == 0 {
            continue;
        }
        if !line[dot - 1].is_ascii_digit() || !line.get(dot + 1).is_some_and(u8::is_ascii_digit) {
            continue;
        }
        let dotted = |byte: &u8| byte.is_ascii_digit() || *byte == b'.';
        let mut start = dot;
        while start > 0 && dotted(&line[start - 1]) {
            start -= 1;
        }
        let mut run_end = dot;
        while run_end < line.len() && dotted(&line[run_end]) {
            run_end += 1;
        }
        next = run_end;
        let mut end = run_end;
        while line[end - 1] == b'.' {
            end -= 1;
        }
        if line[start] == b'.' {
            continue; // part of a dotted name or a longer number
        }
        let Some(octets) = octets(&line[start..end]) else {
            continue;
        };
        if is_special(octets) || !stands_alone(line, start, end) || after_version_word(line, start)
        {
            continue;
        }
        hits.push(Hit::new(start, end, Kind::Ipv4));
    }
}

fn octets(text: &[u8]) -> Option<[u8; 4]> {
    let mut octets = [0u8; 4];
    let mut parts = text.split(|&byte| byte == b'.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || (part.len() > 1 && part[0] == b'0') {
            return None;
        }
        let value = part
            .iter()
            .fold(0u32, |acc, digit| acc * 10 + u32::from(digit - b'0'));
        *octet = u8::try_from(value).ok()?;
    }
    parts.next().is_none().then_some(octets)
}

fn is_special(octets: [u8; 4]) -> bool {
    octets[0] == 127 || octets[0] == 255 || octets == [0, 0, 0, 0]
}

fn stands_alone(line: &[u8], start: usize, end: usize) -> bool {
    if start > 0 {
        let before = line[start - 1];
        if is_word(before) || before == b'-' {
            return false;
        }
        // `Chrome/120.0.0.0` is a product version; `http://10.0.0.1` is an address.
        if before == b'/' && start >= 2 && is_word(line[start - 2]) {
            return false;
        }
    }
    if word_at(line, end) {
        return false;
    }
    !(line.get(end) == Some(&b'-') && line.get(end + 1).is_some_and(u8::is_ascii_alphabetic))
}

fn after_version_word(line: &[u8], start: usize) -> bool {
    let mut at = start;
    let mut skipped = 0;
    while at > 0 && skipped < 4 && matches!(line[at - 1], b' ' | b'\t' | b'"' | b'\'' | b':' | b'=')
    {
        at -= 1;
        skipped += 1;
    }
    let before = &line[..at];
    VERSION_WORDS.iter().any(|word| {
        if !ends_with_ignore_case(before, word) {
            return false;
        }
        // Long words may end a compound (`SdkVersion`, `appversion`); short ones must be a whole
        // word or a camel-case part (`clientSdk`), so `server 10.0.0.1` is still an address.
        let suffix = before.len() - word.len();
        word.len() >= 5
            || suffix == 0
            || !before[suffix - 1].is_ascii_alphabetic()
            || before[suffix].is_ascii_uppercase()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(line: &str) -> Vec<&str> {
        let mut hits = Vec::new();
        find(line.as_bytes(), &mut hits);
        hits.iter().map(|hit| &line[hit.start..hit.end]).collect()
    }

    #[test]
    fn addresses() {
        assert_eq!(
            found("local 192.168.1.23, gw 192.168.1.1."),
            ["192.168.1.23", "192.168.1.1"]
        );
        assert_eq!(found("to 10.0.0.5:443"), ["10.0.0.5"]);
        assert_eq!(found("http://20.42.1.9/calls"), ["20.42.1.9"]);
        assert_eq!(found("[52.112.1.1]"), ["52.112.1.1"]);
        assert_eq!(found("net 10.1.0.0/16"), ["10.1.0.0"]);
        assert_eq!(found("::ffff:203.0.113.7"), ["203.0.113.7"]);
        assert_eq!(found("server 10.0.0.1"), ["10.0.0.1"]);
    }

    #[test]
    fn versions_and_specials_stay() {
        for line in [
            "\"SdkVersion\": \"1.31.1.0\"",
            "sdkVersion=1.31.1.0",
            "version 1.2.3.4",
            "ACS SDK 1.31.1.0",
            "Build: 10.0.1.2",
            "v1.31.1.0",
            "Chrome/120.0.0.0 Safari/537.36",
            "1.19.2.2_beta and 1.2.3.4-rc1",
            "Windows 10.0.19045.0, OID 1.3.6.1.4.1",
            "256.1.1.1 01.2.3.4",
            "127.0.0.1 0.0.0.0 255.255.255.0",
            "host.1.2.3.4",
            "x-1.2.3.4",
            "clientSdk=1.2.3.4",
        ] {
            assert!(found(line).is_empty(), "{line}: {:?}", found(line));
        }
    }
}
