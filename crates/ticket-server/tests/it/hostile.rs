//! Hostile clients (issue 21): bundles that are cheap to send and were dear to check, clients that
//! hog what others share. Each test failed before its fix; each refusal is a problem document with
//! its own code, and nothing is left behind.

use reqwest::StatusCode;

use crate::support::{
    Collected, SUBMIT_TOKEN, Server, Setup, Upload, assert_problem, held_open_body, peak_mib,
    python, sha256_hex, spawn_server,
};

/// Copies the bundle at `from` to `to` with its `manifest.json` given `"padding": [[],[],…]` of
/// `mib` MiB inside `host` (a table the format lets grow): tens of KB once deflated.
fn with_padded_manifest(from: &std::path::Path, to: &std::path::Path, mib: usize) {
    const SCRIPT: &str = r#"
import json, sys, zipfile
src, dst, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
    for info in z.infolist():
        data = z.read(info)
        if info.filename == "manifest.json":
            text = data.decode()
            at = text.index('"host":') + len('"host":')
            at = text.index("{", at) + 1
            pad = '"padding":[' + "[]," * (mib * 1024 * 1024 // 3) + '[]],'
            data = (text[:at] + pad + text[at:]).encode()
        out.writestr(info.filename, data)
"#;
    python(
        SCRIPT,
        &[
            from.to_str().unwrap(),
            to.to_str().unwrap(),
            &mib.to_string(),
        ],
    );
}

#[test]
fn ten_padded_manifests_at_once_leave_the_server_memory_flat() {
    // Measured before: ten of these at once took the server to 7.4 GB; the manifest was parsed
    // into a generic JSON tree first.
    let bundle = Collected::new();
    let padded = bundle.beside("padded.zip");
    with_padded_manifest(bundle.path(), &padded, 66);
    let bytes = std::fs::read(&padded).unwrap();
    assert!(bytes.len() < 1 << 20, "{} bytes", bytes.len());
    let mut request = bundle.request();
    request.bundle_sha256 = sha256_hex(&bytes);
    let report = serde_json::to_vec(&request).unwrap();

    let data = tempfile::tempdir().unwrap();
    let (mut server, base) = spawn_server(
        data.path(),
        &["--rate-per-minute", "0", "--intake-per-client", "10"],
    );
    let idle = peak_mib(server.id());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let answers: Vec<(u16, serde_json::Value)> = runtime.block_on(async {
        let client = reqwest::Client::new();
        let posts = (0..10).map(|_| {
            let (client, url, report, bytes) = (
                client.clone(),
                format!("{base}/api/v1/tickets"),
                report.clone(),
                bytes.clone(),
            );
            let key = request.bundle_id.to_string();
            tokio::spawn(async move {
                let form = reqwest::multipart::Form::new()
                    .part("report", reqwest::multipart::Part::bytes(report))
                    .part(
                        "bundle",
                        reqwest::multipart::Part::bytes(bytes).file_name("bundle.zip"),
                    );
                let response = client
                    .post(url)
                    .bearer_auth(SUBMIT_TOKEN)
                    .header("Idempotency-Key", key)
                    .multipart(form)
                    .send()
                    .await
                    .unwrap();
                (response.status().as_u16(), response.json().await.unwrap())
            })
        });
        futures_util::future::join_all(posts)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect()
    });
    let peak = peak_mib(server.id());
    let _ = server.kill();
    let _ = server.wait();

    for (status, body) in &answers {
        assert_eq!(*status, 422, "{body}");
        assert_eq!(body["code"], "bundle_invalid", "{body}");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("larger than 32 MiB"),
            "{body}"
        );
    }
    assert!(
        peak < 200.0,
        "the server peaked at {peak:.1} MiB (idle {idle:.1} MiB) for ten padded manifests"
    );
    eprintln!("server memory: idle {idle:.1} MiB, peak {peak:.1} MiB over ten padded manifests");
}

