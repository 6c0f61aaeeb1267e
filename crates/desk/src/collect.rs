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
use crate::bundle::writer::{
    ContentFilter, InputFile, Sealer, WriteError, WrittenBundle, write_sealed_bundle,
};
use crate::config::Config;
use crate::host::HostFacts;
use crate::prepare::Found;
use crate::progress::Progress;
use crate::redact::{RedactionContext, Redactor};
use crate::report::Report;
use crate::sources::{Skipped, SourceError, SourceFile, SourceScan, scan_with};
use callsupport_bundle::display_path;
use callsupport_seal::Recipients;

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
        Plan::from_config_for_calls(config, &[])
    }

    /// Like [`Plan::from_config`], keeping files about `call_ids` first when over the limit.
    pub fn from_config_for_calls(
        config: &Config,
        call_ids: &[String],
    ) -> Result<(Plan, Vec<SourceError>), SourceError> {
        let found = scan_sources(config, !call_ids.is_empty())?;
        let mut plan = Plan::from_scans_for_calls(
            found.scans,
            config.collection.max_bundle_mb.saturating_mul(1024 * 1024),
            call_ids,
        );
        plan.skipped.extend(found.unread);
        Ok((plan, found.errors))
    }

    /// Keeps the newest files that fit in `max_bytes`; the others are skipped as too large.
    pub fn from_scans(sources: Vec<SourceScan>, max_bytes: u64) -> Plan {
        Plan::from_scans_for_calls(sources, max_bytes, &[])
    }

    /// Like [`Plan::from_scans`], but over the limit the files that mention one of `call_ids` are
    /// kept first, then the newest: they are what support needs for this report.
    pub fn from_scans_for_calls(
        sources: Vec<SourceScan>,
        max_bytes: u64,
        call_ids: &[String],
    ) -> Plan {
        let mut candidates: Vec<SourceFile> = sources
            .iter()
            .flat_map(|s| s.files.iter().cloned())
            .collect();
        let mut skipped: Vec<Skipped> = sources
            .iter()
            .flat_map(|s| s.skipped.iter().cloned())
            .collect();
        let about_the_call = |f: &SourceFile| f.calls.iter().any(|c| call_ids.contains(&c.call_id));
        candidates.sort_by_key(|f| (!about_the_call(f), std::cmp::Reverse(f.modified)));
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

/// Scans the configured sources once, from the disk (the app asks its live index instead);
/// `calls`: call-operations files are read for the calls they mention (only a report about
/// calls needs that). Sources that cannot be scanned are returned beside the others; only when
/// none can is it an error.
pub fn scan_sources(config: &Config, calls: bool) -> Result<Found, SourceError> {
    let now = SystemTime::now();
    let mut found = Found::default();
    for source in &config.sources {
        match scan_with(source, config.max_age(source), now, calls) {
            Ok(scanned) => found.scans.push(scanned),
            Err(err) => {
                // The manifest says which sources could not be read, not only the CLI's warning.
                let root = source
                    .expanded_root()
                    .unwrap_or_else(|_| source.root.clone().into());
                found.unread.push(Skipped {
                    original_path: root,
                    reason: err.to_string(),
                });
                found.errors.push(err);
            }
        }
    }
    // Our own log alone is no report: some configured source must be readable.
    let configured = |s: &SourceScan| s.id != crate::applog::SOURCE_ID;
    if !found.scans.iter().any(configured) && !found.errors.is_empty() {
        return Err(found.errors.remove(0));
    }
    Ok(found)
}

/// Writes the plan's files and the manifest into a new bundle at `out`. Readable files are
/// redacted exactly when the consent record says so, through one [`Redactor`] for the whole
/// bundle (a value gets the same token in every file).
pub fn collect(
    plan: &Plan,
    report: Report,
    consent: Consent,
    out: &Path,
    on_progress: impl FnMut(Progress) -> bool,
) -> Result<WrittenBundle, WriteError> {
    let redactor = consent
        .redaction
        .then(|| Redactor::new(RedactionContext::current()));
    let filter = redactor.as_ref().map(|r| r as &dyn ContentFilter);
    collect_filtered(plan, report, consent, out, filter, on_progress)
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
    let bundle_id = manifest.bundle_id;
    // Logged only once written: a line written meanwhile would cut our own log in this bundle.
    let started = std::time::Instant::now();
    let files: Vec<InputFile> = plan.selected.iter().map(SourceFile::input).collect();
    // Sealed exactly when the consent record says so, for exactly those keys.
    let sealer = match manifest.consent.sealed_for.as_slice() {
        [] => None,
        keys => Some(AgeSealer(Recipients::parse(keys).map_err(|err| {
            WriteError::Output {
                path: out.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, err.to_string()),
            }
        })?)),
    };
    let written = write_sealed_bundle(
        out,
        manifest,
        &files,
        filter,
        sealer.as_ref().map(|s| s as &dyn Sealer),
        on_progress,
    );
    match &written {
        Ok(bundle) => log::info!(
            "bundle {bundle_id} written: {} bytes, {} files, {} skipped, {} redactions{}, {} ms",
            bundle.bytes,
            bundle.manifest.files.len(),
            bundle.manifest.skipped.len(),
            bundle
                .manifest
                .files
                .iter()
                .map(|f| u64::from(f.redactions))
                .sum::<u64>(),
            if filter.is_some() {
                ""
            } else {
                " (redaction off)"
            },
            started.elapsed().as_millis()
        ),
        Err(err) => log::warn!("bundle {bundle_id} not written: {err}"),
    }
    written
}

