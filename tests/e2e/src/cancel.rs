//! *Cancel* while the report is on its way: over a slow link the upload is seen in progress
//! (bytes and time left), cancelled, and then nothing reaches the server, now or later.

use std::time::Duration;

use anyhow::{Context, ensure};

use crate::harness::Harness;
use crate::slow_link::SlowLink;
use crate::tests::{click, screenshot, tickets, type_summary, wait_text};

pub async fn cancel_during_upload_sends_nothing(harness: &Harness) -> anyhow::Result<()> {
    // About 890 KB at 100 KB/s: nine seconds of upload to cancel in.
    let link = SlowLink::start(harness.server_addr().parse()?, 100_000).await?;
    let text = std::fs::read_to_string(&harness.config)?
        .replace(&harness.server_addr(), &link.addr.to_string());
    let config = harness.dir.path().join("slow-link.toml");
    std::fs::write(&config, text)?;
    let summary = "Cancelled on second thought";
    let client = harness.session(&config).await?;
    let result = async {
        type_summary(&client, summary).await?;
        click(&client, "review").await?;
        click(&client, "send").await?;
        wait_text(&client, "[data-testid=sending] .stages li.active", |t| {
            t == "Sending"
        })
        .await
        .context("the upload stage should be reached")?;
        // Loopback socket buffers take this whole bundle at once, so the bytes may already all be
        // handed over while the slow link still carries them.
        wait_text(&client, "[data-testid=sending-detail]", |t| {
            (t.contains(" of ") && t.contains("left")) || t.contains("finishing the upload")
        })
        .await
        .context("the upload should show bytes sent and what remains")?;
        screenshot(&client, harness, "10-uploading.png").await?;

        click(&client, "cancel").await?;
        let notice = wait_text(&client, "[data-testid=consent-notice]", |t| !t.is_empty())
            .await
            .context("a cancel should return to the consent screen with a note")?;
        ensure!(
            notice.contains("Nothing was sent"),
            "the note should say nothing was sent: {notice:?}"
        );
        screenshot(&client, harness, "11-cancelled.png").await?;

        // Nothing waits to go out later, and the server has nothing, even after a while.
        let outbox = harness.app_data().join("outbox");
        let waiting: Vec<_> = std::fs::read_dir(&outbox)
            .map(|dir| {
                dir.flatten()
                    .filter(|e| e.path().join("bundle.zip").is_file())
                    .map(|e| e.file_name())
                    .collect()
            })
            .unwrap_or_default();
        ensure!(waiting.is_empty(), "left in the outbox: {waiting:?}");
        tokio::time::sleep(Duration::from_secs(2)).await;
        let tickets = tickets(harness).await?;
        ensure!(
            !tickets.to_string().contains(summary),
            "a cancelled report reached the server: {tickets}"
        );
        Ok(())
    }
    .await;
    harness.close(client, &config).await;
    result
}
