//! The end-to-end tests. Each starts its own app instance and closes it at the end.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use fantoccini::{Client, Locator};

use crate::checks;
use callsupport_ticket_server::ServerConfig;

use crate::harness::{AGENT_TOKEN, Harness, SUBMIT_TOKEN, free_port};

type TestFn = for<'a> fn(&'a Harness) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + 'a>>;

pub fn all() -> Vec<(&'static str, TestFn)> {
    vec![
        ("report_is_sent_and_stored_intact", |h| {
            Box::pin(report_is_sent_and_stored_intact(h))
        }),
        ("unreachable_server_keeps_the_report", |h| {
            Box::pin(unreachable_server_keeps_the_report(h))
        }),
        ("preview_then_save_to_file", |h| {
            Box::pin(crate::consent::preview_then_save_to_file(h))
        }),
        ("cancel_during_upload_sends_nothing", |h| {
            Box::pin(crate::cancel::cancel_during_upload_sends_nothing(h))
        }),
        ("the_report_flow_works_with_the_keyboard_alone", |h| {
            Box::pin(crate::keyboard::the_report_flow_works_with_the_keyboard_alone(h))
        }),
        ("text_fits_at_200_percent", |h| {
            Box::pin(crate::look::text_fits_at_200_percent(h))
        }),
        ("a_screenshot_goes_with_the_report", |h| {
            Box::pin(crate::picture::a_screenshot_goes_with_the_report(h))
        }),
        ("a_gzip_log_is_previewed_and_sent_cleaned", |h| {
            Box::pin(crate::privacy::a_gzip_log_is_previewed_and_sent_cleaned(h))
        }),
        ("a_locked_policy_is_refused_by_the_app_and_the_cli", |h| {
            Box::pin(crate::privacy::a_locked_policy_is_refused_by_the_app_and_the_cli(h))
        }),
        (
            "a_sealed_bundle_opens_in_the_viewer_with_the_agents_key",
            |h| {
                Box::pin(crate::privacy::a_sealed_bundle_opens_in_the_viewer_with_the_agents_key(h))
            },
        ),
        ("a_received_bundle_shows_its_calls_and_failures", |h| {
            Box::pin(crate::viewer::a_received_bundle_shows_its_calls_and_failures(h))
        }),
        ("a_locked_setting_cannot_be_changed", |h| {
            Box::pin(crate::settings::a_locked_setting_cannot_be_changed(h))
        }),
        ("a_broken_user_file_is_named_and_the_app_starts", |h| {
            Box::pin(crate::settings::a_broken_user_file_is_named_and_the_app_starts(h))
        }),
        ("a_link_from_support_adds_logs_to_its_ticket", |h| {
            Box::pin(crate::reach::a_link_from_support_adds_logs_to_its_ticket(h))
        }),
        ("closed_it_ends_and_the_tray_brings_it_back", |h| {
            Box::pin(crate::reach::closed_it_ends_and_the_tray_brings_it_back(h))
        }),
        ("a_failing_call_is_offered_for_a_report", |h| {
            Box::pin(crate::noticed::a_failing_call_is_offered_for_a_report(h))
        }),
        ("a_finished_call_brings_the_survey", |h| {
            Box::pin(crate::noticed::a_finished_call_brings_the_survey(h))
        }),
        // Last: it searches what all the others left.
        ("no_token_is_written", |h| {
            Box::pin(crate::secrets::no_token_is_written(h))
        }),
    ]
}

pub const WAIT: Duration = Duration::from_secs(30);

pub fn css(selector: &str) -> Locator<'_> {
    Locator::Css(selector)
}

/// axe-core, from the UI's npm packages (`ui/package.json` pins it).
const AXE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../ui/node_modules/axe-core/axe.min.js"
);

