//! Collection: decide which support files go into a bundle, then write it.
//!
//! # Brief overview
//!
//! A [`Plan`] is the scanned sources cut to the bundle size limit: when the files are larger than
//! `collection.max_bundle_mb`, the newest are kept and the rest are listed in `skipped` with the
//! reason. The consent screen shows a plan; [`collect`] writes exactly that plan, so what the user
//! agreed to is what is packed.

use std::path::Path;
use std::time::SystemTime;

use chrono::Utc;
use uuid::Uuid;

use crate::bundle::manifest::{
    Consent, FORMAT, Generator, Manifest, ManifestSkipped, ManifestSource,
};
use crate::bundle::writer::{ContentFilter, WriteError, WrittenBundle, write_bundle};
use crate::config::Config;
use crate::host::HostFacts;
use crate::progress::Progress;
use crate::redact::Redactor;
use crate::report::Report;
use crate::sources::{Skipped, SourceError, SourceFile, SourceScan, display_path, scan};

/// What will be collected, and what will not and why.
#[derive(Debug, Clone)]
pub struct Plan {
    pub sources: Vec<SourceScan>,
    pub selected: Vec<SourceFile>,
    pub skipped: Vec<Skipped>,
}

impl Plan {
    /// Scans the configured sources once and applies the size limits. Sources that cannot be
    /// scanned are returned beside the plan; only when none can is it an error.
    pub fn from_config(config: &Config) -> Result<(Plan, Vec<SourceError>), SourceError> {
        let now = SystemTime::now();
        let (mut scans, mut errors, mut unread) = (Vec::new(), Vec::new(), Vec::new());
        for source in &config.sources {
            match scan(source, config.max_age(source), now) {
                Ok(found) => scans.push(found),
                Err(err) => {
                    // The manifest says which sources could not be read, not only the CLI's warning.
                    let root = crate::sources::expand_root(source)
                        .unwrap_or_else(|_| source.root.clone().into());
                    unread.push(Skipped {
                        original_path: root,
                        reason: err.to_string(),
                    });
                    errors.push(err);
                }
            }
        }
        if scans.is_empty() && !errors.is_empty() {
            return Err(errors.remove(0));
        }
        let mut plan = Plan::from_scans(
            scans,
            config.collection.max_bundle_mb.saturating_mul(1024 * 1024),
        );
        plan.skipped.extend(unread);
        Ok((plan, errors))
    }

    /// Keeps the newest files that fit in `max_bytes`; the others are skipped as too large.
    pub fn from_scans(sources: Vec<SourceScan>, max_bytes: u64) -> Plan {
        let mut candidates: Vec<SourceFile> = sources
            .iter()
            .flat_map(|s| s.files.iter().cloned())
            .collect();
        let mut skipped: Vec<Skipped> = sources
            .iter()
            .flat_map(|s| s.skipped.iter().cloned())
            .collect();
        candidates.sort_by_key(|f| std::cmp::Reverse(f.modified));
        let mut used = 0u64;
        let mut selected = Vec::new();
        for file in candidates {
            if used.saturating_add(file.size) <= max_bytes {
                used += file.size;
                selected.push(file);
            } else {
                skipped.push(Skipped {
                    original_path: file.path.clone(),
                    reason: format!("over the bundle size limit of {} MiB", max_bytes >> 20),
                });
            }
        }
        // Bundle order follows the sources and their paths, not age.
        let order = |f: &SourceFile| {
            (
                sources.iter().position(|s| s.id == f.source_id),
                f.relative.clone(),
            )
        };
        selected.sort_by_key(order);
        Plan {
            sources,
            selected,
            skipped,
        }
    }

    pub fn total_bytes(&self) -> u64 {
        self.selected.iter().map(|f| f.size).sum()
    }
}

/// Writes the plan's files and the manifest into a new bundle at `out`.
pub fn collect(
    plan: &Plan,
    report: Report,
    consent: Consent,
    out: &Path,
    on_progress: impl FnMut(Progress) -> bool,
) -> Result<WrittenBundle, WriteError> {
    collect_filtered(plan, report, consent, out, None, on_progress)
}

/// Like [`collect`], with readable files passed through `filter` (redaction) on their way in.
pub fn collect_filtered(
    plan: &Plan,
    report: Report,
    consent: Consent,
    out: &Path,
    filter: Option<&dyn ContentFilter>,
    on_progress: impl FnMut(Progress) -> bool,
) -> Result<WrittenBundle, WriteError> {
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        bundle_id: Uuid::now_v7(),
        created_at: Utc::now(),
        generator: Generator {
            name: crate::GENERATOR.to_owned(),
            version: crate::VERSION.to_owned(),
        },
        host: HostFacts::current(),
        report,
        consent,
        sources: plan
            .sources
            .iter()
            .map(|s| ManifestSource {
                id: s.id.clone(),
                name: s.name.clone(),
                kind: s.kind,
            })
            .collect(),
        files: Vec::new(),
        skipped: plan
            .skipped
            .iter()
            .map(|s| ManifestSkipped {
                original_path: display_path(&s.original_path),
                reason: s.reason.clone(),
            })
            .collect(),
    };
    write_bundle(out, manifest, &plan.selected, filter, on_progress)
}

/// Redaction as the writer's filter: every readable file of a bundle goes through one
/// [`Redactor`], so the same value gets the same token in every file.
impl ContentFilter for Redactor {
    fn filter(
        &self,
        input: &mut dyn std::io::BufRead,
        output: &mut dyn std::io::Write,
    ) -> std::io::Result<std::collections::BTreeMap<String, u32>> {
        Ok(self.redact_stream(input, output)?.by_kind)
    }
}
