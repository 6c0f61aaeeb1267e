//! api::Viewer on real bundles: the manifest at once, the check, the calls, and a readable log of
//! many lines read a window at a time, filtered by level, searched and jumped to a time.

use std::fmt::Write as _;
use std::fs;

use callsupport_desk::api::Viewer;
use callsupport_desk::api::logview::Level;
use callsupport_desk::bundle::manifest::Consent;
use callsupport_desk::collect::{Plan, collect};
use callsupport_desk::report::{Category, Report};

use crate::support::{config_toml, dead_url, load_config};

const LINES: usize = 60_000;

/// A bundle of one big text log (redaction off: the text goes as it is) and one encrypted file.
fn bundle(dir: &std::path::Path) -> std::path::PathBuf {
    let logs = dir.join("logs");
    fs::create_dir_all(logs.join("acs")).unwrap();
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
    fs::write(logs.join("app.log"), &text).unwrap();
    fs::write(logs.join("acs/acs_1.blog"), vec![7u8; 4096]).unwrap();
    let sources = format!(
        "\n[[sources]]\nid = \"app\"\nname = \"App\"\nroot = '{}'\ninclude = [\"app.log\"]\nkind = \"text\"\n\n[[sources]]\nid = \"acs\"\nname = \"SDK\"\nroot = '{}'\ninclude = [\"*.blog\"]\nkind = \"encrypted\"\n",
        logs.display(),
        logs.join("acs").display()
    );
    let config = load_config(dir, &config_toml(&dead_url(), None, &sources, 200));
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
            survey: None,
        },
        Consent {
            accepted_at: chrono::Utc::now(),
            statement_sha256: "0".repeat(64),
            redaction: false,
            destination: "test".into(),
        },
        &out,
        |_| true,
    )
    .unwrap();
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
