//! Redaction speed alone: one core, release build, on about 100 MB of generated log text.
//!
//! The corpus mixes what readable support files hold: call-operations JSON records (UUIDs,
//! RFC 3339 times, versions, user agents, durations, status codes: nothing to redact), the app's
//! text log (timestamps, call ids, durations, and on about one line in eight an e-mail, an IPv4
//! or IPv6 address, a phone number, a bearer token, a JWT, a SAS URL, a connection string or a
//! home path). It is made in memory first, so only redaction is timed: `redact_stream` from a
//! slice into a sink, the median of [`RUNS`] runs, beside the time to copy the same lines through
//! the same buffered writer untouched.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use callsupport_desk::redact::{Counts, RedactionContext, Redactor};

/// Size of the generated corpus.
pub const CORPUS_BYTES: usize = 100 * 1000 * 1000;
/// Timed runs; the median is reported.
pub const RUNS: usize = 5;

/// Prints the corpus size, the median time and MB/s of redaction, and a plain copy for scale;
/// then the same for a worst case where every line holds several values to replace.
pub fn run() {
    let corpus = corpus(CORPUS_BYTES);
    let (redact, counts) = time_redaction(&corpus);
    let copy = time_copy(&corpus);
    let mb = corpus.len() as f64 / 1e6;
    println!(
        "redaction: {mb:.0} MB of generated logs ({} lines), {} replacements {:?}",
        corpus.iter().filter(|&&byte| byte == b'\n').count(),
        counts.total,
        counts.by_kind
    );
    println!(
        "redaction: median {:.3} s = {:.0} MB/s on one core (copying the lines alone: {:.0} MB/s)",
        redact.as_secs_f64(),
        mb / redact.as_secs_f64(),
        mb / copy.as_secs_f64()
    );

    let dense = dense_corpus(CORPUS_BYTES / 4);
    let (redact, counts) = time_redaction(&dense);
    let mb = dense.len() as f64 / 1e6;
    println!(
        "redaction, worst case (every line full of values): {mb:.0} MB, {} replacements, {:.0} MB/s",
        counts.total,
        mb / redact.as_secs_f64()
    );
}

fn context() -> RedactionContext {
    RedactionContext {
        user_name: Some("jdoe".into()),
        host_name: Some("WIN-7F3K2LQ".into()),
    }
}

/// Median time of `redact_stream` over `corpus` into a sink (a new redactor each run), and the
/// counts of the last run.
fn time_redaction(corpus: &[u8]) -> (Duration, Counts) {
    let mut times = Vec::new();
    let mut counts = Counts::default();
    for _ in 0..RUNS {
        let redactor = Redactor::new(context());
        let started = Instant::now();
        counts = redactor
            .redact_stream(corpus, io::sink())
            .expect("redact into a sink");
        times.push(started.elapsed());
    }
    (median(&mut times), counts)
}

/// The floor: the same lines through the same buffered writer, untouched.
fn time_copy(corpus: &[u8]) -> Duration {
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let mut writer = io::BufWriter::with_capacity(64 * 1024, io::sink());
        for line in corpus.split_inclusive(|&byte| byte == b'\n') {
            writer
                .write_all(std::hint::black_box(line))
                .expect("write into a sink");
        }
        writer.flush().expect("flush into a sink");
        times.push(started.elapsed());
    }
    median(&mut times)
}

