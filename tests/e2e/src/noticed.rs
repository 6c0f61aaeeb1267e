//! Proactive detection end to end: a failing call written into the watched call-operations log
//! while the app runs → the tray agent notices it once the call is over → a desktop notification
//! (the real dunst) → a click → the report screen filled from what was noticed → sent → a ticket.
//! History → Detected lists it with the decision. *Don't ask again for this app* holds. A clean
//! call's end brings the survey, whose answers go with the logs when the user attaches them.

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, ensure};
use chrono::Utc;

use crate::harness::Harness;
use crate::tests::{click, css, screenshot, tickets, wait_text};

const NOTICED: &str = "Several things went wrong in your last call (3 failed operations)";

pub async fn a_failing_call_is_offered_for_a_report(harness: &Harness) -> anyhow::Result<()> {
    // No cooldown, so a second prompt can be answered with *Don't ask again* within the test.
    let config = harness.dir.path().join("detection.toml");
    std::fs::write(
        &config,
        std::fs::read_to_string(&harness.config)? + "\n[detection]\ncooldown_minutes = 0\n",
    )?;
    fresh_detection(harness)?;
    let client = harness.session(&config).await?;
    let result = async {
        let state = agent_has_read(harness).await?;
        let log = operations_log(harness)?;
        let call = "5e1f0c2a-9b7d-4c3e-8a6f-0d2b4c6e8a10";
        failing_call(&log, call)?;

        let (app, _, body) = harness
            .notifications
            .wait_for(NOTICED, Duration::from_secs(30))
            .await
            .context("the agent should offer to report the failing call")?;
        ensure!(app == "Call Support", "{app:?}");
        ensure!(body.contains("Report it"), "{body:?}");
        ensure!(
            harness.notifications.shown().len() == 1,
            "one prompt: {:?}",
            harness.notifications.shown()
        );
        harness.notifications.click()?;

        // The report screen, filled from what was noticed.
        wait_text(&client, "[data-testid=detection-banner]", |t| {
            t.contains("noticed a problem")
        })
        .await
        .context("the report should start from the detection")?;
        let summary = client
            .find(css("[data-testid=summary]"))
            .await?
            .prop("value")
            .await?;
        ensure!(summary.as_deref() == Some(NOTICED), "{summary:?}");
        let description = client
            .find(css("[data-testid=description]"))
            .await?
            .prop("value")
            .await?
            .unwrap_or_default();
        ensure!(
            description.contains("StartVideo · Failed 500")
                && description.contains("Unmute · Failed 408"),
            "{description:?}"
        );
        screenshot(&client, harness, "21-noticed-report.png").await?;
        let record = send_and_find_ticket(&client, harness).await?;
        ensure!(record["summary"] == NOTICED, "{record}");
        ensure!(
            record["report"]["call_ids"]
                .as_array()
                .is_some_and(|ids| ids.iter().any(|i| i == call)),
            "the call goes with the report: {record}"
        );

        // History → Detected.
        click(&client, "done").await?;
        click(&client, "open-history").await?;
        click(&client, "tab-detected").await?;
        let item = wait_text(&client, "[data-testid=detected-item]", |t| {
            t.contains(NOTICED)
        })
        .await?;
        ensure!(item.contains("You were offered to report it"), "{item:?}");
        screenshot(&client, harness, "22-detected.png").await?;

        // *Don't ask again for this app*: the next bad call is listed, never offered.
        failing_call(&log, "7a2c4e6f-1b3d-4f5a-9c8e-2d4f6a8c0e12")?;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while harness.notifications.shown().len() < 2 {
            ensure!(
                std::time::Instant::now() < deadline,
                "no second prompt: {:?}; detected: {:?}; log: {:?}",
                harness.notifications.shown(),
                std::fs::read_to_string(harness.dir.path().join("app-data/detect/detected.jsonl")),
                std::fs::read_to_string(harness.dir.path().join("app-data/logs/callsupport.log"))
                    .map(|t| t
                        .lines()
                        .filter(|l| l.contains("detect"))
                        .collect::<Vec<_>>()
                        .join(" | "))
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        harness
            .notifications
            .choose("Don't ask again for this app")?;
        // The agent keeps the answer with its state.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !std::fs::read_to_string(&state)?.contains("\"call-operations\"") {
            ensure!(
                std::time::Instant::now() < deadline,
                "Don't ask again was not kept; the menu offered {:?}",
                harness.notifications.menu_offered()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        failing_call(&log, "9c4e6a8c-3d5f-4b7a-8e0c-4f6a8c0e2a14")?;
        let journal = harness.dir.path().join("app-data/detect/detected.jsonl");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let text = std::fs::read_to_string(&journal).unwrap_or_default();
            if text.contains("9c4e6a8c-3d5f-4b7a-8e0c-4f6a8c0e2a14") {
                ensure!(
                    text.lines()
                        .last()
                        .is_some_and(|l| l.contains("\"decision\":\"muted\"")),
                    "the muted app's call is listed as muted: {text}"
                );
                break;
            }
            ensure!(
                std::time::Instant::now() < deadline,
                "the third call was never judged"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        ensure!(
            harness.notifications.shown().len() == 2,
            "no prompt after Don't ask again: {:?}",
            harness.notifications.shown()
        );
        Ok(())
    }
    .await;
    harness.close(client, &config).await;
    result
}

pub async fn a_finished_call_brings_the_survey(harness: &Harness) -> anyhow::Result<()> {
    let config = harness.dir.path().join("survey.toml");
    std::fs::write(
        &config,
        std::fs::read_to_string(&harness.config)?
            + "\n[survey]\nenabled = true\nsample_percent = 100\nmin_hours_between = 1\n",
    )?;
    fresh_detection(harness)?;
    let client = harness.session(&config).await?;
    let result = async {
        let log = operations_log(harness)?;
        agent_has_read(harness).await?;
        let call = "3b5d7f91-2c4e-4a6b-8d0f-1e3a5c7e9b24";
        append_call(
            &log,
            call,
            &[
                (40, "Join", 200),
                (30, "StartVideo", 200),
                (2, "HangUp", 200),
            ],
        )?;
        client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(css("[data-testid=survey]"))
            .await
            .context("the survey should come after the call ended")?;

        // Done without the overall rating: refused in words.
        click(&client, "score-audio-1").await?;
        click(&client, "survey-done").await?;
        let refused = wait_text(&client, "[data-testid=survey-error]", |t| !t.is_empty()).await?;
        ensure!(
            refused.starts_with("rate the call overall (1 to 5)"),
            "{refused:?}"
        );

        click(&client, "score-overall-2").await?;
        click(&client, "issue-audio-Echo").await?;
        client
            .find(css("[data-testid=survey-comment]"))
            .await?
            .send_keys("They heard themselves twice.")
            .await?;
        screenshot(&client, harness, "23-survey.png").await?;
        click(&client, "survey-attach").await?;
        wait_text(&client, "[data-testid=survey-banner]", |t| {
            t.contains("survey")
        })
        .await?;
        let summary = client
            .find(css("[data-testid=summary]"))
            .await?
            .prop("value")
            .await?;
        ensure!(
            summary.as_deref() == Some("Call feedback: 2 of 5 · Echo"),
            "{summary:?}"
        );
        let record = send_and_find_ticket(&client, harness).await?;
        let survey = &record["report"]["survey"];
        ensure!(
            survey["overall"]["score"] == 2
                && survey["audio"]["issues"] == serde_json::json!(["Echo"])
                && survey["call_id"] == call
                && survey["comment"] == "They heard themselves twice.",
            "the survey goes with the report: {record}"
        );
        Ok(())
    }
    .await;
    harness.close(client, &config).await;
    result
}

/// Reviews and sends the report on the screen; the ticket as the server stored it.
async fn send_and_find_ticket(
    client: &fantoccini::Client,
    harness: &Harness,
) -> anyhow::Result<serde_json::Value> {
    click(client, "review").await?;
    click(client, "send").await?;
    let ticket = wait_text(client, "[data-testid=ticket-id]", |t| t.starts_with("CS-")).await?;
    let stored = tickets(harness).await?;
    stored["tickets"]
        .as_array()
        .and_then(|all| all.iter().find(|t| t["ticket_id"] == ticket.as_str()))
        .cloned()
        .context("the ticket on the server")
}

/// Waits for the agent's first detection pass, which takes the logs already there as read (only
/// what comes after is news); returns where the agent keeps its state.
async fn agent_has_read(harness: &Harness) -> anyhow::Result<std::path::PathBuf> {
    let state = harness.dir.path().join("app-data/detect/state.json");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !state.exists() {
        ensure!(
            std::time::Instant::now() < deadline,
            "the agent never ran a detection pass"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(state)
}

/// Forgets what an earlier test's agent noticed, muted or asked (the data folder is shared by
/// the run's tests): this test's agent starts as on a new computer.
fn fresh_detection(harness: &Harness) -> anyhow::Result<()> {
    match std::fs::remove_dir_all(harness.dir.path().join("app-data/detect")) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err.into()),
        _ => Ok(()),
    }
}

/// The demo's call-operations log, which the agent watches.
fn operations_log(harness: &Harness) -> anyhow::Result<std::path::PathBuf> {
    std::fs::read_dir(harness.logs.join("call-operations"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .context("the demo's call-operations log")
}

/// Appends a call to the call-operations `log` as the SDK writes one: joined, three operations
/// failed, hung up two seconds ago.
fn failing_call(log: &std::path::Path, call: &str) -> anyhow::Result<()> {
    append_call(
        log,
        call,
        &[
            (40, "Join", 200),
            (30, "StartVideo", 500),
            (20, "StartScreenSharing", 403),
            (10, "Unmute", 408),
            (2, "HangUp", 200),
        ],
    )
}

/// Appends `call`'s operations (seconds ago, name, result signature) to `log`.
fn append_call(
    log: &std::path::Path,
    call: &str,
    operations: &[(i64, &str, u16)],
) -> anyhow::Result<()> {
    let now = Utc::now();
    let mut file = std::fs::OpenOptions::new().append(true).open(log)?;
    for &(ago, name, signature) in operations {
        let at = now - chrono::Duration::seconds(ago);
        writeln!(
            file,
            "{}",
            serde_json::json!({
                "CallClientTimeStamp": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "OperationName": name, "CallId": call, "OperationType": "client-api-request",
                "OperationId": format!("{call}-{ago}"), "DurationMs": "100",
                "ResultType": if signature < 400 { "Succeeded" } else { "Failed" },
                "ResultSignature": signature.to_string(), "SdkVersion": "1.31.1.0",
            })
        )?;
    }
    Ok(())
}
