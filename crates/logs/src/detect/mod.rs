//! Proactive detection: trouble noticed in the logs as they are written, and a prompt to report it
//! soon after, without nagging.
//!
//! # Brief overview
//!
//! [`watch::Watcher`] tails the readable call-operations logs and the text logs that have
//! patterns ([`crate::tail`]: from where it stopped, across restarts and rotation) and feeds each
//! line to a [`engine::Detector`]. The detector follows every call through its records and, once
//! the call is over, says what went wrong in it ([`Rule`]): failed operations, several failures,
//! an end without a hang-up, a join that never succeeded; text-log lines matching a configured
//! pattern are detections too. Nothing is said while the user is still in a call.
//! [`prompt::Prompter`] then decides whether a detection may raise a prompt (enabled, not muted
//! for that app, recent enough, past the cooldown, under the daily cap) and
//! [`journal::Journal`] keeps every detection with that decision, for History → Detected.
//!
//! Time is always passed in, never read inside, so a recorded stream replays at any speed.

pub mod engine;
pub mod journal;
pub mod prompt;
pub mod watch;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use callsupport_bundle::report::Category;

/// What was noticed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Rule {
    /// Every attempt to join the call failed.
    JoinFailed,
    /// The call's records stopped without a hang-up.
    UnexpectedEnd,
    /// At least `detection.failures_per_call` operations of one call failed.
    RepeatedFailures,
    /// An operation failed (`ResultType` not `Succeeded`, or `ResultSignature` 400 or more).
    FailedOperation,
    /// A text-log line matched a configured pattern.
    Pattern { name: String },
}

impl Rule {
    /// The report category a prompt for this rule pre-fills.
    pub fn category(&self) -> Category {
        match self {
            Rule::JoinFailed => Category::CannotJoin,
            Rule::UnexpectedEnd => Category::Dropped,
            Rule::RepeatedFailures | Rule::FailedOperation | Rule::Pattern { .. } => {
                Category::Other
            }
        }
    }

    /// The rule's name in the configuration and in tables.
    pub fn key(&self) -> &str {
        match self {
            Rule::JoinFailed => "join_failed",
            Rule::UnexpectedEnd => "unexpected_end",
            Rule::RepeatedFailures => "repeated_failures",
            Rule::FailedOperation => "failed_operation",
            Rule::Pattern { name } => name,
        }
    }
}

/// One thing noticed, with what a prompt and a report need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Detection {
    /// Names it for the prompt and the report it leads to.
    pub id: String,
    /// When the detector noticed it (the call's end for call rules).
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub at: DateTime<Utc>,
    /// When it happened, as the log says (the failure, the call's last record, the line).
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub occurred_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub rule: Rule,
    /// The source whose logs showed it (which app).
    pub source_id: String,
    pub call_id: Option<String>,
    /// In plain words, as the prompt says it: "Your last call ended unexpectedly".
    pub summary: String,
    /// The evidence: failed operations with their result, or the matching line (cut short).
    pub details: Vec<String>,
}

impl Detection {
    pub fn category(&self) -> Category {
        self.rule.category()
    }
}
