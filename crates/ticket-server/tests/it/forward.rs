//! Forwarding to Azure DevOps, against the stand-in written from the REST reference
//! ([`crate::ado_standin`]): a ticket becomes one work item with its bundle attached (whole, or in
//! chunks when large) or linked (over the attachment limit); rate limits and refusals are waited
//! out and shown to agents meanwhile, without a second work item; a ticket system that is down loses
//! nothing. The requests each scenario makes are kept in `tests/fixtures/azure-devops/` (set
//! `CALLSUPPORT_UPDATE_FIXTURES=1` to write them again, then read the diff against the reference).

use std::path::PathBuf;
use std::time::Duration;

use axum::http::Method;
use callsupport_ticket_server::{AzureDevOps, ForwardConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::ado_standin::{Fault, PAT, PROJECT, Recorded, StandIn};
use crate::crash::Process;
use crate::support::{AGENT_TOKEN, Collected, Server, Setup, Upload};

/// Forwarding to `organization_url` with these limits, retrying quickly.
fn forwarding(organization_url: String, attach_up_to: u64, chunk: u64) -> ForwardConfig {
    ForwardConfig {
        retry_base: Duration::from_millis(100),
        retry_max: Duration::from_millis(400),
        ..ForwardConfig::new(AzureDevOps {
            organization_url,
            project: PROJECT.into(),
            work_item_type: "Bug".into(),
            area_path: Some(format!("{PROJECT}\\Calling")),
            token: PAT.into(),
            attachment_limit_bytes: attach_up_to,
            chunk_bytes: chunk,
        })
    }
}

async fn server_forwarding(forward: ForwardConfig) -> Server {
    Server::start_with(Setup {
        forward: Some(forward),
        ..Setup::default()
    })
    .await
}

/// A report with words that must not become markup, and a call.
fn report_of(bundle: &Collected) -> Upload {
    let mut request = bundle.request();
    request.report.description = "Sound stopped <b>twice</b> & came back.\nThen it froze.".into();
    request.report.call_ids = vec!["7f3c2a10-0000-4000-8000-000000000001".into()];
    Upload::of(bundle).with_request(&request)
}

async fn ticket(server: &Server, id: &str) -> Value {
    server
        .get(&format!("/api/v1/tickets/{id}"), Some(AGENT_TOKEN))
        .await
        .json()
        .await
        .unwrap()
}

/// The ticket once its forward is done (within 30 s).
async fn forwarded(server: &Server, id: &str) -> Value {
    for _ in 0..300 {
        let ticket = ticket(server, id).await;
        if !ticket["forward"]["done_at"].is_null() {
            return ticket;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not forwarded: {}", ticket(server, id).await);
}

/// The requests as a reader compares them with the reference: addresses, ids, hashes, times and
/// sizes that change from run to run replaced by what they are.
fn as_fixture(recorded: &[Recorded], standin: &StandIn, server: &Server) -> String {
    let requests: Vec<Value> = recorded
        .iter()
        .map(|r| {
            let query: Vec<String> = r.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let mut request = json!({
                "request": format!("{} {}?{}", r.method, r.path, query.join("&")),
                "content-type": r.headers.get("content-type"),
                "authorization": r.headers.get("authorization").map(|a| {
                    if a.ends_with(&base64_of_token()) { "Basic base64(\":\" + personal access token)".to_owned() } else { a.clone() }
                }),
                "status": r.status,
            });
            if let Some(range) = r.headers.get("content-range") {
                // The total varies with the bundle; the pieces' places do not, but the last one's end.
                let (range, total) = range.split_once('/').unwrap();
                let (first, last) = range.split_once('-').unwrap();
                let last = if last.parse::<u64>().unwrap() + 1 == total.parse::<u64>().unwrap() {
                    "<total - 1>"
                } else {
                    last
                };
                request["content-range"] = json!(format!("{first}-{last}/<total>"));
            }
            request["body"] = match serde_json::from_slice::<Value>(&r.body) {
                Ok(value) => value,
                Err(_) if r.body.is_empty() => Value::Null,
                Err(_) => json!(format!("binary: {} bytes of the bundle", r.body.len())),
            };
            request
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&requests)
        .unwrap()
        .replace(&format!("http://{}", standin.addr), "https://dev.azure.com")
        .replace(
            &format!("http://{}", server.running.addr()),
            "https://support.example.com",
        );
    for (pattern, what) in [
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "<uuid>",
        ),
        (r"[0-9a-f]{64}", "<sha256>"),
        (r"\d{4}-\d{2}-\d{2}T[0-9:.]+(Z|[+-]\d{2}:\d{2})", "<time>"),
        (r"\d+ bytes", "<n> bytes"),
        (
            r"App: [^<]*</li>",
            "App: <app version>; system: <os version></li>",
        ),
    ] {
        text = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&text, what)
            .into_owned();
    }
    text + "\n"
}

fn base64_of_token() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!(":{PAT}"))
}

