//! HTTP credentials: `Bearer <token>` anywhere, and `Authorization: <scheme> <credentials>`.
//!
//! The scheme is kept (`Authorization: Basic <token-1>`), the credentials replaced; a JWT becomes
//! `<jwt-N>` like anywhere else. A bearer token must be at least 8 characters and hold a digit or
//! one of `-._~+/=`, with `=` only as trailing padding, so prose (`bearer token expired`,
//! `Bearer authentication failed`) and parameters (`WWW-Authenticate: Bearer realm="x"`,
//! `token_type=Bearer expires_in=3599`) stay. `Digest` credentials are a list of
//! parameters, mostly not secret, and are left as they are.

use crate::bytes::{Hit, value_end, word_at, word_before};
use crate::jwt::is_jwt;
use crate::kind::Kind;

/// `bearer` found at `start..end` (any case): the token after it.
pub(crate) fn bearer(line: &[u8], start: usize, end: usize) -> Option<Hit> {
    if word_before(line, start) {
        return None;
    }
    let mut at = end;
    while at < line.len() && matches!(line[at], b' ' | b'\t') {
        at += 1;
    }
    if at == end {
        return None;
    }
    token(line, at, true)
}

/// `authorization` found at `start..end` (any case): the credentials of the header it names.
pub(crate) fn authorization(line: &[u8], start: usize, end: usize) -> Option<Hit> {
    if word_before(line, start) {
        return None;
    }
    let mut at = end;
    let mut separated = false;
    while at < line.len() && matches!(line[at], b' ' | b'\t' | b'"' | b'\'' | b':' | b'=' | b'\\') {
        separated |= matches!(line[at], b':' | b'=');
        at += 1;
    }
    if !separated || at == line.len() {
        return None;
    }
    let scheme_end = line[at..]
        .iter()
        .position(|byte| !byte.is_ascii_alphabetic() && *byte != b'-')
        .map_or(line.len(), |offset| at + offset);
    let scheme = &line[at..scheme_end];
    if line.get(scheme_end) == Some(&b' ') && !scheme.is_empty() {
        if scheme.eq_ignore_ascii_case(b"bearer") || scheme.eq_ignore_ascii_case(b"digest") {
            return None; // the bearer detector has it; digest is parameters
        }
        let mut credentials = scheme_end;
        while credentials < line.len() && line[credentials] == b' ' {
            credentials += 1;
        }
        return token(line, credentials, false);
    }
    // No scheme: the value itself.
    token(line, at, true)
}

/// The credentials starting at `start`; `strict` asks them to look like a token.
fn token(line: &[u8], start: usize, strict: bool) -> Option<Hit> {
    let end = value_end(line, start);
    let value = &line[start..end];
    if value.len() < 8 || word_at(line, end) {
        return None;
    }
    if value.first() == Some(&b'<') || value.first() == Some(&b'$') {
        return None;
    }
    // `Bearer realm="x"`, `Bearer error=invalid_token`: parameters, not a token. A token's `=`
    // can only be trailing padding (RFC 6750 `b64token`).
    let body = value.len() - value.iter().rev().take_while(|&&byte| byte == b'=').count();
    if value[..body].contains(&b'=')
        || (body < value.len()
            && value[..body]
                .iter()
                .all(|byte| byte.is_ascii_alphabetic() || matches!(byte, b'_' | b'-')))
    {
        return None;
    }
    let looks_like_token = value.iter().any(|byte| {
        byte.is_ascii_digit() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
    });
    if strict && !looks_like_token {
        return None;
    }
    let kind = if is_jwt(value) {
        Kind::Jwt
    } else {
        Kind::Token
    };
    Some(Hit::new(start, end, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer_in(line: &str) -> Option<&str> {
        let start = line.to_ascii_lowercase().find("bearer")?;
        let hit = bearer(line.as_bytes(), start, start + 6)?;
        Some(&line[hit.start..hit.end])
    }

    fn authorization_in(line: &str) -> Option<&str> {
        let start = line.to_ascii_lowercase().find("authorization")?;
        let hit = authorization(line.as_bytes(), start, start + 13)?;
        Some(&line[hit.start..hit.end])
    }

    #[test]
    fn bearer_tokens() {
        assert_eq!(
            bearer_in("Authorization: Bearer abc.DEF-123_x"),
            Some("abc.DEF-123_x")
        );
        assert_eq!(bearer_in("bearer   9f8e7d6c5b4a"), Some("9f8e7d6c5b4a"));
        assert_eq!(
            bearer_in("\"Bearer Zm9vYmFyYmF6==\","),
            Some("Zm9vYmFyYmF6==")
        );
        assert_eq!(bearer_in("bearer token expired"), None);
        assert_eq!(bearer_in("Bearer authentication failed"), None);
        assert_eq!(bearer_in("WWW-Authenticate: Bearer realm=\"x\""), None);
        assert_eq!(bearer_in("Bearer <token>"), None);
        assert_eq!(bearer_in("token_type=Bearer expires_in=3599"), None);
        assert_eq!(bearer_in("Bearer authorization_uri=\"https://x\""), None);
        assert_eq!(bearer_in("nobearer abcdefgh1234"), None);
    }

    #[test]
    fn authorization_headers() {
        assert_eq!(
            authorization_in("Authorization: Basic dXNlcjpwYXNzd29yZA=="),
            Some("dXNlcjpwYXNzd29yZA==")
        );
        assert_eq!(
            authorization_in("\"authorization\":\"SharedKey acct:c2lnbmF0dXJl\""),
            Some("acct:c2lnbmF0dXJl")
        );
        assert_eq!(
            authorization_in("authorization=0123456789abcdef"),
            Some("0123456789abcdef")
        );
        assert_eq!(authorization_in("Authorization: Bearer abcdefgh1234"), None);
        assert_eq!(
            authorization_in("Authorization: Digest username=\"x\""),
            None
        );
        assert_eq!(authorization_in("authorization failed"), None);
    }
}