/// Runs axe-core on the screen shown: any WCAG 2.1 A/AA violation fails the test, listed with
/// the elements it concerns.
pub async fn check_accessibility(client: &Client, name: &str) -> anyhow::Result<()> {
    let axe = std::fs::read_to_string(AXE)
        .with_context(|| format!("cannot read {AXE}; run `npm ci` in ui/"))?;
    client
        .execute(&format!("{axe}\nreturn true;"), vec![])
        .await
        .context("loading axe-core into the page")?;
    let found = client
        .execute_async(
            "const done = arguments[arguments.length - 1];\n\
             axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})\n\
               .then((r) => done(r.violations.map((v) => ({id: v.id, help: v.help, nodes: v.nodes.map((n) => n.target.join(' '))}))))\n\
               .catch((e) => done([{id: 'axe-error', help: String(e), nodes: []}]));",
            vec![],
        )
        .await
        .context("running axe-core")?;
    let violations = found.as_array().cloned().unwrap_or_default();
    ensure!(
        violations.is_empty(),
        "{name}: axe-core found {} accessibility violation(s):\n{}",
        violations.len(),
        violations
            .iter()
            .map(|v| format!("  {} ({}): {}", v["id"], v["help"], v["nodes"]))
            .collect::<Vec<_>>()
            .join("\n")
    );
    Ok(())
}

/// Saves a screenshot of the screen shown under `name`, after checking its accessibility.
pub async fn screenshot(client: &Client, harness: &Harness, name: &str) -> anyhow::Result<()> {
    check_accessibility(client, name).await?;
    // The DOM can be ready before the first paint: wait for two frames to be drawn.
    client
        .execute_async(
            "const done = arguments[arguments.length - 1];\n\
             requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
            vec![],
        )
        .await
        .context("waiting for the window to paint")?;
    let png = client.screenshot().await.context("WebDriver screenshot")?;
    ensure!(
        png.len() > 4_000,
        "{name} is blank ({} bytes): the window did not paint",
        png.len()
    );
    std::fs::write(harness.out.join(name), png)?;
    Ok(())
}

/// Waits for the element with `data-testid` `test_id` and clicks it.
pub async fn click(client: &Client, test_id: &str) -> anyhow::Result<()> {
    client
        .wait()
        .at_most(WAIT)
        .for_element(css(&format!("[data-testid={test_id}]")))
        .await
        .with_context(|| format!("`{test_id}` did not appear"))?
        .click()
        .await?;
    Ok(())
}

/// Waits for the report form and types `summary` into it.
pub async fn type_summary(client: &Client, summary: &str) -> anyhow::Result<()> {
    type_into(client, "summary", summary).await
}

/// Waits for the field with `data-testid` `test_id` and types `text` into it after what it holds.
pub async fn type_into(client: &Client, test_id: &str, text: &str) -> anyhow::Result<()> {
    client
        .wait()
        .at_most(WAIT)
        .for_element(css(&format!("[data-testid={test_id}]")))
        .await
        .with_context(|| format!("`{test_id}` did not appear"))?
        .send_keys(text)
        .await
        .with_context(|| format!("cannot type into `{test_id}`"))?;
    Ok(())
}

