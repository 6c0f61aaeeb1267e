//! Reaching the app: closing its window ends the app (webview and all) while the tray agent
//! stays; the global shortcut, which the agent holds, brings the report dialog back in a new app;
//! a second launch shows the running app's window instead of starting another.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};

use crate::harness::Harness;
use crate::tests::{WAIT, click, css, screenshot, type_into, type_summary, wait_text};
use crate::x11::{press, request_close, unfocus, visible_windows, wait_for_focus, wait_for_window};

/// The app window's title, as a pattern for `xdotool search --name`.
const TITLE: &str = "^Call Support$";

pub async fn closed_it_ends_and_the_tray_brings_it_back(harness: &Harness) -> anyhow::Result<()> {
    let config = harness.config.clone();
    let app = format!("callsupport-app .*--config {}", config.display());
    let agent = format!("callsupport-tray --config {}", config.display());
    let client = harness.session(&config).await?;
    let result = async {
        client
            .wait()
            .at_most(WAIT)
            .for_element(css("[data-testid=summary]"))
            .await?;
        let windows = visible_windows(&harness.display, TITLE)?;
        ensure!(windows.len() == 1, "one window at start: {windows:?}");
        wait_until(Duration::from_secs(10), || running(&agent))
            .await
            .context("the app should start the tray agent, callsupport-tray")?;
        // startup.at_login is on by default: the agent is in the user's login start.
        let entry = harness
            .dir
            .path()
            .join("home/.config/autostart/callsupport-tray.desktop");
        wait_until(Duration::from_secs(5), || entry.exists())
            .await
            .with_context(|| {
                format!("the login start entry {} should be there", entry.display())
            })?;
        let text = std::fs::read_to_string(&entry)?;
        ensure!(
            text.contains("callsupport-tray\" --config ")
                && text.contains(&*config.to_string_lossy()),
            "the login start should run this agent with this configuration:\n{text}"
        );

        // Closed as by its close button, the window goes, and with it the app.
        close_window(harness).await?;
        wait_until(Duration::from_secs(10), || !running(&app))
            .await
            .context("the app should end once its window is closed and nothing is being sent")?;
        ensure!(
            running(&agent),
            "the tray agent must stay when the app's window closes"
        );

        // The global shortcut, held by the agent, opens the report dialog again, ready to type in.
        let pressed = Instant::now();
        press(&harness.display, "ctrl+alt+shift+r")?;
        let window = wait_for_window(&harness.display, TITLE)
            .await
            .context("Ctrl+Alt+Shift+R should open the report dialog")?;
        println!(
            "  shortcut to window shown (a new app): {} ms",
            pressed.elapsed().as_millis()
        );
        wait_for_focus(&harness.display, &window)
            .await
            .context("the report dialog the shortcut opened should have the keyboard focus")?;

        // A second launch hands over to the running app, which brings its window forward (the
        // focus, taken away here, comes back to it), and ends; still one app, one window.
        unfocus(&harness.display)?;
        let mut second = harness.app_command(&config).spawn()?;
        let deadline = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(status) = second.try_wait()? {
                break status;
            }
            ensure!(
                Instant::now() < deadline,
                "a second launch should hand over and exit"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        ensure!(status.success(), "the second launch exited with {status}");
        wait_for_focus(&harness.display, &window)
            .await
            .context("a second launch should bring the running app's window forward")?;
        let windows = visible_windows(&harness.display, TITLE)?;
        ensure!(
            windows.len() == 1,
            "one app, one window: found {}",
            windows.len()
        );
        ensure!(running(&app), "the app the shortcut opened is still there");
        close_window(harness).await?;
        wait_until(Duration::from_secs(10), || !running(&app))
            .await
            .context("the app the shortcut opened should end when its window closes")?;
        Ok(())
    }
    .await;
    harness.close(client, &config).await;
    result
}

/// Closes the app's window as a window manager's close button does: one request, and the
/// window must be gone within 6 s (the app ends soon after, see the callers).
async fn close_window(harness: &Harness) -> anyhow::Result<()> {
    for window in visible_windows(&harness.display, TITLE)? {
        request_close(&harness.display, &window)?;
    }
    let deadline = Instant::now() + Duration::from_secs(6);
    while !visible_windows(&harness.display, TITLE)?.is_empty() {
        if Instant::now() > deadline {
            let path = harness.app_data().join("logs/callsupport.log");
            let log = std::fs::read_to_string(&path)
                .unwrap_or_else(|err| format!("(cannot read {}: {err})", path.display()));
            anyhow::bail!(
                "the window should be gone once asked to close ({}); the app's log ends:\n{}",
                window_owners(harness),
                log.lines()
                    .rev()
                    .take(8)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Each app window's id, its process and what that process's main thread is doing (state and
/// kernel wait channel), to tell a busy app from a lost request.
fn window_owners(harness: &Harness) -> String {
    let windows = visible_windows(&harness.display, TITLE).unwrap_or_default();
    windows
        .iter()
        .map(|window| {
            let pid = Command::new("xdotool")
                .args(["getwindowpid", window])
                .env("DISPLAY", &harness.display)
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .unwrap_or_default();
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat
                .rsplit_once(") ")
                .and_then(|(_, rest)| rest.split(' ').next())
                .unwrap_or("?")
                .to_owned();
            let wchan = std::fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
            format!("window {window}: pid {pid}, main thread {state} in {wchan:?}")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whether a process whose command line matches `pattern` runs.
fn running(pattern: &str) -> bool {
    Command::new("pgrep")
        .args(["-f", pattern])
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false)
}

async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    while !done() {
        ensure!(
            Instant::now() < deadline,
            "not within {} s",
            limit.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Support asks for more logs: the agent opens the ticket in the viewer and makes a link there
/// (signed by the ticket service); opening it (a second launch, as a browser does) brings the
/// running app's report form up naming that ticket, and the report is added to it; the agent
/// sees the added logs beside the ticket's bundle and opens them. An edited link, and one made
/// by hand, are refused in words.
pub async fn a_link_from_support_adds_logs_to_its_ticket(harness: &Harness) -> anyhow::Result<()> {
    let config = harness.config.clone();
    let client = harness.session(&config).await?;
    let result = async {
        // A ticket exists: the user reported a problem earlier.
        type_summary(&client, "No sound in the team call").await?;
        click(&client, "review").await?;
        click(&client, "send").await?;
        let ticket =
            wait_text(&client, "[data-testid=ticket-id]", |t| t.starts_with("CS-")).await?;

        // The agent opens it in the viewer, and asks for more logs with a link.
        let link = agent_makes_a_link(harness, &client, &ticket).await?;
        ensure!(
            link.starts_with(&format!("callsupport://report?ticket={ticket}&"))
                && link.contains("&sig="),
            "a signed link for the ticket: {link:?}"
        );

        // The user's desktop opens the link with the app.
        let status = harness.link_command(&config, &link).status()?;
        ensure!(status.success(), "the link's launch exited with {status}");
        let asked = wait_text(&client, "[data-testid=support-request]", |t| {
            t.contains(&ticket)
        })
        .await
        .context("the report form should name the ticket support asked about")?;
        ensure!(asked.contains("added to it"), "{asked:?}");
        screenshot(&client, harness, "13-support-request.png").await?;
        type_summary(&client, "The logs you asked for").await?;
        click(&client, "review").await?;
        click(&client, "send").await?;
        let added = wait_text(&client, "[data-testid=ticket-id]", |t| t.starts_with("CS-")).await?;
        ensure!(
            added == ticket,
            "added to {ticket}, not a new ticket {added}"
        );
        let title = client.find(css("#done-title")).await?.text().await?;
        ensure!(
            title.contains("added"),
            "the done screen says so: {title:?}"
        );
        let record = ticket_record(harness, &ticket).await?;
        ensure!(
            record["attachments"][0]["summary"] == "The logs you asked for",
            "the ticket should list the added logs: {}",
            record["attachments"]
        );

        // An edited link (a later expiry) and one written by hand are refused, saying why.
        click(&client, "done").await?;
        let expires = link
            .split("expires=")
            .nth(1)
            .and_then(|rest| rest.split('&').next())
            .context("the link has an expiry")?;
        let later: i64 = expires.parse::<i64>()? + 30 * 24 * 3600;
        let edited = link.replace(&format!("expires={expires}"), &format!("expires={later}"));
        harness.link_command(&config, &edited).status()?;
        let problem = wait_text(&client, "[data-testid=link-problem]", |t| {
            t.contains("signature")
        })
        .await?;
        ensure!(problem.contains("do not use it"), "{problem:?}");
        screenshot(&client, harness, "13b-link-refused.png").await?;
        let by_hand = format!("callsupport://report?ticket={ticket}&expires={later}");
        harness.link_command(&config, &by_hand).status()?;
        wait_text(&client, "[data-testid=link-problem]", |t| {
            t.contains("not signed")
        })
        .await
        .context("a link written by hand is refused")?;

        // Back in the viewer, the agent finds the logs beside the ticket's bundle.
        agent_opens_the_added_logs(harness, &client, &ticket).await
    }
    .await;
    harness.close(client, &config).await;
    result
}

/// The viewer (the tray's *Open Bundle…*), the ticket opened by id with the agent token, and a
/// link made in its panel; the link.
async fn agent_makes_a_link(
    harness: &Harness,
    client: &fantoccini::Client,
    ticket: &str,
) -> anyhow::Result<String> {
    let status = harness
        .app_command(&harness.config)
        .args(["--show", "viewer"])
        .status()?;
    ensure!(status.success(), "the viewer's launch exited with {status}");
    type_into(client, "ticket-id", ticket).await?;
    type_into(client, "agent-token", crate::harness::AGENT_TOKEN).await?;
    click(client, "ticket-open").await?;
    let panel = wait_text(client, "[data-testid=ticket-panel]", |t| t.contains(ticket))
        .await
        .context("the ticket's panel should show")?;
    ensure!(panel.contains("No logs were added"), "{panel:?}");
    click(client, "make-link").await?;
    let terms = wait_text(client, "[data-testid=ticket-panel]", |t| {
        t.contains("up to 3 reports") || t.contains("refused") || t.contains("cannot")
    })
    .await
    .context("the link's terms should show")?;
    ensure!(
        terms.contains("up to 3 reports"),
        "the link is made: {terms:?}"
    );
    screenshot(client, harness, "12b-agent-makes-link.png").await?;
    Ok(client
        .find(css("[data-testid=made-link]"))
        .await?
        .prop("value")
        .await?
        .unwrap_or_default())
}

/// The ticket opened again in the viewer lists the added logs; opened, they show their report.
async fn agent_opens_the_added_logs(
    harness: &Harness,
    client: &fantoccini::Client,
    ticket: &str,
) -> anyhow::Result<()> {
    let status = harness
        .app_command(&harness.config)
        .args(["--show", "viewer"])
        .status()?;
    ensure!(status.success(), "the viewer's launch exited with {status}");
    // The ticket's bundle may still be open (its form then opens over it).
    if client
        .find(css("[data-testid=show-ticket-form]"))
        .await
        .is_ok()
    {
        click(client, "show-ticket-form").await?;
    }
    type_into(client, "ticket-id", ticket).await?;
    click(client, "ticket-open").await?;
    let added = wait_text(client, "[data-testid=added-bundle]", |t| {
        t.contains("The logs you asked for")
    })
    .await
    .context("the added logs should be listed beside the ticket's bundle")?;
    ensure!(added.contains("added"), "{added:?}");
    click(client, "open-added").await?;
    wait_text(client, "[data-testid=bundle-summary]", |t| {
        t == "The logs you asked for"
    })
    .await
    .context("the added logs should open in the viewer")?;
    wait_text(client, "[data-testid=integrity]", |t| {
        t.starts_with("Intact")
    })
    .await?;
    screenshot(client, harness, "13c-viewer-added-logs.png").await?;
    Ok(())
}

async fn ticket_record(harness: &Harness, ticket: &str) -> anyhow::Result<serde_json::Value> {
    Ok(reqwest::Client::new()
        .get(format!(
            "http://{}/api/v1/tickets/{ticket}",
            harness.server_addr()
        ))
        .bearer_auth(crate::harness::AGENT_TOKEN)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}
