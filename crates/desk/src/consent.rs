//! The consent statement: the exact words the user agrees to, and their hash for the manifest.
//!
//! # Brief overview
//!
//! [`Statement::new`] turns a [`Plan`] and a destination into paragraphs and a file list. The UI shows
//! them as they are; [`Statement::sha256`] hashes their canonical text (paragraphs, then one
//! `path<TAB>bytes` line a file), which is what `manifest.consent.statement_sha256` records; the
//! manifest keeps that text too, with its wording's version and language.
//! Files that nothing here can read ([`readable_of`]) are named in the statement, grouped by why,
//! since they go without cleaning.

use crate::collect::Plan;
use crate::config::SourceKind;
use crate::hash::sha256_str;
use callsupport_bundle::display_path;
use callsupport_bundle::readable::{Readable, Unreadable, readable};

/// The version of the statement's wording: raised whenever a sentence changes, so an auditor
/// knows which wording a bundle's consent was given to.
pub const STATEMENT_VERSION: &str = "2";
/// The language the statement is worded in.
pub const STATEMENT_LANGUAGE: &str = "en";

/// Where a report goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// The organisation's ticket API.
    TicketApi {
        organisation: Option<String>,
        host: String,
    },
    /// A file the user saves and sends on themselves.
    File,
}

impl Destination {
    /// The manifest's `consent.destination`.
    pub fn label(&self) -> String {
        match self {
            Destination::TicketApi { host, .. } => host.clone(),
            Destination::File => "file".to_owned(),
        }
    }
}

/// What the consent screen says, word for word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub paragraphs: Vec<String>,
    /// `(shown path, bytes)` of every file that will be sent.
    pub files: Vec<(String, u64)>,
    /// The public keys the bundle is sealed for (`privacy.recipients`); empty: not sealed.
    pub sealed_for: Vec<String>,
}

impl Statement {
    /// The statement for a bundle that is not sealed.
    pub fn new(plan: &Plan, destination: &Destination, redaction: bool) -> Statement {
        Statement::sealed(plan, destination, redaction, &[])
    }

    /// The statement for a bundle sealed for `sealed_for` (none: not sealed).
    pub fn sealed(
        plan: &Plan,
        destination: &Destination,
        redaction: bool,
        sealed_for: &[String],
    ) -> Statement {
        let files: Vec<(String, u64)> = plan
            .selected
            .iter()
            .map(|f| (display_path(&f.path), f.size))
            .collect();
        let mut paragraphs = vec![match destination {
            Destination::TicketApi {
                organisation: Some(org),
                host,
            } => {
                format!("Your report goes to {org} at {host}.")
            }
            Destination::TicketApi {
                organisation: None,
                host,
            } => {
                format!("Your report goes to your organisation's support service at {host}.")
            }
            Destination::File => {
                "Your report is saved to a file you choose; nothing is sent.".to_owned()
            }
        }];
        paragraphs.push(if files.is_empty() {
            "It contains what you wrote above and basic facts about this computer (system, version, language, time zone; not its name or yours); no files.".to_owned()
        } else {
            format!(
                "It contains what you wrote above, basic facts about this computer (system, version, language, time zone; not its name or yours) and {} ({}).",
                plural(files.len(), "file"),
                callsupport_bundle::human_bytes(plan.total_bytes())
            )
        });
        paragraphs.extend(unreadable_paragraphs(plan));
        if plan
            .selected
            .iter()
            .any(|f| f.kind == SourceKind::Screenshot)
        {
            paragraphs.push(
                "It includes your screenshot exactly as the report form shows it: any areas you hid are blacked out in the picture itself. Check that it shows nothing else private."
                    .to_owned(),
            );
        }
        if plan.selected.iter().any(|f| readable_of(f).can_clean()) {
            let compressed = plan
                .selected
                .iter()
                .any(|f| matches!(readable_of(f), Readable::Gzip | Readable::Zip));
            paragraphs.push(if redaction && compressed {
                "Readable logs, also those compressed as gzip or zip, have personal details such as e-mail addresses replaced before sending.".to_owned()
            } else if redaction {
                "Readable logs have personal details such as e-mail addresses replaced before sending.".to_owned()
            } else {
                "Readable logs are sent as they are, without removing personal details.".to_owned()
            });
        }
        if !sealed_for.is_empty() {
            let keys: Vec<String> = sealed_for
                .iter()
                .map(|key| callsupport_seal::Recipients::short(key))
                .collect();
            let who = if keys.len() == 1 {
                format!("the holder of your organisation's key {}", keys[0])
            } else {
                format!(
                    "the holders of your organisation's {} keys ({})",
                    keys.len(),
                    keys.join(", ")
                )
            };
            paragraphs.push(match destination {
                Destination::File => format!(
                    "The file is sealed on this computer: only {who} can open it, not you or anyone it passes through."
                ),
                Destination::TicketApi { .. } => format!(
                    "It is sealed on this computer before it is saved or sent: only {who} can open it."
                ),
            });
        }
        Statement {
            paragraphs,
            files,
            sealed_for: sealed_for.to_vec(),
        }
    }

    /// The canonical text the hash covers.
    pub fn text(&self) -> String {
        let mut text = self.paragraphs.join("\n");
        for (path, bytes) in &self.files {
            text.push_str(&format!("\n{path}\t{bytes}"));
        }
        text
    }