/// The ticket server's list of tickets, as an agent sees it.
pub async fn tickets(harness: &Harness) -> anyhow::Result<serde_json::Value> {
    Ok(reqwest::Client::new()
        .get(format!("http://{}/api/v1/tickets", harness.server_addr()))
        .bearer_auth(AGENT_TOKEN)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

/// Waits until the element's text satisfies `ok`, and returns that text.
pub async fn wait_text(
    client: &Client,
    selector: &str,
    ok: impl Fn(&str) -> bool,
) -> anyhow::Result<String> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Ok(element) = client.find(css(selector)).await {
            let text = element.text().await.unwrap_or_default();
            if ok(&text) {
                return Ok(text);
            }
            if std::time::Instant::now() > deadline {
                bail!("`{selector}` says {text:?}, which is not what was expected");
            }
        } else if std::time::Instant::now() > deadline {
            bail!("`{selector}` did not appear within {} s", WAIT.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The whole path: report → consent → send → ticket id, then the server's copy is checked.
async fn report_is_sent_and_stored_intact(harness: &Harness) -> anyhow::Result<()> {
    let client = harness.session(&harness.config).await?;
    let result = async {
        let ready = wait_text(&client, "[data-testid=files-ready]", |t| {
            t.contains("ready")
        })
        .await?;
        ensure!(
            ready.contains("7 log files"),
            "the report screen should count the 6 demo files and our own log: {ready:?}"
        );
        screenshot(&client, harness, "01-report.png").await?;
        // A log written while the dialog is open shows up without any action: the index pushes it.
        std::fs::write(
            harness.logs.join("app/calling-app.1.log"),
            "2026-11-24T10:00:00Z [INFO ] rotated\n",
        )?;
        wait_text(&client, "[data-testid=files-ready]", |t| {
            t.contains("8 log files")
        })
        .await
        .context("a new log file should reach the open report screen")?;

        let summary = "Audio dropped during the weekly call";
        type_summary(&client, summary).await?;
        client
            .find(css("[data-testid=description]"))
            .await?
            .send_keys("Twice, around 10:15.")
            .await?;
        client
            .find(css("[data-testid=category]"))
            .await?
            .select_by_value("audio")
            .await?;
        // "When": the most recent call the demo's call-operations log shows.
        let when = client.find(css("[data-testid=when]")).await?;
        let call_label = when
            .find(css("option:nth-child(2)"))
            .await
            .context("the demo's calls should be offered under When")?
            .text()
            .await?;
        // The demo's calls are from the last two hours: yesterday's, just after midnight.
        let after_midnight = chrono::Timelike::hour(&chrono::Local::now()) < 3;
        ensure!(
            call_label.starts_with("Call: Today")
                || (after_midnight && call_label.starts_with("Call: Yesterday")),
            "a call from the demo log should read as today's: {call_label:?}"
        );
        when.select_by_index(1).await?;
        let call_id = when.prop("value").await?.unwrap_or_default();
        ensure!(call_id.len() == 36, "the chosen call's id: {call_id:?}");
        client
            .find(css("[data-testid=review]"))
            .await?
            .click()
            .await?;

        client
            .wait()
            .at_most(WAIT)
            .for_element(css("[data-testid=file-list]"))
            .await?;
        let destination = client
            .find(css("[data-testid=destination]"))
            .await?
            .text()
            .await?;
        ensure!(
            destination.contains(&harness.server_addr()),
            "consent must name the destination: {destination:?}"
        );
        let files = client.find_all(css("[data-testid=file]")).await?;
        ensure!(
            files.len() == 8,
            "consent should list 8 files (7 logs and our own), lists {}",
            files.len()
        );
        let statement = client
            .find(css("[data-testid=statement]"))
            .await?
            .text()
            .await?;
        ensure!(
            statement.contains("only its vendor can read them")
                || statement.contains("Only its vendor can read them"),
            "consent must explain encrypted files: {statement:?}"
        );
        // Unticking a file keeps it out: the totals follow at once, the manifest says why.
        client
            .find(css("[data-testid=file-include]"))
            .await?
            .click()
            .await?;
        wait_text(&client, "[data-testid=total]", |t| t.starts_with("7 files"))
            .await
            .context("unticking a file should update the total")?;
        screenshot(&client, harness, "02-consent.png").await?;

        client
            .find(css("[data-testid=send]"))
            .await?
            .click()
            .await?;
        let ticket =
            wait_text(&client, "[data-testid=ticket-id]", |t| t.starts_with("CS-")).await?;
        screenshot(&client, harness, "03-sent.png").await?;
        ensure!(
            ticket.len() == 9 && ticket[3..].chars().all(|c| c.is_ascii_digit()),
            "ticket id {ticket:?}"
        );
        // *Open ticket* hands the ticket's page, as the server named it, to the desktop.
        let link = client
            .find(css("[data-testid=ticket-url]"))
            .await?
            .text()
            .await?;
        click(&client, "open-ticket").await?;
        let deadline = std::time::Instant::now() + WAIT;
        while !harness.opened().contains(&link) {
            ensure!(
                std::time::Instant::now() < deadline,
                "Open ticket should open {link}; the desktop was asked for {:?}",
                harness.opened()
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        // The History lists it as sent, with its ticket.
        client
            .find(css("[data-testid=done]"))
            .await?
            .click()
            .await?;
        client
            .wait()
            .at_most(WAIT)
            .for_element(css("[data-testid=open-history]"))
            .await?
            .click()
            .await?;
        let listed = wait_text(&client, "[data-testid=history-item]", |t| {
            t.contains(summary)
        })
        .await?;
        ensure!(
            listed.contains(&format!("Sent · ticket {ticket}")),
            "the history should show the report as sent with its ticket: {listed:?}"
        );
        screenshot(&client, harness, "07-history.png").await?;
        client
            .find(css("[data-testid=history-close]"))
            .await?
            .click()
            .await?;
        let manifest = check_stored(harness, &ticket, summary).await?;
        ensure!(
            manifest["report"]["call_ids"] == serde_json::json!([call_id]),
            "the chosen call should be named in the report: {}",
            manifest["report"]
        );
        Ok(())
    }
    .await;
    harness.close(client, &harness.config).await;
    result
}

/// What the server stored is the bundle the app made, intact, with the user's words.
/// Checks the server's copy of a sent report and returns its manifest.
async fn check_stored(
    harness: &Harness,
    ticket: &str,
    summary: &str,
) -> anyhow::Result<serde_json::Value> {
    let url = format!("http://{}/api/v1/tickets/{ticket}", harness.server_addr());
    let record: serde_json::Value = reqwest::Client::new()
        .get(&url)
        .bearer_auth(AGENT_TOKEN)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let stored = harness
        .server_data
        .join("bundles")
        .join(format!("{ticket}.zip"));
    let sha = checks::sha256sum(&stored)?;
    ensure!(
        record["bundle_sha256"] == sha.as_str(),
        "server recorded {} but the file hashes to {sha}",
        record["bundle_sha256"]
    );
    checks::unzip_test(&stored)?;
    let manifest = checks::python_verify(&stored)?;
    ensure!(
        manifest["format"] == "callsupport/bundle@1",
        "format {}",
        manifest["format"]
    );
    ensure!(
        manifest["report"]["summary"] == summary,
        "summary {}",
        manifest["report"]["summary"]
    );
    ensure!(
        manifest["report"]["category"] == "audio",
        "category {}",
        manifest["report"]["category"]
    );
    ensure!(
        manifest["files"].as_array().map(Vec::len) == Some(7),
        "manifest lists {} files",
        manifest["files"]
    );
    ensure!(
        manifest["skipped"]
            .as_array()
            .is_some_and(
                |skipped| skipped.iter().any(|s| s["reason"] == "left out by you"
                    && s["original_path"]
                        .as_str()
                        .is_some_and(|p| p.ends_with("MediaStackETW-0.etl")))
            ),
        "the unticked file should be listed as left out by the user: {}",
        manifest["skipped"]
    );
    // Our own log rides along, so support sees what the app did.
    ensure!(
        manifest["files"]
            .as_array()
            .is_some_and(|files| files.iter().any(|f| f["source"] == "callsupport")),
        "our own log is missing from {}",
        manifest["files"]
    );
    ensure!(
        manifest["consent"]["destination"] == harness.server_addr().as_str(),
        "consent destination {}",
        manifest["consent"]["destination"]
    );
    // The demo's encrypted SDK logs are stored byte for byte.
    let original = harness.logs.join(
        "AppData/Local/Packages/Contoso.Calling_8wekyb3d8bbwe/LocalState/logs/acs_sdk_0.blog",
    );
    let original_sha = checks::sha256sum(&original)?;
    let listed = manifest["files"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|f| f["sha256"] == original_sha.as_str() && f["encrypted"] == true);
    ensure!(
        listed,
        "acs_sdk_0.blog ({original_sha}) is not in the manifest as an encrypted file"
    );
    // The app log went through redaction: the user's address is gone, a token stands in its place.
    let app_log = checks::entry_text(&stored, "files/app/calling-app.log")?;
    ensure!(
        !app_log.contains("jane.doe@contoso.com") && app_log.contains("<email-1>"),
        "the app log in the bundle is not redacted:\n{app_log}"
    );
    let entry = manifest["files"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["path"] == "files/app/calling-app.log")
        .context("app log in the manifest")?;
    ensure!(
        entry["redaction"] == "applied" && entry["redactions_by_kind"]["email"].as_u64() >= Some(1),
        "manifest redaction record: {entry}"
    );
    Ok(manifest)
}

/// With the server unreachable the report is saved, not failed: the app says so in words and lists
/// it as waiting; once the server is up, *Send now* delivers that very bundle.
async fn unreachable_server_keeps_the_report(harness: &Harness) -> anyhow::Result<()> {
    let port = free_port()?;
    // One retry, so the wait between attempts is seen without making the test slow.
    let text = std::fs::read_to_string(&harness.config)?
        .replace(&harness.server_addr(), &format!("127.0.0.1:{port}"))
        .replace("[ticket_api]\n", "[ticket_api]\nretries = 1\n");
    let config = harness.dir.path().join("unreachable.toml");
    std::fs::write(&config, text)?;
    let client = harness.session(Path::new(&config)).await?;
    let result = async {
        let review = client
            .wait()
            .at_most(WAIT)
            .for_element(css("[data-testid=review]"))
            .await?;
        ensure!(
            review.attr("disabled").await?.is_some(),
            "review must be disabled while the summary is empty"
        );
        let summary = "Video froze and the call dropped";
        client
            .find(css("[data-testid=summary]"))
            .await?
            .send_keys(summary)
            .await?;
        ensure!(
            review.attr("disabled").await?.is_none(),
            "review must be enabled once there is a summary"
        );
        review.click().await?;
        client
            .wait()
            .at_most(WAIT)
            .for_element(css("[data-testid=send]"))
            .await?
            .click()
            .await?;
        // Not a failure: the report is saved and goes out on its own later.
        let advice = wait_text(&client, "[data-testid=queued-advice]", |t| !t.is_empty()).await?;
        ensure!(
            advice.contains("couldn't reach") && advice.contains("automatically"),
            "the queued screen should say why and that it goes out on its own: {advice:?}"
        );
        let queued = harness.app_data().join("outbox");
        let waiting: Vec<_> = std::fs::read_dir(&queued)?
            .flatten()
            .filter(|e| e.path().join("bundle.zip").is_file())
            .collect();
        ensure!(
            waiting.len() == 1,
            "the report should wait in {}, found {} entries",
            queued.display(),
            waiting.len()
        );
        screenshot(&client, harness, "04-queued.png").await?;
        ensure!(
            client.find(css("[data-testid=try-now]")).await.is_ok(),
            "a queued report should offer Try now"
        );

        // A new report starts clean; the saved one is listed, not lost.
        client
            .find(css("[data-testid=queued-new]"))
            .await?
            .click()
            .await?;
        let fresh = client
            .wait()
            .at_most(WAIT)
            .for_element(css("[data-testid=summary]"))
            .await?
            .prop("value")
            .await?;
        ensure!(
            fresh.as_deref() == Some(""),
            "a new report should start empty, found {fresh:?}"
        );
        // The saved report is listed on the report screen, with why it waits.
        let waiting = wait_text(&client, "[data-testid=outbox-report]", |t| {
            t.contains(summary)
        })
        .await?;
        ensure!(
            waiting.contains("when the support service can be reached"),
            "the waiting report should say why it waits: {waiting:?}"
        );
        screenshot(&client, harness, "05-outbox.png").await?;
        // The service comes back: *Send now* delivers the saved report, byte for byte.
        let late_data = harness.dir.path().join("server-late");
        let late = callsupport_ticket_server::start(ServerConfig {
            submit_token: Some(SUBMIT_TOKEN.into()),
            max_bundle_bytes: 512 << 20,
            ..ServerConfig::new(format!("127.0.0.1:{port}").parse()?, late_data.clone())
        })
        .await?;
        let saved = std::fs::read_dir(&queued)?
            .flatten()
            .map(|e| e.path().join("bundle.zip"))
            .find(|p| p.is_file())
            .context("the saved report's bundle")?;
        let saved_sha = checks::sha256sum(&saved)?;
        client
            .find(css("[data-testid=outbox-send]"))
            .await?
            .click()
            .await?;
        let outcome = wait_text(&client, "[data-testid=outbox-outcome]", |t| {
            t.contains("Sent")
        })
        .await?;
        ensure!(outcome == "Sent: ticket CS-000001.", "outcome {outcome:?}");
        screenshot(&client, harness, "06-sent-later.png").await?;
        let stored = late_data.join("bundles/CS-000001.zip");
        ensure!(
            checks::sha256sum(&stored)? == saved_sha,
            "the server should hold the very bundle that waited"
        );
        let left = std::fs::read_dir(&queued)?
            .flatten()
            .filter(|e| e.path().join("bundle.zip").is_file())
            .count();
        ensure!(left == 0, "{left} report(s) still in {}", queued.display());
        ensure!(
            client
                .find(css("[data-testid=outbox-report]"))
                .await
                .is_err(),
            "a sent report is no longer listed as waiting"
        );
        late.stop().await?;
        Ok(())
    }
    .await;
    harness.close(client, &config).await;
    result
}