/// Sealing with age for the bundle writer.
struct AgeSealer(Recipients);

impl Sealer for AgeSealer {
    fn seal(
        &self,
        plain: &mut dyn std::io::Read,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        callsupport_seal::seal(plain, out, &self.0)
            .map(|_| ())
            .map_err(|err| match err {
                callsupport_seal::SealError::Io { source, .. } => source,
                other => std::io::Error::other(other.to_string()),
            })
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::config::SourceKind;

    fn file(name: &str, size: u64, age_secs: u64, call_ids: &[&str]) -> SourceFile {
        SourceFile {
            source_id: "ops".into(),
            path: format!("/logs/{name}").into(),
            relative: name.into(),
            size,
            modified: SystemTime::now() - Duration::from_secs(age_secs),
            kind: SourceKind::CallOperations,
            encrypted: false,
            calls: call_ids
                .iter()
                .map(|id| crate::index::CallSeen::new((*id).to_owned()))
                .collect(),
        }
    }

    fn scan(files: Vec<SourceFile>) -> Vec<SourceScan> {
        vec![SourceScan {
            id: "ops".into(),
            name: "Ops".into(),
            kind: SourceKind::CallOperations,
            root: "/logs".into(),
            files,
            skipped: vec![],
        }]
    }

    #[test]
    fn over_the_limit_files_about_the_reported_call_come_first_then_the_newest() {
        let files = vec![
            file("old-about-the-call.jsonl", 600, 3_600, &["call-1"]),
            file("newest.jsonl", 600, 10, &["call-2"]),
            file("newer.jsonl", 600, 100, &[]),
        ];
        let plan = Plan::from_scans_for_calls(scan(files.clone()), 1_300, &["call-1".to_owned()]);
        let kept: Vec<&str> = plan.selected.iter().map(|f| f.relative.as_str()).collect();
        assert_eq!(kept, ["newest.jsonl", "old-about-the-call.jsonl"]);
        assert_eq!(plan.skipped.len(), 1);
        assert!(
            plan.skipped[0].reason.contains("size limit"),
            "{:?}",
            plan.skipped
        );

        // Without call ids, age alone decides.
        let plan = Plan::from_scans(scan(files), 1_300);
        let kept: Vec<&str> = plan.selected.iter().map(|f| f.relative.as_str()).collect();
        assert_eq!(kept, ["newer.jsonl", "newest.jsonl"]);
    }
}
