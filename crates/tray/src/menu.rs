//! The tray icon and its menu: the app's home while no window is open.

pub use callsupport_desk::api::View;
use tray_icon::menu::{Menu, MenuItem, PredefinedMenuItem};
use tray_icon::{Icon, TrayIcon, TrayIconBuilder};

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
    ("viewer", "Open Bundle…"),
    ("quit", "Quit Call Support"),
];

/// The icon, as the installers carry it.
const ICON_PNG: &[u8] = include_bytes!("../../../icons/32x32.png");

pub fn action(id: &str) -> Option<Action> {
    Some(match id {
        "report" => Action::Show(View::Report),
        "export" => Action::Show(View::Export),
        "history" => Action::Show(View::History),
        "settings" => Action::Show(View::Settings),
        "viewer" => Action::Show(View::Viewer),
        "quit" => Action::Quit,
        _ => return None,
    })
}

/// The tray icon with its menu; it stays while the returned value lives.
pub fn create() -> Result<TrayIcon, Box<dyn std::error::Error>> {
    let menu = Menu::new();
    for (i, (id, label)) in ITEMS.iter().enumerate() {
        // Quit, the last item, stands apart.
        if i == ITEMS.len() - 1 {
            menu.append(&PredefinedMenuItem::separator())?;
        }
        menu.append(&MenuItem::with_id(*id, *label, true, None))?;
    }
    Ok(TrayIconBuilder::new()
        .with_id("main")
        .with_tooltip("Call Support")
        .with_menu(Box::new(menu))
        .with_icon(icon()?)
        .build()?)
}

fn icon() -> Result<Icon, Box<dyn std::error::Error>> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(ICON_PNG));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info()?;
    let mut pixels = vec![0; reader.output_buffer_size().ok_or("icon too large")?];
    let frame = reader.next_frame(&mut pixels)?;
    pixels.truncate(frame.buffer_size());
    let rgba = match frame.color_type {
        png::ColorType::Rgba => pixels,
        png::ColorType::Rgb => pixels
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        other => return Err(format!("the tray icon must be RGB or RGBA, not {other:?}").into()),
    };
    Ok(Icon::from_rgba(rgba, frame.width, frame.height)?)
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

    #[test]
    fn the_icon_decodes() {
        icon().expect("the bundled icon is a usable tray icon");
    }
}
