//! The store across a restart: tickets and bundles stay, numbering goes on, a repeated upload still
//! finds its ticket, and uploads left half-received in `incoming/` are cleared.

use std::fs;

use callsupport_core::ticket::TicketReceipt;
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
