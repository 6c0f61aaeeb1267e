//! The one app window: created when needed, destroyed when closed.
//!
//! The window holds a WebKit webview, most of the app's memory: closing it destroys it, and once
//! the work it started is done the app ends ([`finish_when_idle`]); the tray agent starts the app
//! again when asked. [`show`] builds the window, or brings the open one forward and tells it which
//! screen to show (the `navigate` event, [`NAVIGATE`]). A new window stays hidden until
//! the page says its first screen is drawn with what it needs ([`ready`]), so the user never sees
//! an empty window; if the page does not say so within [`READY_LIMIT`], it is shown anyway.
//! A window shown takes the keyboard focus once it is on screen ([`focus_when_shown`]), so the
//! first keys typed reach it. Ctrl+= / Ctrl+- / Ctrl+0 zoom the page ([`ZOOM_KEYS`]).

use std::time::{Duration, Instant};

pub use callsupport_desk::api::View;
use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindow, WebviewWindowBuilder};

use crate::ipc::NAVIGATE;

/// The window's label, as the capabilities name it.
pub const MAIN: &str = "main";
/// Longest a new window waits hidden for its page.
pub const READY_LIMIT: Duration = Duration::from_secs(2);
/// Longest a window asked to show is waited for to be on screen before it takes the focus.
const FOCUS_LIMIT: Duration = Duration::from_secs(5);

/// The page zoom for those who need larger text: Ctrl+= (or Ctrl++) and Ctrl+- zoom in and out
/// by 20% (20% to 1000%), Ctrl+0 goes back to 100%, and so does Ctrl with the mouse wheel; Cmd on
/// macOS. Each key press is one step, applied in the order pressed: one zoom request is under way
/// at a time, and the level wanted when it returns goes next. (Tauri's own zoom hotkeys send a
/// request a step without waiting; each runs as its own task, so two close together can be
/// applied in either order, leaving the page a step short, at 180% after five presses.)
const ZOOM_KEYS: &str = r#"(() => {
  const STEP = 0.2;
  const MIN_STEPS = -4;
  const MAX_STEPS = 45;
  const MODIFIER = "__MODIFIER__";
  // Steps from 100%: the level asked for, and the one the webview was last set to.
  let wanted = 0;
  let applied = 0;
  let applying = false;
  async function apply() {
    if (applying) return;
    applying = true;
    try {
      while (applied !== wanted) {
        const steps = wanted;
        const value = Math.round((1 + steps * STEP) * 100) / 100;
        await window.__TAURI_INTERNALS__.invoke("plugin:webview|set_webview_zoom", { value });
        applied = steps;
      }
    } catch (error) {
      console.error("cannot zoom the page", error);
    } finally {
      applying = false;
    }
  }
  function zoom(steps) {
    wanted = Math.min(Math.max(steps, MIN_STEPS), MAX_STEPS);
    void apply();
  }
  window.addEventListener("keydown", (event) => {
    if (!event[MODIFIER] || event.altKey) return;
    if (event.key === "=" || event.key === "+") zoom(wanted + 1);
    else if (event.key === "-") zoom(wanted - 1);
    else if (event.key === "0") zoom(0);
    else return;
    event.preventDefault();
  }, true);
  window.addEventListener("wheel", (event) => {
    if (!event.ctrlKey || event.deltaY === 0) return;
    event.preventDefault();
    zoom(wanted + (event.deltaY < 0 ? 1 : -1));
  }, { capture: true, passive: false });
})();"#;

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
        focus_when_shown(&window);
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
        .initialization_script(ZOOM_KEYS.replace(
            "__MODIFIER__",
            if cfg!(target_os = "macos") {
                "metaKey"
            } else {
                "ctrlKey"
            },
        ))
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
                        .find(|p| callsupport_desk::api::is_bundle_name(p))
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
    focus_when_shown(&window);
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

/// Gives `window` the keyboard focus once it is on screen and not minimized. Showing and
/// restoring are done by the event loop after they are asked for, and a window not yet shown
/// cannot take the focus: asked at once (as `show(); set_focus()` does), the request is dropped,
/// and what the user types next goes to the window behind.
fn focus_when_shown(window: &WebviewWindow) {
    let window = window.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let deadline = Instant::now() + FOCUS_LIMIT;
        loop {
            match (window.is_visible(), window.is_minimized()) {
                (Ok(true), Ok(false)) => {
                    let _ = window.set_focus();
                    return;
                }
                // Closed meanwhile.
                (Err(_), _) | (_, Err(_)) => return,
                _ if Instant::now() > deadline => {
                    log::warn!("the window was not shown within {FOCUS_LIMIT:?}; not focused");
                    return;
                }
                _ => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
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