#[tokio::test]
async fn a_bundle_that_unpacks_past_the_limit_is_refused_before_it_is_inflated() {
    // 3 MiB of zeros deflate to a few KB; with bundles of at most 1 MiB the server takes bundles
    // that unpack to 2 MiB, and says so from the manifest, without inflating a byte.
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("zeros.log"), vec![0u8; 3 << 20]).unwrap();
    let out = dir.path().join("zeros.zip");
    let written = crate::support::bundle_of_folder(
        &out,
        "app",
        callsupport_bundle::SourceKind::Text,
        &logs,
        "zeros",
    );
    let request = callsupport_bundle::ticket::TicketRequest::for_bundle(&written);
    let upload = Upload {
        token: Some(SUBMIT_TOKEN),
        key: Some(request.bundle_id.to_string()),
        report: Some(serde_json::to_vec(&request).unwrap()),
        bundle: Some(std::fs::read(&out).unwrap()),
        forwarded_for: None,
    };
    let server = Server::start_with(Setup {
        max_bundle_bytes: 1 << 20,
        ..Setup::default()
    })
    .await;

    let body = assert_problem(
        server.post(&upload).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "bundle_unpacks_too_large",
    )
    .await;

    assert!(
        body["detail"].as_str().unwrap().contains("3.1 MB unpacked"),
        "{body}"
    );
    server.assert_nothing_stored();
}

fn limit(per_minute: u32, burst: u32) -> Option<callsupport_ticket_server::RateLimit> {
    Some(callsupport_ticket_server::RateLimit { per_minute, burst })
}

