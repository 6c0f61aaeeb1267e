//! Delivery: `callsupport submit` of a 1 GiB bundle against `curl -F` to the same reference server
//! on loopback, in the same run (time and client memory); then the server alone: reports per second
//! for 1 MiB bundles from 32 concurrent clients, and its memory under 50 concurrent 20 MiB uploads.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use callsupport_desk::collect::{Plan, collect};
use callsupport_desk::config::Config;
use callsupport_desk::consent::{Destination, Statement};
use callsupport_desk::report::Report;
use callsupport_desk::ticket::TicketRequest;

use crate::measure::{measure_with_env, median, mib};

pub const TOKEN: &str = "bench-submit-token";
const TOKEN_ENV: &str = "CALLSUPPORT_BENCH_TOKEN";

/// The reference server as a separate process, so its memory is its own.
pub struct ServerProcess {
    child: Child,
    addr: String,
}

impl ServerProcess {
    pub fn start(data: &Path) -> ServerProcess {
        ServerProcess::start_with(data, &[], &[])
    }

    /// With more flags, and environment variables (a blob store's account).
    pub fn start_with(data: &Path, args: &[&str], env: &[(&str, String)]) -> ServerProcess {
        let program = std::env::current_exe()
            .expect("own path")
            .with_file_name("callsupport-ticket-server");
        let mut child = Command::new(program)
            .args(["--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .args(["--token", TOKEN, "--max-bundle-mb", "2048"])
            .args(["--rate-per-minute", "0"])
            // Each client of `post_all` comes through this loopback "load balancer" as its own
            // address, as desktops do.
            .args(["--trust-proxy", "127.0.0.1"])
            .args(args)
            .envs(env.iter().map(|(k, v)| (*k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start callsupport-ticket-server (built by cargo xtask bench)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("the server prints its address");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .expect("listening on …")
            .to_owned();
        ServerProcess { child, addr }
    }

    pub fn url(&self) -> String {
        format!("http://{}/api/v1/tickets", self.addr)
    }

    /// Resident memory now and at its peak, in KiB (`/proc/<pid>/status`).
    pub fn memory(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config(root: &Path, url: &str) -> Config {
    let text = format!(
        "[ticket_api]\nurl = \"{url}\"\ntoken_env = \"{TOKEN_ENV}\"\nretries = 0\n\n[collection]\nmax_bundle_mb = 4096\n\n[[sources]]\nid = \"acs\"\nname = \"SDK\"\nroot = '{}'\nkind = \"encrypted\"\n",
        root.display()
    );
    Config::parse(Path::new("bench.toml"), &text).expect("bench config")
}

/// `count` distinct bundles of the encrypted files under `logs` (each its own bundle id).
pub fn bundles(logs: &Path, out: &Path, count: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(out).expect("bundle folder");
    let config = config(logs, "http://127.0.0.1:9/t");
    let (plan, _) = Plan::from_config(&config).expect("plan");
    (0..count)
        .map(|i| {
            let path = out.join(format!("b{i}.zip"));
            let statement = Statement::new(&plan, &Destination::File, false);
            collect(
                &plan,
                Report::new(format!("bench {i}")),
                statement.agreed(&Destination::File, false),
                &path,
                |_| true,
            )
            .expect("bench bundle");
            path
        })
        .collect()
}

pub fn random_file(path: &Path, len: usize, seed: u64) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("log folder");
    let mut state = seed | 1;
    let mut bytes = vec![0u8; len];
    for chunk in bytes.chunks_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
    }
    std::fs::write(path, bytes).expect("log file");
}

/// Posts `paths` with `clients` concurrent connections, as the app does; returns the wall time.
/// Client `i` posts to `urls[i % urls.len()]` (several instances behind no load balancer).
pub fn post_all(urls: &[String], paths: &[PathBuf], clients: usize) -> Duration {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let queue = Arc::new(Mutex::new(paths.to_vec()));
    let started = Instant::now();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut tasks = Vec::new();
        for i in 0..clients {
            let (queue, client, url) =
                (queue.clone(), client.clone(), urls[i % urls.len()].clone());
            let address = format!("10.{}.{}.1", i / 250, i % 250 + 1);
            tasks.push(tokio::spawn(async move {
                loop {
                    let Some(path) = queue.lock().expect("queue").pop() else {
                        return;
                    };
                    let (request, bytes) = TicketRequest::for_file(&path).expect("request");
                    let file = tokio::fs::File::open(&path).await.expect("bundle");
                    let bundle = reqwest::multipart::Part::stream_with_length(file, bytes)
                        .file_name("bundle.zip")
                        .mime_str("application/zip")
                        .expect("mime");
                    let report = reqwest::multipart::Part::text(
                        serde_json::to_string(&request).expect("json"),
                    )
                    .mime_str("application/json")
                    .expect("mime");
                    let form = reqwest::multipart::Form::new()
                        .part("report", report)
                        .part("bundle", bundle);
                    let response = client
                        .post(&url)
                        .bearer_auth(TOKEN)
                        .header("Idempotency-Key", request.bundle_id.to_string())
                        .header("X-Forwarded-For", &address)
                        .multipart(form)
                        .send()
                        .await
                        .expect("post");
                    assert!(
                        response.status().is_success(),
                        "server answered {}",
                        response.status()
                    );
                }
            }));
        }
        for task in tasks {
            task.await.expect("client task");
        }
    });
    started.elapsed()
}

/// `upload-server`: only the server's part of [`run`], in its own temporary folder.
pub fn run_server_only() {
    let dir = tempfile::Builder::new()
        .prefix("callsupport-bench-server-")
        .tempdir()
        .expect("temp dir");
    server_alone(dir.path());
}

pub fn run(cli: &Path) {
    let dir = tempfile::Builder::new()
        .prefix("callsupport-bench-upload-")
        .tempdir()
        .expect("temp dir");
    let root = dir.path();

    // 1 GiB: the CLI against curl, one server, three runs each.
    let big_logs = root.join("big-logs");
    for i in 0..8 {
        random_file(&big_logs.join(format!("acs_{i}.blog")), 128 << 20, i + 1);
    }
    let big = bundles(&big_logs, &root.join("big"), 1).remove(0);
    let big_bytes = std::fs::metadata(&big).expect("bundle").len();
    let server = ServerProcess::start(&root.join("server-1"));
    let config_path = root.join("bench.toml");
    std::fs::write(
        &config_path,
        format!(
            "[ticket_api]\nurl = \"{}\"\ntoken_env = \"{TOKEN_ENV}\"\nretries = 0\n",
            server.url()
        ),
    )
    .expect("config");
    // The same client with resumable uploads off: the whole bundle in one request.
    let single_path = root.join("bench-single.toml");
    std::fs::write(
        &single_path,
        format!(
            "[ticket_api]\nurl = \"{}\"\ntoken_env = \"{TOKEN_ENV}\"\nretries = 0\nresumable_over_mb = 1000000\n",
            server.url()
        ),
    )
    .expect("config");
    let single_arg = single_path.to_str().expect("utf-8");
    let (request, _) = TicketRequest::for_file(&big).expect("request");
    let report_json = root.join("report.json");
    std::fs::write(&report_json, serde_json::to_vec(&request).expect("json")).expect("report");
    let config_arg = config_path.to_str().expect("utf-8");
    let (big_arg, report_arg) = (
        big.to_str().expect("utf-8"),
        report_json.to_str().expect("utf-8"),
    );
    let own = std::env::current_exe().expect("own path");
    let (mut client, mut submits, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
    let (mut single, mut single_peak) = (Vec::new(), 0);
    let (mut client_peak, mut cli_peak) = (0, 0);
    for _ in 0..3 {
        let (t, peak) = measure_with_env(
            &own,
            &["--upload-child", single_arg, big_arg, report_arg],
            root,
            &[(TOKEN_ENV, TOKEN)],
        );
        single.push(t);
        single_peak = single_peak.max(peak);
        // The upload client as the outbox uses it: the request was made when the report was
        // queued, so this is the upload alone.
        let (t, peak) = measure_with_env(
            &own,
            &["--upload-child", config_arg, big_arg, report_arg],
            root,
            &[(TOKEN_ENV, TOKEN)],
        );
        client.push(t);
        client_peak = client_peak.max(peak);
        // `callsupport submit` on a bundle file: it first checks the bundle and hashes it.
        let (t, peak) = measure_with_env(
            cli,
            &["--config", config_arg, "submit", big_arg],
            root,
            &[(TOKEN_ENV, TOKEN)],
        );
        submits.push(t);
        cli_peak = cli_peak.max(peak);
        let (t, _) = measure_with_env(
            Path::new("curl"),
            &[
                "-sS",
                "--fail",
                "-o",
                "/dev/null",
                "-H",
                &format!("Authorization: Bearer {TOKEN}"),
                "-H",
                &format!("Idempotency-Key: {}", request.bundle_id),
                "-F",
                &format!("report=<{report_arg};type=application/json"),
                "-F",
                &format!("bundle=@{big_arg};type=application/zip"),
                &server.url(),
            ],
            root,
            &[],
        );
        theirs.push(t);
    }
    let (client, submit, theirs, single) = (
        median(&mut client),
        median(&mut submits),
        median(&mut theirs),
        median(&mut single),
    );
    let rate = |t: Duration| big_bytes as f64 / 1e6 / t.as_secs_f64();
    println!(
        "\nupload of a {:.0} MiB bundle to the reference server on loopback (median of 3, same run; the server verifies each upload before it answers)",
        mib(big_bytes)
    );
    println!(
        "  upload client (outbox) {:>6.2} s  {:>5.0} MB/s  peak RSS {:>5.1} MiB  (resumable: 4 MiB pieces, each with its SHA-256)",
        client.as_secs_f64(),
        rate(client),
        client_peak as f64 / 1024.0
    );
    println!(
        "  the same, one request  {:>6.2} s  {:>5.0} MB/s  peak RSS {:>5.1} MiB  (resumable off: {:.2}× the resumable time)",
        single.as_secs_f64(),
        rate(single),
        single_peak as f64 / 1024.0,
        single.as_secs_f64() / client.as_secs_f64()
    );
    println!(
        "  callsupport submit     {:>6.2} s  {:>5.0} MB/s  peak RSS {:>5.1} MiB  (checks and hashes the file first)",
        submit.as_secs_f64(),
        rate(submit),
        cli_peak as f64 / 1024.0
    );
    println!(
        "  curl -F                {:>6.2} s  {:>5.0} MB/s",
        theirs.as_secs_f64(),
        rate(theirs)
    );
    println!(
        "  upload client {:+.1}% against curl (goal: within 10%), submit {:+.1}%; client memory goal: under 64 MiB",
        100.0 * (client.as_secs_f64() / theirs.as_secs_f64() - 1.0),
        100.0 * (submit.as_secs_f64() / theirs.as_secs_f64() - 1.0)
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&big_logs);
    let _ = std::fs::remove_dir_all(root.join("big"));
    let _ = std::fs::remove_dir_all(root.join("server-1"));

    server_alone(root);
}

/// The server alone: its throughput and its memory under concurrent uploads.
pub fn server_alone(root: &Path) {
    // 256 reports of 1 MiB from 32 clients at once.
    let small_logs = root.join("small-logs");
    random_file(&small_logs.join("acs_0.blog"), 1 << 20, 99);
    let small = bundles(&small_logs, &root.join("small"), 256);
    let server = ServerProcess::start(&root.join("server-2"));
    let elapsed = post_all(&[server.url()], &small, 32);
    let (_, peak) = server.memory();
    println!(
        "server: {} reports of 1 MiB from 32 concurrent clients in {:.2} s: {:.0} reports/s, peak RSS {:.1} MiB",
        small.len(),
        elapsed.as_secs_f64(),
        small.len() as f64 / elapsed.as_secs_f64(),
        peak as f64 / 1024.0
    );
    drop(server);

    // Memory under 50 concurrent uploads, at two sizes: flat means it does not follow the size.
    for mib_each in [5usize, 20] {
        let logs = root.join(format!("logs-{mib_each}"));
        random_file(&logs.join("acs_0.blog"), mib_each << 20, 7);
        let paths = bundles(&logs, &root.join(format!("b-{mib_each}")), 50);
        let server = ServerProcess::start(&root.join(format!("server-{mib_each}")));
        let (idle, _) = server.memory();
        let elapsed = post_all(&[server.url()], &paths, 50);
        let (_, peak) = server.memory();
        println!(
            "server: 50 concurrent uploads of {mib_each} MiB in {:.2} s, RSS {:.1} MiB idle, peak {:.1} MiB",
            elapsed.as_secs_f64(),
            idle as f64 / 1024.0,
            peak as f64 / 1024.0
        );
        drop(server);
        let _ = std::fs::remove_dir_all(root.join(format!("b-{mib_each}")));
    }
}

/// `--upload-child CONFIG BUNDLE REPORT_JSON`: sends one queued report with the upload
/// client, as the outbox does (the measured child of [`run`]).
pub fn upload_child(args: &[String]) {
    let [config, bundle, report] = args else {
        eprintln!("usage: callsupport-bench --upload-child CONFIG BUNDLE REPORT_JSON");
        std::process::exit(2);
    };
    let config = Config::load(Path::new(config)).expect("config");
    let request: callsupport_desk::ticket::TicketRequest =
        serde_json::from_slice(&std::fs::read(report).expect("report")).expect("report json");
    let uploader = callsupport_desk::upload::Uploader::new(&config.ticket_api).expect("uploader");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime
        .block_on(uploader.submit(Path::new(bundle), &request, |_| true))
        .expect("upload");
}
