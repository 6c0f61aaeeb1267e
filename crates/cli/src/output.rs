//! How the CLI talks: one-line errors, a progress line on a terminal, JSON when asked.

use std::io::{IsTerminal, Write};

use callsupport_desk::Error;
use callsupport_desk::bundle::human_bytes;
use callsupport_desk::progress::Progress;

/// Prints an error as one line on stderr, and as JSON on stdout with `--json`.
pub fn error(err: &Error, json: bool) {
    let message = err.to_string().replace('\n', " ");
    if json {
        let value = serde_json::json!({ "error": { "code": err.code(), "message": message } });
        println!("{value}");
    }
    eprintln!("error: {message}");
}

pub fn json(value: &impl serde::Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("serializes")
    );
}

/// A progress callback that redraws one line on stderr when it is a terminal.
pub fn progress(enabled: bool) -> impl Fn(Progress) -> bool + Send + Sync + Clone + 'static {
    let tty = enabled && std::io::stderr().is_terminal();
    move |progress| {
        if tty {
            let line = match progress {
                Progress::Collecting {
                    files_done,
                    files_total,
                    bytes_done,
                    bytes_total,
                } => format!(
                    "collecting {files_done}/{files_total} files, {} of {}",
                    human_bytes(bytes_done),
                    human_bytes(bytes_total)
                ),
                Progress::Uploading {
                    bytes_sent,
                    bytes_total,
                    bytes_per_second,
                } => format!(
                    "sending {} of {} ({}/s)",
                    human_bytes(bytes_sent),
                    human_bytes(bytes_total),
                    human_bytes(bytes_per_second)
                ),
                Progress::Retrying {
                    attempt,
                    attempts,
                    wait_seconds,
                    reason,
                } => format!("{reason}; attempt {attempt} of {attempts} in {wait_seconds} s"),
                Progress::Confirming => "waiting for the server to confirm".to_owned(),
                Progress::Downloading {
                    bytes_received,
                    bytes_total,
                } => format!(
                    "receiving {} of {}",
                    human_bytes(bytes_received),
                    human_bytes(bytes_total)
                ),
            };
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K{line}");
            let _ = err.flush();
        }
        true
    }
}

/// Ends the progress line, if one was drawn.
pub fn progress_done(enabled: bool) {
    if enabled && std::io::stderr().is_terminal() {
        eprint!("\r\x1b[2K");
    }
}

/// Prints one line on stdout; a reader that went away (`| head`) ends the program quietly, as
/// other command-line tools do, instead of a panic.
pub fn line(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(err) = writeln!(out, "{text}").and_then(|()| out.flush()) {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {err}");
        std::process::exit(1);
    }
}

/// A runtime for the commands that talk to the network.
pub fn runtime() -> Result<tokio::runtime::Runtime, callsupport_desk::Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(callsupport_desk::Error::io(
            "cannot start the network runtime",
        ))
}
