//! `api::Desk`, the use cases the app and the CLI call, end to end against the real ticket server:
//! the consent screen's content, what is sent, what the server stores, and the refusals.

use std::fs;

use callsupport_desk::api::{ApiError, Desk, ReportDraft};
use callsupport_desk::bundle::reader::Bundle;
use callsupport_desk::collect::Plan;
use callsupport_desk::config::SourceKind;
use callsupport_desk::consent::{Destination, Statement};
use callsupport_desk::outbox::Outbox;
use callsupport_desk::progress::Progress;
use callsupport_desk::report::{Category, Report, ReportError};
use callsupport_desk::{Error, ErrorCode};

use callsupport_desk::redact::Kind;

use crate::support::{
    AGENT_TOKEN, LogTree, Server, TOKEN_ENV, agent_get, assert_unzip_t_passes, config_toml,
    dead_url, load_config, names_in, sha256_of, sha256sum, text_log, tokens, write_file,
};

pub(crate) fn draft(summary: &str) -> ReportDraft {
    ReportDraft {
        summary: summary.to_owned(),
        description: "Remote side heard nothing after two minutes.".to_owned(),
        category: Category::Audio,
        call_ids: vec!["7f3c-0001".to_owned()],
        occurred_at: None,
        contact: None,
        to_file: false,
        ticket_id: None,
        screenshot: None,
        survey: None,
    }
}

/// A desk whose ticket API is not there yet (nothing listens on `url`), with no retries: a send
/// fails at once and the report waits in the outbox.
struct Offline {
    _tree: LogTree,
    data: tempfile::TempDir,
    url: String,
    desk: Desk,
}

impl Offline {
    fn new() -> Offline {
        tokens();
        let tree = LogTree::new();
        let data = tempfile::tempdir().unwrap();
        let url = dead_url();
        let text = config_toml(&url, Some(TOKEN_ENV), &tree.sources_toml(), 200)
            .replace("[ticket_api]\n", "[ticket_api]\nretries = 0\n");
        let desk = Desk::new(
            load_config(tree.dir.path(), &text),
            data.path().to_path_buf(),
        );
        Offline {
            _tree: tree,
            data,
            url,
            desk,
        }
    }

    /// Starts the server where the desk sends.
    async fn server_comes_up(&self) -> Server {
        let listen = self
            .url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap();
        Server::start_at(listen, 64 << 20).await
    }
}

fn desk(tree: &LogTree, server: &Server, data: &tempfile::TempDir) -> Desk {
    let config = load_config(
        tree.dir.path(),
        &config_toml(&server.url(), Some(TOKEN_ENV), &tree.sources_toml(), 200),
    );
    Desk::new(config, data.path().to_path_buf())
}

