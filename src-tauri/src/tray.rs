//! The tray icon and its menu: the app's home while no window is open.

use tauri::AppHandle;
use tauri::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;

use crate::window::{self, View};

/// What a menu item does, by its id.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    Show(View),
    Quit,
}

/// The menu's items: id, label.
pub const ITEMS: &[(&str, &str)] = &[
    ("report", "Report an Issue…"),
    ("export", "Export Logs…"),
    ("history", "History"),
    ("settings", "Settings"),
    ("quit", "Quit Call Support"),
];

pub fn action(id: &str) -> Option<Action> {
    Some(match id {
        "report" => Action::Show(View::Report),
        "export" => Action::Show(View::Export),
        "history" => Action::Show(View::History),
        "settings" => Action::Show(View::Settings),
        "quit" => Action::Quit,
        _ => return None,
    })
}

pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let items = ITEMS
        .iter()
        .map(|(id, label)| MenuItem::with_id(app, *id, *label, true, None::<&str>))
        .collect::<tauri::Result<Vec<_>>>()?;
    let separator = PredefinedMenuItem::separator(app)?;
    // Quit, the last item, stands apart.
    let menu = Menu::with_items(
        app,
        &[
            &items[0], &items[1], &items[2], &items[3], &separator, &items[4],
        ],
    )?;
    let mut tray = TrayIconBuilder::with_id("main")
        .tooltip("Call Support")
        .menu(&menu)
        .on_menu_event(on_menu_event);
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

fn on_menu_event(app: &AppHandle, event: MenuEvent) {
    match action(event.id().as_ref()) {
        Some(Action::Show(view)) => window::show(app, view),
        Some(Action::Quit) => {
            log::info!("quit from the tray");
            app.exit(0);
        }
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_does_something() {
        for (id, _) in ITEMS {
            assert!(action(id).is_some(), "{id}");
        }
        assert_eq!(action("quit"), Some(Action::Quit));
        assert_eq!(action("report"), Some(Action::Show(View::Report)));
        assert_eq!(action("nope"), None);
    }
}
