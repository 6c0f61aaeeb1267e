//! Byte-level helpers shared by the detectors, and [`Hit`], what a detector reports.
//!
//! Detectors work on raw bytes, never on `str`, so lines that are not UTF-8 are scanned all the
//! same and passed through unchanged outside the replaced ranges. Every pattern is ASCII; a byte
//! of 0x80 or above counts as part of a word, so no replacement starts or ends inside a multi-byte
//! character and valid UTF-8 stays valid.

use crate::kind::Kind;

/// A value to replace: `line[start..end]`, of `kind`. `norm` is the value as numbered (e.g. an
/// e-mail in lower case, an IPv6 address in canonical form); `None` means the bytes as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) kind: Kind,
    pub(crate) norm: Option<Vec<u8>>,
}

impl Hit {
    pub(crate) fn new(start: usize, end: usize, kind: Kind) -> Hit {
        Hit {
            start,
            end,
            kind,
            norm: None,
        }
    }

    pub(crate) fn normalized(start: usize, end: usize, kind: Kind, norm: Vec<u8>) -> Hit {
        Hit {
            start,
            end,
            kind,
            norm: Some(norm),
        }
    }
}

/// Letters, digits, `_` and any non-ASCII byte: what a whole-word match may not touch.
pub(crate) fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80
}

/// Whether the byte before `at` is a word byte (false at the start of the line).
pub(crate) fn word_before(line: &[u8], at: usize) -> bool {
    at > 0 && is_word(line[at - 1])
}

/// Whether the byte at `at` is a word byte (false at the end of the line).
pub(crate) fn word_at(line: &[u8], at: usize) -> bool {
    line.get(at).is_some_and(|&byte| is_word(byte))
}

/// Where a value written without quotes ends: whitespace, quotes, and the delimiters of URLs,
/// connection strings, JSON and markup.
pub(crate) fn ends_value(byte: u8) -> bool {
    matches!(
        byte,
        b' ' | b'\t'
            | b'\r'
            | b'\n'
            | b'"'
            | b'\''
            | b'`'
            | b'&'
            | b';'
            | b','
            | b'<'
            | b'>'
            | b'('
            | b')'
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'|'
            | b'\\'
            | b'#'
    )
}

/// The end of the value starting at `start` (see [`ends_value`]).
pub(crate) fn value_end(line: &[u8], start: usize) -> usize {
    line[start..]
        .iter()
        .position(|&byte| ends_value(byte))
        .map_or(line.len(), |offset| start + offset)
}

/// Whether `haystack` ends with `suffix`, ignoring ASCII case.
pub(crate) fn ends_with_ignore_case(haystack: &[u8], suffix: &[u8]) -> bool {
    haystack.len() >= suffix.len()
        && haystack[haystack.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_bytes_and_boundaries() {
        assert!(is_word(b'a') && is_word(b'Z') && is_word(b'7') && is_word(b'_'));
        assert!(is_word(0xC3), "non-ASCII bytes belong to words");
        assert!(!is_word(b'-') && !is_word(b'.') && !is_word(b' '));
        assert!(!word_before(b"abc", 0));
        assert!(word_before(b"abc", 1));
        assert!(!word_at(b"abc", 3));
        assert!(word_at(b"abc", 2));
    }

    #[test]
    fn value_ends_at_delimiters() {
        assert_eq!(value_end(b"k=abc&x", 2), 5);
        assert_eq!(value_end(b"k=ab+/c==;", 2), 9);
        assert_eq!(value_end(b"k=abc", 2), 5);
        assert!(ends_with_ignore_case(b"SdkVersion", b"version"));
        assert!(!ends_with_ignore_case(b"ion", b"version"));
    }
}
