//! Resumable uploads (tus 1.0) at `/api/v1/uploads`: what `OPTIONS` offers; a bundle sent in
//! checksummed chunks becomes a ticket byte for byte; a chunk cut off mid-way keeps what arrived
//! and the upload goes on from `HEAD`'s offset; every wrong request is refused with its status.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::LOCATION;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use sha1::Digest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{AGENT_TOKEN, Collected, SUBMIT_TOKEN, Server, Setup, assert_problem};

const OCTETS: &str = "application/offset+octet-stream";

fn tus(server: &Server, method: Method, url: &str) -> RequestBuilder {
    server
        .client
        .request(method, url)
        .bearer_auth(SUBMIT_TOKEN)
        .header("Tus-Resumable", "1.0.0")
}

/// Creates an upload of `length` bytes; its URL.
async fn create(server: &Server, length: usize) -> String {
    let created = tus(server, Method::POST, &server.url("/api/v1/uploads"))
        .header("Upload-Length", length.to_string())
        .header("Upload-Metadata", "filename YnVuZGxlLnppcA==")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.headers()["tus-resumable"], "1.0.0");
    assert!(created.headers().contains_key("upload-expires"));
    created.headers()[LOCATION].to_str().unwrap().to_owned()
}

async fn patch(server: &Server, url: &str, offset: usize, chunk: &[u8]) -> Response {
    tus(server, Method::PATCH, url)
        .header("Content-Type", OCTETS)
        .header("Upload-Offset", offset.to_string())
        .header(
            "Upload-Checksum",
            format!("sha1 {}", STANDARD.encode(sha1::Sha1::digest(chunk))),
        )
        .body(chunk.to_vec())
        .send()
        .await
        .unwrap()
}

