//! Reaching the app: closing its window ends the app (webview and all) while the tray agent
//! stays; the global shortcut, which the agent holds, brings the report dialog back in a new app;
//! a second launch shows the running app's window instead of starting another.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};

use crate::harness::Harness;
use crate::tests::{WAIT, click, css, screenshot, type_summary, wait_text};
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

/// Support sends a `callsupport://` link for a ticket: opening it (a second launch, as a browser
/// does) brings the running app's report form up naming that ticket, and the report is added to
/// it. An expired link is refused in words.
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

        // Support asks for more logs with a link, which the desktop opens with the app.
        let expires = (chrono::Utc::now() + chrono::Duration::hours(24)).timestamp();
        let link = format!("callsupport://report?ticket={ticket}&expires={expires}");
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

        // An expired link is refused, saying what to do.
        click(&client, "done").await?;
        let stale = format!("callsupport://report?ticket={ticket}&expires=1700000000");
        harness.link_command(&config, &stale).status()?;
        let problem = wait_text(&client, "[data-testid=link-problem]", |t| !t.is_empty()).await?;
        ensure!(
            problem.contains("expired") && problem.contains("new one"),
            "an expired link should say so and what to do: {problem:?}"
        );
        Ok(())
    }
    .await;
    harness.close(client, &config).await;
    result
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