/// Lines that each hold an e-mail, two addresses, a phone number and a secret, from a pool of
/// 100,000 distinct values (so the token table grows as in a big bundle).
fn dense_corpus(size: usize) -> Vec<u8> {
    let mut rng = Lcg(0x5eed);
    let mut out = Vec::with_capacity(size + 1024);
    while out.len() < size {
        let n = rng.below(100_000);
        let line = format!(
            "2024-01-09T10:00:00.000Z user{n}@contoso.com from 10.{}.{}.{} via 2001:db8::{n:x} tel:+1 425 555 {:04} sig={n:08x}abcdef\n",
            n % 200,
            n % 100,
            n % 250 + 1,
            n % 10_000
        );
        out.extend_from_slice(line.as_bytes());
    }
    out
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// About `size` bytes of realistic log lines, the same on every run.
pub fn corpus(size: usize) -> Vec<u8> {
    let mut rng = Lcg(0x0ddc_0ffe_e15b_ad5e);
    let mut out = Vec::with_capacity(size + 1024);
    let mut second = 0u64;
    while out.len() < size {
        second += 1 + rng.below(3);
        let time = format!(
            "2024-01-09T{:02}:{:02}:{:02}.{:03}Z",
            (second / 3600) % 24,
            (second / 60) % 60,
            second % 60,
            rng.below(1000)
        );
        let call = rng.uuid();
        let line = match rng.below(16) {
            0..=6 => operation_record(&mut rng, &time, &call),
            7..=13 => plain_line(&mut rng, &time, &call),
            _ => personal_line(&mut rng, &time, &call),
        };
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out
}

fn operation_record(rng: &mut Lcg, time: &str, call: &str) -> String {
    let (name, result, code) = [
        ("Join", "Succeeded", 200),
        ("CreateView", "Succeeded", 200),
        ("StartVideo", "Failed", 500),
        ("Mute", "Succeeded", 200),
        ("Join", "Failed", 408),
    ][rng.below(5) as usize];
    format!(
        r#"{{"CallClientTimeStamp":"{time}","OperationName":"{name}","CallId":"{call}","ParticipantId":"{}","OperationType":"client-api-request","OperationId":"{}","DurationMs":"{}","ResultType":"{result}","ResultSignature":"{code}","SdkVersion":"1.31.1.0","UserAgent":"azure-communication-services/1.3.2 azsdk-js-communication-calling/1.31.1 (javascript_calling_sdk). Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36","ClientInstanceId":"{}","OperationPayload":"{{\"StreamType\":\"Video\",\"StreamId\":\"2.0\"}}"}}"#,
        rng.uuid(),
        rng.uuid(),
        rng.below(12_000),
        rng.uuid(),
    )
}

fn plain_line(rng: &mut Lcg, time: &str, call: &str) -> String {
    let ms = rng.below(20_000);
    match rng.below(6) {
        0 => format!("{time} [INFO ] CallAgent::join call {call} state Connected after {ms} ms"),
        1 => format!(
            "{time} [WARN ] media: jitter {}.{} ms, packet loss {}%, rtt {ms} ms, codec opus/48000/2",
            rng.below(80),
            rng.below(10),
            rng.below(5)
        ),
        2 => format!(
            "{time} [DEBUG] http: GET /calling/v1/calls/{call}/participants -> 200 in {ms} ms"
        ),
        3 => format!(
            "{time} [INFO ] SDK version 1.31.1.0 (build 1.31.1.0_beta), duration 00:{:02}:{:02}.{:03}",
            rng.below(60),
            rng.below(60),
            rng.below(1000)
        ),
        4 => format!(
            "{time} [ERROR] call {call} ended: code 490 subCode 4521, endpoint {}",
            rng.uuid()
        ),
        _ => format!(
            "{time} [INFO ] telemetry flushed {} events, queue 0, retry-after 120 s",
            rng.below(500)
        ),
    }
}

fn personal_line(rng: &mut Lcg, time: &str, call: &str) -> String {
    let n = rng.below(40);
    match rng.below(9) {
        0 => format!("{time} [INFO ] signed in as user{n}@contoso.com for call {call}"),
        1 => format!(
            "{time} [INFO ] network: local 192.168.{}.{} gateway 192.168.{}.1 relay 20.202.0.{}:3478",
            n % 5,
            n + 2,
            n % 5,
            n + 1
        ),
        2 => format!(
            "{time} [DEBUG] ice: candidate 2001:db8:{n:x}::{:x} typ host",
            n + 7
        ),
        3 => format!("{time} [INFO ] dialing tel:+1 425 555 01{n:02} for call {call}"),
        4 => format!("{time} [DEBUG] http: Authorization: Bearer 9f8e7d6c5b4a3f2e1d0c{n:04}"),
        5 => format!(
            "{time} [ERROR] 500 from https://api.contoso.example/calls?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2Vy{n:02}In0.c2lnbmF0dXJl"
        ),
        6 => format!(
            "{time} [DEBUG] upload https://contoso.blob.core.windows.net/logs/{call}.log?sv=2022-11-02&se=2024-01-10T00:00:00Z&sp=rw&sig=AbCdEf0123456789{n:02}%2BxyZ%3D"
        ),
        7 => format!(
            "{time} [DEBUG] client: endpoint=https://contoso.communication.azure.com/;accesskey=bXlTZWNyZXRLZXkx{n:02}MjM0NTY3ODkw+/Q=="
        ),
        _ => format!(
            r"{time} [INFO ] logs in C:\Users\jdoe\AppData\Local\Packages\Contoso\LocalState on WIN-7F3K2LQ"
        ),
    }
}

/// A small deterministic generator.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 16
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a & 0xffff_ffff,
            (a >> 32) & 0xffff,
            b & 0xfff,
            0x8000 | ((b >> 12) & 0x3fff),
            self.next() & 0xffff_ffff_ffff
        )
    }
}
