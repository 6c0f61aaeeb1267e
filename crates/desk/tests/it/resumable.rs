//! Resumable uploads (tus 1.0) from `upload::Uploader` to the real ticket server: a bundle over the
//! configured size goes in checksummed chunks and is stored byte for byte; smaller ones, and every
//! one to a server without uploads, go in one request; a report goes on after a restart from the
//! server's offset, and one the user removes gives its upload up on the server; a lost upload
//! starts again and a lost answer is the same ticket; and a 200 MiB
//! upload cut at 20 random points by a TCP proxy costs at most one chunk per cut.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use callsupport_desk::Error;
use callsupport_desk::bundle::writer::WrittenBundle;
use callsupport_desk::collect::Plan;
use callsupport_desk::config::Config;
use callsupport_desk::consent::{Destination, Statement};
use callsupport_desk::outbox::{Delivered, Entry, Outbox};
use callsupport_desk::progress::Progress;
use callsupport_desk::report::Report;
use callsupport_desk::ticket::TicketReceipt;
use callsupport_desk::ticket::TicketRequest;
use callsupport_desk::upload::retry::RetryPolicy;
use callsupport_desk::upload::slot::{MemorySlot, Resume, ResumeSlot};
use callsupport_desk::upload::{UploadError, Uploader};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::{
    LogTree, SUBMIT_TOKEN, Server, TOKEN_ENV, collect_bundle, config_toml, load_config,
    random_bytes, sha256sum, tokens, write_file,
};

/// A log tree whose SDK log is `mib` MiB of random bytes, and its configuration for `url` with
/// resumable uploads over `resumable_over_mb`.
fn setup(url: &str, mib: usize, resumable_over_mb: u64) -> (LogTree, Config) {
    tokens();
    let tree = LogTree::new();
    write_file(&tree.acs("big/acs_big.blog"), &random_bytes(mib << 20, 7));
    let text = config_toml(url, Some(TOKEN_ENV), &tree.sources_toml(), 1024).replace(
        "[ticket_api]\n",
        &format!("[ticket_api]\nresumable_over_mb = {resumable_over_mb}\n"),
    );
    let config = load_config(tree.dir.path(), &text);
    (tree, config)
}

fn bundle_of(tree: &LogTree, config: &Config) -> WrittenBundle {
    let out = tree.dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    collect_bundle(config, &out.join("bundle.zip"))
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        attempts: 40,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        max_retry_after: Duration::from_secs(10),
    }
}

/// A slot that remembers every upload it was given.
#[derive(Default)]
struct Recording {
    slot: MemorySlot,
    saved: Mutex<Vec<Resume>>,
}

impl ResumeSlot for Recording {
    fn load(&self) -> Option<Resume> {
        self.slot.load()
    }
    fn save(&self, resume: &Resume) -> std::io::Result<()> {
        self.saved.lock().unwrap().push(resume.clone());
        self.slot.save(resume)
    }
    fn clear(&self) {
        self.slot.clear()
    }
}

/// Every `Uploading` progress, in order.
fn progress_log() -> (
    Arc<Mutex<Vec<u64>>>,
    impl FnMut(Progress) -> bool + Send + 'static,
) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    (log, move |p| {
        if let Progress::Uploading { bytes_sent, .. } = p {
            seen.lock().unwrap().push(bytes_sent);
        }
        true
    })
}

fn assert_stored(server: &Server, bundle: &WrittenBundle, receipt: &TicketReceipt) {
    assert_eq!(receipt.bundle_bytes, bundle.bytes);
    assert_eq!(
        sha256sum(&server.stored_bundle(&receipt.ticket_id)),
        sha256sum(&bundle.path),
        "stored byte for byte"
    );
    assert!(
        server.folder("uploads").is_empty(),
        "no upload is left on the server: {:?}",
        server.folder("uploads")
    );
}

/// A new upload of `length` bytes on `server`, made with plain tus requests; its URL.
async fn create_upload(server: &Server, length: u64) -> String {
    let created = reqwest::Client::new()
        .post(format!("http://{}/api/v1/uploads", server.running.addr()))
        .bearer_auth(SUBMIT_TOKEN)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", length.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), reqwest::StatusCode::CREATED);
    created.headers()["location"].to_str().unwrap().to_owned()
}

