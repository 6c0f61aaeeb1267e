//! Redaction of readable log files: personal data and secrets become consistent tokens.
//!
//! # Brief overview
//!
//! A [`Redactor`] is made once per bundle from a [`RedactionContext`] (the user's and the host's
//! names; [`RedactionContext::current`] reads this machine's) and shared by every file and thread
//! of the bundle. [`Redactor::redact_stream`] copies a file line by line with bounded memory,
//! replacing each value it finds with a token, and returns the [`Counts`] per [`Kind`] for the
//! manifest; [`Redactor::redact_line`] and [`Redactor::redact_str`] do the same for one line or
//! a text, and [`Redactor::preview`] also says where each token is, for the consent screen.
//!
//! | kind | examples | becomes |
//! |---|---|---|
//! | [`email`](Kind::Email) | `jane.doe@contoso.com`, `jane.doe%40contoso.com` | `<email-1>` |
//! | [`phone`](Kind::Phone) | `+1 425 555 0100`, `(425) 555-0100`, `020 7946 0958` | `<phone-1>` |
//! | [`ipv4`](Kind::Ipv4) | `192.168.1.23` (port kept: `<ipv4-1>:443`) | `<ipv4-1>` |
//! | [`ipv6`](Kind::Ipv6) | `2001:db8::1`, `fe80::1%eth0`, `::ffff:10.1.2.3` | `<ipv6-1>` |
//! | [`token`](Kind::Token) | `Bearer abc…`, `Authorization: Basic dXN…` | `Bearer <token-1>` |
//! | [`jwt`](Kind::Jwt) | `eyJhbGciOi….eyJzdWIi….c2ln…` | `<jwt-1>` |
//! | [`secret`](Kind::Secret) | `accesskey=…`, `AccountKey=…`, `sig=…`, `"password": "…"` | `accesskey=<secret-1>` |
//! | [`user`](Kind::User) | `/home/jane/`, `C:\Users\jane\`, the user name as a word | `<user>` |
//! | [`host`](Kind::Host) | the host name as a word | `<host>` |
//!
//! Never touched, because support needs them: UUIDs (call, participant, endpoint, operation ids),
//! versions (`1.31.1.0` after `version`/`sdk`/`build` or a product name, `1.19.2.2_beta`),
//! timestamps and times, durations, HTTP status codes, ports and plain numbers. Each detector's
//! file says exactly what it takes and what it leaves: `email.rs`, `phone.rs`, `ipv4.rs`,
//! `ipv6.rs`, `jwt.rs`, `credentials.rs` (bearer and `Authorization`), `keyvalue.rs` (secret keys
//! in URLs, connection strings and JSON), `names.rs` (home folders, user and host names).
//!
//! **Consistency.** Within one `Redactor`, equal values get equal tokens in every file and thread
//! (e-mails compared in lower case, IPv6 in canonical form, phones by their digits). Numbers follow
//! the order values are first met, so they may differ between runs when threads race. The table
//! keeps only a hash of each value (`table.rs`).
//!
//! **Bytes.** Lines are scanned as bytes: text that is not UTF-8 passes through untouched around
//! the tokens, and valid UTF-8 stays valid. A line longer than [`MAX_CHUNK`] (1 MiB) is redacted
//! in pieces of at most that size, cut at whitespace or a delimiter where one is near (`stream.rs`).
//!
//! **Speed.** Every detector starts from a cheap anchor (`memchr`, `memmem`, one Aho-Corasick pass),
//! and a line with nothing to redact goes from the reader's buffer to the writer uncopied (`line.rs`).

mod bytes;
mod context;
mod credentials;
mod email;
mod ipv4;
mod ipv6;
mod jwt;
mod keyvalue;
mod keywords;
mod kind;
mod line;
mod names;
mod phone;
mod stream;
mod table;

use std::borrow::Cow;
use std::io::{self, BufRead, BufWriter, Write};

use serde::{Deserialize, Serialize};

pub use context::RedactionContext;
pub use kind::{Counts, Kind};
pub use line::Span;
pub use stream::cut_point;
pub use stream::{CUT_WINDOW, MAX_CHUNK};

use kind::Tally;
use line::Engine;
use table::TokenTable;

/// Redacted text and where its tokens are, for the consent screen to highlight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Preview {
    /// The text as it will be sent.
    pub text: String,
    /// Each token in `text`, in order, as byte offsets (tokens are ASCII).
    pub spans: Vec<Span>,
    /// The replacements, per kind.
    pub counts: Counts,
}

