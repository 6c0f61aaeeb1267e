//! Hostile clients against the release server, beside honest ones, in one run: ten bundles at once
//! whose `manifest.json` is 66 MB of empty arrays; a bundle of 8 GiB of zeros (past the unpack
//! cap) and one of 3 GiB whose first file's hash is wrong; a thousand resumable uploads each
//! declaring the largest bundle. Each attack gets a fresh server, so its peak memory is that
//! attack's; meanwhile honest clients post real 1 MiB reports from addresses of their own and
//! `/healthz` is asked every 100 ms. Printed: the answers, the time from the last byte of a
//! bundle sent to its refusal (for upload creations, the whole request), the server's peak
//! memory, the slowest `/healthz`, and how many honest reports went through.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use callsupport_desk::bundle::manifest::Manifest;
use callsupport_desk::bundle::reader::Bundle;
use callsupport_desk::ticket::TicketRequest;
use zip::write::SimpleFileOptions;

use crate::measure::median;
use crate::upload::{ServerProcess, TOKEN, bundles, random_file};

/// Honest clients posting while an attack runs.
const HONEST_CLIENTS: usize = 4;
/// The largest bundle the bench's server takes (`--max-bundle-mb`).
const MAX_BUNDLE: u64 = 2048 << 20;

/// What one attack came to.
struct Outcome {
    attack: &'static str,
    requests: usize,
    /// Each status and problem code, with how many answers had it.
    answers: Vec<(String, usize)>,
    times: Vec<Duration>,
    peak_mib: f64,
    healthz_max: Duration,
    honest: (u32, u32),
}

pub fn run() {
    let dir = tempfile::Builder::new()
        .prefix("callsupport-bench-hostile-")
        .tempdir()
        .expect("temp dir");
    let root = dir.path();
    random_file(&root.join("logs/acs/a.blog"), 1 << 20, 11);
    let honest = bundles(&root.join("logs"), &root.join("honest"), 200);
    let base = &honest[0];
    eprintln!("hostile: writing the crafted bundles (8 GiB and 3 GiB of zeros, deflated)…");
    let padded = padded_manifest(base, &root.join("padded.zip"), 66 << 20);
    let over_cap = zeros(base, &root.join("zeros-8g.zip"), 8);
    let wrong_hash = zeros(base, &root.join("zeros-3g.zip"), 3);

    let mut honest = honest[1..].to_vec();
    let outcomes = vec![
        attack(
            root,
            "ten 66 MB padded manifests at once",
            &mut honest,
            |url| post_at_once(url, &vec![padded.clone(); 10]),
        ),
        attack(
            root,
            "8 GiB of zeros, past the unpack cap",
            &mut honest,
            |url| post_at_once(url, std::slice::from_ref(&over_cap)),
        ),
        attack(
            root,
            "3 GiB of zeros, first hash wrong",
            &mut honest,
            |url| post_at_once(url, std::slice::from_ref(&wrong_hash)),
        ),
        attack(
            root,
            "1000 uploads of 2 GiB, 100 addresses",
            &mut honest,
            |url| create_uploads(url, 1000, 100),
        ),
    ];
    print(&outcomes);
}

