//! `callsupport report` killed at random moments while it collects and sends: after a restart
//! (`outbox flush`), every report that reached the outbox is on the server exactly once, and
//! nothing half-written is left on either side.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::Instant;

use crate::support::{
    Machine, SUBMIT_TOKEN, TOKEN_ENV, TicketServer, names_in, random_bytes, tool, write,
};

#[test]
#[cfg_attr(
    windows,
    ignore = "Wine keeps a killed process's sockets open in wineserver (seen with ss: both ends held \
              by wineserver64 alone), so the in-process server waits on a dead upload and the \
              restart's send waits on it; a Wine fault, not one of Windows"
)]
fn reports_killed_mid_collect_or_mid_send_are_delivered_once_after_a_restart() {
    let server = TicketServer::start();
    let mut machine = Machine::new();
    machine.env.push((TOKEN_ENV.into(), SUBMIT_TOKEN.into()));
    // A 24 MiB encrypted log, so that sending takes long enough to be interrupted.
    write(
        &machine.acs_logs().join("session/acs_big.blog"),
        &random_bytes(24 << 20, 7),
    );
    let config = machine.config("callsupport.toml", &server.url());

    // One report in full, to know how long collecting and sending take on this machine.
    let started = Instant::now();
    machine
        .run(&[
            "report",
            "--yes",
            "--config",
            config.to_str().unwrap(),
            "--summary",
            "whole",
        ])
        .success();
    let whole = started.elapsed();

    let outbox = machine.data().join("outbox");
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut kills = Vec::new();
    let mut waiting_after_kills = 0;
    for run in 0..20 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        // Anywhere in the work, and a little after it.
        let after = whole.mul_f64((state % 1_000) as f64 / 1_000.0 * 1.1);
        let mut child = machine
            .command()
            .args(["report", "--yes", "--config", config.to_str().unwrap()])
            .args(["--summary", &format!("run {run}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(after);
        let finished = child.try_wait().unwrap().is_some();
        let _ = child.kill();
        child.wait().unwrap();
        kills.push((after, finished));
        // Reports queued but not acknowledged when the process died.
        waiting_after_kills = names_in(&outbox)
            .iter()
            .filter(|name| !name.starts_with('.') && !name.ends_with(".lock"))
            .count();
    }

    // The restart: what waits is sent.
    machine
        .run(&["outbox", "flush", "--config", config.to_str().unwrap()])
        .success();

    assert_eq!(
        names_in(&outbox),
        Vec::<String>::new(),
        "nothing left waiting or half-written"
    );
    let bundles = server.data.path().join("bundles");
    let stored = names_in(&bundles);
    let mut summaries = BTreeSet::new();
    for name in &stored {
        let manifest = tool(
            "unzip",
            &["-p", bundles.join(name).to_str().unwrap(), "manifest.json"],
        );
        let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
        let summary = manifest["report"]["summary"].as_str().unwrap().to_owned();
        assert!(summaries.insert(summary.clone()), "{summary} arrived twice");
    }
    let history = names_in(&machine.data().join("history"));
    assert_eq!(
        history.len(),
        stored.len(),
        "every delivered report is in the history, and only those: {kills:?}"
    );
    assert_eq!(
        names_in(&server.data.path().join("incoming")),
        Vec::<String>::new(),
        "the server kept nothing of the cut uploads"
    );
    let completed = kills.iter().filter(|(_, finished)| *finished).count();
    assert!(
        stored.len() > completed,
        "the whole run, every finished run and the reports the flush sent: {} stored, {completed} finished: {kills:?}",
        stored.len()
    );
    assert!(
        waiting_after_kills > 0,
        "some kills must land between queuing and the server's answer: {kills:?}"
    );
    eprintln!(
        "20 runs killed within {whole:?}: {completed} had finished, {waiting_after_kills} waited in the outbox, {} reports on the server, each once",
        stored.len()
    );
}
