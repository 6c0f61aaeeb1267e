//! The store across a restart: tickets and bundles stay, numbering goes on, a repeated upload still
//! finds its ticket, and uploads left half-received in `incoming/` are cleared.

use std::fs;

use callsupport_bundle::ticket::TicketReceipt;
use reqwest::StatusCode;

use crate::support::{AGENT_TOKEN, Collected, Server, Setup, Upload};

#[tokio::test]
async fn a_restarted_server_keeps_its_tickets() {
    let server = Server::start().await;
    let first = Collected::new();
    assert_eq!(
        server.post(&Upload::of(&first)).await.status(),
        StatusCode::CREATED
    );
    let data = server.stop().await;
    let leftover = data.path().join("incoming/0190-dead.partial");
    fs::write(&leftover, b"half an upload").unwrap();

    let server = Server::start_in(data, Setup::default()).await;

    assert!(!leftover.exists(), "incoming/ is cleared at start");
    let list: serde_json::Value = server
        .get("/api/v1/tickets", Some(AGENT_TOKEN))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["tickets"][0]["ticket_id"], "CS-000001");
    let again = server.post(&Upload::of(&first)).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(
        again.json::<TicketReceipt>().await.unwrap().ticket_id,
        "CS-000001"
    );
    let next = server.post(&Upload::of(&Collected::new())).await;
    assert_eq!(next.status(), StatusCode::CREATED);
    assert_eq!(
        next.json::<TicketReceipt>().await.unwrap().ticket_id,
        "CS-000002"
    );
    assert_eq!(server.folder("bundles"), ["CS-000001.zip", "CS-000002.zip"]);
    assert_eq!(
        fs::read(server.data.path().join("bundles/CS-000001.zip")).unwrap(),
        first.bytes()
    );
}

#[tokio::test]
async fn stopping_the_server_lets_an_upload_in_flight_finish() {
    use futures_util::StreamExt;
    use reqwest::multipart::{Form, Part};

    let server = Server::start().await;
    let bundle = Collected::with_blog_bytes(2 << 20);
    let request = bundle.request();
    let bytes = bundle.bytes();
    let total = bytes.len() as u64;
    // The bundle trickles in over about a second.
    let chunks: Vec<Vec<u8>> = bytes
        .chunks(bytes.len() / 10 + 1)
        .map(<[u8]>::to_vec)
        .collect();
    let slow = futures_util::stream::iter(chunks).then(|chunk| async move {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        Ok::<_, std::io::Error>(chunk)
    });
    let form = Form::new()
        .part(
            "report",
            Part::text(serde_json::to_string(&request).unwrap())
                .mime_str("application/json")
                .unwrap(),
        )
        .part(
            "bundle",
            Part::stream_with_length(reqwest::Body::wrap_stream(slow), total)
                .file_name("bundle.zip")
                .mime_str("application/zip")
                .unwrap(),
        );
    let sending = server
        .client
        .post(server.url("/api/v1/tickets"))
        .bearer_auth(crate::support::SUBMIT_TOKEN)
        .header("Idempotency-Key", request.bundle_id.to_string())
        .multipart(form)
        .send();
    let upload = tokio::spawn(sending);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let addr = server.running.addr();
    let data = server.stop().await;

    let response = upload.await.unwrap().unwrap();
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "the upload under way finished"
    );
    assert_eq!(
        fs::read(data.path().join("bundles/CS-000001.zip")).unwrap(),
        bytes
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "and then the server stopped listening"
    );
}
