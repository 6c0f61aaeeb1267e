//! A readable log of an open bundle, for the viewer's log screen: any window of lines of a file
//! of millions, a level filter, search and a jump to a time.
//!
//! Opening decompresses the file once into a temporary file beside nothing else of the user's
//! and indexes where each line starts and its level (16 MB and 2 MB for two million lines); the
//! text stays on disk and is read a window at a time. The filter and the search work on that
//! index, so what the window asks for is always a few hundred lines.
//!
//! Memory is bounded whatever the log: no line is ever held whole (a line is indexed from the
//! reader's buffer, shown cut at [`MAX_SHOWN_LINE`] bytes, searched in its first
//! [`MAX_SEARCHED_LINE`]), and at most [`MAX_LINES`] lines are indexed, about 72 MB; a log with
//! more is shown up to there and says so ([`LogInfo::complete`]).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::sync::Mutex;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::bundle::reader::Bundle;
use crate::error::Error;

/// The most lines one call returns.
pub const MAX_WINDOW: u32 = 1_000;
/// The most matches a search lists (the total is still counted).
pub const MAX_MATCHES: usize = 10_000;
/// Lines longer than this are cut in what is shown (the file is not changed).
pub const MAX_SHOWN_LINE: usize = 4_096;
/// A search looks at this much of each line.
pub const MAX_SEARCHED_LINE: usize = 64 * 1024;
/// The most lines indexed: 9 bytes each.
pub const MAX_LINES: usize = 8_000_000;
/// How much of a line's start is kept while it is read, to find its level.
const LEVEL_HEAD: usize = 96;

/// A log's level, as its line says (`ERROR`, `WARN`, …); `None` where the line names none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// A log opened for reading.
#[derive(Debug, Clone, Serialize, TS)]
pub struct LogInfo {
    pub log_id: String,
    pub path: String,
    pub lines: u32,
    /// The bytes of those lines.
    #[ts(type = "number")]
    pub bytes: u64,
    /// Whether those are all of the log's lines; `false` when it has more than the viewer
    /// indexes ([`MAX_LINES`]), and only its start is shown.
    pub complete: bool,
    /// The log's size in the bundle.
    #[ts(type = "number")]
    pub size: u64,
    /// How many lines of each level (in [`Level`] order: trace … error) and without one.
    pub by_level: [u32; 6],
}

/// One line as the screen shows it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct LogLine {
    /// Its number in the file, from 1.
    pub number: u32,
    pub level: Option<Level>,
    pub text: String,
}

/// A window of the (filtered) lines.
#[derive(Debug, Clone, Serialize, TS)]
pub struct LogWindow {
    /// How many lines the filter lets through, in all.
    pub total: u32,
    /// The position of the first line below in the filtered list.
    pub first: u32,
    pub lines: Vec<LogLine>,
}

/// Where a search found its text: positions in the filtered list.
#[derive(Debug, Clone, Serialize, TS)]
pub struct LogMatches {
    pub total: u32,
    /// The first [`MAX_MATCHES`], in order.
    pub positions: Vec<u32>,
}

pub(super) struct OpenLog {
    pub path: String,
    file: Mutex<File>,
    /// Where each line starts; one more entry for the end of the file.
    starts: Vec<u64>,
    levels: Vec<u8>,
    /// The lines the filter lets through; `None` for all of them.
    view: Option<Vec<u32>>,
    /// The entry's size, and whether every line of it is indexed.
    size: u64,
    complete: bool,
}

