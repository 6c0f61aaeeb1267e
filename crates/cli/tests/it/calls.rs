//! `calls` and `kql`: the calls a bundle's call-operations logs show, with their failures and
//! payloads; malformed lines counted, never fatal; queries only for real call ids.

use std::fs;

use crate::support::{Machine, write};

/// Two calls, one failure with a payload, one line that is not JSON and one of another category.
const RECORDS: &str = r#"{"CallId":"call-ok","CallClientTimeStamp":"2025-05-01T10:00:00Z","OperationName":"Join","OperationType":"client-api-request","ParticipantId":"p1","DurationMs":"1200","ResultType":"Succeeded","ResultSignature":"200"}
{"CallId":"call-ok","CallClientTimeStamp":"2025-05-01T10:05:00Z","OperationName":"HangUp","OperationType":"client-api-request","ParticipantId":"p1","DurationMs":"90","ResultType":"Succeeded","ResultSignature":"200"}
{"properties":{"CallId":"call-bad","CallClientTimeStamp":"2025-05-01T11:00:00Z","OperationName":"Join","OperationType":"client-api-request","OperationId":"op-1","ParticipantId":"p2","DurationMs":"10012","ResultType":"Failed","ResultSignature":"408","OperationPayload":"{\"reason\":\"timeout\"}"},"category":"CallClientOperations"}
{"CallId":"call-bad","CallClientTimeStamp":"2025-05-01T11:00:11Z","OperationName":"Join"
{"category":"CallSummary","properties":{"CorrelationId":"call-bad"}}
{"CallId":"call-bad","CallClientTimeStamp":"2025-05-01T11:00:12Z","OperationName":"Join","OperationType":"client-api-request","ParticipantId":"p3","DurationMs":2310,"ResultType":"Succeeded","ResultSignature":200}
"#;

fn bundle_with_calls(machine: &Machine) -> std::path::PathBuf {
    let ops = machine.home().join(".local/share/ContosoCall/ops");
    write(&ops.join("2025-05-01.jsonl"), RECORDS.as_bytes());
    let config = machine.config("config.toml", "http://127.0.0.1:9/api/v1/tickets");
    let text = fs::read_to_string(&config).unwrap().replace(
        "\n[collection]",
        &format!(
            "\n[[sources]]\nid = \"ops\"\nname = \"Call records\"\nroot = '{}'\ninclude = [\"*.jsonl\"]\nkind = \"call-operations\"\n\n[collection]",
            ops.display()
        ),
    );
    fs::write(&config, text).unwrap();
    machine.collect(&config, "calls.zip")
}

#[test]
fn calls_lists_each_call_with_its_failures_and_counts_what_it_could_not_read() {
    let machine = Machine::new();
    let bundle = bundle_with_calls(&machine);
    let bundle = bundle.to_str().unwrap();

    let found = machine.run(&["calls", bundle, "--json"]).success().json();
    assert_eq!(found["records"], 4);
    assert_eq!(found["other_lines"], 1);
    assert_eq!(found["malformed"], 1);
    assert_eq!(found["problems"][0]["line"], 4);
    assert_eq!(found["problems"][0]["file"], "files/ops/2025-05-01.jsonl");
    let calls = found["calls"].as_array().unwrap();
    let ids: Vec<_> = calls
        .iter()
        .map(|c| c["call_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["call-ok", "call-bad"], "by start time");
    assert_eq!(calls[0]["failures"], 0);
    let bad = &calls[1];
    assert_eq!(bad["failures"], 1);
    assert_eq!(bad["participants"], serde_json::json!(["p2", "p3"]));
    let failed = &bad["operations"][0];
    assert_eq!(failed["failed"], true);
    assert_eq!(failed["result_signature"], 408);
    assert_eq!(failed["failure"]["operation_id"], "op-1");
    assert_eq!(failed["failure"]["payload"], r#"{"reason":"timeout"}"#);

    let text = machine.run(&["calls", bundle]).success();
    let out = text.stdout();
    assert!(
        out.starts_with("2 calls in 1 call-operations file (4 records; 1 line not readable)"),
        "{out}"
    );
    assert!(
        out.contains(
            "call call-bad  2025-05-01 11:00:00 UTC, 14.3 s, 2 participants, 2 operations, 1 failed"
        ),
        "{out}"
    );
    assert!(
        out.contains("FAILED 11:00:00  Join  Failed 408  after 10.0 s"),
        "{out}"
    );
    assert!(out.contains(r#"{"reason":"timeout"}"#), "{out}");
    assert!(
        text.stderr()
            .contains("files/ops/2025-05-01.jsonl line 4: not JSON"),
        "{}",
        text.stderr()
    );
}

#[test]
fn kql_prints_a_query_per_table_and_refuses_what_is_not_an_id() {
    let machine = Machine::new();
    let out = machine.run(&["kql", "call-bad"]).success().stdout();
    assert!(out.starts_with("// ACSCallClientOperations: "), "{out}");
    assert!(
        out.contains("ACSCallClientOperations\n| where CallId == \"call-bad\""),
        "{out}"
    );
    assert!(
        out.contains("ACSCallSummary\n| where CorrelationId == \"call-bad\""),
        "{out}"
    );
    let queries = machine.run(&["kql", "call-bad", "--json"]).success().json();
    assert!(queries.as_array().unwrap().len() >= 7);

    let line = machine
        .run(&["kql", "x\" or true"])
        .failure(1, &["is not a call id"]);
    assert!(
        line.contains("x\\\" or true") || line.contains("x\" or true"),
        "{line}"
    );
}

#[test]
fn calls_reads_an_exported_json_lines_file_too_and_refuses_what_is_neither() {
    let machine = Machine::new();
    let export = machine.path("export.jsonl");
    fs::write(&export, RECORDS).unwrap();
    let found = machine
        .run(&["calls", export.to_str().unwrap(), "--json"])
        .success()
        .json();
    assert_eq!(found["calls"].as_array().unwrap().len(), 2);
    assert_eq!(found["malformed"], 1);

    let fake = machine.path("notes.zip");
    fs::write(&fake, "not a zip\nnor records\n").unwrap();
    machine.run(&["calls", fake.to_str().unwrap()]).failure(
        1,
        &["notes.zip", "neither a bundle nor call records", "line 1"],
    );
    machine
        .run(&["calls", machine.path("missing.zip").to_str().unwrap()])
        .failure(1, &["missing.zip", "cannot read"]);
}
