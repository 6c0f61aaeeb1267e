//! The global shortcut that opens the report dialog from any app (`shortcut.report`).

use callsupport_core::shortcut::Shortcut;
use tauri::AppHandle;
use tauri_plugin_global_shortcut::{GlobalShortcutExt, ShortcutState};

use crate::window::{self, View};

/// Registers `shortcut`; one taken by another app is logged and left out, not fatal.
pub fn register(app: &AppHandle, shortcut: Option<Shortcut>) {
    let Some(shortcut) = shortcut else {
        log::info!("no report shortcut (shortcut.report is empty)");
        return;
    };
    let registered = app
        .global_shortcut()
        .on_shortcut(shortcut.as_str(), |app, _, event| {
            if event.state == ShortcutState::Pressed {
                window::show(app, View::Report);
            }
        });
    match registered {
        Ok(()) => log::info!("report shortcut {shortcut} registered"),
        Err(err) => log::warn!("report shortcut {shortcut} not registered: {err}"),
    }
}

/// Drops the registered shortcut and registers `shortcut` instead.
pub fn replace(app: &AppHandle, shortcut: Option<Shortcut>) {
    if let Err(err) = app.global_shortcut().unregister_all() {
        log::warn!("report shortcut not removed: {err}");
    }
    register(app, shortcut);
}