/// Replaces personal data and secrets with tokens, the same value with the same token in every
/// file and thread that shares it. `Send + Sync`: share it by reference or in an `Arc`.
pub struct Redactor {
    context: RedactionContext,
    engine: Engine,
    table: TokenTable,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

impl Default for Redactor {
    /// A redactor that knows no user or host name (paths and patterns only).
    fn default() -> Self {
        Redactor::new(RedactionContext::default())
    }
}

impl Redactor {
    /// A redactor for one bundle, looking also for the names in `context`.
    pub fn new(context: RedactionContext) -> Redactor {
        Redactor {
            engine: Engine::new(&context),
            context,
            table: TokenTable::default(),
        }
    }

    /// The names this redactor looks for.
    pub fn context(&self) -> &RedactionContext {
        &self.context
    }

    /// How many distinct values of `kind` have been given a token so far (0 for `user`, `host`).
    pub fn distinct(&self, kind: Kind) -> u32 {
        self.table.issued(kind)
    }

    /// Copies `reader` to `writer` line by line, redacted; returns what was replaced.
    ///
    /// Memory stays bounded whatever the input: lines longer than [`MAX_CHUNK`] are processed in
    /// pieces. Bytes that are not UTF-8 are copied as they are. `writer` is buffered here and
    /// flushed before returning.
    pub fn redact_stream(&self, reader: impl BufRead, writer: impl Write) -> io::Result<Counts> {
        let mut writer = BufWriter::with_capacity(64 * 1024, writer);
        let mut tally = Tally::default();
        let mut hits = Vec::new();
        let mut out = Vec::new();
        stream::for_each_line(reader, |line| {
            out.clear();
            let changed =
                self.engine
                    .redact(line, &self.table, &mut hits, &mut out, &mut tally, None);
            writer.write_all(if changed { &out } else { line })
        })?;
        writer.flush()?;
        Ok(tally.counts())
    }

    /// Appends `input`, redacted, to `out`: what [`redact_stream`](Self::redact_stream) writes for
    /// it, byte for byte (the same lines and the same pieces of long lines), without a reader or
    /// a buffer in between; runs of lines with nothing to replace are copied at once.
    pub fn redact_into(&self, input: &[u8], out: &mut Vec<u8>) -> Counts {
        let mut tally = Tally::default();
        let mut hits = Vec::new();
        let (mut at, mut unchanged_from) = (0, 0);
        out.reserve(input.len() + input.len() / 16);
        while at < input.len() {
            let window = &input[at..input.len().min(at + MAX_CHUNK)];
            let end = match memchr::memchr(b'\n', window) {
                Some(newline) => at + newline + 1,
                // The end of the input, as [`redact_stream`] reaches it.
                None if window.len() < MAX_CHUNK => at + window.len(),
                None => at + stream::cut_point(window),
            };
            let line = &input[at..end];
            self.engine.scan(line, &mut hits);
            if !hits.is_empty() {
                out.extend_from_slice(&input[unchanged_from..at]);
                line::Engine::replace(line, &hits, &self.table, out, &mut tally, None);
                unchanged_from = end;
            }
            at = end;
        }
        out.extend_from_slice(&input[unchanged_from..]);
        tally.counts()
    }

    /// One line (or any bytes without a newline in the middle), redacted: borrowed as it is when
    /// there is nothing to replace. Lines over [`MAX_CHUNK`] are best sent through
    /// [`redact_stream`](Self::redact_stream), which bounds the work per piece.
    pub fn redact_line<'a>(&self, line: &'a [u8]) -> (Cow<'a, [u8]>, Counts) {
        let mut tally = Tally::default();
        let mut out = Vec::new();
        let changed = self.engine.redact(
            line,
            &self.table,
            &mut Vec::new(),
            &mut out,
            &mut tally,
            None,
        );
        let text = if changed {
            Cow::Owned(out)
        } else {
            Cow::Borrowed(line)
        };
        (text, tally.counts())
    }

    /// A whole text, redacted line by line as [`redact_stream`](Self::redact_stream) would.
    pub fn redact_str(&self, text: &str) -> (String, Counts) {
        let preview = self.redact_text(text, false);
        (preview.text, preview.counts)
    }

