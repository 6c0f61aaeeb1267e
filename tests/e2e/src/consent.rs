//! The consent screen's other ways out: *Preview* of a readable file with its replacements
//! highlighted, and *Save to file instead* through the native save dialog.

use anyhow::{Context, ensure};

use crate::checks;
use crate::harness::Harness;
use crate::tests::{WAIT, click, css, screenshot, tickets, type_summary, wait_text};
use crate::x11::answer_save_dialog;

/// The demo app log's e-mail address is highlighted as replaced in the preview; the report saved
/// to a file holds what the consent screen listed, with a file as its destination, and nothing
/// reaches the server.
pub async fn preview_then_save_to_file(harness: &Harness) -> anyhow::Result<()> {
    let client = harness.session(&harness.config).await?;
    let result = async {
        type_summary(&client, "Saving the logs for the help desk").await?;
        click(&client, "review").await?;
        client
            .wait()
            .at_most(WAIT)
            .for_element(css("[data-testid=file-list]"))
            .await?;

        // Preview the app log: the address is gone, its token is highlighted and counted.
        // Each Preview button is labelled for screen readers with its file's name.
        client
            .find(css(
                "[data-testid=file-preview][aria-label='Preview calling-app.log']",
            ))
            .await
            .context("calling-app.log should have a labelled Preview button")?
            .click()
            .await?;
        let summary = wait_text(&client, "[data-testid=preview-summary]", |t| {
            t.contains("replaced")
        })
        .await?;
        ensure!(
            summary.contains("e-mail address"),
            "the preview should count the replaced address: {summary:?}"
        );
        let text = client
            .find(css("[data-testid=preview-text]"))
            .await?
            .text()
            .await?;
        ensure!(
            !text.contains("jane.doe@contoso.com") && text.contains("<email-"),
            "the preview must show the text as sent"
        );
        let marked = client
            .find(css("[data-testid=preview-text] mark[data-kind=email]"))
            .await
            .context("the replaced address should be highlighted")?
            .text()
            .await?;
        ensure!(marked.starts_with("<email-"), "highlighted: {marked:?}");
        screenshot(&client, harness, "08-preview.png").await?;
        click(&client, "preview-close").await?;

        // Save to file: the native dialog is answered as a user would, by typing a path.
        let dest = harness.dir.path().join("saved report.zip");
        click(&client, "save").await?;
        answer_save_dialog(&harness.display, "Save the report", &dest.to_string_lossy()).await?;
        let shown = wait_text(&client, "[data-testid=saved-path]", |t| !t.is_empty()).await?;
        ensure!(
            shown.ends_with("saved report.zip"),
            "the saved screen should name the file: {shown:?}"
        );
        screenshot(&client, harness, "09-saved.png").await?;
        checks::unzip_test(&dest)?;
        let manifest = checks::python_verify(&dest)?;
        ensure!(
            manifest["consent"]["destination"] == "file",
            "a saved report's consent names a file: {}",
            manifest["consent"]
        );
        ensure!(
            manifest["files"].as_array().map(Vec::len) == Some(8),
            "the saved report holds the 8 files listed: {}",
            manifest["files"]
        );
        let leftovers: Vec<_> = std::fs::read_dir(harness.dir.path())?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains(".saving"))
            .collect();
        ensure!(leftovers.is_empty(), "left behind: {leftovers:?}");
        let tickets = tickets(harness).await?;
        ensure!(
            !tickets
                .to_string()
                .contains("Saving the logs for the help desk"),
            "nothing may be sent when saving to a file: {tickets}"
        );
        Ok(())
    }
    .await;
    harness.close(client, &harness.config).await;
    result
}
