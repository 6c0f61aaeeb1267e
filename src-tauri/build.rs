//! Declares the app's own commands, so a window may call only those its capability allows
//! (`capabilities/main.json`); a command missing here cannot be called at all.

/// Every command of `src/commands.rs`; keep in step with `generate_handler!` in `src/lib.rs`.
const COMMANDS: &[&str] = &[
    "overview",
    "prepare_report",
    "choose_files",
    "preview_file",
    "save_report",
    "send_report",
    "cancel_send",
    "queued_reports",
    "send_queued",
    "remove_queued",
    "history",
    "delete_local_copy",
    "settings",
    "change_setting",
    "dismiss_link",
    "window_ready",
    "open_ticket",
    "take_screenshot",
    "discard_screenshot",
    "choose_bundle",
    "detected",
    "dismiss_detection",
    "keep_survey",
    "surveys",
    "dismiss_survey",
    "agent_token_known",
    "fetch_ticket",
    "cancel_fetch",
    "verify_bundle",
    "bundle_calls",
    "kql_queries",
    "last_bundle",
    "add_export",
    "open_log",
    "log_window",
    "log_filter",
    "log_search",
    "log_position_at",
    "close_log",
    "export_for_vendor",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}
