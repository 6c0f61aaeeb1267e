//! The consent screen's *Preview*: a readable file as it will be sent, replacements marked.
//!
//! # Brief overview
//!
//! [`preview_file`] reads the end of one file of a prepared report (the part nearest the
//! problem, at most [`PREVIEW_BYTES`], starting at a line), redacts it with the same rules the
//! bundle uses and returns it as [`PreviewPart`]s: plain text, and tokens with their kind, so
//! the screen can highlight them without offsets that would differ between Rust's UTF-8 and
//! JavaScript's UTF-16. The counts cover the whole file as the snapshot saw it, read in a
//! stream: what the manifest will record for it.

use callsupport_error::{Coded, ErrorCode};
use std::io::{BufReader, Read, Seek, SeekFrom};

use serde::Serialize;
use ts_rs::TS;

use crate::bundle::readable::{
    MAX_UNPACKED, Readable, Unreadable, head_of, looks_like_text, text_of,
};
use crate::config::SourceKind;
use crate::redact::{Counts, Kind, Redactor};
use crate::sources::SourceFile;
use callsupport_bundle::display_path;

/// The most of a file the preview shows, from its end.
pub const PREVIEW_BYTES: u64 = 192 * 1024;

/// A file as it will be sent, for the consent screen.
#[derive(Debug, Clone, Serialize, TS)]
pub struct FilePreview {
    pub file_id: String,
    /// Full path on this computer, home folder as `~`.
    pub path: String,
    pub parts: Vec<PreviewPart>,
    /// Bytes of the file shown (its last ones) and the file's size as it will be sent.
    pub shown_bytes: u64,
    pub size: u64,
    /// Replacements in the whole file, per kind.
    pub counts: Counts,
    /// Whether personal details are replaced (`privacy.redact`); off, the text is sent as it is.
    pub redaction: bool,
}

/// A run of text as it will be sent; `kind` is set when the run is a token that replaced a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct PreviewPart {
    pub text: String,
    pub kind: Option<Kind>,
}

/// Why a file cannot be previewed.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("`{0}` is not one of the files offered for this report")]
    UnknownFile(String),
    #[error(
        "{0} is encrypted by the calling software; only its vendor can read it, so there is nothing to preview"
    )]
    Encrypted(String),
    #[error("the screenshot is the picture shown on the report form; it is sent as it is")]
    Picture,
    #[error(
        "{path} cannot be read here ({reason}), so it goes as it is and there is nothing to preview"
    )]
    CannotRead { path: String, reason: &'static str },
    #[error("cannot read {path} for the preview: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
}

/// Reads `file` up to the size the snapshot saw and returns its preview; `redactor` is `None`
/// when redaction is off. A gzip file shows its text; a zip archive its text members one after
/// the other, each under a `==> name <==` line (as `tail` shows several files).
pub fn preview_file(
    file_id: String,
    file: &SourceFile,
    redactor: Option<&Redactor>,
) -> Result<FilePreview, PreviewError> {
    let path = display_path(&file.path);
    if file.kind == SourceKind::Screenshot {
        return Err(PreviewError::Picture);
    }
    let unreadable = |source| PreviewError::Unreadable {
        path: path.clone(),
        source,
    };
    let readable = crate::consent::readable_of(file);
    let (size, mut bytes, counts, cut) = match readable {
        Readable::No(Unreadable::Encrypted) => return Err(PreviewError::Encrypted(path)),
        Readable::No(why) => {
            return Err(PreviewError::CannotRead {
                path,
                reason: why.reason(),
            });
        }
        Readable::Text => plain_tail(file, redactor).map_err(unreadable)?,
        Readable::Gzip => {
            let size = std::fs::metadata(&file.path)
                .map_err(unreadable)?
                .len()
                .min(file.size);
            let text = text_of(&file.path, size, readable, None).map_err(unreadable)?;
            let mut tail = Tail::new(text);
            let counts = read_through(&mut tail, redactor).map_err(unreadable)?;
            let (kept, cut) = tail.finish();
            (size, kept, counts, cut)
        }
        Readable::Zip => archive_tail(file, redactor).map_err(unreadable)?,
    };
    if cut {
        // Begin at a whole line, unless the tail is one long line.
        if let Some(newline) = bytes.iter().position(|&b| b == b'\n') {
            bytes.drain(..=newline);
        }
    }
    let shown_bytes = bytes.len() as u64;
    let text = String::from_utf8_lossy(&bytes);
    let parts = match redactor {
        Some(redactor) => parts(redactor, &text),
        None => vec![PreviewPart {
            text: text.into_owned(),
            kind: None,
        }],
    };
    Ok(FilePreview {
        file_id,
        path,
        parts,
        shown_bytes,
        size,
        counts,
        redaction: redactor.is_some(),
    })
}

