//! What the user tells support: the `report` object of a manifest and of the ticket request.

use callsupport_error::{Coded, ErrorCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The kinds of problem a user can choose, after the SDK survey's issue tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Category {
    CannotJoin,
    Dropped,
    Audio,
    Video,
    ScreenShare,
    #[default]
    Other,
}

impl std::str::FromStr for Category {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        serde_json::from_value(serde_json::Value::String(s.replace('-', "_"))).map_err(|_| {
            format!("unknown category `{s}`; use cannot-join, dropped, audio, video, screen-share or other")
        })
    }
}

/// The user's report as it is stored in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Report {
    pub summary: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub category: Category,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub occurred_at: DateTime<Utc>,
    #[serde(default)]
    pub call_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// The existing ticket these logs are for, when support asked for them with a link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<String>,
    /// The link from support that asked for these logs, as the service signed it
    /// (`callsupport://report?ticket=…&link=…&sig=…`); it goes with `ticket_id`, and the service
    /// checks it and counts its uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The end-of-call survey, when the report came from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey: Option<crate::survey::Survey>,
}

/// Longest summary accepted, in characters: one line, as a ticket title.
pub const MAX_SUMMARY_CHARS: usize = 200;
/// Longest description accepted, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("the summary is empty; say in one line what went wrong")]
    EmptySummary,
    #[error(
        "the summary is {0} characters long; keep it under {MAX_SUMMARY_CHARS} and put the rest in the description"
    )]
    SummaryTooLong(usize),
    #[error("the description is {0} characters long; the limit is {MAX_DESCRIPTION_CHARS}")]
    DescriptionTooLong(usize),
    #[error("`{0}` is not an e-mail address; write it as name@example.com or leave it empty")]
    BadContact(String),
    #[error("the time of the problem is in the future ({0}); pick the time it happened")]
    InTheFuture(DateTime<Utc>),
    #[error("{0} call ids is too many; name at most {MAX_CALL_IDS}")]
    TooManyCalls(usize),
    #[error("`{0}` is not a call id; it must be 1 to 128 characters without spaces")]
    BadCallId(String),
    #[error(
        "support's request for logs for ticket {0} is no longer open (the link expired or was set aside); report the problem as a new issue"
    )]
    RequestClosed(String),
}

/// Most call ids one report may name.
pub const MAX_CALL_IDS: usize = 20;
/// How far ahead of this computer's clock a report's time may be (another clock's idea of now).
const CLOCK_SLACK_SECS: i64 = 300;

impl Report {
    /// A report about something that happened just now.
    pub fn new(summary: impl Into<String>) -> Report {
        Report {
            summary: summary.into(),
            description: String::new(),
            category: Category::Other,
            occurred_at: Utc::now(),
            call_ids: Vec::new(),
            contact: None,
            ticket_id: None,
            link: None,
            survey: None,
        }
    }

    /// Trims the text fields and checks the limits a ticket system needs.
    pub fn normalized(mut self) -> Result<Report, ReportError> {
        self.summary = self
            .summary
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        self.description = self.description.trim().to_owned();
        if self.summary.is_empty() {
            return Err(ReportError::EmptySummary);
        }
        let chars = self.summary.chars().count();
        if chars > MAX_SUMMARY_CHARS {
            return Err(ReportError::SummaryTooLong(chars));
        }
        let chars = self.description.chars().count();
        if chars > MAX_DESCRIPTION_CHARS {
            return Err(ReportError::DescriptionTooLong(chars));
        }
        self.contact = match self.contact.map(|c| c.trim().to_owned()) {
            Some(c) if c.is_empty() => None,
            Some(c) if !is_email(&c) => return Err(ReportError::BadContact(c)),
            other => other,
        };
        if self.occurred_at > Utc::now() + chrono::Duration::seconds(CLOCK_SLACK_SECS) {
            return Err(ReportError::InTheFuture(self.occurred_at));
        }
        self.call_ids = self
            .call_ids
            .iter()
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty())
            .collect();
        let mut seen = std::collections::HashSet::new();
        self.call_ids.retain(|id| seen.insert(id.clone()));
        if self.call_ids.len() > MAX_CALL_IDS {
            return Err(ReportError::TooManyCalls(self.call_ids.len()));
        }
        if let Some(bad) = self
            .call_ids
            .iter()
            .find(|id| id.len() > 128 || id.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(ReportError::BadCallId(bad.clone()));
        }
        Ok(self)
    }
}

/// A plausible address: one `@` with text on both sides, a dot in the domain, no spaces, at most
/// 254 characters. Whether it receives mail only support can find out.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    text.len() <= 254
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl Coded for ReportError {
    fn code(&self) -> ErrorCode {
        ErrorCode::ReportInvalid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_is_one_trimmed_line() {
        let report = Report::new("  audio\n dropped  ").normalized().unwrap();
        assert_eq!(report.summary, "audio dropped");
        assert_eq!(
            Report::new(" \n").normalized(),
            Err(ReportError::EmptySummary)
        );
        assert!(matches!(
            Report::new("x".repeat(201)).normalized(),
            Err(ReportError::SummaryTooLong(201))
        ));
    }

    #[test]
    fn contact_time_and_call_ids_are_checked() {
        let with_contact = |c: &str| {
            Report {
                contact: Some(c.to_owned()),
                ..Report::new("audio")
            }
            .normalized()
        };
        assert_eq!(
            with_contact(" ana@example.com ")
                .unwrap()
                .contact
                .as_deref(),
            Some("ana@example.com")
        );
        assert_eq!(with_contact("  ").unwrap().contact, None);
        for bad in [
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a na@example.com",
            "a@b@c.d",
        ] {
            assert!(
                matches!(with_contact(bad), Err(ReportError::BadContact(_))),
                "{bad}"
            );
        }
        let tomorrow = Report {
            occurred_at: Utc::now() + chrono::Duration::days(1),
            ..Report::new("audio")
        };
        assert!(matches!(
            tomorrow.normalized(),
            Err(ReportError::InTheFuture(_))
        ));
        let calls = |ids: Vec<String>| {
            Report {
                call_ids: ids,
                ..Report::new("audio")
            }
            .normalized()
        };
        assert_eq!(
            calls(vec![" a ".into(), "a".into(), "".into(), "b".into()])
                .unwrap()
                .call_ids,
            ["a", "b"]
        );
        assert!(matches!(
            calls(vec!["has space".into()]),
            Err(ReportError::BadCallId(_))
        ));
        assert!(matches!(
            calls((0..21).map(|i| i.to_string()).collect()),
            Err(ReportError::TooManyCalls(21))
        ));
    }

    #[test]
    fn categories_parse_from_cli_spelling() {
        assert_eq!(
            "screen-share".parse::<Category>(),
            Ok(Category::ScreenShare)
        );
        assert!("loud".parse::<Category>().is_err());
    }
}
