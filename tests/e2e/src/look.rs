//! How the app reads for people who need larger text: zoomed to 200% with the keyboard
//! (Ctrl+=, 20% a step), every screen still fits its width and passes axe-core.

use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use fantoccini::Client;

use crate::harness::Harness;
use crate::tests::{WAIT, css, screenshot, wait_text};
use crate::x11::{press, visible_windows, wait_for_focus};

pub async fn text_fits_at_200_percent(harness: &Harness) -> anyhow::Result<()> {
    let config = harness.config.clone();
    let client = harness.session(&config).await?;
    let result = async {
        let summary = client
            .wait()
            .at_most(WAIT)
            .for_element(css("[data-testid=summary]"))
            .await?;
        let before = width(&client).await?;
        let window = visible_windows(&harness.display, "^Call Support$")?
            .into_iter()
            .next()
            .context("the app window")?;
        // Keys go where the keyboard focus is: the app gives it to the window it shows.
        wait_for_focus(&harness.display, &window)
            .await
            .context("the app window should take the keyboard focus when shown")?;
        // Pressed as fast as a user can: each press is one step, none lost, applied in order.
        for _ in 0..5 {
            press(&harness.display, "ctrl+equal")?;
        }
        let zoomed = |w: f64| (w * 2.0 - before).abs() < 2.0;
        let after = wait_width(&client, zoomed).await?;
        ensure!(
            zoomed(after),
            "five Ctrl+= should zoom to 200%: the page was {before} px wide, now {after} px"
        );
        fits(&client, "report").await?;
        screenshot(&client, harness, "14-report-200.png").await?;
        let still = width(&client).await?;
        ensure!(
            zoomed(still),
            "the zoom should stay at 200%: the page was {after} px wide, now {still} px"
        );

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

/// The page's width in CSS pixels: the window's width over the zoom.
async fn width(client: &Client) -> anyhow::Result<f64> {
    Ok(client
        .execute("return window.innerWidth;", vec![])
        .await?
        .as_f64()
        .unwrap_or(0.0))
}

/// Waits up to 10 s for the page's width to be what `done` wants (the zoom is applied after the
/// key press, by the webview); returns the last width read.
async fn wait_width(client: &Client, done: impl Fn(f64) -> bool) -> anyhow::Result<f64> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let width = width(client).await?;
        if done(width) || Instant::now() > deadline {
            return Ok(width);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
