//! Secret values after a secret key: URL query strings, connection strings, `key=value` logs and
//! JSON. The key is kept, the value becomes `<secret-N>` (or `<jwt-N>` when it is a JWT).
//!
//! Keys are compared in lower case with `_`, `-` and `.` removed, so `access_token`,
//! `accessToken` and `access-token` are one key. Three forms:
//!
//! - `key=value` (anchored on `=`; `==`, `!=`, `<=`, `>=` are comparisons): every secret key.
//! - `"key": "value"` and JSON-in-a-string `\"key\":\"value\"` (anchored on `:`): every secret
//!   key except the ambiguous short ones (`key`, `sig`, `signature`, `code`, `auth`, `pass`).
//! - `key: value` unquoted (anchored on `:`): only keys that are unmistakably secret
//!   (`password`, `client_secret`, `accountKey`, `apiKey`, `access_token`…).
//!
//! Ambiguous keys need a value that looks like a secret: `key`, `sig`, `signature`, `auth` and
//! `pass` at least 8 characters, `code` at least 20 (OAuth codes are long; ACS `code=490` and `code=AADSTS50011`
//! are diagnostics). Placeholders (`null`, `***`, `${TOKEN}`, `%TOKEN%`) are left alone.
//! `SharedAccessSignature=SharedAccessSignature sr=…&sig=…` takes everything up to the next `;`.

use crate::bytes::{Hit, value_end};
use crate::jwt::is_jwt;
use crate::kind::Kind;

/// How a key name is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    /// Unmistakably secret in every form (`password`, `accountkey`, `client_secret`…).
    Strict,
    /// Secret as `key=` and in JSON (`token`, `signature`, `private_key`…).
    Strong,
    /// Secret as `key=` only, and only for values of 8 characters or more.
    Short,
    /// `code=`: only values of 20 characters or more.
    Code,
    /// `SharedAccessSignature=`: the value runs to the next `;`.
    Sas,
}

/// Whether `raw`, read in lower case and without `_`, `-` and `.`, ends with `word` (lower
/// case); `Some(true)` if it is exactly `word`.
fn ends_with_key(raw: &[u8], word: &[u8]) -> Option<bool> {
    let separator = |byte: &u8| matches!(byte, b'_' | b'-' | b'.');
    let mut at = raw.len();
    for &expected in word.iter().rev() {
        while at > 0 && separator(&raw[at - 1]) {
            at -= 1;
        }
        if at == 0 || raw[at - 1].to_ascii_lowercase() != expected {
            return None;
        }
        at -= 1;
    }
    Some(raw[..at].iter().all(separator))
}

fn classify(raw: &[u8]) -> Option<Key> {
    if raw.len() < 3 || raw.len() > 64 || !raw[0].is_ascii_alphabetic() {
        return None;
    }
    let exact = |word: &[u8]| ends_with_key(raw, word) == Some(true);
    let suffix = |word: &[u8]| ends_with_key(raw, word).is_some();
    let last = raw.iter().rev().find(|byte| byte.is_ascii_alphanumeric())?;
    // Dispatch on the last letter: most keys in logs are rejected after one comparison.
    match last.to_ascii_lowercase() {
        b'n' if suffix(b"token") => Some(
            if [
                &b"accesstoken"[..],
                b"refreshtoken",
                b"idtoken",
                b"sastoken",
            ]
            .into_iter()
            .any(suffix)
            {
                Key::Strict
            } else {
                Key::Strong
            },
        ),
        b'n' if exact(b"clientassertion") => Some(Key::Strong),
        b'd' if suffix(b"password") || suffix(b"passwd") => Some(Key::Strict),
        b'd' if exact(b"pwd") => Some(Key::Strong),
        b't' if suffix(b"secret") => Some(Key::Strict),
        b'y' if [
            &b"accesskey"[..],
            b"accountkey",
            b"apikey",
            b"subscriptionkey",
        ]
        .into_iter()
        .any(suffix)
            || [
                &b"sharedaccesskey"[..],
                b"privatekey",
                b"primarykey",
                b"secondarykey",
            ]
            .into_iter()
            .any(exact) =>
        {
            Some(Key::Strict)
        }
        b'y' if exact(b"sessionkey") => Some(Key::Strong),
        b'y' if exact(b"key") => Some(Key::Short),
        b'g' if exact(b"sig") => Some(Key::Short),
        b'e' if exact(b"sharedaccesssignature") => Some(Key::Sas),
        b'e' if exact(b"xamzsignature") => Some(Key::Strong),
        b'e' if exact(b"signature") => Some(Key::Short),
        b'e' if exact(b"code") => Some(Key::Code),
        b'h' if exact(b"auth") => Some(Key::Short),
        b's' if exact(b"pass") || exact(b"sas") => Some(Key::Short),
        b's' if exact(b"credentials") => Some(Key::Strong),
        b'l' if exact(b"credential") || exact(b"xamzcredential") => Some(Key::Strong),
        _ => None,
    }
}