#[tokio::test]
async fn one_address_over_its_rate_does_not_lock_out_the_organisation() {
    // Everyone shares one submit token; the limit is per address. Behind a trusted proxy (here
    // the test's own loopback), the address is the one the proxy forwarded for.
    let server = Server::start_with(Setup {
        rate_limit: limit(1, 2),
        trusted_proxies: vec!["127.0.0.0/8".parse().unwrap()],
        ..Setup::default()
    })
    .await;
    let from = |client: &'static str| Upload {
        forwarded_for: Some(client),
        ..Upload::of(&Collected::new())
    };
    for _ in 0..2 {
        assert_eq!(
            server.post(&from("192.0.2.1")).await.status(),
            StatusCode::CREATED
        );
    }
    assert_problem(
        server.post(&from("192.0.2.1")).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
    // A colleague behind the same proxy, and the same colleague claiming another address in a
    // header of their own (the proxy appends the one it saw, which is the one that counts).
    assert_eq!(
        server.post(&from("192.0.2.2")).await.status(),
        StatusCode::CREATED
    );
    assert_problem(
        server.post(&from("198.51.100.7, 192.0.2.1")).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
}

#[tokio::test]
async fn a_forwarded_address_from_an_untrusted_peer_is_not_believed() {
    let server = Server::start_with(Setup {
        rate_limit: limit(1, 1),
        ..Setup::default()
    })
    .await;
    let from = |client: &'static str| Upload {
        forwarded_for: Some(client),
        ..Upload::of(&Collected::new())
    };
    assert_eq!(
        server.post(&from("192.0.2.1")).await.status(),
        StatusCode::CREATED
    );
    assert_problem(
        server.post(&from("192.0.2.2")).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
}

#[tokio::test]
async fn a_report_sent_again_is_answered_whatever_the_rate() {
    // The client lost the answer and asks again: it must learn its ticket, not be told to wait.
    let server = Server::start_with(Setup {
        rate_limit: limit(1, 1),
        ..Setup::default()
    })
    .await;
    let upload = Upload::of(&Collected::new());
    assert_eq!(server.post(&upload).await.status(), StatusCode::CREATED);
    for _ in 0..3 {
        assert_eq!(server.post(&upload).await.status(), StatusCode::OK);
    }
    assert_problem(
        server.post(&Upload::of(&Collected::new())).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
    assert_eq!(server.folder("bundles").len(), 1);
}

#[tokio::test]
async fn token_checks_and_agent_requests_are_limited_per_address() {
    let server = Server::start_with(Setup {
        lookup_limit: limit(1, 3),
        ..Setup::default()
    })
    .await;
    let dry_run = || {
        server
            .client
            .post(server.url("/api/v1/tickets?dry_run=true"))
            .bearer_auth("a guess")
            .send()
    };
    for _ in 0..2 {
        assert_eq!(dry_run().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    let agent = server
        .get("/api/v1/tickets", Some(crate::support::AGENT_TOKEN))
        .await;
    assert_eq!(agent.status(), StatusCode::OK);
    let refused = dry_run().await.unwrap();
    assert!(refused.headers().contains_key(reqwest::header::RETRY_AFTER));
    assert_problem(refused, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert_problem(
        server
            .get("/api/v1/tickets", Some(crate::support::AGENT_TOKEN))
            .await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
    // Reports are counted apart.
    assert_eq!(
        server.post(&Upload::of(&Collected::new())).await.status(),
        StatusCode::CREATED
    );
}

/// Starts an upload of `length` bytes as `client` (through the trusted loopback proxy).
async fn start_upload(server: &Server, client: &str, length: u64) -> reqwest::Response {
    server
        .client
        .post(server.url("/api/v1/uploads"))
        .bearer_auth(SUBMIT_TOKEN)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", length.to_string())
        .header("X-Forwarded-For", client)
        .send()
        .await
        .unwrap()
}

fn quotas(per_client: usize, bytes_per_client: u64, bytes_total: u64) -> Setup {
    Setup {
        trusted_proxies: vec!["127.0.0.0/8".parse().unwrap()],
        upload_quotas: Some(callsupport_ticket_server::UploadQuotas {
            per_client,
            bytes_per_client,
            bytes_total,
            min_free_bytes: 0,
        }),
        ..Setup::default()
    }
}

#[tokio::test]
async fn unfinished_uploads_one_address_may_hold_are_bounded() {
    // Measured before: 200 uploads declaring 1 GiB each were all accepted, by one client.
    let server = Server::start_with(quotas(3, 3 << 20, 1 << 30)).await;
    let mut urls = Vec::new();
    for _ in 0..3 {
        let created = start_upload(&server, "192.0.2.1", 1 << 20).await;
        assert_eq!(created.status(), StatusCode::CREATED);
        urls.push(created.headers()["location"].to_str().unwrap().to_owned());
    }
    let body = assert_problem(
        start_upload(&server, "192.0.2.1", 1).await,
        StatusCode::TOO_MANY_REQUESTS,
        "upload_quota_exceeded",
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("3 unfinished uploads"),
        "{body}"
    );
    // Another address is not held back; one of these finished or deleted makes room again.
    assert_eq!(
        start_upload(&server, "192.0.2.2", 1 << 20).await.status(),
        StatusCode::CREATED
    );
    let deleted = server
        .client
        .delete(&urls[0])
        .bearer_auth(SUBMIT_TOKEN)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        start_upload(&server, "192.0.2.1", 1 << 20).await.status(),
        StatusCode::CREATED
    );

    // The bytes they reserve are bounded too.
    let server = Server::start_with(quotas(10, 3 << 20, 1 << 30)).await;
    assert_eq!(
        start_upload(&server, "192.0.2.1", 2 << 20).await.status(),
        StatusCode::CREATED
    );
    let body = assert_problem(
        start_upload(&server, "192.0.2.1", (1 << 20) + 1).await,
        StatusCode::TOO_MANY_REQUESTS,
        "upload_quota_exceeded",
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("3.1 MB"),
        "{body}"
    );
}

#[tokio::test]
async fn uploads_in_all_and_the_disk_keep_their_margin() {
    let server = Server::start_with(quotas(10, 10 << 20, 3 << 20)).await;
    for client in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
        assert_eq!(
            start_upload(&server, client, 1 << 20).await.status(),
            StatusCode::CREATED
        );
    }
    let full = start_upload(&server, "192.0.2.4", 1).await;
    assert!(full.headers().contains_key(reqwest::header::RETRY_AFTER));
    assert_problem(
        full,
        StatusCode::INSUFFICIENT_STORAGE,
        "insufficient_storage",
    )
    .await;

    // A disk that would fall under its margin refuses uploads and reports in one request alike.
    let mut setup = quotas(10, 10 << 20, 1 << 30);
    if let Some(quotas) = &mut setup.upload_quotas {
        quotas.min_free_bytes = u64::MAX / 4;
    }
    let server = Server::start_with(setup).await;
    assert_problem(
        start_upload(&server, "192.0.2.1", 1).await,
        StatusCode::INSUFFICIENT_STORAGE,
        "insufficient_storage",
    )
    .await;
    assert_problem(
        server.post(&Upload::of(&Collected::new())).await,
        StatusCode::INSUFFICIENT_STORAGE,
        "insufficient_storage",
    )
    .await;
    server.assert_nothing_stored();
}

#[tokio::test]
async fn expired_uploads_are_swept_while_the_server_runs() {
    let server = Server::start_with(Setup {
        upload_sweep_every: std::time::Duration::from_millis(200),
        ..quotas(1, 1 << 30, 1 << 30)
    })
    .await;
    let created = start_upload(&server, "192.0.2.1", 10).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert_problem(
        start_upload(&server, "192.0.2.1", 10).await,
        StatusCode::TOO_MANY_REQUESTS,
        "upload_quota_exceeded",
    )
    .await;
    // Its day passes (the record is what the server goes by).
    let record_path = server.data.path().join(format!("uploads/{id}.json"));
    let mut record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&record_path).unwrap()).unwrap();
    record["expires_at"] = "2020-01-01T00:00:00Z".into();
    std::fs::write(&record_path, serde_json::to_vec(&record).unwrap()).unwrap();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !server.folder("uploads").is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            server.folder("uploads")
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        start_upload(&server, "192.0.2.1", 10).await.status(),
        StatusCode::CREATED,
        "the swept upload no longer counts"
    );
}

#[tokio::test]
async fn a_report_in_one_request_has_one_bundle_part() {
    let server = Server::start().await;
    let bundle = Collected::new();
    let request = bundle.request();
    let form = reqwest::multipart::Form::new()
        .part(
            "report",
            reqwest::multipart::Part::bytes(serde_json::to_vec(&request).unwrap()),
        )
        .part("bundle", reqwest::multipart::Part::bytes(bundle.bytes()))
        .part("bundle", reqwest::multipart::Part::bytes(bundle.bytes()));
    let response = server
        .client
        .post(server.url("/api/v1/tickets"))
        .bearer_auth(SUBMIT_TOKEN)
        .header("Idempotency-Key", request.bundle_id.to_string())
        .multipart(form)
        .send()
        .await
        .unwrap();
    let body = assert_problem(response, StatusCode::BAD_REQUEST, "multipart_invalid").await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("`bundle` part is sent twice"),
        "{body}"
    );
    server.assert_nothing_stored();
}

