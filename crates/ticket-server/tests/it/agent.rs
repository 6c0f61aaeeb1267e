//! The agent side: `GET /api/v1/tickets`, `/{id}` and `/{id}/bundle` behind the agent token, which
//! is distinct from the submit token; off (403) when the server has none.

use callsupport_bundle::ticket::TicketReceipt;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};

use crate::support::{
    AGENT_TOKEN, Collected, SUBMIT_TOKEN, Server, Setup, Upload, assert_problem, sha256_hex,
};

/// A server with two tickets: CS-000001 and CS-000002.
async fn server_with_two_tickets() -> (Server, Vec<Collected>) {
    let server = Server::start().await;
    let bundles = vec![Collected::new(), Collected::with_blog_bytes(20 * 1024)];
    for (i, bundle) in bundles.iter().enumerate() {
        let response = server.post(&Upload::of(bundle)).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let receipt: TicketReceipt = response.json().await.unwrap();
        assert_eq!(receipt.ticket_id, format!("CS-{:06}", i + 1));
    }
    (server, bundles)
}

#[tokio::test]
async fn an_agent_lists_reads_and_downloads_tickets() {
    let (server, bundles) = server_with_two_tickets().await;

    let list = server.get("/api/v1/tickets", Some(AGENT_TOKEN)).await;
    assert_eq!(list.status(), StatusCode::OK);
    let list: serde_json::Value = list.json().await.unwrap();
    let ids: Vec<&str> = list["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["ticket_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["CS-000002", "CS-000001"], "newest first");

    let ticket = server
        .get("/api/v1/tickets/CS-000001", Some(AGENT_TOKEN))
        .await;
    assert_eq!(ticket.status(), StatusCode::OK);
    let ticket: serde_json::Value = ticket.json().await.unwrap();
    let first = &bundles[0];
    assert_eq!(ticket["ticket_id"], "CS-000001");
    assert_eq!(
        ticket["bundle_id"],
        first.written.manifest.bundle_id.to_string()
    );
    assert_eq!(ticket["summary"], "audio dropped");
    assert_eq!(ticket["category"], "other");
    assert_eq!(ticket["bundle_sha256"], sha256_hex(&first.bytes()));
    assert_eq!(ticket["bundle_bytes"], first.bytes().len());
    assert_eq!(
        ticket["report"]["bundle_sha256"],
        sha256_hex(&first.bytes())
    );

    for (i, bundle) in bundles.iter().enumerate() {
        let id = format!("CS-{:06}", i + 1);
        let response = server
            .get(&format!("/api/v1/tickets/{id}/bundle"), Some(AGENT_TOKEN))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/zip");
        assert_eq!(
            response.headers()[CONTENT_DISPOSITION].to_str().unwrap(),
            format!("attachment; filename=\"{id}.zip\"")
        );
        assert_eq!(response.content_length(), Some(bundle.bytes().len() as u64));
        let body = response.bytes().await.unwrap();
        assert!(
            body[..] == bundle.bytes()[..],
            "{id}: downloaded bytes differ from those sent"
        );
    }
}

#[tokio::test]
async fn an_unknown_ticket_is_not_found() {
    let (server, _) = server_with_two_tickets().await;

    for path in [
        "/api/v1/tickets/CS-000099",
        "/api/v1/tickets/CS-000099/bundle",
    ] {
        assert_problem(
            server.get(path, Some(AGENT_TOKEN)).await,
            StatusCode::NOT_FOUND,
            "ticket_not_found",
        )
        .await;
    }
}