/// Whether a key ending in `before`, `last` can be a secret key: every key [`classify`] knows
/// ends in one of these pairs of letters, and most keys in logs (and every `10:15` of a time)
/// end in others. A pair that is not two letters or digits goes to [`classify`].
fn may_end_a_key(before: u8, last: u8) -> bool {
    if !before.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return true;
    }
    matches!(
        (before.to_ascii_lowercase(), last.to_ascii_lowercase()),
        (b'e' | b'o', b'n')
            | (b'r' | b'w', b'd')
            | (b'r' | b'd', b'e')
            | (b'e', b't' | b'y')
            | (b'i', b'g')
            | (b't', b'h')
            | (b's' | b'a' | b'l', b's')
            | (b'a', b'l')
    )
}

/// [`may_end_a_key`] of the key that ends at `end` (exclusive).
fn may_end_key_at(line: &[u8], end: usize) -> bool {
    end >= 2 && may_end_a_key(line[end - 2], line[end - 1])
}

fn key_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.')
}

pub(crate) fn find(line: &[u8], hits: &mut Vec<Hit>) {
    for at in memchr::memchr_iter(b'=', line) {
        hits.extend(equals(line, at));
    }
    for at in memchr::memchr_iter(b':', line) {
        hits.extend(colon(line, at));
    }
}

/// The key ending at `end` (exclusive): its start.
fn key_start(line: &[u8], end: usize) -> usize {
    let mut start = end;
    while start > 0 && key_byte(line[start - 1]) {
        start -= 1;
    }
    start
}

fn equals(line: &[u8], at: usize) -> Option<Hit> {
    if line.get(at + 1) == Some(&b'=') || at == 0 {
        return None;
    }
    if matches!(line[at - 1], b'=' | b'!' | b'<' | b'>') {
        return None;
    }
    // `key=`, `key = `, `"key"=`
    let mut key_end = at;
    while key_end > 0 && line[key_end - 1] == b' ' && at - key_end < 2 {
        key_end -= 1;
    }
    if key_end > 0 && matches!(line[key_end - 1], b'"' | b'\'') {
        key_end -= 1;
    }
    if !may_end_key_at(line, key_end) {
        return None;
    }
    let key = classify(&line[key_start(line, key_end)..key_end])?;
    let mut start = at + 1;
    while start < line.len() && line[start] == b' ' && start - at <= 2 {
        start += 1;
    }
    value(line, start, key)
}

fn colon(line: &[u8], at: usize) -> Option<Hit> {
    if at == 0 {
        return None;
    }
    let quoted = line[at - 1] == b'"';
    let key_end = if quoted {
        at - 1 - usize::from(at >= 2 && line[at - 2] == b'\\')
    } else {
        at
    };
    if !may_end_key_at(line, key_end) {
        return None;
    }
    let key_start = key_start(line, key_end);
    if quoted && (key_start == 0 || line[key_start - 1] != b'"') {
        return None;
    }
    let key = classify(&line[key_start..key_end])?;
    match (quoted, key) {
        (true, Key::Short | Key::Code) => return None,
        (false, Key::Strict) => {}
        (false, _) => return None,
        _ => {}
    }
    let mut start = at + 1;
    while start < line.len() && line[start] == b' ' && start - at <= 2 {
        start += 1;
    }
    if quoted && !(line.get(start) == Some(&b'"') || line[start..].starts_with(b"\\\"")) {
        return None; // a number, object or null: not a secret string
    }
    value(line, start, key)
}

/// The secret value starting at `start` (after an optional opening quote).
fn value(line: &[u8], start: usize, key: Key) -> Option<Hit> {
    let (start, end) = if line[start..].starts_with(b"\\\"") {
        let start = start + 2;
        let close = memchr::memmem::find(&line[start..], b"\\\"");
        (
            start,
            close.map_or_else(|| value_end(line, start), |at| start + at),
        )
    } else if let Some(&quote @ (b'"' | b'\'')) = line.get(start) {
        let start = start + 1;
        let close = memchr::memchr(quote, &line[start..]);
        (
            start,
            close.map_or_else(|| value_end(line, start), |at| start + at),
        )
    } else if key == Key::Sas {
        let end = line[start..]
            .iter()
            .position(|&byte| matches!(byte, b';' | b'"' | b'\'' | b'\r' | b'\n'))
            .map_or(line.len(), |offset| start + offset);
        (start, end)
    } else {
        (start, value_end(line, start))
    };
    let value = &line[start..end];
    let long_enough = match key {
        Key::Short => value.len() >= 8,
        Key::Code => value.len() >= 20,
        _ => !value.is_empty(),
    };
    if !long_enough || is_placeholder(value) {
        return None;
    }
    let kind = if is_jwt(value) {
        Kind::Jwt
    } else {
        Kind::Secret
    };
    Some(Hit::new(start, end, kind))
}

