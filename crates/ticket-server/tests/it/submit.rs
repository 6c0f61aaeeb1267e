//! `POST /api/v1/tickets`: a valid upload becomes a ticket (201, then 200 for the same key), and each
//! wrong request is refused with the right status and problem `code`, storing nothing.

use std::fs;

use callsupport_bundle::ticket::TicketReceipt;
use reqwest::StatusCode;
use reqwest::header::{LOCATION, WWW_AUTHENTICATE};

use crate::support::{
    Collected, Server, Setup, Upload, assert_problem, other_id, python, sha256_hex,
};

#[tokio::test]
async fn a_valid_upload_is_created_then_repeated() {
    let server = Server::start().await;
    let bundle = Collected::new();
    let upload = Upload::of(&bundle);

    let first = server.post(&upload).await;

    assert_eq!(first.status(), StatusCode::CREATED);
    let location = first.headers()[LOCATION].to_str().unwrap().to_owned();
    let receipt: TicketReceipt = first.json().await.unwrap();
    assert_eq!(receipt.ticket_id, "CS-000001");
    assert_eq!(location, receipt.ticket_url);
    assert_eq!(receipt.ticket_url, server.url("/api/v1/tickets/CS-000001"));
    assert_eq!(receipt.bundle_sha256, sha256_hex(&bundle.bytes()));
    assert_eq!(receipt.bundle_bytes, bundle.bytes().len() as u64);
    assert_eq!(
        fs::read(server.data.path().join("bundles/CS-000001.zip")).unwrap(),
        bundle.bytes(),
        "the stored bundle is byte-identical"
    );

    let second = server.post(&upload).await;

    assert_eq!(second.status(), StatusCode::OK);
    assert_eq!(second.headers()[LOCATION].to_str().unwrap(), location);
    let again: TicketReceipt = second.json().await.unwrap();
    assert_eq!(again, receipt);
    assert_eq!(server.folder("bundles"), ["CS-000001.zip"]);
    assert!(server.folder("incoming").is_empty());

    let other = server.post(&Upload::of(&Collected::new())).await;
    assert_eq!(other.status(), StatusCode::CREATED);
    let other: TicketReceipt = other.json().await.unwrap();
    assert_eq!(other.ticket_id, "CS-000002");
}

#[tokio::test]
async fn without_a_token_it_is_unauthorized() {
    let server = Server::start().await;
    let bundle = Collected::new();
    let upload = Upload {
        token: None,
        ..Upload::of(&bundle)
    };

    let response = server.post(&upload).await;

    assert_eq!(
        response
            .headers()
            .get(WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap()),
        Some("Bearer")
    );
    let problem = assert_problem(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("Authorization: Bearer"),
        "{problem}"
    );
    server.assert_nothing_stored();
}

#[tokio::test]
async fn a_wrong_token_or_the_agent_token_is_unauthorized() {
    let server = Server::start().await;
    let bundle = Collected::new();

    for token in ["submit-s3creT", "agent-s3cret", ""] {
        let upload = Upload {
            token: Some(token),
            ..Upload::of(&bundle)
        };
        assert_problem(
            server.post(&upload).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        )
        .await;
    }
    server.assert_nothing_stored();
}

#[tokio::test]
async fn a_missing_idempotency_key_is_a_bad_request() {
    let server = Server::start().await;
    let bundle = Collected::new();
    let upload = Upload {
        key: None,
        ..Upload::of(&bundle)
    };

    assert_problem(
        server.post(&upload).await,
        StatusCode::BAD_REQUEST,
        "idempotency_key_missing",
    )
    .await;
    server.assert_nothing_stored();
}

#[tokio::test]
async fn an_idempotency_key_that_is_not_a_uuid_is_a_bad_request() {
    let server = Server::start().await;
    let bundle = Collected::new();
    let upload = Upload {
        key: Some("report-1".into()),
        ..Upload::of(&bundle)
    };

    assert_problem(
        server.post(&upload).await,
        StatusCode::BAD_REQUEST,
        "idempotency_key_invalid",
    )
    .await;
    server.assert_nothing_stored();
}

