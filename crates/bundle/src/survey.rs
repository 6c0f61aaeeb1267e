//! The end-of-call survey, on the calling SDK's model: an overall rating (required) and optional
//! audio, video and screen-share ratings, each a score on a scale with a low-score threshold and
//! the issue tags of its category, plus a comment.
//!
//! A survey travels in a report's `report.survey` when the user attaches logs to it; the tags use
//! the SDK's names (`CallCannotJoin`, `NoRemoteAudio`, …) so support can compare them with the
//! `ACSCallSurvey` table. [`Survey::checked`] says in words what is wrong with one.

use callsupport_error::{Coded, ErrorCode};
use serde::{Deserialize, Serialize};

/// A score's scale: `lower_bound..=upper_bound`, and at or below `low_score_threshold` a score
/// counts as bad. The SDK's default is 1 to 5 with 2 as the threshold; bounds lie within 0 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Scale {
    pub lower_bound: u8,
    pub upper_bound: u8,
    pub low_score_threshold: u8,
}

impl Default for Scale {
    fn default() -> Self {
        Scale {
            lower_bound: 1,
            upper_bound: 5,
            low_score_threshold: 2,
        }
    }
}

impl Scale {
    /// Whether the scale itself is sound; the error says what to change.
    pub fn check(&self) -> Result<(), ScaleError> {
        let (lower, upper) = (self.lower_bound, self.upper_bound);
        if upper > 100 {
            return Err(ScaleError::OverHundred(upper));
        }
        if lower >= upper {
            return Err(ScaleError::Inverted { lower, upper });
        }
        if !(lower..=upper).contains(&self.low_score_threshold) {
            return Err(ScaleError::ThresholdOutside {
                threshold: self.low_score_threshold,
                lower,
                upper,
            });
        }
        Ok(())
    }
}

/// Why a scale cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScaleError {
    #[error("the upper bound {0} is over 100; bounds lie within 0 to 100")]
    OverHundred(u8),
    #[error("the lower bound {lower} must be below the upper bound {upper}")]
    Inverted { lower: u8, upper: u8 },
    #[error("the low-score threshold {threshold} lies outside {lower} to {upper}")]
    ThresholdOutside { threshold: u8, lower: u8, upper: u8 },
}

/// What went wrong with the call as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CallIssue {
    CallCannotJoin,
    CallCannotInvite,
    HadToRejoin,
    CallEndedUnexpectedly,
    OtherIssues,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AudioIssue {
    NoLocalAudio,
    NoRemoteAudio,
    Echo,
    AudioNoise,
    LowVolume,
    AudioStoppedUnexpectedly,
    DistortedSpeech,
    AudioInterruption,
    OtherIssues,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum VideoIssue {
    NoVideoReceived,
    NoVideoSent,
    LowQuality,
    Freezes,
    StoppedUnexpectedly,
    DarkVideoReceived,
    AudioVideoOutOfSync,
    OtherIssues,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ScreenshareIssue {
    NoContentLocal,
    NoContentRemote,
    CannotPresent,
    LowQuality,
    Freezes,
    StoppedUnexpectedly,
    LargeDelay,
    OtherIssues,
}

/// One rating: a score on its scale and the issues the user ticked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, bound(deserialize = "I: Deserialize<'de>"))]
pub struct Rating<I> {
    pub score: u8,
    #[serde(default)]
    pub scale: Scale,
    #[serde(default)]
    pub issues: Vec<I>,
}

/// The survey as the user answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Survey {
    /// The call it is about, when the logs named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    /// Required: the call as a whole (absent, it is refused in words, not by the parser).
    #[serde(default)]
    pub overall: Option<Rating<CallIssue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<Rating<AudioIssue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<Rating<VideoIssue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screenshare: Option<Rating<ScreenshareIssue>>,
    #[serde(default)]
    pub comment: String,
}

/// Longest survey comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 2_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SurveyError {
    #[error("rate the call overall ({0}); the other ratings are optional")]
    NoOverall(String),
    #[error("the {what} score {score} is outside {lower} to {upper}")]
    OutOfBounds {
        what: &'static str,
        score: u8,
        lower: u8,
        upper: u8,
    },
    #[error("the {what} scale is not usable: {error}")]
    BadScale {
        what: &'static str,
        error: ScaleError,
    },
    #[error("the comment is {0} characters long; keep it under {MAX_COMMENT_CHARS}")]
    CommentTooLong(usize),
}

impl<I: PartialEq> Rating<I> {
    fn check(&self, what: &'static str) -> Result<(), SurveyError> {
        self.scale
            .check()
            .map_err(|error| SurveyError::BadScale { what, error })?;
        if !(self.scale.lower_bound..=self.scale.upper_bound).contains(&self.score) {
            return Err(SurveyError::OutOfBounds {
                what,
                score: self.score,
                lower: self.scale.lower_bound,
                upper: self.scale.upper_bound,
            });
        }
        Ok(())
    }

