//! The desktop's notification service for the tests: the real `dunst` on the private session
//! bus and the virtual display. A rule of its configuration runs a script for every notification
//! shown, which writes it down ([`Notifications::shown`]); `dunstctl` answers one as a user would
//! (a click: [`Notifications::click`]; an action from its menu: [`Notifications::choose`], through
//! the menu program dunst asks, here a script that picks what the test wrote down).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

pub struct Notifications {
    dunst: std::process::Child,
    shown: PathBuf,
    pick: PathBuf,
    display: String,
    bus: String,
}

impl Notifications {
    pub fn start(root: &Path, display: &str, bus: &str) -> anyhow::Result<Notifications> {
        let dir = root.join("notifications");
        std::fs::create_dir_all(&dir)?;
        let shown = dir.join("shown.tsv");
        let pick = dir.join("pick.txt");
        let record = dir.join("record.sh");
        let menu = dir.join("menu.sh");
        executable(
            &record,
            &format!(
                "#!/bin/sh\nprintf '%s\\t%s\\t%s\\n' \"$1\" \"$2\" \"$3\" | tr -d '\\r' >> '{}'\n",
                shown.display()
            ),
        )?;
        // dunst pipes its menu's lines (one per action, with the action's label) to this
        // "menu" program and takes the line it prints: the one holding what the test chose.
        executable(
            &menu,
            &format!(
                "#!/bin/sh\ntee '{}' | grep -F -- \"$(cat '{}')\" | head -n 1\n",
                dir.join("menu-offered.txt").display(),
                pick.display()
            ),
        )?;
        let config = dir.join("dunstrc");
        std::fs::write(
            &config,
            format!(
                "[global]\n    monitor = 0\n    follow = none\n    stack_duplicates = false\n    dmenu = {}\n\n[record]\n    summary = \"*\"\n    script = {}\n",
                menu.display(),
                record.display()
            ),
        )?;
        let dunst = Command::new("dunst")
            .arg("-config")
            .arg(&config)
            .env("DISPLAY", display)
            .env("DBUS_SESSION_BUS_ADDRESS", bus)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start dunst (package dunst)")?;
        let notifications = Notifications {
            dunst,
            shown,
            pick,
            display: display.to_owned(),
            bus: bus.to_owned(),
        };
        // Ready once it answers on the bus.
        let deadline = Instant::now() + Duration::from_secs(10);
        while notifications.ctl(&["is-paused"]).is_err() {
            if Instant::now() > deadline {
                bail!("dunst did not come up on the session bus");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(notifications)
    }

    /// Every notification shown so far: (app name, summary, body).
    pub fn shown(&self) -> Vec<(String, String, String)> {
        std::fs::read_to_string(&self.shown)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| {
                let mut parts = line.splitn(3, '\t');
                Some((
                    parts.next()?.to_owned(),
                    parts.next()?.to_owned(),
                    parts.next().unwrap_or_default().to_owned(),
                ))
            })
            .collect()
    }

    /// Waits up to `limit` for a notification whose summary holds `words`.
    pub async fn wait_for(
        &self,
        words: &str,
        limit: Duration,
    ) -> anyhow::Result<(String, String, String)> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(found) = self
                .shown()
                .into_iter()
                .find(|(_, summary, _)| summary.contains(words))
            {
                return Ok(found);
            }
            if Instant::now() > deadline {
                bail!(
                    "no notification saying {words:?} within {} s; shown: {:?}",
                    limit.as_secs(),
                    self.shown()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Clicks the notification on top (its default action).
    pub fn click(&self) -> anyhow::Result<()> {
        self.ctl(&["action", "0"]).map(drop)
    }

    /// Chooses `label` from the top notification's menu of actions.
    pub fn choose(&self, label: &str) -> anyhow::Result<()> {
        std::fs::write(&self.pick, label)?;
        self.ctl(&["context"]).map(drop)
    }

    /// What dunst offered in its menu the last time, for messages.
    pub fn menu_offered(&self) -> String {
        std::fs::read_to_string(self.pick.with_file_name("menu-offered.txt")).unwrap_or_default()
    }

    fn ctl(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = Command::new("dunstctl")
            .args(args)
            .env("DISPLAY", &self.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .output()
            .context("cannot run dunstctl (package dunst)")?;
        if !out.status.success() {
            bail!(
                "dunstctl {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for Notifications {
    fn drop(&mut self) {
        let _ = self.dunst.kill();
        let _ = self.dunst.wait();
    }
}

fn executable(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text)?;
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    Ok(())
}