#[tokio::test]
async fn a_key_other_than_the_bundle_id_is_unprocessable() {
    let server = Server::start().await;
    let bundle = Collected::new();
    let upload = Upload {
        key: Some(other_id().to_string()),
        ..Upload::of(&bundle)
    };

    assert_problem(
        server.post(&upload).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_mismatch",
    )
    .await;
    server.assert_nothing_stored();
}

#[tokio::test]
async fn a_bundle_that_differs_from_the_report_hash_is_unprocessable() {
    let server = Server::start().await;
    let bundle = Collected::new();
    let mut request = bundle.request();
    request.bundle_sha256 = sha256_hex(b"something else");
    let upload = Upload::of(&bundle).with_request(&request);

    let problem = assert_problem(
        server.post(&upload).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "bundle_hash_mismatch",
    )
    .await;
    // The detail names the hash the server really received.
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(&sha256_hex(&bundle.bytes())),
        "{problem}"
    );
    server.assert_nothing_stored();
}

#[tokio::test]
async fn a_zip_that_is_not_a_bundle_is_unprocessable() {
    let server = Server::start().await;
    let bundle = Collected::new();
    let plain = bundle.beside("plain.zip");
    python(
        "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1], 'w'); z.writestr('hello.txt', 'hi'); z.close()",
        &[plain.to_str().unwrap()],
    );
    let bytes = fs::read(&plain).unwrap();
    let mut request = bundle.request();
    request.bundle_sha256 = sha256_hex(&bytes);
    let upload = Upload {
        bundle: Some(bytes),
        ..Upload::of(&bundle).with_request(&request)
    };

    let problem = assert_problem(
        server.post(&upload).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "bundle_invalid",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("manifest.json"),
        "{problem}"
    );
    server.assert_nothing_stored();
}

#[tokio::test]
async fn a_bundle_of_another_report_is_unprocessable() {
    // Key and report agree with each other, but the bundle's manifest has another bundle_id.
    let server = Server::start().await;
    let bundle = Collected::new();
    let mut request = bundle.request();
    request.bundle_id = other_id();
    let upload = Upload {
        key: Some(request.bundle_id.to_string()),
        ..Upload::of(&bundle).with_request(&request)
    };

    assert_problem(
        server.post(&upload).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "bundle_id_mismatch",
    )
    .await;
    server.assert_nothing_stored();
}

#[tokio::test]
async fn a_bundle_with_a_damaged_file_is_unprocessable() {
    // The zip is well formed and its hash matches the report, but one file no longer matches the
    // manifest: the server checks every file before it creates a ticket.
    let server = Server::start().await;
    let bundle = Collected::new();
    let damaged = bundle.beside("damaged.zip");
    python(
        r#"
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as a, zipfile.ZipFile(sys.argv[2], "w") as b:
    for info in a.infolist():
        data = a.read(info)
        if info.filename.endswith(".blog"):
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        b.writestr(info, data)
"#,
        &[bundle.path().to_str().unwrap(), damaged.to_str().unwrap()],
    );
    let bytes = fs::read(&damaged).unwrap();
    let mut request = bundle.request();
    request.bundle_sha256 = sha256_hex(&bytes);
    let upload = Upload {
        bundle: Some(bytes),
        ..Upload::of(&bundle).with_request(&request)
    };

    let problem = assert_problem(
        server.post(&upload).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "bundle_damaged",
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("acs_1.blog"),
        "{problem}"
    );
    server.assert_nothing_stored();
}