/// Starts a fresh server, runs `hit` against it with honest clients and `/healthz` watched,
/// and says what came of it.
fn attack(
    root: &Path,
    name: &'static str,
    honest: &mut Vec<PathBuf>,
    hit: impl FnOnce(&str) -> Vec<(String, Duration)>,
) -> Outcome {
    let data = tempfile::tempdir_in(root).expect("server folder");
    let server = ServerProcess::start_with(data.path(), &[], &[]);
    let url = server.url();
    let done = Arc::new(AtomicBool::new(false));
    let watch = {
        let (done, base) = (done.clone(), url.replace("/api/v1/tickets", ""));
        std::thread::spawn(move || watch_healthz(&base, &done))
    };
    let share = honest.len().min(HONEST_CLIENTS * 12);
    let mine: Vec<PathBuf> = honest.drain(..share).collect();
    let sent = Arc::new((AtomicU32::new(0), AtomicU32::new(0)));
    let posting = {
        let (done, sent, url) = (done.clone(), sent.clone(), url.clone());
        std::thread::spawn(move || post_honestly(&url, mine, &done, &sent))
    };
    let answers = hit(&url);
    // Honest clients go on a moment after the attack, as they would.
    std::thread::sleep(Duration::from_millis(500));
    done.store(true, Ordering::SeqCst);
    let healthz_max = watch.join().expect("healthz watcher");
    posting.join().expect("honest clients");
    let (_, peak_kib) = server.memory();
    let mut counted: Vec<(String, usize)> = Vec::new();
    for (answer, _) in &answers {
        match counted.iter_mut().find(|(a, _)| a == answer) {
            Some((_, n)) => *n += 1,
            None => counted.push((answer.clone(), 1)),
        }
    }
    Outcome {
        attack: name,
        requests: answers.len(),
        answers: counted,
        times: answers.iter().map(|(_, t)| *t).collect(),
        peak_mib: peak_kib as f64 / 1024.0,
        healthz_max,
        honest: (sent.0.load(Ordering::SeqCst), sent.1.load(Ordering::SeqCst)),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// `status code` of an answer, as the table shows it.
async fn answer_of(response: reqwest::Response) -> String {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    match body["code"].as_str() {
        Some(code) => format!("{status} {code}"),
        None => status.to_string(),
    }
}

/// A crafted bundle and the report that goes with it (our own reader would refuse to make one).
#[derive(Clone)]
struct Crafted {
    path: PathBuf,
    request: TicketRequest,
}

/// Posts every bundle of `crafted` at once, each as its own client address; each answer and how
/// long after the last byte of its bundle was sent it came.
fn post_at_once(url: &str, crafted: &[Crafted]) -> Vec<(String, Duration)> {
    runtime().block_on(async {
        let client = reqwest::Client::new();
        let mut tasks = Vec::new();
        for (i, crafted) in crafted.iter().enumerate() {
            let (client, url, crafted) = (client.clone(), url.to_owned(), crafted.clone());
            tasks.push(tokio::spawn(async move {
                let address = format!("198.51.100.{}", i + 1);
                let sent_all = Arc::new(std::sync::Mutex::new(None));
                let started = Instant::now();
                let answer = post(
                    &client,
                    &url,
                    &crafted.path,
                    &crafted.request,
                    &address,
                    &sent_all,
                )
                .await;
                let answered = Instant::now();
                let answer = match answer {
                    Ok(response) => answer_of(response).await,
                    Err(err) => format!("no answer ({err})"),
                };
                let sent_all = sent_all.lock().expect("sent").unwrap_or(started);
                (answer, answered.saturating_duration_since(sent_all))
            }));
        }
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.expect("attack task"));
        }
        answers
    })
}

/// `request` with the bundle at `path`, as the app sends it, from `address` (through the
/// trusted loopback proxy); `sent_all` gets the moment its last byte was handed to the
/// connection.
async fn post(
    client: &reqwest::Client,
    url: &str,
    path: &Path,
    request: &TicketRequest,
    address: &str,
    sent_all: &Arc<std::sync::Mutex<Option<Instant>>>,
) -> reqwest::Result<reqwest::Response> {
    let data = bytes::Bytes::from(tokio::fs::read(path).await.expect("bundle"));
    let bytes = data.len() as u64;
    let marker = sent_all.clone();
    let pieces = futures_util::stream::unfold(0usize, move |at| {
        let (data, marker) = (data.clone(), marker.clone());
        async move {
            if at >= data.len() {
                *marker.lock().expect("sent") = Some(Instant::now());
                return None;
            }
            let end = (at + (256 << 10)).min(data.len());
            Some((Ok::<_, std::io::Error>(data.slice(at..end)), end))
        }
    });
    let file = reqwest::Body::wrap_stream(pieces);
    let form = reqwest::multipart::Form::new()
        .part(
            "report",
            reqwest::multipart::Part::text(serde_json::to_string(&request).expect("json"))
                .mime_str("application/json")
                .expect("mime"),
        )
        .part(
            "bundle",
            reqwest::multipart::Part::stream_with_length(file, bytes)
                .file_name("bundle.zip")
                .mime_str("application/zip")
                .expect("mime"),
        );
    client
        .post(url)
        .bearer_auth(TOKEN)
        .header("Idempotency-Key", request.bundle_id.to_string())
        .header("X-Forwarded-For", address)
        .multipart(form)
        .send()
        .await
}

