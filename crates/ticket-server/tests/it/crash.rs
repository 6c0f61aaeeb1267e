//! A report whose storing is cut short loses nothing: the server process killed, or its database or
//! blob store failing, before each step of a commit (written down as pending, the blob put, the
//! record and its forward, the upload let go); after a restart the report sent again is one ticket
//! with its whole bundle, and nothing is left over. The faults are the server's own
//! (`CALLSUPPORT_SERVER_FAULT`, debug builds); the recovery of pending commits is also driven
//! directly against the store and the blob store, with time moved on.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

use callsupport_bundle::ticket::TicketReceipt;
use callsupport_ticket_server::blobs::{BlobStore, Folder};
use callsupport_ticket_server::faults::FAULT_ENV;
use callsupport_ticket_server::recover::{GRACE, Recovered, finish_pending};
use callsupport_ticket_server::store::sqlite::Sqlite;
use callsupport_ticket_server::store::{Commit, NewBundle, Tickets};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use tempfile::TempDir;

use crate::support::{AGENT_TOKEN, Collected, SUBMIT_TOKEN, sha256_hex};

/// The server binary on a data folder, with a fault set or none.
pub struct Process {
    child: Child,
    base: String,
    out: BufReader<ChildStdout>,
    pub client: reqwest::Client,
}

impl Process {
    fn start(data: &Path, fault: Option<&str>) -> Process {
        Process::start_with(data, fault, &[], &[])
    }

