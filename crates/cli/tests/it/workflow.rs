//! The commands working together as IT and support scripts use them: `collect` a bundle, check it
//! with outside tools and `verify`, look at it with `inspect`, `submit` it; as text and as `--json`.

use std::fs;

use crate::support::{Machine, SUBMIT_TOKEN, TOKEN_ENV, TicketServer, names_in, sha256sum, tool};

#[test]
fn collect_verify_and_submit_print_what_scripts_read() {
    let server = TicketServer::start();
    let mut machine = Machine::new();
    machine.env.push((TOKEN_ENV.into(), SUBMIT_TOKEN.into()));
    let config = machine.config("callsupport.toml", &server.url());
    let bundle = machine.out("B.zip");

    let collect = machine
        .run(&[
            "collect",
            "--yes",
            "--config",
            config.to_str().unwrap(),
            "--out",
            bundle.to_str().unwrap(),
            "--summary",
            "audio dropped",
            "--category",
            "audio",
            "--call-id",
            "7f3c-0001",
        ])
        .success();
    assert!(
        collect
            .stdout()
            .starts_with(&format!("wrote {}", bundle.display())),
        "{}",
        collect.stdout()
    );
    assert!(
        collect.stdout().contains("5 files, 1 skipped"),
        "{}",
        collect.stdout()
    );
    assert_eq!(names_in(&machine.out("")), ["B.zip"]);
    let unzip = tool("unzip", &["-t", bundle.to_str().unwrap()]);
    assert!(unzip.contains("No errors detected"), "{unzip}");

    let verify = machine.run(&["verify", bundle.to_str().unwrap()]).success();
    assert!(
        verify.stdout().starts_with("intact: 5 files"),
        "{}",
        verify.stdout()
    );

    let submit = machine
        .run(&[
            "submit",
            bundle.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ])
        .success();
    assert_eq!(submit.stdout(), "CS-000001\n");
    assert!(!submit.stderr().contains("error"), "{}", submit.stderr());
    assert_eq!(
        fs::read(server.stored_bundle("CS-000001")).unwrap(),
        fs::read(&bundle).unwrap(),
        "the server stores the bundle byte for byte"
    );

    // Submitting the same bundle again is the same ticket.
    let again = machine
        .run(&[
            "submit",
            bundle.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ])
        .success();
    assert_eq!(again.stdout(), "CS-000001\n");

    // Our own log: the bundle carries it up to the collection, whole, and it goes on to tell
    // what happened next; never the token.
    let carried = tool(
        "unzip",
        &[
            "-p",
            bundle.to_str().unwrap(),
            "files/callsupport/callsupport.log",
        ],
    );
    assert!(
        carried.contains(" INFO  callsupport callsupport "),
        "{carried}"
    );
    assert!(carried.contains(" collect"), "{carried}");
    let log = fs::read_to_string(machine.data().join("logs/callsupport.log")).unwrap();
    assert!(
        log.starts_with(&carried),
        "the bundle holds the log as it was:\n{log}"
    );
    assert!(log.contains(" written: "), "{log}");
    assert!(log.contains("delivered as ticket CS-000001"), "{log}");
    assert!(!log.contains(SUBMIT_TOKEN), "{log}");
}