/// A desk like [`desk`] with one more `[privacy]` line (`allow_export = false`).
fn desk_with_privacy(
    tree: &LogTree,
    server: &Server,
    data: &tempfile::TempDir,
    line: &str,
) -> Desk {
    let text = config_toml(&server.url(), Some(TOKEN_ENV), &tree.sources_toml(), 200)
        .replace("[privacy]\n", &format!("[privacy]\n{line}\n"));
    Desk::new(
        load_config(tree.dir.path(), &text),
        data.path().to_path_buf(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_goes_from_consent_to_a_stored_ticket() {
    tokens();
    let server = Server::start(64 << 20).await;
    let tree = LogTree::new();
    let data = tempfile::tempdir().unwrap();
    let desk = desk(&tree, &server, &data);
    let host = server.running.addr().to_string();

    let view = desk.prepare_report(draft("  audio\n dropped ")).unwrap();

    // What the consent screen shows: where it goes, and every file grouped by source.
    assert_eq!(view.destination, host);
    assert!(
        view.statement[0].contains(&host),
        "the statement names the destination: {:?}",
        view.statement
    );
    let groups: Vec<_> = view
        .groups
        .iter()
        .map(|g| (g.source_id.as_str(), g.name.as_str(), g.kind, g.files.len()))
        .collect();
    assert_eq!(
        groups,
        [
            ("app", "App logs", SourceKind::Text, 2),
            ("acs", "Calling SDK logs", SourceKind::Encrypted, 2)
        ]
    );
    for (name, source) in tree.expected_files() {
        let group = &view.groups[usize::from(name.starts_with("files/acs/"))];
        let entry = group
            .files
            .iter()
            .find(|f| std::path::Path::new(&f.path).ends_with(name.splitn(3, '/').nth(2).unwrap()))
            .unwrap_or_else(|| panic!("{name} not on the consent screen: {group:?}"));
        assert_eq!(entry.size, fs::metadata(&source).unwrap().len());
        assert_eq!(entry.encrypted, group.source_id == "acs");
    }
    assert_eq!(view.file_count, 4);
    assert_eq!(
        view.total_bytes,
        tree.expected_files()
            .iter()
            .map(|(_, p)| fs::metadata(p).unwrap().len())
            .sum::<u64>()
    );
    assert!(
        view.skipped
            .iter()
            .any(|s| s.path.ends_with("old.log") && s.reason == "too old"),
        "{:?}",
        view.skipped
    );

    let receipt = desk.send_report(&view.report_id, |_| true).await.unwrap();

    // The server has the ticket, and the stored bundle records what the user agreed to.
    assert_eq!(receipt.ticket_id, "CS-000001");
    let ticket = agent_get(&receipt.ticket_url).await;
    assert_eq!(ticket["ticket_id"], "CS-000001");
    assert_eq!(ticket["bundle_id"], receipt.bundle_id.as_str());
    assert_eq!(ticket["summary"], "audio dropped");
    assert_eq!(ticket["category"], "audio");
    let stored = server.stored_bundle(&receipt.ticket_id);
    assert_eq!(sha256_of(&stored), receipt.bundle_sha256);
    let mut bundle = Bundle::open(&stored).unwrap();
    assert!(bundle.verify().intact());
    let manifest = &bundle.manifest;
    assert_eq!(manifest.bundle_id.to_string(), receipt.bundle_id);
    assert_eq!(manifest.consent.statement_sha256, view.statement_sha256);
    assert_eq!(manifest.consent.destination, host);
    assert_eq!(manifest.report.summary, "audio dropped");
    assert_eq!(manifest.report.call_ids, ["7f3c-0001"]);
    assert_eq!(manifest.files.len(), 4);

    // Nothing waits in the outbox, and the report cannot be sent twice.
    assert!(
        names_in(&data.path().join("outbox")).is_empty(),
        "outbox holds {:?}",
        names_in(&data.path().join("outbox"))
    );
    let again = desk.send_report(&view.report_id, |_| true).await;
    assert!(matches!(again, Err(Error::UnknownReport)), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_report_id_is_refused() {
    tokens();
    let server = Server::start(64 << 20).await;
    let tree = LogTree::new();
    let data = tempfile::tempdir().unwrap();
    let desk = desk(&tree, &server, &data);

    let err = desk
        .send_report("0190b2a4-0000-7000-8000-000000000000", |_| true)
        .await
        .unwrap_err();

    assert!(matches!(err, Error::UnknownReport), "{err:?}");
    assert_eq!(ApiError::from(err).code, ErrorCode::ReportInvalid);
    assert!(server.folder("bundles").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_summary_is_invalid() {
    let server = Server::start(64 << 20).await;
    let tree = LogTree::new();
    let data = tempfile::tempdir().unwrap();
    let desk = desk(&tree, &server, &data);

    let err = desk.prepare_report(draft(" \n\t ")).unwrap_err();

    assert_eq!(err.code(), ErrorCode::ReportInvalid, "{err:?}");
    let api = ApiError::from(err);
    assert_eq!(api.code, ErrorCode::ReportInvalid);
    assert!(api.message.contains("summary"), "{}", api.message);
    assert_eq!(
        serde_json::to_value(&api).unwrap()["code"],
        "report_invalid"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_retries_until_the_server_answers() {
    // No server at first: the send backs off and tries again, and reports each wait; the server
    // comes up meanwhile and the same send call delivers the report.
    tokens();
    let tree = LogTree::new();
    let data = tempfile::tempdir().unwrap();
    let url = dead_url();
    let config = load_config(
        tree.dir.path(),
        &config_toml(&url, Some(TOKEN_ENV), &tree.sources_toml(), 200),
    );
    let desk = std::sync::Arc::new(Desk::new(config, data.path().to_path_buf()));
    let view = desk.prepare_report(draft("video froze")).unwrap();
    let retries = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));

    let sending = {
        let (desk, retries) = (desk.clone(), retries.clone());
        tokio::spawn(async move {
            desk.send_report(&view.report_id, move |progress| {
                if let Progress::Retrying {
                    attempt, reason, ..
                } = progress
                {
                    retries.lock().unwrap().push((attempt, reason));
                }
                true
            })
            .await
        })
    };
    while retries.lock().unwrap().is_empty() {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let listen = url.trim_start_matches("http://").split('/').next().unwrap();
    let server = Server::start_at(listen, 64 << 20).await;
    let receipt = sending.await.unwrap().unwrap();

    assert_eq!(receipt.ticket_id, "CS-000001");
    let retries = retries.lock().unwrap().clone();
    assert_eq!(
        retries[0].0, 2,
        "the second attempt was announced: {retries:?}"
    );
    assert!(
        retries[0].1.contains("cannot reach"),
        "the wait says why: {retries:?}"
    );
    assert_eq!(
        sha256_of(&server.stored_bundle("CS-000001")),
        receipt.bundle_sha256
    );
    assert!(names_in(&data.path().join("outbox")).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    windows,
    ignore = "under Wine the report sent once the server comes up at the address that was dead is never answered (seen: minutes without progress, the connection held unanswered in wineserver); not yet explained"
)]
async fn a_report_that_cannot_be_sent_waits_in_the_outbox_and_is_delivered_once() {
    // With no retries left, the send fails but the report is queued on disk, with why. The
    // outbox delivers it once the server is up; sending it again from the screen is that ticket.
    let offline = Offline::new();
    let (desk, data) = (&offline.desk, &offline.data);
    let view = desk.prepare_report(draft("video froze")).unwrap();

    let err = desk
        .send_report(&view.report_id, |_| true)
        .await
        .unwrap_err();

    assert_eq!(err.code(), ErrorCode::Unreachable, "{err:?}");
    let outbox = data.path().join("outbox");
    // One report folder, and the lock file beside it that its sending took.
    let (waiting, locks): (Vec<String>, Vec<String>) = names_in(&outbox)
        .into_iter()
        .partition(|name| !name.ends_with(".lock"));
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert_eq!(locks, [format!("{}.lock", waiting[0])]);
    let queued = outbox.join(&waiting[0]);
    let waiting_sha256 = sha256_of(&queued.join("bundle.zip"));
    let attempts: serde_json::Value =
        serde_json::from_slice(&fs::read(queued.join("attempts.json")).unwrap()).unwrap();
    assert_eq!(attempts["count"], 1);
    assert_eq!(attempts["last_error"]["code"], "unreachable");
    assert_eq!(attempts["last_error"]["retryable"], true);

    let server = offline.server_comes_up().await;
    let flushed = desk.flush_outbox().await.unwrap();

    assert_eq!(flushed.delivered.len(), 1, "{flushed:?}");
    assert!(flushed.failed.is_empty(), "{flushed:?}");
    assert_eq!(flushed.delivered[0].ticket_id, "CS-000001");
    assert_eq!(
        sha256_of(&server.stored_bundle("CS-000001")),
        waiting_sha256,
        "the bundle is the one that waited"
    );
    assert!(names_in(&outbox).is_empty(), "{:?}", names_in(&outbox));
    let again = desk.send_report(&view.report_id, |_| true).await.unwrap();
    assert_eq!(
        again.ticket_id, "CS-000001",
        "the screen's retry finds it delivered"
    );
    assert_eq!(server.folder("bundles").len(), 1, "one ticket, one bundle");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    windows,
    ignore = "under Wine the report sent once the server comes up at the address that was dead is never answered (seen: minutes without progress, the connection held unanswered in wineserver); not yet explained"
)]
async fn the_outbox_sends_as_soon_as_the_network_returns() {
    use callsupport_desk::outbox::Tending;

    let offline = Offline::new();
    let desk = &offline.desk;
    let mut tending = Tending::default();
    assert!(
        desk.tend_outbox(&mut tending).await.is_none(),
        "nothing waits: no pass"
    );
    let view = desk.prepare_report(draft("no audio")).unwrap();
    desk.send_report(&view.report_id, |_| true)
        .await
        .unwrap_err();

    // Offline: the pass fails, and the next tick only probes.
    let first = desk.tend_outbox(&mut tending).await.unwrap().unwrap();
    assert_eq!(first.failed.len(), 1, "{first:?}");
    assert!(
        desk.tend_outbox(&mut tending).await.is_none(),
        "still offline"
    );

    // The network returns: the very next tick delivers, well before the regular interval.
    let server = offline.server_comes_up().await;
    let back = desk.tend_outbox(&mut tending).await.unwrap().unwrap();
    assert_eq!(back.delivered.len(), 1, "{back:?}");
    assert_eq!(back.delivered[0].ticket_id, "CS-000001");
    assert_eq!(server.folder("bundles").len(), 1);
    assert!(
        desk.tend_outbox(&mut tending).await.is_none(),
        "nothing left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unticked_file_stays_out_and_the_statement_agreed_to_says_so() {
    tokens();
    let server = Server::start(64 << 20).await;
    let tree = LogTree::new();
    let data = tempfile::tempdir().unwrap();
    let desk = desk(&tree, &server, &data);
    let view = desk.prepare_report(draft("audio dropped")).unwrap();
    let blob = view.groups[1].files[0].clone();
    assert!(blob.included && blob.encrypted, "{blob:?}");

    let chosen = desk
        .choose_files(&view.report_id, std::slice::from_ref(&blob.id))
        .unwrap();

    // Still listed, unticked; the totals and the statement follow the choice.
    let listed = chosen.groups[1]
        .files
        .iter()
        .find(|f| f.id == blob.id)
        .unwrap();
    assert!(!listed.included);
    assert_eq!(chosen.file_count, view.file_count - 1);
    assert_eq!(chosen.total_bytes, view.total_bytes - blob.size);
    assert_ne!(chosen.statement_sha256, view.statement_sha256);
    assert!(
        desk.choose_files(&view.report_id, &["acs/no-such.blog".to_owned()])
            .is_err(),
        "only offered files can be chosen"
    );
    // Ticking it again and unticking it once more ends where it was.
    let again = desk.choose_files(&view.report_id, &[]).unwrap();
    assert_eq!(again.statement_sha256, view.statement_sha256);
    let chosen = desk
        .choose_files(&view.report_id, std::slice::from_ref(&blob.id))
        .unwrap();

    let receipt = desk.send_report(&view.report_id, |_| true).await.unwrap();
    let stored = Bundle::open(&server.stored_bundle(&receipt.ticket_id)).unwrap();
    let manifest = &stored.manifest;
    assert!(
        manifest
            .files
            .iter()
            .all(|f| f.path != format!("files/{}", blob.id)),
        "{:?}",
        manifest.files
    );
    assert_eq!(manifest.files.len() as u32, chosen.file_count);
    assert!(
        manifest
            .skipped
            .iter()
            .any(|s| s.original_path == blob.path && s.reason == "left out by you"),
        "{:?}",
        manifest.skipped
    );
    assert_eq!(
        manifest.consent.statement_sha256, chosen.statement_sha256,
        "the record is of the statement shown after the choice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    windows,
    ignore = "under Wine the report sent once the server comes up at the address that was dead is never answered (seen: minutes without progress, the connection held unanswered in wineserver); not yet explained"
)]
async fn the_history_shows_waiting_and_sent_reports_and_local_copies_can_be_deleted() {
    use callsupport_desk::api::ReportState;

    let offline = Offline::new();
    let desk = &offline.desk;
    for summary in ["first", "second"] {
        let view = desk.prepare_report(draft(summary)).unwrap();
        desk.send_report(&view.report_id, |_| true)
            .await
            .unwrap_err();
    }
    let history = desk.history().unwrap();
    assert_eq!(
        history
            .iter()
            .map(|h| (h.summary.as_str(), h.state))
            .collect::<Vec<_>>(),
        [
            ("first", ReportState::Waiting),
            ("second", ReportState::Waiting)
        ]
    );
    assert!(
        history[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("cannot reach")
    );

    // One is deleted before it goes; the other is delivered.
    desk.delete_local_copy(&history[0].id).unwrap();
    let _server = offline.server_comes_up().await;
    desk.flush_outbox().await.unwrap();
    let history = desk.history().unwrap();
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0].summary, "second");
    assert_eq!(history[0].state, ReportState::Sent);
    assert_eq!(history[0].ticket_id.as_deref(), Some("CS-000001"));
    // Its ticket's page may be opened; a ticket no report went to may not.
    let link = desk.ticket_link("CS-000001").unwrap();
    assert_eq!(Some(&link), history[0].ticket_url.as_ref());
    assert!(link.starts_with("http://127.0.0.1:"), "{link}");
    assert!(matches!(
        desk.ticket_link("CS-999999"),
        Err(Error::UnknownTicket(id)) if id == "CS-999999"
    ));

    desk.delete_local_copy(&history[0].id).unwrap();
    assert!(desk.history().unwrap().is_empty());
    assert!(matches!(
        desk.ticket_link("CS-000001"),
        Err(Error::UnknownTicket(_))
    ));
    assert!(matches!(
        desk.delete_local_copy(&history[0].id),
        Err(Error::UnknownReport)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_form_offers_recent_calls_and_a_contact_only_where_allowed() {
    tokens();
    let server = Server::start(64 << 20).await;
    let tree = LogTree::new();
    let ops = tree.dir.path().join("ops");
    fs::create_dir_all(&ops).unwrap();
    // One call spread over two files, an older one, and one with a failure.
    let now = chrono::Utc::now();
    let record = |call: &str, minutes_ago: i64, result: &str| {
        let at = (now - chrono::Duration::minutes(minutes_ago)).to_rfc3339();
        format!(
            "{{\"CallClientTimeStamp\":\"{at}\",\"OperationName\":\"Join\",\"CallId\":\"{call}\",\"DurationMs\":\"100\",\"ResultType\":\"{result}\",\"ResultSignature\":\"200\"}}\n"
        )
    };
    fs::write(
        ops.join("a.jsonl"),
        record("old-call", 120, "Succeeded") + &record("mid-call", 60, "Succeeded"),
    )
    .unwrap();
    fs::write(
        ops.join("b.jsonl"),
        record("mid-call", 50, "Failed") + &record("new-call", 5, "Succeeded"),
    )
    .unwrap();
    let sources = format!(
        "{}\n[[sources]]\nid = \"ops\"\nname = \"Call records\"\nroot = '{}'\ninclude = [\"*.jsonl\"]\nkind = \"call-operations\"\n",
        tree.sources_toml(),
        ops.display()
    );
    let data = tempfile::tempdir().unwrap();
    let text = config_toml(&server.url(), Some(TOKEN_ENV), &sources, 200);
    let desk = Desk::new(
        load_config(tree.dir.path(), &text),
        data.path().to_path_buf(),
    );

    let overview = desk.overview();
    let calls: Vec<_> = overview
        .recent_calls
        .iter()
        .map(|c| (c.call_id.as_str(), c.operations, c.failures))
        .collect();
    assert_eq!(
        calls,
        [("new-call", 1, 0), ("mid-call", 2, 1), ("old-call", 1, 0)]
    );
    let mid = &overview.recent_calls[1];
    assert!(mid.first_at.unwrap() < mid.last_at.unwrap());
    assert!(
        !overview.allow_contact,
        "off unless the organisation allows it"
    );

    // A contact where the configuration does not allow one is refused, saying which key.
    let with_contact = ReportDraft {
        contact: Some("ana@example.com".into()),
        occurred_at: mid.first_at,
        call_ids: vec!["mid-call".into()],
        ..draft("echo")
    };
    let refused = ApiError::from(desk.prepare_report(with_contact.clone()).unwrap_err());
    assert_eq!(refused.code, ErrorCode::Managed);
    assert!(
        refused.message.contains("privacy.allow_contact_email"),
        "{}",
        refused.message
    );

    // Allowed, the contact and the chosen call's time reach the manifest.
    let allowed = text.replace("[privacy]\n", "[privacy]\nallow_contact_email = true\n");
    let desk = Desk::new(
        load_config(tree.dir.path(), &allowed),
        data.path().to_path_buf(),
    );
    assert!(desk.overview().allow_contact);
    let view = desk.prepare_report(with_contact).unwrap();
    let receipt = desk.send_report(&view.report_id, |_| true).await.unwrap();
    let bundle = Bundle::open(&server.stored_bundle(&receipt.ticket_id)).unwrap();
    let report = &bundle.manifest.report;
    assert_eq!(report.contact.as_deref(), Some("ana@example.com"));
    assert_eq!(report.call_ids, ["mid-call"]);
    assert_eq!(Some(report.occurred_at), mid.first_at);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_readable_file_is_previewed_as_it_will_be_sent() {
    tokens();
    let server = Server::start(64 << 20).await;
    let tree = LogTree::new();
    let mut log = text_log("app", 20);
    log.push_str("2025-05-01T10:30:00Z WARN joined by jane.doe@contoso.com from 10.20.30.40\n");
    write_file(&tree.app("app.log"), log.as_bytes());
    let data = tempfile::tempdir().unwrap();
    let desk = desk(&tree, &server, &data);
    let view = desk.prepare_report(draft("echo")).unwrap();

    let preview = desk.preview_file(&view.report_id, "app/app.log").unwrap();
    assert!(preview.redaction);
    assert_eq!(preview.size, log.len() as u64);
    assert_eq!(preview.counts.get(Kind::Email), 1);
    assert_eq!(preview.counts.get(Kind::Ipv4), 1);
    let shown: String = preview.parts.iter().map(|p| p.text.as_str()).collect();
    assert!(
        !shown.contains("jane.doe") && !shown.contains("10.20.30.40"),
        "{shown}"
    );
    let kinds: Vec<_> = preview.parts.iter().filter_map(|p| p.kind).collect();
    assert_eq!(kinds, [Kind::Email, Kind::Ipv4]);

    for (id, code) in [
        ("acs/acs_1.blog", ErrorCode::ReportInvalid),
        ("app/nope.log", ErrorCode::ReportInvalid),
    ] {
        let err = ApiError::from(desk.preview_file(&view.report_id, id).unwrap_err());
        assert_eq!(err.code, code, "{id}: {}", err.message);
    }
    let encrypted = ApiError::from(
        desk.preview_file(&view.report_id, "acs/acs_1.blog")
            .unwrap_err(),
    );
    assert!(
        encrypted.message.contains("only its vendor can read it"),
        "{}",
        encrypted.message
    );
    assert!(matches!(
        desk.preview_file("no-such-report", "app/app.log"),
        Err(Error::UnknownReport)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_to_file_writes_the_report_as_ticked_or_nothing() {
    tokens();
    let server = Server::start(64 << 20).await;
    let tree = LogTree::new();
    let data = tempfile::tempdir().unwrap();
    let desk = desk(&tree, &server, &data);
    let view = desk.prepare_report(draft("echo")).unwrap();
    let view = desk
        .choose_files(&view.report_id, &["acs/acs_1.blog".to_owned()])
        .unwrap();
    let out = tempfile::tempdir().unwrap();

    // Failures leave nothing behind and say what to do.
    let missing = out.path().join("no-such-folder/report.zip");
    let err = ApiError::from(
        desk.export_report(&view.report_id, &missing, |_| true)
            .await
            .unwrap_err(),
    );
    // A place that does not exist is the user's to change, not a failure of the disk.
    assert_eq!(err.code, ErrorCode::ReportInvalid);
    assert!(err.message.contains("does not exist"), "{}", err.message);
    let dest = out.path().join("report.zip");
    fs::write(&dest, b"what was there before").unwrap();
    let cancelled = desk
        .export_report(&view.report_id, &dest, |p| {
            !matches!(p, Progress::Collecting { .. })
        })
        .await;
    assert!(
        matches!(&cancelled, Err(e) if e.code() == ErrorCode::Cancelled),
        "{cancelled:?}"
    );
    assert_eq!(fs::read(&dest).unwrap(), b"what was there before");
    assert_eq!(
        names_in(out.path()),
        ["report.zip"],
        "no partial file is left"
    );

    // Saved over the old file (the dialog asked), the bundle holds what was ticked.
    let receipt = desk
        .export_report(&view.report_id, &dest, |_| true)
        .await
        .unwrap();
    assert_eq!(names_in(out.path()), ["report.zip"]);
    assert_eq!(receipt.bundle_sha256, sha256sum(&dest));
    assert_unzip_t_passes(&dest);
    let bundle = Bundle::open(&dest).unwrap();
    let manifest = &bundle.manifest;
    assert_eq!(manifest.consent.destination, "file");
    assert_eq!(manifest.files.len(), 3);
    assert!(
        manifest
            .skipped
            .iter()
            .any(|s| s.original_path.ends_with("acs_1.blog") && s.reason == "left out by you")
    );
    // Nothing was sent, and the report can still be sent.
    assert!(server.folder("bundles").is_empty());
    desk.send_report(&view.report_id, |_| true).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_cancelled_during_the_upload_is_not_sent_later() {
    tokens();
    let server = Server::start(64 << 20).await;
    let tree = LogTree::new();
    let data = tempfile::tempdir().unwrap();
    let desk = desk(&tree, &server, &data);
    let view = desk.prepare_report(draft("echo")).unwrap();

    let cancelled = desk
        .send_report(&view.report_id, |p| {
            !matches!(p, Progress::Uploading { .. })
        })
        .await;
    assert!(
        matches!(&cancelled, Err(e) if e.code() == ErrorCode::Cancelled),
        "{cancelled:?}"
    );
    assert!(
        server.folder("bundles").is_empty(),
        "nothing reached the server"
    );
    assert!(
        desk.queued_reports().unwrap().reports.is_empty(),
        "a cancelled report must not wait in the outbox to go out later"
    );
    let flushed = desk.flush_outbox().await.unwrap();
    assert!(flushed.delivered.is_empty());

    // The user can change their mind: sending again packs it afresh and sends it once.
    let receipt = desk.send_report(&view.report_id, |_| true).await.unwrap();
    assert_eq!(
        server.folder("bundles"),
        [format!("{}.zip", receipt.ticket_id)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_a_send_that_waits_for_the_server_to_answer() {
    tokens();
    // A service that takes the whole request and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/v1/tickets", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut sink = Vec::new();
                let _ = tokio::io::AsyncReadExt::read_to_end(&mut socket, &mut sink).await;
            });
        }
    });
    let tree = LogTree::new();
    let data = tempfile::tempdir().unwrap();
    let config = load_config(
        tree.dir.path(),
        &config_toml(&url, Some(TOKEN_ENV), &tree.sources_toml(), 200),
    );
    let desk = Desk::new(config, data.path().to_path_buf());
    let view = desk.prepare_report(draft("echo")).unwrap();

    let uploaded = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = uploaded.clone();
    let send = desk.send_report(&view.report_id, move |p| {
        if matches!(p, Progress::Uploading { bytes_sent, bytes_total, .. } if bytes_sent == bytes_total)
        {
            seen.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        true
    });
    let cancel = async {
        while !uploaded.load(std::sync::atomic::Ordering::SeqCst) {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // Everything is written; the send now only waits for an answer.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        desk.cancel(&view.report_id);
    };
    let started = std::time::Instant::now();
    let (result, ()) = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        tokio::join!(send, cancel)
    })
    .await
    .expect("a cancelled send must end, not wait for the read timeout");
    assert!(
        matches!(&result, Err(e) if e.code() == ErrorCode::Cancelled),
        "{result:?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(desk.queued_reports().unwrap().reports.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_logs_shows_and_records_a_file_as_the_destination() {
    tokens();
    let server = Server::start(64 << 20).await;
    let tree = LogTree::new();
    let data = tempfile::tempdir().unwrap();
    let desk = desk(&tree, &server, &data);
    let view = desk
        .prepare_report(ReportDraft {
            to_file: true,
            ..draft("logs for the help desk")
        })
        .unwrap();
    assert!(view.to_file);
    assert!(
        view.statement[0].contains("saved to a file") && !view.statement[0].contains("goes to"),
        "{:?}",
        view.statement
    );
    let refused = ApiError::from(
        desk.send_report(&view.report_id, |_| true)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        refused.code,
        ErrorCode::ReportInvalid,
        "{}",
        refused.message
    );

    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("logs.zip");
    desk.export_report(&view.report_id, &dest, |_| true)
        .await
        .unwrap();
    let bundle = Bundle::open(&dest).unwrap();
    assert_eq!(
        bundle.manifest.consent.statement_sha256, view.statement_sha256,
        "the record hashes the very statement shown"
    );
    assert!(server.folder("bundles").is_empty());
}

/// A ticket for a report sent from `desk`: what support later asks more logs for.
async fn first_ticket(desk: &Desk) -> String {
    let first = desk.prepare_report(draft("echo")).unwrap();
    desk.send_report(&first.report_id, |_| true)
        .await
        .unwrap()
        .ticket_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_support_asked_for_with_a_link_are_added_to_that_ticket() {
    tokens();
    let server = Server::start(64 << 20).await;
    let tree = LogTree::new();
    let data = tempfile::tempdir().unwrap();
    let desk = desk(&tree, &server, &data);
    let ticket = first_ticket(&desk).await;

    // A link written by hand (unsigned, as every link once was) is refused in words, before
    // anything is asked of the network, and the report screen says so.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).timestamp();
    let unsigned = format!("callsupport://report?ticket={ticket}&expires={tomorrow}");
    let err = ApiError::from(desk.open_link(&unsigned).await.unwrap_err());
    assert_eq!(err.code, ErrorCode::ReportInvalid);
    assert!(err.message.contains("not signed"), "{}", err.message);
    let overview = desk.overview();
    assert!(overview.support_request.is_none());
    assert!(overview.link_problem.unwrap().contains("new link"));

    // The agent opens the ticket in the viewer and makes a link for one report.
    let viewer = callsupport_desk::api::Viewer::default();
    let api = desk.config().ticket_api.clone();
    let received = data.path().join("agent-received");
    let opened = viewer
        .fetch_ticket(&api, &received, &ticket, Some(AGENT_TOKEN), |_| {})
        .await
        .unwrap();
    assert_eq!(opened.ticket.as_ref().unwrap().added.len(), 0);
    let made = viewer
        .make_link(&api, &ticket, Some(2), Some(1))
        .await
        .unwrap();
    assert_eq!(made.ticket_id, ticket);
    assert_eq!(made.max_uses, 1);

    // Edited (a later expiry), it is a forgery.
    let link = callsupport_desk::support_link::Link::parse(&made.url).unwrap();
    let later = (link.expires_at + chrono::Duration::days(300)).timestamp();
    let edited = made
        .url
        .replace(&link.expires_at.timestamp().to_string(), &later.to_string());
    let err = ApiError::from(desk.open_link(&edited).await.unwrap_err());
    assert_eq!(err.code, ErrorCode::ReportInvalid);
    assert!(err.message.contains("signature"), "{}", err.message);

    // As made, it is checked with the key the service serves, and opens the request.
    let request = desk.open_link(&made.url).await.unwrap();
    assert_eq!(request.ticket_id, ticket);
    let overview = desk.overview();
    assert_eq!(overview.support_request.unwrap().ticket_id, ticket);
    assert!(overview.link_problem.is_none());

    // Only the ticket the open link names.
    let other = desk.prepare_report(ReportDraft {
        ticket_id: Some("CS-999999".into()),
        ..draft("logs")
    });
    assert!(
        matches!(&other, Err(Error::Report(ReportError::RequestClosed(t))) if t == "CS-999999"),
        "{other:?}"
    );
    let view = desk
        .prepare_report(ReportDraft {
            ticket_id: Some(ticket.clone()),
            ..draft("the logs you asked for")
        })
        .unwrap();
    let receipt = desk.send_report(&view.report_id, |_| true).await.unwrap();
    assert_eq!(
        receipt.ticket_id, ticket,
        "added to the ticket, not a new one"
    );
    assert!(
        desk.overview().support_request.is_none(),
        "the request is answered"
    );

    let record = agent_get(&receipt.ticket_url).await;
    assert_eq!(
        record["attachments"][0]["bundle_id"],
        receipt.bundle_id.as_str()
    );
    assert_eq!(
        record["attachments"][0]["summary"],
        "the logs you asked for"
    );
    assert_eq!(
        record["attachments"][0]["report"]["link"],
        made.url.as_str()
    );

    // The agent sees the added logs beside the ticket's bundle, and opens them.
    let again = viewer
        .fetch_ticket(&api, &received, &ticket, None, |_| {})
        .await
        .unwrap();
    let added = &again.ticket.as_ref().unwrap().added;
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].summary, "the logs you asked for");
    let logs = viewer
        .fetch_added(&api, &received, &ticket, &added[0].bundle_id, |_| {})
        .await
        .unwrap();
    assert_eq!(logs.manifest.report.summary, "the logs you asked for");
    assert_eq!(
        logs.ticket.unwrap().added_bundle.as_deref(),
        Some(added[0].bundle_id.as_str())
    );

    // Its one use is taken: the same link opens, but the service refuses a second report
    // through it, and the report waits in the outbox with the service's words.
    desk.open_link(&made.url).await.unwrap();
    let view = desk
        .prepare_report(ReportDraft {
            ticket_id: Some(ticket.clone()),
            ..draft("more logs")
        })
        .unwrap();
    let err = desk
        .send_report(&view.report_id, |_| true)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("used 1 times"), "{err}");
}

/// IT pinned the key links are checked with: a link the ticket service signed with another key
/// is refused without asking the service, and a pinned key that is not a key stops the load.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_link_key_is_the_only_one_trusted() {
    tokens();
    let server = Server::start(64 << 20).await;
    let tree = LogTree::new();
    let data = tempfile::tempdir().unwrap();
    let other = callsupport_link::LinkKey::generate().unwrap();
    let text = config_toml(&server.url(), Some(TOKEN_ENV), &tree.sources_toml(), 200).replace(
        "[ticket_api]\n",
        &format!("[ticket_api]\nlink_key = \"{}\"\n", other.public()),
    );
    assert!(text.contains("link_key"), "{text}");
    let desk = Desk::new(
        load_config(tree.dir.path(), &text),
        data.path().to_path_buf(),
    );
    let ticket = first_ticket(&desk).await;
    let viewer = callsupport_desk::api::Viewer::default();
    let api = desk.config().ticket_api.clone();
    viewer
        .fetch_ticket(
            &api,
            &data.path().join("r"),
            &ticket,
            Some(AGENT_TOKEN),
            |_| {},
        )
        .await
        .unwrap();
    let made = viewer.make_link(&api, &ticket, None, None).await.unwrap();
    let err = ApiError::from(desk.open_link(&made.url).await.unwrap_err());
    assert!(err.message.contains("signature"), "{}", err.message);
    // The pinned key's own links pass, with the service stopped.
    let own = other
        .sign(
            &ticket,
            "pinned-1",
            chrono::Utc::now() + chrono::Duration::hours(1),
        )
        .unwrap();
    let Server {
        running,
        data: _kept,
    } = server;
    running.stop().await.unwrap();
    assert_eq!(desk.open_link(&own.url()).await.unwrap().ticket_id, ticket);

    let bad = config_toml(
        "http://127.0.0.1:9/api/v1/tickets",
        None,
        &tree.sources_toml(),
        200,
    )
    .replace(
        "[ticket_api]\n",
        "[ticket_api]\nlink_key = \"age1notakey\"\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    fs::write(&path, bad).unwrap();
    let err = callsupport_desk::config::Config::load(&path)
        .unwrap_err()
        .to_string();
    assert!(err.contains("ticket_api.link_key"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screenshot_goes_with_its_hidden_areas_blacked_out_and_only_where_allowed() {
    tokens();
    let server = Server::start(64 << 20).await;
    let tree = LogTree::new();
    let data = tempfile::tempdir().unwrap();
    let (width, height) = (48u32, 30u32);
    let rgba: Vec<u8> = (0..width * height)
        .flat_map(|i| [(i % 256) as u8, 40, 90, 255])
        .collect();

    // Not allowed (the default): refused before anything is kept, and a draft cannot name one.
    let desk = desk(&tree, &server, &data);
    let refused = desk.keep_screenshot(width, height, &rgba).unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Managed, "{refused}");
    assert!(
        refused.to_string().contains("privacy.allow_screenshot"),
        "{refused}"
    );
    assert!(!data.path().join("screenshots").exists());

    let desk = desk_with_privacy(&tree, &server, &data, "allow_screenshot = true");
    assert!(desk.overview().allow_screenshot);
    let shot = desk.keep_screenshot(width, height, &rgba).unwrap();
    assert!(shot.data_url.starts_with("data:image/png;base64,"));
    let kept = data
        .path()
        .join("screenshots")
        .join(format!("{}.png", shot.id));
    assert_eq!(fs::metadata(&kept).unwrap().len(), shot.bytes);

    // Only our ids: a path is not a screenshot.
    let mut sneaky = draft("picture");
    sneaky.screenshot = Some("../../etc/passwd".into());
    let err = desk.prepare_report(sneaky).unwrap_err();
    assert!(err.to_string().contains("no longer here"), "{err}");

    // Hidden areas: blacked out in the pixels that go, all anew each time; outside is refused.
    use callsupport_desk::screenshot::HiddenArea;
    let area = |x, y, width, height| HiddenArea {
        x,
        y,
        width,
        height,
    };
    let outside = desk
        .hide_in_screenshot(&shot.id, &[area(40, 0, 9, 5)])
        .unwrap_err();
    assert_eq!(outside.code(), ErrorCode::ReportInvalid, "{outside}");
    assert!(outside.to_string().contains("48×30"), "{outside}");
    let too_many = vec![area(0, 0, 1, 1); 65];
    assert!(desk.hide_in_screenshot(&shot.id, &too_many).is_err());
    desk.hide_in_screenshot(&shot.id, &[area(0, 0, 5, 5)])
        .unwrap();
    let hidden = desk
        .hide_in_screenshot(&shot.id, &[area(10, 4, 8, 6), area(30, 20, 18, 10)])
        .unwrap();
    let pixels = |png: &[u8]| {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png.to_vec()))
            .read_info()
            .unwrap();
        let mut buffer = vec![0u8; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut buffer).unwrap();
        buffer
    };
    let shown = {
        use base64::Engine;
        let encoded = hidden.data_url.trim_start_matches("data:image/png;base64,");
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap()
    };
    let expected: Vec<u8> = (0..width * height)
        .flat_map(|i| {
            let (x, y) = (i % width, i / width);
            let black = (10..18).contains(&x) && (4..10).contains(&y)
                || (30..48).contains(&x) && (20..30).contains(&y);
            if black {
                [0, 0, 0, 255]
            } else {
                [(i % 256) as u8, 40, 90, 255]
            }
        })
        .collect();
    assert!(
        pixels(&shown) == expected,
        "the picture shown is the one that goes: the areas black, the rest untouched, the first box undone"
    );
    assert_eq!(fs::read(&kept).unwrap(), shown);

    let mut with_shot = draft("Video froze");
    with_shot.screenshot = Some(shot.id.clone());
    let view = desk.prepare_report(with_shot).unwrap();
    let group = view
        .groups
        .iter()
        .find(|g| g.source_id == "screenshot")
        .expect("the screenshot is listed on the consent screen");
    assert_eq!(group.kind, SourceKind::Screenshot);
    assert_eq!(group.files.len(), 1);
    assert!(
        view.statement
            .iter()
            .any(|p| p.contains("screenshot") && p.contains("blacked out in the picture itself")),
        "the statement says what a picture means: {:?}",
        view.statement
    );
    let preview = desk.preview_file(&view.report_id, &group.files[0].id);
    assert!(preview.is_err(), "a picture has no text preview");

    let receipt = desk.send_report(&view.report_id, |_| true).await.unwrap();
    let stored = server.stored_bundle(&receipt.ticket_id);
    let mut bundle = Bundle::open(&stored).unwrap();
    assert!(bundle.verify().intact());
    let entry = bundle
        .manifest
        .files
        .iter()
        .find(|f| f.path == "files/screenshot/screenshot.png")
        .expect("the bundle holds the screenshot")
        .clone();
    assert_eq!(entry.kind, SourceKind::Screenshot);
    assert!(!entry.encrypted);
    assert_eq!(entry.redactions, 0);
    // Byte for byte what was kept, checked with a tool we did not write.
    let out = tempfile::tempdir().unwrap();
    crate::support::run_tool(
        "unzip",
        &[
            "-q",
            stored.to_str().unwrap(),
            &entry.path,
            "-d",
            out.path().to_str().unwrap(),
        ],
    );
    let unpacked = out.path().join(&entry.path);
    assert_eq!(sha256sum(&unpacked), entry.sha256);
    assert_eq!(&fs::read(&unpacked).unwrap()[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        pixels(&fs::read(&unpacked).unwrap()) == expected,
        "the bundle holds the picture with its areas blacked out"
    );
    // Sent, it is not kept any longer, nor the picture as taken.
    assert!(!kept.exists(), "the screenshot stays after it was sent");
    assert!(
        fs::read_dir(data.path().join("screenshots"))
            .unwrap()
            .next()
            .is_none(),
        "the picture as taken is gone too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_survey_with_logs_travels_in_the_report_and_a_bad_one_is_refused_in_words() {
    use callsupport_desk::survey::{AudioIssue, Rating, Scale, Survey};
    tokens();
    let server = Server::start(64 << 20).await;
    let tree = LogTree::new();
    let data = tempfile::tempdir().unwrap();
    let desk = desk(&tree, &server, &data);
    let survey = Survey {
        call_id: Some("7f3c-0001".into()),
        overall: Some(Rating {
            score: 2,
            scale: Scale::default(),
            issues: vec![],
        }),
        audio: Some(Rating {
            score: 1,
            scale: Scale::default(),
            issues: vec![AudioIssue::Echo, AudioIssue::NoRemoteAudio],
        }),
        video: None,
        screenshare: None,
        comment: " They heard an echo of themselves. ".into(),
    };

    // No overall rating, or a score off the scale: refused before anything is collected.
    for (bad, words) in [
        (
            Survey {
                overall: None,
                ..survey.clone()
            },
            "rate the call overall (1 to 5)",
        ),
        (
            Survey {
                audio: Some(Rating {
                    score: 9,
                    scale: Scale::default(),
                    issues: vec![],
                }),
                ..survey.clone()
            },
            "the audio score 9 is outside 1 to 5",
        ),
    ] {
        let err = desk
            .prepare_report(ReportDraft {
                survey: Some(bad),
                ..draft("Call feedback")
            })
            .unwrap_err();
        let err = ApiError::from(err);
        assert_eq!(err.code, ErrorCode::ReportInvalid);
        assert!(err.message.starts_with(words), "{}", err.message);
    }

    let view = desk
        .prepare_report(ReportDraft {
            survey: Some(survey),
            ..draft("Call feedback: echo")
        })
        .unwrap();
    let receipt = desk.send_report(&view.report_id, |_| true).await.unwrap();
    let bundle = Bundle::open(&server.stored_bundle(&receipt.ticket_id)).unwrap();
    let stored = bundle
        .manifest
        .report
        .survey
        .expect("the survey in the manifest");
    assert_eq!(stored.comment, "They heard an echo of themselves.");
    assert_eq!(
        stored.audio.unwrap().issues,
        [AudioIssue::Echo, AudioIssue::NoRemoteAudio]
    );
    // And in the ticket's report, with the SDK's tag names.
    let ticket = agent_get(&receipt.ticket_url).await;
    assert_eq!(
        ticket["report"]["survey"]["audio"]["issues"],
        serde_json::json!(["Echo", "NoRemoteAudio"])
    );
    assert_eq!(ticket["report"]["survey"]["overall"]["score"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_saving_to_a_file_is_not_allowed_only_sending_is_offered() {
    tokens();
    let server = Server::start(64 << 20).await;
    let tree = LogTree::new();
    let data = tempfile::tempdir().unwrap();
    let desk = desk_with_privacy(&tree, &server, &data, "allow_export = false");
    assert!(!desk.overview().allow_export);

    // Export Logs is refused before anything is collected.
    let refused = desk
        .prepare_report(ReportDraft {
            to_file: true,
            ..draft("Logs for the help desk")
        })
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Managed, "{refused}");
    assert!(
        refused.to_string().contains("privacy.allow_export"),
        "{refused}"
    );

    // Save to file instead, from a report prepared for sending: refused, nothing written.
    let view = desk.prepare_report(draft("audio dropped")).unwrap();
    let out = data.path().join("saved.zip");
    let refused = desk
        .export_report(&view.report_id, &out, |_| true)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Managed, "{refused}");
    assert!(!out.exists());
    assert_eq!(
        names_in(data.path())
            .iter()
            .filter(|n| n.ends_with(".zip"))
            .count(),
        0
    );
    // Sending still works.
    desk.send_report(&view.report_id, |_| true).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_log_collection_is_not_allowed_a_report_carries_words_only() {
    tokens();
    let server = Server::start(64 << 20).await;
    let tree = LogTree::new();
    let data = tempfile::tempdir().unwrap();
    let desk = desk_with_privacy(&tree, &server, &data, "allow_log_collection = false");
    assert!(!desk.overview().allow_log_collection);

    let view = desk.prepare_report(draft("audio dropped")).unwrap();
    assert_eq!(view.file_count, 0);
    assert!(view.groups.is_empty(), "{:?}", view.groups);
    assert!(
        view.statement[1].ends_with("; no files."),
        "the statement says what goes: {:?}",
        view.statement
    );
    let receipt = desk.send_report(&view.report_id, |_| true).await.unwrap();
    let stored = server.stored_bundle(&receipt.ticket_id);
    assert_unzip_t_passes(&stored);
    let bundle = Bundle::open(&stored).unwrap();
    assert!(bundle.manifest.files.is_empty());
    assert_eq!(bundle.manifest.report.summary, "audio dropped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_report_is_held_when_the_destination_changes_until_the_user_agrees() {
    // A report agreed for the organisation's old service waits in the outbox when IT moves the
    // service: the same data folder, another ticket API.
    tokens();
    let agreed = "support.old.example:8443";
    let server = Server::start(64 << 20).await;
    let tree = LogTree::new();
    let data = tempfile::tempdir().unwrap();
    let moved = desk(&tree, &server, &data);
    let config = load_config(
        tree.dir.path(),
        &config_toml(&server.url(), Some(TOKEN_ENV), &tree.sources_toml(), 200),
    );
    let (plan, _) = Plan::from_config(&config).unwrap();
    let old = Destination::TicketApi {
        organisation: None,
        host: agreed.to_owned(),
    };
    Outbox::open(data.path())
        .unwrap()
        .queue(
            &plan,
            Report::new("echo"),
            Statement::new(&plan, &old, true).agreed(&old, true),
            agreed.to_owned(),
            |_| true,
        )
        .unwrap();
    let queued = moved.queued_reports().unwrap();
    let held = &queued.reports[0];
    assert_eq!(held.destination, agreed);
    let now = server
        .url()
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(held.held_for.as_deref(), Some(now.as_str()));

    // Neither the background pass nor *Send now* sends it there.
    let mut tending = callsupport_desk::outbox::Tending::default();
    let pass = moved.tend_outbox(&mut tending).await.unwrap().unwrap();
    assert!(pass.delivered.is_empty(), "{pass:?}");
    assert_eq!(
        pass.failed[0].code,
        ErrorCode::DestinationChanged,
        "{pass:?}"
    );
    assert!(
        moved.tend_outbox(&mut tending).await.is_none(),
        "held, it is no longer due"
    );
    let flushed = moved.flush_outbox().await.unwrap();
    assert!(flushed.delivered.is_empty(), "{flushed:?}");
    assert!(
        server.folder("bundles").is_empty(),
        "nothing reached the new service"
    );
    let err = ApiError::from(moved.agree_queued_destination("not-an-id").unwrap_err());
    assert_eq!(err.code, ErrorCode::ReportInvalid);
    let waiting = moved.queued_reports().unwrap();
    let error = waiting.reports[0].last_error.as_ref().unwrap();
    assert_eq!(error.code, ErrorCode::DestinationChanged);
    assert!(!error.retryable);
    assert!(
        error.message.contains(agreed) && error.message.contains(&now),
        "{}",
        error.message
    );

    // The user agrees to the new destination: it goes, and the agreement is kept with it.
    let after = moved.agree_queued_destination(&held.id).unwrap();
    assert_eq!(
        (after.destination.as_str(), after.held_for.as_deref()),
        (now.as_str(), None)
    );
    let report: serde_json::Value = serde_json::from_slice(
        &fs::read(
            data.path()
                .join("outbox")
                .join(&held.id)
                .join("report.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(report["agreed_again"][0]["from"], agreed);
    assert_eq!(report["agreed_again"][0]["to"], now.as_str());
    let sent = moved.flush_outbox().await.unwrap();
    assert_eq!(sent.delivered.len(), 1, "{sent:?}");
    assert_eq!(server.folder("bundles").len(), 1);
}
