//! `callsupport config`: the effective values with their origin (default, machine-wide file,
//! user's file, locked), a file checked with file, line and key, and the JSON Schema, which
//! Python's `jsonschema` (not ours) uses to accept a good file and refuse a bad one.

use std::fs;

use crate::support::{Machine, write};

const URL: &str = "https://support.example.com/api/v1/tickets";

#[test]
fn show_says_where_each_value_came_from_and_what_is_locked() {
    let machine = Machine::new();
    let user = machine.config("user.toml", URL);
    let managed = machine.path("managed.toml");
    write(
        &managed,
        format!("locked = [\"privacy\"]\n[ticket_api]\nurl = \"{URL}\"\norganisation = \"Contoso IT\"\n[privacy]\nredact = true\n")
            .as_bytes(),
    );
    let run = machine
        .command()
        .env("CALLSUPPORT_MANAGED_CONFIG", &managed)
        .args(["config", "show", "--config", user.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}");
    let line = |key: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("{key} ")))
            .unwrap_or_else(|| panic!("no {key} in:\n{stdout}"))
            .to_owned()
    };
    assert!(line("ticket_api.organisation").ends_with("Contoso IT  [machine-wide file]"));
    assert!(line("privacy.redact").ends_with("[machine-wide file, locked]"));
    assert!(line("collection.max_age_days").ends_with("7  [user's file]"));
    assert!(line("detection.cooldown_minutes").ends_with("30  [default]"));
    assert!(stdout.contains(&format!(
        "machine-wide file: {}",
        callsupport_desk::bundle::display_path(&managed)
    )));

    let json = machine
        .command()
        .env("CALLSUPPORT_MANAGED_CONFIG", &managed)
        .args([
            "config",
            "show",
            "--json",
            "--config",
            user.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let view: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let redact = view["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "privacy.redact")
        .unwrap();
    assert_eq!(
        (redact["origin"].as_str(), redact["locked"].as_bool()),
        (Some("organisation"), Some(true))
    );
}

#[test]
fn check_names_file_line_and_key_and_passes_a_good_file() {
    let machine = Machine::new();
    let good = machine.config("good.toml", URL);
    let run = machine
        .run(&["config", "check", good.to_str().unwrap()])
        .success();
    assert!(
        run.stdout().contains("good.toml: valid"),
        "{}",
        run.stdout()
    );

    let bad = machine.path("bad.toml");
    fs::write(
        &bad,
        format!("[ticket_api]\nurl = \"{URL}\"\n\n[survey]\nsample_percent = 0\n"),
    )
    .unwrap();
    let run = machine.run(&["config", "check", bad.to_str().unwrap()]);
    run.failure(3, &["bad.toml", "1 problem"]);
    assert!(
        run.stdout()
            .contains("bad.toml:5: key `survey.sample_percent`: must be between 1 and 100"),
        "{}",
        run.stdout()
    );

    // Mistakes in several sections are all named, each with its line.
    let several = machine.path("several.toml");
    fs::write(
        &several,
        format!(
            "[ticket_api]\nurl = \"{URL}\"\nretries = \"four\"\n\n[privacy]\nredact = true\nshare_everything = true\n\n[detections]\nenabled = true\n"
        ),
    )
    .unwrap();
    let run = machine.run(&["config", "check", several.to_str().unwrap()]);
    run.failure(3, &["several.toml", "3 problems"]);
    let out = run.stdout();
    assert!(
        out.contains("several.toml:3: key `ticket_api.retries`"),
        "{out}"
    );
    assert!(
        out.contains("several.toml:7: key `privacy.share_everything`")
            || out.contains("several.toml:7: key `privacy`"),
        "{out}"
    );
    assert!(
        out.contains("key `detections`: `detections` is not a section"),
        "{out}"
    );
    let json = machine.run(&["config", "check", "--json", several.to_str().unwrap()]);
    assert_eq!(json.json()["problems"].as_array().unwrap().len(), 3);

    let missing = machine.path("nowhere.toml");
    machine
        .run(&["config", "check", missing.to_str().unwrap()])
        .failure(3, &["nowhere.toml", "cannot read it"]);
}

#[test]
fn the_schema_is_what_an_independent_validator_checks_files_with() {
    let machine = Machine::new();
    let run = machine.run(&["config", "schema"]).success();
    let schema = machine.path("config.schema.json");
    fs::write(&schema, run.stdout()).unwrap();
    let good = machine.config("good.toml", URL);
    let bad = machine.path("bad.toml");
    fs::write(
        &bad,
        format!("[ticket_api]\nurl = \"{URL}\"\nretry = 3\n[[sources]]\nid = \"a\"\nname = \"A\"\nroot = \"/x\"\nkind = \"screenshot\"\n"),
    )
    .unwrap();
    // Python reads the TOML (tomllib) and validates it with jsonschema (Draft 2020-12).
    let script = "import json, sys, tomllib, jsonschema\n\
                  schema = json.load(open(sys.argv[1]))\n\
                  for path in sys.argv[2:]:\n\
                  \x20   errors = sorted(e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(tomllib.load(open(path, 'rb'))))\n\
                  \x20   print(path.rsplit('/', 1)[-1], len(errors), ' | '.join(errors))\n";
    let out = callsupport_outside_tools::output(
        "python3",
        &[
            "-c",
            script,
            schema.to_str().unwrap(),
            good.to_str().unwrap(),
            bad.to_str().unwrap(),
        ],
    )
    .expect("python3 with jsonschema (package python3-jsonschema)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "good.toml 0 ", "{text}");
    assert!(lines[1].starts_with("bad.toml 2 "), "{text}");
    assert!(
        lines[1].contains("'retry'") && lines[1].contains("'screenshot'"),
        "{text}"
    );
}

#[test]
fn install_puts_a_checked_file_in_place_and_a_bad_one_nowhere() {
    let machine = Machine::new();
    let org = machine.config("org.toml", URL);
    let managed = machine.path("ProgramData/CallSupport/config.toml");
    let run = machine
        .command()
        .env("CALLSUPPORT_MANAGED_CONFIG", &managed)
        .args(["config", "install", org.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.contains("installed as the machine-wide file"),
        "{stdout}"
    );
    assert_eq!(fs::read(&managed).unwrap(), fs::read(&org).unwrap());

    // The user's own file, where --config says it is.
    let user = machine.path("user/settings.toml");
    let run = machine
        .command()
        .args(["config", "install", "--for", "user", "--config"])
        .arg(&user)
        .arg(&org)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(fs::read(&user).unwrap(), fs::read(&org).unwrap());

    // A bad file: its problems named, exit 3, the installed file untouched.
    let bad = machine.path("bad.toml");
    write(&bad, b"[ticket_api]\nurl = \"ftp://x\"\nnope = 1\n");
    let run = machine
        .command()
        .env("CALLSUPPORT_MANAGED_CONFIG", &managed)
        .args(["config", "install", bad.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(3), "{stdout}{stderr}");
    assert!(
        stdout.contains("bad.toml:3") && stdout.contains("nope"),
        "{stdout}"
    );
    assert!(stderr.contains("nothing was installed"), "{stderr}");
    assert_eq!(fs::read(&managed).unwrap(), fs::read(&org).unwrap());
    let left: Vec<_> = fs::read_dir(managed.parent().unwrap()).unwrap().collect();
    assert_eq!(left.len(), 1, "nothing written beside the installed file");

    // A file that is not there.
    let run = machine
        .command()
        .env("CALLSUPPORT_MANAGED_CONFIG", &managed)
        .args(["config", "install", "--json"])
        .arg(machine.path("absent.toml"))
        .output()
        .unwrap();
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("absent.toml") && stderr.contains("cannot read"),
        "{stderr}"
    );
}
