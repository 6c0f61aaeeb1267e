//! Reading call client operations records: `callsupport calls` over one million generated
//! records (a JSON-lines file as Azure Monitor exports it, and the same in a bundle) against
//! `jq` selecting the failures from the same file. Goal: one million records in under 2 s and
//! under 300 MiB.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use crate::measure::{measure, median, mib};

const RECORDS: usize = 1_000_000;
const OPERATIONS_PER_CALL: usize = 500;
const RUNS: usize = 3;

pub fn run(cli: &Path) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("operations.jsonl");
    let (bytes, failures) = write_records(&file);
    println!(
        "call records: {RECORDS} records in {} calls, {failures} failed, {:.1} MiB of JSON lines",
        RECORDS / OPERATIONS_PER_CALL,
        mib(bytes)
    );
    let path = file.to_str().expect("utf-8 path");

    let (mut ours, mut peaks) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let (time, peak) = measure(cli, &["calls", path], dir.path());
        ours.push(time);
        peaks.push(peak);
    }
    let mut theirs: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let jq = which("jq").expect("jq (package jq)");
            measure(
                &jq,
                &[
                    "-c",
                    r#"select(.ResultType != "Succeeded" or (.ResultSignature | tonumber) >= 400)"#,
                    path,
                ],
                dir.path(),
            )
            .0
        })
        .collect();
    let (ours, theirs) = (median(&mut ours), median(&mut theirs));
    peaks.sort_unstable();
    println!(
        "calls over {RECORDS} records: {:.2} s ({:.0} records/s), peak {:.0} MiB (goal under 2 s and 300 MiB); jq selecting the failures: {:.2} s = {:.2}x ours; medians of {RUNS}",
        ours.as_secs_f64(),
        RECORDS as f64 / ours.as_secs_f64(),
        peaks[RUNS / 2] as f64 / 1024.0,
        theirs.as_secs_f64(),
        theirs.as_secs_f64() / ours.as_secs_f64()
    );
}

/// Writes the records; returns their size and how many failed.
fn write_records(path: &Path) -> (u64, usize) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("records file"));
    let start = chrono::DateTime::parse_from_rfc3339("2025-05-01T08:00:00Z")
        .expect("time")
        .to_utc();
    let names = [
        "Join",
        "StartVideo",
        "CreateView",
        "Mute",
        "Unmute",
        "StartScreenSharing",
        "HangUp",
    ];
    let mut failures = 0;
    for i in 0..RECORDS {
        let call = i / OPERATIONS_PER_CALL;
        let at = start
            + chrono::Duration::seconds(call as i64 * 900)
            + chrono::Duration::milliseconds((i % OPERATIONS_PER_CALL) as i64 * 1700);
        // One operation in fifty fails, with a payload saying why.
        let failed = i % 50 == 7;
        failures += usize::from(failed);
        let (result, signature, payload) = if failed {
            (
                "Failed",
                500 + (i % 3) as u16,
                format!(
                    r#""{{\"code\":{},\"subCode\":{}}}""#,
                    500 + i % 3,
                    4000 + i % 97
                ),
            )
        } else {
            ("Succeeded", 200, "null".to_owned())
        };
        writeln!(
            out,
            r#"{{"CallClientTimeStamp":"{}","OperationName":"{}","CallId":"{call:08x}-abde-40be-91e9-3814ee786b19","ParticipantId":"{:08x}-6d4a-451d-a1a5-ce1baefc4d5c","OperationType":"client-api-request","OperationId":"{i:08x}-37e0-4acc-aba3-e48741d88103","DurationMs":"{}","ResultType":"{result}","ResultSignature":"{signature}","SdkVersion":"1.31.1.0","ClientInstanceId":"d08a3d05-db90-415f-88a7-87ae74edc1dd","OperationPayload":{payload}}}"#,
            at.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            names[i % names.len()],
            call * 4 + i % 4,
            (i * 37) % 3000
        )
        .expect("write records");
    }
    out.flush().expect("flush records");
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    (bytes, failures)
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.is_file())
}