#[tokio::test]
async fn a_bundle_over_the_limit_is_too_large_and_leaves_nothing() {
    let server = Server::start_with(Setup {
        max_bundle_bytes: 16 * 1024,
        ..Setup::default()
    })
    .await;
    let bundle = Collected::with_blog_bytes(64 * 1024);
    assert!(bundle.bytes().len() > 16 * 1024);

    assert_problem(
        server.post(&Upload::of(&bundle)).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "bundle_too_large",
    )
    .await;
    server.assert_nothing_stored();

    // The limit is about size only: a smaller bundle still goes through.
    let small = Collected::with_blog_bytes(1024);
    assert!(small.bytes().len() < 16 * 1024);
    assert_eq!(
        server.post(&Upload::of(&small)).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn missing_parts_are_bad_requests() {
    let server = Server::start().await;
    let bundle = Collected::new();

    let no_report = Upload {
        report: None,
        ..Upload::of(&bundle)
    };
    assert_problem(
        server.post(&no_report).await,
        StatusCode::BAD_REQUEST,
        "report_missing",
    )
    .await;
    let no_bundle = Upload {
        bundle: None,
        ..Upload::of(&bundle)
    };
    assert_problem(
        server.post(&no_bundle).await,
        StatusCode::BAD_REQUEST,
        "bundle_missing",
    )
    .await;
    server.assert_nothing_stored();
}

#[tokio::test]
async fn a_bad_report_part_is_unprocessable() {
    let server = Server::start().await;
    let bundle = Collected::new();

    let not_json = Upload {
        report: Some(b"{\"summary\": ".to_vec()),
        ..Upload::of(&bundle)
    };
    assert_problem(
        server.post(&not_json).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "report_invalid",
    )
    .await;

    let mut request = bundle.request();
    request.report.summary = "   ".into();
    let empty_summary = Upload::of(&bundle).with_request(&request);
    let problem = assert_problem(
        server.post(&empty_summary).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "report_invalid",
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("summary"),
        "{problem}"
    );
    server.assert_nothing_stored();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_early_refusal_reaches_a_client_still_sending() {
    // The server refuses a bad token, and a bundle over the limit, before it has read the whole
    // body. A client still sending must nonetheless receive the problem document, every time: a
    // reset connection would tell the user "cannot reach the service" instead of what is wrong.
    // Server and client run on separate threads here, as they do in real life; on one thread the
    // client always finishes writing before the server answers, which hides the race.
    let server = Server::start_with(Setup {
        max_bundle_bytes: 64 * 1024,
        ..Setup::default()
    })
    .await;
    let bundle = Collected::with_blog_bytes(1 << 20);
    let cases = [
        (
            "no token",
            Upload {
                token: None,
                ..Upload::of(&bundle)
            },
            StatusCode::UNAUTHORIZED,
        ),
        (
            "over the limit",
            Upload::of(&bundle),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];

    for (label, upload, status) in cases {
        let mut outcomes = Vec::new();
        for _ in 0..20 {
            outcomes.push(match server.try_post(&upload).await {
                Ok(response) => response.status().to_string(),
                Err(err) => format!("transport error: {err:?}"),
            });
        }
        assert!(
            outcomes.iter().all(|o| *o == status.to_string()),
            "{label}: expected {status} every time, got {outcomes:?}"
        );
    }
    server.assert_nothing_stored();
}

#[tokio::test]
async fn a_client_over_its_rate_is_told_when_to_come_back() {
    let server = Server::start_with(Setup {
        rate_limit: Some(callsupport_ticket_server::RateLimit {
            per_minute: 30,
            burst: 2,
        }),
        ..Setup::default()
    })
    .await;
    let bundles = [Collected::new(), Collected::new(), Collected::new()];

    for bundle in &bundles[..2] {
        assert_eq!(
            server.post(&Upload::of(bundle)).await.status(),
            StatusCode::CREATED
        );
    }
    let refused = server.post(&Upload::of(&bundles[2])).await;
    let retry_after: u64 = refused.headers()[reqwest::header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=2).contains(&retry_after),
        "30 a minute: one every 2 s, said {retry_after}"
    );
    assert_problem(refused, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert_eq!(
        server.folder("bundles").len(),
        2,
        "the refused one is not stored"
    );

    tokio::time::sleep(std::time::Duration::from_secs(retry_after)).await;
    assert_eq!(
        server.post(&Upload::of(&bundles[2])).await.status(),
        StatusCode::CREATED,
        "after the wait it is taken"
    );
}
