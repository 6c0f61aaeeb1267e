//! What WebDriver cannot reach: native dialogs, the global shortcut, windows appearing. Windows
//! are found by title on the X display and keys sent with `xdotool` (real key events through
//! XTEST, as a user's keyboard would send them).

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Waits for the GTK save dialog titled `title`, types `path` into its name field and presses
/// Enter.
pub async fn answer_save_dialog(display: &str, title: &str, path: &str) -> anyhow::Result<()> {
    let window = wait_for_window(display, title).await?;
    xdotool(display, &["windowfocus", "--sync", &window])?;
    // The name field has the focus and the suggested name selected: replace it with the path.
    xdotool(display, &["key", "--clearmodifiers", "ctrl+a"])?;
    xdotool(display, &["type", "--delay", "5", path])?;
    xdotool(display, &["key", "Return"])?;
    Ok(())
}

/// Asks window `id` to close, as the close button of a window manager does: a `WM_PROTOCOLS`
/// client message carrying `WM_DELETE_WINDOW` (the app may refuse or do something else).
///
/// Returns once the X server has handled it: a request written just before the connection
/// closes may never be handled, as the server can drop a client that hung up before reading
/// its last requests. (Xlib's `XCloseDisplay` waits for the server first; x11rb's connection
/// does not, and under load most close requests sent without waiting never reached the app.)
pub fn request_close(display: &str, id: &str) -> anyhow::Result<()> {
    use x11rb::protocol::xproto::{ClientMessageEvent, ConnectionExt, EventMask};
    use x11rb::wrapper::ConnectionExt as _;
    let window: u32 = id.parse().context("an X window id")?;
    let (conn, _) = x11rb::connect(Some(display)).context("cannot connect to the X display")?;
    let atom =
        |name: &[u8]| -> anyhow::Result<u32> { Ok(conn.intern_atom(false, name)?.reply()?.atom) };
    let protocols = atom(b"WM_PROTOCOLS")?;
    let delete = atom(b"WM_DELETE_WINDOW")?;
    let event = ClientMessageEvent::new(
        32,
        window,
        protocols,
        [delete, x11rb::CURRENT_TIME, 0, 0, 0],
    );
    conn.send_event(false, window, EventMask::NO_EVENT, event)?;
    conn.sync()?;
    Ok(())
}

/// Takes the keyboard focus from whichever window has it (to the pointer's, as at start).
pub fn unfocus(display: &str) -> anyhow::Result<()> {
    use x11rb::protocol::xproto::{ConnectionExt, InputFocus};
    use x11rb::wrapper::ConnectionExt as _;
    let (conn, _) = x11rb::connect(Some(display)).context("cannot connect to the X display")?;
    // PointerRoot as the focus window (1).
    conn.set_input_focus(InputFocus::POINTER_ROOT, 1u32, x11rb::CURRENT_TIME)?;
    conn.sync()?;
    Ok(())
}

/// The window that has the keyboard focus, if one has (not none, not the pointer's).
pub fn focused(display: &str) -> anyhow::Result<Option<String>> {
    use x11rb::protocol::xproto::ConnectionExt;
    let (conn, _) = x11rb::connect(Some(display)).context("cannot connect to the X display")?;
    let focus = conn.get_input_focus()?.reply()?.focus;
    // 0 is None, 1 is PointerRoot.
    Ok((focus > 1).then(|| focus.to_string()))
}

/// Waits up to 10 s for window `id` to have the keyboard focus, as a window the app shows takes
/// it; keys pressed before would go elsewhere.
pub async fn wait_for_focus(display: &str, id: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let focus = focused(display)?;
        if focus.as_deref() == Some(id) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("window {id} does not have the keyboard focus; {focus:?} has");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Presses a key combination (`ctrl+alt+shift+r`) on the display, wherever the focus is.
pub fn press(display: &str, keys: &str) -> anyhow::Result<()> {
    xdotool(display, &["key", "--clearmodifiers", keys])
}

/// The visible windows whose title matches `title` (a regular expression).
pub fn visible_windows(display: &str, title: &str) -> anyhow::Result<Vec<String>> {
    let out = Command::new("xdotool")
        .args(["search", "--onlyvisible", "--name", title])
        .env("DISPLAY", display)
        .output()
        .context("cannot run xdotool (package xdotool)")?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect())
}

/// Waits up to 20 s for a visible window whose title matches `title`; returns its id.
pub async fn wait_for_window(display: &str, title: &str) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(id) = visible_windows(display, title)?.into_iter().next() {
            return Ok(id);
        }
        if Instant::now() > deadline {
            bail!("no window titled {title:?} appeared on {display}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn xdotool(display: &str, args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .status()
        .context("cannot run xdotool (package xdotool)")?;
    if !status.success() {
        bail!("xdotool {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Paints the screen's background (the root window) one colour, `0xRRGGBB`, so a screenshot has
/// something known to show; `None` puts back the server's default.
pub fn paint_background(display: &str, colour: Option<u32>) -> anyhow::Result<()> {
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{ChangeWindowAttributesAux, ConnectionExt};
    use x11rb::wrapper::ConnectionExt as _;
    let (conn, screen) = x11rb::connect(Some(display)).context("cannot reach the X display")?;
    let root = conn.setup().roots[screen].root;
    let attributes = match colour {
        Some(colour) => ChangeWindowAttributesAux::new().background_pixel(colour),
        None => ChangeWindowAttributesAux::new().background_pixmap(0u32),
    };
    conn.change_window_attributes(root, &attributes)?;
    conn.clear_area(false, root, 0, 0, 0, 0)?;
    conn.sync()?;
    Ok(())
}

/// Answers the native open dialog titled `title` with `path`: Ctrl+L opens the dialog's location
/// field, the path goes in, and Return opens the file.
pub async fn answer_open_dialog(display: &str, title: &str, path: &str) -> anyhow::Result<()> {
    let window = wait_for_window(display, title).await?;
    xdotool(display, &["windowfocus", "--sync", &window])?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    xdotool(display, &["key", "--clearmodifiers", "ctrl+l"])?;
    xdotool(display, &["type", "--delay", "5", path])?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    xdotool(display, &["key", "Return"])?;
    Ok(())
}