/// Compares with the kept fixture, or writes it with `CALLSUPPORT_UPDATE_FIXTURES=1`.
fn check_fixture(name: &str, text: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/azure-devops")
        .join(format!("{name}.json"));
    if std::env::var_os("CALLSUPPORT_UPDATE_FIXTURES").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        return;
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        kept == text,
        "the requests to Azure DevOps changed from {}; if that is meant, run with CALLSUPPORT_UPDATE_FIXTURES=1 and check the diff against the REST reference.\n{text}",
        path.display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_becomes_one_work_item_with_its_bundle_attached() {
    let standin = StandIn::start().await;
    let server = server_forwarding(forwarding(standin.organization_url(), 10 << 20, 1 << 20)).await;
    let bundle = Collected::new();
    assert_eq!(
        server.post(&report_of(&bundle)).await.status(),
        StatusCode::CREATED
    );

    let ticket = forwarded(&server, "CS-000001").await;
    let forward = &ticket["forward"];
    assert_eq!(forward["work_item_id"], 1);
    assert_eq!(forward["attempts"], 1);
    assert!(forward["last_error"].is_null());
    assert!(
        forward["work_item_url"]
            .as_str()
            .unwrap()
            .ends_with("/_workitems/edit/1"),
        "the link a person opens: {forward}"
    );
    {
        let inner = standin.inner();
        let item = &inner.work_items[&1];
        assert_eq!(item.fields["System.Title"], "[CS-000001] audio dropped");
        assert_eq!(
            item.fields["System.AreaPath"],
            format!("{PROJECT}\\Calling")
        );
        assert_eq!(item.fields["System.Tags"], "Call Support; CS-000001");
        let steps = item.fields["Microsoft.VSTS.TCM.ReproSteps"]
            .as_str()
            .unwrap();
        assert!(
            steps.contains(
                "Sound stopped &lt;b&gt;twice&lt;/b&gt; &amp; came back.<br>Then it froze."
            ),
            "{steps}"
        );
        assert!(
            steps.contains("Calls: 7f3c2a10-0000-4000-8000-000000000001"),
            "{steps}"
        );
        assert!(steps.contains("/api/v1/tickets/CS-000001"), "{steps}");
        assert_eq!(item.relations.len(), 1);
        assert_eq!(item.relations[0]["rel"], "AttachedFile");
        let attachment = inner.attachments.values().next().unwrap();
        assert_eq!(attachment.file_name, "CS-000001.zip");
        assert_eq!(attachment.bytes, bundle.bytes(), "attached byte for byte");
        assert_eq!(forward["attachment_url"], item.relations[0]["url"]);
        check_fixture("attached", &as_fixture(&inner.recorded, &standin, &server));
    }

    let open: Value = server
        .get("/api/v1/forwards", Some(AGENT_TOKEN))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(open["forwards"], json!([]), "nothing waits");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_bundle_goes_up_in_chunks_and_one_over_the_limit_is_linked() {
    let standin = StandIn::start().await;
    let server = server_forwarding(forwarding(standin.organization_url(), 1 << 20, 64 << 10)).await;
    let large = Collected::with_blog_bytes(300 << 10);
    assert_eq!(
        server.post(&Upload::of(&large)).await.status(),
        StatusCode::CREATED
    );
    forwarded(&server, "CS-000001").await;
    {
        let inner = standin.inner();
        let attachment = inner.attachments.values().next().unwrap();
        assert_eq!(
            attachment.bytes,
            large.bytes(),
            "the chunks make the bundle"
        );
        let puts = inner.recorded.iter().filter(|r| r.method == "PUT").count();
        assert_eq!(puts as u64, large.bytes().len().div_ceil(64 << 10) as u64);
        check_fixture("chunked", &as_fixture(&inner.recorded, &standin, &server));
    }

    // Over the limit: a link to the bundle on this server, no attachment.
    let standin = StandIn::start().await;
    let server =
        server_forwarding(forwarding(standin.organization_url(), 100 << 10, 64 << 10)).await;
    assert_eq!(
        server.post(&Upload::of(&large)).await.status(),
        StatusCode::CREATED
    );
    forwarded(&server, "CS-000001").await;
    let inner = standin.inner();
    assert!(inner.attachments.is_empty());
    let relation = &inner.work_items[&1].relations[0];
    assert_eq!(relation["rel"], "Hyperlink");
    assert_eq!(
        relation["url"],
        server.url("/api/v1/tickets/CS-000001/bundle").as_str()
    );
    check_fixture("linked", &as_fixture(&inner.recorded, &standin, &server));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_refusals_are_waited_out_and_shown_to_agents() {
    let standin = StandIn::start().await;
    // The work item is made, the attachment too; then adding it is rate limited, then refused.
    standin.fail_next(
        Method::PATCH,
        "/workitems/",
        Fault::RateLimited { seconds: 1 },
    );
    standin.fail_next(
        Method::PATCH,
        "/workitems/",
        Fault::Refuse {
            status: 400,
            type_key: "WorkItemTrackingRuleValidationException",
            message: "TF401320: Rule Error for field Area Path.",
        },
    );
    let server = server_forwarding(forwarding(standin.organization_url(), 10 << 20, 1 << 20)).await;
    assert_eq!(
        server.post(&Upload::of(&Collected::new())).await.status(),
        StatusCode::CREATED
    );

    // While it waits, agents see why.
    let mut seen = Vec::new();
    for _ in 0..300 {
        let open: Value = server
            .get("/api/v1/forwards", Some(AGENT_TOKEN))
            .await
            .json()
            .await
            .unwrap();
        if let Some(error) = open["forwards"][0]["last_error"].as_str()
            && seen.last().is_none_or(|last: &String| last != error)
        {
            seen.push(error.to_owned());
        }
        if !ticket(&server, "CS-000001").await["forward"]["done_at"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        seen.first()
            .is_some_and(|e| e.contains("429 RequestBlockedException")),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|e| e.contains("400 WorkItemTrackingRuleValidationException: TF401320")),
        "{seen:?}"
    );
    let ticket = forwarded(&server, "CS-000001").await;
    assert_eq!(ticket["forward"]["attempts"], 3);

    let inner = standin.inner();
    assert_eq!(inner.work_items.len(), 1, "no second work item");
    assert_eq!(inner.attachments.len(), 1, "no second upload");
    let patches: Vec<&Recorded> = inner
        .recorded
        .iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    assert_eq!(patches.len(), 3);
    let waited = patches[1].at - patches[0].at;
    assert!(
        waited >= Duration::from_secs(1),
        "Retry-After: 1 was kept ({waited:?})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_system_that_is_down_loses_nothing() {
    // Where Azure DevOps will be: nothing listens there yet.
    let spot = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = spot.local_addr().unwrap();
    drop(spot);
    let server = server_forwarding(forwarding(
        format!("http://{addr}/contoso"),
        10 << 20,
        1 << 20,
    ))
    .await;
    let bundle = Collected::new();
    assert_eq!(
        server.post(&Upload::of(&bundle)).await.status(),
        StatusCode::CREATED,
        "the user's report is taken whatever the ticket system does"
    );
    let mut waiting = Value::Null;
    for _ in 0..100 {
        waiting = ticket(&server, "CS-000001").await["forward"].clone();
        if waiting["last_error"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        waiting["last_error"]
            .as_str()
            .is_some_and(|e| e.starts_with("cannot reach Azure DevOps")),
        "{waiting}"
    );
    assert!(waiting["done_at"].is_null());

    // It comes back: the queue delivers.
    let standin = StandIn::start_on(tokio::net::TcpListener::bind(addr).await.unwrap());
    let ticket = forwarded(&server, "CS-000001").await;
    assert!(ticket["forward"]["attempts"].as_u64().unwrap() >= 2);
    assert_eq!(standin.inner().work_items.len(), 1);
    assert_eq!(
        standin.inner().attachments.values().next().unwrap().bytes,
        bundle.bytes()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forward_that_panics_is_that_rows_failure_and_the_others_go_on() {
    // Before, a panic in one row (an overflowing Retry-After was one) ended the forwarding task,
    // and no ticket was forwarded until a restart.
    let standin = StandIn::start().await;
    let data = tempfile::tempdir().unwrap();
    let organization = standin.organization_url();
    let server = Process::start_with(
        data.path(),
        Some("forward:panic"),
        &[
            "--ado-organization",
            &organization,
            "--ado-project",
            PROJECT,
        ],
        &[("CALLSUPPORT_ADO_TOKEN", PAT)],
    );
    let agent_get = |path: String| {
        let request = server
            .client
            .get(server.url(&path))
            .bearer_auth(AGENT_TOKEN);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let first = server.ticket_with(&Collected::new()).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);

    // Its row says what happened, and when it is tried again.
    let mut waiting = Value::Null;
    for _ in 0..300 {
        let forwards = agent_get("/api/v1/forwards".into()).await;
        waiting = forwards["forwards"][0].clone();
        if !waiting["last_error"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(waiting["ticket_id"], "CS-000001", "{waiting}");
    assert!(
        waiting["last_error"].as_str().unwrap().contains("panic"),
        "{waiting}"
    );
    assert_eq!(waiting["attempts"], 1);

    // The next ticket is forwarded as ever.
    let second = server.ticket_with(&Collected::new()).send().await.unwrap();
    assert_eq!(second.status(), StatusCode::CREATED);
    let mut forward = Value::Null;
    for _ in 0..300 {
        forward = agent_get("/api/v1/tickets/CS-000002".into()).await["forward"].clone();
        if !forward["done_at"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(forward["work_item_id"], 1, "{forward}");
    assert_eq!(standin.inner().work_items.len(), 1);
    server.stop();
}

/// Logs support asked for with a link, added after the ticket went to Azure DevOps, go on the
/// same work item: attached beside the first bundle, or linked when over the limit; no second
/// work item, and each only once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_added_later_go_on_the_same_work_item() {
    let standin = StandIn::start().await;
    let server =
        server_forwarding(forwarding(standin.organization_url(), 200 << 10, 64 << 10)).await;
    let first = Collected::new();
    assert_eq!(
        server.post(&report_of(&first)).await.status(),
        StatusCode::CREATED
    );
    forwarded(&server, "CS-000001").await;
    let link = server.make_link("CS-000001", json!({"uses": 2})).await["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let small = Collected::new();
    let large = Collected::with_blog_bytes(300 << 10);
    for added in [&small, &large] {
        let mut request = added.request();
        request.report.summary = "The logs you asked for".into();
        request.report.ticket_id = Some("CS-000001".into());
        request.report.link = Some(link.clone());
        let response = server.post(&Upload::of(added).with_request(&request)).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let mut relations = Vec::new();
    for _ in 0..300 {
        relations = standin.inner().work_items[&1].relations.clone();
        if relations.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        relations.len(),
        3,
        "{relations:?}\n{}",
        ticket(&server, "CS-000001").await["forward"]
    );
    let ticket = forwarded(&server, "CS-000001").await;
    assert_eq!(ticket["forward"]["work_item_id"], 1);
    let inner = standin.inner();
    assert_eq!(inner.work_items.len(), 1, "no second work item");
    let small_id = small.written.manifest.bundle_id.to_string();
    let large_id = large.written.manifest.bundle_id.to_string();
    let attached = inner
        .attachments
        .values()
        .find(|a| a.file_name == format!("CS-000001-added-{small_id}.zip"))
        .expect("the small added bundle is attached");
    assert_eq!(attached.bytes, small.bytes(), "attached byte for byte");
    assert_eq!(relations[1]["rel"], "AttachedFile");
    assert!(
        relations[1]["attributes"]["comment"]
            .as_str()
            .unwrap()
            .contains("The logs you asked for"),
        "{}",
        relations[1]
    );
    assert_eq!(relations[2]["rel"], "Hyperlink");
    assert_eq!(
        relations[2]["url"],
        server
            .url(&format!("/api/v1/tickets/CS-000001/attachments/{large_id}"))
            .as_str()
    );
    assert_eq!(inner.attachments.len(), 2, "each bundle uploaded once");
}