impl OpenLog {
    /// Decompresses `entry` of `bundle` into a temporary file and indexes it.
    pub fn open<R: Read + Seek>(bundle: &mut Bundle<R>, entry: &str) -> Result<OpenLog, Error> {
        let listed = bundle
            .manifest
            .files
            .iter()
            .find(|f| f.path == entry)
            .cloned()
            .ok_or_else(|| Error::NotInBundle(entry.to_owned()))?;
        if listed.encrypted {
            return Err(Error::Encrypted(entry.to_owned()));
        }
        let mut copy = tempfile::tempfile().map_err(Error::io(format!("no room for {entry}")))?;
        let reader = bundle
            .entry(entry)
            .map_err(|problem| damaged(entry, problem))?;
        let mut raw = BufReader::with_capacity(1 << 20, reader.take(listed.size));
        // A gzip log (cleaned and packed again, or sent as it was) is shown unpacked.
        let magic = raw.fill_buf().map_err(|problem| damaged(entry, problem))?;
        let text: Box<dyn Read> = if magic.starts_with(&[0x1f, 0x8b]) {
            Box::new(
                flate2::bufread::MultiGzDecoder::new(raw)
                    .take(crate::bundle::readable::MAX_UNPACKED),
            )
        } else if magic.starts_with(b"PK\x03\x04") {
            return Err(Error::NotALog(entry.to_owned()));
        } else {
            Box::new(raw)
        };
        let mut reader = BufReader::with_capacity(1 << 20, text);
        let mut writer = io::BufWriter::with_capacity(1 << 20, &mut copy);
        let (mut starts, mut levels) = (vec![0u64], Vec::new());
        let mut offset = 0u64;
        // The start of the line being read, for its level; never the whole line.
        let mut head = Vec::with_capacity(LEVEL_HEAD);
        let complete = loop {
            let buffer = reader
                .fill_buf()
                .map_err(|problem| damaged(entry, problem))?;
            if buffer.is_empty() {
                if !head.is_empty() || offset > starts[starts.len() - 1] {
                    // The last line, with no newline after it.
                    starts.push(offset);
                    levels.push(level_code(&head));
                }
                break true;
            }
            if levels.len() >= MAX_LINES {
                break false;
            }
            let (taken, ends_line) = match memchr::memchr(b'\n', buffer) {
                Some(at) => (at + 1, true),
                None => (buffer.len(), false),
            };
            let room = LEVEL_HEAD - head.len();
            head.extend_from_slice(&buffer[..taken.min(room)]);
            writer
                .write_all(&buffer[..taken])
                .map_err(Error::io(format!("no room for {entry}")))?;
            reader.consume(taken);
            offset += taken as u64;
            if ends_line {
                starts.push(offset);
                levels.push(level_code(&head));
                head.clear();
            }
        };
        writer
            .flush()
            .map_err(Error::io(format!("no room for {entry}")))?;
        drop(writer);
        Ok(OpenLog {
            path: entry.to_owned(),
            file: Mutex::new(copy),
            starts,
            levels,
            view: None,
            size: listed.size,
            complete,
        })
    }

    /// How many lines the filter lets through.
    fn total(&self) -> u32 {
        self.view.as_ref().map_or(self.levels.len(), Vec::len) as u32
    }

    /// The line at `position` of the filtered list.
    fn line_at(&self, position: u32) -> u32 {
        self.view
            .as_ref()
            .map_or(position, |view| view[position as usize])
    }

    pub fn info(&self, log_id: &str) -> LogInfo {
        let mut by_level = [0u32; 6];
        for &level in &self.levels {
            by_level[usize::from(level).min(5)] += 1;
        }
        LogInfo {
            log_id: log_id.to_owned(),
            path: self.path.clone(),
            lines: self.levels.len() as u32,
            bytes: *self.starts.last().unwrap_or(&0),
            complete: self.complete,
            size: self.size,
            by_level,
        }
    }

    /// Lets through only lines of `levels` (and, with `unlevelled`, lines naming no level); an
    /// empty `levels` with `unlevelled` shows everything. Returns how many pass.
    pub fn filter(&mut self, levels: &[Level], unlevelled: bool) -> u32 {
        let everything = levels.is_empty() && unlevelled;
        self.view = (!everything).then(|| {
            (0..self.levels.len() as u32)
                .filter(|&i| {
                    let level = self.levels[i as usize];
                    (level == u8::MAX && unlevelled) || levels.iter().any(|l| *l as u8 == level)
                })
                .collect()
        });
        self.total()
    }

    /// Up to `count` filtered lines from position `first`.
    pub fn window(&self, first: u32, count: u32) -> Result<LogWindow, Error> {
        let total = self.total();
        let first = first.min(total);
        let end = first.saturating_add(count.min(MAX_WINDOW)).min(total);
        let mut lines = Vec::with_capacity((end - first) as usize);
        let mut file = self.file.lock().expect("log file lock");
        for number in (first..end).map(|position| self.line_at(position)) {
            lines.push(LogLine {
                number: number + 1,
                level: level_from(self.levels[number as usize]),
                text: self.read_line(&mut file, number)?,
            });
        }
        Ok(LogWindow {
            total,
            first,
            lines,
        })
    }

    /// The filtered lines holding `query` (any case).
    pub fn search(&self, query: &str) -> Result<LogMatches, Error> {
        let needle = query.trim();
        if needle.is_empty() {
            return Ok(LogMatches {
                total: 0,
                positions: Vec::new(),
            });
        }
        let finder = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build([needle])
            .map_err(|err| Error::BadSearch(err.to_string()))?;
        let mut file = self.file.lock().expect("log file lock");
        file.seek(SeekFrom::Start(0)).map_err(read_error)?;
        // One pass through the file, in order; skips within the buffer cost nothing.
        let mut reader = BufReader::with_capacity(1 << 20, &mut *file);
        let mut at = 0u64;
        let (mut total, mut positions) = (0u32, Vec::new());
        let mut line = Vec::with_capacity(4096);
        for position in 0..self.total() {
            let number = self.line_at(position) as usize;
            let (start, end) = (self.starts[number], self.starts[number + 1]);
            let length = ((end - start) as usize).min(MAX_SEARCHED_LINE);
            reader
                .seek_relative((start - at) as i64)
                .map_err(read_error)?;
            line.resize(length, 0);
            reader.read_exact(&mut line).map_err(read_error)?;
            at = start + length as u64;
            if finder.is_match(&line) {
                total += 1;
                if positions.len() < MAX_MATCHES {
                    positions.push(position);
                }
            }
        }
        Ok(LogMatches { total, positions })
    }

