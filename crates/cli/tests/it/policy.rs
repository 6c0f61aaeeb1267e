//! The organisation's privacy policy, locked in the machine-wide file, kept by both roads that
//! make a report: the `callsupport` binary (`collect`, `report`) and the app's `Desk` (what the
//! window calls). Each switch is run through both, with the user's own file asking for the
//! opposite.

use std::path::{Path, PathBuf};

use callsupport_desk::ErrorCode;
use callsupport_desk::api::{Desk, ReportDraft};
use callsupport_desk::config::{ConfigFiles, load_layered};

use crate::support::{Machine, output_of, write};

const URL: &str = "http://127.0.0.1:9/api/v1/tickets";

/// A machine whose user file allows everything and turns redaction off, under a machine-wide
/// file that locks `[privacy]` to `managed`.
struct Locked {
    machine: Machine,
    user: PathBuf,
    managed: PathBuf,
}

impl Locked {
    fn new(managed_privacy: &str) -> Locked {
        let machine = Machine::new();
        let user = machine.config("user.toml", URL);
        let text = std::fs::read_to_string(&user).unwrap().replace(
            "[privacy]\nredact = true\n",
            "[privacy]\nredact = false\nallow_export = true\nallow_contact_email = true\nallow_screenshot = true\nallow_log_collection = true\n",
        );
        write(&user, text.as_bytes());
        let managed = machine.path("managed.toml");
        write(
            &managed,
            format!("locked = [\"privacy\"]\n[privacy]\n{managed_privacy}\n").as_bytes(),
        );
        Locked {
            machine,
            user,
            managed,
        }
    }

    /// `callsupport collect --yes --out OUT --summary … EXTRA…` under both files.
    fn cli_collect(&self, out: &Path, extra: &[&str]) -> crate::support::Run {
        let mut command = self.machine.command();
        command
            .env("CALLSUPPORT_MANAGED_CONFIG", &self.managed)
            .args(["collect", "--yes", "--config", self.user.to_str().unwrap()])
            .args(["--out", out.to_str().unwrap(), "--summary", "no audio"])
            .args(extra);
        crate::support::Run {
            output: output_of(&mut command),
        }
    }

    /// The app's `Desk` over the same two files.
    fn desk(&self) -> Desk {
        let files = ConfigFiles {
            managed: Some(self.managed.clone()),
            user: Some(self.user.clone()),
            named: true,
            policy: None,
        };
        let config = load_layered(&files).unwrap().config;
        Desk::new(config, self.machine.data())
    }
}

/// The run was refused (exit 1) with its last line the error naming each of `needles`, after
/// the warning that the user's own `[privacy]` values are ignored.
fn refused(run: crate::support::Run, needles: &[&str]) -> String {
    let stderr = run.stderr();
    assert_eq!(run.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines[0].starts_with("warning: ") && lines[0].contains("managed by your organisation"),
        "{stderr}"
    );
    let error = lines.last().unwrap();
    assert!(error.starts_with("error: "), "{stderr}");
    assert_eq!(stderr.matches("error: ").count(), 1, "{stderr}");
    for needle in needles {
        assert!(error.contains(needle), "`{needle}` not in {error}");
    }
    (*error).to_owned()
}

fn draft(extra: serde_json::Value) -> ReportDraft {
    let mut draft = serde_json::json!({ "summary": "no audio" });
    draft
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    serde_json::from_value(draft).unwrap()
}

fn manifest_of(bundle: &Path) -> serde_json::Value {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(bundle).unwrap()).unwrap();
    serde_json::from_reader(zip.by_name("manifest.json").unwrap()).unwrap()
}

/// A real PNG of 1×1 pixel.
fn png(path: &Path) {
    write(
        path,
        &hex_bytes(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000\
             1f15c4890000000d49444154789c6360f8ffff3f0005fe02fea7d6a4e40000000049454e44ae426082",
        ),
    );
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_export_off_refuses_a_file_in_the_cli_and_the_app() {
    let locked = Locked::new("allow_export = false");
    let out = locked.machine.out("refused.zip");
    let line = refused(locked.cli_collect(&out, &[]), &["privacy.allow_export"]);
    assert!(line.contains("send the report instead"), "{line}");
    assert!(!out.exists(), "no bundle written");

    let desk = locked.desk();
    let err = desk
        .prepare_report(draft(serde_json::json!({ "to_file": true })))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Managed, "{err}");
    // A report prepared for sending cannot be saved either.
    let view = desk.prepare_report(draft(serde_json::json!({}))).unwrap();
    let err = desk
        .export_report(&view.report_id, &out, |_| true)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Managed, "{err}");
    assert!(!out.exists());
}

