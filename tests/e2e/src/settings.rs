//! Settings under a machine-wide file: the organisation's locked keys are shown as managed and
//! cannot be changed (not on the screen, not through the app's IPC); the user's own are saved to
//! their file; the organisation's policy reaches the report form.

use anyhow::{Context, ensure};

use crate::harness::Harness;
use crate::tests::{WAIT, click, css, screenshot, wait_text};

const MANAGED: &str = r#"# Contoso IT
locked = ["shortcut.report", "privacy"]

[shortcut]
report = "Ctrl+Alt+Shift+R"

[privacy]
redact = true
allow_contact_email = true
"#;

pub async fn a_locked_setting_cannot_be_changed(harness: &Harness) -> anyhow::Result<()> {
    std::fs::write(harness.managed_config(), MANAGED)?;
    // The user's file gets written: a copy, so other tests keep theirs.
    let user = harness.dir.path().join("user-settings.toml");
    std::fs::copy(&harness.config, &user)?;
    let client = harness.session(&user).await?;
    let result = async {
        // The organisation allows a contact address: the form offers one.
        client
            .wait()
            .at_most(WAIT)
            .for_element(css("[data-testid=contact]"))
            .await
            .context("privacy.allow_contact_email = true should offer the contact field")?;
        click(&client, "open-settings").await?;

        let locked = wait_text(&client, "[data-key='shortcut.report'] [data-testid=setting-origin]", |t| {
            !t.is_empty()
        })
        .await?;
        ensure!(
            locked.contains("Managed by your organisation"),
            "a locked key is shown as managed: {locked:?}"
        );
        ensure!(
            client
                .find(css("[data-key='shortcut.report'] input"))
                .await
                .is_err(),
            "a locked key has no field to change it"
        );
        screenshot(&client, harness, "12-settings.png").await?;

        // Through the app's own IPC, as a tampered page would: refused with `managed`.
        let refused = client
            .execute_async(
                "const done = arguments[arguments.length - 1];\n\
                 window.__TAURI_INTERNALS__.invoke('change_setting', {key: 'shortcut.report', value: 'Ctrl+K'})\n\
                   .then(() => done('changed'), (e) => done(e.code));",
                vec![],
            )
            .await?;
        ensure!(
            refused == "managed",
            "changing a locked key must be refused with `managed`, got {refused}"
        );
        // The page may call the app's commands and listen to its events, nothing else of Tauri.
        let window_api = client
            .execute_async(
                "const done = arguments[arguments.length - 1];\n\
                 window.__TAURI_INTERNALS__.invoke('plugin:window|set_title', {label: 'main', value: 'x'})\n\
                   .then(() => done('allowed'), (e) => done(String(e)));",
                vec![],
            )
            .await?;
        ensure!(
            window_api.as_str().is_some_and(|e| e.contains("not allowed")),
            "the capability must not allow window APIs from the page: {window_api}"
        );

        // The user's own setting is saved to their file.
        let input = client
            .find(css("[data-key='collection.max_age_days'] input"))
            .await?;
        input.clear().await?;
        input.send_keys("3").await?;
        client
            .find(css("[data-key='collection.max_age_days'] [data-testid=setting-save]"))
            .await?
            .click()
            .await?;
        wait_text(&client, "[data-key='collection.max_age_days'] .meta", |t| t == "Saved").await?;
        let text = std::fs::read_to_string(&user)?;
        ensure!(
            text.contains("max_age_days = 3"),
            "the change should be in the user's file:\n{text}"
        );
        ensure!(
            !text.contains("Ctrl+K") && !std::fs::read_to_string(harness.managed_config())?.contains("Ctrl+K"),
            "the locked value was written somewhere"
        );
        Ok(())
    }
    .await;
    harness.close(client, &user).await;
    let _ = std::fs::remove_file(harness.managed_config());
    result
}

/// The user's file is broken (a word where a switch goes): the app still starts with the
/// organisation's and the default values, and Settings names the file, line and key it ignored.
pub async fn a_broken_user_file_is_named_and_the_app_starts(
    harness: &Harness,
) -> anyhow::Result<()> {
    // The organisation's file carries everything the app needs.
    std::fs::copy(&harness.config, harness.managed_config())?;
    let user = harness.dir.path().join("broken-user.toml");
    std::fs::write(&user, "# mine\n[privacy]\nredact = \"sometimes\"\n")?;
    let client = harness.session(&user).await?;
    let result = async {
        // The report form, not an error screen: the organisation's values were enough.
        client
            .wait()
            .at_most(WAIT)
            .for_element(css("[data-testid=summary]"))
            .await
            .context("the app should start on the report form despite the broken user file")?;
        click(&client, "open-settings").await?;
        let ignored = wait_text(&client, "[data-testid=settings-ignored]", |t| !t.is_empty())
            .await
            .context("Settings should say what of the user's file was ignored")?;
        ensure!(
            ignored.contains("broken-user.toml:3") && ignored.contains("`privacy.redact`"),
            "the ignored file and line are named: {ignored:?}"
        );
        screenshot(&client, harness, "12b-settings-ignored.png").await?;
        Ok(())
    }
    .await;
    harness.close(client, &user).await;
    let _ = std::fs::remove_file(harness.managed_config());
    result
}
