//! Call ids in call-operations logs, read incrementally as the file grows.
//!
//! A [`CallTracker`] remembers how far it has read a JSON-lines file and which `CallId`s it saw,
//! with each call's first and last record time and how many of its operations failed
//! ([`CallSeen`]): enough for the report screen to offer "one of your recent calls".
//! Each update reads only the lines appended since ([`crate::tail`]); a file that shrank or was
//! replaced is read again from the start, and its calls counted afresh.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::tail::{Reading, Tail};

/// Most call ids kept for one file; a real log holds a few dozen calls.
const MAX_CALLS: usize = 1_000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallTracker {
    tail: Tail,
    calls: BTreeMap<String, CallSeen>,
}

/// One call as the records of call-operations logs show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CallSeen {
    pub call_id: String,
    /// The earliest record time (`CallClientTimeStamp`, else `time` or `TimeGenerated`).
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub first_at: Option<DateTime<Utc>>,
    /// The latest record time, plus that operation's `DurationMs`.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub last_at: Option<DateTime<Utc>>,
    pub operations: u32,
    /// Operations whose `ResultType` is not `Succeeded` or whose `ResultSignature` is 400 or more.
    pub failures: u32,
}

impl CallSeen {
    /// A call known only by its id, no records counted yet.
    pub fn new(call_id: String) -> CallSeen {
        CallSeen {
            call_id,
            first_at: None,
            last_at: None,
            operations: 0,
            failures: 0,
        }
    }

    /// Adds what another file says about the same call.
    pub fn merge(&mut self, other: &CallSeen) {
        self.first_at = min_some(self.first_at, other.first_at);
        self.last_at = self.last_at.max(other.last_at);
        self.operations += other.operations;
        self.failures += other.failures;
    }

    fn record(&mut self, record: &Record) {
        self.operations += 1;
        self.failures += u32::from(record.failed);
        self.first_at = min_some(self.first_at, record.at);
        let end = record
            .at
            .map(|at| at + chrono::Duration::milliseconds(record.duration_ms));
        self.last_at = self.last_at.max(end);
    }
}

fn min_some<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl CallTracker {
    /// The call ids seen so far, in order.
    pub fn call_ids(&self) -> Vec<String> {
        self.calls.keys().cloned().collect()
    }

    /// The calls seen so far, by call id.
    pub fn calls(&self) -> Vec<CallSeen> {
        self.calls.values().cloned().collect()
    }

    /// Reads what was appended to `path` since the last update. Returns whether new ids appeared.
    pub fn update(&mut self, path: &Path) -> std::io::Result<bool> {
        self.update_in_chunks(path, crate::tail::MAX_READ)
    }

    fn update_in_chunks(&mut self, path: &Path, max_read: u64) -> std::io::Result<bool> {
        let before = self.calls.len();
        let mut records = Vec::new();
        let reading = self.tail.read_in_chunks(path, max_read, |line| {
            records.extend(Record::parse(line));
        })?;
        if reading == Reading::Restarted {
            self.calls.clear();
        }
        for record in records {
            if let Some(seen) = self.calls.get_mut(&record.call_id) {
                seen.record(&record);
            } else if self.calls.len() < MAX_CALLS {
                let mut seen = CallSeen::new(record.call_id.clone());
                seen.record(&record);
                self.calls.insert(record.call_id, seen);
            }
        }
        Ok(self.calls.len() > before || (reading == Reading::Restarted && !self.calls.is_empty()))
    }
}

/// What one call-operations record says about its call.
struct Record {
    call_id: String,
    at: Option<DateTime<Utc>>,
    duration_ms: i64,
    failed: bool,
}