#[test]
fn json_output_parses_and_agrees_with_outside_tools() {
    let server = TicketServer::start();
    let mut machine = Machine::new();
    machine.env.push((TOKEN_ENV.into(), SUBMIT_TOKEN.into()));
    let config = machine.config("callsupport.toml", &server.url());
    let bundle = machine.out("B.zip");

    let collect = machine
        .run(&[
            "--json",
            "collect",
            "--yes",
            "--config",
            config.to_str().unwrap(),
            "--out",
            bundle.to_str().unwrap(),
            "--summary",
            "video froze",
        ])
        .success()
        .json();
    let sha256 = sha256sum(&bundle);
    assert_eq!(collect["path"], bundle.to_str().unwrap());
    assert_eq!(collect["sha256"], sha256.as_str());
    assert_eq!(collect["bytes"], fs::metadata(&bundle).unwrap().len());
    assert_eq!(
        collect["files"], 5,
        "four from the sources, and our own log"
    );
    assert_eq!(collect["skipped"], 1);
    let bundle_id = collect["bundle_id"].as_str().unwrap().to_owned();

    let verify = machine
        .run(&["verify", bundle.to_str().unwrap(), "--json"])
        .success()
        .json();
    assert_eq!(verify["intact"], true);
    assert_eq!(verify["bundle_id"], bundle_id.as_str());
    assert_eq!(verify["files_checked"], 5);
    assert_eq!(verify["problems"], serde_json::json!([]));

    let inspect = machine
        .run(&["inspect", bundle.to_str().unwrap(), "--json"])
        .success()
        .json();
    assert_eq!(inspect["format"], "callsupport/bundle@1");
    assert_eq!(inspect["bundle_id"], bundle_id.as_str());
    assert_eq!(inspect["report"]["summary"], "video froze");
    // Original paths show the home folder as `~`; the temporary home never appears. Windows takes
    // the profile folder from the system, not from HOME: there the test's home lies inside the
    // profile, which shows as `%USERPROFILE%`, and the profile's own path never appears.
    let (home, shown_home) = if cfg!(windows) {
        let profile = std::env::var("USERPROFILE").expect("Windows sets USERPROFILE");
        (
            profile,
            callsupport_desk::bundle::display_path(&machine.home()),
        )
    } else {
        (machine.home().display().to_string(), "~".to_owned())
    };
    let logs = std::path::Path::new(&shown_home).join(".local/share/ContosoCall/");
    for file in inspect["files"].as_array().unwrap() {
        let original = file["original_path"].as_str().unwrap();
        if file["source"] == "callsupport" {
            assert!(
                std::path::Path::new(original).ends_with("logs/callsupport.log"),
                "{original}"
            );
            continue;
        }
        assert!(original.starts_with(logs.to_str().unwrap()), "{original}");
    }
    // As JSON writes it (a Windows path's backslashes doubled).
    let home = serde_json::Value::String(home).to_string();
    assert!(
        !inspect.to_string().contains(home.trim_matches('"')),
        "{inspect}"
    );
    // Checked independently: Python hashes each entry as the manifest lists it.
    let listed = tool(
        "python3",
        &[
            "-c",
            "import hashlib, json, sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nm = json.loads(z.read('manifest.json'))\nprint(all(hashlib.sha256(z.read(f['path'])).hexdigest() == f['sha256'] for f in m['files']), len(m['files']))",
            bundle.to_str().unwrap(),
        ],
    );
    assert_eq!(listed.trim(), "True 5");

    let submit = machine
        .run(&[
            "--json",
            "submit",
            bundle.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ])
        .success()
        .json();
    assert_eq!(submit["ticket_id"], "CS-000001");
    assert_eq!(submit["bundle_id"], bundle_id.as_str());
    assert_eq!(submit["bundle_sha256"], sha256.as_str());
    assert_eq!(
        submit["ticket_url"],
        format!("http://{}/api/v1/tickets/CS-000001", server.host())
    );
}

#[test]
fn the_config_can_come_from_callsupport_config() {
    let mut machine = Machine::new();
    let config = machine.config(
        "from-env.toml",
        "https://support.example.com/api/v1/tickets",
    );
    machine
        .env
        .push(("CALLSUPPORT_CONFIG".into(), config.display().to_string()));

    let sources = machine.run(&["sources", "--json"]).success().json();

    let ids: Vec<&str> = sources
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["app", "acs", "callsupport"], "our own log comes last");
    assert_eq!(sources[0]["files"].as_array().unwrap().len(), 2);
    assert_eq!(sources[0]["skipped"][0]["reason"], "too old");
    assert_eq!(sources[1]["files"].as_array().unwrap().len(), 2);
}

#[test]
fn extract_writes_checked_files_into_a_new_folder_only() {
    let machine = Machine::new();
    let config = machine.config("callsupport.toml", "http://127.0.0.1:9/api/v1/tickets");
    let bundle = machine.collect(&config, "B.zip");
    let to = machine.out("extracted");

    let run = machine
        .run(&[
            "extract",
            bundle.to_str().unwrap(),
            "--to",
            to.to_str().unwrap(),
        ])
        .success();
    assert!(
        run.stdout().starts_with("extracted 5 files"),
        "{}",
        run.stdout()
    );
    let app_log = to.join("files/app/app.log");
    assert_eq!(
        std::fs::read(&app_log).unwrap(),
        std::fs::read(machine.app_logs().join("app.log")).unwrap()
    );

    // A second extraction into the same, now full, folder is refused and changes nothing.
    let again = machine.run(&[
        "extract",
        bundle.to_str().unwrap(),
        "--to",
        to.to_str().unwrap(),
    ]);
    again.failure(1, &["is not empty"]);
    assert!(app_log.is_file());

    // An entry the manifest does not list (added after the bundle was written, here by Python):
    // refused, naming it, unless the user says to leave it out; then it is named as left out.
    let tampered = machine.out("tampered.zip");
    std::fs::copy(&bundle, &tampered).unwrap();
    crate::support::tool(
        "python3",
        &[
            "-c",
            "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'a') as z: z.writestr('files/app/run-me.bat', 'format c:')",
            tampered.to_str().unwrap(),
        ],
    );
    let into = machine.out("from-tampered");
    let refused = machine.run(&[
        "extract",
        tampered.to_str().unwrap(),
        "--to",
        into.to_str().unwrap(),
    ]);
    refused.failure(
        1,
        &[
            "`files/app/run-me.bat`",
            "does not list",
            "--leave-out-unlisted",
        ],
    );
    assert!(!into.exists(), "nothing extracted");
    let left_out = machine
        .run(&[
            "extract",
            tampered.to_str().unwrap(),
            "--to",
            into.to_str().unwrap(),
            "--leave-out-unlisted",
        ])
        .success();
    assert!(
        left_out
            .stdout()
            .contains("left out `files/app/run-me.bat`: the manifest does not list it"),
        "{}",
        left_out.stdout()
    );
    assert!(!into.join("files/app/run-me.bat").exists());
    assert!(into.join("files/app/app.log").is_file());
}

