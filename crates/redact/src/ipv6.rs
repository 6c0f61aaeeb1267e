//! IPv6 addresses: full, compressed (`::`), and with an IPv4 tail (`::ffff:192.0.2.1`).
//!
//! Anchored on `:`. The run of hex digits, `:` and `.` around it must stand alone (no letter or
//! digit touching either end, so `…09T15:07:56` and `Agent::join` are not candidates), hold a
//! decimal digit, and either contain `::` or have at least six colons; then the standard library
//! parses it (a trailing `:` or `.` is tried off). That keeps times (`10:15:30.123`), MAC
//! addresses and byte dumps (`00:1a:2b:3c:4d:5e`, eight groups of two hex digits without `::`),
//! ports (`10.0.0.1:443`) and identifiers made of hex letters (`face::add`). Brackets, a zone
//! (`%eth0`) and a port after `]` stay. Numbered by canonical form, so `2001:db8:0:0::1` and
//! `2001:db8::1` share a token. `::` and `::1` identify nobody and are kept.

use std::net::Ipv6Addr;

use crate::bytes::{Hit, word_at, word_before};
use crate::kind::Kind;

pub(crate) fn find(line: &[u8], hits: &mut Vec<Hit>) {
    let mut next = 0;
    for colon in memchr::memchr_iter(b':', line) {
        if colon < next {
            continue;
        }
        let in_run = |byte: u8| byte.is_ascii_hexdigit() || byte == b':' || byte == b'.';
        let mut start = colon;
        while start > 0 && in_run(line[start - 1]) {
            start -= 1;
        }
        let mut end = colon;
        while end < line.len() && in_run(line[end]) {
            end += 1;
        }
        next = end;
        // The shortest address that identifies anyone, `1::`, has three bytes.
        if end - start < 3 {
            continue;
        }
        if let Some(hit) = candidate(line, start, end) {
            hits.push(hit);
        }
    }
}

fn candidate(line: &[u8], mut start: usize, mut end: usize) -> Option<Hit> {
    while start < end && line[start] == b'.' {
        start += 1;
    }
    if word_before(line, start) || word_at(line, end) {
        return None;
    }
    for _ in 0..3 {
        if let Some(address) = parse(&line[start..end]) {
            if address.is_loopback() || address.is_unspecified() {
                return None;
            }
            let norm = address.to_string().into_bytes();
            return Some(Hit::normalized(start, end, Kind::Ipv6, norm));
        }
        match line[start..end].last() {
            Some(b':' | b'.') => end -= 1,
            _ => return None,
        }
    }
    None
}

fn parse(text: &[u8]) -> Option<Ipv6Addr> {
    let colons = text.iter().filter(|&&byte| byte == b':').count();
    let compressed = text.windows(2).any(|pair| pair == b"::");
    if colons < 2 || !(compressed || colons >= 6) || !text.iter().any(u8::is_ascii_digit) {
        return None;
    }
    if !compressed
        && text
            .split(|&byte| byte == b':')
            .all(|group| group.len() == 2)
    {
        return None; // MAC address, EUI-64 or a byte dump
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(line: &str) -> Vec<(&str, String)> {
        let mut hits = Vec::new();
        find(line.as_bytes(), &mut hits);
        hits.iter()
            .map(|hit| {
                (
                    &line[hit.start..hit.end],
                    String::from_utf8(hit.norm.clone().unwrap()).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn addresses() {
        assert_eq!(
            found("from 2001:0db8:85a3:0000:0000:8a2e:0370:7334 ok"),
            [(
                "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
                "2001:db8:85a3::8a2e:370:7334".into()
            )]
        );
        assert_eq!(
            found("peer [2001:db8::1]:443"),
            [("2001:db8::1", "2001:db8::1".into())]
        );
        assert_eq!(
            found("fe80::1c2b:3cff:fe4d:5e6f%eth0"),
            [(
                "fe80::1c2b:3cff:fe4d:5e6f",
                "fe80::1c2b:3cff:fe4d:5e6f".into()
            )]
        );
        assert_eq!(
            found("mapped ::ffff:192.168.1.23."),
            [("::ffff:192.168.1.23", "::ffff:192.168.1.23".into())]
        );
        assert_eq!(
            found("addr 2001:db8::7:"),
            [("2001:db8::7", "2001:db8::7".into())]
        );
    }

    #[test]
    fn not_addresses() {
        for line in [
            "2024-01-09T15:07:56.066Z",
            "at 10:15:30 and 10:15:30.123, took 00:00:05",
            "mac 00:1a:2b:3c:4d:5e, eui 00:1a:2b:ff:fe:3c:4d:5e",
            "CallAgent::join Face::add std::string dead::beef",
            "10.0.0.1:443 and http://host:8080/",
            ":: and ::1 and [::1]:80",
            "8:acs:1b5cc06b-f352-4571-b1e6-d9b259b7c776_00000005-aaaa",
            "#clientTag:904f667c-5f25-4729-9ee8-6968b0eaa40b",
        ] {
            assert!(found(line).is_empty(), "{line}: {:?}", found(line));
        }
    }
}
