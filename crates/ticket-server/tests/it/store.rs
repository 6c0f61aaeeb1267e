//! The store across a restart: tickets and bundles stay, numbering goes on, a repeated upload still
//! finds its ticket, and uploads left half-received in `incoming/` are cleared (not those another
//! instance on the same data folder is receiving).

use std::fs;

use callsupport_bundle::ticket::TicketReceipt;
use reqwest::StatusCode;

use crate::support::{
    AGENT_TOKEN, Collected, SUBMIT_TOKEN, Server, Setup, Upload, assert_problem, held_open_body,
};

#[tokio::test]
async fn a_restarted_server_keeps_its_tickets() {
    let server = Server::start().await;
    let first = Collected::new();
    assert_eq!(
        server.post(&Upload::of(&first)).await.status(),
        StatusCode::CREATED
    );
    let data = server.stop().await;
    // Left by a server that stopped two hours ago; and one another instance on the same data
    // folder is receiving now.
    let leftover = data.path().join("incoming/0190-dead.partial");
    fs::write(&leftover, b"half an upload").unwrap();
    fs::File::options()
        .write(true)
        .open(&leftover)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 3600))
        .unwrap();
    let arriving = data.path().join("incoming/0190-live.partial");
    fs::write(&arriving, b"a bundle arriving").unwrap();

    let server = Server::start_in(data, Setup::default()).await;

    assert!(
        !leftover.exists(),
        "what a stopped server left is cleared at start"
    );
    assert!(
        arriving.exists(),
        "what another instance is receiving is not"
    );
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_data_folder_never_write_one_upload_at_once() {
    let first = Server::start().await;
    let second = callsupport_ticket_server::start(callsupport_ticket_server::ServerConfig {
        submit_token: Some(SUBMIT_TOKEN.into()),
        ..callsupport_ticket_server::ServerConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            first.data.path().to_path_buf(),
        )
    })
    .await
    .unwrap();
    let tus = |request: reqwest::RequestBuilder| {
        request
            .bearer_auth(SUBMIT_TOKEN)
            .header("Tus-Resumable", "1.0.0")
    };
    let created = tus(first.client.post(first.url("/api/v1/uploads")))
        .header("Upload-Length", (1u64 << 20).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let path = created.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit_once("/api/")
        .map(|(_, rest)| format!("/api/{rest}"))
        .unwrap();
    let id = path.rsplit('/').next().unwrap().to_owned();
    let on_second = format!("http://{}{path}", second.addr());
    let chunk = |url: &str, offset: u64, body: reqwest::Body| {
        tus(first.client.patch(url))
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Offset", offset.to_string())
            .body(body)
            .send()
    };

    // The first instance is writing a chunk, 300 KiB in and more to come: more than it buffers,
    // so its file shows it has the upload.
    const FIRST: usize = 300 << 10;
    let (tx, body) = held_open_body(&[1u8; FIRST]);
    let writing = tokio::spawn(chunk(&first.url(&path), 0, body));
    let data = first.data.path().join(format!("uploads/{id}.bin"));
    let mut on_disk = 0;
    while on_disk == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        on_disk = fs::metadata(&data).unwrap().len();
    }

    // The second, on the same folder, refuses a writer of its own, at the offset its disk shows.
    let second_writer = chunk(&on_second, on_disk, vec![2u8; 10].into())
        .await
        .unwrap();
    assert_problem(second_writer, StatusCode::LOCKED, "upload_busy").await;

    // Once the first is done, the second takes the upload on from where it got.
    drop(tx);
    let _ = writing.await.unwrap();
    let next = chunk(&on_second, FIRST as u64, vec![2u8; 10].into())
        .await
        .unwrap();
    assert_eq!(next.status(), StatusCode::NO_CONTENT);
    let written = fs::read(&data).unwrap();
    assert_eq!(written, [vec![1u8; FIRST], vec![2u8; 10]].concat());
    second.stop().await.unwrap();
}
