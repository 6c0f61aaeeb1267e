//! What the user tells support: the `report` object of a manifest and of the ticket request.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The kinds of problem a user can choose, after the SDK survey's issue tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Report {
    pub summary: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub category: Category,
    #[ts(type = "string")]
    pub occurred_at: DateTime<Utc>,
    #[serde(default)]
    pub call_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
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
}

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
        Ok(self)
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
    fn categories_parse_from_cli_spelling() {
        assert_eq!(
            "screen-share".parse::<Category>(),
            Ok(Category::ScreenShare)
        );
        assert!("loud".parse::<Category>().is_err());
    }
}
