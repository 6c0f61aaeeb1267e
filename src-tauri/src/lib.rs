//! The Call Support desktop app: a thin Tauri shell over `callsupport-desk`.
//!
//! # Brief overview
//!
//! [`run`] reads the command line, loads the configuration into a [`Desk`] kept in
//! `tauri::State`, and registers the commands of [`commands`], each a few lines that call the core.
//! Their names and those of the events the app sends the window are one list, in [`ipc`]: the
//! handler below, `build.rs` (what the window may call), the capability's check and the UI's
//! `generated/ipc.ts` all follow from it.
//! A configuration that cannot be loaded does not stop the app: every command then answers with the
//! `config_invalid` error so the window can say what to fix. A background task ticks the desk's
//! outbox schedule: what waits is sent after start, every five minutes, and when the network returns.
//!
//! The app runs while it has a window, or work the window started: its one window ([`window`])
//! holds a WebKit webview, most of its memory, so when the window closes and no send or save is
//! under way, the app ends. What runs all day is the tray [`agent`], `callsupport-tray`, which
//! the app starts and which starts the app again from its menu and the report shortcut. The app
//! runs once per user: a second launch hands its command line to the first and exits.

#[macro_use]
pub mod ipc;

mod agent;
mod args;
mod commands;
mod window;

use std::time::Duration;

use callsupport_desk::api::{ApiError, Desk, default_data_dir};
use callsupport_desk::applog::AppLog;
use callsupport_desk::config::{ConfigFiles, load_layered};
use callsupport_desk::outbox::Tending;
use ipc::{BUNDLE_OPENED, INDEX_CHANGED, OUTBOX_CHANGED};
use tauri::{Emitter, Manager, RunEvent};

/// `generate_handler!` over the commands of [`ipc`]'s list, each the function of that name in
/// [`commands`].
macro_rules! handler {
    (commands: [$($command:ident),* $(,)?], events: [$($event:tt)*] $(,)?) => {
        tauri::generate_handler![$(commands::$command),*]
    };
}

/// Opens `path` in the viewer for the window: handed over, announced, shown.
pub fn open_bundle(app: &tauri::AppHandle, path: &std::path::Path) {
    app.state::<callsupport_desk::api::Viewer>().hand_over(path);
    let _ = app.emit(BUNDLE_OPENED, ());
    window::show(app, window::View::Viewer);
}

/// What the commands work on: the desk, or why there is none.
pub struct AppState {
    desk: Result<Desk, ApiError>,
}

impl AppState {
    fn desk(&self) -> Result<&Desk, ApiError> {
        self.desk.as_ref().map_err(Clone::clone)
    }
}

/// Sends what waits in the outbox: shortly after start, every few minutes, and as soon as the
/// service can be reached again after the network failed (the desk decides; this only ticks).
async fn tend_outbox(app: tauri::AppHandle) {
    let mut tending = Tending::default();
    tokio::time::sleep(Duration::from_secs(5)).await;
    loop {
        let state = app.state::<AppState>();
        let Ok(desk) = state.desk() else { return };
        if desk.tend_outbox_logged(&mut tending).await {
            let _ = app.emit(OUTBOX_CHANGED, ());
        }
        tokio::time::sleep(Tending::TICK).await;
    }
}

pub fn run() {
    let args = match args::Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(2);
        }
    };
    // Our own log, which bundles carry; without a writable data folder the app runs unlogged.
    let _ = AppLog::open(&default_data_dir(), log::LevelFilter::Info).map(AppLog::install);
    log::info!("Call Support {} started", callsupport_desk::VERSION);
    // The machine-wide file under the user's; a broken user file is ignored and said so.
    let files = ConfigFiles::locate(args.config.as_deref());
    let layered =
        load_layered(&files).map_err(|err| ApiError::from(callsupport_desk::Error::from(err)));
    match &layered {
        Ok(layered) => {
            for ignored in &layered.ignored {
                log::warn!("configuration: {ignored}");
                eprintln!("warning: {ignored}");
            }
            for problem in &layered.config.problems {
                eprintln!("warning: {problem}; this source is left out");
            }
        }
        Err(err) => eprintln!("warning: {}", err.message),
    }

    agent::ensure_running(args.config.as_deref());
    let (show, link, bundle, detection, survey) = (
        args.show,
        args.link.clone(),
        args.bundle.clone(),
        args.detection.clone(),
        args.survey.clone(),
    );
    let app = tauri::Builder::default()
        // First: a second launch stops here, in the second process.
        .plugin(tauri_plugin_single_instance::init(|app, argv, cwd| {
            second_launch(app, argv, cwd)
        }))
        .setup(move |app| {
            // The agent's key for sealed bundles, from the configuration when there is one.
            let identity_file = layered
                .as_ref()
                .ok()
                .and_then(|layered| layered.config.viewer.identity_path());
            // The index pushes every change of the support files to the window: no polling.
            let handle = app.handle().clone();
            let desk = layered.map(|layered| {
                let desk = Desk::with_index_sink(
                    layered.config.clone(),
                    default_data_dir(),
                    move |event| {
                        let _ = handle.emit(INDEX_CHANGED, event);
                    },
                );
                desk.set_layers(files, layered);
                desk
            });
            app.manage(AppState { desk });
            app.manage(window::Opening::new());
            let viewer = callsupport_desk::api::Viewer::default();
            viewer.use_identity_file(identity_file);
            app.manage(viewer);
            tauri::async_runtime::spawn(tend_outbox(app.handle().clone()));
            if let Some(id) = &detection {
                open_detection(app.handle(), id);
            }
            if let Some(call) = &survey {
                open_survey(app.handle(), call);
            }
            let show = bundle.is_none().then_some(show);
            if let Some(path) = &bundle {
                open_bundle(app.handle(), path);
            }
            match &link {
                Some(link) => open_link(app.handle(), link, show),
                None => show
                    .into_iter()
                    .for_each(|view| window::show(app.handle(), view)),
            }
            Ok(())
        })
        .invoke_handler(ipc_list!(handler))
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(tauri::Error::PluginInitialization(plugin, reason)) if plugin == "single-instance" => {
            start_again(&reason)
        }
        Err(err) => {
            log::error!("cannot start: {err}");
            eprintln!("error: Call Support cannot start: {err}");
            std::process::exit(1);
        }
    };
    app.run(|_, event| {
        // The last window closing does not end the app by itself: [`window`] ends it once the
        // work that window started is done.
        if let RunEvent::ExitRequested {
            code: None, api, ..
        } = event
        {
            api.prevent_exit();
        }
    });
}

