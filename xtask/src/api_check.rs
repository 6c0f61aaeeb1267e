//! The API conformance stage: schemathesis (from PyPI) against the real reference server, driven
//! by the OpenAPI document the server itself serves. A real report is sent first, so the
//! document's examples (`CS-000001`) reach a real ticket and its bundle.
//!
//! Every check schemathesis has runs (all are on by default; `--checks all` would override the
//! per-operation settings), but `positive_data_acceptance`: a schema-valid random upload is
//! still not a valid bundle, and the server is right to refuse it (422). Its settings and hooks
//! are in `xtask/schemathesis/`: tus refuses a wrong version with 412, a tus `PATCH` body is raw
//! bytes, and an unknown header on `POST /api/v1/uploads` is not a violation.

use std::path::Path;
use std::process::Stdio;

use callsupport_demo::{demo_config, write_demo_logs};

use crate::ticket_server;
use crate::util::{cmd, run};

const SUBMIT_TOKEN: &str = "conformance-submit";
const AGENT_TOKEN: &str = "conformance-agent";
const TOKEN_ENV: &str = "CALLSUPPORT_CONFORMANCE_TOKEN";

pub fn schemathesis(root: &Path, st: &Path) -> anyhow::Result<()> {
    let work = root.join("target/api-check");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let (_server, base) = ticket_server::start(
        root,
        &work.join("server"),
        &[
            ("CALLSUPPORT_SERVER_TOKEN", SUBMIT_TOKEN),
            ("CALLSUPPORT_AGENT_TOKEN", AGENT_TOKEN),
        ],
        // The fuzzer sends hundreds of agent requests a second from one address: no limit on
        // them, so it reaches what is behind it. Their 429 is documented and tested in the
        // server's suite.
        &["--lookup-rate-per-minute", "0"],
    )?;

    // One real ticket, sent as the app sends it.
    let logs = work.join("logs");
    write_demo_logs(&logs, chrono::Utc::now())?;
    let config = work.join("config.toml");
    std::fs::write(
        &config,
        demo_config(&logs, &format!("{base}/api/v1/tickets"), TOKEN_ENV),
    )?;
    let mut report = cmd(
        root.join("target/debug/callsupport")
            .to_str()
            .expect("utf-8 path"),
        &["--config", config.to_str().expect("utf-8 path")],
        root,
    );
    report
        .args(["report", "--yes", "--summary", "conformance seed"])
        .env(TOKEN_ENV, SUBMIT_TOKEN)
        .env("CALLSUPPORT_DATA_DIR", work.join("app-data"))
        .stdout(Stdio::null());
    run(&mut report)?;

    let document = format!("{base}/api/v1/openapi.json");
    // Settings (tus answers a wrong version with 412) and the generator of tus PATCH bodies.
    let hooks = root.join("xtask/schemathesis");
    let settings = hooks.join("schemathesis.toml");
    let st = st.to_str().expect("utf-8 path");
    for (token, filter) in [
        (SUBMIT_TOKEN, ["--exclude-tag", "agents"]),
        (AGENT_TOKEN, ["--include-tag", "agents"]),
    ] {
        let auth = format!("Authorization: Bearer {token}");
        let mut check = cmd(
            st,
            &[
                "--config-file",
                settings.to_str().expect("utf-8 path"),
                "run",
                &document,
                "--header",
                &auth,
                filter[0],
                filter[1],
                "--exclude-checks",
                "positive_data_acceptance",
                "--max-examples",
                "50",
                "--no-color",
            ],
            root,
        );
        check
            .current_dir(&work)
            .env("PYTHONPATH", &hooks)
            .env("SCHEMATHESIS_HOOKS", "tus_media");
        run(&mut check)?;
    }
    Ok(())
}
