//! Fixtures: a server with its data folder, bundles written by the bundle format's own writer, the multipart request
//! the client sends, and checks of RFC 9457 problem answers.

use std::fs;
use std::path::{Path, PathBuf};

use callsupport_bundle::host::HostFacts;
use callsupport_bundle::manifest::{Consent, FORMAT, Generator, Manifest, ManifestSource};
use callsupport_bundle::report::Report;
use callsupport_bundle::ticket::TicketRequest;
use callsupport_bundle::writer::{InputFile, WrittenBundle, write_bundle};
use callsupport_bundle::{GENERATOR, SourceKind, VERSION};
use callsupport_ticket_server::{BlobConfig, DatabaseConfig, RunningServer, ServerConfig};
use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode};
use sha2::{Digest, Sha256};
use tempfile::TempDir;
use uuid::Uuid;

pub use callsupport_demo::random_bytes;

pub const SUBMIT_TOKEN: &str = "submit-s3cret";
pub const AGENT_TOKEN: &str = "agent-s3cret";

/// The reference server running in this test's runtime.
pub struct Server {
    pub running: RunningServer,
    pub data: TempDir,
    pub client: reqwest::Client,
}

/// How a test server is set up; `Setup::default()` is the usual one.
pub struct Setup {
    pub agent_token: Option<&'static str>,
    pub max_bundle_bytes: u64,
    pub rate_limit: Option<callsupport_ticket_server::RateLimit>,
    pub lookup_limit: Option<callsupport_ticket_server::RateLimit>,
    pub trusted_proxies: Vec<callsupport_ticket_server::client::Cidr>,
    pub upload_quotas: Option<callsupport_ticket_server::UploadQuotas>,
    pub upload_sweep_every: std::time::Duration,
    pub intake: callsupport_ticket_server::Intake,
    pub body_idle: std::time::Duration,
    pub header_read: std::time::Duration,
    pub database: DatabaseConfig,
    pub blobs: BlobConfig,
    pub signed_link_minutes: u64,
    pub forward: Option<callsupport_ticket_server::ForwardConfig>,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            agent_token: Some(AGENT_TOKEN),
            max_bundle_bytes: 64 << 20,
            rate_limit: None,
            lookup_limit: None,
            trusted_proxies: Vec::new(),
            upload_quotas: None,
            upload_sweep_every: std::time::Duration::from_secs(300),
            intake: callsupport_ticket_server::Intake::default(),
            body_idle: std::time::Duration::from_secs(60),
            header_read: std::time::Duration::from_secs(30),
            database: DatabaseConfig::DataFolder,
            blobs: BlobConfig::DataFolder,
            signed_link_minutes: 15,
            forward: None,
        }
    }
}

impl Server {
    pub async fn start() -> Server {
        Server::start_with(Setup::default()).await
    }

    pub async fn start_with(setup: Setup) -> Server {
        Server::start_in(tempfile::tempdir().unwrap(), setup).await
    }

    /// Starts a server on an existing data folder (to restart one).
    pub async fn start_in(data: TempDir, setup: Setup) -> Server {
        let running = callsupport_ticket_server::start(ServerConfig {
            submit_token: Some(SUBMIT_TOKEN.into()),
            agent_token: setup.agent_token.map(Into::into),
            max_bundle_bytes: setup.max_bundle_bytes,
            rate_limit: setup.rate_limit,
            lookup_limit: setup.lookup_limit,
            trusted_proxies: setup.trusted_proxies,
            upload_quotas: setup.upload_quotas,
            upload_sweep_every: setup.upload_sweep_every,
            intake: setup.intake,
            body_idle: setup.body_idle,
            header_read: setup.header_read,
            database: setup.database,
            blobs: setup.blobs,
            signed_link_minutes: setup.signed_link_minutes,
            forward: setup.forward,
            ..ServerConfig::new("127.0.0.1:0".parse().unwrap(), data.path().to_path_buf())
        })
        .await
        .unwrap();
        Server {
            running,
            data,
            client: reqwest::Client::new(),
        }
    }

