//! How the app reads for people who need larger text: zoomed to 200% with the keyboard
//! (Ctrl+=, 20% a step), every screen still fits its width and passes axe-core.

use std::time::Duration;

use anyhow::{Context, ensure};
use fantoccini::Client;

use crate::harness::Harness;
use crate::tests::{WAIT, css, screenshot, wait_text};
use crate::x11::{press, visible_windows};

pub async fn text_fits_at_200_percent(harness: &Harness) -> anyhow::Result<()> {
    let config = harness.config.clone();
    let client = harness.session(&config).await?;
    let result = async {
        let summary = client
            .wait()
            .at_most(WAIT)
            .for_element(css("[data-testid=summary]"))
            .await?;
        let width = |c: &Client| {
            let c = c.clone();
            async move {
                c.execute("return window.innerWidth;", vec![])
                    .await
                    .map(|v| v.as_f64().unwrap_or(0.0))
            }
        };
        let before = width(&client).await?;
        let window = visible_windows(&harness.display, "^Call Support$")?
            .into_iter()
            .next()
            .context("the app window")?;
        crate::x11::focus(&harness.display, &window)?;
        for _ in 0..5 {
            press(&harness.display, "ctrl+equal")?;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let after = width(&client).await?;
        ensure!(
            (after * 2.0 - before).abs() < 2.0,
            "five Ctrl+= should zoom to 200%: the page was {before} px wide, now {after} px"
        );
        fits(&client, "report").await?;
        screenshot(&client, harness, "14-report-200.png").await?;

        // WebDriver's clicks miss under page zoom (its coordinates are unzoomed); a keyboard
        // user submits the form with Enter, which is what this checks.
        summary.send_keys("Zoomed in\u{E007}").await?;
        wait_text(&client, "[data-testid=total]", |t| t.contains("files"))
            .await
            .context("Enter in the summary should open the review")?;
        fits(&client, "consent").await?;
        screenshot(&client, harness, "15-consent-200.png").await?;
        Ok(())
    }
    .await;
    harness.close(client, &config).await;
    result
}

/// The page does not scroll sideways: nothing is wider than the window.
async fn fits(client: &Client, screen: &str) -> anyhow::Result<()> {
    let overflow = client
        .execute(
            "const root = document.documentElement;\n\
             const wide = [...document.querySelectorAll('main *')]\n\
               .filter((e) => e.getBoundingClientRect().right > root.clientWidth + 1)\n\
               .filter((e) => !e.closest('pre, .files, .settings'))\n\
               .map((e) => e.tagName.toLowerCase() + (e.dataset.testid ? `[${e.dataset.testid}]` : ''));\n\
             return {scroll: root.scrollWidth - root.clientWidth, wide: wide.slice(0, 5)};",
            vec![],
        )
        .await?;
    ensure!(
        overflow["scroll"].as_f64() == Some(0.0)
            && overflow["wide"].as_array().is_some_and(Vec::is_empty),
        "the {screen} screen is wider than the window at 200%: {overflow}"
    );
    Ok(())
}
