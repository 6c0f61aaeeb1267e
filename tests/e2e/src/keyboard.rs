//! The whole report flow with the keyboard alone: focus starts in the summary, Tab reaches every
//! control in a sensible order, Enter and Space act, and the report is sent.

use anyhow::{Context, bail, ensure};
use fantoccini::Client;

use crate::harness::Harness;
use crate::tests::{WAIT, wait_text};

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

pub async fn the_report_flow_works_with_the_keyboard_alone(
    harness: &Harness,
) -> anyhow::Result<()> {
    let config = harness.config.clone();
    let client = harness.session(&config).await?;
    let result = async {
        ensure!(
            focused(&client).await? == "summary",
            "the report form should open with the focus in the summary"
        );
        keys(&client, "Keyboard only").await?;
        let order = tab_to(&client, "review", 12).await?;
        ensure!(
            order.starts_with(&["description".to_owned(), "category".to_owned()]),
            "Tab should go from the summary to the detail and the kind of problem: {order:?}"
        );
        keys(&client, ENTER).await?;
        wait_text(&client, "[data-testid=total]", |t| t.contains("files")).await?;
        let order = tab_to(&client, "send", 60).await?;
        ensure!(
            order.iter().any(|t| t == "file-include") && order.iter().any(|t| t == "save"),
            "Tab should pass the file checkboxes and Save to file on its way to Send: {order:?}"
        );
        keys(&client, ENTER).await?;
        let ticket =
            wait_text(&client, "[data-testid=ticket-id]", |t| t.starts_with("CS-")).await?;
        tab_to(&client, "done", 6).await?;
        keys(&client, ENTER).await?;
        client
            .wait()
            .at_most(WAIT)
            .for_element(fantoccini::Locator::Css("[data-testid=summary]"))
            .await
            .with_context(|| format!("Done should lead back to a new report after {ticket}"))?;
        Ok(())
    }
    .await;
    harness.close(client, &config).await;
    result
}

/// The `data-testid` (or tag) of the focused element.
async fn focused(client: &Client) -> anyhow::Result<String> {
    let value = client
        .execute(
            "const e = document.activeElement;\n\
             return e ? (e.dataset.testid || e.tagName.toLowerCase()) : '';",
            vec![],
        )
        .await?;
    Ok(value.as_str().unwrap_or_default().to_owned())
}

async fn keys(client: &Client, text: &str) -> anyhow::Result<()> {
    client.active_element().await?.send_keys(text).await?;
    Ok(())
}

/// Presses Tab until `target` has the focus (at most `limit` times); returns what had it on
/// the way.
async fn tab_to(client: &Client, target: &str, limit: usize) -> anyhow::Result<Vec<String>> {
    let mut seen = Vec::new();
    for _ in 0..limit {
        keys(client, TAB).await?;
        let now = focused(client).await?;
        if now == target {
            return Ok(seen);
        }
        seen.push(now);
    }
    bail!("{target} was not reached with {limit} Tabs; the focus went {seen:?}")
}
