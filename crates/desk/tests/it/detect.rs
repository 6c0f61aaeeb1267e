//! Proactive detection on recorded call-operations streams (generated from the documented
//! schema), written into a watched folder and replayed accelerated (the clock passed in) and at
//! real speed: the right detections fire once, nothing fires for a clean call or while the call
//! goes on, cooldowns and caps hold, positions survive a restart and rotation.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use callsupport_desk::config::Config;
use callsupport_desk::detect::Rule;
use callsupport_desk::detect::journal::Journal;
use callsupport_desk::detect::prompt::Decision;
use callsupport_desk::detect::watch::Watcher;
use chrono::{DateTime, Duration, Utc};

/// One call client operations record, with every field the reference documents.
fn record(call: &str, at: DateTime<Utc>, name: &str, duration_ms: u64, signature: u16) -> String {
    let result = if signature < 400 {
        "Succeeded"
    } else {
        "Failed"
    };
    serde_json::json!({
        "CallClientTimeStamp": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "OperationName": name,
        "CallId": call,
        "ParticipantId": "94e5c85b-8a79-4c44-b0a4-4c1a1b2c3d4e",
        "OperationType": "client-api-request",
        "OperationId": uuid::Uuid::now_v7().to_string(),
        "DurationMs": duration_ms.to_string(),
        "ResultType": result,
        "ResultSignature": signature.to_string(),
        "SdkVersion": "1.29.1",
        "UserAgent": "azure-communication-services/1.3.1-beta.1 (calling)",
        "ClientInstanceId": "2e8d7f1c-0000-4000-8000-000000000001",
        "EndpointId": "5f1e2d3c-0000-4000-8000-000000000002",
        "OperationPayload": if signature < 400 { "{}".to_owned() } else { format!("{{\"error\":{signature}}}") },
    })
    .to_string()
}

/// A clean call: joined, worked, hung up.
fn clean_call(call: &str, t: DateTime<Utc>) -> Vec<String> {
    vec![
        record(call, t, "Join", 900, 200),
        record(call, t + Duration::seconds(5), "StartVideo", 300, 200),
        record(call, t + Duration::seconds(60), "Mute", 40, 200),
        record(call, t + Duration::seconds(120), "HangUp", 200, 200),
    ]
}

/// A call with three failures that stops without a hang-up.
fn failing_call(call: &str, t: DateTime<Utc>) -> Vec<String> {
    vec![
        record(call, t, "Join", 900, 200),
        record(call, t + Duration::seconds(10), "StartVideo", 3000, 500),
        record(
            call,
            t + Duration::seconds(20),
            "StartScreenSharing",
            1500,
            403,
        ),
        record(call, t + Duration::seconds(30), "Unmute", 100, 408),
    ]
}

struct Setup {
    dir: tempfile::TempDir,
    config: Config,
    log: PathBuf,
}