/// `count` resumable uploads, each declaring the largest bundle, from `addresses` addresses in
/// turn.
fn create_uploads(url: &str, count: usize, addresses: usize) -> Vec<(String, Duration)> {
    let uploads = url.replace("/api/v1/tickets", "/api/v1/uploads");
    runtime().block_on(async {
        let client = reqwest::Client::new();
        let mut answers = Vec::new();
        for i in 0..count {
            let started = Instant::now();
            let response = client
                .post(&uploads)
                .bearer_auth(TOKEN)
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Length", MAX_BUNDLE.to_string())
                .header(
                    "X-Forwarded-For",
                    format!("203.0.113.{}", i % addresses + 1),
                )
                .send()
                .await;
            let answer = match response {
                Ok(response) => answer_of(response).await,
                Err(err) => format!("no answer ({err})"),
            };
            answers.push((answer, started.elapsed()));
        }
        answers
    })
}

/// Honest reports from [`HONEST_CLIENTS`] addresses of their own, until `done` (or their
/// bundles run out); `sent` counts (accepted, tried).
fn post_honestly(
    url: &str,
    bundles: Vec<PathBuf>,
    done: &Arc<AtomicBool>,
    sent: &Arc<(AtomicU32, AtomicU32)>,
) {
    let queue = Arc::new(std::sync::Mutex::new(bundles));
    runtime().block_on(async {
        let client = reqwest::Client::new();
        let mut clients = tokio::task::JoinSet::new();
        for i in 0..HONEST_CLIENTS {
            let (client, queue, done, sent, url) = (
                client.clone(),
                queue.clone(),
                done.clone(),
                sent.clone(),
                url.to_owned(),
            );
            clients.spawn(async move {
                while !done.load(Ordering::SeqCst) {
                    let Some(path) = queue.lock().expect("queue").pop() else {
                        return;
                    };
                    sent.1.fetch_add(1, Ordering::SeqCst);
                    let (request, _) = TicketRequest::for_file(&path).expect("honest report");
                    let address = format!("192.0.2.{}", i + 1);
                    let unused = Arc::new(std::sync::Mutex::new(None));
                    let answer = post(&client, &url, &path, &request, &address, &unused).await;
                    if answer.is_ok_and(|r| r.status().is_success()) {
                        sent.0.fetch_add(1, Ordering::SeqCst);
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            });
        }
        clients.join_all().await;
    });
}

/// Asks `/healthz` every 100 ms until `done`; the slowest answer (a missing one counts as 10 s).
fn watch_healthz(base: &str, done: &AtomicBool) -> Duration {
    runtime().block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let mut slowest = Duration::ZERO;
        while !done.load(Ordering::SeqCst) {
            let started = Instant::now();
            let ok = client
                .get(format!("{base}/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            let took = if ok {
                started.elapsed()
            } else {
                Duration::from_secs(10)
            };
            slowest = slowest.max(took);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        slowest
    })
}

/// The report of `base`, for the crafted bundle at `path` (same bundle id, its own hash).
fn crafted(base: &Path, path: &Path) -> Crafted {
    let (mut request, _) = TicketRequest::for_file(base).expect("base report");
    request.bundle_sha256 = callsupport_desk::hash::sha256_file(path)
        .expect("crafted bundle")
        .0;
    Crafted {
        path: path.to_path_buf(),
        request,
    }
}

/// `base` with a manifest padded by `bytes` of empty JSON arrays (a field the format does not
/// have), deflated to a few hundred KB.
fn padded_manifest(base: &Path, to: &Path, bytes: usize) -> Crafted {
    let mut manifest: serde_json::Value =
        serde_json::to_value(&Bundle::open(base).expect("base bundle").manifest).expect("json");
    manifest["padding"] =
        serde_json::Value::Array(vec![serde_json::Value::Array(Vec::new()); bytes / 3]);
    rewrite(base, to, &serde_json::to_vec(&manifest).expect("json"), &[]);
    crafted(base, to)
}

/// `base` with its files replaced by `gib` files of 1 GiB of zeros each, whose manifest hashes
/// are all wrong.
fn zeros(base: &Path, to: &Path, gib: usize) -> Crafted {
    let mut manifest: Manifest = Bundle::open(base).expect("base bundle").manifest;
    let template = manifest.files[0].clone();
    manifest.files = (0..gib)
        .map(|i| {
            let mut file = template.clone();
            file.path = format!("files/acs/zeros-{i}.blog");
            file.size = 1 << 30;
            file.sha256 = "0".repeat(64);
            file
        })
        .collect();
    let names: Vec<String> = manifest.files.iter().map(|f| f.path.clone()).collect();
    rewrite(
        base,
        to,
        &serde_json::to_vec(&manifest).expect("json"),
        &names,
    );
    crafted(base, to)
}

/// Writes a bundle with `manifest` and, for each of `zero_files`, 1 GiB of zeros; with none, the
/// files of `base` as they are.
fn rewrite(base: &Path, to: &Path, manifest: &[u8], zero_files: &[String]) {
    let deflated = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    let mut out = zip::ZipWriter::new(std::fs::File::create(to).expect("crafted bundle"));
    if zero_files.is_empty() {
        let mut archive =
            zip::ZipArchive::new(std::fs::File::open(base).expect("base")).expect("base zip");
        for i in 0..archive.len() {
            let entry = archive.by_index_raw(i).expect("entry");
            if entry.name().is_ok_and(|name| name != "manifest.json") {
                out.raw_copy_file(entry).expect("copy entry");
            }
        }
    }
    let zeros = vec![0u8; 1 << 20];
    for name in zero_files {
        out.start_file(name.as_str(), deflated).expect("entry");
        for _ in 0..1024 {
            out.write_all(&zeros).expect("zeros");
        }
    }
    out.start_file("manifest.json", deflated).expect("manifest");
    out.write_all(manifest).expect("manifest");
    out.finish().expect("crafted bundle");
}

fn print(outcomes: &[Outcome]) {
    println!();
    println!(
        "hostile clients against the release server (a fresh server each; {HONEST_CLIENTS} honest clients post 1 MiB reports meanwhile)"
    );
    println!(
        "{:<40} {:>8}  {:<44} {:>26} {:>11} {:>13} {:>10}",
        "attack",
        "requests",
        "answers",
        "after the body, median/max",
        "server peak",
        "/healthz max",
        "honest ok"
    );
    for outcome in outcomes {
        let answers: Vec<String> = outcome
            .answers
            .iter()
            .map(|(answer, n)| format!("{n}× {answer}"))
            .collect();
        let mut times = outcome.times.clone();
        let max = times.iter().max().copied().unwrap_or_default();
        println!(
            "{:<40} {:>8}  {:<44} {:>16.2} s/{:>6.2} s {:>7.1} MiB {:>10} ms {:>6}/{}",
            outcome.attack,
            outcome.requests,
            answers.join(", "),
            median(&mut times).as_secs_f64(),
            max.as_secs_f64(),
            outcome.peak_mib,
            outcome.healthz_max.as_millis(),
            outcome.honest.0,
            outcome.honest.1,
        );
    }
    println!(
        "goals: peak under 512 MiB, each refusal under 1 s, /healthz answering, every honest report through"
    );
}
