//! `callsupport doctor [--json]`: every readiness check with ok, warning or error and what to do;
//! exits 1 when any check is an error.

use std::path::PathBuf;
use std::process::ExitCode;

use callsupport_desk::Error;
use callsupport_desk::api::default_data_dir;
use callsupport_desk::config::ConfigFiles;
use callsupport_desk::doctor::{Status, examine};

use crate::output;

pub fn run(explicit: Option<PathBuf>, json: bool) -> Result<ExitCode, Error> {
    let files = ConfigFiles::locate(explicit.as_deref());
    let checks = output::runtime()?.block_on(examine(&files, &default_data_dir()));
    let worst = checks.iter().map(|c| c.status).max().unwrap_or(Status::Ok);
    if json {
        output::json(&serde_json::json!({ "status": worst, "checks": checks }));
    } else {
        let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
        for check in &checks {
            output::line(&format!(
                "{:7}  {:width$}  {}",
                check.status.as_str(),
                check.name,
                check.detail
            ));
            if let Some(advice) = &check.advice {
                output::line(&format!("{:7}  {:width$}  → {advice}", "", ""));
            }
        }
    }
    Ok(if worst == Status::Error {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
