//! Native dialogs, which WebDriver cannot reach: found by title on the X display and typed into
//! with `xdotool` (real key events through XTEST, as a user's keyboard would send them).

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Waits for the GTK save dialog titled `title`, types `path` into its name field and presses
/// Enter.
pub async fn answer_save_dialog(display: &str, title: &str, path: &str) -> anyhow::Result<()> {
    let window = wait_for_window(display, title).await?;
    xdotool(display, &["windowfocus", "--sync", &window])?;
    // The name field has the focus and the suggested name selected: replace it with the path.
    xdotool(display, &["key", "--clearmodifiers", "ctrl+a"])?;
    xdotool(display, &["type", "--delay", "5", path])?;
    xdotool(display, &["key", "Return"])?;
    Ok(())
}

async fn wait_for_window(display: &str, title: &str) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = Command::new("xdotool")
            .args(["search", "--onlyvisible", "--name", title])
            .env("DISPLAY", display)
            .output()
            .context("cannot run xdotool (package xdotool)")?;
        let found = String::from_utf8_lossy(&out.stdout);
        if let Some(id) = found.split_whitespace().next() {
            return Ok(id.to_owned());
        }
        if Instant::now() > deadline {
            bail!("no window titled {title:?} appeared on {display}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn xdotool(display: &str, args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .status()
        .context("cannot run xdotool (package xdotool)")?;
    if !status.success() {
        bail!("xdotool {} failed ({status})", args.join(" "));
    }
    Ok(())
}
