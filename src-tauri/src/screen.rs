//! Captures the whole screen for a screenshot the user adds to a report.
//!
//! On Linux under X11 the root window's picture is read with one `GetImage` request (x11rb, no C
//! library). A Wayland session gives applications no such access (it needs the desktop portal,
//! which asks the user), and neither platform is wired yet elsewhere: those say so in words.

/// The screen's picture: RGBA rows, top to bottom.
pub struct Picture {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

/// Why there is no picture, in words for the user.
pub type CaptureError = String;

#[cfg(target_os = "linux")]
pub fn capture() -> Result<Picture, CaptureError> {
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{ConnectionExt, ImageFormat, ImageOrder};

    if std::env::var("XDG_SESSION_TYPE").is_ok_and(|t| t == "wayland") {
        return Err(
            "this desktop (Wayland) does not let apps take screenshots yet; describe what you saw instead"
                .to_owned(),
        );
    }
    let (conn, screen) =
        x11rb::connect(None).map_err(|err| format!("cannot reach the display: {err}"))?;
    let setup = conn.setup();
    let root = &setup.roots[screen];
    let (width, height) = (root.width_in_pixels, root.height_in_pixels);
    let image = conn
        .get_image(ImageFormat::Z_PIXMAP, root.root, 0, 0, width, height, !0)
        .map_err(x11rb::errors::ReplyError::from)
        .and_then(|cookie| cookie.reply())
        .map_err(|err| format!("the display did not hand over the screen: {err}"))?;
    // 24- and 32-bit screens keep a pixel in 4 bytes, blue first on little-endian servers.
    let bits = setup
        .pixmap_formats
        .iter()
        .find(|f| f.depth == image.depth)
        .map(|f| f.bits_per_pixel);
    if bits != Some(32) || setup.image_byte_order != ImageOrder::LSB_FIRST {
        return Err(format!(
            "the screen's colour format ({} bits a pixel) is not one Call Support reads yet",
            image.depth
        ));
    }
    let pixels = usize::from(width) * usize::from(height);
    if image.data.len() < pixels * 4 {
        return Err("the display handed over less than the whole screen".to_owned());
    }
    let rgba = image.data[..pixels * 4]
        .chunks_exact(4)
        .flat_map(|p| [p[2], p[1], p[0], 255])
        .collect();
    Ok(Picture {
        width: width.into(),
        height: height.into(),
        rgba,
    })
}

#[cfg(not(target_os = "linux"))]
pub fn capture() -> Result<Picture, CaptureError> {
    Err(
        "screenshots are not available on this system yet; describe what you saw instead"
            .to_owned(),
    )
}
