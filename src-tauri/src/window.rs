//! The one app window: created when needed, destroyed when closed.
//!
//! The window holds a WebKit webview, most of the app's memory: closing it destroys it, and once
//! the work it started is done the app ends ([`finish_when_idle`]); the tray agent starts the app
//! again when asked. [`show`] builds the window, or brings the open one forward and tells it which
//! screen to show (the `navigate` event, [`NAVIGATE`]). A new window stays hidden until
//! the page says its first screen is drawn with what it needs ([`ready`]), so the user never sees
//! an empty window; if the page does not say so within [`READY_LIMIT`], it is shown anyway.

use std::time::{Duration, Instant};

pub use callsupport_desk::api::View;
use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindowBuilder};

use crate::ipc::NAVIGATE;

/// The window's label, as the capabilities name it.
pub const MAIN: &str = "main";
/// Longest a new window waits hidden for its page.
pub const READY_LIMIT: Duration = Duration::from_secs(2);

/// The window's size for the report screens (small, as a dialog), in logical pixels.
const DIALOG_SIZE: (f64, f64) = (560.0, 720.0);
/// At least this large for the support agent's viewer (tables, timelines, logs).
const VIEWER_SIZE: (f64, f64) = (1000.0, 760.0);

/// When the window being opened was asked for.
pub struct Opening(std::sync::Mutex<Option<Instant>>);

impl Opening {
    pub fn new() -> Opening {
        Opening(std::sync::Mutex::new(None))
    }
}

/// Shows `view`: in the open window, or in a new one.
pub fn show(app: &AppHandle, view: View) {
    if let Some(window) = app.get_webview_window(MAIN) {
        if view == View::Viewer {
            grow_for_viewer(&window);
        }
        let _ = window.emit(NAVIGATE, view);
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        return;
    }
    *app.state::<Opening>().0.lock().expect("opening lock") = Some(Instant::now());
    let url = WebviewUrl::App(format!("index.html?view={}", view.as_str()).into());
    let size = if view == View::Viewer {
        VIEWER_SIZE
    } else {
        DIALOG_SIZE
    };
    let built = WebviewWindowBuilder::new(app, MAIN, url)
        .title("Call Support")
        .inner_size(size.0, size.1)
        .min_inner_size(420.0, 520.0)
        .visible(false)
        // Ctrl+= and Ctrl+- zoom the page, for those who need larger text.
        .zoom_hotkeys_enabled(true)
        .build();
    match built {
        Ok(window) => {
            log::info!("window opening ({})", view.as_str());
            let closed = app.clone();
            window.on_window_event(move |event| match event {
                tauri::WindowEvent::CloseRequested { .. } => log::info!("window close requested"),
                tauri::WindowEvent::Destroyed => finish_when_idle(closed.clone()),
                // A bundle dropped on the window opens in the viewer.
                tauri::WindowEvent::DragDrop(tauri::DragDropEvent::Drop { paths, .. }) => {
                    if let Some(path) = paths
                        .iter()
                        .find(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip")))
                    {
                        crate::open_bundle(&closed, path);
                    }
                }
                _ => {}
            });
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                tokio::time::sleep(READY_LIMIT).await;
                if app
                    .get_webview_window(MAIN)
                    .is_some_and(|w| !w.is_visible().unwrap_or(true))
                {
                    log::warn!("the page did not say it was ready; showing the window anyway");
                    ready(&app);
                }
            });
        }
        Err(err) => log::error!("cannot open the window: {err}"),
    }
}

/// Makes the open window at least the viewer's size (a window the user made larger stays so).
fn grow_for_viewer(window: &tauri::WebviewWindow) {
    let (Ok(size), Ok(scale)) = (window.inner_size(), window.scale_factor()) else {
        return;
    };
    let size = size.to_logical::<f64>(scale);
    if size.width < VIEWER_SIZE.0 || size.height < VIEWER_SIZE.1 {
        let _ = window.set_size(tauri::LogicalSize::new(
            size.width.max(VIEWER_SIZE.0),
            size.height.max(VIEWER_SIZE.1),
        ));
    }
}

/// The page has drawn its first screen: show the window.
pub fn ready(app: &AppHandle) {
    let Some(window) = app.get_webview_window(MAIN) else {
        return;
    };
    if window.is_visible().unwrap_or(false) {
        return;
    }
    let _ = window.show();
    let _ = window.set_focus();
    if let Some(asked) = app
        .state::<Opening>()
        .0
        .lock()
        .expect("opening lock")
        .take()
    {
        log::info!(
            "window shown {} ms after it was asked for",
            asked.elapsed().as_millis()
        );
    }
}

/// The window is gone: the app ends as soon as no send or save it started is under way, unless
/// a new window was asked for meanwhile. A send goes on after its window closes and is not cut.
fn finish_when_idle(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        loop {
            if app.get_webview_window(MAIN).is_some() {
                return;
            }
            let busy = app
                .state::<crate::AppState>()
                .desk()
                .is_ok_and(|desk| desk.is_busy());
            if !busy {
                log::info!("window closed; the app ends (the tray agent stays)");
                app.exit(0);
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
}
