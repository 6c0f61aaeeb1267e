//! Call Support's own log: what the app and the command line did, for support to read beside the
//! call logs.
//!
//! # Brief overview
//!
//! [`AppLog`] is a [`log::Log`] that appends one line per record (UTC time, level, module,
//! message) to `<data dir>/logs/callsupport.log` and rotates it at [`MAX_FILE_BYTES`] into
//! `callsupport.1.log` … `callsupport.3.log`, so it never holds more than 4 MiB. [`source`]
//! describes that folder as a text source, so every bundle carries our own log for the same period
//! as the call logs (files newer than the max age), redacted like any readable log.
//!
//! What is logged is the work, not its content: counts, sizes, ids, durations, error codes. No
//! token, no report text, no file content.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::config::{Config, SourceConfig, SourceKind};

/// The id of our own log's source; reserved, so no configured source may use it.
pub const SOURCE_ID: &str = callsupport_bundle::APPLOG_SOURCE_ID;
/// The live file's name inside the log folder.
pub const FILE_NAME: &str = "callsupport.log";
/// A file is rotated once it would grow past this.
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// Rotated files kept beside the live one.
pub const KEPT_FILES: u32 = 3;

/// The folder of our own log inside the app's data folder.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("logs")
}

/// Our own log as a source of readable text, collected like the configured ones.
pub fn source(data_dir: &Path) -> SourceConfig {
    SourceConfig {
        id: SOURCE_ID.to_owned(),
        name: "Call Support's own log".to_owned(),
        root: dir(data_dir).to_string_lossy().into_owned(),
        include: vec!["callsupport*.log".to_owned()],
        exclude: Vec::new(),
        kind: SourceKind::Text,
        max_age_days: None,
        max_mb: None,
        follow_links: false,
    }
}

/// Adds our own log to `config` as a source, creating its folder; without a writable folder there
/// is nothing to collect and the config is left as it is.
pub fn add_source(config: &mut Config, data_dir: &Path) {
    let present = config.sources.iter().any(|s| s.id == SOURCE_ID);
    if !present && std::fs::create_dir_all(dir(data_dir)).is_ok() {
        config.sources.push(source(data_dir));
    }
}

/// A size-rotated log file. Use it through the `log` macros after [`AppLog::install`], or
/// directly with [`AppLog::write_line`].
pub struct AppLog {
    dir: PathBuf,
    level: log::LevelFilter,
    file: Mutex<Option<Live>>,
}

struct Live {
    file: File,
    size: u64,
}

impl AppLog {
    /// Opens (creating if needed) the log in `data_dir`; records below `level` are dropped.
    pub fn open(data_dir: &Path, level: log::LevelFilter) -> io::Result<AppLog> {
        let dir = dir(data_dir);
        std::fs::create_dir_all(&dir)?;
        let live = Live::open(&dir)?;
        Ok(AppLog {
            dir,
            level,
            file: Mutex::new(Some(live)),
        })
    }

    /// Makes this the process's logger for the `log` macros. Fails if one is already set.
    pub fn install(self) -> Result<(), log::SetLoggerError> {
        let level = self.level;
        log::set_boxed_logger(Box::new(self))?;
        log::set_max_level(level);
        Ok(())
    }

    /// Appends one line, rotating first if it would not fit. Errors are swallowed by the
    /// [`log::Log`] side: logging must never break the work it describes.
    pub fn write_line(&self, line: &str) -> io::Result<()> {
        let mut guard = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let len = line.len() as u64 + 1;
        if let Some(live) = guard.as_ref()
            && live.size > 0
            && live.size + len > MAX_FILE_BYTES
        {
            *guard = None;
            rotate(&self.dir)?;
        }
        if guard.is_none() {
            *guard = Some(Live::open(&self.dir)?);
        }
        let live = guard.as_mut().expect("opened above");
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        // One write per line, in append mode: lines of two processes never interleave.
        live.file.write_all(&bytes)?;
        live.size += len;
        Ok(())
    }
}

