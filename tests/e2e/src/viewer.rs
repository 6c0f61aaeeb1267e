//! The support agent's viewer: a ticket opened by id with the agent token, then *Open Bundle…*
//! through the native dialog, shows the report, proves the bundle intact, lists each call with
//! its failures in red and offers its Log Analytics queries; a hostile bundle is refused in words and the viewer goes on; a bundle dropped on the
//! window, or named on the command line (a double-click), opens in the running app.

use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};
use callsupport_desk::bundle::manifest::Consent;
use callsupport_desk::collect::{Plan, collect};
use callsupport_desk::config::Config;
use callsupport_desk::report::{Category, Report};
use callsupport_desk::ticket::TicketRequest;
use callsupport_desk::upload::Uploader;

use crate::checks;
use crate::harness::{AGENT_TOKEN, Harness, SUBMIT_TOKEN};
use crate::tests::{click, css, screenshot, type_into, wait_text};
use crate::x11::{answer_open_dialog, answer_save_dialog, visible_windows};
use crate::xdnd::drop_file;

const DIALOG: &str = "^Open a bundle$";

pub async fn a_received_bundle_shows_its_calls_and_failures(
    harness: &Harness,
) -> anyhow::Result<()> {
    let bundle = demo_bundle(harness)?;
    let hostile = hostile_bundle(harness, &bundle)?;
    let client = harness.session(&harness.config).await?;
    let result = async {
        // The tray's *Open Bundle…* starts the app with `--show viewer`; the running app takes
        // it over and shows the viewer.
        let status = harness
            .app_command(&harness.config)
            .args(["--show", "viewer"])
            .status()?;
        ensure!(status.success(), "the second launch exited with {status}");

        // By ticket id, from the ticket service: a wrong agent token is refused in words and
        // asked for again; the right one brings the bundle, and is written nowhere.
        let ticket = ticket_on_server(harness, &bundle)
            .await
            .context("the bundle should become a ticket")?;
        forward_failed(harness, &ticket).await?;
        type_into(&client, "ticket-id", &ticket).await?;
        type_into(&client, "agent-token", "not-the-agent-token").await?;
        screenshot(&client, harness, "20-viewer-open.png")
            .await
            .context("screenshot of the open screen")?;
        click(&client, "ticket-open").await?;
        let refused = wait_text(&client, "[data-testid=viewer-error]", |t| !t.is_empty()).await?;
        ensure!(refused.contains("refused the agent token"), "{refused:?}");
        let token = client.find(css("[data-testid=agent-token]")).await?;
        token.clear().await?;
        // Return in the field sends the form, as it does for a user.
        token.send_keys(&format!("{AGENT_TOKEN}\u{E007}")).await?;
        wait_text(&client, "[data-testid=bundle-path]", |t| t.ends_with(&format!("received/{ticket}.zip")))
            .await
            .context("the ticket's bundle should open in the viewer")?;
        wait_text(&client, "[data-testid=integrity]", |t| t.starts_with("Intact")).await?;
        // The ticket system is down: the viewer says the ticket is not there yet, and why.
        let note = wait_text(&client, "[data-testid=ticket-system]", |t| !t.is_empty()).await?;
        ensure!(
            note.contains("Not in the ticket system yet") && note.contains("cannot reach Azure DevOps"),
            "{note:?}"
        );
        screenshot(&client, harness, "20b-viewer-ticket-system.png")
            .await
            .context("screenshot of a ticket not in the ticket system yet")?;
        let leaks = crate::secrets::grep_files(&harness.dir.path().join("app-data"), AGENT_TOKEN)?;
        ensure!(leaks.is_empty(), "the agent token was written to {leaks:?}");

        click(&client, "open-bundle").await?;
        answer_open_dialog(&harness.display, DIALOG, &bundle.to_string_lossy()).await?;
        wait_text(&client, "[data-testid=bundle-path]", |t| t.ends_with("/received.zip"))
            .await
            .context("the bundle chosen in the dialog should open")?;
        let summary = wait_text(&client, "[data-testid=bundle-summary]", |t| !t.is_empty())
            .await
            .context("the bundle's report should be shown")?;
        ensure!(summary == "Video froze in the team call", "{summary:?}");
        let replaced = client.find(css("[data-testid=bundle-replaced]")).await?.text().await?;
        ensure!(
            replaced.contains("e-mail address"),
            "the overview counts what was replaced: {replaced:?}"
        );
        let integrity = wait_text(&client, "[data-testid=integrity]", |t| t.starts_with("Intact"))
            .await
            .context("the bundle should be checked and found intact")?;
        ensure!(integrity.contains("match their SHA-256"), "{integrity:?}");

        // The demo logs hold three calls; the two with failures are marked, the failures listed.
        let failed = client.find_all(css("[data-testid=call].failed")).await?;
        ensure!(failed.len() == 2, "two calls with failures, found {}", failed.len());
        let failures = client.find_all(css("[data-testid=call-failure]")).await?;
        ensure!(failures.len() == 5, "five failed operations, found {}", failures.len());
        let first = failures[0].text().await?;
        ensure!(first.contains("Join") && first.contains("408"), "{first:?}");
        let colour = client
            .execute(
                "return getComputedStyle(document.querySelector('[data-testid=call-failure] .danger')).color;",
                vec![],
            )
            .await?;
        let fine = client
            .execute("return getComputedStyle(document.querySelector('[data-testid=bundle-summary]')).color;", vec![])
            .await?;
        ensure!(colour != fine, "failures stand out in colour: {colour} vs {fine}");

        // Its Log Analytics queries, ready to copy.
        let call = failed[0].attr("data-call-id").await?.context("call id")?;
        failed[0].find(css("[data-testid=show-kql]")).await?.click().await?;
        let query = wait_text(&client, "[data-testid=kql]", |t| !t.is_empty()).await?;
        ensure!(
            query.starts_with("ACSCallClientOperations") && query.contains(&format!("CallId == \"{call}\"")),
            "{query:?}"
        );
        client.find(css("[data-testid=copy-kql]")).await?.click().await?;
        wait_text(&client, "[data-testid=copy-kql]", |t| t == "Copied").await?;
        screenshot(&client, harness, "17-viewer.png").await?;

        // An Azure Monitor export with a failure the user's machine did not log joins that call.
        let export = harness.dir.path().join("export.jsonl");
        std::fs::write(
            &export,
            format!(
                r#"{{"time":"2030-01-01T00:00:00Z","category":"CallClientOperations","properties":{{"CallId":"{call}","CallClientTimeStamp":"2030-01-01T00:00:00Z","OperationName":"StopVideo","OperationId":"from-azure-monitor","DurationMs":"40","ResultType":"Failed","ResultSignature":"500"}}}}"#
            ) + "\n",
        )?;
        click(&client, "add-export").await?;
        answer_open_dialog(&harness.display, "^Add an Azure Monitor export$", &export.to_string_lossy()).await?;
        wait_text(&client, "[data-testid=calls-sources]", |t| t.starts_with("From 2 files"))
            .await
            .context("the export's records should join the calls")?;
        let merged = client
            .find(css(&format!("[data-call-id='{call}']")))
            .await?
            .find_all(css("[data-testid=call-failure]"))
            .await?;
        let mut texts = Vec::new();
        for failure in &merged {
            texts.push(failure.text().await?);
        }
        ensure!(
            texts.iter().any(|t| t.contains("StopVideo")),
            "the export's failure should be listed with the call: {texts:?}"
        );

        // The app's log, read on the log screen: found, marked, filtered to errors.
        client
            .find(css("[data-testid=view-log][aria-label='Read app/calling-app.log']"))
            .await
            .context("a readable file has a Read button")?
            .click()
            .await?;
        let lines = wait_text(&client, "[data-testid=log-lines]", |t| t.contains("Contoso Calling")).await?;
        ensure!(!lines.contains("jane.doe@contoso.com"), "the log is shown as it was sent, redacted");
        client.find(css("[data-testid=log-query]")).await?.send_keys("join attempt").await?;
        click(&client, "log-find").await?;
        wait_text(&client, "[data-testid=log-matches]", |t| t == "1 of 3").await?;
        let marked = client.find_all(css("[data-testid=log-lines] mark")).await?;
        ensure!(marked.len() == 3, "three marked matches, found {}", marked.len());
        for level in ["warn", "info", "debug", "trace"] {
            click(&client, &format!("level-{level}")).await?;
        }
        let position = wait_text(&client, "[data-testid=log-position]", |t| t.contains("of 2 (of 9")).await?;
        ensure!(position.starts_with("Lines 1–2 of 2"), "{position:?}");
        screenshot(&client, harness, "19-log.png").await?;
        click(&client, "log-close").await?;

        // Export for vendor: only the encrypted SDK logs, through the save dialog.
        let vendor = harness.dir.path().join("for-vendor.zip");
        click(&client, "export-vendor").await?;
        answer_save_dialog(&harness.display, "^Save for the SDK vendor$", &vendor.to_string_lossy()).await?;
        wait_text(&client, "[data-testid=vendor-exported]", |t| t.contains("for-vendor.zip"))
            .await
            .context("the viewer should say where the vendor's zip went")?;
        checks::unzip_test(&vendor)?;
        let names = std::process::Command::new("python3")
            .args(["-c", "import sys, zipfile; print(*sorted(zipfile.ZipFile(sys.argv[1]).namelist()))"])
            .arg(&vendor)
            .output()?;
        let names = String::from_utf8_lossy(&names.stdout).trim().to_owned();
        ensure!(
            names.split(' ').all(|n| n.ends_with(".blog") || n.ends_with(".etl") || n == "vendor-manifest.json")
                && names.contains("vendor-manifest.json"),
            "only encrypted logs and the manifest go to the vendor: {names}"
        );

        // A hostile bundle: refused in words; the viewer still works.
        click(&client, "open-bundle").await?;
        answer_open_dialog(&harness.display, DIALOG, &hostile.to_string_lossy()).await?;
        let refused = wait_text(&client, "[data-testid=viewer-error]", |t| !t.is_empty())
            .await
            .context("a hostile bundle should be refused with a message")?;
        ensure!(refused.contains("evil.txt") || refused.contains(".."), "{refused:?}");
        screenshot(&client, harness, "18-viewer-refused.png").await?;

        // A bundle dragged from a file manager and dropped on the window opens (the app's own
        // GTK drop target, spoken to over XDND). The name has a space, sent as `%20`.
        let dropped = harness.dir.path().join("dropped bundle.zip");
        std::fs::copy(&bundle, &dropped)?;
        let window = visible_windows(&harness.display, "^Call Support$")?
            .into_iter()
            .next()
            .context("the app's window should be on the display")?;
        let display = harness.display.clone();
        tokio::task::spawn_blocking(move || drop_file(&display, &window, &dropped)).await??;
        wait_text(&client, "[data-testid=bundle-path]", |t| t.ends_with("dropped bundle.zip"))
            .await
            .context("a bundle dropped on the window should open in the viewer")?;
        ensure!(
            client.find(css("[data-testid=viewer-error]")).await.is_err(),
            "the earlier refusal is gone once a bundle opens"
        );
        wait_text(&client, "[data-testid=integrity]", |t| t.starts_with("Intact")).await?;

        // A double-click on a bundle (the file association) launches the app with its path:
        // the running app opens it.
        let status = harness.app_command(&harness.config).arg(&bundle).status()?;
        ensure!(status.success(), "the launch with a bundle exited with {status}");
        wait_text(&client, "[data-testid=bundle-path]", |t| t.ends_with("received.zip"))
            .await
            .context("a bundle named on the command line should open in the viewer")?;
        Ok(())
    }
    .await;
    harness.close(client, &harness.config).await;
    result
}

