//! The detector: every call followed through its call-operations records, judged once it is over;
//! text-log lines matched against the configured patterns.
//!
//! A call is over when it was hung up (and a few seconds passed for the records that follow a
//! hang-up), when another call of the same app began after its last record, when every join
//! failed and a minute passed, or when no record came for `detection.call_end_minutes`. Until
//! then nothing about it is said, and neither is a matching text line: the user is in a call.
//! Each rule fires at most once per call; a call ended long ago (read after a restart) is judged
//! like any other, and the prompter decides whether it is still worth asking about.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use chrono::{DateTime, Duration, Utc};
use regex::Regex;

use super::{Detection, Rule};
use crate::calls::record::Fields;
use callsupport_config::DetectionConfig;

/// Records after a hang-up are waited for this long before the call is judged.
const AFTER_HANG_UP: Duration = Duration::seconds(5);
/// A call none of whose joins succeeded is over after this long without a record.
const AFTER_FAILED_JOIN: Duration = Duration::seconds(60);
/// Most calls followed at once; the least recently heard of is judged first when more come.
const MAX_OPEN_CALLS: usize = 200;
/// Call ids already judged, remembered so their late records start nothing new.
const MAX_JUDGED: usize = 1_000;
/// Failed operations listed in a detection's details.
const MAX_DETAILS: usize = 10;
/// Longest text line quoted in a detection.
const MAX_QUOTE: usize = 300;
/// The same pattern fires again only after this long.
const PATTERN_QUIET: Duration = Duration::minutes(10);

/// What the detector needs of the configuration, with the patterns compiled.
pub struct Rules {
    failed_operation: bool,
    failures_per_call: u32,
    unexpected_end: bool,
    join_failed: bool,
    call_end: Duration,
    patterns: Vec<(String, Regex, String)>,
}

impl Rules {
    /// The configuration's rules; its patterns were checked when it was loaded.
    pub fn new(config: &DetectionConfig) -> Rules {
        Rules {
            failed_operation: config.failed_operation,
            failures_per_call: config.failures_per_call,
            unexpected_end: config.unexpected_end,
            join_failed: config.join_failed,
            call_end: Duration::minutes(i64::from(config.call_end_minutes)),
            patterns: config
                .patterns
                .iter()
                .filter_map(|p| {
                    Some((
                        p.source.clone(),
                        Regex::new(&p.pattern).ok()?,
                        p.name.clone(),
                    ))
                })
                .collect(),
        }
    }

    /// Whether any text line of `source_id` can match.
    pub fn watches_text(&self, source_id: &str) -> bool {
        self.patterns.iter().any(|(source, ..)| source == source_id)
    }
}

#[derive(Debug)]
struct CallState {
    source_id: String,
    /// The latest record time (plus its duration), or when the record was read if it had none.
    last_at: DateTime<Utc>,
    join_attempts: u32,
    joined: bool,
    hung_up: bool,
    /// A later call of the same app began: this one is over.
    superseded: bool,
    /// Failed operations, counted; the first [`MAX_DETAILS`] described.
    failed: usize,
    failures: Vec<String>,
}

/// A call that is over, judged or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub call_id: String,
    pub source_id: String,
    /// The user was in the call (a join succeeded, or the log began mid-call).
    pub joined: bool,
}

/// Follows calls and text lines; [`Detector::tick`] hands out what is over.
pub struct Detector {
    rules: Rules,
    calls: BTreeMap<String, CallState>,
    judged: VecDeque<String>,
    judged_set: BTreeSet<String>,
    /// Pattern detections waiting for the user to be out of any call.
    held: Vec<Detection>,
    /// Calls judged since [`Detector::take_ended`] last took them.
    ended: Vec<Ended>,
    pattern_last: BTreeMap<String, DateTime<Utc>>,
}

impl Detector {
    pub fn new(rules: Rules) -> Detector {
        Detector {
            rules,
            calls: BTreeMap::new(),
            judged: VecDeque::new(),
            judged_set: BTreeSet::new(),
            held: Vec::new(),
            ended: Vec::new(),
            pattern_last: BTreeMap::new(),
        }
    }

    /// One line of a call-operations log of `source_id`, read at `now`. Lines that are no record
    /// are passed over (the viewer counts them; here they say nothing).
    pub fn record(&mut self, source_id: &str, line: &[u8], now: DateTime<Utc>) {
        let Ok(fields) = Fields::parse(line) else {
            return;
        };
        let Ok(record) = fields.record() else {
            return;
        };
        if self.judged_set.contains(record.call_id) {
            return;
        }
        let at = record
            .at
            .map(|at| at + Duration::milliseconds(record.duration_ms.min(86_400_000) as i64))
            .unwrap_or(now);
        // A new call of this app: the app's earlier calls that went quiet before it are over.
        if !self.calls.contains_key(record.call_id) {
            let began = record.at.unwrap_or(now);
            for call in self.calls.values_mut() {
                if call.source_id == source_id && call.last_at <= began {
                    call.superseded = true;
                }
            }
            if self.calls.len() >= MAX_OPEN_CALLS {
                self.evict_quietest();
            }
        }
        let call = self
            .calls
            .entry(record.call_id.to_owned())
            .or_insert_with(|| CallState {
                source_id: source_id.to_owned(),
                last_at: at,
                join_attempts: 0,
                joined: false,
                hung_up: false,
                superseded: false,
                failed: 0,
                failures: Vec::new(),
            });
        call.last_at = call.last_at.max(at);
        let name = record.name.to_ascii_lowercase();
        let joining = name.starts_with("join") || name == "startcall" || name == "accept";
        if joining {
            call.join_attempts += 1;
            call.joined |= !record.failed;
        } else if !record.failed && call.join_attempts == 0 {
            // The log began mid-call: an operation that worked means the user was in it.
            call.joined = true;
        }
        if name == "hangup" || name == "hangupcall" || name == "leave" {
            call.hung_up = true;
        }
        if record.failed {
            call.failed += 1;
        }
        if record.failed && call.failures.len() < MAX_DETAILS {
            call.failures.push(
                format!(
                    "{} · {} {}",
                    if record.name.is_empty() {
                        "operation"
                    } else {
                        record.name
                    },
                    record.result_type,
                    record
                        .result_signature
                        .map(|s| s.to_string())
                        .unwrap_or_default()
                )
                .trim_end()
                .to_owned(),
            );
        }
    }

