//! `callsupport doctor` against the real ticket server: everything ready; a refused token, a
//! missing token, a service that cannot be reached and a log folder that is not there, each named
//! with what to do; exit 1 on any error, and `--json` for scripts.

use std::fs;

use crate::support::{Machine, SUBMIT_TOKEN, TOKEN_ENV, TicketServer, dead_url};

fn checks(json: &serde_json::Value) -> Vec<(String, String)> {
    json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The check named `name` in doctor's JSON.
fn check_of<'a>(json: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {json}"))
}

fn status_of(json: &serde_json::Value, name: &str) -> (String, String) {
    let check = check_of(json, name);
    (
        check["status"].as_str().unwrap().to_owned(),
        format!("{} {}", check["detail"], check["advice"]),
    )
}

#[test]
fn a_ready_computer_passes_and_each_problem_is_named_with_what_to_do() {
    let server = TicketServer::start();
    let mut machine = Machine::new();
    machine.env.push((TOKEN_ENV.into(), SUBMIT_TOKEN.into()));
    let config = machine.config("callsupport.toml", &server.url());
    let config = config.to_str().unwrap();

    let ready = machine.run(&["doctor", "--config", config]).success();
    let text = ready.stdout();
    assert!(
        text.lines().any(|l| l.starts_with("ok       config")),
        "{text}"
    );
    assert!(text.contains("answers over plain http"), "{text}");
    assert!(
        text.contains(&format!("the service accepts the token in {TOKEN_ENV}")),
        "{text}"
    );
    let json = machine
        .run(&["doctor", "--json", "--config", config])
        .success()
        .json();
    for name in [
        "config",
        "source:app",
        "source:acs",
        "proxy",
        "ticket_api",
        "token",
        "disk",
    ] {
        assert_eq!(status_of(&json, name).0, "ok", "{name}: {json}");
    }
    assert_ne!(json["status"], "error");
    assert!(
        server
            .data
            .path()
            .join("bundles")
            .read_dir()
            .map_or(true, |mut d| d.next().is_none()),
        "the dry run stores nothing"
    );

    // A refused token.
    let mut wrong = Machine::new();
    wrong.env.push((TOKEN_ENV.into(), "not-the-token".into()));
    let config = wrong.config("callsupport.toml", &server.url());
    let run = wrong.run(&["doctor", "--json", "--config", config.to_str().unwrap()]);
    assert_eq!(run.code(), Some(1));
    let (status, words) = status_of(&run.json(), "token");
    assert_eq!(status, "error");
    assert!(
        words.contains(&format!("refused the token in {TOKEN_ENV}")),
        "{words}"
    );

    // No token at all.
    let unset = Machine::new();
    let config = unset.config("callsupport.toml", &server.url());
    let run = unset.run(&["doctor", "--json", "--config", config.to_str().unwrap()]);
    assert_eq!(run.code(), Some(1));
    let (_, words) = status_of(&run.json(), "token");
    assert!(
        words.contains(&format!("{TOKEN_ENV} is not set")),
        "{words}"
    );
}

#[test]
fn an_unreachable_service_and_a_missing_folder_say_what_to_do() {
    let mut machine = Machine::new();
    machine.env.push((TOKEN_ENV.into(), SUBMIT_TOKEN.into()));
    let config = machine.config("callsupport.toml", &dead_url());
    fs::remove_dir_all(machine.acs_logs()).unwrap();
    let run = machine.run(&["doctor", "--config", config.to_str().unwrap()]);
    assert_eq!(run.code(), Some(1), "{}", run.stdout());
    let text = run.stdout();
    assert!(
        text.lines()
            .any(|l| l.starts_with("error    ticket_api") && l.contains("cannot reach")),
        "{text}"
    );
    assert!(
        text.contains("→ check the network, the proxy settings and ticket_api.url"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("error    token") && l.contains("not checked")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("warning  source:acs") && l.contains("does not exist")),
        "{text}"
    );
    let json = machine
        .run(&["doctor", "--json", "--config", config.to_str().unwrap()])
        .json();
    assert_eq!(json["status"], "error");
    assert!(checks(&json).contains(&("source:app".into(), "ok".into())));

    // A configuration that does not load: said first, the rest not checked.
    let broken = machine.path("broken.toml");
    fs::write(&broken, "[ticket_api\n").unwrap();
    let run = machine.run(&["doctor", "--config", broken.to_str().unwrap()]);
    assert_eq!(run.code(), Some(1));
    assert!(
        run.stdout().starts_with("error    config"),
        "{}",
        run.stdout()
    );
    assert!(run.stdout().contains("broken.toml:1"), "{}", run.stdout());
}

/// The proxy in the way is named, with where it was set; a host the bypass list covers goes direct.
#[test]
fn the_proxy_in_use_is_named_with_where_it_was_set() {
    let server = TicketServer::start();
    let mut machine = Machine::new();
    machine.env.push((TOKEN_ENV.into(), SUBMIT_TOKEN.into()));
    let config = machine.config("callsupport.toml", &server.url());
    let config = config.to_str().unwrap();
    let proxy = |machine: &Machine| {
        let run = machine.run(&["doctor", "--json", "--config", config]);
        let json = run.json();
        let check = check_of(&json, "proxy");
        (
            check["status"].as_str().unwrap().to_owned(),
            check["detail"].as_str().unwrap().to_owned(),
        )
    };
    let (status, words) = proxy(&machine);
    assert_eq!(status, "ok");
    assert!(words.starts_with("direct"), "{words}");

    machine.env.push((
        "HTTP_PROXY".into(),
        "http://proxy.contoso.example:3128".into(),
    ));
    machine.env.push(("NO_PROXY".into(), "localhost".into()));
    let (_, words) = proxy(&machine);
    assert!(
        words.contains("through http://proxy.contoso.example:3128 (set in HTTP_PROXY)"),
        "{words}"
    );

    machine.env.push(("no_proxy".into(), "127.0.0.1".into()));
    machine.env.retain(|(name, _)| name != "NO_PROXY");
    let (_, words) = proxy(&machine);
    assert!(words.starts_with("direct"), "{words}");
}
