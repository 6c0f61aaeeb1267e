//! The consent statement: the exact words the user agrees to, and their hash for the manifest.
//!
//! # Brief overview
//!
//! [`Statement::new`] turns a [`Plan`] and a destination into paragraphs and a file list. The UI shows
//! them as they are; [`Statement::sha256`] hashes their canonical text (paragraphs, then one
//! `path<TAB>bytes` line a file), which is what `manifest.consent.statement_sha256` records.

use crate::collect::Plan;
use crate::config::SourceKind;
use crate::hash::sha256_str;
use callsupport_bundle::display_path;

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
}

impl Statement {
    pub fn new(plan: &Plan, destination: &Destination, redaction: bool) -> Statement {
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
        if plan.selected.iter().any(|f| f.encrypted) {
            paragraphs.push(
                "Some files are encrypted by the calling software. Only its vendor can read them, and they cannot be reviewed or cleaned here."
                    .to_owned(),
            );
        }
        if plan
            .selected
            .iter()
            .any(|f| f.kind == SourceKind::Screenshot)
        {
            paragraphs.push(
                "It includes your screenshot. A picture is sent as it is: nothing in it can be hidden, so check that it shows nothing private."
                    .to_owned(),
            );
        }
        if plan
            .selected
            .iter()
            .any(|f| !f.encrypted && f.kind != SourceKind::Screenshot)
        {
            paragraphs.push(if redaction {
                "Readable logs have personal details such as e-mail addresses replaced before sending.".to_owned()
            } else {
                "Readable logs are sent as they are, without removing personal details.".to_owned()
            });
        }
        Statement { paragraphs, files }
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
            redaction,
            destination: destination.label(),
        }
    }
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
