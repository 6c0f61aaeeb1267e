//! Privacy that holds on every path, in the real app: a Chrome WebRTC log compressed with gzip is
//! tagged, previewed cleaned, and sent cleaned while a log nothing can read is named and left out
//! by the user; the organisation's locked policy is refused alike by the app and the CLI; a
//! bundle sealed for the organisation's keys opens in the viewer with the agent's key.

use std::io::Write;
use std::process::Command;

use anyhow::{Context, ensure};
use callsupport_desk::collect::{Plan, collect};
use callsupport_desk::config::Config;
use callsupport_desk::consent::{Destination, Statement};
use callsupport_desk::report::Report;
use callsupport_desk::seal::Identities;

use crate::checks;
use crate::harness::Harness;
use crate::tests::{WAIT, click, css, screenshot, type_summary, wait_text};

const ICE_LINE: &str = "2026-12-07T10:02:11.123Z candidate:842163049 1 udp 1677729535 203.0.113.45 49152 typ srflx raddr 192.168.1.20 rport 49152, call 0f8fad5b-d9cb-469f-a165-70867728950e\n";

pub async fn a_gzip_log_is_previewed_and_sent_cleaned(harness: &Harness) -> anyhow::Result<()> {
    let logs = harness.dir.path().join("chrome/Default/WebRTC Logs");
    std::fs::create_dir_all(&logs)?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"[000:001] user jane.doe@contoso.com joined, Chrome/120.0.6099.109\n")?;
    gz.write_all(ICE_LINE.repeat(200).as_bytes())?;
    std::fs::write(logs.join("1733565731.gz"), gz.finish()?)?;
    std::fs::write(
        logs.join("old.log.xz"),
        b"\xfd7zXZ\x00\x00 not unpacked here",
    )?;
    let config = harness.dir.path().join("webrtc.toml");
    let text = std::fs::read_to_string(&harness.config)?;
    std::fs::write(
        &config,
        format!(
            "{text}\n[[sources]]\nid = \"chrome-webrtc\"\nname = \"Chrome WebRTC logs\"\nroot = '{}'\ninclude = [\"*/WebRTC Logs/*.gz\", \"*/WebRTC Logs/*.xz\"]\nkind = \"text\"\n",
            harness.dir.path().join("chrome").display()
        ),
    )?;
    let client = harness.session(&config).await?;
    let result = async {
        type_summary(&client, "Audio cut out in the browser call").await?;
        click(&client, "review").await?;
        let statement = wait_text(&client, "[data-testid=statement]", |t| !t.is_empty()).await?;
        ensure!(
            statement.contains("also those compressed as gzip or zip"),
            "the statement says compressed logs are cleaned: {statement:?}"
        );
        ensure!(
            statement.contains("old.log.xz") && statement.contains("cannot unpack"),
            "the statement names the file that goes as it is, and why: {statement:?}"
        );
        // Each file's tag, by the path its name carries as a tooltip.
        let tag = |name: &'static str| {
            let client = client.clone();
            async move {
                let found = client
                    .execute(
                        "const row = [...document.querySelectorAll('[data-testid=file]')]\n\
                           .find(r => r.querySelector('.path').title.endsWith(arguments[0]));\n\
                         if (!row) return null;\n\
                         const tag = row.querySelector('[data-testid=file-content]');\n\
                         return [tag ? tag.textContent.trim() : '', !!row.querySelector('[data-testid=file-preview]')];",
                        vec![serde_json::json!(name)],
                    )
                    .await?;
                anyhow::Ok(found)
            }
        };
        let gz = tag("1733565731.gz").await?;
        ensure!(gz == serde_json::json!(["gzip", true]), "the gzip log is tagged and previewable: {gz}");
        let xz = tag("old.log.xz").await?;
        ensure!(
            xz == serde_json::json!(["Sent as it is", false]),
            "what cannot be read is tagged and has no preview: {xz}"
        );

        // The gzip log's preview: its text, the addresses replaced.
        client
            .find(css("[data-testid=file-preview][aria-label='Preview 1733565731.gz']"))
            .await
            .context("the gzip log has a Preview button")?
            .click()
            .await?;
        let preview = wait_text(&client, "[data-testid=preview-text]", |t| t.contains("typ srflx"))
            .await
            .context("the preview shows the gzip log's text")?;
        ensure!(
            !preview.contains("203.0.113.45") && preview.contains("<ipv4-"),
            "the preview shows the address replaced"
        );
        ensure!(preview.contains("0f8fad5b-d9cb-469f-a165-70867728950e"), "call ids stay");
        screenshot(&client, harness, "24-gzip-preview.png").await?;
        click(&client, "preview-close").await?;

        // Left out by the user, the log nothing can read does not go.
        let before = client.find(css("[data-testid=total]")).await?.text().await?;
        let count: usize = before
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .with_context(|| format!("the total names a count of files: {before:?}"))?;
        client
            .execute(
                "[...document.querySelectorAll('[data-testid=file]')]\n\
                   .find(r => r.querySelector('.path').title.endsWith('old.log.xz'))\n\
                   .querySelector('[data-testid=file-include]').click();",
                vec![],
            )
            .await?;
        let fewer = format!("{} files", count - 1);
        wait_text(&client, "[data-testid=total]", |t| t.starts_with(&fewer))
            .await
            .context("unticking the xz log should update the total")?;
        click(&client, "send").await?;
        let ticket = wait_text(&client, "[data-testid=ticket-id]", |t| t.starts_with("CS-")).await?;
        let stored = harness.server_data.join("bundles").join(format!("{ticket}.zip"));
        let manifest = checks::python_verify(&stored)?;
        let files = manifest["files"].as_array().context("files")?;
        let entry = files
            .iter()
            .find(|f| f["path"] == "files/chrome-webrtc/Default/WebRTC Logs/1733565731.gz")
            .with_context(|| format!("the gzip log went: {files:?}"))?;
        ensure!(
            entry["repacked"] == "gzip" && entry["redaction"] == "applied",
            "{entry}"
        );
        ensure!(
            !files.iter().any(|f| f["path"].as_str().is_some_and(|p| p.ends_with(".xz"))),
            "the unticked file stayed out"
        );
        let out = Command::new("python3")
            .args([
                "-c",
                "import gzip, sys, zipfile; sys.stdout.write(gzip.decompress(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2])).decode())",
            ])
            .arg(&stored)
            .arg("files/chrome-webrtc/Default/WebRTC Logs/1733565731.gz")
            .output()?;
        let sent = String::from_utf8_lossy(&out.stdout);
        ensure!(out.status.success() && sent.lines().count() == 201, "Python's gzip reads it whole");
        for secret in ["203.0.113.45", "192.168.1.20", "jane.doe@contoso.com"] {
            ensure!(!sent.contains(secret), "{secret} was sent");
        }
        ensure!(
            sent.contains("typ srflx") && sent.contains("Chrome/120.0.6099.109"),
            "what support needs stays"
        );
        Ok(())
    }
    .await;
    harness.close(client, &config).await;
    result
}