impl Live {
    fn open(dir: &Path) -> io::Result<Live> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(FILE_NAME))?;
        let size = file.metadata()?.len();
        Ok(Live { file, size })
    }
}

/// `callsupport.log` → `.1.log` → … → `.3.log`; the oldest falls off.
fn rotate(dir: &Path) -> io::Result<()> {
    let numbered = |n: u32| dir.join(format!("callsupport.{n}.log"));
    match std::fs::remove_file(numbered(KEPT_FILES)) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    for n in (1..KEPT_FILES).rev() {
        match std::fs::rename(numbered(n), numbered(n + 1)) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
            _ => {}
        }
    }
    match std::fs::rename(dir.join(FILE_NAME), numbered(1)) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
        _ => Ok(()),
    }
}

impl log::Log for AppLog {
    /// Our own lines at the chosen level; other crates' (D-Bus, HTTP, …) only when they warn.
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        let ours = metadata.target().starts_with("callsupport");
        metadata.level()
            <= if ours {
                self.level
            } else {
                self.level.min(log::LevelFilter::Warn)
            }
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = format!(
            "{} {:<5} {} {}",
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            record.level(),
            record.target(),
            record.args()
        );
        // A full disk or a removed folder must not stop a report: the line is lost, nothing else.
        let _ = self.write_line(&line.replace('\n', " "));
    }

    fn flush(&self) {
        if let Some(live) = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .as_mut()
        {
            let _ = live.file.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use log::Log;

    use super::*;

    #[test]
    fn lines_are_appended_and_the_file_rotates_keeping_three() {
        let data = tempfile::tempdir().unwrap();
        let log = AppLog::open(data.path(), log::LevelFilter::Info).unwrap();
        log.log(
            &log::Record::builder()
                .level(log::Level::Info)
                .target("callsupport_desk::collect")
                .args(format_args!("bundle written:\n12 files"))
                .build(),
        );
        log.log(
            &log::Record::builder()
                .level(log::Level::Debug)
                .args(format_args!("dropped below the level"))
                .build(),
        );
        // Other crates' chatter stays out unless it warns.
        for (level, words) in [
            (log::Level::Info, "name acquired"),
            (log::Level::Warn, "bus lost"),
        ] {
            log.log(
                &log::Record::builder()
                    .level(level)
                    .target("zbus::connection")
                    .args(format_args!("{words}"))
                    .build(),
            );
        }
        let text = std::fs::read_to_string(dir(data.path()).join(FILE_NAME)).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.contains("zbus::connection bus lost") && !text.contains("acquired"));
        assert!(
            text.contains(" INFO  callsupport_desk::collect bundle written: 12 files"),
            "{text}"
        );

        let line = "x".repeat(1000);
        for _ in 0..(5 * MAX_FILE_BYTES / 1001 + 10) {
            log.write_line(&line).unwrap();
        }
        let mut names: Vec<String> = std::fs::read_dir(dir(data.path()))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "callsupport.1.log",
                "callsupport.2.log",
                "callsupport.3.log",
                "callsupport.log"
            ]
        );
        for name in &names {
            let size = std::fs::metadata(dir(data.path()).join(name))
                .unwrap()
                .len();
            assert!(size <= MAX_FILE_BYTES, "{name} is {size} bytes");
        }
    }

    #[test]
    fn a_reopened_log_continues_where_it_was() {
        let data = tempfile::tempdir().unwrap();
        AppLog::open(data.path(), log::LevelFilter::Info)
            .unwrap()
            .write_line("first run")
            .unwrap();
        AppLog::open(data.path(), log::LevelFilter::Info)
            .unwrap()
            .write_line("second run")
            .unwrap();
        let text = std::fs::read_to_string(dir(data.path()).join(FILE_NAME)).unwrap();
        assert_eq!(text, "first run\nsecond run\n");
    }
}
