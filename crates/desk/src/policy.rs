//! The organisation's privacy policy, asked in one place by every path that makes a report or a
//! bundle: the app's `Desk` and the CLI's `collect` and `report` both prepare reports through
//! [`crate::prepare`], which asks here, so the two cannot diverge.
//!
//! # Brief overview
//!
//! [`Policy`] is `[privacy]` as the configuration's layers settled it (a key the organisation
//! locks cannot be changed by the user's file). Each switch is one method: the `check_*` ones
//! refuse with a [`PolicyError`] that names the key and says what to do instead;
//! [`Policy::collects_logs`] and [`Policy::redacts`] shape the plan and the bundle.

use callsupport_error::{Coded, ErrorCode};

use crate::config::{Config, PrivacyConfig};

/// `[privacy]`, as this computer's configuration has it.
#[derive(Debug, Clone)]
pub struct Policy {
    privacy: PrivacyConfig,
}

/// What the organisation's policy does not allow.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error(
        "your organisation does not allow saving reports to a file (privacy.allow_export); send the report instead"
    )]
    Export,
    #[error(
        "your organisation does not allow a contact e-mail in reports (privacy.allow_contact_email); leave it empty"
    )]
    Contact,
    #[error(
        "your organisation does not allow screenshots in reports (privacy.allow_screenshot); describe what you saw instead"
    )]
    Screenshot,
    #[error(
        "your organisation's policy changed while this report was open (privacy.{0}); start the report again to see what would be sent now"
    )]
    Changed(&'static str),
}

impl Policy {
    pub fn of(config: &Config) -> Policy {
        Policy {
            privacy: config.privacy.clone(),
        }
    }

    /// `privacy.allow_export`: reports written to a file the user chooses.
    pub fn check_export(&self) -> Result<(), PolicyError> {
        self.privacy
            .allow_export
            .then_some(())
            .ok_or(PolicyError::Export)
    }

    /// `privacy.allow_contact_email`: an address support may answer at. An empty one is none.
    pub fn check_contact(&self, contact: Option<&str>) -> Result<(), PolicyError> {
        match contact {
            Some(c) if !c.trim().is_empty() && !self.privacy.allow_contact_email => {
                Err(PolicyError::Contact)
            }
            _ => Ok(()),
        }
    }

    /// `privacy.allow_screenshot`: checked before anything is captured or attached.
    pub fn check_screenshot(&self) -> Result<(), PolicyError> {
        self.privacy
            .allow_screenshot
            .then_some(())
            .ok_or(PolicyError::Screenshot)
    }

    /// `privacy.allow_log_collection`: off, no source is offered and a report carries the user's
    /// words, the computer's basic facts and a screenshot where allowed.
    pub fn collects_logs(&self) -> bool {
        self.privacy.allow_log_collection
    }

    /// `privacy.redact`: readable files are cleaned on their way into the bundle.
    pub fn redacts(&self) -> bool {
        self.privacy.redact
    }

    /// `privacy.recipients`: the keys every bundle is sealed for (none: not sealed).
    pub fn recipients(&self) -> &[String] {
        &self.privacy.recipients
    }

    /// Refuses to pack a report prepared under other sealing keys than today's: the statement
    /// named who can open it.
    pub fn check_sealing_agreed(&self, agreed: &[String]) -> Result<(), PolicyError> {
        (agreed == self.recipients())
            .then_some(())
            .ok_or(PolicyError::Changed("recipients"))
    }

    /// Refuses to pack a report prepared under another redaction setting than today's: what the
    /// user agreed to said whether logs are cleaned.
    pub fn check_redaction_agreed(&self, agreed: bool) -> Result<(), PolicyError> {
        (agreed == self.redacts())
            .then_some(())
            .ok_or(PolicyError::Changed("redact"))
    }
}

impl Coded for PolicyError {
    fn code(&self) -> ErrorCode {
        match self {
            PolicyError::Changed(_) => ErrorCode::ReportInvalid,
            _ => ErrorCode::Managed,
        }
    }
}
