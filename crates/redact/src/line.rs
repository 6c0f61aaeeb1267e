//! One line: run every detector, keep the non-overlapping hits, write the line with tokens.
//!
//! Each detector scans for its own cheap anchor (`memchr`/`memmem` for `@`, `%40`, `eyJ`, `=`,
//! `:`, `.`; one Aho-Corasick pass for words; a byte loop for digit groups), so a line with
//! nothing to redact is only read, never copied here. Overlaps are settled by position: the hit
//! that starts first wins, then the longer one, then the detector listed first in
//! [`Engine::scan`] (so `token=eyJ…` is one JWT, not a secret holding a JWT).

use serde::{Deserialize, Serialize};

use crate::bytes::Hit;
use crate::context::RedactionContext;
use crate::keywords::Keywords;
use crate::kind::{Kind, Tally};
use crate::table::TokenTable;
use crate::{email, ipv4, ipv6, jwt, keyvalue, phone};

/// A replacement in redacted text: `text[start..end]` (byte offsets) is a token of `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

/// The detectors, built once per `Redactor` from its context.
pub(crate) struct Engine {
    keywords: Keywords,
}

impl Engine {
    pub(crate) fn new(context: &RedactionContext) -> Engine {
        Engine {
            keywords: Keywords::new(context),
        }
    }

    /// Every hit in `line`, sorted, overlapping ones included.
    pub(crate) fn scan(&self, line: &[u8], hits: &mut Vec<Hit>) {
        hits.clear();
        keyvalue::find(line, hits);
        self.keywords.find(line, hits);
        jwt::find(line, hits);
        email::find(line, hits);
        ipv6::find(line, hits);
        ipv4::find(line, hits);
        phone::find(line, hits);
        if hits.len() > 1 {
            // Stable: among equal ranges the detector that ran first wins.
            hits.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
        }
    }

    /// Appends `line`, redacted, to `out` and returns true; or returns false, appending nothing,
    /// when there is nothing to redact (the caller writes `line` itself). Each replacement is
    /// counted in `tally` and, when `spans` is given, recorded with its offsets in `out`.
    pub(crate) fn redact(
        &self,
        line: &[u8],
        table: &TokenTable,
        hits: &mut Vec<Hit>,
        out: &mut Vec<u8>,
        tally: &mut Tally,
        spans: Option<&mut Vec<Span>>,
    ) -> bool {
        self.scan(line, hits);
        if hits.is_empty() {
            return false;
        }
        Engine::replace(line, hits, table, out, tally, spans);
        true
    }

    /// Appends `line` to `out` with the `hits` [`Engine::scan`] found in it replaced by tokens.
    pub(crate) fn replace(
        line: &[u8],
        hits: &[Hit],
        table: &TokenTable,
        out: &mut Vec<u8>,
        tally: &mut Tally,
        mut spans: Option<&mut Vec<Span>>,
    ) {
        let mut copied = 0;
        for hit in hits.iter() {
            if hit.start < copied {
                continue; // overlaps one already replaced
            }
            out.extend_from_slice(&line[copied..hit.start]);
            let start = out.len();
            out.push(b'<');
            let kind = if hit.kind.is_numbered() {
                let value = hit.norm.as_deref().unwrap_or(&line[hit.start..hit.end]);
                let (kind, number) = table.token(hit.kind, value);
                out.extend_from_slice(kind.as_str().as_bytes());
                out.push(b'-');
                push_decimal(out, number);
                kind
            } else {
                out.extend_from_slice(hit.kind.as_str().as_bytes());
                hit.kind
            };
            out.push(b'>');
            tally.bump(kind);
            if let Some(spans) = spans.as_deref_mut() {
                spans.push(Span {
                    start,
                    end: out.len(),
                    kind,
                });
            }
            copied = hit.end;
        }
        out.extend_from_slice(&line[copied..]);
    }
}

fn push_decimal(out: &mut Vec<u8>, mut number: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (number % 10) as u8;
        number /= 10;
        if number == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        for number in [0, 7, 10, 99, 4_294_967_295] {
            let mut out = b"x".to_vec();
            push_decimal(&mut out, number);
            assert_eq!(out, format!("x{number}").as_bytes());
        }
    }
}