/// Sends `bundle` to the harness's ticket service as the app would; the ticket's id.
async fn ticket_on_server(harness: &Harness, bundle: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(&harness.config)?;
    let config = Config::parse(&harness.config, &text)?;
    let (request, _) = TicketRequest::for_file(bundle)?;
    let receipt = Uploader::with_token(&config.ticket_api, Some(SUBMIT_TOKEN.into()))?
        .submit(bundle, &request, |_| true)
        .await?;
    Ok(receipt.ticket_id)
}

/// Waits (up to 20 s) until the service has tried to forward `ticket` and failed.
async fn forward_failed(harness: &Harness, ticket: &str) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&harness.config)?;
    let config = Config::parse(&harness.config, &text)?;
    let url = format!("{}/{ticket}", config.ticket_api.url.trim_end_matches('/'));
    for _ in 0..200 {
        let record: serde_json::Value = reqwest::Client::new()
            .get(&url)
            .bearer_auth(AGENT_TOKEN)
            .send()
            .await?
            .json()
            .await?;
        if record["forward"]["last_error"].is_string() {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("the service never tried to forward {ticket}")
}

/// A bundle of the harness's demo logs, made by `callsupport-desk` as the app makes them.
fn demo_bundle(harness: &Harness) -> anyhow::Result<PathBuf> {
    let text = std::fs::read_to_string(&harness.config)?;
    let config = Config::parse(&harness.config, &text)?;
    let (plan, _) = Plan::from_config(&config)?;
    let out = harness.dir.path().join("received.zip");
    let _ = std::fs::remove_file(&out);
    collect(
        &plan,
        Report {
            summary: "Video froze in the team call".into(),
            description: String::new(),
            category: Category::Video,
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
            redaction: true,
            destination: "support.contoso.com".into(),
        },
        &out,
        |_| true,
    )?;
    Ok(out)
}

/// The demo bundle with one more entry whose name climbs out of the folder it is extracted to.
fn hostile_bundle(harness: &Harness, bundle: &Path) -> anyhow::Result<PathBuf> {
    let out = harness.dir.path().join("hostile.zip");
    let _ = std::fs::remove_file(&out);
    let status = std::process::Command::new("python3")
        .args([
            "-c",
            "import shutil, sys, zipfile\n\
             shutil.copy(sys.argv[1], sys.argv[2])\n\
             with zipfile.ZipFile(sys.argv[2], 'a') as z:\n    z.writestr('../evil.txt', 'x')",
        ])
        .arg(bundle)
        .arg(&out)
        .status()?;
    ensure!(
        status.success(),
        "python3 could not write the hostile bundle"
    );
    Ok(out)
}