/// A plain file: counted in a stream, its tail read by seeking. Returns the size that will be
/// sent, the tail, the counts and whether the tail starts part-way.
fn plain_tail(
    file: &SourceFile,
    redactor: Option<&Redactor>,
) -> std::io::Result<(u64, Vec<u8>, Counts, bool)> {
    let mut opened = std::fs::File::open(&file.path)?;
    // The file may have grown since the snapshot: only what will be sent counts.
    let size = opened.metadata()?.len().min(file.size);
    let counts = match redactor {
        Some(redactor) => {
            redactor.redact_stream(BufReader::new((&opened).take(size)), std::io::sink())?
        }
        None => Counts::default(),
    };
    let start = size.saturating_sub(PREVIEW_BYTES);
    opened.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::with_capacity((size - start) as usize);
    opened.take(size - start).read_to_end(&mut bytes)?;
    Ok((size, bytes, counts, start > 0))
}

/// A zip archive's text members, each under a `==> name <==` line, as one tail; the counts
/// cover every text member.
fn archive_tail(
    file: &SourceFile,
    redactor: Option<&Redactor>,
) -> std::io::Result<(u64, Vec<u8>, Counts, bool)> {
    let opened = std::fs::File::open(&file.path)?;
    let size = opened.metadata()?.len().min(file.size);
    let mut archive = zip::ZipArchive::new(BufReader::new(opened))
        .map_err(|err| std::io::Error::new(std::io::ErrorKind::InvalidData, err))?;
    let mut tail = Tail::new(std::io::empty());
    let mut counts = Counts::default();
    for index in 0..archive.len() {
        let member = archive
            .by_index(index)
            .map_err(|err| std::io::Error::new(std::io::ErrorKind::InvalidData, err))?;
        if member.is_dir() {
            continue;
        }
        let name = String::from_utf8_lossy(member.name_raw()).into_owned();
        let mut text = member.take(MAX_UNPACKED);
        let head = head_of(&mut text)?;
        if !looks_like_text(&head) {
            continue;
        }
        tail.keep(format!("==> {name} <==\n").as_bytes());
        let mut member_tail = Tail {
            inner: std::io::Cursor::new(head).chain(text),
            kept: std::mem::take(&mut tail.kept),
            cut: tail.cut,
        };
        counts.add(&read_through(&mut member_tail, redactor)?);
        tail.kept = member_tail.kept;
        tail.cut = member_tail.cut;
    }
    let (kept, cut) = tail.finish();
    Ok((size, kept, counts, cut))
}

/// Reads `text` to its end, counting replacements when redacting.
fn read_through<R: Read>(
    text: &mut Tail<R>,
    redactor: Option<&Redactor>,
) -> std::io::Result<Counts> {
    match redactor {
        Some(redactor) => redactor.redact_stream(BufReader::new(text), std::io::sink()),
        None => std::io::copy(text, &mut std::io::sink()).map(|_| Counts::default()),
    }
}

/// A reader that keeps the last [`PREVIEW_BYTES`] of what passed through it.
struct Tail<R> {
    inner: R,
    kept: Vec<u8>,
    /// Something before the kept bytes was dropped.
    cut: bool,
}

impl<R> Tail<R> {
    fn new(inner: R) -> Tail<R> {
        Tail {
            inner,
            kept: Vec::new(),
            cut: false,
        }
    }

    fn keep(&mut self, bytes: &[u8]) {
        self.kept.extend_from_slice(bytes);
        let limit = PREVIEW_BYTES as usize;
        // Dropped in batches, so keeping costs no more than reading.
        if self.kept.len() > 2 * limit {
            let drop = self.kept.len() - limit;
            self.kept.drain(..drop);
            self.cut = true;
        }
    }
}

impl<R> Tail<R> {
    /// The last [`PREVIEW_BYTES`] kept, and whether anything before them was dropped.
    fn finish(mut self) -> (Vec<u8>, bool) {
        let limit = PREVIEW_BYTES as usize;
        if self.kept.len() > limit {
            let drop = self.kept.len() - limit;
            self.kept.drain(..drop);
            self.cut = true;
        }
        (self.kept, self.cut)
    }
}

impl<R: Read> Read for Tail<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.keep(&buf[..n]);
        Ok(n)
    }
}

/// Splits redacted text at its tokens.
fn parts(redactor: &Redactor, text: &str) -> Vec<PreviewPart> {
    let preview = redactor.preview(text);
    let mut parts = Vec::with_capacity(preview.spans.len() * 2 + 1);
    let mut at = 0;
    let plain = |parts: &mut Vec<PreviewPart>, text: &str| {
        if !text.is_empty() {
            parts.push(PreviewPart {
                text: text.to_owned(),
                kind: None,
            });
        }
    };
    for span in &preview.spans {
        plain(&mut parts, &preview.text[at..span.start]);
        parts.push(PreviewPart {
            text: preview.text[span.start..span.end].to_owned(),
            kind: Some(span.kind),
        });
        at = span.end;
    }
    plain(&mut parts, &preview.text[at..]);
    parts
}

