// Generated from src-tauri/src/ipc.rs by `cargo xtask codegen`. Do not edit by hand.

/** Every command the app registers, by the name `invoke` calls it with. */
export const COMMANDS = [
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
  "agree_queued_destination",
  "history",
  "delete_local_copy",
  "settings",
  "change_setting",
  "dismiss_link",
  "window_ready",
  "open_ticket",
  "take_screenshot",
  "discard_screenshot",
  "hide_in_screenshot",
  "choose_bundle",
  "detected",
  "dismiss_detection",
  "keep_survey",
  "surveys",
  "dismiss_survey",
  "agent_token_known",
  "fetch_ticket",
  "fetch_added",
  "make_link",
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
] as const;

/** The name of one of the app's commands. */
export type Command = (typeof COMMANDS)[number];

/** Every event the app sends the window, by its constant in src-tauri/src/ipc.rs. */
export const EVENTS = {
  /** Carries each `IndexEvent` to the window. */
  INDEX_CHANGED: "index-changed",
  /** Tells the window the outbox changed on its own (a background pass). */
  OUTBOX_CHANGED: "outbox-changed",
  /** Tells the window a bundle was opened for it (command line, drop); the page takes it with `last_bundle`. */
  BUNDLE_OPENED: "bundle-opened",
  /** Tells an open window which screen to show (a `View`). */
  NAVIGATE: "navigate",
} as const;

/** The name of one of the app's events. */
export type EventName = (typeof EVENTS)[keyof typeof EVENTS];
