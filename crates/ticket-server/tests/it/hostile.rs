//! Hostile clients (issue 21): bundles that are cheap to send and were dear to check, clients that
//! hog what others share. Each test failed before its fix; each refusal is a problem document with
//! its own code, and nothing is left behind.

use reqwest::StatusCode;

use crate::support::{
    Collected, SUBMIT_TOKEN, Server, Setup, Upload, assert_problem, peak_mib, python, sha256_hex,
    spawn_server,
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
    let (mut server, base) = spawn_server(data.path(), &["--rate-per-minute", "0"]);
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
        let mut answers = Vec::new();
        for post in posts.collect::<Vec<_>>() {
            answers.push(post.await.unwrap());
        }
        answers
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
