//! Calls as the call client operations logs show them: every call, its participants, each
//! operation with its time, duration and result, and the failures with their payloads.
//!
//! # Brief overview
//!
//! [`CallLog`] takes call-operations lines from any number of files ([`CallLog::read`]), one
//! line at a time ([`record`] reads one), and [`CallLog::finish`] turns them into [`Calls`]: the
//! calls by start time, each with its operations in time order. A line that is not a record is
//! counted, and the first [`MAX_PROBLEMS`] are kept with their file and line; nothing stops the
//! reading. [`from_bundle`] reads the call-operations files of a received bundle. [`kql`] writes
//! the Log Analytics queries that find the same call in Azure Monitor.
//!
//! Memory grows with the number of operations, not their size: names, types, results and
//! participants are shared, and only a failed operation keeps its payload and operation id.

pub mod kql;
pub mod record;

use callsupport_error::{Coded, ErrorCode};
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io::{self, BufRead, Read};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use callsupport_bundle::reader::Bundle;
use callsupport_config::SourceKind;
use record::{Fields, RecordError};

/// Lines that are not records, kept with where they are (the rest are only counted).
pub const MAX_PROBLEMS: usize = 50;
/// The longest line read as a record; anything longer is a problem, not a record.
pub const MAX_LINE: usize = 1 << 20;

/// One operation of a call.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Operation {
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub at: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub name: Arc<str>,
    /// `OperationType`: `client-api-request`, `client-event`, …
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub kind: Arc<str>,
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub participant_id: Option<Arc<str>>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub duration_ms: u64,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub result_type: Arc<str>,
    pub result_signature: Option<u16>,
    pub failed: bool,
    /// What a failed operation carried: its operation id and payload.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub failure: Option<Box<FailureDetail>>,
    /// Where the record is: the file's index in [`Calls::files`] and its line (from 1).
    pub file: u32,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub line: u64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FailureDetail {
    pub operation_id: String,
    /// The payload as JSON text, when there was one.
    pub payload: Option<String>,
}

/// One call: everything its records say.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Call {
    pub call_id: String,
    /// The first operation's time.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub start: Option<DateTime<Utc>>,
    /// The latest time an operation ended.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub end: Option<DateTime<Utc>>,
    pub participants: Vec<String>,
    pub sdk_versions: Vec<String>,
    /// In time order; operations without a time last, in the order read.
    pub operations: Vec<Operation>,
    pub failures: u32,
}

impl Call {
    pub fn failed_operations(&self) -> impl Iterator<Item = &Operation> {
        self.operations.iter().filter(|o| o.failed)
    }

    /// How long the call lasted, as far as its records tell.
    pub fn duration(&self) -> Option<chrono::Duration> {
        Some(self.end? - self.start?)
    }
}

/// A line that is not a record of a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LineProblem {
    pub file: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub line: u64,
    pub reason: String,
}

/// What the logs hold.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Calls {
    /// By start time; calls without any time last.
    pub calls: Vec<Call>,
    /// The files read, as their operations name them by index.
    pub files: Vec<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub records: u64,
    /// Lines that are JSON but not about a call (no `CallId`), such as other log categories.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub other_lines: u64,
    /// Records read a second time (same call, operation id, time and participant), such as one in
    /// a bundle and again in an Azure Monitor export: counted once.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub duplicates: u64,
    /// Lines that could not be read as a record at all.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub malformed: u64,
    /// The first [`MAX_PROBLEMS`] malformed lines, with where they are.
    pub problems: Vec<LineProblem>,
}

/// What one file held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSummary {
    pub records: u64,
    pub duplicates: u64,
    pub malformed: u64,
    /// Its first malformed line, when the problems kept reach it.
    pub first_problem: Option<LineProblem>,
}

/// Gathers records into calls; see the module documentation.
#[derive(Default)]
pub struct CallLog {
    calls: HashMap<String, Building>,
    strings: HashMap<Box<str>, Arc<str>>,
    /// A hash of each record with an operation id, to count a record read twice once.
    seen: HashSet<u64>,
    out: Calls,
}

#[derive(Default)]
struct Building {
    participants: Vec<Arc<str>>,
    sdk_versions: Vec<Arc<str>>,
    operations: Vec<Operation>,
}

impl CallLog {
    /// Reads every line of `reader`, a file named `file` in problems; says what it held.
    pub fn read(&mut self, file: &str, reader: impl BufRead) -> io::Result<FileSummary> {
        let before = (
            self.out.records,
            self.out.duplicates,
            self.out.malformed,
            self.out.problems.len(),
        );
        self.read_lines(file, reader)?;
        Ok(FileSummary {
            records: self.out.records - before.0,
            duplicates: self.out.duplicates - before.1,
            malformed: self.out.malformed - before.2,
            first_problem: self.out.problems.get(before.3).cloned(),
        })
    }