fn is_placeholder(value: &[u8]) -> bool {
    const WORDS: [&[u8]; 7] = [
        b"null",
        b"none",
        b"nil",
        b"undefined",
        b"true",
        b"false",
        b"redacted",
    ];
    WORDS.iter().any(|word| value.eq_ignore_ascii_case(word))
        || value.iter().all(|&byte| byte == b'*' || byte == b'x')
        || matches!(value[0], b'$' | b'%' | b'<' | b'{')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quick check before [`classify`] lets every key it knows through, in every spelling.
    #[test]
    fn the_quick_check_lets_every_secret_key_through() {
        let keys = [
            "token",
            "access_token",
            "refreshToken",
            "id-token",
            "sas.token",
            "clientAssertion",
            "password",
            "passwd",
            "pwd",
            "client_secret",
            "accessKey",
            "account_key",
            "apiKey",
            "subscription-key",
            "sharedAccessKey",
            "private_key",
            "primaryKey",
            "secondary_key",
            "sessionKey",
            "key",
            "sig",
            "SharedAccessSignature",
            "X-Amz-Signature",
            "signature",
            "code",
            "auth",
            "pass",
            "sas",
            "credentials",
            "credential",
            "X-Amz-Credential",
        ];
        for key in keys {
            for spelling in [key.to_owned(), key.to_uppercase(), format!("{key}_")] {
                let raw = spelling.as_bytes();
                assert!(classify(raw).is_some(), "{spelling} is a secret key");
                assert!(
                    may_end_key_at(raw, raw.len()),
                    "{spelling} passes the quick check"
                );
            }
        }
        assert!(!may_end_key_at(b"OperationName", 13));
        assert!(!may_end_key_at(b"10", 2));
    }

    fn found(line: &str) -> Vec<&str> {
        let mut hits = Vec::new();
        find(line.as_bytes(), &mut hits);
        hits.iter().map(|hit| &line[hit.start..hit.end]).collect()
    }

    #[test]
    fn keys_are_classified_by_normalized_name() {
        assert_eq!(classify(b"access_token"), Some(Key::Strict));
        assert_eq!(classify(b"accessToken"), Some(Key::Strict));
        assert_eq!(classify(b"AccountKey"), Some(Key::Strict));
        assert_eq!(classify(b"x-ms-token"), Some(Key::Strong));
        assert_eq!(classify(b"sig"), Some(Key::Short));
        assert_eq!(classify(b"signature"), Some(Key::Short));
        assert_eq!(classify(b"X-Amz-Signature"), Some(Key::Strong));
        assert_eq!(classify(b"Ocp-Apim-Subscription-Key"), Some(Key::Strict));
        assert_eq!(classify(b"client_secret"), Some(Key::Strict));
        assert_eq!(classify(b"skypetoken"), Some(Key::Strong));
        assert_eq!(classify(b"Pwd"), Some(Key::Strong));
        assert_eq!(classify(b"sessionKey"), Some(Key::Strong));
        assert_eq!(classify(b"key"), Some(Key::Short));
        assert_eq!(classify(b"primary_key"), Some(Key::Strict));
        assert_eq!(classify(b"code"), Some(Key::Code));
        assert_eq!(classify(b"SharedAccessSignature"), Some(Key::Sas));
        for plain in [
            &b"subCode"[..],
            b"token_type",
            b"keyId",
            b"CallId",
            b"ResultSignature",
            b"monkey",
            b"se",
            b"hotkey",
            b"sigma",
            b"passcode",
            b"barcode",
        ] {
            assert_eq!(classify(plain), None, "{}", String::from_utf8_lossy(plain));
        }
    }

    #[test]
    fn values_after_secret_keys() {
        assert_eq!(
            found("endpoint=https://x.communication.azure.com/;accesskey=AbC+/d3==;"),
            ["AbC+/d3=="]
        );
        assert_eq!(found("?sv=2022&sig=AbCdEf12%2B34&se=x"), ["AbCdEf12%2B34"]);
        assert_eq!(found(r#"{"client_secret": "s3cr3t"}"#), ["s3cr3t"]);
        assert_eq!(found(r#"{\"accessToken\":\"abc\"}"#), ["abc"]);
        assert_eq!(found("password: hunter2 x"), ["hunter2"]);
        assert_eq!(found("pwd=hunter2 pwd: /home/x"), ["hunter2"]);
        assert_eq!(found("Password = 'hunter 2'"), ["hunter 2"]);
        assert_eq!(
            found("SharedAccessSignature=SharedAccessSignature sr=a&sig=b&se=1;x=y"),
            ["SharedAccessSignature sr=a&sig=b&se=1"]
        );
    }

    #[test]
    fn diagnostics_and_placeholders_stay() {
        for line in [
            "code=490 subCode=4521 code=AADSTS50011",
            "\"code\": \"ab\", \"key\": \"theme\"",
            "token: refreshed, token == null, token=, token=null, password=***",
            "key=F5 sig=short",
            "token=${TOKEN} secret=%SECRET% password=<redacted>",
            "\"accessToken\": null",
            "CallId=92d800c4-abde-40be-91e9-3814ee786b19",
        ] {
            assert!(found(line).is_empty(), "{line}: {:?}", found(line));
        }
    }
}