    /// Stops the server and hands back its data folder.
    pub async fn stop(self) -> TempDir {
        self.running.stop().await.unwrap();
        self.data
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.running.addr())
    }

    /// Names in one of the server's folders (`bundles`, `incoming`), sorted; none if it is not
    /// there.
    pub fn folder(&self, name: &str) -> Vec<String> {
        let Ok(entries) = fs::read_dir(self.data.path().join(name)) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Nothing was stored and nothing was left half-received.
    pub fn assert_nothing_stored(&self) {
        self.assert_nothing_stored_but(0);
    }

    /// `count` bundles were stored, and nothing was left half-received.
    pub fn assert_nothing_stored_but(&self, count: usize) {
        assert_eq!(
            self.folder("bundles").len(),
            count,
            "{:?}",
            self.folder("bundles")
        );
        assert!(
            self.folder("incoming").is_empty(),
            "{:?}",
            self.folder("incoming")
        );
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    /// What an agent route answers, as JSON.
    pub async fn agent_json(&self, path: &str) -> serde_json::Value {
        let response = self.get(path, Some(AGENT_TOKEN)).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.json().await.unwrap()
    }

    /// A link from support for `ticket`, made with the agent token (`body` as the agent sends it).
    pub async fn make_link(&self, ticket: &str, body: serde_json::Value) -> serde_json::Value {
        let response = self
            .client
            .post(self.url(&format!("/api/v1/tickets/{ticket}/links")))
            .bearer_auth(AGENT_TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    /// Posts a ticket request as the client does, with the parts and headers given.
    pub async fn post(&self, upload: &Upload) -> Response {
        self.try_post(upload).await.unwrap()
    }

    /// Like [`Server::post`], but hands back a transport error instead of failing on it.
    pub async fn try_post(&self, upload: &Upload) -> reqwest::Result<Response> {
        let mut form = Form::new();
        if let Some(report) = &upload.report {
            form = form.part(
                "report",
                Part::bytes(report.clone())
                    .mime_str("application/json")
                    .unwrap(),
            );
        }
        if let Some(bundle) = &upload.bundle {
            form = form.part(
                "bundle",
                Part::bytes(bundle.clone())
                    .file_name("bundle.zip")
                    .mime_str("application/zip")
                    .unwrap(),
            );
        }
        let mut request = self
            .client
            .post(self.url("/api/v1/tickets"))
            .multipart(form);
        if let Some(token) = upload.token {
            request = request.bearer_auth(token);
        }
        if let Some(key) = &upload.key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(client) = upload.forwarded_for {
            request = request.header("X-Forwarded-For", client);
        }
        request.send().await
    }
}

/// One ticket request, field by field, so a test can spoil exactly one thing.
#[derive(Clone)]
pub struct Upload {
    pub token: Option<&'static str>,
    pub key: Option<String>,
    pub report: Option<Vec<u8>>,
    pub bundle: Option<Vec<u8>>,
    /// Sent as `X-Forwarded-For`, as a load balancer does.
    pub forwarded_for: Option<&'static str>,
}

impl Upload {
    /// What a correct client sends for `bundle`.
    pub fn of(bundle: &Collected) -> Upload {
        let request = bundle.request();
        Upload {
            token: Some(SUBMIT_TOKEN),
            key: Some(request.bundle_id.to_string()),
            report: Some(serde_json::to_vec(&request).unwrap()),
            bundle: Some(fs::read(&bundle.written.path).unwrap()),
            forwarded_for: None,
        }
    }

    /// The same upload with another `report` part.
    pub fn with_request(mut self, request: &TicketRequest) -> Upload {
        self.report = Some(serde_json::to_vec(request).unwrap());
        self
    }
}

/// A bundle of a small temporary log tree, written by the format's own writer.
pub struct Collected {
    pub dir: TempDir,
    pub written: WrittenBundle,
}

impl Collected {
    pub fn new() -> Collected {
        Collected::with_blog_bytes(6 * 1024)
    }

    /// A bundle whose `.blog` file has `len` random bytes, to make it as large as needed.
    pub fn with_blog_bytes(len: usize) -> Collected {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        fs::create_dir_all(logs.join("nested")).unwrap();
        let text: String = (0..40)
            .map(|i| format!("2025-05-01T10:00:{i:02}Z INFO call 7f3c joined, attempt {i}\n"))
            .collect();
        fs::write(logs.join("app.log"), text).unwrap();
        fs::write(logs.join("nested/acs_1.blog"), random_bytes(len, 7)).unwrap();
        let out = dir.path().join("bundle.zip");
        let written = bundle_of_folder(&out, "app", SourceKind::Text, &logs, "audio dropped");
        assert_eq!(written.manifest.files.len(), 2);
        Collected { dir, written }
    }

    /// The `report` part a client sends for this bundle.
    pub fn request(&self) -> TicketRequest {
        TicketRequest::for_bundle(&self.written)
    }

    pub fn bytes(&self) -> Vec<u8> {
        fs::read(&self.written.path).unwrap()
    }

    pub fn path(&self) -> &Path {
        &self.written.path
    }

    /// A file path beside the bundle, for variants of it.
    pub fn beside(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A bundle of every file under `root`, as one source of `kind`, written by the bundle format's
/// own writer (the server's tests need nothing of the app).
pub fn bundle_of_folder(
    out: &Path,
    source: &str,
    kind: SourceKind,
    root: &Path,
    summary: &str,
) -> WrittenBundle {
    let mut files = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let meta = fs::metadata(&path).unwrap();
            if meta.is_dir() {
                folders.push(path);
                continue;
            }
            let relative = path.strip_prefix(root).unwrap().to_string_lossy();
            files.push(InputFile {
                source_id: source.to_owned(),
                relative: relative.replace('\\', "/"),
                size: meta.len(),
                modified: meta.modified().unwrap(),
                kind,
                encrypted: kind == SourceKind::Encrypted
                    || path.extension().is_some_and(|e| e == "blog"),
                path,
            });
        }
    }
    files.sort_by(|a, b| a.relative.cmp(&b.relative));
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        bundle_id: Uuid::now_v7(),
        created_at: chrono::Utc::now(),
        generator: Generator {
            name: GENERATOR.to_owned(),
            version: VERSION.to_owned(),
        },
        host: HostFacts::current(),
        report: Report::new(summary),
        consent: Consent {
            accepted_at: chrono::Utc::now(),
            statement_sha256: sha256_hex(b"the statement the user agreed to"),
            statement: None,
            statement_version: None,
            language: None,
            sealed_for: Vec::new(),
            redaction: false,
            destination: "file".to_owned(),
        },
        sources: vec![ManifestSource {
            id: source.to_owned(),
            name: source.to_owned(),
            kind,
        }],
        files: Vec::new(),
        skipped: Vec::new(),
    };
    write_bundle(out, manifest, &files, None, |_| true).unwrap()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A fresh id for a report that is not in any bundle.
pub fn other_id() -> Uuid {
    Uuid::now_v7()
}

/// Runs `python3 -c script args...`; it must succeed.
pub fn python(script: &str, args: &[&str]) -> String {
    let mut all = vec!["-c", script];
    all.extend_from_slice(args);
    let output = callsupport_outside_tools::output("python3", &all).expect("python3 runs");
    assert!(
        output.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The answer must be a problem document with this status and code; returns it for more checks.
pub async fn assert_problem(
    response: Response,
    status: StatusCode,
    code: &str,
) -> serde_json::Value {
    assert_eq!(response.status(), status, "{:?}", response.headers());
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16(), "{body}");
    for field in ["type", "title", "detail"] {
        assert!(
            body[field].as_str().is_some_and(|s| !s.is_empty()),
            "`{field}` missing in {body}"
        );
    }
    body
}

/// Starts the server binary on a free loopback port with the submit token and `extra` flags; the
/// process and its base URL.
pub fn spawn_server(data: &Path, extra: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_callsupport-ticket-server"))
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .args(["--token", SUBMIT_TOKEN])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    (server, base)
}

/// Peak resident memory of a process so far, in MiB (Linux: `VmHWM`).
#[cfg(not(windows))]
pub fn peak_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib / 1024.0
}

/// Peak working set of a process so far, in MiB (Windows: `GetProcessMemoryInfo`).
#[cfg(windows)]
pub fn peak_mib(pid: u32) -> f64 {
    use windows_sys::Win32::Foundation::CloseHandle;
    use windows_sys::Win32::System::ProcessStatus::{
        GetProcessMemoryInfo, PROCESS_MEMORY_COUNTERS,
    };
    use windows_sys::Win32::System::Threading::{OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION};
    // SAFETY: the handle is checked, used once with a properly sized structure, and closed.
    unsafe {
        let process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid);
        assert!(!process.is_null(), "cannot open the server's process");
        let mut counters: PROCESS_MEMORY_COUNTERS = std::mem::zeroed();
        counters.cb = std::mem::size_of::<PROCESS_MEMORY_COUNTERS>() as u32;
        let ok = GetProcessMemoryInfo(process, &mut counters, counters.cb);
        CloseHandle(process);
        assert!(ok != 0, "cannot read the server's memory");
        counters.PeakWorkingSetSize as f64 / (1024.0 * 1024.0)
    }
}

/// A request body that sends `first` and then nothing, until the sender is dropped.
pub fn held_open_body(
    first: &[u8],
) -> (
    tokio::sync::mpsc::Sender<std::io::Result<Vec<u8>>>,
    reqwest::Body,
) {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tx.try_send(Ok(first.to_vec())).expect("an empty channel");
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    (tx, reqwest::Body::wrap_stream(stream))
}