    /// One line of a text log of `source_id`, read at `now`.
    pub fn text(&mut self, source_id: &str, line: &str, now: DateTime<Utc>) {
        for (source, regex, name) in &self.rules.patterns {
            if source != source_id || !regex.is_match(line) {
                continue;
            }
            if self
                .pattern_last
                .get(name)
                .is_some_and(|last| now - *last < PATTERN_QUIET)
            {
                continue;
            }
            self.pattern_last.insert(name.clone(), now);
            let call_id = self
                .calls
                .iter()
                .max_by_key(|(_, c)| c.last_at)
                .map(|(id, _)| id.clone());
            let quote: String = line.chars().take(MAX_QUOTE).collect();
            self.held.push(Detection {
                id: uuid::Uuid::now_v7().to_string(),
                at: now,
                occurred_at: Some(now),
                rule: Rule::Pattern { name: name.clone() },
                source_id: source_id.to_owned(),
                call_id,
                summary: name.clone(),
                details: vec![quote],
            });
        }
    }

    /// Whether the user is in a call as far as the logs tell at `now`.
    pub fn in_call(&self, now: DateTime<Utc>) -> bool {
        self.calls.values().any(|c| !self.is_over(c, now))
    }

    /// Judges every call that is over at `now`, and, when no call goes on, hands out the held
    /// pattern detections too.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Vec<Detection> {
        let over: Vec<String> = self
            .calls
            .iter()
            .filter(|(_, c)| self.is_over(c, now))
            .map(|(id, _)| id.clone())
            .collect();
        let mut found = Vec::new();
        for id in over {
            if let Some(call) = self.calls.remove(&id) {
                self.ended.push(Ended {
                    call_id: id.clone(),
                    source_id: call.source_id.clone(),
                    joined: call.joined || call.join_attempts == 0,
                });
                found.extend(self.judge(&id, call, now));
                self.remember_judged(id);
            }
        }
        if self.calls.is_empty() {
            found.append(&mut self.held);
        }
        found
    }

    /// The calls that ended since the last time this was asked (for the end-of-call survey).
    pub fn take_ended(&mut self) -> Vec<Ended> {
        std::mem::take(&mut self.ended)
    }

    fn is_over(&self, call: &CallState, now: DateTime<Utc>) -> bool {
        let quiet = now - call.last_at;
        (call.hung_up && quiet >= AFTER_HANG_UP)
            || call.superseded
            || (call.join_attempts > 0 && !call.joined && quiet >= AFTER_FAILED_JOIN)
            || quiet >= self.rules.call_end
    }

    fn judge(&self, call_id: &str, call: CallState, now: DateTime<Utc>) -> Vec<Detection> {
        let rules = &self.rules;
        let detection = |rule: Rule, summary: String, details: Vec<String>| Detection {
            id: uuid::Uuid::now_v7().to_string(),
            at: now,
            occurred_at: Some(call.last_at),
            rule,
            source_id: call.source_id.clone(),
            call_id: Some(call_id.to_owned()),
            summary,
            details,
        };
        let failures = call.failures.clone();
        let mut found = Vec::new();
        if call.join_attempts > 0 && !call.joined {
            if rules.join_failed {
                found.push(detection(
                    Rule::JoinFailed,
                    "You could not join your last call".into(),
                    failures,
                ));
            }
            // Never in the call: its failures are the joins, said above.
            return found;
        }
        if rules.unexpected_end && !call.hung_up {
            found.push(detection(
                Rule::UnexpectedEnd,
                "Your last call ended unexpectedly".into(),
                Vec::new(),
            ));
        }
        let failed = call.failed;
        if rules.failures_per_call > 0 && failed >= rules.failures_per_call as usize {
            found.push(detection(
                Rule::RepeatedFailures,
                format!("Several things went wrong in your last call ({failed} failed operations)"),
                failures,
            ));
        } else if rules.failed_operation && failed > 0 {
            let what = call.failures[0]
                .split(" · ")
                .next()
                .unwrap_or("an operation");
            found.push(detection(
                Rule::FailedOperation,
                format!("Something went wrong in your last call ({what} failed)"),
                failures,
            ));
        }
        found
    }

    fn evict_quietest(&mut self) {
        if let Some(id) = self
            .calls
            .iter()
            .min_by_key(|(_, c)| c.last_at)
            .map(|(id, _)| id.clone())
        {
            self.calls.remove(&id);
            self.remember_judged(id);
        }
    }

    fn remember_judged(&mut self, id: String) {
        if self.judged_set.insert(id.clone()) {
            self.judged.push_back(id);
        }
        while self.judged.len() > MAX_JUDGED {
            if let Some(old) = self.judged.pop_front() {
                self.judged_set.remove(&old);
            }
        }
    }
}