/// The server's offset of an upload, asked with `HEAD`.
async fn server_offset(url: &str) -> Option<u64> {
    let head = reqwest::Client::new()
        .head(url)
        .bearer_auth(SUBMIT_TOKEN)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    head.status().is_success().then(|| {
        head.headers()["upload-offset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_over_the_size_goes_in_checksummed_chunks_and_is_stored_byte_for_byte() {
    let server = Server::start(64 << 20).await;
    let (tree, config) = setup(&server.url(), 3, 1);
    let bundle = bundle_of(&tree, &config);
    assert!(bundle.bytes > 3 << 20);
    let (request, _) = TicketRequest::for_file(&bundle.path).unwrap();
    let slot = Recording::default();
    let (progress, on_progress) = progress_log();

    let receipt = Uploader::new(&config.ticket_api)
        .unwrap()
        .with_chunk_bytes(256 * 1024)
        .deliver(
            &bundle.path,
            &request,
            &slot,
            &RetryPolicy::once(),
            on_progress,
        )
        .await
        .unwrap();

    assert_stored(&server, &bundle, &receipt);
    let saved = slot.saved.lock().unwrap().clone();
    assert_eq!(saved.len(), 1, "one upload: {saved:?}");
    assert!(
        saved[0]
            .url
            .starts_with(&format!("http://{}/api/v1/uploads/", server.running.addr())),
        "{saved:?}"
    );
    assert_eq!(saved[0].length, bundle.bytes);
    assert_eq!(
        slot.load(),
        None,
        "the ticket was made: nothing to go on from"
    );
    let progress = progress.lock().unwrap().clone();
    assert!(progress.is_sorted(), "{progress:?}");
    assert_eq!(progress.last(), Some(&bundle.bytes));
    assert!(progress.len() >= 12, "reported per piece: {progress:?}");
}

/// One delivery with the configured uploader; the receipt and what the slot was given.
async fn deliver_once(config: &Config, bundle: &WrittenBundle) -> (TicketReceipt, Recording) {
    let (request, _) = TicketRequest::for_file(&bundle.path).unwrap();
    let slot = Recording::default();
    let receipt = Uploader::new(&config.ticket_api)
        .unwrap()
        .deliver(&bundle.path, &request, &slot, &RetryPolicy::once(), |_| {
            true
        })
        .await
        .unwrap();
    (receipt, slot)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_bundle_or_a_server_without_uploads_gets_one_request() {
    // Under the size: one request, though the server offers uploads.
    let server = Server::start(64 << 20).await;
    let (tree, config) = setup(&server.url(), 1, 8);
    let bundle = bundle_of(&tree, &config);
    let (receipt, slot) = deliver_once(&config, &bundle).await;
    assert_stored(&server, &bundle, &receipt);
    assert!(slot.saved.lock().unwrap().is_empty());

    // Over it, to a server that offers none: one request too.
    let plain = Server::start_with(callsupport_ticket_server::ServerConfig {
        resumable_uploads: false,
        ..Server::config()
    })
    .await;
    let (tree, config) = setup(&plain.url(), 1, 0);
    let bundle = bundle_of(&tree, &config);
    let offered = reqwest::Client::new()
        .request(
            reqwest::Method::OPTIONS,
            format!("http://{}/api/v1/uploads", plain.running.addr()),
        )
        .send()
        .await
        .unwrap();
    assert!(!offered.status().is_success(), "{}", offered.status());
    let (receipt, slot) = deliver_once(&config, &bundle).await;
    assert_stored(&plain, &bundle, &receipt);
    assert!(slot.saved.lock().unwrap().is_empty());
}

/// A report queued in the outbox under `data` whose delivery the user stops once
/// `numerator / denominator` of its bundle has gone; the outbox, the entry and how it ended.
async fn queued_and_stopped(
    config: &Config,
    data: &Path,
    summary: &str,
    numerator: u64,
    denominator: u64,
) -> (Outbox, Entry, Result<Delivered, Error>) {
    let (plan, _) = Plan::from_config(config).unwrap();
    let destination = Destination::TicketApi {
        organisation: None,
        host: config.ticket_api.destination_host(),
    };
    let statement = Statement::new(&plan, &destination, true);
    let outbox = Outbox::open(data).unwrap();
    let entry = outbox
        .queue(
            &plan,
            Report::new(summary),
            statement.agreed(&destination, true),
            destination.label(),
            |_| true,
        )
        .unwrap();
    let stop_at = entry.bytes * numerator / denominator;
    let stopped = outbox
        .deliver(
            &entry,
            &Uploader::new(&config.ticket_api)
                .unwrap()
                .with_chunk_bytes(256 * 1024),
            &RetryPolicy::once(),
            move |p| !matches!(p, Progress::Uploading { bytes_sent, .. } if bytes_sent >= stop_at),
        )
        .await;
    (outbox, entry, stopped)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_report_goes_on_after_a_restart_from_where_the_server_got() {
    let server = Server::start(64 << 20).await;
    let (_tree, config) = setup(&server.url(), 4, 1);
    let data = tempfile::tempdir().unwrap();
    // The app stops (the user quits) once 40% has gone.
    let (_, entry, stopped) =
        queued_and_stopped(&config, data.path(), "cut short by a restart", 2, 5).await;
    assert!(
        matches!(stopped, Err(Error::Upload(UploadError::Cancelled))),
        "{stopped:?}"
    );
    let kept: Resume =
        serde_json::from_slice(&std::fs::read(entry.dir.join("upload.json")).unwrap()).unwrap();
    let offset = server_offset(&kept.url).await.unwrap();
    assert!(offset > 0 && offset < entry.bytes, "{offset}");

    // Started again: a new outbox and uploader find the report and go on from the offset.
    let outbox = Outbox::open(data.path()).unwrap();
    let (entries, _) = outbox.list().unwrap();
    assert_eq!(entries.len(), 1);
    let (progress, on_progress) = progress_log();
    let delivered = outbox
        .deliver(
            &entries[0],
            &Uploader::new(&config.ticket_api)
                .unwrap()
                .with_chunk_bytes(256 * 1024),
            &RetryPolicy::once(),
            on_progress,
        )
        .await
        .unwrap();
    let progress = progress.lock().unwrap().clone();
    assert!(
        progress[0] > offset,
        "went on from byte {offset}, first progress {}",
        progress[0]
    );
    assert_eq!(progress.last(), Some(&entry.bytes));
    assert_eq!(
        server_offset(&kept.url).await,
        None,
        "the upload became the ticket"
    );
    assert!(!entry.dir.exists(), "delivered reports leave the outbox");
    assert_eq!(delivered.bundle_bytes, entry.bytes);
    let stored = server.stored_bundle(&delivered.ticket_id);
    assert_eq!(std::fs::metadata(&stored).unwrap().len(), entry.bytes);
    assert_eq!(sha256sum(&stored), delivered.bundle_sha256);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_the_user_removes_gives_its_upload_up_on_the_server() {
    let server = Server::start(64 << 20).await;
    let (_tree, config) = setup(&server.url(), 2, 1);
    let data = tempfile::tempdir().unwrap();
    let (outbox, entry, stopped) =
        queued_and_stopped(&config, data.path(), "removed half-way", 1, 2).await;
    assert!(stopped.is_err());
    let begun = outbox
        .upload_of(entry.id)
        .expect("the upload is kept with the report");
    assert!(server_offset(&begun.url).await.is_some_and(|at| at > 0));

    let desk = callsupport_desk::api::Desk::new(config, data.path().to_path_buf());
    desk.remove_queued(&entry.id.to_string()).unwrap();
    assert!(!entry.dir.exists());
    // The server answers 404 once the upload's record is gone; its data and lock file go an
    // instant later, in the same removal.
    let mut gone = false;
    for _ in 0..100 {
        if server_offset(&begun.url).await.is_none() && server.folder("uploads").is_empty() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        gone,
        "the server let go of the upload, files and all: {:?}",
        server.folder("uploads")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_upload_starts_again_and_a_lost_answer_is_the_same_ticket() {
    let server = Server::start(64 << 20).await;
    let (tree, config) = setup(&server.url(), 2, 1);
    let bundle = bundle_of(&tree, &config);
    let (request, _) = TicketRequest::for_file(&bundle.path).unwrap();
    let uploader = Uploader::new(&config.ticket_api)
        .unwrap()
        .with_chunk_bytes(256 * 1024);
    let slot = Recording::default();

    // Half sent, then the server loses the upload (here: it is deleted, as expiry would).
    let half = bundle.bytes / 2;
    let stopped = uploader
        .deliver(
            &bundle.path,
            &request,
            &slot,
            &RetryPolicy::once(),
            move |p| !matches!(p, Progress::Uploading { bytes_sent, .. } if bytes_sent >= half),
        )
        .await;
    assert!(
        matches!(stopped, Err(UploadError::Cancelled)),
        "{stopped:?}"
    );
    let lost = slot.load().unwrap();
    let deleted = reqwest::Client::new()
        .delete(&lost.url)
        .bearer_auth(SUBMIT_TOKEN)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), reqwest::StatusCode::NO_CONTENT);

    let receipt = uploader
        .deliver(&bundle.path, &request, &slot, &RetryPolicy::once(), |_| {
            true
        })
        .await
        .unwrap();
    assert_stored(&server, &bundle, &receipt);
    let saved = slot.saved.lock().unwrap().clone();
    assert_eq!(saved.len(), 2, "a second upload: {saved:?}");
    assert_ne!(saved[0].url, saved[1].url);

    // The answer was lost (the slot still names the finished upload): sending again is the
    // same ticket, and nothing is uploaded again.
    slot.save(&saved[1]).unwrap();
    let (progress, on_progress) = progress_log();
    let again = uploader
        .deliver(
            &bundle.path,
            &request,
            &slot,
            &RetryPolicy::once(),
            on_progress,
        )
        .await
        .unwrap();
    assert_eq!(again, receipt);
    assert!(progress.lock().unwrap().is_empty(), "no byte sent again");
    assert_eq!(slot.saved.lock().unwrap().len(), 3, "no new upload");
    assert_eq!(slot.load(), None);
    assert!(server.folder("uploads").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_upload_the_server_refuses_is_let_go_and_the_next_try_starts_anew() {
    let server = Server::start(64 << 20).await;
    let (tree, config) = setup(&server.url(), 2, 1);
    let bundle = bundle_of(&tree, &config);
    let (request, _) = TicketRequest::for_file(&bundle.path).unwrap();
    let uploader = Uploader::new(&config.ticket_api).unwrap();

    // The kept upload is finished, but its bytes are not the bundle's (one flipped on the way).
    let mut bytes = std::fs::read(&bundle.path).unwrap();
    bytes[1000] ^= 0xFF;
    let damaged = create_upload(&server, bytes.len() as u64).await;
    let sent = reqwest::Client::new()
        .patch(&damaged)
        .bearer_auth(SUBMIT_TOKEN)
        .header("Tus-Resumable", "1.0.0")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", "0")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), reqwest::StatusCode::NO_CONTENT);
    let slot = Recording::default();
    slot.save(&Resume {
        url: damaged.clone(),
        bundle_sha256: request.bundle_sha256.clone(),
        length: bundle.bytes,
    })
    .unwrap();

    let refused = uploader
        .deliver(&bundle.path, &request, &slot, &RetryPolicy::once(), |_| {
            true
        })
        .await;
    assert!(
        matches!(&refused, Err(UploadError::Rejected { status: 422, code, .. }) if code == "bundle_hash_mismatch"),
        "{refused:?}"
    );
    assert_eq!(slot.load(), None, "the refused upload is not kept");
    assert_eq!(
        server_offset(&damaged).await,
        None,
        "and the server was told to let it go"
    );

    let receipt = uploader
        .deliver(&bundle.path, &request, &slot, &RetryPolicy::once(), |_| {
            true
        })
        .await
        .unwrap();
    assert_stored(&server, &bundle, &receipt);
    let saved = slot.saved.lock().unwrap().clone();
    assert_eq!(saved.len(), 2, "a new upload: {saved:?}");
    assert_ne!(saved[1].url, damaged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_over_the_upload_quota_goes_in_one_request() {
    // Reports waiting on this computer each hold an unfinished upload; once the server keeps no
    // more for this address (429 upload_quota_exceeded), the next report goes in one request
    // instead of waiting for one of them.
    let server = Server::start_with(callsupport_ticket_server::ServerConfig {
        upload_quotas: Some(callsupport_ticket_server::UploadQuotas {
            per_client: 1,
            ..callsupport_ticket_server::UploadQuotas::for_bundles_of(64 << 20)
        }),
        ..Server::config()
    })
    .await;
    create_upload(&server, 1000).await;
    let (tree, config) = setup(&server.url(), 2, 1);
    let bundle = bundle_of(&tree, &config);
    let (request, _) = TicketRequest::for_file(&bundle.path).unwrap();
    let slot = Recording::default();
    let receipt = Uploader::new(&config.ticket_api)
        .unwrap()
        .deliver(&bundle.path, &request, &slot, &RetryPolicy::once(), |_| {
            true
        })
        .await
        .unwrap();
    assert_eq!(
        sha256sum(&server.stored_bundle(&receipt.ticket_id)),
        sha256sum(&bundle.path),
        "stored byte for byte"
    );
    assert!(slot.saved.lock().unwrap().is_empty(), "no upload was made");
    let records: Vec<String> = server
        .folder("uploads")
        .into_iter()
        .filter(|name| name.ends_with(".json"))
        .collect();
    assert_eq!(records.len(), 1, "only the one held before: {records:?}");
}

/// A TCP proxy that forwards both ways and, when the bytes sent towards the server reach each
/// cut point in turn, forwards exactly up to it and closes both connections.
struct CuttingProxy {
    forwarded: Arc<AtomicU64>,
    cuts: Arc<Mutex<VecDeque<u64>>>,
}

impl CuttingProxy {
    fn start(listener: TcpListener, upstream: SocketAddr, cuts: Vec<u64>) -> CuttingProxy {
        let proxy = CuttingProxy {
            forwarded: Arc::new(AtomicU64::new(0)),
            cuts: Arc::new(Mutex::new(cuts.into())),
        };
        let (forwarded, cuts) = (proxy.forwarded.clone(), proxy.cuts.clone());
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let (forwarded, cuts) = (forwarded.clone(), cuts.clone());
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    let (mut from_client, mut to_client) = client.into_split();
                    let (mut from_server, mut to_server) = server.into_split();
                    let up = async {
                        let mut buf = vec![0; 64 * 1024];
                        loop {
                            let n = match from_client.read(&mut buf).await {
                                Ok(0) | Err(_) => return false,
                                Ok(n) => n,
                            };
                            let (pass, cut) = {
                                let mut cuts = cuts.lock().unwrap();
                                let at = forwarded.load(Ordering::SeqCst);
                                match cuts.front() {
                                    Some(&cut) if at + n as u64 >= cut => {
                                        cuts.pop_front();
                                        ((cut - at) as usize, true)
                                    }
                                    _ => (n, false),
                                }
                            };
                            forwarded.fetch_add(pass as u64, Ordering::SeqCst);
                            if to_server.write_all(&buf[..pass]).await.is_err() {
                                return false;
                            }
                            if cut {
                                return true;
                            }
                        }
                    };
                    let down = tokio::io::copy(&mut from_server, &mut to_client);
                    tokio::pin!(down);
                    tokio::select! {
                        cut = up => if !cut { let _ = (&mut down).await; },
                        _ = &mut down => {}
                    }
                });
            }
        });
        proxy
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_mib_upload_cut_at_20_random_points_costs_at_most_a_chunk_a_cut() {
    const CHUNK: u64 = 4 << 20;
    const CUTS: usize = 20;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", listener.local_addr().unwrap());
    // The server hands out upload URLs under the proxy's address, as behind a load balancer.
    let server = Server::start_with(callsupport_ticket_server::ServerConfig {
        max_bundle_bytes: 512 << 20,
        public_url: Some(proxy_url.clone()),
        ..Server::config()
    })
    .await;
    let (tree, config) = setup(&format!("{proxy_url}/api/v1/tickets"), 200, 8);
    let bundle = bundle_of(&tree, &config);
    assert!(bundle.bytes > 200 << 20);

    let seed = std::env::var("CALLSUPPORT_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut cuts: Vec<u64> = (0..CUTS).map(|_| rng.u64(1..bundle.bytes)).collect();
    cuts.sort_unstable();
    let proxy = CuttingProxy::start(listener, server.running.addr(), cuts.clone());

    let (request, _) = TicketRequest::for_file(&bundle.path).unwrap();
    let started = Instant::now();
    let receipt = Uploader::new(&config.ticket_api)
        .unwrap()
        .deliver(
            &bundle.path,
            &request,
            &MemorySlot::default(),
            &fast_retries(),
            |_| true,
        )
        .await
        .unwrap_or_else(|err| panic!("seed {seed}: {err}"));
    let took = started.elapsed();

    assert_stored(&server, &bundle, &receipt);
    assert!(
        proxy.cuts.lock().unwrap().is_empty(),
        "seed {seed}: every cut happened"
    );
    // Everything that went towards the server beyond the bundle itself: re-sent chunks plus
    // the requests' headers (a few hundred bytes each).
    let forwarded = proxy.forwarded.load(Ordering::SeqCst);
    let extra = forwarded - bundle.bytes;
    eprintln!(
        "200 MiB upload, {CUTS} cuts (seed {seed}): {:.1} MiB sent again, {:.1} s",
        extra as f64 / (1 << 20) as f64,
        took.as_secs_f64()
    );
    assert!(
        extra <= CUTS as u64 * CHUNK + (256 << 10),
        "seed {seed}: {extra} bytes beyond the bundle for {CUTS} cuts of at most {CHUNK} each; cuts at {cuts:?}"
    );
}