async fn offset(server: &Server, url: &str) -> u64 {
    let head = tus(server, Method::HEAD, url).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["cache-control"], "no-store");
    head.headers()["upload-offset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// `POST /api/v1/tickets` with JSON naming the finished upload.
async fn ticket_from(server: &Server, bundle: &Collected, upload: &str) -> Response {
    let request = bundle.request();
    server
        .client
        .post(server.url("/api/v1/tickets"))
        .bearer_auth(SUBMIT_TOKEN)
        .header("Idempotency-Key", request.bundle_id.to_string())
        .json(&serde_json::json!({ "report": request, "upload": upload }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn options_says_what_is_offered() {
    let server = Server::start_with(Setup {
        max_bundle_bytes: 5 << 20,
        ..Setup::default()
    })
    .await;
    let answer = server
        .client
        .request(Method::OPTIONS, server.url("/api/v1/uploads"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    let header = |name: &str| answer.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(header("tus-version"), "1.0.0");
    assert_eq!(
        header("tus-extension"),
        "creation,checksum,termination,expiration"
    );
    assert_eq!(header("tus-max-size"), (5u64 << 20).to_string());
    assert!(
        header("tus-checksum-algorithm")
            .split(',')
            .any(|a| a == "sha1")
    );
}

#[tokio::test]
async fn a_bundle_sent_in_chunks_becomes_a_ticket_byte_for_byte() {
    let server = Server::start().await;
    let bundle = Collected::with_blog_bytes(300 * 1024);
    let bytes = bundle.bytes();
    let url = create(&server, bytes.len()).await;
    assert_eq!(offset(&server, &url).await, 0);

    let mut at = 0;
    for chunk in bytes.chunks(128 * 1024) {
        let sent = patch(&server, &url, at, chunk).await;
        assert_eq!(sent.status(), StatusCode::NO_CONTENT);
        at += chunk.len();
        assert_eq!(sent.headers()["upload-offset"], at.to_string().as_str());
        assert_eq!(offset(&server, &url).await, at as u64);
    }

    let created = ticket_from(&server, &bundle, &url).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let receipt: serde_json::Value = created.json().await.unwrap();
    let stored = server
        .get(
            &format!(
                "/api/v1/tickets/{}/bundle",
                receipt["ticket_id"].as_str().unwrap()
            ),
            Some(AGENT_TOKEN),
        )
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(stored.as_ref(), bytes.as_slice(), "byte-identical");
    // The upload is done: it is gone, and naming it again is the same ticket (idempotency).
    let gone = tus(&server, Method::HEAD, &url).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert!(
        server.folder("uploads").is_empty(),
        "{:?}",
        server.folder("uploads")
    );
    let repeated = ticket_from(&server, &bundle, &url).await;
    assert_eq!(
        repeated.status(),
        StatusCode::OK,
        "a repeat after a lost answer"
    );
    let again: serde_json::Value = repeated.json().await.unwrap();
    assert_eq!(again, receipt);
}

#[tokio::test]
async fn a_chunk_cut_off_keeps_what_arrived_and_the_upload_goes_on() {
    let server = Server::start().await;
    let bundle = Collected::with_blog_bytes(200 * 1024);
    let bytes = bundle.bytes();
    let url = create(&server, bytes.len()).await;
    let path = url
        .split_once(&server.running.addr().to_string())
        .unwrap()
        .1;

    // A PATCH for the whole bundle whose connection drops after 70 000 bytes.
    let cut = 70_000;
    let mut socket = tokio::net::TcpStream::connect(server.running.addr())
        .await
        .unwrap();
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {SUBMIT_TOKEN}\r\nTus-Resumable: 1.0.0\r\nContent-Type: {OCTETS}\r\nUpload-Offset: 0\r\nContent-Length: {}\r\n\r\n",
        server.running.addr(),
        bytes.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&bytes[..cut]).await.unwrap();
    socket.flush().await.unwrap();
    drop(socket);

    // The server keeps the bytes that arrived: HEAD says so once it has noticed the cut.
    let mut kept = 0;
    for _ in 0..100 {
        kept = offset(&server, &url).await;
        if kept == cut as u64 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(kept, cut as u64, "what arrived before the cut is kept");

    let rest = patch(&server, &url, cut, &bytes[cut..]).await;
    assert_eq!(rest.status(), StatusCode::NO_CONTENT);
    let created = ticket_from(&server, &bundle, &url).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let receipt: serde_json::Value = created.json().await.unwrap();
    assert_eq!(receipt["bundle_bytes"], bytes.len());
}

#[tokio::test]
async fn a_checksummed_chunk_cut_off_keeps_nothing_of_it() {
    let server = Server::start().await;
    let bundle = Collected::with_blog_bytes(200 * 1024);
    let bytes = bundle.bytes();
    let url = create(&server, bytes.len()).await;
    let path = url
        .split_once(&server.running.addr().to_string())
        .unwrap()
        .1;

    // A checksummed PATCH for the whole bundle whose connection drops after 70 000 bytes.
    let mut socket = tokio::net::TcpStream::connect(server.running.addr())
        .await
        .unwrap();
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {SUBMIT_TOKEN}\r\nTus-Resumable: 1.0.0\r\nContent-Type: {OCTETS}\r\nUpload-Offset: 0\r\nUpload-Checksum: sha1 {}\r\nContent-Length: {}\r\n\r\n",
        server.running.addr(),
        STANDARD.encode(sha1::Sha1::digest(&bytes)),
        bytes.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&bytes[..70_000]).await.unwrap();
    socket.flush().await.unwrap();
    drop(socket);

    // Once the server has let go of the cut request (423 until then), the whole chunk goes
    // again from byte 0: nothing unverified was kept.
    let mut again = patch(&server, &url, 0, &bytes).await;
    for _ in 0..100 {
        if again.status() != StatusCode::LOCKED {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        again = patch(&server, &url, 0, &bytes).await;
    }
    assert_eq!(again.status(), StatusCode::NO_CONTENT);
    assert_eq!(offset(&server, &url).await, bytes.len() as u64);
    let created = ticket_from(&server, &bundle, &url).await;
    assert_eq!(created.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn wrong_requests_are_refused_and_change_nothing() {
    let server = Server::start_with(Setup {
        max_bundle_bytes: 1 << 20,
        ..Setup::default()
    })
    .await;
    let uploads = server.url("/api/v1/uploads");
    let bundle = Collected::new();
    let bytes = bundle.bytes();

    // No protocol version: 412, saying which one this server speaks.
    let unversioned = server
        .client
        .post(&uploads)
        .bearer_auth(SUBMIT_TOKEN)
        .header("Upload-Length", "10")
        .send()
        .await
        .unwrap();
    assert_eq!(unversioned.headers()["tus-version"], "1.0.0");
    assert_problem(
        unversioned,
        StatusCode::PRECONDITION_FAILED,
        "tus_version_missing",
    )
    .await;
    // No token, no length, too long, a body on creation.
    let anonymous = server
        .client
        .post(&uploads)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "10")
        .send()
        .await
        .unwrap();
    assert_problem(anonymous, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let no_length = tus(&server, Method::POST, &uploads).send().await.unwrap();
    assert_problem(
        no_length,
        StatusCode::BAD_REQUEST,
        "tus_upload_length_missing",
    )
    .await;
    let too_long = tus(&server, Method::POST, &uploads)
        .header("Upload-Length", (2u64 << 20).to_string())
        .send()
        .await
        .unwrap();
    assert_problem(too_long, StatusCode::PAYLOAD_TOO_LARGE, "bundle_too_large").await;
    let with_body = tus(&server, Method::POST, &uploads)
        .header("Upload-Length", "3")
        .body("abc")
        .send()
        .await
        .unwrap();
    assert_problem(with_body, StatusCode::BAD_REQUEST, "tus_body_unexpected").await;

    let url = create(&server, bytes.len()).await;
    // The wrong offset, the wrong type, a chunk that does not match its checksum.
    let ahead = patch(&server, &url, 5, &bytes[5..10]).await;
    assert_problem(ahead, StatusCode::CONFLICT, "tus_offset_mismatch").await;
    let form = tus(&server, Method::PATCH, &url)
        .header("Content-Type", "application/octet-stream")
        .header("Upload-Offset", "0")
        .body(bytes[..10].to_vec())
        .send()
        .await
        .unwrap();
    assert_problem(form, StatusCode::UNSUPPORTED_MEDIA_TYPE, "tus_content_type").await;
    let damaged = tus(&server, Method::PATCH, &url)
        .header("Content-Type", OCTETS)
        .header("Upload-Offset", "0")
        .header(
            "Upload-Checksum",
            format!(
                "sha1 {}",
                STANDARD.encode(sha1::Sha1::digest(b"other bytes"))
            ),
        )
        .body(bytes[..1000].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(damaged.status().as_u16(), 460);
    assert_eq!(
        offset(&server, &url).await,
        0,
        "a mismatched chunk is not kept"
    );
    let past_the_end = tus(&server, Method::PATCH, &url)
        .header("Content-Type", OCTETS)
        .header("Upload-Offset", "0")
        .body([bytes.as_slice(), b"extra"].concat())
        .send()
        .await
        .unwrap();
    assert_problem(past_the_end, StatusCode::BAD_REQUEST, "tus_upload_too_long").await;
    assert_eq!(offset(&server, &url).await, 0);

    // Half sent: no ticket yet.
    let half = bytes.len() / 2;
    assert_eq!(
        patch(&server, &url, 0, &bytes[..half]).await.status(),
        StatusCode::NO_CONTENT
    );
    let early = ticket_from(&server, &bundle, &url).await;
    assert_problem(early, StatusCode::CONFLICT, "upload_unfinished").await;
    assert!(server.folder("bundles").is_empty());

    // Terminated: gone.
    let deleted = tus(&server, Method::DELETE, &url).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let after = tus(&server, Method::HEAD, &url).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::NOT_FOUND);
    assert!(server.folder("uploads").is_empty());
    let unknown = ticket_from(&server, &bundle, &url).await;
    assert_problem(unknown, StatusCode::NOT_FOUND, "upload_not_found").await;
}

#[tokio::test]
async fn a_finished_upload_of_another_bundle_is_refused() {
    let server = Server::start().await;
    let bundle = Collected::new();
    let other = Collected::with_blog_bytes(9000);
    let bytes = other.bytes();
    let url = create(&server, bytes.len()).await;
    assert_eq!(
        patch(&server, &url, 0, &bytes).await.status(),
        StatusCode::NO_CONTENT
    );
    let mismatched = ticket_from(&server, &bundle, &url).await;
    assert_problem(
        mismatched,
        StatusCode::UNPROCESSABLE_ENTITY,
        "bundle_hash_mismatch",
    )
    .await;
    assert!(server.folder("bundles").is_empty());
    // OPTIONS answers carry Tus-Resumable too (read raw, as a tus client sees it).
    let mut socket = tokio::net::TcpStream::connect(server.running.addr())
        .await
        .unwrap();
    socket
        .write_all(b"OPTIONS /api/v1/uploads HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    socket.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("tus-resumable: 1.0.0"),
        "{answer}"
    );
}