impl Setup {
    fn new(extra: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let ops = dir.path().join("ops");
        let app = dir.path().join("app");
        fs::create_dir_all(&ops).unwrap();
        fs::create_dir_all(&app).unwrap();
        let text = format!(
            r#"
[ticket_api]
url = "https://support.example.com/api/v1/tickets"

[[sources]]
id = "ops"
name = "Call records"
root = '{}'
include = ["*.jsonl"]
kind = "call-operations"

[[sources]]
id = "app"
name = "Calling app"
root = '{}'
include = ["*.log"]
kind = "text"
{extra}
"#,
            ops.display(),
            app.display()
        );
        let config = Config::parse(&dir.path().join("config.toml"), &text).unwrap();
        Setup {
            log: ops.join("operations.jsonl"),
            config,
            dir,
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn watcher(&self) -> Watcher {
        Watcher::new(&self.config, &self.data())
    }

    fn append(&self, path: &Path, lines: &[String]) {
        let mut file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        for line in lines {
            writeln!(file, "{line}").unwrap();
        }
    }
}

fn rules(pass: &callsupport_desk::detect::watch::Pass) -> Vec<(Rule, Option<String>)> {
    pass.detected
        .iter()
        .map(|d| (d.detection.rule.clone(), d.detection.call_id.clone()))
        .collect()
}

#[test]
fn a_failing_call_is_judged_once_when_it_is_over_and_a_clean_one_never() {
    let setup = Setup::new("");
    let t0: DateTime<Utc> = "2026-11-25T09:00:00Z".parse().unwrap();
    let day = t0.date_naive();
    fs::write(&setup.log, "").unwrap();
    let mut watcher = setup.watcher();
    assert!(watcher.pass(t0, day).detected.is_empty());

    // A clean call, replayed as it was written: nothing, before or after its end.
    for (i, line) in clean_call("clean-1", t0).iter().enumerate() {
        setup.append(&setup.log, std::slice::from_ref(line));
        let pass = watcher.pass(t0 + Duration::seconds(40 * i as i64 + 1), day);
        assert!(pass.detected.is_empty());
    }
    assert!(
        watcher
            .pass(t0 + Duration::minutes(30), day)
            .detected
            .is_empty()
    );

    // A failing call: silent while it goes on, then judged once.
    let t1 = t0 + Duration::hours(1);
    setup.append(&setup.log, &failing_call("bad-1", t1));
    let during = watcher.pass(t1 + Duration::minutes(2), day);
    assert!(
        during.detected.is_empty(),
        "nothing while the call may go on"
    );
    assert!(during.in_call);
    let after = watcher.pass(t1 + Duration::minutes(11), day);
    assert!(!after.in_call);
    assert_eq!(
        rules(&after),
        [
            (Rule::UnexpectedEnd, Some("bad-1".into())),
            (Rule::RepeatedFailures, Some("bad-1".into())),
        ]
    );
    let (first, with) = after.prompt().expect("one prompt");
    assert_eq!(first.detection.summary, "Your last call ended unexpectedly");
    assert_eq!(with.len(), 1);
    assert_eq!(
        with[0].detection.details,
        [
            "StartVideo · Failed 500",
            "StartScreenSharing · Failed 403",
            "Unmute · Failed 408"
        ]
    );
    assert!(
        watcher
            .pass(t1 + Duration::minutes(40), day)
            .detected
            .is_empty(),
        "fires once"
    );
    // Late records of a judged call start nothing.
    setup.append(
        &setup.log,
        &[record(
            "bad-1",
            t1 + Duration::minutes(41),
            "HangUp",
            10,
            500,
        )],
    );
    assert!(
        watcher
            .pass(t1 + Duration::minutes(60), day)
            .detected
            .is_empty()
    );
}

#[test]
fn a_join_that_never_succeeds_is_said_once_a_minute_later_and_a_new_call_ends_the_last() {
    let setup = Setup::new("");
    let t0: DateTime<Utc> = "2026-11-25T09:00:00Z".parse().unwrap();
    let day = t0.date_naive();
    fs::write(&setup.log, "").unwrap();
    let mut watcher = setup.watcher();
    watcher.pass(t0, day);
    setup.append(
        &setup.log,
        &[
            record("nojoin", t0, "Join", 10_000, 408),
            record("nojoin", t0 + Duration::seconds(15), "Join", 10_000, 500),
        ],
    );
    assert!(
        watcher
            .pass(t0 + Duration::seconds(50), day)
            .detected
            .is_empty()
    );
    let pass = watcher.pass(t0 + Duration::seconds(90), day);
    assert_eq!(rules(&pass), [(Rule::JoinFailed, Some("nojoin".into()))]);
    assert_eq!(pass.detected[0].detection.details.len(), 2);
    assert_eq!(pass.detected[0].decision, Decision::Prompted);

    // A call whose records stop, then another call begins: the first is over at once, and the
    // prompt for it waits out the cooldown.
    let t1 = t0 + Duration::minutes(5);
    setup.append(&setup.log, &[record("dropped", t1, "Join", 500, 200)]);
    watcher.pass(t1 + Duration::seconds(1), day);
    setup.append(
        &setup.log,
        &[record("next", t1 + Duration::minutes(2), "Join", 500, 200)],
    );
    let pass = watcher.pass(t1 + Duration::minutes(2), day);
    assert_eq!(
        rules(&pass),
        [(Rule::UnexpectedEnd, Some("dropped".into()))]
    );
    assert!(
        matches!(pass.detected[0].decision, Decision::Cooldown { until } if until == t0 + Duration::seconds(90) + Duration::minutes(30))
    );
    assert!(pass.in_call, "the next call goes on");
}

#[test]
fn cooldown_and_daily_cap_hold_over_a_day_of_bad_calls_and_the_list_keeps_them_all() {
    let setup = Setup::new("[detection]\ncooldown_minutes = 30\ndaily_cap = 3\n");
    let t0: DateTime<Utc> = "2026-11-25T06:00:00Z".parse().unwrap();
    let day = t0.date_naive();
    fs::write(&setup.log, "").unwrap();
    let mut watcher = setup.watcher();
    watcher.pass(t0, day);
    let mut prompts = Vec::new();
    // A bad call every ten minutes for twelve hours.
    for i in 0..72 {
        let t = t0 + Duration::minutes(10 * i);
        setup.append(&setup.log, &failing_call(&format!("call-{i}"), t));
        setup.append(
            &setup.log,
            &[record(
                &format!("call-{i}"),
                t + Duration::minutes(1),
                "HangUp",
                100,
                200,
            )],
        );
        let pass = watcher.pass(t + Duration::minutes(2), day);
        assert_eq!(pass.detected.len(), 1, "call {i}: {:?}", rules(&pass));
        if pass.prompt().is_some() {
            prompts.push(t + Duration::minutes(2));
        }
    }
    assert_eq!(prompts.len(), 3, "the daily cap: {prompts:?}");
    for pair in prompts.windows(2) {
        assert!(pair[1] - pair[0] >= Duration::minutes(30), "{prompts:?}");
    }
    let listed = Journal::new(&setup.data()).list();
    assert_eq!(listed.len(), 72, "every detection is listed");
    assert_eq!(listed[0].detection.call_id.as_deref(), Some("call-71"));
    assert_eq!(
        listed
            .iter()
            .filter(|d| d.decision == Decision::DailyCap)
            .count(),
        72 - 3
            - listed
                .iter()
                .filter(|d| matches!(d.decision, Decision::Cooldown { .. }))
                .count()
    );
}

#[test]
fn positions_survive_a_restart_and_rotation_and_the_first_run_skips_history() {
    let setup = Setup::new("");
    let t0: DateTime<Utc> = "2026-11-25T09:00:00Z".parse().unwrap();
    let day = t0.date_naive();
    // History from before the install: never news.
    setup.append(&setup.log, &failing_call("old", t0 - Duration::days(1)));
    let mut watcher = setup.watcher();
    assert!(watcher.pass(t0, day).detected.is_empty());
    assert!(
        watcher
            .pass(t0 + Duration::hours(1), day)
            .detected
            .is_empty()
    );

    // Written while the agent was not running: read after the restart, from where it stopped.
    drop(watcher);
    let t1 = t0 + Duration::minutes(70);
    setup.append(&setup.log, &failing_call("while-away", t1));
    let mut watcher = setup.watcher();
    let pass = watcher.pass(t1 + Duration::minutes(15), day);
    assert_eq!(
        rules(&pass)
            .into_iter()
            .map(|(_, c)| c.unwrap())
            .collect::<Vec<_>>(),
        ["while-away", "while-away"],
        "only the new call, not the old one again"
    );

    // Rotated: the log renamed and a new one begun; the new one is read from its start.
    fs::rename(&setup.log, setup.log.with_extension("jsonl.1")).unwrap();
    let t2 = t1 + Duration::minutes(20);
    setup.append(
        &setup.log,
        &[record("after-rotation", t2, "Join", 10_000, 408)],
    );
    let pass = watcher.pass(t2 + Duration::minutes(2), day);
    assert_eq!(
        rules(&pass),
        [(Rule::JoinFailed, Some("after-rotation".into()))]
    );
}

#[test]
fn a_text_pattern_waits_for_the_call_to_end_and_a_muted_app_never_prompts() {
    let setup = Setup::new(
        "[[detection.patterns]]\nsource = \"app\"\npattern = '(?i)audio device (lost|removed)'\nname = \"The microphone stopped working\"\n",
    );
    let t0: DateTime<Utc> = "2026-11-25T09:00:00Z".parse().unwrap();
    let day = t0.date_naive();
    let text = setup.dir.path().join("app/calling-app.log");
    fs::write(&setup.log, "").unwrap();
    fs::write(&text, "").unwrap();
    let mut watcher = setup.watcher();
    watcher.pass(t0, day);

    setup.append(&setup.log, &[record("c1", t0, "Join", 500, 200)]);
    setup.append(
        &text,
        &[
            "2026-11-25 09:00:30 INFO all fine".into(),
            "2026-11-25 09:00:31 WARN Audio device removed: USB headset".into(),
            "2026-11-25 09:00:32 WARN audio device lost again".into(),
        ],
    );
    let during = watcher.pass(t0 + Duration::seconds(40), day);
    assert!(during.detected.is_empty(), "held while in the call");
    setup.append(
        &setup.log,
        &[record("c1", t0 + Duration::minutes(3), "HangUp", 100, 200)],
    );
    let after = watcher.pass(t0 + Duration::minutes(4), day);
    assert_eq!(
        rules(&after),
        [(
            Rule::Pattern {
                name: "The microphone stopped working".into()
            },
            Some("c1".into())
        )],
        "one detection for two matching lines"
    );
    assert!(after.detected[0].detection.details[0].contains("USB headset"));

    watcher.mute("ops");
    let t1 = t0 + Duration::hours(2);
    setup.append(&setup.log, &failing_call("c2", t1));
    let pass = watcher.pass(t1 + Duration::minutes(15), day);
    assert!(!pass.detected.is_empty());
    assert!(pass.detected.iter().all(|d| d.decision == Decision::Muted));
    // The mute is kept across a restart.
    let mut watcher = setup.watcher();
    setup.append(&setup.log, &failing_call("c3", t1 + Duration::hours(1)));
    let pass = watcher.pass(t1 + Duration::minutes(75), day);
    assert!(pass.detected.iter().all(|d| d.decision == Decision::Muted));
}

#[test]
fn replayed_at_real_speed_the_detection_comes_seconds_after_the_hang_up() {
    let setup = Setup::new("");
    fs::write(&setup.log, "").unwrap();
    let mut watcher = setup.watcher();
    watcher.pass(Utc::now(), Utc::now().date_naive());
    let start = Utc::now();
    let lines = [
        ("Join", 200u16),
        ("StartVideo", 500),
        ("StartVideo", 200),
        ("HangUp", 200),
    ];
    let mut fired_at = None;
    let mut hung_up_at = None;
    for step in 0..40 {
        if let Some((name, signature)) = lines.get(step) {
            setup.append(
                &setup.log,
                &[record("live", Utc::now(), name, 50, *signature)],
            );
            if *name == "HangUp" {
                hung_up_at = Some(Utc::now());
            }
        }
        let now = Utc::now();
        let pass = watcher.pass(now, now.date_naive());
        if !pass.detected.is_empty() {
            assert!(fired_at.is_none(), "fires once");
            assert_eq!(rules(&pass), [(Rule::FailedOperation, Some("live".into()))]);
            assert_eq!(pass.detected[0].decision, Decision::Prompted);
            fired_at = Some(now);
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    let (fired, hung_up) = (fired_at.expect("the call was judged"), hung_up_at.unwrap());
    let after = fired - hung_up;
    assert!(
        after >= Duration::seconds(5) && after < Duration::seconds(7),
        "judged {after} after the hang-up (the call began at {start})"
    );
}

#[test]
fn bad_detection_settings_are_refused_with_their_key() {
    for (extra, key, words) in [
        (
            "[[detection.patterns]]\nsource = \"app\"\npattern = \"(unclosed\"\nname = \"x\"\n",
            "detection.patterns[0].pattern",
            "not a regular expression",
        ),
        (
            "[[detection.patterns]]\nsource = \"nope\"\npattern = \"x\"\nname = \"x\"\n",
            "detection.patterns[0].source",
            "no source has the id `nope`; use one of: ops, app",
        ),
        (
            "[[detection.patterns]]\nsource = \"ops\"\npattern = \"x\"\nname = \"x\"\n",
            "detection.patterns[0].source",
            "not of kind `text`",
        ),
        (
            "[detection]\ncall_end_minutes = 0\n",
            "detection.call_end_minutes",
            "between 1 and 1440",
        ),
        (
            "[detection]\ncooldown = 5\n",
            "detection",
            "unknown field `cooldown`",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "[ticket_api]\nurl = \"https://support.example.com/api/v1/tickets\"\n\n[[sources]]\nid = \"ops\"\nname = \"o\"\nroot = \"/tmp\"\nkind = \"call-operations\"\n\n[[sources]]\nid = \"app\"\nname = \"a\"\nroot = \"/tmp\"\nkind = \"text\"\n{extra}"
        );
        let err = Config::parse(&dir.path().join("c.toml"), &text).unwrap_err();
        let shown = err.to_string();
        assert!(
            err.key.as_deref().is_some_and(|k| k.starts_with(key)) && shown.contains(words),
            "{extra}: {shown} (key {:?})",
            err.key
        );
        assert!(err.line.is_some(), "{shown}");
    }
}

#[test]
fn a_report_starts_from_the_detection_the_user_answered() {
    let setup = Setup::new("");
    let t0: DateTime<Utc> = "2026-11-25T09:00:00Z".parse().unwrap();
    fs::write(&setup.log, "").unwrap();
    let mut watcher = setup.watcher();
    watcher.pass(t0, t0.date_naive());
    setup.append(&setup.log, &failing_call("bad-call", t0));
    let pass = watcher.pass(t0 + Duration::minutes(11), t0.date_naive());
    let (first, _) = pass.prompt().unwrap();

    let desk = callsupport_desk::api::Desk::new(setup.config.clone(), setup.data());
    assert_eq!(desk.detected().len(), 2);
    let prefill = desk.open_detection(&first.detection.id).unwrap();
    assert_eq!(prefill.summary, "Your last call ended unexpectedly");
    assert_eq!(
        prefill.category,
        callsupport_desk::report::Category::Dropped
    );
    assert_eq!(prefill.call_ids, ["bad-call"]);
    assert!(
        prefill
            .description
            .contains("StartScreenSharing · Failed 403"),
        "the other detection of the call and its evidence: {}",
        prefill.description
    );
    assert_eq!(desk.overview().detection, Some(prefill));
    desk.dismiss_detection();
    assert_eq!(desk.overview().detection, None);

    let err = desk.open_detection("not-a-detection").unwrap_err();
    assert_eq!(err.code(), callsupport_desk::ErrorCode::ReportInvalid);
    assert!(err.to_string().contains("no detection `not-a-detection`"));
}

#[test]
fn the_survey_asks_about_a_finished_call_now_and_then_never_over_a_prompt() {
    let setup =
        Setup::new("[survey]\nenabled = true\nsample_percent = 100\nmin_hours_between = 8\n");
    let t0: DateTime<Utc> = "2026-11-25T08:00:00Z".parse().unwrap();
    let day = t0.date_naive();
    fs::write(&setup.log, "").unwrap();
    let mut watcher = setup.watcher();
    watcher.pass(t0, day);

    // While the call goes on: nothing. Once it is over: that call.
    setup.append(&setup.log, &clean_call("first", t0)[..3]);
    assert_eq!(watcher.pass(t0 + Duration::seconds(90), day).survey, None);
    setup.append(&setup.log, &clean_call("first", t0)[3..]);
    assert_eq!(
        watcher
            .pass(t0 + Duration::minutes(3), day)
            .survey
            .as_deref(),
        Some("first")
    );
    // An hour later another call: too soon.
    let t1 = t0 + Duration::hours(1);
    setup.append(&setup.log, &clean_call("second", t1));
    assert_eq!(watcher.pass(t1 + Duration::minutes(3), day).survey, None);

    // Nine hours on, a call whose trouble was prompted for: the prompt is enough.
    let t2 = t0 + Duration::hours(9);
    setup.append(&setup.log, &failing_call("troubled", t2));
    let pass = watcher.pass(t2 + Duration::minutes(15), day);
    assert!(pass.prompt().is_some());
    assert_eq!(pass.survey, None);
    // A join that never worked is no call to rate; the next good one is.
    let t3 = t2 + Duration::minutes(30);
    setup.append(&setup.log, &[record("nojoin", t3, "Join", 500, 408)]);
    assert_eq!(watcher.pass(t3 + Duration::minutes(2), day).survey, None);
    let t4 = t3 + Duration::minutes(10);
    setup.append(&setup.log, &clean_call("third", t4));
    assert_eq!(
        watcher
            .pass(t4 + Duration::minutes(3), day)
            .survey
            .as_deref(),
        Some("third")
    );

    // Off (the default): never.
    let off = Setup::new("");
    fs::write(&off.log, "").unwrap();
    let mut watcher = off.watcher();
    watcher.pass(t0, day);
    off.append(&off.log, &clean_call("any", t0));
    assert_eq!(watcher.pass(t0 + Duration::minutes(3), day).survey, None);
}
