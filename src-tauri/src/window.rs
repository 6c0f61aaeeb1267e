//! The one app window: created when needed, destroyed when closed.
//!
//! The app lives in the tray; its window holds a WebKit webview, most of the app's memory, so
//! closing the window destroys it and [`show`] builds a new one (or brings the open one forward
//! and tells it which screen to show, with the `navigate` event).

pub use callsupport_core::api::View;
use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindowBuilder};

/// The window's label, as the capabilities name it.
pub const MAIN: &str = "main";
/// The event that tells an open window which screen to show.
pub const NAVIGATE: &str = "navigate";

/// Shows `view`: in the open window, or in a new one.
pub fn show(app: &AppHandle, view: View) {
    if let Some(window) = app.get_webview_window(MAIN) {
        let _ = window.emit(NAVIGATE, view);
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        return;
    }
    let url = WebviewUrl::App(format!("index.html?view={}", view.as_str()).into());
    let built = WebviewWindowBuilder::new(app, MAIN, url)
        .title("Call Support")
        .inner_size(560.0, 720.0)
        .min_inner_size(420.0, 520.0)
        // Ctrl+= and Ctrl+- zoom the page, for those who need larger text.
        .zoom_hotkeys_enabled(true)
        .focused(true)
        .build();
    match built {
        Ok(window) => {
            log::info!("window opened ({})", view.as_str());
            window.on_window_event(|event| {
                if let tauri::WindowEvent::Destroyed = event {
                    log::info!("window closed; the app stays in the tray");
                }
            });
        }
        Err(err) => log::error!("cannot open the window: {err}"),
    }
}