    pub fn sha256(&self) -> String {
        sha256_str(&self.text())
    }

    /// The manifest's record of the user agreeing to this statement, now.
    pub fn agreed(
        &self,
        destination: &Destination,
        redaction: bool,
    ) -> crate::bundle::manifest::Consent {
        crate::bundle::manifest::Consent {
            accepted_at: chrono::Utc::now(),
            statement_sha256: self.sha256(),
            statement: Some(self.text()),
            statement_version: Some(STATEMENT_VERSION.to_owned()),
            language: Some(STATEMENT_LANGUAGE.to_owned()),
            redaction,
            destination: destination.label(),
            sealed_for: self.sealed_for.clone(),
        }
    }
}

/// What can be read in a planned file ([`readable`]); a screenshot is a picture.
pub fn readable_of(file: &crate::sources::SourceFile) -> Readable {
    if file.kind == SourceKind::Screenshot {
        return Readable::No(Unreadable::Binary);
    }
    readable(&file.path, &file.relative, file.encrypted)
}

/// The files that go as they are because nothing here can read them, grouped by why: the
/// vendor's encrypted logs counted (expected, and tagged in the list), any other named by its
/// file name (the first [`NAMED`]; the list tags them all). The screenshot has its own paragraph.
fn unreadable_paragraphs(plan: &Plan) -> Vec<String> {
    const NAMED: usize = 5;
    let mut by_reason: Vec<(Unreadable, Vec<&str>)> = Vec::new();
    for file in plan
        .selected
        .iter()
        .filter(|f| f.kind != SourceKind::Screenshot)
    {
        if let Readable::No(why) = readable_of(file) {
            let name = file.relative.rsplit('/').next().unwrap_or(&file.relative);
            match by_reason.iter_mut().find(|(reason, _)| *reason == why) {
                Some((_, names)) => names.push(name),
                None => by_reason.push((why, vec![name])),
            }
        }
    }
    by_reason
        .into_iter()
        .map(|(why, names)| {
            let mut list = names[..names.len().min(NAMED)].join(", ");
            if names.len() > NAMED {
                list.push_str(&format!(" and {} more, tagged below", names.len() - NAMED));
            }
            match (why, names.len()) {
                (Unreadable::Encrypted, 1) => "1 file is encrypted by the calling software (tagged Encrypted below). Only its vendor can read it, and it cannot be reviewed or cleaned here.".to_owned(),
                (Unreadable::Encrypted, n) => format!(
                    "{n} files are encrypted by the calling software (tagged Encrypted below). Only its vendor can read them, and they cannot be reviewed or cleaned here."
                ),
                (why, 1) => format!(
                    "1 file cannot be read here, so it goes as it is, without cleaning ({}): {list}.",
                    why.reason()
                ),
                (why, n) => format!(
                    "{n} files cannot be read here, so they go as they are, without cleaning ({}): {list}.",
                    why.reason()
                ),
            }
        })
        .collect()
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(callsupport_bundle::human_bytes(532), "532 bytes");
        assert_eq!(callsupport_bundle::human_bytes(4_200_000), "4.2 MB");
        assert_eq!(callsupport_bundle::human_bytes(1_500_000_000), "1.5 GB");
    }

    #[test]
    fn files_that_cannot_be_read_are_named_with_why_and_compressed_logs_are_said_cleaned() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, bytes: &[u8], encrypted: bool| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            crate::sources::SourceFile {
                source_id: "app".into(),
                path,
                relative: name.into(),
                size: bytes.len() as u64,
                modified: std::time::SystemTime::now(),
                kind: SourceKind::Text,
                encrypted,
                calls: vec![],
            }
        };
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"candidate 203.0.113.45\n").unwrap();
        let plan = Plan {
            sources: vec![],
            selected: vec![
                file("1733565731.gz", &gz.finish().unwrap(), false),
                file("acs_1.blog", b"x", true),
                file("acs_2.blog", b"y", true),
                file("old.log.xz", b"\xfd7zXZ\x00", false),
                file("app.log", b"text\n", false),
            ],
            skipped: vec![],
        };
        let dest = Destination::File;
        let text = Statement::new(&plan, &dest, true).paragraphs.join("\n");
        assert!(
            text.contains("2 files are encrypted by the calling software (tagged Encrypted below). Only its vendor can read them, and they cannot be reviewed or cleaned here."),
            "{text}"
        );
        assert!(
            text.contains("1 file cannot be read here, so it goes as it is, without cleaning (compressed in a format this app cannot unpack): old.log.xz."),
            "{text}"
        );
        assert!(
            text.contains("also those compressed as gzip or zip"),
            "{text}"
        );
        assert!(
            !text.contains("1733565731.gz") && !text.contains("app.log"),
            "readable files are not listed as unreadable: {text}"
        );
    }

    #[test]
    fn the_hash_covers_the_file_list() {
        let plan = Plan {
            sources: vec![],
            selected: vec![],
            skipped: vec![],
        };
        let dest = Destination::TicketApi {
            organisation: None,
            host: "h".into(),
        };
        let a = Statement::new(&plan, &dest, false);
        let mut b = a.clone();
        b.files.push(("~/x.log".into(), 3));
        assert_ne!(a.sha256(), b.sha256());
        assert_eq!(a.sha256(), Statement::new(&plan, &dest, false).sha256());
    }
}
