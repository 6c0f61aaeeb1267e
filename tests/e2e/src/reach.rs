//! Reaching the app: closing its window leaves it in the tray (the webview is gone, the process
//! stays); the global shortcut brings the report dialog back; a second launch shows the running
//! instance's window instead of starting another app.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};

use crate::harness::Harness;
use crate::tests::{WAIT, css};
use crate::x11::{press, request_close, visible_windows, wait_for_window};

/// The app window's title, as a pattern for `xdotool search --name`.
const TITLE: &str = "^Call Support$";

pub async fn closed_it_stays_in_the_tray_and_comes_back(harness: &Harness) -> anyhow::Result<()> {
    let config = harness.config.clone();
    let client = harness.session(&config).await?;
    let result = async {
        client
            .wait()
            .at_most(WAIT)
            .for_element(css("[data-testid=summary]"))
            .await?;
        let windows = visible_windows(&harness.display, TITLE)?;
        ensure!(windows.len() == 1, "one window at start: {windows:?}");

        // Closed as by its close button, the window and its webview go; the app does not.
        request_close(&harness.display, &windows[0])?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while !visible_windows(&harness.display, TITLE)?.is_empty() {
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(harness.app_data().join("logs/callsupport.log"))
                    .unwrap_or_default();
                anyhow::bail!(
                    "the window should be gone after a close request; the app's log ends:\n{}",
                    log.lines().rev().take(8).collect::<Vec<_>>().join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        ensure!(
            running(&config),
            "the app must stay running in the tray when its window closes"
        );

        // The global shortcut opens the report dialog again.
        let pressed = Instant::now();
        press(&harness.display, "ctrl+alt+shift+r")?;
        wait_for_window(&harness.display, TITLE)
            .await
            .context("Ctrl+Alt+Shift+R should open the report dialog")?;
        println!(
            "  shortcut to window shown: {} ms",
            pressed.elapsed().as_millis()
        );

        // A second launch hands over to the running app and ends; still one window.
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
        tokio::time::sleep(Duration::from_millis(500)).await;
        let windows = visible_windows(&harness.display, TITLE)?;
        ensure!(
            windows.len() == 1,
            "one app, one window: found {}",
            windows.len()
        );
        ensure!(running(&config), "the first instance is still there");
        Ok(())
    }
    .await;
    harness.close(client, &config).await;
    result
}

/// Whether an app started with `config` runs.
fn running(config: &std::path::Path) -> bool {
    Command::new("pgrep")
        .args(["-f", &config.to_string_lossy()])
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false)
}
