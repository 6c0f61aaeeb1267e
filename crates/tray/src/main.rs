//! `callsupport-tray`: Call Support's agent, the part that runs all day.
//!
//! # Brief overview
//!
//! The agent puts up the tray icon and its menu ([`menu`]), listens for the report shortcut
//! (`shortcut.report`, [`hotkey`]), sends what waits in the outbox ([`deliver`]) and watches the
//! call logs for trouble, offering to report it ([`detect`], [`notify`]). It links no
//! WebKit, so idle it holds a few tens of MiB where a process with a webview library holds well
//! over a hundred. Every window belongs to the app, `callsupport-app`, which the agent starts when
//! asked ([`launch`]) and which ends when its window closes and its work is done.
//!
//! One agent runs per data folder ([`instance`]): a second one exits at once, so the app starts
//! the agent every time it starts, and the login start ([`autostart`], `startup.at_login`) runs
//! `callsupport-tray` itself.

// A Windows GUI program: no console window opens when it starts at sign-in (its messages go to
// the app log). Debug builds keep the console, for developers.
#![cfg_attr(all(windows, not(debug_assertions)), windows_subsystem = "windows")]

mod args;
mod autostart;
mod deliver;
mod detect;
mod hotkey;
mod instance;
mod launch;
mod menu;
mod notify;

use callsupport_desk::api::default_data_dir;
use callsupport_desk::applog::AppLog;
use callsupport_desk::config::{ConfigFiles, load_layered};
use callsupport_desk::shortcut::{DEFAULT_REPORT_SHORTCUT, Shortcut};
use tao::event::{Event, StartCause};
use tao::event_loop::{ControlFlow, EventLoopBuilder};
use tray_icon::menu::MenuEvent;

use crate::menu::Action;

/// What reaches the event loop from other threads.
#[derive(Debug)]
pub enum AgentEvent {
    /// A tray menu item was chosen (its id).
    Menu(String),
    /// The report shortcut was pressed.
    Shortcut,
    /// The configuration changed: the shortcut now in effect.
    ShortcutChanged(Option<Shortcut>),
    /// The user answered a detection prompt with *Report it* (the detection's id).
    ReportDetected(String),
    /// A call ended and the survey is due (the call's id).
    Survey(String),
}

fn main() {
    let args = match args::Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::exit(2);
        }
    };
    let data_dir = default_data_dir();
    let _instance = match instance::Instance::claim(&data_dir) {
        Ok(Some(instance)) => instance,
        Ok(None) => return, // Another agent runs for this data folder: it does the work.
        Err(err) => {
            eprintln!("error: {err}");
            std::process::exit(1);
        }
    };
    let _ = AppLog::open(&data_dir, log::LevelFilter::Info).map(AppLog::install);
    log::info!("tray agent {} started", callsupport_desk::VERSION);

    let files = ConfigFiles::locate(args.config.as_deref());
    let config = match load_layered(&files) {
        Ok(layered) => Some(layered.config),
        Err(err) => {
            // The app's window says what to fix; the tray still offers it.
            log::warn!("configuration: {err}");
            eprintln!("warning: {err}");
            None
        }
    };
    if args.at_login && config.as_ref().is_some_and(|c| !c.startup.at_login) {
        // The machine starts the agent for everyone; this user does not want it at sign-in.
        log::info!("started at sign-in, but startup.at_login is off for this user: not running");
        return;
    }
    // Without a usable configuration the default shortcut still opens the window, which says
    // what to fix.
    let shortcut = match &config {
        Some(config) => config.shortcut.report(),
        None => Shortcut::parse(DEFAULT_REPORT_SHORTCUT).ok(),
    };

    let login = autostart::LoginStart::new(args.config.clone());
    if let Some(config) = &config {
        login.set(config.startup.at_login);
    }

    let event_loop = EventLoopBuilder::<AgentEvent>::with_user_event().build();
    let proxy = event_loop.create_proxy();
    MenuEvent::set_event_handler(Some(move |event: MenuEvent| {
        let _ = proxy.send_event(AgentEvent::Menu(event.id.0));
    }));
    let keys = hotkey::Keys::new(event_loop.create_proxy());
    deliver::start(files, config, data_dir, login, event_loop.create_proxy());
    let launcher = launch::Launcher::new(args.config);

    let mut tray = None;
    event_loop.run(move |event, _, control_flow| {
        *control_flow = ControlFlow::Wait;
        match event {
            // The tray is made once the event loop (GTK on Linux) runs.
            Event::NewEvents(StartCause::Init) => {
                match menu::create() {
                    Ok(icon) => tray = Some(icon),
                    Err(err) => log::error!("no tray icon: {err}"),
                }
                keys.set(shortcut.clone());
            }
            Event::UserEvent(AgentEvent::Menu(id)) => match menu::action(&id) {
                Some(Action::Show(view)) => launcher.show(view),
                Some(Action::Quit) => {
                    log::info!("quit from the tray");
                    tray.take();
                    *control_flow = ControlFlow::Exit;
                }
                None => {}
            },
            Event::UserEvent(AgentEvent::Shortcut) => launcher.show(menu::View::Report),
            Event::UserEvent(AgentEvent::ShortcutChanged(shortcut)) => keys.set(shortcut),
            Event::UserEvent(AgentEvent::ReportDetected(id)) => launcher.report_detection(&id),
            Event::UserEvent(AgentEvent::Survey(call)) => launcher.survey(&call),
            _ => {}
        }
    });
}
