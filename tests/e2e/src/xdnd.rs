//! Drops a file on a window as a file manager does, over the X drag-and-drop protocol (XDND,
//! <https://www.freedesktop.org/wiki/Specifications/XDND/>): the drag source here is a real X
//! client speaking to the app's real GTK drop target, so the app's own drop handling runs.
//!
//! The exchange: the source owns the `XdndSelection`, sends `XdndEnter` (one type,
//! `text/uri-list`) and `XdndPosition` over the middle of the window until the target's
//! `XdndStatus` accepts, then `XdndDrop`; meanwhile it answers the target's requests for the
//! selection with the file's URI, and ends at the target's `XdndFinished`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ClientMessageEvent, ConnectionExt, CreateWindowAux, EventMask, PropMode,
    SELECTION_NOTIFY_EVENT, SelectionNotifyEvent, Window, WindowClass,
};
use x11rb::wrapper::ConnectionExt as _;

/// How long the whole exchange may take before the drop counts as failed.
const LIMIT: Duration = Duration::from_secs(15);

/// Drags `file` from outside and drops it in the middle of X window `target` (an id as xdotool
/// prints it). Returns once the target says the drop is finished; fails if it refuses the drop
/// or never answers.
pub fn drop_file(display: &str, target: &str, file: &Path) -> anyhow::Result<()> {
    let target: Window = target.parse().context("an X window id")?;
    let (conn, screen) = x11rb::connect(Some(display)).context("cannot reach the X display")?;
    let root = conn.setup().roots[screen].root;
    let atom = |name: &str| -> anyhow::Result<Atom> {
        Ok(conn.intern_atom(false, name.as_bytes())?.reply()?.atom)
    };
    let [
        aware,
        enter,
        position,
        status,
        drop,
        finished,
        selection,
        copy,
        uri_list,
    ] = [
        "XdndAware",
        "XdndEnter",
        "XdndPosition",
        "XdndStatus",
        "XdndDrop",
        "XdndFinished",
        "XdndSelection",
        "XdndActionCopy",
        "text/uri-list",
    ]
    .map(atom);
    let (aware, enter, position, status, drop, finished, selection, copy, uri_list) = (
        aware?, enter?, position?, status?, drop?, finished?, selection?, copy?, uri_list?,
    );

    // The target says which protocol version it speaks; 3 is the oldest worth speaking.
    let reply = conn
        .get_property(false, target, aware, AtomEnum::ATOM, 0, 1)?
        .reply()?;
    let version = reply
        .value32()
        .and_then(|mut v| v.next())
        .context("the window does not accept drops (no XdndAware)")?;
    ensure!(
        version >= 3,
        "the window speaks XDND {version}, older than 3"
    );
    let version = version.min(5);

    let source = conn.generate_id()?;
    conn.create_window(
        x11rb::COPY_DEPTH_FROM_PARENT,
        source,
        root,
        -10,
        -10,
        1,
        1,
        0,
        WindowClass::INPUT_OUTPUT,
        0,
        &CreateWindowAux::new(),
    )?;
    conn.set_selection_owner(source, selection, x11rb::CURRENT_TIME)?;
    let geometry = conn.get_geometry(target)?.reply()?;
    let middle = conn
        .translate_coordinates(
            target,
            root,
            (geometry.width / 2) as i16,
            (geometry.height / 2) as i16,
        )?
        .reply()?;
    let at = ((middle.dst_x as u32) << 16) | (middle.dst_y as u16 as u32);
    let uri = format!("file://{}\r\n", percent_encode(&file.to_string_lossy()));

    let send = |kind: Atom, data: [u32; 5]| -> anyhow::Result<()> {
        let event = ClientMessageEvent::new(32, target, kind, data);
        conn.send_event(false, target, EventMask::NO_EVENT, event)?;
        conn.flush()?;
        Ok(())
    };
    send(enter, [source, version << 24, uri_list, 0, 0])?;
    send(position, [source, 0, at, x11rb::CURRENT_TIME, copy])?;

    let deadline = Instant::now() + LIMIT;
    let mut dropped = false;
    loop {
        let Some(event) = conn.poll_for_event()? else {
            if Instant::now() > deadline {
                bail!(
                    "the window did not {} within {} s",
                    if dropped {
                        "finish the drop"
                    } else {
                        "accept the drag"
                    },
                    LIMIT.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        match event {
            // The target reads what is dragged: the file's URI, as a file manager offers it.
            Event::SelectionRequest(request) if request.selection == selection => {
                let property = if request.property == x11rb::NONE {
                    request.target
                } else {
                    request.property
                };
                let answered = if request.target == uri_list {
                    conn.change_property8(
                        PropMode::REPLACE,
                        request.requestor,
                        property,
                        uri_list,
                        uri.as_bytes(),
                    )?;
                    property
                } else {
                    x11rb::NONE
                };
                let notify = SelectionNotifyEvent {
                    response_type: SELECTION_NOTIFY_EVENT,
                    sequence: 0,
                    time: request.time,
                    requestor: request.requestor,
                    selection: request.selection,
                    target: request.target,
                    property: answered,
                };
                conn.send_event(false, request.requestor, EventMask::NO_EVENT, notify)?;
                conn.flush()?;
            }
            Event::ClientMessage(message) if message.type_ == status && !dropped => {
                let accepted = message.data.as_data32()[1] & 1 == 1;
                if accepted {
                    send(drop, [source, 0, x11rb::CURRENT_TIME, 0, 0])?;
                    dropped = true;
                } else {
                    // Not yet (the target may still be reading the data): move again, as a
                    // hand on the mouse would.
                    std::thread::sleep(Duration::from_millis(50));
                    send(position, [source, 0, at, x11rb::CURRENT_TIME, copy])?;
                }
            }
            Event::ClientMessage(message) if message.type_ == finished => {
                let data = message.data.as_data32();
                // From version 5 the target says whether it took the drop.
                ensure!(
                    version < 5 || data[1] & 1 == 1,
                    "the window finished the drop without taking it"
                );
                conn.destroy_window(source)?;
                conn.sync()?;
                return Ok(());
            }
            _ => {}
        }
    }
}

/// A path as the path of a `file://` URI: bytes outside the unreserved set and `/` as `%XX`.
fn percent_encode(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