#[test]
fn a_report_that_cannot_be_sent_waits_in_the_outbox_until_flushed() {
    let server = TicketServer::start();
    let mut machine = Machine::new();
    machine.env.push((TOKEN_ENV.into(), SUBMIT_TOKEN.into()));
    let offline = machine.config("offline.toml", &crate::support::dead_url());
    machine.no_retries(&offline);
    let online = machine.config("online.toml", &server.url());

    let report = machine.run(&[
        "report",
        "--yes",
        "--config",
        offline.to_str().unwrap(),
        "--summary",
        "no audio",
        "--call-id",
        "7f3c-0001",
    ]);
    report.failure(4, &["cannot reach", "waits in the outbox"]);
    let listed = machine
        .run(&[
            "outbox",
            "list",
            "--json",
            "--config",
            offline.to_str().unwrap(),
        ])
        .success()
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["summary"], "no audio");
    assert_eq!(listed[0]["attempts"]["last_error"]["code"], "unreachable");
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    let queued = machine.data().join("outbox").join(&id).join("bundle.zip");
    let queued_sha256 = sha256sum(&queued);
    assert!(tool("unzip", &["-t", queued.to_str().unwrap()]).contains("No errors detected"));

    // Reports now go to another address: the waiting one is held, not sent there unasked.
    let online_arg = online.to_str().unwrap();
    let held = machine
        .run(&["outbox", "list", "--config", online_arg])
        .success();
    assert!(
        held.stdout().contains("held: agreed for 127.0.0.1:"),
        "{}",
        held.stdout()
    );
    let refused = machine.run(&["outbox", "flush", "--config", online_arg]);
    assert!(
        refused.stdout().contains("held until you agree"),
        "{}",
        refused.stdout()
    );
    assert!(
        !server.stored_bundle("CS-000001").exists(),
        "nothing went unasked"
    );
    let unasked = machine.run(&["outbox", "agree", &id, "--config", online_arg]);
    assert_eq!(unasked.code(), Some(1));
    let said = unasked.stderr();
    assert!(
        said.contains("Agreeing sends it to") && said.lines().last().unwrap().contains("--yes"),
        "without a terminal, agreeing takes --yes: {said}"
    );
    let agreed = machine
        .run(&["outbox", "agree", &id, "--yes", "--config", online_arg])
        .success();
    assert!(
        agreed.stderr().contains("Agreeing sends it to"),
        "{}",
        agreed.stderr()
    );

    let flush = machine
        .run(&["outbox", "flush", "--config", online.to_str().unwrap()])
        .success();
    assert!(
        flush
            .stdout()
            .contains(&format!("{id}  sent: ticket CS-000001")),
        "{}",
        flush.stdout()
    );
    assert_eq!(sha256sum(&server.stored_bundle("CS-000001")), queued_sha256);
    let empty = machine
        .run(&["outbox", "list", "--config", online.to_str().unwrap()])
        .success();
    assert_eq!(empty.stdout(), "the outbox is empty\n");
    let history =
        fs::read_to_string(machine.data().join("history").join(format!("{id}.json"))).unwrap();
    assert!(history.contains("CS-000001"), "{history}");

    // A report sent at once leaves nothing queued either; removing an unknown id is an error.
    let sent = machine
        .run(&[
            "report",
            "--yes",
            "--config",
            online.to_str().unwrap(),
            "--summary",
            "video froze",
        ])
        .success();
    assert_eq!(sent.stdout(), "CS-000002\n");
    assert_eq!(
        names_in(&machine.data().join("outbox")),
        Vec::<String>::new()
    );
    machine
        .run(&[
            "outbox",
            "remove",
            &id,
            "--config",
            online.to_str().unwrap(),
        ])
        .failure(1, &["no report", &id]);
}