const LOCKED: &str = "# Contoso IT\nlocked = [\"privacy\"]\n\n[privacy]\nallow_export = false\nallow_log_collection = false\n";

pub async fn a_locked_policy_is_refused_by_the_app_and_the_cli(
    harness: &Harness,
) -> anyhow::Result<()> {
    std::fs::write(harness.managed_config(), LOCKED)?;
    // The user's own file asks for what the organisation does not allow.
    let user = harness.dir.path().join("wants-export.toml");
    let text = std::fs::read_to_string(&harness.config)?;
    std::fs::write(
        &user,
        format!("{text}\n[privacy]\nallow_export = true\nallow_log_collection = true\n"),
    )?;
    let client = harness.session(&user).await?;
    let result = async {
        let ready = wait_text(&client, "[data-testid=files-ready]", |t| !t.is_empty()).await?;
        ensure!(
            ready.contains("does not collect log files"),
            "the form says no logs go: {ready:?}"
        );
        // A page asking to save to a file, as a tampered one would, is refused with `managed`.
        let refused = client
            .execute_async(
                "const done = arguments[arguments.length - 1];\n\
                 window.__TAURI_INTERNALS__.invoke('prepare_report', {draft: {summary: 'x', to_file: true}})\n\
                   .then(() => done('prepared'), (e) => done(e.code));",
                vec![],
            )
            .await?;
        ensure!(refused == "managed", "saving to a file must be refused: {refused}");

        // The CLI, under the same two files, refuses the same, naming the key.
        let cli = harness.app.with_file_name("callsupport");
        let out_file = harness.dir.path().join("not-allowed.zip");
        let run = Command::new(&cli)
            .envs(harness.env.iter().map(|(k, v)| (k, v)))
            .args(["--config"])
            .arg(&user)
            .args(["collect", "--yes", "--summary", "from a script", "--out"])
            .arg(&out_file)
            .output()
            .with_context(|| format!("cannot run {}", cli.display()))?;
        let stderr = String::from_utf8_lossy(&run.stderr);
        ensure!(
            !run.status.success() && stderr.contains("privacy.allow_export"),
            "the CLI must refuse to write a file: {stderr}"
        );
        ensure!(!out_file.exists(), "nothing written");

        // Sent, the report holds no file, and the statement kept says so.
        type_summary(&client, "No sound at all").await?;
        click(&client, "review").await?;
        let statement = wait_text(&client, "[data-testid=statement]", |t| !t.is_empty()).await?;
        ensure!(statement.contains("no files"), "{statement:?}");
        let why = client.find(css("[data-testid=no-logs]")).await?.text().await?;
        ensure!(why.contains("does not collect log files"), "{why:?}");
        ensure!(
            client.find(css("[data-testid=save]")).await.is_err(),
            "no Save to file where the organisation does not allow it"
        );
        screenshot(&client, harness, "25-policy-consent.png").await?;
        click(&client, "send").await?;
        let ticket = wait_text(&client, "[data-testid=ticket-id]", |t| t.starts_with("CS-")).await?;
        let stored = harness.server_data.join("bundles").join(format!("{ticket}.zip"));
        let manifest = checks::python_verify(&stored)?;
        ensure!(manifest["files"] == serde_json::json!([]), "{}", manifest["files"]);
        ensure!(
            manifest["consent"]["statement"].as_str().is_some_and(|s| s.contains("no files")),
            "{}",
            manifest["consent"]
        );
        Ok(())
    }
    .await;
    harness.close(client, &user).await;
    let _ = std::fs::remove_file(harness.managed_config());
    result
}

