//! Bad input: every failure exits non-zero (3 configuration, 4 network, 5 refused by the server,
//! 1 otherwise) and prints exactly one line on stderr, `error: ...`, that names the problem.

use std::fs;

use crate::support::{
    Machine, SUBMIT_TOKEN, TOKEN_ENV, TicketServer, dead_url, names_in, random_bytes, write,
};

const URL: &str = "https://support.example.com/api/v1/tickets";

#[test]
fn no_config_at_all_points_at_the_flag() {
    let machine = Machine::new();
    let out = machine.out("B.zip");

    let run = machine.run(&[
        "collect",
        "--yes",
        "--out",
        out.to_str().unwrap(),
        "--summary",
        "x",
    ]);

    run.failure(3, &["--config", "CALLSUPPORT_CONFIG"]);
    assert!(!out.exists());
}

#[test]
fn a_config_file_that_does_not_exist_is_named() {
    let machine = Machine::new();
    let missing = machine.path("nowhere/callsupport.toml");

    let run = machine.run(&["sources", "--config", missing.to_str().unwrap()]);

    run.failure(3, &[missing.to_str().unwrap(), "not found"]);
}

#[test]
fn an_unknown_key_names_file_line_and_key() {
    let machine = Machine::new();
    let config = machine.config("callsupport.toml", URL);
    let text = fs::read_to_string(&config)
        .unwrap()
        .replace("redact = true", "redact = true\ncolour = \"blue\"");
    fs::write(&config, &text).unwrap();
    let line = text.lines().position(|l| l.starts_with("colour")).unwrap() + 1;

    let run = machine.run(&[
        "collect",
        "--yes",
        "--config",
        config.to_str().unwrap(),
        "--out",
        machine.out("B.zip").to_str().unwrap(),
        "--summary",
        "x",
    ]);

    run.failure(3, &[&format!("{}:{line}", config.display()), "colour"]);
}