    /// At or below the threshold, or with an issue ticked.
    pub fn is_bad(&self) -> bool {
        self.score <= self.scale.low_score_threshold || !self.issues.is_empty()
    }
}

impl Survey {
    /// The survey with its comment trimmed and duplicate tags dropped, or what is wrong with it.
    pub fn checked(mut self, scale: Scale) -> Result<Survey, SurveyError> {
        let Some(overall) = &self.overall else {
            return Err(SurveyError::NoOverall(format!(
                "{} to {}",
                scale.lower_bound, scale.upper_bound
            )));
        };
        overall.check("overall")?;
        if let Some(r) = &self.audio {
            r.check("audio")?;
        }
        if let Some(r) = &self.video {
            r.check("video")?;
        }
        if let Some(r) = &self.screenshare {
            r.check("screen share")?;
        }
        self.comment = self.comment.trim().to_owned();
        let chars = self.comment.chars().count();
        if chars > MAX_COMMENT_CHARS {
            return Err(SurveyError::CommentTooLong(chars));
        }
        dedup(self.overall.as_mut().map(|r| &mut r.issues));
        dedup(self.audio.as_mut().map(|r| &mut r.issues));
        dedup(self.video.as_mut().map(|r| &mut r.issues));
        dedup(self.screenshare.as_mut().map(|r| &mut r.issues));
        Ok(self)
    }

    /// Whether anything was wrong: a low score or a ticked issue in any rating. Then the survey
    /// offers to attach logs.
    pub fn something_wrong(&self) -> bool {
        self.overall.as_ref().is_some_and(Rating::is_bad)
            || self.audio.as_ref().is_some_and(Rating::is_bad)
            || self.video.as_ref().is_some_and(Rating::is_bad)
            || self.screenshare.as_ref().is_some_and(Rating::is_bad)
    }
}

fn dedup<I: PartialEq>(issues: Option<&mut Vec<I>>) {
    if let Some(issues) = issues {
        let mut kept: Vec<I> = Vec::with_capacity(issues.len());
        for issue in issues.drain(..) {
            if !kept.contains(&issue) {
                kept.push(issue);
            }
        }
        *issues = kept;
    }
}

impl Coded for SurveyError {
    fn code(&self) -> ErrorCode {
        ErrorCode::ReportInvalid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rating<I>(score: u8, issues: Vec<I>) -> Option<Rating<I>> {
        Some(Rating {
            score,
            scale: Scale::default(),
            issues,
        })
    }

    fn survey() -> Survey {
        Survey {
            call_id: Some("c1".into()),
            overall: rating(4, vec![]),
            audio: None,
            video: None,
            screenshare: None,
            comment: "  fine  ".into(),
        }
    }

    #[test]
    fn overall_is_required_and_scores_stay_within_their_scale() {
        let err = Survey {
            overall: None,
            ..survey()
        }
        .checked(Scale::default())
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "rate the call overall (1 to 5); the other ratings are optional"
        );
        let err = Survey {
            audio: rating(7, vec![AudioIssue::Echo]),
            ..survey()
        }
        .checked(Scale::default())
        .unwrap_err();
        assert_eq!(err.to_string(), "the audio score 7 is outside 1 to 5");
        let bad_scale = Survey {
            video: Some(Rating {
                score: 50,
                scale: Scale {
                    lower_bound: 0,
                    upper_bound: 101,
                    low_score_threshold: 30,
                },
                issues: vec![],
            }),
            ..survey()
        };
        assert!(
            bad_scale
                .checked(Scale::default())
                .unwrap_err()
                .to_string()
                .contains("over 100")
        );
        let checked = survey().checked(Scale::default()).unwrap();
        assert_eq!(checked.comment, "fine");
        assert!(!checked.something_wrong());
    }

    #[test]
    fn a_low_score_or_a_tag_is_something_wrong_and_tags_use_the_sdk_names() {
        assert!(
            Survey {
                overall: rating(2, vec![]),
                ..survey()
            }
            .something_wrong()
        );
        let tagged = Survey {
            screenshare: rating(
                5,
                vec![ScreenshareIssue::Freezes, ScreenshareIssue::Freezes],
            ),
            ..survey()
        }
        .checked(Scale::default())
        .unwrap();
        assert!(tagged.something_wrong());
        assert_eq!(tagged.screenshare.as_ref().unwrap().issues.len(), 1);
        let json = serde_json::to_value(&tagged).unwrap();
        assert_eq!(json["screenshare"]["issues"][0], "Freezes");
        let parsed: Result<Survey, _> = serde_json::from_value(serde_json::json!({
            "overall": {"score": 3, "issues": ["NotATag"]}
        }));
        assert!(parsed.is_err());
    }
}
