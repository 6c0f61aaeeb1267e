//! Realistic sample calling logs, for `cargo xtask run`, the end-to-end suite and benchmarks.
//!
//! Depends on nothing of ours, so `xtask` can write a demo without building the app's crates.
//!
//! # Brief overview
//!
//! [`write_demo_logs`] lays out what a machine running an ACS calling app holds: vendor-encrypted
//! SDK and media-stack logs (`acs_*.blog`, `*.etl`: opaque bytes, as in release builds), call client
//! operations records (one JSON object a line, the schema of Azure Monitor's
//! `ACSCallClientOperations` table, with a failed join and a dropped call among the successes) and the app's own text log (with the kind of personal details
//! redaction must catch). [`demo_config`] is a configuration that watches it.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, Duration, SecondsFormat, Utc};

/// Writes the sample logs under `root`, dated relative to `now`. Returns the number of files.
pub fn write_demo_logs(root: &Path, now: DateTime<Utc>) -> std::io::Result<usize> {
    let acs = root.join("AppData/Local/Packages/Contoso.Calling_8wekyb3d8bbwe/LocalState/logs");
    let ops = root.join("call-operations");
    let app = root.join("app");
    for dir in [&acs, &ops, &app] {
        std::fs::create_dir_all(dir)?;
    }
    let mut rng = Lcg(0x5eed_cafe);
    let mut count = 0;
    for (name, kib) in [
        ("acs_sdk_0.blog", 384),
        ("acs_sdk_1.blog", 128),
        ("media_stack_0.blog", 256),
        ("MediaStackETW-0.etl", 96),
    ] {
        let mut bytes = vec![0u8; kib * 1024];
        rng.fill(&mut bytes);
        std::fs::write(acs.join(name), bytes)?;
        count += 1;
    }
    std::fs::write(
        ops.join(format!("operations-{}.jsonl", now.format("%Y-%m-%d"))),
        call_operations(now, &mut rng),
    )?;
    count += 1;
    std::fs::write(app.join("calling-app.log"), app_log(now))?;
    count += 1;
    Ok(count)
}

/// Deterministic bytes that do not compress: stands in for an encrypted SDK log of any size.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A readable call log of about `lines` * 90 bytes.
pub fn text_log(tag: &str, lines: usize) -> String {
    (0..lines)
        .map(|i| {
            format!(
                "2025-05-01T10:{:02}:{:02}.{:03}Z INFO [{tag}] call 7f3c-{i:04} operation Join result Succeeded in {} ms\n",
                (i / 60) % 60,
                i % 60,
                i % 1000,
                i * 7 % 500
            )
        })
        .collect()
}

/// A configuration watching the demo logs under `root` and posting to `tickets_url`.
pub fn demo_config(root: &Path, tickets_url: &str, token_env: &str) -> String {
    let root = root.display().to_string().replace('\\', "/");
    format!(
        r#"# Demo configuration written by Call Support for sample logs under {root}.
[ticket_api]
url = "{tickets_url}"
token_env = "{token_env}"
organisation = "Contoso IT Support"

[[sources]]
id = "acs"
name = "Calling SDK logs"
root = "{root}/AppData/Local/Packages"
include = ["**/acs*.blog", "**/media_stack*.blog", "**/*.etl"]
kind = "encrypted"

[[sources]]
id = "call-operations"
name = "Call records"
root = "{root}/call-operations"
include = ["*.jsonl"]
kind = "call-operations"

[[sources]]
id = "app"
name = "Calling app log"
root = "{root}/app"
include = ["*.log"]
kind = "text"

[collection]
max_age_days = 7
max_bundle_mb = 200
"#
    )
}