#[test]
fn an_unreachable_server_exits_4() {
    let mut machine = Machine::new();
    machine.env.push((TOKEN_ENV.into(), SUBMIT_TOKEN.into()));
    let url = dead_url();
    let config = machine.config("callsupport.toml", &url);
    machine.no_retries(&config);
    let bundle = machine.collect(&config, "B.zip");

    let run = machine.run(&[
        "submit",
        bundle.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);

    let host = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    run.failure(4, &["cannot reach", &host]);
    assert!(run.stdout().is_empty(), "no ticket id: {}", run.stdout());
}

#[test]
fn a_wrong_token_exits_5() {
    // The server refuses the token before the upload is over, so its answer races with the upload;
    // a 1 MiB bundle and fifty tries make sure the refusal is reported every time, not only when
    // it wins the race.
    let server = TicketServer::start();
    let mut machine = Machine::new();
    write(
        &machine.acs_logs().join("acs_big.blog"),
        &random_bytes(1 << 20, 9),
    );
    machine.env.push((TOKEN_ENV.into(), "not-the-token".into()));
    let config = machine.config("callsupport.toml", &server.url());
    let bundle = machine.collect(&config, "B.zip");

    let runs: Vec<_> = (0..50)
        .map(|_| {
            machine.run(&[
                "submit",
                bundle.to_str().unwrap(),
                "--config",
                config.to_str().unwrap(),
            ])
        })
        .collect();

    let mut outcomes = std::collections::BTreeMap::<_, usize>::new();
    for run in &runs {
        *outcomes.entry((run.code(), run.stderr())).or_default() += 1;
    }
    assert_eq!(
        outcomes.len(),
        1,
        "50 runs, differing outcomes: {outcomes:#?}"
    );
    runs[0].failure(5, &["token", &server.host()]);
    assert!(
        runs[0].stdout().is_empty(),
        "no ticket id: {}",
        runs[0].stdout()
    );
    assert!(!server.stored_bundle("CS-000001").exists());
}

#[test]
fn an_unset_token_variable_is_named() {
    let server = TicketServer::start();
    let machine = Machine::new();
    let config = machine.config("callsupport.toml", &server.url());
    let bundle = machine.collect(&config, "B.zip");

    let run = machine.run(&[
        "submit",
        bundle.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);

    run.failure(3, &[TOKEN_ENV]);
}

#[test]
fn a_source_folder_that_does_not_exist_is_named() {
    // With no source left to read, collecting is an error that names a missing folder.
    let machine = Machine::new();
    fs::remove_dir_all(machine.acs_logs()).unwrap();
    fs::remove_dir_all(machine.app_logs()).unwrap();
    let config = machine.config("callsupport.toml", URL);
    let out = machine.out("B.zip");

    let run = machine.run(&[
        "collect",
        "--yes",
        "--config",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--summary",
        "x",
    ]);

    run.failure(1, &["does not exist"]);
    assert!(names_in(&machine.out("")).is_empty());
}

#[test]
fn a_missing_source_is_named_and_the_others_are_still_collected() {
    let machine = Machine::new();
    fs::remove_dir_all(machine.acs_logs()).unwrap();
    let config = machine.config("callsupport.toml", URL);
    let out = machine.out("B.zip");

    let run = machine
        .run(&[
            "collect",
            "--yes",
            "--config",
            config.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--summary",
            "x",
        ])
        .success();

    let stderr = run.stderr_after_consent();
    assert_eq!(stderr.lines().count(), 1, "one warning line: {stderr}");
    assert!(
        stderr.starts_with("warning: ") && stderr.contains("does not exist"),
        "{stderr}"
    );
    assert!(
        stderr.contains(machine.acs_logs().to_str().unwrap()),
        "names the folder: {stderr}"
    );
    // The manifest says what is missing and why, read by Python's zipfile.
    let skipped = callsupport_outside_tools::output(
        "python3",
        &["-c", "import json,sys,zipfile; m=json.loads(zipfile.ZipFile(sys.argv[1]).read('manifest.json')); print(json.dumps(m['skipped']))", out.to_str().unwrap()],
    )
    .unwrap();
    let skipped = String::from_utf8_lossy(&skipped.stdout);
    assert!(
        skipped.contains("ContosoCall/acs") && skipped.contains("does not exist"),
        "{skipped}"
    );
}

#[test]
fn an_output_file_that_exists_is_kept() {
    let machine = Machine::new();
    let config = machine.config("callsupport.toml", URL);
    let out = machine.out("B.zip");
    fs::write(&out, b"yesterday's bundle").unwrap();

    let run = machine.run(&[
        "collect",
        "--yes",
        "--config",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--summary",
        "x",
    ]);

    run.failure(1, &[out.to_str().unwrap(), "already exists"]);
    assert_eq!(fs::read(&out).unwrap(), b"yesterday's bundle");
    assert_eq!(
        names_in(&machine.out("")),
        ["B.zip"],
        "no partial file left"
    );
}

#[test]
fn an_empty_summary_is_refused() {
    let machine = Machine::new();
    let config = machine.config("callsupport.toml", URL);

    let run = machine.run(&[
        "collect",
        "--yes",
        "--config",
        config.to_str().unwrap(),
        "--out",
        machine.out("B.zip").to_str().unwrap(),
        "--summary",
        "  ",
    ]);

    run.failure(1, &["summary is empty"]);
}

#[test]
fn a_file_that_is_not_a_bundle_is_refused() {
    let machine = Machine::new();
    let junk = machine.out("junk.zip");
    fs::write(&junk, random_bytes(2048, 3)).unwrap();

    for command in ["verify", "inspect"] {
        let run = machine.run(&[command, junk.to_str().unwrap()]);
        run.failure(1, &[junk.to_str().unwrap(), "not a zip"]);
    }
}

#[test]
fn a_damaged_bundle_fails_verify_and_is_not_submitted() {
    let server = TicketServer::start();
    let mut machine = Machine::new();
    machine.env.push((TOKEN_ENV.into(), SUBMIT_TOKEN.into()));
    let config = machine.config("callsupport.toml", &server.url());
    let bundle = machine.collect(&config, "B.zip");
    let damaged = machine.out("damaged.zip");
    crate::support::tool(
        "python3",
        &[
            "-c",
            r#"
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as a, zipfile.ZipFile(sys.argv[2], "w") as b:
    for info in a.infolist():
        data = a.read(info)
        if info.filename == "files/acs/acs_1.blog":
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        b.writestr(info, data)
"#,
            bundle.to_str().unwrap(),
            damaged.to_str().unwrap(),
        ],
    );

    // inspect still shows the bundle, and says which file is damaged.
    let inspect = machine
        .run(&["inspect", "--json", damaged.to_str().unwrap()])
        .success();
    let shown: serde_json::Value = serde_json::from_str(&inspect.stdout()).unwrap();
    assert_eq!(shown["integrity"]["intact"], false, "{shown}");
    assert_eq!(
        shown["integrity"]["problems"][0]["path"], "files/acs/acs_1.blog",
        "{shown}"
    );
    let good: serde_json::Value = serde_json::from_str(
        &machine
            .run(&["inspect", "--json", bundle.to_str().unwrap()])
            .success()
            .stdout(),
    )
    .unwrap();
    assert_eq!(good["integrity"]["intact"], true, "{good}");
    assert_eq!(
        good["integrity"]["files_checked"],
        good["files"].as_array().unwrap().len(),
        "{good}"
    );

    let verify = machine.run(&["verify", damaged.to_str().unwrap()]);
    verify.failure(2, &[damaged.to_str().unwrap(), "damaged"]);
    assert!(
        verify.stdout().contains("files/acs/acs_1.blog"),
        "{}",
        verify.stdout()
    );

    let submit = machine.run(&[
        "submit",
        damaged.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    submit.failure(1, &["damaged", "files/acs/acs_1.blog"]);
    assert!(!server.stored_bundle("CS-000001").exists());

    // Nothing damaged goes to the vendor either, and nothing half-written is left.
    let vendor = machine.out("vendor.zip");
    machine
        .run(&[
            "vendor-export",
            damaged.to_str().unwrap(),
            "--out",
            vendor.to_str().unwrap(),
        ])
        .failure(
            1,
            &["files/acs/acs_1.blog", "damaged", "nothing was exported"],
        );
    assert!(!vendor.exists());
    assert!(
        crate::support::names_in(&machine.out(""))
            .iter()
            .all(|n| !n.ends_with(".partial")),
        "{:?}",
        crate::support::names_in(&machine.out(""))
    );
}

#[test]
fn json_errors_carry_the_code_on_stdout() {
    let machine = Machine::new();
    let missing = machine.path("nowhere.toml");

    let run = machine.run(&["--json", "sources", "--config", missing.to_str().unwrap()]);

    run.failure(3, &["nowhere.toml"]);
    let json = run.json();
    assert_eq!(json["error"]["code"], "config_invalid");
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nowhere.toml"),
        "{json}"
    );
}
