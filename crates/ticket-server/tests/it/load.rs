//! The server as its own process under load: 50 uploads of 20 MiB at once, 1 GiB in all. Its memory
//! must not follow the data: bundles stream to disk while they are hashed, they are never held.

use callsupport_bundle::SourceKind;
use callsupport_bundle::ticket::TicketRequest;

use crate::support::{SUBMIT_TOKEN, bundle_of_folder, peak_mib, random_bytes, spawn_server};

#[test]
fn fifty_concurrent_20_mib_uploads_leave_the_server_memory_flat() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("acs_0.blog"), random_bytes(20 << 20, 3)).unwrap();
    let bundles: Vec<_> = (0..50)
        .map(|i| {
            let out = dir.path().join(format!("b{i}.zip"));
            let summary = format!("load {i}");
            bundle_of_folder(&out, "acs", SourceKind::Encrypted, &logs, &summary);
            let (request, bytes) = TicketRequest::for_file(&out).unwrap();
            (out, request, bytes)
        })
        .collect();

    let (mut server, base) = spawn_server(
        &dir.path().join("server"),
        &["--rate-per-minute", "0", "--trust-proxy", "127.0.0.1"],
    );
    let url = format!("{base}/api/v1/tickets");
    let idle = peak_mib(server.id());

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let statuses: Vec<u16> = runtime.block_on(async {
        let client = reqwest::Client::new();
        let uploads = bundles
            .into_iter()
            .enumerate()
            .map(|(i, (path, request, bytes))| {
                let (client, url) = (client.clone(), url.clone());
                // Fifty clients behind one load balancer.
                let address = format!("192.0.2.{}", i + 1);
                tokio::spawn(async move {
                    let file = tokio::fs::File::open(&path).await.unwrap();
                    let form = reqwest::multipart::Form::new()
                        .part(
                            "report",
                            reqwest::multipart::Part::text(
                                serde_json::to_string(&request).unwrap(),
                            )
                            .mime_str("application/json")
                            .unwrap(),
                        )
                        .part(
                            "bundle",
                            reqwest::multipart::Part::stream_with_length(file, bytes)
                                .file_name("bundle.zip")
                                .mime_str("application/zip")
                                .unwrap(),
                        );
                    client
                        .post(&url)
                        .bearer_auth(SUBMIT_TOKEN)
                        .header("Idempotency-Key", request.bundle_id.to_string())
                        .header("X-Forwarded-For", address)
                        .multipart(form)
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .as_u16()
                })
            });
        futures_util::future::join_all(uploads)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect()
    });
    let peak = peak_mib(server.id());
    let _ = server.kill();
    let _ = server.wait();

    assert!(statuses.iter().all(|&s| s == 201), "{statuses:?}");
    // 1 GiB went through; the server held a few buffers per connection, never a bundle.
    assert!(
        peak < 200.0,
        "the server peaked at {peak:.1} MiB (idle {idle:.1} MiB) for 50 concurrent 20 MiB uploads"
    );
    eprintln!("server memory: idle {idle:.1} MiB, peak {peak:.1} MiB over 1 GiB in 50 uploads");
}