#[test]
fn allow_contact_email_off_refuses_an_address_in_the_cli_and_the_app() {
    let locked = Locked::new("allow_contact_email = false");
    let out = locked.machine.out("contact.zip");
    refused(
        locked.cli_collect(&out, &["--contact", "jane@contoso.com"]),
        &["privacy.allow_contact_email"],
    );
    assert!(!out.exists());
    let err = locked
        .desk()
        .prepare_report(draft(serde_json::json!({ "contact": "jane@contoso.com" })))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Managed, "{err}");

    // Without an address both go on.
    locked.cli_collect(&out, &[]).success();
    assert!(manifest_of(&out)["report"]["contact"].is_null());
}

#[test]
fn allow_screenshot_off_refuses_a_picture_in_the_cli_and_the_app() {
    let locked = Locked::new("allow_screenshot = false");
    let shot = locked.machine.path("shot.png");
    png(&shot);
    let out = locked.machine.out("shot.zip");
    refused(
        locked.cli_collect(&out, &["--screenshot", shot.to_str().unwrap()]),
        &["privacy.allow_screenshot"],
    );
    assert!(!out.exists());
    let desk = locked.desk();
    let err = desk.keep_screenshot(1, 1, &[0, 0, 0, 255]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Managed, "{err}");
    assert_eq!(
        desk.screenshot_allowed().unwrap_err().code(),
        ErrorCode::Managed
    );
}

#[test]
fn a_screenshot_where_allowed_goes_in_and_one_that_is_not_a_png_is_named() {
    let locked = Locked::new("allow_screenshot = true");
    let shot = locked.machine.path("shot.png");
    png(&shot);
    let out = locked.machine.out("with-shot.zip");
    locked
        .cli_collect(&out, &["--screenshot", shot.to_str().unwrap()])
        .success();
    let manifest = manifest_of(&out);
    let files = manifest["files"].as_array().unwrap();
    assert!(files.iter().any(|f| f["kind"] == "screenshot"), "{files:?}");
    let fake = locked.machine.path("fake.png");
    write(&fake, b"not a picture at all, just text");
    refused(
        locked.cli_collect(
            &locked.machine.out("fake.zip"),
            &["--screenshot", fake.to_str().unwrap()],
        ),
        &["not a PNG picture", "fake.png"],
    );
}

#[test]
fn allow_log_collection_off_sends_no_file_from_the_cli_or_the_app() {
    let locked = Locked::new("allow_log_collection = false");
    let out = locked.machine.out("words.zip");
    let run = locked.cli_collect(&out, &[]).success();
    assert!(
        run.stderr().contains("privacy.allow_log_collection"),
        "{}",
        run.stderr()
    );
    let manifest = manifest_of(&out);
    assert_eq!(manifest["files"], serde_json::json!([]), "{manifest}");
    assert!(
        manifest["consent"]["statement"]
            .as_str()
            .unwrap()
            .contains("no files"),
        "{manifest}"
    );

    let view = locked
        .desk()
        .prepare_report(draft(serde_json::json!({})))
        .unwrap();
    assert!(view.groups.is_empty(), "the app offers no file either");
    assert_eq!(view.file_count, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redact_on_is_kept_in_the_cli_and_the_app_whatever_the_user_file_says() {
    let locked = Locked::new("redact = true");
    // An address in the app's log, which must not leave the machine.
    let log = locked.machine.app_logs().join("app.log");
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push_str("2025-05-01T10:01:00Z INFO signed in as jane.doe@contoso.com\n");
    write(&log, text.as_bytes());

    let out = locked.machine.out("cli.zip");
    locked.cli_collect(&out, &[]).success();
    let app_out = locked.machine.out("app.zip");
    let desk = locked.desk();
    let view = desk
        .prepare_report(draft(serde_json::json!({ "to_file": true })))
        .unwrap();
    assert!(
        view.statement
            .iter()
            .any(|p| p.contains("replaced before sending")),
        "{:?}",
        view.statement
    );
    desk.export_report(&view.report_id, &app_out, |_| true)
        .await
        .unwrap();
    for bundle in [&out, &app_out] {
        let manifest = manifest_of(bundle);
        assert_eq!(
            manifest["consent"]["redaction"],
            true,
            "{}",
            bundle.display()
        );
        let mut zip = zip::ZipArchive::new(std::fs::File::open(bundle).unwrap()).unwrap();
        let mut app_log = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("files/app/app.log").unwrap(), &mut app_log)
            .unwrap();
        assert!(
            !app_log.contains("jane.doe@contoso.com") && app_log.contains("<email-"),
            "{}: {app_log}",
            bundle.display()
        );
    }
}