/// One operation record: name, type, duration (ms), result, HTTP-like signature.
type Operation = (&'static str, &'static str, u32, &'static str, u16);

/// Three calls: one fine, one whose join failed twice before it worked, one that dropped.
fn call_operations(now: DateTime<Utc>, rng: &mut Lcg) -> String {
    let client = rng.uuid();
    let sdk = "1.31.1.0";
    let agent = "azure-communication-services/1.3.2 azsdk-js-communication-calling/1.31.1 (javascript_calling_sdk). Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    let calls: [(i64, &[Operation]); 3] = [
        (
            -180,
            &[
                ("Join", "client-api-request", 1840, "Succeeded", 200),
                ("StartVideo", "client-api-request", 612, "Succeeded", 200),
                ("CreateView", "client-api-request", 577, "Succeeded", 200),
                ("Mute", "client-api-request", 41, "Succeeded", 200),
                ("Unmute", "client-api-request", 38, "Succeeded", 200),
                ("HangUp", "client-api-request", 220, "Succeeded", 200),
            ],
        ),
        (
            -95,
            &[
                ("Join", "client-api-request", 10012, "Failed", 408),
                ("Join", "client-api-request", 9870, "Failed", 500),
                ("Join", "client-api-request", 2310, "Succeeded", 200),
                (
                    "StartScreenSharing",
                    "client-api-request",
                    1502,
                    "Failed",
                    403,
                ),
                ("HangUp", "client-api-request", 180, "Succeeded", 200),
            ],
        ),
        (
            -25,
            &[
                ("Join", "client-api-request", 1710, "Succeeded", 200),
                ("StartVideo", "client-api-request", 640, "Succeeded", 200),
                ("CreateView", "client-api-request", 802, "Failed", 500),
                ("CallEnded", "client-event", 0, "Failed", 490),
            ],
        ),
    ];
    let mut out = String::new();
    for (minutes, operations) in calls {
        let call_id = rng.uuid();
        let participant = rng.uuid();
        let endpoint = rng.uuid();
        let mut at = now + Duration::minutes(minutes);
        for &(name, kind, duration, result, signature) in operations {
            let payload = match name {
                "CreateView" => r#"{"StreamType":"Video","StreamId":"2.0","Source":"remote","RemoteParticipantId":"remote"}"#.to_owned(),
                "CallEnded" => r#"{"CallEndReason":{"code":490,"subCode":4521},"Direction":"Outgoing"}"#.to_owned(),
                _ => "{}".to_owned(),
            };
            let record = serde_json::json!({
                "CallClientTimeStamp": at.to_rfc3339_opts(SecondsFormat::Millis, true),
                "OperationName": name,
                "CallId": call_id,
                "ParticipantId": participant,
                "OperationType": kind,
                "OperationId": rng.uuid(),
                "DurationMs": duration.to_string(),
                "ResultType": result,
                "ResultSignature": signature.to_string(),
                "SdkVersion": sdk,
                "UserAgent": agent,
                "ClientInstanceId": client,
                "EndpointId": endpoint,
                "OperationPayload": payload,
            });
            writeln!(out, "{record}").expect("write to string");
            at += Duration::milliseconds(i64::from(duration) + 3_000);
        }
    }
    out
}

fn app_log(now: DateTime<Utc>) -> String {
    let lines = [
        (
            "INFO",
            "Contoso Calling 4.2.0 starting on WIN-7F3K2LQ (user jane.doe@contoso.com)",
        ),
        (
            "INFO",
            "Signed in as jane.doe@contoso.com, tenant 9b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d",
        ),
        (
            "INFO",
            "Network: Wi-Fi, local address 192.168.1.23, gateway 192.168.1.1",
        ),
        (
            "WARN",
            "Join attempt 1 timed out after 10012 ms (ResultSignature 408)",
        ),
        (
            "ERROR",
            "Join attempt 2 failed: 500 from https://api.contoso.example/calls?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqYW5lIn0.c2lnbmF0dXJl",
        ),
        ("INFO", "Join attempt 3 succeeded in 2310 ms"),
        ("WARN", "Screen sharing refused: 403 (policy)"),
        ("ERROR", "Call ended unexpectedly: code 490 subCode 4521"),
        ("INFO", "Support contact: +1 425 555 0100"),
    ];
    let mut out = String::new();
    for (i, (level, text)) in lines.iter().enumerate() {
        let at = now - Duration::minutes(120) + Duration::minutes(i as i64 * 12);
        writeln!(
            out,
            "{} [{level:<5}] {text}",
            at.to_rfc3339_opts(SecondsFormat::Millis, true)
        )
        .expect("write to string");
    }
    out
}

/// A small deterministic generator: demo data is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0
    }

    fn fill(&mut self, bytes: &mut [u8]) {
        for chunk in bytes.chunks_mut(8) {
            let value = self.next().to_le_bytes();
            chunk.copy_from_slice(&value[..chunk.len()]);
        }
    }

    fn uuid(&mut self) -> String {
        let mut bytes = [0u8; 16];
        self.fill(&mut bytes);
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }
}