#[test]
fn collect_asks_for_agreement_and_the_manifest_keeps_the_statement_agreed_to() {
    let machine = Machine::new();
    let config = machine.config("callsupport.toml", "http://127.0.0.1:9/t");
    let bundle = machine.out("agreed.zip");
    let args = |yes: bool| {
        let mut args = vec!["collect", "--config", config.to_str().unwrap()];
        args.extend(["--out", bundle.to_str().unwrap(), "--summary", "echo"]);
        if yes {
            args.push("--yes");
        }
        args
    };

    // No terminal to ask on and no --yes: nothing is collected, and the statement was shown.
    let run = machine.run(&args(false));
    assert_eq!(run.code(), Some(1), "{}", run.stderr());
    let stderr = run.stderr();
    assert!(
        stderr.contains("What you agree to by going on:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("acs_1.blog"),
        "the files are listed: {stderr}"
    );
    assert!(stderr.lines().last().unwrap().contains("--yes"), "{stderr}");
    assert!(!bundle.exists());

    // With --yes the statement is printed all the same, and kept word for word.
    let run = machine.run(&args(true)).success();
    assert!(run.stderr().contains("Agreed (--yes)."), "{}", run.stderr());
    let check = tool(
        "python3",
        &[
            "-c",
            "import hashlib,json,sys,zipfile; c=json.loads(zipfile.ZipFile(sys.argv[1]).read('manifest.json'))['consent']; \
             print(hashlib.sha256(c['statement'].encode()).hexdigest()==c['statement_sha256'], c['statement_version'], c['language']); \
             print(c['statement'])",
            bundle.to_str().unwrap(),
        ],
    );
    let mut lines = check.lines();
    assert_eq!(lines.next(), Some("True 2 en"), "{check}");
    let statement: Vec<&str> = lines.collect();
    assert!(
        statement[0].starts_with("Your report is saved to a file you choose"),
        "{check}"
    );
    for paragraph in statement.iter().take_while(|l| !l.contains('\t')) {
        assert!(
            run.stderr().contains(paragraph),
            "printed as kept: {paragraph}"
        );
    }
    assert!(
        statement.iter().any(|l| l.ends_with("acs_1.blog\t12288")),
        "one `path<TAB>bytes` line a file: {check}"
    );
}

#[test]
fn a_sealed_bundle_is_refused_by_verify_until_unsealed_with_a_key_and_age_agrees() {
    let machine = Machine::new();
    let key = machine.path("agent.key");
    let identities = callsupport_seal::Identities::generate();
    fs::write(&key, identities.to_file_text()).unwrap();
    let public = identities.public_keys().remove(0);
    let config = machine.config("callsupport.toml", "http://127.0.0.1:9/t");
    let text = fs::read_to_string(&config).unwrap().replace(
        "[privacy]\n",
        &format!("[privacy]\nrecipients = [\"{public}\"]\n"),
    );
    fs::write(&config, text).unwrap();
    let sealed = machine.out("sealed.zip.age");
    let run = machine
        .run(&[
            "collect",
            "--yes",
            "--config",
            config.to_str().unwrap(),
            "--out",
            sealed.to_str().unwrap(),
            "--summary",
            "sealed",
        ])
        .success();
    assert!(
        run.stderr().contains("sealed on this computer"),
        "{}",
        run.stderr()
    );
    assert!(
        fs::read(&sealed)
            .unwrap()
            .starts_with(b"age-encryption.org/v1\n")
    );

    // Not a zip to the other commands: they say how to open it.
    machine
        .run(&["verify", sealed.to_str().unwrap()])
        .failure(3, &["sealed", "callsupport unseal"]);

    let plain = machine.out("plain.zip");
    machine
        .run(&[
            "unseal",
            sealed.to_str().unwrap(),
            "--identity",
            key.to_str().unwrap(),
            "--out",
            plain.to_str().unwrap(),
        ])
        .success();
    machine.run(&["verify", plain.to_str().unwrap()]).success();
    let by_age = machine.out("by-age.zip");
    tool(
        "age",
        &[
            "-d",
            "-i",
            key.to_str().unwrap(),
            "-o",
            by_age.to_str().unwrap(),
            sealed.to_str().unwrap(),
        ],
    );
    assert_eq!(sha256sum(&plain), sha256sum(&by_age));

    // Another key: refused, and nothing written.
    let stranger = machine.path("stranger.key");
    fs::write(
        &stranger,
        callsupport_seal::Identities::generate().to_file_text(),
    )
    .unwrap();
    let again = machine.out("again.zip");
    machine
        .run(&[
            "unseal",
            sealed.to_str().unwrap(),
            "--identity",
            stranger.to_str().unwrap(),
            "--out",
            again.to_str().unwrap(),
        ])
        .failure(1, &["sealed for other keys"]);
    assert!(!again.exists());
    assert_eq!(
        names_in(&machine.out(""))
            .iter()
            .filter(|n| n.starts_with('.'))
            .count(),
        0
    );
}