    /// The position of the first filtered line stamped at or after `time` (the last line when
    /// none is); lines without a time are passed over.
    pub fn position_at(&self, time: DateTime<Utc>) -> Result<u32, Error> {
        let mut file = self.file.lock().expect("log file lock");
        let (mut low, mut high) = (0u32, self.total());
        // Binary search over the lines that carry a time, which logs write in order.
        while low < high {
            let mid = (low + high) / 2;
            let mut probe = mid;
            let stamp = loop {
                if probe >= high {
                    break None;
                }
                let text = self.read_line(&mut file, self.line_at(probe))?;
                match time_of(&text) {
                    Some(at) => break Some(at),
                    None => probe += 1,
                }
            };
            match stamp {
                Some(at) if at < time => low = probe + 1,
                _ => high = mid,
            }
        }
        Ok(low.min(self.total().saturating_sub(1)))
    }

    fn read_line(&self, file: &mut File, number: u32) -> Result<String, Error> {
        let (start, end) = (
            self.starts[number as usize],
            self.starts[number as usize + 1],
        );
        let length = ((end - start) as usize).min(MAX_SHOWN_LINE);
        let mut bytes = vec![0u8; length];
        file.seek(SeekFrom::Start(start)).map_err(read_error)?;
        file.read_exact(&mut bytes).map_err(read_error)?;
        let text = String::from_utf8_lossy(&bytes);
        Ok(text.trim_end_matches(['\n', '\r']).to_owned())
    }
}

fn read_error(err: io::Error) -> Error {
    Error::io("cannot read the log's copy")(err)
}

/// The entry's data does not come out of the bundle whole.
fn damaged(entry: &str, problem: impl std::fmt::Display) -> Error {
    Error::DamagedEntry {
        entry: entry.to_owned(),
        problem: problem.to_string(),
    }
}

/// How the index keeps a line's level: its [`Level`] as a byte, `u8::MAX` for none.
fn level_code(head: &[u8]) -> u8 {
    level_of(head).map_or(u8::MAX, |l| l as u8)
}

fn level_from(code: u8) -> Option<Level> {
    [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
    ]
    .get(usize::from(code))
    .copied()
}

/// The level a line names among its first words: `ERROR`, `[warn]`, `level=info`…
pub fn level_of(line: &[u8]) -> Option<Level> {
    let head = &line[..line.len().min(96)];
    // Only the first words: a level is written before the message, which may mention any.
    let words = head
        .split(|b| !b.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .take(4);
    for word in words {
        let level = match word.to_ascii_uppercase().as_slice() {
            b"ERROR" | b"ERR" | b"FATAL" | b"CRITICAL" => Level::Error,
            b"WARN" | b"WARNING" => Level::Warn,
            b"INFO" => Level::Info,
            b"DEBUG" | b"DBG" => Level::Debug,
            b"TRACE" | b"VERBOSE" => Level::Trace,
            _ => continue,
        };
        return Some(level);
    }
    None
}

/// The time a line starts with: RFC 3339, or `YYYY-MM-DD HH:MM:SS[.fff]` taken as UTC.
pub fn time_of(line: &str) -> Option<DateTime<Utc>> {
    let head = line.split_whitespace().next()?;
    if let Ok(at) = DateTime::parse_from_rfc3339(head.trim_matches(['[', ']'])) {
        return Some(at.to_utc());
    }
    let two: String = line
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_and_remainder(two.trim_matches(['[', ']']), f).ok())
        .map(|(naive, _)| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_times_as_logs_write_them() {
        assert_eq!(
            level_of(b"2025-05-01T10:00:00Z [ERROR] call dropped"),
            Some(Level::Error)
        );
        assert_eq!(
            level_of(b"2025-05-01 10:00:00.123 WARN  low bandwidth"),
            Some(Level::Warn)
        );
        assert_eq!(level_of(b"level=info msg=joined"), Some(Level::Info));
        assert_eq!(level_of(b"just text about an error later on in a long line that goes past the head of the line where levels are looked for: ERROR"), None);
        assert_eq!(
            time_of("2025-05-01T10:00:00.5Z INFO x")
                .unwrap()
                .to_rfc3339(),
            "2025-05-01T10:00:00.500+00:00"
        );
        assert_eq!(
            time_of("[2025-05-01 10:00:02] x").unwrap().to_rfc3339(),
            "2025-05-01T10:00:02+00:00"
        );
        assert!(time_of("no time here").is_none());
    }
}
