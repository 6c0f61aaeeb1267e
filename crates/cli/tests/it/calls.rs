//! The support agent's commands: `calls` and `kql` (the calls a bundle's call-operations logs
//! show, with their failures and payloads; malformed lines counted, never fatal; queries only for
//! real call ids), `vendor-export`, and `fetch` from the real ticket server.

use std::fs;

use crate::support::{
    AGENT_TOKEN, Machine, SUBMIT_TOKEN, TOKEN_ENV, TicketServer, sha256sum, write,
};

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
fn an_azure_monitor_export_merges_into_the_bundles_calls_by_call_id() {
    let machine = Machine::new();
    let bundle = bundle_with_calls(&machine);
    // What Log Analytics exported: the bundle's failed Join again, and the server-side view of a
    // later failure the user's machine did not log.
    let export = machine.path("export.jsonl");
    let again = RECORDS.lines().nth(2).unwrap();
    fs::write(
        &export,
        format!(
            "{again}\n{}\n",
            r#"{"CallId":"call-bad","CallClientTimeStamp":"2025-05-01T11:01:00Z","OperationName":"StartScreenSharing","OperationType":"client-api-request","OperationId":"op-9","ParticipantId":"p3","DurationMs":"1502","ResultType":"Failed","ResultSignature":"403"}"#
        ),
    )
    .unwrap();
    let found = machine
        .run(&[
            "calls",
            bundle.to_str().unwrap(),
            export.to_str().unwrap(),
            "--json",
        ])
        .success()
        .json();
    assert_eq!(found["duplicates"], 1, "the Join in both counts once");
    assert_eq!(found["records"], 5);
    let bad = &found["calls"][1];
    assert_eq!(bad["call_id"], "call-bad");
    assert_eq!(bad["failures"], 2);
    let last = bad["operations"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["name"], "StartScreenSharing");
    assert_eq!(
        found["files"][last["file"].as_u64().unwrap() as usize],
        callsupport_desk::bundle::display_path(&export)
    );
    let text = machine
        .run(&["calls", bundle.to_str().unwrap(), export.to_str().unwrap()])
        .success()
        .stdout();
    assert!(text.starts_with("2 calls in 2 call-operations files (5 records; 1 seen twice, counted once; 1 line not readable)"), "{text}");
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

#[test]
fn vendor_export_holds_only_the_encrypted_logs_byte_for_byte_and_little_else() {
    let machine = Machine::new();
    let bundle = bundle_with_calls(&machine);
    let out = machine.out("for-vendor.zip");
    let run = machine
        .run(&[
            "vendor-export",
            bundle.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .success();
    assert!(
        run.stdout().contains("2 encrypted files"),
        "{}",
        run.stdout()
    );
    crate::support::tool("unzip", &["-t", out.to_str().unwrap()]);

    // Python lists and hashes the vendor zip; every file matches the original bundle's manifest.
    let script = r#"
import hashlib, json, sys, zipfile
original = json.loads(zipfile.ZipFile(sys.argv[1]).read("manifest.json"))
hashes = {f["path"]: f["sha256"] for f in original["files"]}
with zipfile.ZipFile(sys.argv[2]) as z:
    manifest = json.loads(z.read("vendor-manifest.json"))
    names = sorted(n for n in z.namelist() if n != "vendor-manifest.json")
    for f in manifest["files"]:
        assert hashlib.sha256(z.read(f["path"])).hexdigest() == f["sha256"] == hashes[f["path"]], f["path"]
print(json.dumps({"names": names, "manifest": manifest}))
"#;
    let output = callsupport_outside_tools::output(
        "python3",
        &[
            "-c",
            script,
            bundle.to_str().unwrap(),
            out.to_str().unwrap(),
        ],
    )
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        seen["names"],
        serde_json::json!(["files/acs/acs_1.blog", "files/acs/media/acs_2.blog"])
    );
    let manifest = &seen["manifest"];
    assert_eq!(manifest["format"], "callsupport/vendor@1");
    let text = manifest.to_string();
    assert!(
        !text.contains("audio dropped"),
        "the user's words stay out: {text}"
    );
    assert!(manifest.get("host").is_none() && manifest["system"].get("locale").is_none());

    // It never overwrites, and a bundle with nothing encrypted has nothing for the vendor.
    let again = machine.run(&[
        "vendor-export",
        bundle.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    again.failure(1, &["for-vendor.zip", "already exists"]);
    let readable_only = machine.config("readable.toml", "http://127.0.0.1:9/api/v1/tickets");
    let text = fs::read_to_string(&readable_only).unwrap();
    let cut = text.find("[[sources]]\nid = \"acs\"").unwrap();
    let end = text[cut..]
        .find("\n\n[collection]")
        .map(|i| cut + i)
        .unwrap();
    fs::write(&readable_only, format!("{}{}", &text[..cut], &text[end..])).unwrap();
    let plain = machine.collect(&readable_only, "plain.zip");
    let nothing = machine.out("nothing.zip");
    machine
        .run(&[
            "vendor-export",
            plain.to_str().unwrap(),
            "--out",
            nothing.to_str().unwrap(),
        ])
        .failure(1, &["no encrypted SDK"]);
    assert!(!nothing.exists());
    assert_eq!(
        fs::read_dir(machine.out(""))
            .unwrap()
            .filter(|e| e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".partial"))
            .count(),
        0,
        "nothing half-written is left"
    );
}

#[test]
fn fetch_downloads_a_tickets_bundle_with_the_agent_token_and_checks_it() {
    let server = TicketServer::start();
    let mut machine = Machine::new();
    machine.env.push((TOKEN_ENV.into(), SUBMIT_TOKEN.into()));
    let config = machine.config("config.toml", &server.url());
    let bundle = machine.collect(&config, "sent.zip");
    let config = config.to_str().unwrap();
    let sent = machine
        .run(&["submit", bundle.to_str().unwrap(), "--config", config])
        .success()
        .stdout();
    let ticket = sent.trim().to_owned();

    // Without a token, with a wrong one: refused in words, nothing written.
    let got = machine.out("got.zip");
    let got_str = got.to_str().unwrap();
    machine
        .run(&["fetch", &ticket, "--out", got_str, "--config", config])
        .failure(3, &["CALLSUPPORT_AGENT_TOKEN"]);
    machine
        .env
        .push(("CALLSUPPORT_AGENT_TOKEN".into(), "wrong".into()));
    machine
        .run(&["fetch", &ticket, "--out", got_str, "--config", config])
        .failure(5, &["refused the agent token"]);
    assert!(!got.exists());

    machine
        .env
        .push(("CALLSUPPORT_AGENT_TOKEN".into(), AGENT_TOKEN.into()));
    let fetched = machine
        .run(&[
            "fetch", &ticket, "--out", got_str, "--config", config, "--json",
        ])
        .success()
        .json();
    assert_eq!(fetched["ticket_id"], ticket.as_str());
    assert_eq!(sha256sum(&got), sha256sum(&server.stored_bundle(&ticket)));
    assert_eq!(fetched["sha256"], sha256sum(&got).as_str());

    machine
        .run(&["fetch", &ticket, "--out", got_str, "--config", config])
        .failure(1, &["already exists"]);
    machine
        .run(&[
            "fetch",
            "CS-999999",
            "--out",
            machine.out("none.zip").to_str().unwrap(),
            "--config",
            config,
        ])
        .failure(1, &["no ticket CS-999999"]);
    machine
        .run(&[
            "fetch",
            "../CS-1",
            "--out",
            machine.out("none.zip").to_str().unwrap(),
            "--config",
            config,
        ])
        .failure(1, &["is not a ticket id"]);
    assert!(!machine.out("none.zip").exists());
}

/// Support asks for more logs: the agent makes a link with `link create`, the user's
/// `report --link` adds logs to the ticket through it, and `fetch` lists them and gets them with
/// `--added`. An edited link is refused before anything is collected.
#[test]
fn link_create_report_link_and_fetch_added_carry_more_logs_to_a_ticket() {
    let server = TicketServer::start();
    let mut machine = Machine::new();
    machine.env.push((TOKEN_ENV.into(), SUBMIT_TOKEN.into()));
    let config = machine.config("config.toml", &server.url());
    let config = config.to_str().unwrap();
    let sent = machine
        .run(&[
            "report",
            "--summary",
            "no sound",
            "--yes",
            "--config",
            config,
        ])
        .success()
        .stdout();
    let ticket = sent
        .split_whitespace()
        .find(|w| w.starts_with("CS-"))
        .unwrap()
        .trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-')
        .to_owned();

    // Without the agent token no link is made; with it, bad limits are refused by name.
    machine
        .run(&["link", "create", &ticket, "--config", config])
        .failure(3, &["CALLSUPPORT_AGENT_TOKEN"]);
    machine
        .env
        .push(("CALLSUPPORT_AGENT_TOKEN".into(), AGENT_TOKEN.into()));
    let refused = machine.run(&[
        "link", "create", &ticket, "--hours", "0", "--config", config,
    ]);
    assert_eq!(refused.code(), Some(2));
    assert!(refused.stderr().contains("--hours"), "{}", refused.stderr());
    machine
        .run(&["link", "create", "CS-999999", "--config", config])
        .failure(1, &["no ticket CS-999999"]);
    let made = machine
        .run(&[
            "link", "create", &ticket, "--hours", "2", "--uses", "1", "--config", config,
        ])
        .success();
    let url = made.stdout().trim().to_owned();
    assert!(
        url.starts_with(&format!("callsupport://report?ticket={ticket}&")),
        "{url}"
    );
    assert!(made.stderr().contains("1 report"), "{}", made.stderr());

    // Edited, the link is refused, and nothing is sent.
    let edited = url.replace(&format!("ticket={ticket}"), "ticket=CS-000777");
    machine
        .run(&[
            "report",
            "--summary",
            "more",
            "--yes",
            "--link",
            &edited,
            "--config",
            config,
        ])
        .failure(1, &["signature does not match"]);

    let added = machine
        .run(&[
            "report",
            "--summary",
            "the logs you asked for",
            "--yes",
            "--link",
            &url,
            "--config",
            config,
        ])
        .success();
    assert!(added.stdout().contains(&ticket), "{}", added.stdout());
    assert!(
        added
            .stderr()
            .contains(&format!("added to ticket {ticket}")),
        "{}",
        added.stderr()
    );

    let got = machine.out("ticket.zip");
    let listed = machine
        .run(&[
            "fetch",
            &ticket,
            "--out",
            got.to_str().unwrap(),
            "--config",
            config,
        ])
        .success()
        .stdout();
    assert!(listed.contains("1 bundle was added"), "{listed}");
    assert!(listed.contains("the logs you asked for"), "{listed}");
    let bundle_id = listed
        .lines()
        .find(|l| l.contains("the logs you asked for"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let more = machine.out("added.zip");
    let fetched = machine
        .run(&[
            "fetch",
            &ticket,
            "--added",
            &bundle_id,
            "--out",
            more.to_str().unwrap(),
            "--config",
            config,
            "--json",
        ])
        .success()
        .json();
    assert_eq!(fetched["bundle_id"], bundle_id.as_str());
    assert_eq!(fetched["sha256"], sha256sum(&more).as_str());
    let stored = server
        .stored_bundle(&ticket)
        .with_extension("")
        .join(format!("{bundle_id}.zip"));
    assert_eq!(sha256sum(&more), sha256sum(&stored));
    machine
        .run(&[
            "fetch",
            &ticket,
            "--added",
            "01-not-there",
            "--out",
            machine.out("none.zip").to_str().unwrap(),
            "--config",
            config,
        ])
        .failure(1, &["no added bundle"]);

    // Its one use is taken.
    machine
        .run(&[
            "report",
            "--summary",
            "again",
            "--yes",
            "--link",
            &url,
            "--config",
            config,
        ])
        .failure(5, &["used 1 times"]);
}
