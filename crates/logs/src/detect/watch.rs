//! The watcher: each pass reads what was appended to the call-operations logs (and to the text
//! logs that have patterns) since the last pass, lets the detector judge what is over, decides on
//! prompts and writes it all down. The tray agent runs a pass every two seconds and shows the
//! prompts.
//!
//! On the very first run the logs already there are taken as read: what happened before Call
//! Support was installed is not news. A log that appears later is read from its start.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::engine::{Detector, Rules};
use super::journal::{Detected, Journal, SavedState};
use super::prompt::{Decision, Prompter};
use crate::sources::{resolve, walk};
use crate::tail::Tail;
use callsupport_config::{Config, SourceKind, SurveyConfig};

/// Most logs followed; a folder with more is a configuration mistake, not a calling app.
const MAX_FILES: usize = 2_000;

pub struct Watcher {
    sources: Vec<(crate::sources::ResolvedSource, SourceKind)>,
    detector: Detector,
    prompter: Prompter,
    positions: BTreeMap<PathBuf, Tail>,
    journal: Journal,
    /// Logs already there on the first run are taken as read.
    first_run: bool,
    survey: SurveyConfig,
    /// What is on disk, so an unchanged state is not written again.
    saved: SavedState,
}

/// What one pass found.
#[derive(Debug, Default)]
pub struct Pass {
    /// Every detection with its decision, most serious first.
    pub detected: Vec<Detected>,
    /// Whether the user is in a call now, as the logs tell.
    pub in_call: bool,
    /// A call that just ended to ask the end-of-call survey about, when one is due.
    pub survey: Option<String>,
}

impl Pass {
    /// The detection to prompt for, with the others of its call, if one may prompt.
    pub fn prompt(&self) -> Option<(&Detected, Vec<&Detected>)> {
        let first = self
            .detected
            .iter()
            .find(|d| d.decision == Decision::Prompted)?;
        let with = self
            .detected
            .iter()
            .filter(|d| d.decision == Decision::WithPrompt)
            .collect();
        Some((first, with))
    }
}

impl Watcher {
    /// A watcher over `config`'s call-operations sources and the text sources its patterns name,
    /// keeping its state under `data_dir`.
    pub fn new(config: &Config, data_dir: &Path) -> Watcher {
        let rules = Rules::new(&config.detection);
        let sources = config
            .sources
            .iter()
            .filter(|s| {
                s.kind == SourceKind::CallOperations
                    || (s.kind == SourceKind::Text && rules.watches_text(&s.id))
            })
            .filter_map(|s| Some((resolve(s).ok()?, s.kind)))
            .collect();
        let journal = Journal::new(data_dir);
        let saved = journal.load_state();
        let first_run = saved.is_none();
        let saved = saved.unwrap_or_default();
        Watcher {
            sources,
            detector: Detector::new(rules),
            prompter: Prompter::new(&config.detection, saved.prompts.clone()),
            positions: saved.positions.clone(),
            journal,
            first_run,
            survey: config.survey.clone(),
            saved,
        }
    }

    /// Reads what is new, judges what is over at `now` (`today` is the local date), decides on
    /// prompts and writes the detections and the state down.
    pub fn pass(&mut self, now: DateTime<Utc>, today: NaiveDate) -> Pass {
        let mut seen = HashSet::new();
        for (source, kind) in &self.sources {
            if !source.root.is_dir() {
                continue;
            }
            let walked = walk(source, &source.root);
            for file in walked.files.iter().take(MAX_FILES) {
                seen.insert(file.path.clone());
                let fresh = !self.positions.contains_key(&file.path);
                let tail = self.positions.entry(file.path.clone()).or_default();
                let detector = &mut self.detector;
                let id = source.config.id.as_str();
                let read = if fresh && self.first_run {
                    tail.read(&file.path, |_| {})
                } else if *kind == SourceKind::CallOperations {
                    tail.read(&file.path, |line| detector.record(id, line, now))
                } else {
                    tail.read(&file.path, |line| {
                        detector.text(id, &String::from_utf8_lossy(line), now)
                    })
                };
                if let Err(err) = read {
                    log::debug!("detection: cannot read {}: {err}", file.path.display());
                }
            }
        }
        // Logs that are gone are forgotten.
        self.positions.retain(|path, _| seen.contains(path));
        self.first_run = false;

        let mut found = self.detector.tick(now);
        let decisions = self.prompter.decide(&mut found, now, today);
        let detected: Vec<Detected> = found
            .into_iter()
            .zip(decisions)
            .map(|(detection, decision)| Detected {
                detection,
                decision,
            })
            .collect();
        for one in &detected {
            log::info!(
                "detected {} in call {} of {}: {:?}",
                one.detection.rule.key(),
                one.detection.call_id.as_deref().unwrap_or("-"),
                one.detection.source_id,
                one.decision
            );
        }
        if let Err(err) = self.journal.append(&detected) {
            log::warn!("detection: cannot write the list of detections: {err}");
        }
        let in_call = self.detector.in_call(now);
        let survey = self.survey_due(&detected, in_call, now);
        self.save();
        Pass {
            detected,
            in_call,
            survey,
        }
    }

    /// The call that ended to ask about, if the survey is on, the user joined it, no prompt of
    /// this pass is about it, no other call goes on, the last survey is long enough ago and the
    /// sample picks it.
    fn survey_due(
        &mut self,
        detected: &[Detected],
        in_call: bool,
        now: DateTime<Utc>,
    ) -> Option<String> {
        let ended = self.detector.take_ended();
        if !self.survey.enabled || in_call {
            return None;
        }
        let last = self.prompter.state.last_survey_at;
        if last
            .is_some_and(|at| now - at < Duration::hours(i64::from(self.survey.min_hours_between)))
        {
            return None;
        }
        let prompted = |call: &str| {
            detected.iter().any(|d| {
                d.detection.call_id.as_deref() == Some(call)
                    && matches!(d.decision, Decision::Prompted | Decision::WithPrompt)
            })
        };
        let call = ended.iter().rev().find(|e| {
            e.joined && !prompted(&e.call_id) && !self.prompter.state.muted.contains(&e.source_id)
        })?;
        if fastrand::u8(0..100) >= self.survey.sample_percent {
            return None;
        }
        self.prompter.state.last_survey_at = Some(now);
        log::info!("survey: asking about call {}", call.call_id);
        Some(call.call_id.clone())
    }

    /// *Don't ask again for this app*: no prompt for `source_id` from now on.
    pub fn mute(&mut self, source_id: &str) {
        self.prompter.mute(source_id);
        self.save();
    }

    fn save(&mut self) {
        let state = SavedState {
            positions: self.positions.clone(),
            prompts: self.prompter.state.clone(),
        };
        if state == self.saved {
            return;
        }
        match self.journal.save_state(&state) {
            Ok(()) => self.saved = state,
            Err(err) => log::warn!("detection: cannot save its state: {err}"),
        }
    }
}
