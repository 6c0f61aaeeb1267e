//! Delivery through a network that fails on purpose: a fault-injecting HTTP proxy between the
//! outbox and the real ticket server refuses connections, resets them half-way through the body,
//! stalls, answers 503 and 429 with `Retry-After`, and takes the server's 201 then drops the
//! connection before the client reads it. Over 200 reports, every one must end on the server
//! exactly once, byte for byte, with nothing left in the outbox.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use callsupport_desk::collect::Plan;
use callsupport_desk::consent::{Destination, Statement};
use callsupport_desk::outbox::Outbox;
use callsupport_desk::report::Report;
use callsupport_desk::upload::Uploader;
use callsupport_desk::upload::retry::RetryPolicy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{
    LogTree, Server, TOKEN_ENV, agent_get, config_toml, load_config, names_in, sha256_of, tokens,
};

/// What the proxy does with one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Forwards the request and the answer.
    Pass,
    /// Closes the connection as soon as it is accepted.
    Refuse,
    /// Forwards part of the body to nobody, then resets the connection.
    ResetMidBody,
    /// Reads the request and never answers (the client's read timeout must fire).
    Stall,
    /// Answers `503` with `Retry-After` in seconds.
    Busy503,
    /// Answers `429` with `Retry-After` as an HTTP date.
    Busy429,
    /// Forwards the request, lets the server store it and answer, then drops the connection
    /// before the client reads the answer.
    AckThenDrop,
}

/// A request-level HTTP/1.1 proxy: one exchange per connection, faults taken from a script.
struct Proxy {
    port: u16,
    script: Arc<Mutex<VecDeque<Fault>>>,
    /// When each request was seen, for the Retry-After check.
    seen: Arc<Mutex<Vec<Instant>>>,
}

impl Proxy {
    /// A proxy in front of `server`; its 503 and 429 ask for `retry_after_secs`.
    async fn start(server: &Server, retry_after_secs: u64) -> Proxy {
        tokens();
        let upstream = server.running.addr().to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let script = Arc::new(Mutex::new(VecDeque::new()));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (script2, seen2) = (script.clone(), seen.clone());
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let fault = script2.lock().unwrap().pop_front().unwrap_or(Fault::Pass);
                let (upstream, seen) = (upstream.clone(), seen2.clone());
                tokio::spawn(async move {
                    let _ = exchange(client, fault, &upstream, retry_after_secs, &seen).await;
                });
            }
        });
        Proxy { port, script, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/api/v1/tickets", self.port)
    }

    fn then(&self, faults: &[Fault]) {
        self.script.lock().unwrap().extend(faults);
    }
}

async fn exchange(
    mut client: TcpStream,
    fault: Fault,
    upstream: &str,
    retry_after_secs: u64,
    seen: &Mutex<Vec<Instant>>,
) -> std::io::Result<()> {
    if fault == Fault::Refuse {
        return Ok(());
    }
    let (head, body_len, mut body) = read_head(&mut client).await?;
    let body_len = body_len.expect("the client announces the body's length");
    seen.lock().unwrap().push(Instant::now());
    if fault == Fault::ResetMidBody {
        let cut = body_len * 3 / 10;
        while body.len() < cut {
            let mut buf = vec![0u8; 64 * 1024];
            let n = client.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&buf[..n]);
        }
        client.set_zero_linger()?;
        return Ok(());
    }
    while body.len() < body_len {
        let mut buf = vec![0u8; 256 * 1024];
        let n = client.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        body.extend_from_slice(&buf[..n]);
    }
    let answer = match fault {
        Fault::Stall => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            return Ok(());
        }
        Fault::Busy503 => format!(
            "HTTP/1.1 503 Service Unavailable\r\nretry-after: {retry_after_secs}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )
        .into_bytes(),
        Fault::Busy429 => {
            let at = std::time::SystemTime::now() + Duration::from_secs(retry_after_secs);
            format!(
                "HTTP/1.1 429 Too Many Requests\r\nretry-after: {}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                httpdate::fmt_http_date(at)
            )
            .into_bytes()
        }
        _ => {
            let mut server = TcpStream::connect(upstream).await?;
            server.write_all(&head).await?;
            server.write_all(&body).await?;
            let answer = read_response(&mut server).await?;
            if fault == Fault::AckThenDrop {
                client.set_zero_linger()?;
                return Ok(());
            }
            answer
        }
    };
    client.write_all(&answer).await?;
    client.shutdown().await
}

/// Reads a message head; returns it (marked `connection: close`, so no connection is reused),
/// the body length it announces and the body bytes that came with it.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<(Vec<u8>, Option<usize>, Vec<u8>)> {
    let mut data = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let end = loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..end]).into_owned();
    let length = header(&head, "content-length").and_then(|v| v.parse().ok());
    let mut rewritten: String = head
        .lines()
        .filter(|l| !l.is_empty() && !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    rewritten.push_str("connection: close\r\n\r\n");
    Ok((rewritten.into_bytes(), length, data[end..].to_vec()))
}

