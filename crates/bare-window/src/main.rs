//! A bare Tauri 2 window with one static page: no tray, no plugins, no commands. The app's
//! benchmark starts it beside Call Support to show what the framework itself costs.

fn main() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("the bare window failed");
}