    /// The server with the tokens, a fault or none, and the flags and environment given.
    pub fn start_with(
        data: &Path,
        fault: Option<&str>,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Process {
        let mut command = Command::new(env!("CARGO_BIN_EXE_callsupport-ticket-server"));
        command
            .args(["--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .args(["--token", SUBMIT_TOKEN, "--agent-token", AGENT_TOKEN])
            .args(args)
            .env_remove(FAULT_ENV)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(fault) = fault {
            command.env(FAULT_ENV, fault);
        }
        let mut child = command.spawn().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the server said {line:?}"))
            .to_owned();
        Process {
            child,
            base,
            out,
            client: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Waits for the server to stop before `step`, then kills it there (SIGKILL, or
    /// TerminateProcess): nothing of it runs after that point.
    async fn kill_when_held_before(mut self, step: &str) {
        let expected = format!("held before {step}");
        let mut out = self.out;
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            out.read_line(&mut line).unwrap();
            line
        })
        .await
        .unwrap();
        assert_eq!(line.trim(), expected);
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn tus(&self, method: Method, url: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, url)
            .bearer_auth(SUBMIT_TOKEN)
            .header("Tus-Resumable", "1.0.0")
    }

    /// A finished resumable upload of `bundle`; its path (the port changes with a restart).
    async fn upload(&self, bundle: &Collected) -> String {
        let bytes = bundle.bytes();
        let created = self
            .tus(Method::POST, &self.url("/api/v1/uploads"))
            .header("Upload-Length", bytes.len().to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), StatusCode::CREATED);
        let url = created.headers()["location"].to_str().unwrap().to_owned();
        let path = url.strip_prefix(&self.base).unwrap().to_owned();
        let sent = self
            .tus(Method::PATCH, &url)
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Offset", "0")
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), StatusCode::NO_CONTENT);
        path
    }

    /// The upload's offset, or the status that says it is not there.
    async fn offset(&self, upload: &str) -> Result<u64, StatusCode> {
        let head = self
            .tus(Method::HEAD, &self.url(upload))
            .send()
            .await
            .unwrap();
        if head.status() != StatusCode::OK {
            return Err(head.status());
        }
        Ok(head.headers()["upload-offset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap())
    }

    /// The ticket request naming a finished upload, as the app sends it.
    fn ticket_from(&self, bundle: &Collected, upload: &str) -> reqwest::RequestBuilder {
        let request = bundle.request();
        self.client
            .post(self.url("/api/v1/tickets"))
            .bearer_auth(SUBMIT_TOKEN)
            .header("Idempotency-Key", request.bundle_id.to_string())
            .json(&serde_json::json!({ "report": request, "upload": upload }))
    }

    /// The ticket request with the bundle in it, as the app sends a small one.
    pub fn ticket_with(&self, bundle: &Collected) -> reqwest::RequestBuilder {
        self.ticket_with_request(bundle, &bundle.request())
    }

    /// [`Process::ticket_with`], with the report given.
    pub fn ticket_with_request(
        &self,
        bundle: &Collected,
        request: &callsupport_bundle::ticket::TicketRequest,
    ) -> reqwest::RequestBuilder {
        let form = Form::new()
            .part(
                "report",
                Part::bytes(serde_json::to_vec(&request).unwrap())
                    .mime_str("application/json")
                    .unwrap(),
            )
            .part(
                "bundle",
                Part::bytes(bundle.bytes())
                    .file_name("bundle.zip")
                    .mime_str("application/zip")
                    .unwrap(),
            );
        self.client
            .post(self.url("/api/v1/tickets"))
            .bearer_auth(SUBMIT_TOKEN)
            .header("Idempotency-Key", request.bundle_id.to_string())
            .multipart(form)
    }

    /// Every ticket's id, and that each one's bundle is the one sent, byte for byte.
    async fn tickets_holding(&self, bundle: &Collected) -> Vec<String> {
        let list: serde_json::Value = self
            .client
            .get(self.url("/api/v1/tickets"))
            .bearer_auth(AGENT_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut ids = Vec::new();
        for ticket in list["tickets"].as_array().unwrap() {
            let id = ticket["ticket_id"].as_str().unwrap().to_owned();
            let served = self
                .client
                .get(self.url(&format!("/api/v1/tickets/{id}/bundle")))
                .bearer_auth(AGENT_TOKEN)
                .send()
                .await
                .unwrap();
            assert_eq!(served.status(), StatusCode::OK, "{id}");
            let served = served.bytes().await.unwrap();
            assert_eq!(sha256_hex(&served), sha256_hex(&bundle.bytes()), "{id}");
            ids.push(id);
        }
        ids
    }
}

/// Every file under the data folder's `bundles/`.
fn stored_files(data: &Path) -> Vec<String> {
    fn walk(dir: &Path, into: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.file_type().unwrap().is_dir() {
                walk(&entry.path(), into);
            } else {
                into.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
    }
    let mut files = Vec::new();
    walk(&data.join("bundles"), &mut files);
    files.sort();
    files
}

/// What the report sent again after the cut is answered with, step by step: before the record,
/// a new ticket (the first number is spent); once the blob is whole, the ticket recovered at
/// start.
fn answer_after_restart(step: &str) -> (StatusCode, &'static str) {
    match step {
        "pend" | "put" => (StatusCode::CREATED, "CS-000002"),
        _ => (StatusCode::OK, "CS-000001"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_between_any_two_steps_of_a_resumable_report_loses_nothing() {
    for step in ["pend", "put", "record", "finish"] {
        let data = TempDir::new().unwrap();
        let bundle = Collected::new();
        let server = Process::start(data.path(), Some(&format!("{step}:hold")));
        let upload = server.upload(&bundle).await;
        let cut = tokio::spawn(server.ticket_from(&bundle, &upload).send());
        server.kill_when_held_before(step).await;
        assert!(cut.await.unwrap().is_err(), "{step}: no answer came");

        let server = Process::start(data.path(), None);
        let length = bundle.bytes().len() as u64;
        assert_eq!(
            server.offset(&upload).await,
            Ok(length),
            "{step}: the upload is whole"
        );
        let again = server.ticket_from(&bundle, &upload).send().await.unwrap();
        let (status, ticket) = answer_after_restart(step);
        assert_eq!(again.status(), status, "{step}");
        assert_eq!(
            again.json::<TicketReceipt>().await.unwrap().ticket_id,
            ticket
        );
        assert_eq!(
            server.tickets_holding(&bundle).await,
            [ticket],
            "{step}: one ticket"
        );
        assert_eq!(
            server.offset(&upload).await,
            Err(StatusCode::NOT_FOUND),
            "{step}: the upload is let go once it is a ticket"
        );
        assert_eq!(
            stored_files(data.path()),
            [format!("{ticket}.zip")],
            "{step}: no bundle left over"
        );
        server.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_before_the_record_of_a_one_request_report_recovers_it() {
    let data = TempDir::new().unwrap();
    let bundle = Collected::new();
    let server = Process::start(data.path(), Some("record:hold"));
    let cut = tokio::spawn(server.ticket_with(&bundle).send());
    server.kill_when_held_before("record").await;
    assert!(cut.await.unwrap().is_err());

    let server = Process::start(data.path(), None);
    let again = server.ticket_with(&bundle).send().await.unwrap();
    assert_eq!(
        again.status(),
        StatusCode::OK,
        "the bundle recovered at start"
    );
    assert_eq!(
        again.json::<TicketReceipt>().await.unwrap().ticket_id,
        "CS-000001"
    );
    assert_eq!(server.tickets_holding(&bundle).await, ["CS-000001"]);
    // (What was arriving stays in incoming/ for an hour, as another instance's might: store.rs.)
    assert_eq!(stored_files(data.path()), ["CS-000001.zip"]);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_database_or_blob_store_loses_nothing_and_leaves_nothing() {
    for step in ["pend", "put", "record"] {
        let data = TempDir::new().unwrap();
        let bundle = Collected::new();
        let server = Process::start(data.path(), Some(&format!("{step}:fail")));
        let upload = server.upload(&bundle).await;
        let failed = server.ticket_from(&bundle, &upload).send().await.unwrap();
        assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR, "{step}");
        let problem: serde_json::Value = failed.json().await.unwrap();
        assert_eq!(problem["code"], "internal", "{step}");
        let length = bundle.bytes().len() as u64;
        assert_eq!(
            server.offset(&upload).await,
            Ok(length),
            "{step}: the upload is whole"
        );

        // The client tries again (the fault fires once): a ticket, under the next number.
        let again = server.ticket_from(&bundle, &upload).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::CREATED, "{step}");
        assert_eq!(
            again.json::<TicketReceipt>().await.unwrap().ticket_id,
            "CS-000002"
        );
        server.stop();

        // What the failure left (a blob no record has) is gone after a restart.
        let server = Process::start(data.path(), None);
        assert_eq!(server.tickets_holding(&bundle).await, ["CS-000002"]);
        assert_eq!(
            stored_files(data.path()),
            ["CS-000002.zip"],
            "{step}: no bundle left over"
        );
        server.stop();
    }
}

/// A commit of a new bundle as the store's next ticket, written down as pending now, with a blob
/// store of its own.
pub struct Pended {
    _dir: TempDir,
    store: Box<dyn Tickets>,
    blobs: Folder,
    commit: Commit,
    bundle: Collected,
}

async fn pended(forward: bool) -> Pended {
    let dir = TempDir::new().unwrap();
    let store = Box::new(Sqlite::open(&dir.path().join("records")).unwrap());
    pended_in(store, dir, forward).await
}

pub async fn pended_in(store: Box<dyn Tickets>, dir: TempDir, forward: bool) -> Pended {
    let blobs = Folder::new(dir.path().join("blobs"));
    let bundle = Collected::new();
    let bytes = bundle.bytes();
    let row = NewBundle::new(&bundle.request(), &sha256_hex(&bytes), bytes.len() as u64).unwrap();
    let number = store.next_ticket_number().await.unwrap();
    let commit = Commit::ticket(number, row, forward);
    store
        .pend(&commit, &chrono::Utc::now().to_rfc3339())
        .await
        .unwrap();
    Pended {
        _dir: dir,
        store,
        blobs,
        commit,
        bundle,
    }
}

#[tokio::test]
async fn a_pending_commit_whose_blob_is_whole_is_recorded_with_its_forward() {
    whole_blob_is_recorded_with_its_forward(pended(true).await).await;
}

/// Recovery adopts `p` (pended with its forward): recorded, queued, the pending row gone.
pub async fn whole_blob_is_recorded_with_its_forward(p: Pended) {
    let ticket_id = p.commit.ticket_id.clone();
    p.blobs
        .put_file(&p.commit.blob_key, p.bundle.path())
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let recovered = finish_pending(&*p.store, &p.blobs, None, now)
        .await
        .unwrap();
    assert_eq!(
        recovered,
        Recovered {
            adopted: 1,
            undone: 0
        }
    );
    let ticket = p.store.get(&ticket_id).await.unwrap().unwrap();
    assert_eq!(ticket.bundle_id, p.commit.row.bundle_id);
    assert!(
        p.store.forward(&ticket_id).await.unwrap().is_some(),
        "queued for forwarding with its record"
    );
    assert!(p.store.pending(10).await.unwrap().is_empty());
    // Settled once: the next round has nothing to do.
    let again = finish_pending(&*p.store, &p.blobs, None, now)
        .await
        .unwrap();
    assert_eq!(again, Recovered::default());
}

#[tokio::test]
async fn a_pending_commit_without_a_whole_blob_waits_then_goes_with_what_there_is() {
    for partial in [None, Some(100usize)] {
        let p = pended(false).await;
        if let Some(len) = partial {
            let part = p.bundle.beside("part.zip");
            std::fs::write(&part, &p.bundle.bytes()[..len]).unwrap();
            p.blobs.put_file(&p.commit.blob_key, &part).await.unwrap();
        }
        let now = chrono::Utc::now();
        let soon = finish_pending(&*p.store, &p.blobs, None, now)
            .await
            .unwrap();
        assert_eq!(
            soon,
            Recovered::default(),
            "another instance may still be putting it"
        );
        assert_eq!(p.store.pending(10).await.unwrap().len(), 1);

        let later = now + GRACE + chrono::TimeDelta::minutes(1);
        let late = finish_pending(&*p.store, &p.blobs, None, later)
            .await
            .unwrap();
        assert_eq!(
            late,
            Recovered {
                adopted: 0,
                undone: 1
            }
        );
        assert!(p.store.pending(10).await.unwrap().is_empty());
        assert_eq!(p.blobs.size(&p.commit.blob_key).await.unwrap(), None);
        assert!(
            p.store.get("CS-000001").await.unwrap().is_none(),
            "never recorded"
        );
    }
}

#[tokio::test]
async fn a_pending_commit_whose_bundle_another_ticket_has_goes_with_its_blob() {
    let p = pended(false).await;
    p.blobs
        .put_file(&p.commit.blob_key, p.bundle.path())
        .await
        .unwrap();
    // The same bundle recorded meanwhile under the next number, as a client's second try does.
    let number = p.store.next_ticket_number().await.unwrap();
    let other = Commit::ticket(number, p.commit.row.clone(), false);
    p.store.pend(&other, "2026-01-01T00:00:00Z").await.unwrap();
    p.blobs
        .put_file(&other.blob_key, p.bundle.path())
        .await
        .unwrap();
    let (stored, created) = p
        .store
        .record(&other, "2026-01-01T00:00:00Z")
        .await
        .unwrap();
    assert!(created);
    assert_eq!(stored.ticket_id, "CS-000002");

    let recovered = finish_pending(&*p.store, &p.blobs, None, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(
        recovered,
        Recovered {
            adopted: 0,
            undone: 1
        }
    );
    assert_eq!(p.blobs.size(&p.commit.blob_key).await.unwrap(), None);
    assert!(p.blobs.size(&other.blob_key).await.unwrap().is_some());
    assert!(p.store.pending(10).await.unwrap().is_empty());
    assert!(p.store.get("CS-000001").await.unwrap().is_none());
}

/// A report through a link from support whose first try failed after the link's use was taken
/// keeps that use: sent again, it is stored, even on a link for one report; another report
/// through the link is refused.
#[tokio::test]
async fn a_report_through_a_link_that_failed_once_keeps_its_use() {
    let data = tempfile::tempdir().unwrap();
    let server = Process::start(data.path(), None);
    let first = Collected::new();
    let created = server.ticket_with(&first).send().await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    server.stop();

    let server = Process::start(data.path(), Some("put:fail"));
    let made: serde_json::Value = server
        .client
        .post(server.url("/api/v1/tickets/CS-000001/links"))
        .bearer_auth(AGENT_TOKEN)
        .json(&serde_json::json!({ "uses": 1 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let through_link = |bundle: &Collected| {
        let mut request = bundle.request();
        request.report.ticket_id = Some("CS-000001".into());
        request.report.link = made["url"].as_str().map(str::to_owned);
        server.ticket_with_request(bundle, &request)
    };
    let added = Collected::new();
    let failed = through_link(&added).send().await.unwrap();
    assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let again = through_link(&added).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED, "the use taken is kept");
    let other = through_link(&Collected::new()).send().await.unwrap();
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: serde_json::Value = other.json().await.unwrap();
    assert_eq!(problem["code"], "link_used_up");
    server.stop();
}
