//! api::Viewer on real bundles: the manifest at once, the check, the calls, and a readable log of
//! many lines read a window at a time, filtered by level, searched and jumped to a time.

use std::fmt::Write as _;
use std::fs;
use std::io::Read as _;

use callsupport_desk::api::Viewer;
use callsupport_desk::api::logview::{Level, MAX_LINES, MAX_SHOWN_LINE};
use callsupport_desk::bundle::manifest::Consent;
use callsupport_desk::collect::{Plan, collect};
use callsupport_desk::report::{Category, Report};

use crate::support::{config_toml, dead_url, load_config};

const LINES: usize = 60_000;

/// A bundle of one big text log (redaction off: the text goes as it is) and one encrypted file.
fn bundle(dir: &std::path::Path) -> std::path::PathBuf {
    bundle_with(dir, 200, "text", |app_log| {
        fs::write(app_log, lines_of_the_app()).unwrap()
    })
}

/// [`LINES`] lines of an app's log, each with a time, most with a level.
fn lines_of_the_app() -> String {
    let mut text = String::with_capacity(LINES * 64);
    for i in 0..LINES {
        let level = match i % 100 {
            0 => "ERROR",
            1..=9 => "WARN",
            10..=19 => "DEBUG",
            99 => "",
            _ => "INFO",
        };
        let (h, m, s) = (10 + i / 3600, (i / 60) % 60, i % 60);
        writeln!(
            text,
            "2025-05-01T{h:02}:{m:02}:{s:02}Z {level} line {i} of the app"
        )
        .unwrap();
    }
    text
}

/// A bundle of `app.log` of `kind` as `write_app_log` writes it and one encrypted file,
/// collected with bundles of up to `max_mb`; its source files are gone once it is written.
fn bundle_with(
    dir: &std::path::Path,
    max_mb: u64,
    kind: &str,
    write_app_log: impl FnOnce(&std::path::Path),
) -> std::path::PathBuf {
    let logs = dir.join("logs");
    fs::create_dir_all(logs.join("acs")).unwrap();
    write_app_log(&logs.join("app.log"));
    fs::write(logs.join("acs/acs_1.blog"), vec![7u8; 4096]).unwrap();
    let sources = format!(
        "\n[[sources]]\nid = \"app\"\nname = \"App\"\nroot = '{}'\ninclude = [\"app.log\"]\nkind = \"{kind}\"\n\n[[sources]]\nid = \"acs\"\nname = \"SDK\"\nroot = '{}'\ninclude = [\"*.blog\"]\nkind = \"encrypted\"\n",
        logs.display(),
        logs.join("acs").display()
    );
    let config = load_config(dir, &config_toml(&dead_url(), None, &sources, max_mb));
    let (plan, _) = Plan::from_config(&config).unwrap();
    let out = dir.join("received.zip");
    collect(
        &plan,
        Report {
            summary: "slow".into(),
            description: String::new(),
            category: Category::Other,
            occurred_at: chrono::Utc::now(),
            call_ids: Vec::new(),
            contact: None,
            ticket_id: None,
            link: None,
            survey: None,
        },
        Consent {
            accepted_at: chrono::Utc::now(),
            statement_sha256: "0".repeat(64),
            statement: None,
            statement_version: None,
            language: None,
            sealed_for: Vec::new(),
            redaction: false,
            destination: "test".into(),
        },
        &out,
        |_| true,
    )
    .unwrap();
    fs::remove_dir_all(&logs).unwrap();
    out
}

#[test]
fn a_big_log_is_read_a_window_at_a_time_filtered_searched_and_jumped_to() {
    let dir = tempfile::tempdir().unwrap();
    let path = bundle(dir.path());
    let viewer = Viewer::default();
    let opened = viewer.open(&path).unwrap();
    assert_eq!(opened.manifest.report.summary, "slow");
    assert!(viewer.verify(&opened.id).unwrap().intact);

    let info = viewer.open_log(&opened.id, "files/app/app.log").unwrap();
    assert_eq!(info.lines, LINES as u32);
    // trace, debug, info, warn, error, none
    assert_eq!(info.by_level, [0, 6_000, 47_400, 5_400, 600, 600]);

    let window = viewer.log_window(&info.log_id, 59_990, 50).unwrap();
    assert_eq!(
        (window.total, window.first, window.lines.len()),
        (60_000, 59_990, 10)
    );
    assert_eq!(window.lines[0].number, 59_991);
    assert!(
        window.lines[0].text.ends_with("line 59990 of the app"),
        "{:?}",
        window.lines[0]
    );
    let big = viewer.log_window(&info.log_id, 0, 1_000_000).unwrap();
    assert_eq!(big.lines.len(), 1_000, "never more than a window");

    // Errors only: every hundredth line.
    assert_eq!(
        viewer
            .log_filter(&info.log_id, &[Level::Error], false)
            .unwrap(),
        600
    );
    let errors = viewer.log_window(&info.log_id, 1, 2).unwrap();
    assert_eq!(errors.lines[0].number, 101);
    assert_eq!(errors.lines[0].level, Some(Level::Error));
    let found = viewer.log_search(&info.log_id, "LINE 12300 ").unwrap();
    assert_eq!((found.total, found.positions.as_slice()), (1, &[123][..]));
    // Everything again; jump to 11:00:00, which line 3600 carries.
    assert_eq!(viewer.log_filter(&info.log_id, &[], true).unwrap(), 60_000);
    let at = chrono::DateTime::parse_from_rfc3339("2025-05-01T11:00:00Z")
        .unwrap()
        .to_utc();
    assert_eq!(viewer.log_position_at(&info.log_id, at).unwrap(), 3_600);

    // What cannot be read here is refused in words.
    let err = viewer
        .open_log(&opened.id, "files/acs/acs_1.blog")
        .unwrap_err();
    assert!(
        err.to_string().contains("only its vendor can read it"),
        "{err}"
    );
    let err = viewer
        .open_log(&opened.id, "files/app/other.log")
        .unwrap_err();
    assert!(
        err.to_string().contains("is not a file of this bundle"),
        "{err}"
    );
    viewer.close_log(&info.log_id);
    assert!(viewer.log_window(&info.log_id, 0, 10).is_err());
}