impl Record {
    /// Reads a record as [`crate::calls::record`] does; a line without a `CallId` is no record
    /// of a call.
    fn parse(line: &[u8]) -> Option<Record> {
        let fields = crate::calls::record::Fields::parse(line).ok()?;
        let record = fields.record().ok()?;
        Some(Record {
            call_id: record.call_id.to_owned(),
            at: record.at,
            duration_ms: record.duration_ms as i64,
            failed: record.failed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_appended_complete_lines_only_and_restarts_on_replacement() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ops.jsonl");
        std::fs::write(
            &path,
            "{\"CallId\":\"a\"}\n{\"properties\":{\"CallId\":\"b\"}}\nnot json\n{\"CallId\":\"c",
        )
        .unwrap();
        let mut tracker = CallTracker::default();
        assert!(tracker.update(&path).unwrap());
        assert_eq!(tracker.call_ids(), ["a", "b"]);
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        writeln!(file, "\"}}").unwrap();
        assert!(tracker.update(&path).unwrap());
        assert_eq!(tracker.call_ids(), ["a", "b", "c"]);
        assert!(!tracker.update(&path).unwrap(), "nothing new");

        // Rotation: a new file under the same name starts over.
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, "{\"CallId\":\"z\"}\n").unwrap();
        tracker.update(&path).unwrap();
        assert_eq!(tracker.call_ids(), ["z"]);

        // Rewritten in place (same inode), longer than what was read: its first bytes differ.
        std::fs::write(&path, "{\"CallId\":\"y\"}\n{\"CallId\":\"x\"}\n").unwrap();
        tracker.update(&path).unwrap();
        assert_eq!(tracker.call_ids(), ["x", "y"]);
    }

    #[test]
    fn reads_everything_appended_in_one_update_and_passes_over_chunks_without_a_line_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ops.jsonl");
        let mut text = "x".repeat(40);
        text.push('\n');
        for id in ["p", "q", "r"] {
            text.push_str(&format!("{{\"CallId\":\"{id}\"}}\n"));
        }
        std::fs::write(&path, &text).unwrap();
        let mut tracker = CallTracker::default();
        assert!(tracker.update_in_chunks(&path, 16).unwrap());
        assert_eq!(tracker.call_ids(), ["p", "q", "r"]);
        assert_eq!(tracker.tail.offset, text.len() as u64);
    }

    #[test]
    fn calls_keep_their_times_and_failures() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ops.jsonl");
        let lines = [
            r#"{"CallClientTimeStamp":"2024-01-09T15:07:56.066Z","OperationName":"Join","CallId":"c1","DurationMs":"577","ResultType":"Succeeded","ResultSignature":"200"}"#,
            r#"{"CallClientTimeStamp":"2024-01-09T15:09:00Z","OperationName":"Mute","CallId":"c1","DurationMs":1000,"ResultType":"Failed","ResultSignature":"500"}"#,
            r#"{"time":"2024-01-09T16:00:00Z","properties":{"CallId":"c2","ResultType":"Succeeded","ResultSignature":403}}"#,
            r#"{"CallId":"c3"}"#,
        ];
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let mut tracker = CallTracker::default();
        tracker.update(&path).unwrap();
        let calls = tracker.calls();
        let at = |s: &str| Some(s.parse::<DateTime<Utc>>().unwrap());
        assert_eq!(calls[0].call_id, "c1");
        assert_eq!(calls[0].first_at, at("2024-01-09T15:07:56.066Z"));
        assert_eq!(calls[0].last_at, at("2024-01-09T15:09:01Z"));
        assert_eq!((calls[0].operations, calls[0].failures), (2, 1));
        assert_eq!(calls[1].first_at, at("2024-01-09T16:00:00Z"));
        assert_eq!(calls[1].failures, 1, "a signature of 403 is a failure");
        assert_eq!((calls[2].first_at, calls[2].failures), (None, 0));

        let mut merged = calls[0].clone();
        merged.merge(&calls[1]);
        assert_eq!(merged.first_at, calls[0].first_at);
        assert_eq!(merged.last_at, at("2024-01-09T16:00:00Z"));
        assert_eq!(merged.operations, 3);
    }
}
