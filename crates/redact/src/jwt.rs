//! JSON Web Tokens: three (JWS) or five (JWE) base64url segments, the first starting `eyJ`
//! (`{"` encoded). The header must be at least 10 characters and the second segment at least 2
//! (JWE may leave its second segment empty); the signature may be empty (`alg: none`).

use std::sync::LazyLock;

use memchr::memmem::Finder;

use crate::bytes::Hit;
use crate::kind::Kind;

static HEADER: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"eyJ"));

pub(crate) fn find(line: &[u8], hits: &mut Vec<Hit>) {
    let mut next = 0;
    for start in HEADER.find_iter(line) {
        if start < next || (start > 0 && is_base64url(line[start - 1])) {
            continue;
        }
        if let Some(end) = token_end(line, start) {
            next = end;
            hits.push(Hit::new(start, end, Kind::Jwt));
        }
    }
}

/// Whether `value` is exactly one JWT.
pub(crate) fn is_jwt(value: &[u8]) -> bool {
    value.starts_with(b"eyJ") && token_end(value, 0) == Some(value.len())
}

fn is_base64url(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}

/// The end of the JWT starting at `start`, if one does.
fn token_end(line: &[u8], start: usize) -> Option<usize> {
    let mut lens = [0usize; 5];
    let mut count = 0;
    let mut at = start;
    loop {
        let segment = at;
        while at < line.len() && is_base64url(line[at]) {
            at += 1;
        }
        lens[count] = at - segment;
        count += 1;
        if count == 5 || line.get(at) != Some(&b'.') {
            break;
        }
        at += 1;
    }
    let end = match count {
        3 if lens[1] >= 2 => at,
        4 => at - lens[3] - 1, // a JWS followed by `.something`
        5 => at,
        _ => return None,
    };
    (lens[0] >= 10 && (count == 5 || lens[1] >= 2)).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqYW5lIn0.c2lnbmF0dXJl";

    fn found(line: &str) -> Vec<&str> {
        let mut hits = Vec::new();
        find(line.as_bytes(), &mut hits);
        hits.iter().map(|hit| &line[hit.start..hit.end]).collect()
    }

    #[test]
    fn finds_tokens() {
        assert_eq!(found(&format!("token {JWT}.")), [JWT]);
        assert_eq!(found(&format!("\"{JWT}\",")), [JWT]);
        let unsigned = "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.";
        assert_eq!(found(unsigned), [unsigned]);
        let jwe = "eyJhbGciOiJSU0EtT0FFUCJ9..aXY.Y2lwaGVy.dGFn";
        assert_eq!(found(jwe), [jwe]);
        assert!(is_jwt(JWT.as_bytes()));
        assert!(!is_jwt(format!("{JWT}x y").as_bytes()));
    }

    #[test]
    fn leaves_lookalikes() {
        for line in [
            "eyJhbGciOiJIUzI1NiJ9 alone",
            "xeyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqYW5lIn0.c2ln",
            "eyJ.a.b",
            "heyJude.the.song",
        ] {
            assert!(found(line).is_empty(), "{line}");
        }
    }
}