#[tokio::test]
async fn reports_arriving_at_once_are_bounded_per_address_and_in_all() {
    let server = Server::start_with(Setup {
        trusted_proxies: vec!["127.0.0.0/8".parse().unwrap()],
        intake: callsupport_ticket_server::Intake {
            at_once: 2,
            per_client: 1,
        },
        ..Setup::default()
    })
    .await;
    // A report that is still arriving: its body is fed from a channel that stays open.
    let slow = |client: &'static str| {
        let (tx, body) = held_open_body(b"--x\r\n");
        let request = server
            .client
            .post(server.url("/api/v1/tickets"))
            .bearer_auth(SUBMIT_TOKEN)
            .header("Idempotency-Key", uuid::Uuid::now_v7().to_string())
            .header("X-Forwarded-For", client)
            .header("Content-Type", "multipart/form-data; boundary=x")
            .body(body)
            .send();
        (tx, tokio::spawn(request))
    };
    let (first, _a) = slow("192.0.2.1");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let from = |client: &'static str| Upload {
        forwarded_for: Some(client),
        ..Upload::of(&Collected::new())
    };
    assert_problem(
        server.post(&from("192.0.2.1")).await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_at_once",
    )
    .await;
    let (second, _b) = slow("192.0.2.2");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_problem(
        server.post(&from("192.0.2.3")).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "server_busy",
    )
    .await;
    drop((first, second));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        server.post(&from("192.0.2.1")).await.status(),
        StatusCode::CREATED,
        "slots are given back when a request ends, however it ends"
    );
}

#[tokio::test]
async fn a_body_that_stops_coming_ends_its_request_and_frees_its_slot() {
    // Before, a client that sent a few bytes and then nothing held its connection and its task
    // for as long as it liked; with slots per address, it would hold those too.
    let server = Server::start_with(Setup {
        body_idle: std::time::Duration::from_millis(500),
        intake: callsupport_ticket_server::Intake {
            at_once: 1,
            per_client: 1,
        },
        ..Setup::default()
    })
    .await;
    let (tx, body) =
        held_open_body(b"--x\r\nContent-Disposition: form-data; name=\"bundle\"\r\n\r\nPK");
    let stalled = server
        .client
        .post(server.url("/api/v1/tickets"))
        .bearer_auth(SUBMIT_TOKEN)
        .header("Idempotency-Key", uuid::Uuid::now_v7().to_string())
        .header("Content-Type", "multipart/form-data; boundary=x")
        .body(body)
        .send()
        .await
        .unwrap();
    let body = assert_problem(stalled, StatusCode::REQUEST_TIMEOUT, "body_timeout").await;
    assert!(
        body["detail"].as_str().unwrap().contains("the bundle part"),
        "{body}"
    );
    drop(tx);
    assert_eq!(
        server.post(&Upload::of(&Collected::new())).await.status(),
        StatusCode::CREATED
    );
    server.assert_nothing_stored_but(1);

    // A chunk of a resumable upload that stops: what arrived is kept, and the client goes on.
    let created = start_upload(&server, "127.0.0.1", 100).await;
    let url = created.headers()["location"].to_str().unwrap().to_owned();
    let (tx, body) = held_open_body(&[7u8; 40]);
    let stalled = server
        .client
        .patch(&url)
        .bearer_auth(SUBMIT_TOKEN)
        .header("Tus-Resumable", "1.0.0")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", "0")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_problem(stalled, StatusCode::REQUEST_TIMEOUT, "body_timeout").await;
    drop(tx);
    let head = server
        .client
        .head(&url)
        .bearer_auth(SUBMIT_TOKEN)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(head.headers()["upload-offset"], "40");
}