#[test]
fn export_for_vendor_replaces_a_file_only_once_the_new_one_is_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = bundle(dir.path());
    let viewer = Viewer::default();
    let opened = viewer.open(&path).unwrap();
    // The save dialog already asked whether to replace this one.
    let out = dir.path().join("for-vendor.zip");
    fs::write(&out, "an older export").unwrap();
    let export = viewer.export_for_vendor(&opened.id, &out).unwrap();
    assert_eq!((export.path.as_path(), export.files), (out.as_path(), 1));
    let names = crate::support::zip_names(&out);
    assert_eq!(names, ["files/acs/acs_1.blog", "vendor-manifest.json"]);
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".new") || n.ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// The variable that makes the test below the child it starts, and names the bundle it opens.
const HOSTILE_BUNDLE: &str = "CALLSUPPORT_TEST_HOSTILE_BUNDLE";

#[test]
fn a_gibibyte_log_in_one_line_or_all_newlines_opens_in_bounded_memory() {
    if let Some(path) = std::env::var_os(HOSTILE_BUNDLE) {
        return open_and_say_what_it_cost(std::path::Path::new(&path));
    }
    // Before, the line with no end was read whole into memory, and each of a billion newlines
    // took 9 bytes of index.
    // The line with no end is call records as well, which the calls are read from.
    for (what, kind, byte, lines, complete) in [
        ("one line with no newline", "call-operations", b'x', 1, true),
        (
            "nothing but newlines",
            "text",
            b'\n',
            MAX_LINES as u32,
            false,
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = bundle_with(dir.path(), 2048, kind, |app_log| {
            let mut file = fs::File::create(app_log).unwrap();
            std::io::copy(&mut std::io::repeat(byte).take(1 << 30), &mut file).unwrap();
        });
        // In a process of its own, so that its peak memory is the viewer's alone.
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "viewer::a_gibibyte_log_in_one_line_or_all_newlines_opens_in_bounded_memory",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(HOSTILE_BUNDLE, &path)
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&child.stdout);
        assert!(
            child.status.success(),
            "{what}: {out}\n{}",
            String::from_utf8_lossy(&child.stderr)
        );
        let said = |key: &str| {
            out.lines()
                .find_map(|line| line.split_once(key).map(|(_, value)| value))
                .unwrap_or_else(|| panic!("{what}: no `{key}` in {out}"))
                .trim()
                .to_owned()
        };
        let peak: f64 = said("peak MiB:").parse().unwrap();
        println!("{what}: {peak:.1} MiB at the peak");
        assert!(peak < 256.0, "{what}: {peak:.0} MiB at the peak");
        assert_eq!(said("lines:"), lines.to_string(), "{what}");
        assert_eq!(said("complete:"), complete.to_string(), "{what}");
        // Something to show: the first line, cut to what a screen shows.
        let shown: usize = said("first line shows:").parse().unwrap();
        assert_eq!(
            shown,
            if byte == b'x' { MAX_SHOWN_LINE } else { 0 },
            "{what}"
        );
    }
}

/// The child's part: opens the bundle at `path`, its log, a window, a search and its calls, and
/// prints what it saw and its peak memory.
fn open_and_say_what_it_cost(path: &std::path::Path) {
    let viewer = Viewer::default();
    let opened = viewer.open(path).unwrap();
    let info = viewer.open_log(&opened.id, "files/app/app.log").unwrap();
    let window = viewer.log_window(&info.log_id, 0, 100).unwrap();
    let found = viewer.log_search(&info.log_id, "needle").unwrap();
    assert_eq!(found.total, 0);
    let calls = viewer.calls(&opened.id).unwrap();
    println!(
        "calls: {} malformed: {}",
        calls.calls.len(),
        calls.malformed
    );
    println!("lines: {}", info.lines);
    println!("complete: {}", info.complete);
    println!("first line shows: {}", window.lines[0].text.len());
    println!("peak MiB: {:.1}", crate::support::own_peak_mib());
}
