//! Whether a detection may ask the user: the limits that keep prompts rare.
//!
//! A prompt is raised only when detection is on, the app is not muted ("Don't ask again for this
//! app"), the trouble is recent (an hour at most: a report is worth most close to the incident),
//! the cooldown since the last prompt has passed and the day's cap is not reached. Of the
//! detections of one pass at most one prompts: the most serious, and the others of the same call
//! go with it. *Not now* needs nothing more: the prompt it answers already counted.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::Detection;
use callsupport_config::DetectionConfig;

/// Trouble older than this when noticed is listed but not prompted for.
pub const STALE: Duration = Duration::hours(1);

/// What became of a detection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// The user was asked.
    Prompted,
    /// Asked about together with another detection of the same call.
    WithPrompt,
    /// Detection prompts are off (`detection.enabled = false`).
    Off,
    /// The user asked never to be asked about this app again.
    Muted,
    /// It happened over an hour before it was noticed.
    Stale,
    /// Asked too recently; the next prompt may come at `until`.
    Cooldown {
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        until: DateTime<Utc>,
    },
    /// The day's prompts were all used.
    DailyCap,
}

/// What the prompter remembers between runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptState {
    pub last_prompt_at: Option<DateTime<Utc>>,
    /// The local day `prompts_today` counts.
    pub day: Option<NaiveDate>,
    pub prompts_today: u32,
    /// Sources (apps) never to ask about again.
    pub muted: BTreeSet<String>,
    /// When the end-of-call survey was last offered.
    #[serde(default)]
    pub last_survey_at: Option<DateTime<Utc>>,
}

pub struct Prompter {
    enabled: bool,
    cooldown: Duration,
    daily_cap: u32,
    pub state: PromptState,
}

impl Prompter {
    pub fn new(config: &DetectionConfig, state: PromptState) -> Prompter {
        Prompter {
            enabled: config.enabled,
            cooldown: Duration::minutes(i64::from(config.cooldown_minutes)),
            daily_cap: config.daily_cap,
            state,
        }
    }

    /// Decides for each of one pass's detections, most serious first; `today` is the user's
    /// local date at `now`.
    pub fn decide(
        &mut self,
        detections: &mut [Detection],
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Vec<Decision> {
        detections.sort_by(|a, b| a.rule.cmp(&b.rule));
        if self.state.day != Some(today) {
            self.state.day = Some(today);
            self.state.prompts_today = 0;
        }
        let mut prompted_call: Option<Option<String>> = None;
        detections
            .iter()
            .map(|d| {
                if !self.enabled {
                    return Decision::Off;
                }
                if self.state.muted.contains(&d.source_id) {
                    return Decision::Muted;
                }
                if d.occurred_at.is_some_and(|at| now - at > STALE) {
                    return Decision::Stale;
                }
                if let Some(call) = &prompted_call {
                    return if d.call_id.is_some() && *call == d.call_id {
                        Decision::WithPrompt
                    } else {
                        Decision::Cooldown {
                            until: now + self.cooldown,
                        }
                    };
                }
                if let Some(last) = self.state.last_prompt_at
                    && now - last < self.cooldown
                {
                    return Decision::Cooldown {
                        until: last + self.cooldown,
                    };
                }
                if self.state.prompts_today >= self.daily_cap {
                    return Decision::DailyCap;
                }
                self.state.last_prompt_at = Some(now);
                self.state.prompts_today += 1;
                prompted_call = Some(d.call_id.clone());
                Decision::Prompted
            })
            .collect()
    }

    /// *Don't ask again for this app*.
    pub fn mute(&mut self, source_id: &str) {
        self.state.muted.insert(source_id.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Rule;

    fn detection(rule: Rule, call: &str, at: DateTime<Utc>) -> Detection {
        Detection {
            id: String::new(),
            at,
            occurred_at: Some(at),
            rule,
            source_id: "app".into(),
            call_id: Some(call.into()),
            summary: String::new(),
            details: Vec::new(),
        }
    }

    #[test]
    fn one_prompt_per_cooldown_and_never_past_the_daily_cap() {
        let config = DetectionConfig {
            cooldown_minutes: 30,
            daily_cap: 2,
            ..DetectionConfig::default()
        };
        let mut prompter = Prompter::new(&config, PromptState::default());
        let t0: DateTime<Utc> = "2026-11-25T09:00:00Z".parse().unwrap();
        let day = t0.date_naive();
        let mut pass = vec![
            detection(Rule::FailedOperation, "c1", t0),
            detection(Rule::UnexpectedEnd, "c1", t0),
            detection(Rule::UnexpectedEnd, "c2", t0),
        ];
        let decisions = prompter.decide(&mut pass, t0, day);
        assert_eq!(pass[0].rule, Rule::UnexpectedEnd, "most serious first");
        assert_eq!(decisions[0], Decision::Prompted);
        assert_eq!(
            decisions[1..],
            [
                Decision::Cooldown {
                    until: t0 + Duration::minutes(30)
                },
                Decision::WithPrompt
            ]
        );

        let t1 = t0 + Duration::minutes(29);
        let mut later = vec![detection(Rule::JoinFailed, "c3", t1)];
        assert_eq!(
            prompter.decide(&mut later, t1, day),
            [Decision::Cooldown {
                until: t0 + Duration::minutes(30)
            }]
        );
        let t2 = t0 + Duration::minutes(31);
        let mut later = vec![detection(Rule::JoinFailed, "c4", t2)];
        assert_eq!(prompter.decide(&mut later, t2, day), [Decision::Prompted]);
        let t3 = t2 + Duration::minutes(31);
        let mut later = vec![detection(Rule::JoinFailed, "c5", t3)];
        assert_eq!(prompter.decide(&mut later, t3, day), [Decision::DailyCap]);
        // A new day, a new allowance.
        let t4 = t3 + Duration::hours(24);
        let mut later = vec![detection(Rule::JoinFailed, "c6", t4)];
        assert_eq!(
            prompter.decide(&mut later, t4, t4.date_naive()),
            [Decision::Prompted]
        );
    }

    #[test]
    fn muted_stale_and_off_never_prompt() {
        let t0: DateTime<Utc> = "2026-11-25T09:00:00Z".parse().unwrap();
        let mut prompter = Prompter::new(&DetectionConfig::default(), PromptState::default());
        prompter.mute("app");
        let mut pass = vec![detection(Rule::JoinFailed, "c1", t0)];
        assert_eq!(
            prompter.decide(&mut pass, t0, t0.date_naive()),
            [Decision::Muted]
        );
        prompter.state.muted.clear();
        let mut old = vec![detection(Rule::JoinFailed, "c1", t0 - Duration::hours(2))];
        assert_eq!(
            prompter.decide(&mut old, t0, t0.date_naive()),
            [Decision::Stale]
        );
        let off = DetectionConfig {
            enabled: false,
            ..DetectionConfig::default()
        };
        let mut prompter = Prompter::new(&off, PromptState::default());
        assert_eq!(
            prompter.decide(&mut pass, t0, t0.date_naive()),
            [Decision::Off]
        );
        assert_eq!(prompter.state.prompts_today, 0);
    }
}
