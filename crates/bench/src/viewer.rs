//! The support agent's viewer: the overview of a 1 GiB bundle (central directory and manifest)
//! against `unzip -l` listing it; a two-million-line log opened (decompressed and indexed),
//! searched and read a window at a time, against `grep -c` over the same text.

use std::path::Path;
use std::time::{Duration, Instant};

use callsupport_desk::api::Viewer;

use crate::measure::{measure, median, mib};

const RUNS: usize = 5;
const LOG_LINES: usize = 2_000_000;

/// Opening `bundle` in the viewer, against `unzip -l`. Goal: under 500 ms for 1 GiB.
pub fn overview(bundle: &Path) {
    let size = std::fs::metadata(bundle).map(|m| m.len()).unwrap_or(0);
    let mut ours: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let viewer = Viewer::default();
            let started = Instant::now();
            viewer.open(bundle).expect("the bench bundle opens");
            started.elapsed()
        })
        .collect();
    let mut theirs: Vec<Duration> = (0..RUNS)
        .map(|_| {
            measure(
                Path::new("unzip"),
                &["-l", bundle.to_str().expect("utf-8")],
                Path::new("."),
            )
            .0
        })
        .collect();
    let (ours, theirs) = (median(&mut ours), median(&mut theirs));
    println!(
        "viewer overview of a {:.0} MiB bundle: {:.1} ms (goal under 500 ms); unzip -l listing it: {:.1} ms; median of {RUNS}",
        mib(size),
        ours.as_secs_f64() * 1000.0,
        theirs.as_secs_f64() * 1000.0
    );
}

/// A bundle holding one log of two million lines: open, search, windows.
pub fn run(cli: &Path) {
    let dir = tempfile::tempdir().expect("temp dir");
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).expect("logs dir");
    // Lines average under 120 bytes: enough text, then cut at the last line wanted.
    let mut text = crate::bundle::text_log(LOG_LINES * 120, 3);
    // Exactly LOG_LINES lines.
    let cut = text
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(LOG_LINES - 1)
        .map(|(i, _)| i + 1)
        .expect("enough lines");
    text.truncate(cut);
    let log = logs.join("calling-app.log");
    std::fs::write(&log, &text).expect("log");
    let config = dir.path().join("bench.toml");
    std::fs::write(
        &config,
        format!(
            "[ticket_api]\nurl = \"http://127.0.0.1:9/api/v1/tickets\"\n\n[[sources]]\nid = \"app\"\nname = \"App\"\nroot = '{}'\ninclude = [\"*.log\"]\nkind = \"text\"\n\n[privacy]\nredact = false\n",
            logs.display()
        ),
    )
    .expect("config");
    let bundle = dir.path().join("log.zip");
    let status = std::process::Command::new(cli)
        .args([
            "--config",
            config.to_str().expect("utf-8"),
            "collect",
            "--yes",
            "--out",
        ])
        .arg(&bundle)
        .args(["--summary", "bench"])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("callsupport collect");
    assert!(status.success(), "collect the log bundle");

    let viewer = Viewer::default();
    let opened = viewer.open(&bundle).expect("open");
    let started = Instant::now();
    let info = viewer
        .open_log(&opened.id, "files/app/calling-app.log")
        .expect("open the log");
    let opening = started.elapsed();
    assert_eq!(info.lines as usize, LOG_LINES);
    let needle = "jitter 39 ms";
    let mut searches: Vec<Duration> = Vec::new();
    let mut found = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        found = viewer
            .log_search(&info.log_id, needle)
            .expect("search")
            .total;
        searches.push(started.elapsed());
    }
    // grep's output goes to a pipe: GNU grep stops at the first match when it writes to
    // /dev/null, which would not be a count.
    let mut greps: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            let out = std::process::Command::new("grep")
                .args(["-ci", needle])
                .arg(&log)
                .output()
                .expect("grep");
            let elapsed = started.elapsed();
            let counted: u32 = String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .expect("grep's count");
            assert_eq!(counted, found, "grep and the viewer count the same lines");
            elapsed
        })
        .collect();
    let mut windows: Vec<Duration> = (0..RUNS * 20)
        .map(|i| {
            let started = Instant::now();
            viewer
                .log_window(&info.log_id, (i as u32 * 99_991) % info.lines, 120)
                .expect("window");
            started.elapsed()
        })
        .collect();
    let (search, grep) = (median(&mut searches), median(&mut greps));
    println!(
        "log of {LOG_LINES} lines ({:.0} MiB): opened (decompressed and indexed) in {:.2} s; search for {needle:?} ({found} lines) {:.2} s, grep -ci {:.2} s = {:.2}x ours; a window of 120 lines anywhere {:.2} ms (median of {})",
        mib(info.bytes),
        opening.as_secs_f64(),
        search.as_secs_f64(),
        grep.as_secs_f64(),
        grep.as_secs_f64() / search.as_secs_f64(),
        median(&mut windows).as_secs_f64() * 1000.0,
        RUNS * 20
    );
}