/// Reads a whole response: its head and its `content-length` body.
async fn read_response(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let (mut out, length, mut body) = read_head(stream).await?;
    let length = length.unwrap_or(0);
    while body.len() < length {
        let mut buf = vec![0u8; 16 * 1024];
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    out.extend_from_slice(&body);
    Ok(out)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then_some(value.trim())
    })
}

/// Every fault once, some twice in a row, and the plain path: one cycle of the 200 runs.
const CYCLE: &[&[Fault]] = &[
    &[Fault::Pass],
    &[Fault::Refuse],
    &[Fault::ResetMidBody],
    &[Fault::Busy503],
    &[Fault::Busy429],
    &[Fault::AckThenDrop],
    &[Fault::Refuse, Fault::ResetMidBody],
    &[Fault::AckThenDrop, Fault::Busy503],
    &[Fault::ResetMidBody, Fault::AckThenDrop],
    &[Fault::Busy429, Fault::Refuse, Fault::AckThenDrop],
];

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        attempts: 8,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        max_retry_after: Duration::from_secs(10),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_reports_through_a_failing_network_each_arrive_exactly_once() {
    let server = Server::start(64 << 20).await;
    let proxy = Proxy::start(&server, 0).await;
    let tree = LogTree::new();
    let data = tempfile::tempdir().unwrap();
    let text = config_toml(&proxy.url(), Some(TOKEN_ENV), &tree.sources_toml(), 200)
        .replace("[ticket_api]\n", "[ticket_api]\nread_timeout_secs = 1\n");
    let config = load_config(tree.dir.path(), &text);
    let outbox = Outbox::open(data.path()).unwrap();
    let uploader = Uploader::new(&config.ticket_api).unwrap();
    let (plan, _) = Plan::from_config(&config).unwrap();
    let destination = Destination::TicketApi {
        organisation: None,
        host: config.ticket_api.destination_host(),
    };

    let mut queued_sha256 = BTreeMap::new();
    for run in 0..200 {
        let statement = Statement::new(&plan, &destination, true);
        let entry = outbox
            .queue(
                &plan,
                Report::new(format!("run {run}")),
                statement.agreed(&destination, true),
                destination.label(),
                |_| true,
            )
            .unwrap();
        queued_sha256.insert(entry.id.to_string(), sha256_of(&entry.bundle_path()));
        // Every tenth run also stalls once (each stall costs the client's read timeout).
        if run % 10 == 9 {
            proxy.then(&[Fault::Stall]);
        }
        proxy.then(CYCLE[run % CYCLE.len()]);
        let delivered = outbox
            .deliver(&entry, &uploader, &fast_retries(), |_| true)
            .await
            .unwrap_or_else(|err| panic!("run {run}: {err}"));
        assert_eq!(delivered.bundle_id, entry.id.to_string());
    }

    assert!(
        names_in(outbox.root()).is_empty(),
        "{:?}",
        names_in(outbox.root())
    );
    let tickets = agent_get(&server.url()).await;
    let tickets = tickets["tickets"].as_array().unwrap().clone();
    assert_eq!(tickets.len(), 200, "one ticket a report, no duplicates");
    let mut seen = std::collections::BTreeSet::new();
    for ticket in &tickets {
        let id = ticket["ticket_id"].as_str().unwrap();
        let bundle_id = ticket["bundle_id"].as_str().unwrap().to_owned();
        assert!(seen.insert(bundle_id.clone()), "{bundle_id} twice");
        assert_eq!(
            sha256_of(&server.stored_bundle(id)),
            queued_sha256[&bundle_id],
            "{id} is byte-identical to what was queued"
        );
    }
    assert_eq!(outbox.history().unwrap().len(), 200);
    assert_eq!(server.folder("bundles").len(), 200);
    // Each cycle of ten runs reads 12 requests that fail (a refusal reads none) and 10 that
    // succeed: the faults really happened, and each was survived by a retry.
    let requests = proxy.seen.lock().unwrap().len();
    assert_eq!(requests, 20 * 22, "requests seen by the proxy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured() {
    let server = Server::start(64 << 20).await;
    let proxy = Proxy::start(&server, 2).await;
    let tree = LogTree::new();
    let data = tempfile::tempdir().unwrap();
    let config = load_config(
        tree.dir.path(),
        &config_toml(&proxy.url(), Some(TOKEN_ENV), &tree.sources_toml(), 200),
    );
    let outbox = Outbox::open(data.path()).unwrap();
    let (plan, _) = Plan::from_config(&config).unwrap();
    let uploader = Uploader::new(&config.ticket_api).unwrap();
    let entry = outbox
        .queue(
            &plan,
            Report::new("busy"),
            Statement::new(&plan, &Destination::File, true).agreed(&Destination::File, true),
            uploader.destination().to_owned(),
            |_| true,
        )
        .unwrap();
    proxy.then(&[Fault::Busy503]);

    outbox
        .deliver(&entry, &uploader, &fast_retries(), |_| true)
        .await
        .unwrap();

    let seen = proxy.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "one refusal, one success");
    let waited = seen[1] - seen[0];
    assert!(
        waited >= Duration::from_millis(1_900),
        "the server asked for 2 s, the client waited {waited:?}"
    );
}