#[tokio::test]
async fn a_client_that_sends_its_headers_slowly_or_not_at_all_is_let_go() {
    // Before, a connection that sent half a request head, or nothing, stayed open for good: a
    // few thousand of them hold every file descriptor the server has.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = Server::start_with(Setup {
        header_read: std::time::Duration::from_secs(1),
        ..Setup::default()
    })
    .await;
    for first in [&b"GET /healthz HTTP/1.1\r\nHost: x\r\n"[..], b""] {
        let mut slow = tokio::net::TcpStream::connect(server.running.addr())
            .await
            .unwrap();
        slow.write_all(first).await.unwrap();
        let started = std::time::Instant::now();
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            slow.read_to_end(&mut rest),
        )
        .await;
        assert!(
            matches!(closed, Ok(Ok(_))),
            "the connection is closed: {closed:?}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }
    // Honest requests, and a body that takes its time past the head's deadline, are not cut.
    let bundle = Collected::new();
    assert_eq!(
        server.post(&Upload::of(&bundle)).await.status(),
        StatusCode::CREATED
    );
    let created = start_upload(&server, "127.0.0.1", 40).await;
    let url = created.headers()["location"].to_str().unwrap().to_owned();
    let (tx, body) = held_open_body(&[1u8; 10]);
    let slow = tokio::spawn(
        server
            .client
            .patch(&url)
            .bearer_auth(SUBMIT_TOKEN)
            .header("Tus-Resumable", "1.0.0")
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Offset", "0")
            .body(body)
            .send(),
    );
    for _ in 0..3 {
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        tx.send(Ok(vec![1u8; 10])).await.unwrap();
    }
    drop(tx);
    assert_eq!(
        slow.await.unwrap().unwrap().status(),
        StatusCode::NO_CONTENT,
        "a body sent over 1.8 s"
    );
    assert_eq!(server.get("/healthz", None).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_failure_of_the_server_is_told_without_its_paths() {
    let server = Server::start().await;
    // The uploads folder is gone and a file stands in its place: creating an upload fails.
    let uploads = server.data.path().join("uploads");
    std::fs::remove_dir_all(&uploads).unwrap();
    std::fs::write(&uploads, b"not a folder").unwrap();

    let body = assert_problem(
        start_upload(&server, "127.0.0.1", 10).await,
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
    )
    .await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("incident"), "{detail}");
    let data = server.data.path().to_string_lossy();
    assert!(!detail.contains(data.as_ref()), "{detail}");
    assert!(!detail.contains("uploads"), "{detail}");
}

#[tokio::test]
async fn a_refused_chunk_is_read_so_the_client_hears_why() {
    // Before, a PATCH at a wrong offset with a few MiB of body was answered and the connection
    // closed under the client: Python's http.client saw a broken pipe, not the 409.
    let server = Server::start().await;
    let created = start_upload(&server, "127.0.0.1", 8 << 20).await;
    let url = created.headers()["location"].to_str().unwrap().to_owned();
    const SCRIPT: &str = r#"
import http.client, sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
body = b"\0" * (4 << 20)
conn.request("PATCH", url.path, body=body, headers={
    "Authorization": "Bearer " + sys.argv[2], "Tus-Resumable": "1.0.0",
    "Content-Type": "application/offset+octet-stream", "Upload-Offset": "1000"})
response = conn.getresponse()
print(response.status, response.read().decode())
"#;
    let said = tokio::task::spawn_blocking(move || python(SCRIPT, &[&url, SUBMIT_TOKEN]))
        .await
        .unwrap();
    assert!(said.starts_with("409 "), "{said}");
    assert!(said.contains("tus_offset_mismatch"), "{said}");
}

#[tokio::test]
async fn a_json_report_is_judged_by_its_token_first_and_its_size_in_words() {
    let server = Server::start().await;
    let post = |token: &'static str, body: Vec<u8>| {
        server
            .client
            .post(server.url("/api/v1/tickets"))
            .bearer_auth(token)
            .header("Idempotency-Key", uuid::Uuid::now_v7().to_string())
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    assert_problem(
        post("wrong", b"not json".to_vec()).await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    assert_problem(
        post(SUBMIT_TOKEN, vec![b' '; 2 << 20]).await.unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "report_too_large",
    )
    .await;
}
