//! Tickets opened in the viewer by id, from the real ticket server: the agent token typed,
//! refused and forgotten, accepted and remembered; the bundle kept byte for byte under
//! `received/`; bad ids, unknown tickets and a cancel leave nothing behind.

use callsupport_desk::api::{AGENT_TOKEN_ENV, Desk};
use callsupport_desk::config::Config;
use callsupport_desk::progress::Progress;
use callsupport_desk::ticket::TicketRequest;
use callsupport_desk::upload::Uploader;
use callsupport_desk::{Error, ErrorCode};

use crate::support::{
    AGENT_TOKEN, LogTree, Server, TOKEN_ENV, collected_bundle, config_toml, names_in, sha256sum,
    tokens,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_opens_by_id_with_the_agent_token() {
    assert!(
        std::env::var_os(AGENT_TOKEN_ENV).is_none(),
        "unset {AGENT_TOKEN_ENV} to run this test: it checks what happens without a token"
    );
    tokens();
    let server = Server::start(64 << 20).await;
    let tree = LogTree::new();
    let bundle = collected_bundle(&tree);
    let text = config_toml(&server.url(), Some(TOKEN_ENV), &tree.sources_toml(), 200);
    let config = Config::parse(&tree.dir.path().join("agent.toml"), &text).unwrap();
    let (request, _) = TicketRequest::for_file(&bundle.path).unwrap();
    let receipt = Uploader::new(&config.ticket_api)
        .unwrap()
        .submit(&bundle.path, &request, |_| true)
        .await
        .unwrap();
    let ticket = receipt.ticket_id;

    let data = tempfile::tempdir().unwrap();
    let desk = Desk::new(config.clone(), data.path().to_path_buf());
    let received = desk.received_dir();
    let viewer = callsupport_desk::api::Viewer::default();
    let api = &config.ticket_api;
    assert!(!viewer.has_agent_token());

    // No token at all: the viewer must ask for one.
    let err = viewer
        .fetch_ticket(api, &received, &ticket, None, |_| {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConfigInvalid, "{err}");

    // A wrong token is refused, and not remembered.
    let err = viewer
        .fetch_ticket(api, &received, &ticket, Some("not-the-agent-token"), |_| {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unauthorized, "{err}");
    assert!(err.to_string().contains("refused the agent token"), "{err}");
    assert!(!viewer.has_agent_token());
    assert_eq!(names_in(&received), Vec::<String>::new());

    // The right one: the bundle arrives whole, opens, and the token is kept for this run.
    let mut heard = Vec::new();
    let opened = viewer
        .fetch_ticket(
            api,
            &received,
            &format!(" {ticket} "),
            Some(AGENT_TOKEN),
            |p| heard.push(p),
        )
        .await
        .unwrap();
    assert_eq!(opened.manifest.bundle_id, bundle.manifest.bundle_id);
    let kept = received.join(format!("{ticket}.zip"));
    assert_eq!(sha256sum(&kept), sha256sum(&bundle.path));
    assert_eq!(names_in(&received), vec![format!("{ticket}.zip")]);
    assert_eq!(
        heard.last(),
        Some(&Progress::Downloading {
            bytes_received: bundle.bytes,
            bytes_total: bundle.bytes
        })
    );
    assert!(viewer.has_agent_token());
    assert!(viewer.verify(&opened.id).unwrap().intact);

    // Opened again without typing: the remembered token serves, and the copy is replaced.
    viewer
        .fetch_ticket(api, &received, &ticket, None, |_| {})
        .await
        .unwrap();
    assert_eq!(names_in(&received), vec![format!("{ticket}.zip")]);

    // A cancel keeps what was there and leaves nothing half-written.
    let err = viewer
        .fetch_ticket(api, &received, &ticket, None, |_| viewer.cancel_fetch())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Cancelled, "{err}");
    assert_eq!(names_in(&received), vec![format!("{ticket}.zip")]);
    assert_eq!(sha256sum(&kept), sha256sum(&bundle.path));

    // What is not a ticket id never reaches the server or the disk.
    for bad in ["../../etc/passwd", "", "CS 1", "CS-1/bundle"] {
        let err = viewer
            .fetch_ticket(api, &received, bad, None, |_| {})
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Fetch(_)) && err.to_string().contains("is not a ticket id"),
            "{bad:?}: {err}"
        );
    }
    let err = viewer
        .fetch_ticket(api, &received, "CS-999999", None, |_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("has no ticket CS-999999"), "{err}");
    assert_eq!(names_in(&received), vec![format!("{ticket}.zip")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_not_yet_in_the_ticket_system_says_so_in_the_viewer() {
    tokens();
    // The service forwards to an Azure DevOps that does not answer.
    let nowhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let organization = format!("http://{}/contoso", nowhere.local_addr().unwrap());
    drop(nowhere);
    let server = Server::start_with(callsupport_ticket_server::ServerConfig {
        forward: Some(callsupport_ticket_server::ForwardConfig::new(
            callsupport_ticket_server::AzureDevOps {
                organization_url: organization,
                project: "Fabrikam".into(),
                work_item_type: "Bug".into(),
                area_path: None,
                token: "pat".into(),
                attachment_limit_bytes: 1 << 20,
                chunk_bytes: 1 << 20,
            },
        )),
        ..Server::config()
    })
    .await;
    let tree = LogTree::new();
    let bundle = collected_bundle(&tree);
    let text = config_toml(&server.url(), Some(TOKEN_ENV), &tree.sources_toml(), 200);
    let config = Config::parse(&tree.dir.path().join("agent.toml"), &text).unwrap();
    let (request, _) = TicketRequest::for_file(&bundle.path).unwrap();
    let ticket = Uploader::new(&config.ticket_api)
        .unwrap()
        .submit(&bundle.path, &request, |_| true)
        .await
        .unwrap()
        .ticket_id;
    let data = tempfile::tempdir().unwrap();
    let viewer = callsupport_desk::api::Viewer::default();
    let received = data.path().join("received");

    let mut status = None;
    for _ in 0..100 {
        let opened = viewer
            .fetch_ticket(
                &config.ticket_api,
                &received,
                &ticket,
                Some(AGENT_TOKEN),
                |_| {},
            )
            .await
            .unwrap();
        status = opened.ticket_system;
        if status.as_ref().is_some_and(|s| s.last_error.is_some()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let status = status.expect("the service forwards, so the ticket says where it stands");
    assert!(!status.done);
    assert!(status.attempts >= 1);
    assert!(status.next_attempt_at.is_some());
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.starts_with("cannot reach Azure DevOps")),
        "{status:?}"
    );
}