    fn read_lines(&mut self, file: &str, mut reader: impl BufRead) -> io::Result<()> {
        let index = self.out.files.len() as u32;
        self.out.files.push(file.to_owned());
        let mut buffer = Vec::with_capacity(4096);
        let mut number = 0u64;
        loop {
            buffer.clear();
            let read = (&mut reader)
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut buffer)?;
            if read == 0 {
                return Ok(());
            }
            number += 1;
            if buffer.len() > MAX_LINE && buffer.last() != Some(&b'\n') {
                skip_line(&mut reader)?;
                self.problem(file, number, format!("longer than {} MiB", MAX_LINE >> 20));
                continue;
            }
            let line = buffer.trim_ascii();
            if line.is_empty() {
                continue;
            }
            self.line(file, index, number, line);
        }
    }

    fn line(&mut self, file: &str, index: u32, number: u64, line: &[u8]) {
        let fields = match Fields::parse(line) {
            Ok(fields) => fields,
            Err(err) => return self.problem(file, number, err.to_string()),
        };
        let record = match fields.record() {
            Ok(record) => record,
            Err(RecordError::NoCallId) => {
                self.out.other_lines += 1;
                return;
            }
            Err(err) => return self.problem(file, number, err.to_string()),
        };
        if !record.operation_id.is_empty() {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            (
                record.call_id,
                record.operation_id,
                record.at,
                record.participant_id,
                record.name,
            )
                .hash(&mut hasher);
            if !self.seen.insert(hasher.finish()) {
                self.out.duplicates += 1;
                return;
            }
        }
        self.out.records += 1;
        let operation = Operation {
            at: record.at,
            name: intern(&mut self.strings, record.name),
            kind: intern(&mut self.strings, record.kind),
            participant_id: record.participant_id.map(|p| intern(&mut self.strings, p)),
            duration_ms: record.duration_ms,
            result_type: intern(&mut self.strings, record.result_type),
            result_signature: record.result_signature,
            failed: record.failed,
            failure: record.failed.then(|| {
                Box::new(FailureDetail {
                    operation_id: record.operation_id.to_owned(),
                    payload: record.payload.as_deref().map(str::to_owned),
                })
            }),
            file: index,
            line: number,
        };
        let participant = operation.participant_id.clone();
        let sdk = record.sdk_version.map(|v| intern(&mut self.strings, v));
        let call = match self.calls.entry(record.call_id.to_owned()) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(Building::default()),
        };
        if let Some(participant) = participant
            && !call.participants.contains(&participant)
        {
            call.participants.push(participant);
        }
        if let Some(sdk) = sdk
            && !call.sdk_versions.contains(&sdk)
        {
            call.sdk_versions.push(sdk);
        }
        call.operations.push(operation);
    }

    fn problem(&mut self, file: &str, line: u64, reason: String) {
        self.out.malformed += 1;
        if self.out.problems.len() < MAX_PROBLEMS {
            self.out.problems.push(LineProblem {
                file: file.to_owned(),
                line,
                reason,
            });
        }
    }

    /// The calls, each in time order, by start time.
    pub fn finish(self) -> Calls {
        let mut out = self.out;
        out.calls = self
            .calls
            .into_iter()
            .map(|(call_id, mut building)| {
                // Stable: records without a time keep the order they were read in.
                building.operations.sort_by_key(|o| (o.at.is_none(), o.at));
                let start = building.operations.iter().filter_map(|o| o.at).min();
                let end = building
                    .operations
                    .iter()
                    .filter_map(|o| {
                        Some(o.at? + chrono::Duration::milliseconds(o.duration_ms as i64))
                    })
                    .max();
                Call {
                    call_id,
                    start,
                    end,
                    participants: building
                        .participants
                        .iter()
                        .map(|p| p.to_string())
                        .collect(),
                    sdk_versions: building
                        .sdk_versions
                        .iter()
                        .map(|v| v.to_string())
                        .collect(),
                    failures: building.operations.iter().filter(|o| o.failed).count() as u32,
                    operations: building.operations,
                }
            })
            .collect();
        out.calls.sort_by(|a, b| {
            (a.start.is_none(), a.start, &a.call_id).cmp(&(b.start.is_none(), b.start, &b.call_id))
        });
        out
    }
}

