//! Bundles in Azure Blob Storage (Azurite on loopback): a report's bundle, a resumable upload and
//! logs added to a ticket all land in the container, none in the data folder; an agent's download
//! is a time-limited signed link that reads the blob, ranges included, and is refused when altered;
//! with signed links off, the server streams the blob itself. An S3 bucket (moto) takes a bundle
//! in parts and hands agents a presigned link.

use std::collections::HashMap;

use callsupport_bundle::ticket::TicketReceipt;
use reqwest::StatusCode;
use reqwest::header::{LOCATION, RANGE};

use crate::support::{AGENT_TOKEN, Collected, SUBMIT_TOKEN, Server, Setup, Upload, sha256_hex};
use callsupport_ticket_server::testing::{Azurite, S3};

const CONTAINER: &str = "bundles-it";

async fn server_on(azurite: &Azurite, signed_link_minutes: u64) -> Server {
    azurite.create_container(CONTAINER).await;
    Server::start_with(Setup {
        blobs: azurite.blobs(CONTAINER),
        signed_link_minutes,
        ..Setup::default()
    })
    .await
}

/// An agent's download, not following the redirect.
async fn agent_download(server: &Server, path: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(server.url(path))
        .bearer_auth(AGENT_TOKEN)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    windows,
    ignore = "starts Azurite or moto, Linux programs a test under Wine can start but not wait for; the blob code is the same on Windows"
)]
async fn bundles_go_to_the_container_and_agents_read_them_through_signed_links() {
    let azurite = Azurite::start().await;
    let server = server_on(&azurite, 15).await;
    let bundle = Collected::with_blog_bytes(300 * 1024);
    let created = server.post(&Upload::of(&bundle)).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let receipt: TicketReceipt = created.json().await.unwrap();
    assert_eq!(receipt.ticket_id, "CS-000001");

    // Logs support asked for, added to the ticket.
    let added = Collected::new();
    let mut request = added.request();
    let link = server.make_link("CS-000001", serde_json::json!({})).await;
    request.report.ticket_id = Some("CS-000001".into());
    request.report.link = Some(link["url"].as_str().unwrap().to_owned());
    let attached = server
        .post(&Upload::of(&added).with_request(&request))
        .await;
    assert_eq!(attached.status(), StatusCode::CREATED);

    let added_id = added.written.manifest.bundle_id.to_string();
    assert_eq!(
        azurite.blob_names(CONTAINER).await,
        [
            "bundles/CS-000001.zip".to_owned(),
            format!("bundles/CS-000001/{added_id}.zip"),
        ]
    );
    assert!(
        server.folder("bundles").is_empty(),
        "nothing in the data folder: {:?}",
        server.folder("bundles")
    );

    // The agent is sent to a signed link on the blob service, valid for 15 minutes.
    let redirect = agent_download(&server, "/api/v1/tickets/CS-000001/bundle").await;
    assert_eq!(redirect.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(redirect.headers()["cache-control"], "no-store");
    let link = url::Url::parse(redirect.headers()[LOCATION].to_str().unwrap()).unwrap();
    assert!(
        link.as_str().starts_with(&format!(
            "{}/{CONTAINER}/bundles/CS-000001.zip?",
            azurite.endpoint
        )),
        "{link}"
    );
    let query: HashMap<String, String> = link.query_pairs().into_owned().collect();
    assert_eq!(query["sp"], "r", "read only");
    let expires = chrono::DateTime::parse_from_rfc3339(&query["se"]).unwrap();
    let left = expires.signed_duration_since(chrono::Utc::now());
    assert!(
        left > chrono::TimeDelta::minutes(14) && left <= chrono::TimeDelta::minutes(15),
        "{left}"
    );

    // The link reads the blob without any token of ours, whole or a range.
    let plain = reqwest::Client::new();
    let whole = plain.get(link.clone()).send().await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    let whole = whole.bytes().await.unwrap();
    assert_eq!(sha256_hex(&whole), receipt.bundle_sha256);
    let part = plain
        .get(link.clone())
        .header(RANGE, "bytes=1000-1999")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.bytes().await.unwrap()[..], whole[1000..2000]);

    // Altered (another blob, or a later expiry), it reads nothing.
    let other = link
        .as_str()
        .replace("CS-000001.zip", &format!("CS-000001/{added_id}.zip"));
    let later = link.as_str().replace(
        &format!("se={}", urlencode(&query["se"])),
        &format!("se={}", urlencode("2099-01-01T00:00:00Z")),
    );
    assert_ne!(later, link.as_str(), "the expiry is in the link");
    for altered in [other, later] {
        let refused = plain.get(&altered).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{altered}");
    }

    // An agent's client that follows the redirect (as the viewer's does) gets the bundle; the
    // agent token does not go along to the blob service.
    let followed = server
        .get(
            &format!("/api/v1/tickets/CS-000001/attachments/{added_id}"),
            Some(AGENT_TOKEN),
        )
        .await;
    assert_eq!(followed.status(), StatusCode::OK);
    assert_eq!(followed.bytes().await.unwrap()[..], added.bytes()[..]);
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    windows,
    ignore = "starts Azurite or moto, Linux programs a test under Wine can start but not wait for; the blob code is the same on Windows"
)]
async fn without_signed_links_the_server_streams_the_blob() {
    let azurite = Azurite::start().await;
    let server = server_on(&azurite, 0).await;
    let bundle = Collected::with_blog_bytes(200 * 1024);
    assert_eq!(
        server.post(&Upload::of(&bundle)).await.status(),
        StatusCode::CREATED
    );

    let whole = agent_download(&server, "/api/v1/tickets/CS-000001/bundle").await;
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.bytes().await.unwrap()[..], bundle.bytes()[..]);
    let part = server
        .client
        .get(server.url("/api/v1/tickets/CS-000001/bundle"))
        .bearer_auth(AGENT_TOKEN)
        .header(RANGE, "bytes=-500")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    let bytes = bundle.bytes();
    assert_eq!(part.bytes().await.unwrap()[..], bytes[bytes.len() - 500..]);

    // A resumable upload's bundle goes to the container too, and leaves nothing behind.
    let resumed = Collected::with_blog_bytes(100 * 1024);
    let bytes = resumed.bytes();
    let tus = |method: reqwest::Method, url: &str| {
        server
            .client
            .request(method, url)
            .bearer_auth(SUBMIT_TOKEN)
            .header("Tus-Resumable", "1.0.0")
    };
    let created = tus(reqwest::Method::POST, &server.url("/api/v1/uploads"))
        .header("Upload-Length", bytes.len())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let upload = created.headers()[LOCATION].to_str().unwrap().to_owned();
    let patched = tus(reqwest::Method::PATCH, &upload)
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", "0")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), StatusCode::NO_CONTENT);
    let request = resumed.request();
    let ticket = server
        .client
        .post(server.url("/api/v1/tickets"))
        .bearer_auth(SUBMIT_TOKEN)
        .header("Idempotency-Key", request.bundle_id.to_string())
        .json(&serde_json::json!({ "report": request, "upload": upload }))
        .send()
        .await
        .unwrap();
    assert_eq!(ticket.status(), StatusCode::CREATED);
    assert_eq!(
        azurite.blob_names(CONTAINER).await,
        ["bundles/CS-000001.zip", "bundles/CS-000002.zip"]
    );
    assert!(
        server.folder("uploads").is_empty(),
        "{:?}",
        server.folder("uploads")
    );
    let stored = agent_download(&server, "/api/v1/tickets/CS-000002/bundle").await;
    assert_eq!(stored.bytes().await.unwrap()[..], bytes[..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    windows,
    ignore = "starts Azurite or moto, Linux programs a test under Wine can start but not wait for; the blob code is the same on Windows"
)]
async fn a_container_that_is_not_there_stops_the_start_in_words() {
    let azurite = Azurite::start().await;
    let data = tempfile::tempdir().unwrap();
    let refused = callsupport_ticket_server::start(callsupport_ticket_server::ServerConfig {
        blobs: azurite.blobs("missing"),
        ..callsupport_ticket_server::ServerConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            data.path().to_path_buf(),
        )
    })
    .await
    .err()
    .expect("no server without its blob store");
    let message = format!("{refused:#}");
    assert!(
        message.contains("cannot list az://missing: check that it exists"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    windows,
    ignore = "starts Azurite or moto, Linux programs a test under Wine can start but not wait for; the blob code is the same on Windows"
)]
async fn bundles_go_to_an_s3_bucket_in_parts_and_agents_read_them_through_presigned_links() {
    let s3 = S3::start();
    s3.create_bucket("bundles-it").await;
    let server = Server::start_with(Setup {
        blobs: s3.blobs("bundles-it"),
        ..Setup::default()
    })
    .await;
    // Over one 5 MiB part, so it goes up as a multipart upload.
    let bundle = Collected::with_blog_bytes(12 << 20);
    let created = server.post(&Upload::of(&bundle)).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert!(server.folder("bundles").is_empty());

    let redirect = agent_download(&server, "/api/v1/tickets/CS-000001/bundle").await;
    assert_eq!(redirect.status(), StatusCode::TEMPORARY_REDIRECT);
    let link = url::Url::parse(redirect.headers()[LOCATION].to_str().unwrap()).unwrap();
    assert!(
        link.as_str().starts_with(&format!(
            "{}/bundles-it/bundles/CS-000001.zip?",
            s3.endpoint
        )),
        "{link}"
    );
    let query: HashMap<String, String> = link.query_pairs().into_owned().collect();
    assert_eq!(query["X-Amz-Expires"], "900", "15 minutes");
    let whole = reqwest::get(link).await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(
        whole.bytes().await.unwrap()[..],
        bundle.bytes()[..],
        "byte for byte"
    );
}