/// How many times this launch has started again (see [`start_again`]).
const RELAUNCH_ENV: &str = "CALLSUPPORT_RELAUNCH";

/// A running app was found but went away while this launch handed its command line over (it was
/// quitting, its window just closed): start again, now as the only one. Three times at most.
fn start_again(reason: &str) -> ! {
    let tries: u32 = std::env::var(RELAUNCH_ENV)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    if tries >= 3 {
        log::error!("cannot hand over to the running app: {reason}");
        eprintln!("error: Call Support is still closing; start it again in a moment ({reason})");
        std::process::exit(1);
    }
    log::warn!(
        "the running app went away while this launch handed over ({reason}); starting again"
    );
    std::thread::sleep(Duration::from_millis(300));
    let mut again = std::process::Command::new(
        std::env::current_exe().unwrap_or_else(|_| "callsupport-app".into()),
    );
    again
        .args(std::env::args_os().skip(1))
        .env(RELAUNCH_ENV, (tries + 1).to_string());
    #[cfg(unix)]
    {
        // The same process goes on, so whoever started it (a desktop, WebDriver) still has it.
        let err = std::os::unix::process::CommandExt::exec(&mut again);
        eprintln!("error: Call Support cannot start again: {err}");
        std::process::exit(1);
    }
    #[cfg(not(unix))]
    {
        let code = again.status().ok().and_then(|s| s.code()).unwrap_or(1);
        std::process::exit(code);
    }
}

/// Another launch of the app (the tray, the shortcut, a start-menu click, a link) while this one
/// runs: show the screen it asks for.
fn second_launch(app: &tauri::AppHandle, argv: Vec<String>, cwd: String) {
    match args::Args::parse(argv.into_iter().skip(1)) {
        Ok(args) => {
            if let Some(id) = &args.detection {
                open_detection(app, id);
            }
            if let Some(call) = &args.survey {
                open_survey(app, call);
            }
            let show = args.bundle.is_none().then_some(args.show);
            if let Some(path) = &args.bundle {
                // A relative path is the other launch's, from its working folder.
                open_bundle(app, &std::path::Path::new(&cwd).join(path));
            }
            match &args.link {
                Some(link) => open_link(app, link, show),
                None => show.into_iter().for_each(|view| window::show(app, view)),
            }
        }
        Err(err) => log::warn!("second launch with a bad command line: {err}"),
    }
}

/// A prompt answered with *Report it*: the report screen starts from that detection.
fn open_detection(app: &tauri::AppHandle, id: &str) {
    if let Ok(desk) = app.state::<AppState>().desk()
        && let Err(err) = desk.open_detection(id)
    {
        log::warn!("{err}");
    }
}

/// The tray agent saw a call end: the survey asks about it.
fn open_survey(app: &tauri::AppHandle, call_id: &str) {
    if let Ok(desk) = app.state::<AppState>().desk() {
        desk.open_survey(call_id);
    }
}

/// A `callsupport://` link from support: checked (which may ask the ticket service for its key),
/// then `show` shown, whose report screen names the link's ticket or says why the link cannot
/// be used (the desk keeps either for the window).
fn open_link(app: &tauri::AppHandle, link: &str, show: Option<window::View>) {
    let (app, link) = (app.clone(), link.to_owned());
    tauri::async_runtime::spawn(async move {
        if let Ok(desk) = app.state::<AppState>().desk() {
            let _ = desk.open_link(&link).await;
        }
        if let Some(view) = show {
            window::show(&app, view);
        }
    });
}