/// Reads past the rest of the line `reader` is in, holding no more of it than the reader's buffer.
fn skip_line(reader: &mut impl BufRead) -> io::Result<()> {
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(());
        }
        match memchr::memchr(b'\n', buffer) {
            Some(at) => {
                reader.consume(at + 1);
                return Ok(());
            }
            None => {
                let all = buffer.len();
                reader.consume(all);
            }
        }
    }
}

fn intern(strings: &mut HashMap<Box<str>, Arc<str>>, text: &str) -> Arc<str> {
    if let Some(shared) = strings.get(text) {
        return shared.clone();
    }
    let shared: Arc<str> = Arc::from(text);
    strings.insert(text.into(), shared.clone());
    shared
}

impl CallLog {
    /// Reads a bundle's call-operations files. A file that cannot be read is a problem of its
    /// own, like a malformed line; the others are still read.
    pub fn read_bundle<R: Read + io::Seek>(&mut self, bundle: &mut Bundle<R>) {
        let files: Vec<(String, u64)> = bundle
            .manifest
            .files
            .iter()
            .filter(|f| f.kind == SourceKind::CallOperations)
            .map(|f| (f.path.clone(), f.size))
            .collect();
        for (path, size) in files {
            let read = match bundle.entry(&path) {
                // Never more than the manifest says is there.
                Ok(entry) => self
                    .read(&path, io::BufReader::new(entry.take(size)))
                    .map(drop),
                Err(problem) => Err(io::Error::other(problem.to_string())),
            };
            if let Err(err) = read {
                self.problem(&path, 0, format!("cannot be read: {err}"));
            }
        }
    }
}

/// Why a file given to [`CallLog::read_file`] cannot be read as calls.
#[derive(Debug, thiserror::Error)]
pub enum CallFileError {
    #[error("cannot read {shown}: {source}; name a bundle or a JSON-lines file of call records")]
    Unreadable { shown: String, source: io::Error },
    /// It is a zip, but not a bundle that can be opened.
    #[error(transparent)]
    Bundle(#[from] callsupport_bundle::reader::ReadError),
    #[error(
        "{shown} is neither a bundle nor call records: it holds no call client operations records ({why}); name a bundle or a JSON-lines export of ACSCallClientOperations"
    )]
    NotCallRecords { shown: String, why: String },
}

impl CallLog {
    /// Adds one file: a bundle (told by the zip signature) or JSON lines of call records, such as
    /// an Azure Monitor export. A JSON-lines file in which no line is a call record is not what
    /// was meant: it is refused, naming its first bad line.
    pub fn read_file(&mut self, path: &std::path::Path) -> Result<FileSummary, CallFileError> {
        let shown = callsupport_bundle::display_path(path);
        let cannot_read = |source: io::Error| CallFileError::Unreadable {
            shown: shown.clone(),
            source,
        };
        let mut file = std::fs::File::open(path).map_err(cannot_read)?;
        let mut head = [0u8; 4];
        let n = file.read(&mut head).map_err(cannot_read)?;
        if n == 4 && head == *b"PK\x03\x04" {
            let before = (self.out.records, self.out.duplicates, self.out.malformed);
            self.read_bundle(&mut Bundle::open(path)?);
            return Ok(FileSummary {
                records: self.out.records - before.0,
                duplicates: self.out.duplicates - before.1,
                malformed: self.out.malformed - before.2,
                first_problem: None,
            });
        }
        io::Seek::rewind(&mut file).map_err(cannot_read)?;
        let held = self
            .read(&shown, io::BufReader::with_capacity(1 << 20, file))
            .map_err(cannot_read)?;
        if held.records + held.duplicates == 0 {
            let why = held
                .first_problem
                .as_ref()
                .map_or("no line holds a CallId".to_owned(), |p| {
                    format!("line {}: {}", p.line, p.reason)
                });
            return Err(CallFileError::NotCallRecords { shown, why });
        }
        Ok(held)
    }
}

/// The calls in a bundle's call-operations files ([`CallLog::read_bundle`]).
pub fn from_bundle<R: Read + io::Seek>(bundle: &mut Bundle<R>) -> Calls {
    let mut log = CallLog::default();
    log.read_bundle(bundle);
    log.finish()
}

