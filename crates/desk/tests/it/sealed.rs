//! Bundles sealed for the organisation's keys (`privacy.recipients`): the consent screen says who
//! can open them; the outbox copy, a saved file and the server's copy are age ciphertext that
//! Debian's `age` opens with either key; the server checks what it receives with its own key,
//! refuses sealed bundles without one, and the agent's viewer opens the stored copy with the
//! agent's key.

use std::fs;
use std::path::{Path, PathBuf};

use callsupport_desk::ErrorCode;
use callsupport_desk::api::{ApiError, Desk, Viewer};
use callsupport_seal::Identities;
use callsupport_ticket_server::ServerConfig;

use crate::desk::draft;
use crate::support::{
    LogTree, Server, TOKEN_ENV, config_toml, dead_url, load_config, names_in, run_tool, sha256_of,
    tokens,
};

const AGE_MAGIC: &[u8] = b"age-encryption.org/v1\n";

/// A key pair: its identity file and its public key.
fn key(dir: &Path, name: &str) -> (PathBuf, String) {
    let identities = Identities::generate();
    let path = dir.join(name);
    fs::write(&path, identities.to_file_text()).unwrap();
    (path, identities.public_keys().remove(0))
}

fn sealed_desk(tree: &LogTree, url: &str, data: &Path, recipients: &[&str]) -> Desk {
    let list = recipients
        .iter()
        .map(|r| format!("\"{r}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let text = config_toml(url, Some(TOKEN_ENV), &tree.sources_toml(), 200)
        .replace(
            "[privacy]\n",
            &format!("[privacy]\nrecipients = [{list}]\n"),
        )
        .replace("[ticket_api]\n", "[ticket_api]\nretries = 0\n");
    Desk::new(load_config(tree.dir.path(), &text), data.to_path_buf())
}

/// Opens `sealed` with Debian's `age` and the identity file `key` into `out`.
fn age_open(key: &Path, sealed: &Path, out: &Path) {
    run_tool(
        "age",
        &[
            "-d",
            "-i",
            key.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            sealed.to_str().unwrap(),
        ],
    );
}

fn starts_sealed(path: &Path) -> bool {
    fs::read(path).unwrap().starts_with(AGE_MAGIC)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sealed_report_is_ciphertext_everywhere_and_opens_only_with_the_organisations_keys() {
    tokens();
    let keys = tempfile::tempdir().unwrap();
    let (server_key, server_public) = key(keys.path(), "server.txt");
    let (agent_key, agent_public) = key(keys.path(), "agent.txt");
    let server = Server::start_with(ServerConfig {
        seal_identity: Some(server_key.clone()),
        ..Server::config()
    })
    .await;
    let tree = LogTree::new();
    let data = tempfile::tempdir().unwrap();
    let desk = sealed_desk(
        &tree,
        &server.url(),
        data.path(),
        &[&server_public, &agent_public],
    );

    // The consent screen says who can open it.
    let view = desk.prepare_report(draft("no audio")).unwrap();
    let sealing = view
        .statement
        .iter()
        .find(|p| p.contains("sealed"))
        .expect("the statement says it is sealed");
    assert!(sealing.contains("2 keys"), "{sealing}");
    assert!(sealing.contains(&server_public[..8]), "{sealing}");

    // Saved to a file: ciphertext that `age` opens with the agent's key into the bundle.
    let saved = data.path().join("saved.zip.age");
    desk.export_report(&view.report_id, &saved, |_| true)
        .await
        .unwrap();
    assert!(starts_sealed(&saved));
    let opened = data.path().join("opened.zip");
    age_open(&agent_key, &saved, &opened);
    let consent = run_tool(
        "python3",
        &[
            "-c",
            "import json,sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(json.dumps(json.loads(z.read('manifest.json'))['consent']))",
            opened.to_str().unwrap(),
        ],
    );
    let consent: serde_json::Value = serde_json::from_str(&consent).unwrap();
    assert_eq!(
        consent["sealed_for"],
        serde_json::json!([server_public, agent_public])
    );
    assert_eq!(consent["destination"], "file");

    // Sent: the server checked it with its key and keeps it sealed, as it came.
    let receipt = desk.send_report(&view.report_id, |_| true).await.unwrap();
    let stored = server.stored_bundle(&receipt.ticket_id);
    assert!(starts_sealed(&stored), "the server's copy is ciphertext");
    assert_eq!(sha256_of(&stored), receipt.bundle_sha256);

    // The agent's viewer opens the stored copy with the agent's key, and only with a key.
    let viewer = Viewer::default();
    let refused = ApiError::from(viewer.open(&stored).unwrap_err());
    assert_eq!(
        refused.code,
        ErrorCode::ConfigInvalid,
        "{}",
        refused.message
    );
    assert!(
        refused.message.contains("viewer.identity_file"),
        "{}",
        refused.message
    );
    viewer.use_identity_file(Some(agent_key.clone()));
    let opened = viewer.open(&stored).unwrap();
    assert!(opened.sealed);
    assert_eq!(opened.manifest.report.summary, "no audio");
    assert!(viewer.verify(&opened.id).unwrap().intact);
    let (stranger, _) = key(keys.path(), "stranger.txt");
    let other = Viewer::default();
    other.use_identity_file(Some(stranger));
    let err = ApiError::from(other.open(&stored).unwrap_err());
    assert_eq!(err.code, ErrorCode::Integrity, "{}", err.message);
    assert!(
        err.message.contains("sealed for other keys"),
        "{}",
        err.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_keeps_only_ciphertext_and_a_server_without_the_key_refuses_it() {
    tokens();
    let keys = tempfile::tempdir().unwrap();
    let (agent_key, agent_public) = key(keys.path(), "agent.txt");
    let tree = LogTree::new();
    let data = tempfile::tempdir().unwrap();

    // Offline: the report waits in the outbox, sealed, and nothing else of it is on disk.
    let offline = sealed_desk(&tree, &dead_url(), data.path(), &[&agent_public]);
    let view = offline.prepare_report(draft("echo")).unwrap();
    offline
        .send_report(&view.report_id, |_| true)
        .await
        .unwrap_err();
    let outbox = data.path().join("outbox");
    let waiting: Vec<String> = names_in(&outbox)
        .into_iter()
        .filter(|n| !n.ends_with(".lock"))
        .collect();
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    let queued = outbox.join(&waiting[0]);
    assert!(starts_sealed(&queued.join("bundle.zip")));
    let opened = data.path().join("opened.zip");
    age_open(&agent_key, &queued.join("bundle.zip"), &opened);
    crate::support::assert_unzip_t_passes(&opened);
    for name in names_in(&queued) {
        assert!(
            name == "bundle.zip" || name.ends_with(".json"),
            "only the sealed bundle and its records: {name}"
        );
    }

    // A server that does not hold a key it was sealed for refuses it, saying what to do.
    let server = Server::start(64 << 20).await;
    let desk = sealed_desk(&tree, &server.url(), data.path(), &[&agent_public]);
    let view = desk.prepare_report(draft("echo")).unwrap();
    let err = ApiError::from(
        desk.send_report(&view.report_id, |_| true)
            .await
            .unwrap_err(),
    );
    assert_eq!(err.code, ErrorCode::Rejected, "{}", err.message);
    assert!(err.message.contains("--seal-identity"), "{}", err.message);
    assert!(server.folder("bundles").is_empty());
}