impl Coded for PreviewError {
    fn code(&self) -> ErrorCode {
        match self {
            PreviewError::Unreadable { .. } => ErrorCode::Io,
            _ => ErrorCode::ReportInvalid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SourceKind;
    use crate::redact::RedactionContext;

    fn source_file(path: &std::path::Path, encrypted: bool) -> SourceFile {
        SourceFile {
            source_id: "app".into(),
            path: path.to_path_buf(),
            relative: "app.log".into(),
            size: std::fs::metadata(path).unwrap().len(),
            modified: std::time::SystemTime::now(),
            kind: SourceKind::Text,
            encrypted,
            calls: Vec::new(),
        }
    }

    #[test]
    fn tokens_are_their_own_parts_and_the_whole_file_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let mut text = "joined by jane.doe@contoso.com from 10.1.2.3\n".to_owned();
        // Pushes the first line out of the shown tail; it still counts.
        text.push_str(&"x".repeat(PREVIEW_BYTES as usize));
        text.push_str("\nlast line: bob@example.org left\n");
        std::fs::write(&path, &text).unwrap();
        let redactor = Redactor::new(RedactionContext::default());

        let preview = preview_file(
            "app/app.log".into(),
            &source_file(&path, false),
            Some(&redactor),
        )
        .unwrap();
        assert_eq!(preview.counts.get(Kind::Email), 2);
        assert_eq!(preview.counts.get(Kind::Ipv4), 1);
        assert_eq!(preview.size, text.len() as u64);
        assert!(
            preview.shown_bytes < PREVIEW_BYTES,
            "starts at a whole line"
        );
        let tokens: Vec<_> = preview.parts.iter().filter(|p| p.kind.is_some()).collect();
        assert_eq!(tokens.len(), 1, "{tokens:?}");
        assert_eq!(tokens[0].kind, Some(Kind::Email));
        assert!(tokens[0].text.starts_with("<email-"));
        let shown: String = preview.parts.iter().map(|p| p.text.as_str()).collect();
        assert!(
            shown.ends_with(" left\n") && !shown.contains("bob@"),
            "{shown}"
        );

        // Redaction off: the text as it is, nothing counted.
        let plain = preview_file("app/app.log".into(), &source_file(&path, false), None).unwrap();
        assert!(!plain.redaction && plain.counts.is_empty());
        assert!(plain.parts[0].text.contains("bob@example.org"));
    }

    #[test]
    fn a_gzip_log_and_a_zip_archive_show_their_text_cleaned() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "first: jane.doe@contoso.com\n{}last: candidate 203.0.113.45 typ srflx\n",
            "padding line\n".repeat(30_000)
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(text.as_bytes()).unwrap();
        let path = dir.path().join("1733565731.gz");
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let mut file = source_file(&path, false);
        file.relative = "1733565731.gz".into();
        let redactor = Redactor::new(RedactionContext::default());
        let preview = preview_file("app/1733565731.gz".into(), &file, Some(&redactor)).unwrap();
        assert_eq!(
            preview.counts.get(Kind::Email),
            1,
            "the whole text is counted"
        );
        assert_eq!(preview.counts.get(Kind::Ipv4), 1);
        let shown: String = preview.parts.iter().map(|p| p.text.as_str()).collect();
        assert!(shown.starts_with("padding line\n"), "from a whole line");
        assert!(
            shown.ends_with("typ srflx\n") && !shown.contains("203.0.113.45"),
            "{}",
            &shown[shown.len() - 80..]
        );

        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, body) in [
            ("a.log", "mail bob@example.org\n"),
            ("b.log", "from 10.9.8.7\n"),
        ] {
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(body.as_bytes()).unwrap();
        }
        let path = dir.path().join("old.zip");
        std::fs::write(&path, zip.finish().unwrap().into_inner()).unwrap();
        let mut file = source_file(&path, false);
        file.relative = "old.zip".into();
        let preview = preview_file("app/old.zip".into(), &file, Some(&redactor)).unwrap();
        let shown: String = preview.parts.iter().map(|p| p.text.as_str()).collect();
        assert!(shown.starts_with("==> a.log <==\nmail <email-"), "{shown}");
        assert!(shown.contains("==> b.log <==\nfrom <ipv4-"), "{shown}");
        assert_eq!(preview.counts.total, 2);

        // A log compressed in a format this app does not unpack says why it has no preview.
        let path = dir.path().join("old.log.xz");
        std::fs::write(&path, b"\xfd7zXZ\x00").unwrap();
        let mut file = source_file(&path, false);
        file.relative = "old.log.xz".into();
        let err = preview_file("app/old.log.xz".into(), &file, None).unwrap_err();
        assert!(matches!(err, PreviewError::CannotRead { .. }), "{err}");
    }

    #[test]
    fn encrypted_files_are_not_previewed_and_growth_after_the_snapshot_is_not_shown() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        std::fs::write(&path, "first\n").unwrap();
        let file = source_file(&path, false);
        std::fs::write(&path, "first\nwritten later\n").unwrap();
        let preview = preview_file("app/app.log".into(), &file, None).unwrap();
        assert_eq!(preview.parts[0].text, "first\n");

        let err = preview_file("acs/a.blog".into(), &source_file(&path, true), None).unwrap_err();
        assert!(matches!(err, PreviewError::Encrypted(_)), "{err}");
    }
}
