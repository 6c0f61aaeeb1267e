//! Preparing a report: the one road from what the user asked for to the plan and statement they
//! agree to, for the app's consent screen and the CLI alike.
//!
//! # Brief overview
//!
//! [`prepare`] applies the organisation's [`Policy`] (a file destination, a contact address and a
//! screenshot are refused where they are not allowed; no source is scanned where log collection
//! is not), checks the report, cuts the files to the bundle size limit and words the
//! [`Statement`]. What it returns is what is packed: [`Prepared::consent`] is the record of
//! agreeing to that statement, with the redaction it promised.

use std::path::PathBuf;

use crate::collect::Plan;
use crate::config::Config;
use crate::consent::{Destination, Statement};
use crate::error::Error;
use crate::policy::Policy;
use crate::report::Report;
use crate::sources::{Skipped, SourceError, SourceScan};

/// What a user asks to report.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    /// The report as written; checked here.
    pub report: Report,
    /// Saved to a file the user chooses, rather than sent.
    pub to_file: bool,
    /// A screenshot (PNG) to attach.
    pub screenshot: Option<PathBuf>,
}

/// The sources as found for a report: those scanned, what could not be read (for the manifest's
/// `skipped`) and why (for a warning).
#[derive(Debug, Default)]
pub struct Found {
    pub scans: Vec<SourceScan>,
    pub unread: Vec<Skipped>,
    pub errors: Vec<SourceError>,
}

/// A report ready for the consent screen, and to be packed exactly as shown.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub report: Report,
    pub plan: Plan,
    pub statement: Statement,
    pub destination: Destination,
    /// Whether readable files are cleaned, as the statement says.
    pub redact: bool,
}

/// Prepares a report for `destination` (ignored when the request is for a file). `find` scans
/// the sources; it is not called where the organisation allows no log collection. Returns the
/// report and the sources that could not be scanned.
pub fn prepare(
    config: &Config,
    request: ReportRequest,
    destination: Destination,
    find: impl FnOnce() -> Result<Found, Error>,
) -> Result<(Prepared, Vec<SourceError>), Error> {
    let policy = Policy::of(config);
    if request.to_file {
        policy.check_export()?;
    }
    policy.check_contact(request.report.contact.as_deref())?;
    if request.screenshot.is_some() {
        policy.check_screenshot()?;
    }
    let report = request.report.normalized()?;
    let found = if policy.collects_logs() {
        find()?
    } else {
        Found::default()
    };
    let mut scans = found.scans;
    if let Some(path) = &request.screenshot {
        scans.insert(0, crate::screenshot::scan(path)?);
    }
    let mut plan = Plan::from_scans_for_calls(
        scans,
        config.collection.max_bundle_mb.saturating_mul(1 << 20),
        &report.call_ids,
    );
    plan.skipped.extend(found.unread);
    let destination = if request.to_file {
        Destination::File
    } else {
        destination
    };
    let redact = policy.redacts();
    let statement = Statement::sealed(&plan, &destination, redact, policy.recipients());
    Ok((
        Prepared {
            report,
            plan,
            statement,
            destination,
            redact,
        },
        found.errors,
    ))
}

impl Prepared {
    /// The record of the user agreeing to this report's statement, now. Refused when the
    /// organisation's redaction setting changed since the statement was worded.
    pub fn consent(&self, config: &Config) -> Result<crate::bundle::manifest::Consent, Error> {
        let policy = Policy::of(config);
        policy.check_redaction_agreed(self.redact)?;
        policy.check_sealing_agreed(&self.statement.sealed_for)?;
        Ok(self.statement.agreed(&self.destination, self.redact))
    }
}