    /// A text redacted as [`redact_str`](Self::redact_str) does, with the place of every token.
    /// Tokens are numbered in this redactor's table, so a preview made with the bundle's redactor
    /// shows the numbers the bundle will have.
    pub fn preview(&self, text: &str) -> Preview {
        self.redact_text(text, true)
    }

    fn redact_text(&self, text: &str, with_spans: bool) -> Preview {
        let mut tally = Tally::default();
        let mut hits = Vec::new();
        let mut out = Vec::with_capacity(text.len() + text.len() / 8);
        let mut spans = Vec::new();
        let result = stream::for_each_line(text.as_bytes(), |line| {
            let spans = with_spans.then_some(&mut spans);
            if !self
                .engine
                .redact(line, &self.table, &mut hits, &mut out, &mut tally, spans)
            {
                out.extend_from_slice(line);
            }
            Ok(())
        });
        debug_assert!(result.is_ok(), "reading a slice cannot fail");
        // Tokens are ASCII and replace whole ASCII runs, so valid UTF-8 in gives valid UTF-8 out.
        let text = String::from_utf8(out)
            .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned());
        Preview {
            text,
            spans,
            counts: tally.counts(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redact_into_writes_what_redact_stream_writes() {
        let line =
            "2026-11-24T10:00:00Z joined as jane@contoso.com from 10.1.2.3 +1 425 555 0100\n";
        let mut long = "x".repeat(MAX_CHUNK - 10);
        long.push_str(" bob@example.org ");
        long.push_str(&"y ".repeat(MAX_CHUNK / 2));
        long.push('\n');
        let exact = "z".repeat(MAX_CHUNK);
        for input in [
            String::new(),
            "no newline at the end, mail a@b.co".to_owned(),
            line.repeat(5000),
            format!("{}{long}{}", line.repeat(3), line.repeat(2)),
            format!("{exact}{line}"),
            exact.clone(),
            format!("plain\n{exact}"),
        ] {
            let (streamed, into) = (Redactor::default(), Redactor::default());
            let mut expected = Vec::new();
            let counts = streamed
                .redact_stream(input.as_bytes(), &mut expected)
                .unwrap();
            let mut got = b"kept".to_vec();
            let got_counts = into.redact_into(input.as_bytes(), &mut got);
            assert!(got[4..] == expected[..], "input of {} bytes", input.len());
            assert_eq!(got_counts, counts);
        }
    }

    use super::*;

    fn redactor() -> Redactor {
        Redactor::new(RedactionContext {
            user_name: Some("jdoe".into()),
            host_name: Some("WIN-7F3K2LQ".into()),
        })
    }

    #[test]
    fn redactor_is_send_and_sync() {
        fn shared<T: Send + Sync>() {}
        shared::<Redactor>();
    }

    #[test]
    fn line_borrowed_when_clean_and_owned_when_redacted() {
        let redactor = redactor();
        let clean = b"2024-01-09T15:07:56.066Z CallId 92d800c4-abde-40be-91e9-3814ee786b19\n";
        let (text, counts) = redactor.redact_line(clean);
        assert!(matches!(text, Cow::Borrowed(_)));
        assert!(counts.is_empty());

        let (text, counts) = redactor.redact_line(b"jdoe@contoso.com on WIN-7F3K2LQ from 10.1.2.3");
        assert_eq!(&*text, b"<email-1> on <host> from <ipv4-1>");
        assert_eq!(counts.total, 3);
        assert_eq!(redactor.distinct(Kind::Email), 1);
    }

    #[test]
    fn preview_spans_point_at_the_tokens() {
        let redactor = redactor();
        let preview =
            redactor.preview("user jdoe at +1 425 555 0100\nkey: AccountKey=abc123==;\nplain\n");
        assert_eq!(
            preview.text,
            "user <user> at <phone-1>\nkey: AccountKey=<secret-1>;\nplain\n"
        );
        let marked: Vec<(&str, Kind)> = preview
            .spans
            .iter()
            .map(|span| (&preview.text[span.start..span.end], span.kind))
            .collect();
        assert_eq!(
            marked,
            [
                ("<user>", Kind::User),
                ("<phone-1>", Kind::Phone),
                ("<secret-1>", Kind::Secret)
            ]
        );
        assert_eq!(preview.counts.total, 3);
        let (text, counts) = redactor.redact_str("user jdoe at +1 425 555 0100\n");
        assert_eq!(text, "user <user> at <phone-1>\n");
        assert_eq!(counts.get(Kind::Phone), 1);
    }
}