#[tokio::test]
async fn without_the_agent_token_it_is_unauthorized() {
    let (server, _) = server_with_two_tickets().await;

    for path in [
        "/api/v1/tickets",
        "/api/v1/tickets/CS-000001",
        "/api/v1/tickets/CS-000001/bundle",
    ] {
        for token in [None, Some("agent-s3creT"), Some(SUBMIT_TOKEN)] {
            let response = server.get(path, token).await;
            let problem = assert_problem(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
            assert!(
                problem["detail"].as_str().unwrap().contains("agent"),
                "{path} {token:?}: {problem}"
            );
        }
    }
}

#[tokio::test]
async fn agent_access_is_off_without_an_agent_token() {
    let server = Server::start_with(Setup {
        agent_token: None,
        ..Setup::default()
    })
    .await;
    let bundle = Collected::new();
    assert_eq!(
        server.post(&Upload::of(&bundle)).await.status(),
        StatusCode::CREATED
    );

    for path in [
        "/api/v1/tickets",
        "/api/v1/tickets/CS-000001",
        "/api/v1/tickets/CS-000001/bundle",
    ] {
        for token in [None, Some(AGENT_TOKEN), Some(SUBMIT_TOKEN)] {
            assert_problem(
                server.get(path, token).await,
                StatusCode::FORBIDDEN,
                "agent_access_off",
            )
            .await;
        }
    }
}

#[tokio::test]
async fn a_download_resumes_with_a_byte_range() {
    let (server, bundles) = server_with_two_tickets().await;
    let whole = bundles[1].bytes();
    let total = whole.len();
    let path = "/api/v1/tickets/CS-000002/bundle";
    let ranged = |range: String| {
        server
            .client
            .get(server.url(path))
            .bearer_auth(AGENT_TOKEN)
            .header(reqwest::header::RANGE, range)
            .send()
    };

    // The first 1000 bytes, then the rest from where it stopped: together the whole bundle.
    let head = ranged("bytes=0-999".into()).await.unwrap();
    assert_eq!(head.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        head.headers()[reqwest::header::CONTENT_RANGE],
        format!("bytes 0-999/{total}").as_str()
    );
    assert_eq!(head.headers()[reqwest::header::ACCEPT_RANGES], "bytes");
    let mut joined = head.bytes().await.unwrap().to_vec();
    let rest = ranged("bytes=1000-".into()).await.unwrap();
    assert_eq!(rest.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(rest.content_length(), Some(total as u64 - 1000));
    joined.extend_from_slice(&rest.bytes().await.unwrap());
    assert!(joined == whole, "the two ranges make the bundle");

    let tail = ranged("bytes=-22".into()).await.unwrap();
    assert_eq!(tail.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(tail.bytes().await.unwrap()[..], whole[total - 22..]);

    let beyond = ranged(format!("bytes={total}-")).await.unwrap();
    assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        beyond.headers()[reqwest::header::CONTENT_RANGE],
        format!("bytes */{total}").as_str()
    );
    // Several ranges at once are not served piecemeal: the whole bundle comes back.
    let several = ranged("bytes=0-1,5-9".into()).await.unwrap();
    assert_eq!(several.status(), StatusCode::OK);
    assert_eq!(several.bytes().await.unwrap().len(), total);
}

#[tokio::test]
async fn logs_support_asked_for_are_added_to_the_existing_ticket() {
    let (server, _) = server_with_two_tickets().await;
    let added = Collected::new();
    let mut request = added.request();
    let link = server.make_link("CS-000001", serde_json::json!({})).await;
    request.report.ticket_id = Some("CS-000001".into());
    request.report.link = Some(link["url"].as_str().unwrap().to_owned());
    let upload = Upload::of(&added).with_request(&request);

    let response = server.post(&upload).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let receipt: TicketReceipt = response.json().await.unwrap();
    assert_eq!(receipt.ticket_id, "CS-000001", "no new ticket");
    assert_eq!(receipt.bundle_sha256, sha256_hex(&added.bytes()));
    let again = server.post(&upload).await;
    assert_eq!(
        again.status(),
        StatusCode::OK,
        "the same bundle again is the same answer"
    );

    let ticket: serde_json::Value = server
        .get("/api/v1/tickets/CS-000001", Some(AGENT_TOKEN))
        .await
        .json()
        .await
        .unwrap();
    let bundle_id = added.written.manifest.bundle_id.to_string();
    assert_eq!(ticket["attachments"][0]["bundle_id"], bundle_id.as_str());
    assert_eq!(ticket["attachments"][0]["report"]["ticket_id"], "CS-000001");
    assert_eq!(ticket["attachments"].as_array().unwrap().len(), 1);
    let list: serde_json::Value = server
        .get("/api/v1/tickets", Some(AGENT_TOKEN))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["tickets"].as_array().unwrap().len(), 2);

    let download = server
        .get(
            &format!("/api/v1/tickets/CS-000001/attachments/{bundle_id}"),
            Some(AGENT_TOKEN),
        )
        .await;
    assert_eq!(download.status(), StatusCode::OK);
    assert!(download.bytes().await.unwrap()[..] == added.bytes()[..]);
    assert_problem(
        server
            .get(
                &format!("/api/v1/tickets/CS-000002/attachments/{bundle_id}"),
                Some(AGENT_TOKEN),
            )
            .await,
        StatusCode::NOT_FOUND,
        "bundle_not_found",
    )
    .await;
}

#[tokio::test]
async fn logs_for_a_ticket_that_does_not_exist_are_refused() {
    let (server, _) = server_with_two_tickets().await;
    let added = Collected::new();
    let mut request = added.request();
    request.report.ticket_id = Some("CS-000099".into());
    let problem = assert_problem(
        server
            .post(&Upload::of(&added).with_request(&request))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "ticket_not_found",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("CS-000099"));
    assert_eq!(server.folder("incoming"), Vec::<String>::new());
    assert_eq!(server.folder("bundles").len(), 2, "nothing stored");
}