pub async fn a_sealed_bundle_opens_in_the_viewer_with_the_agents_key(
    harness: &Harness,
) -> anyhow::Result<()> {
    let agent = Identities::generate();
    let key = harness.dir.path().join("agent.key");
    std::fs::write(&key, agent.to_file_text())?;
    // Sealed as a user's app seals it for the organisation's key.
    let text = std::fs::read_to_string(&harness.config)?;
    let config = Config::parse(&harness.config, &text)?;
    let (plan, _) = Plan::from_config(&config)?;
    let sealed_for = agent.public_keys();
    let statement = Statement::sealed(&plan, &Destination::File, true, &sealed_for);
    let sealed = harness.dir.path().join("from-a-user.zip.age");
    let _ = std::fs::remove_file(&sealed);
    collect(
        &plan,
        Report::new("Sealed: echo on every call"),
        statement.agreed(&Destination::File, true),
        &sealed,
        |_| true,
    )?;
    ensure!(
        std::fs::read(&sealed)?.starts_with(b"age-encryption.org/v1\n"),
        "the bundle is sealed"
    );
    let agent_config = harness.dir.path().join("agent.toml");
    std::fs::write(
        &agent_config,
        format!("{text}\n[viewer]\nidentity_file = '{}'\n", key.display()),
    )?;
    let client = harness.session(&agent_config).await?;
    let result = async {
        // Double-clicked: the running app opens it in the viewer.
        let status = harness.app_command(&agent_config).arg(&sealed).status()?;
        ensure!(status.success(), "the second launch exited with {status}");
        let summary = wait_text(&client, "[data-testid=bundle-summary]", |t| !t.is_empty())
            .await
            .context("the sealed bundle should open with the agent's key")?;
        ensure!(summary == "Sealed: echo on every call", "{summary:?}");
        let sealed_note = client
            .find(css("[data-testid=bundle-sealed]"))
            .await?
            .text()
            .await?;
        ensure!(
            sealed_note.contains("opened with your key"),
            "{sealed_note:?}"
        );
        wait_text(&client, "[data-testid=integrity]", |t| {
            t.starts_with("Intact")
        })
        .await
        .context("the opened bundle checks intact")?;
        client
            .wait()
            .at_most(WAIT)
            .for_element(css("[data-testid=bundle-statement]"))
            .await
            .context("the statement the user read is shown")?;
        screenshot(&client, harness, "26-viewer-sealed.png").await?;
        Ok(())
    }
    .await;
    harness.close(client, &agent_config).await;
    result
}