impl Coded for CallFileError {
    fn code(&self) -> ErrorCode {
        match self {
            CallFileError::Unreadable { .. } => ErrorCode::Io,
            CallFileError::Bundle(err) => err.code(),
            CallFileError::NotCallRecords { .. } => ErrorCode::ReportInvalid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(
        call: &str,
        at: &str,
        name: &str,
        participant: &str,
        result: &str,
        signature: u16,
    ) -> String {
        format!(
            r#"{{"CallId":"{call}","CallClientTimeStamp":"{at}","OperationName":"{name}","OperationType":"client-api-request","OperationId":"op-{name}-{at}","ParticipantId":"{participant}","DurationMs":"100","ResultType":"{result}","ResultSignature":"{signature}","SdkVersion":"1.31.1","OperationPayload":"{{\"n\":1}}"}}"#
        )
    }

    #[test]
    fn records_become_calls_in_time_order_with_their_failures() {
        let text = [
            line("b", "2025-03-01T10:05:00Z", "Join", "p3", "Succeeded", 200),
            line(
                "a",
                "2025-03-01T10:00:02Z",
                "StartVideo",
                "p2",
                "Failed",
                500,
            ),
            "not json at all".to_owned(),
            line("a", "2025-03-01T10:00:00Z", "Join", "p1", "Succeeded", 200),
            String::new(),
            r#"{"category":"CallSummary","properties":{"CorrelationId":"a"}}"#.to_owned(),
            line("a", "2025-03-01T10:00:01Z", "Join", "p2", "Succeeded", 403),
        ]
        .join("\n");
        let mut log = CallLog::default();
        log.read("ops.jsonl", text.as_bytes()).unwrap();
        let calls = log.finish();
        assert_eq!(
            (calls.records, calls.other_lines, calls.malformed),
            (4, 1, 1)
        );
        assert_eq!(calls.problems[0].line, 3);
        assert!(
            calls.problems[0].reason.starts_with("not JSON"),
            "{:?}",
            calls.problems
        );
        assert_eq!(
            calls
                .calls
                .iter()
                .map(|c| c.call_id.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        let a = &calls.calls[0];
        assert_eq!(a.participants, ["p2", "p1"]);
        assert_eq!(a.failures, 2);
        let names: Vec<_> = a.operations.iter().map(|o| (&*o.name, o.failed)).collect();
        assert_eq!(
            names,
            [("Join", false), ("Join", true), ("StartVideo", true)]
        );
        assert_eq!(a.duration().unwrap().num_milliseconds(), 2_100);
        let failure = a
            .failed_operations()
            .last()
            .unwrap()
            .failure
            .as_ref()
            .unwrap();
        assert_eq!(failure.payload.as_deref(), Some(r#"{"n":1}"#));
        assert_eq!(failure.operation_id, "op-StartVideo-2025-03-01T10:00:02Z");
        assert!(
            a.operations[0].failure.is_none(),
            "a success keeps no payload"
        );
    }

    #[test]
    fn a_record_read_again_from_an_export_counts_once() {
        let records = [
            line("a", "2025-03-01T10:00:00Z", "Join", "p1", "Succeeded", 200),
            line(
                "a",
                "2025-03-01T10:00:02Z",
                "StartVideo",
                "p1",
                "Failed",
                500,
            ),
        ];
        let mut log = CallLog::default();
        log.read("files/ops/ops.jsonl", records.join("\n").as_bytes())
            .unwrap();
        // The export has the same two and one the bundle missed.
        let export = [
            records[1].clone(),
            records[0].clone(),
            line(
                "a",
                "2025-03-01T10:00:09Z",
                "HangUp",
                "p1",
                "Succeeded",
                200,
            ),
        ];
        log.read("export.jsonl", export.join("\n").as_bytes())
            .unwrap();
        let calls = log.finish();
        assert_eq!((calls.records, calls.duplicates), (3, 2));
        assert_eq!(calls.calls[0].operations.len(), 3);
        assert_eq!(
            calls.calls[0].operations[2].file, 1,
            "the new one is from the export"
        );
    }

    #[test]
    fn an_overlong_line_is_a_problem_and_reading_goes_on() {
        let text = format!(
            "{}\n{}\n",
            "x".repeat(MAX_LINE + 10),
            line("c", "2025-03-01T10:00:00Z", "Join", "p", "Succeeded", 200)
        );
        let mut log = CallLog::default();
        log.read("big.jsonl", text.as_bytes()).unwrap();
        let calls = log.finish();
        assert_eq!((calls.records, calls.malformed), (1, 1));
        assert!(calls.problems[0].reason.contains("longer than"));
    }

    #[test]
    fn problems_are_counted_beyond_those_kept() {
        let text = "{\n".repeat(MAX_PROBLEMS + 7);
        let mut log = CallLog::default();
        log.read("bad.jsonl", text.as_bytes()).unwrap();
        let calls = log.finish();
        assert_eq!(calls.malformed, MAX_PROBLEMS as u64 + 7);
        assert_eq!(calls.problems.len(), MAX_PROBLEMS);
    }
}
