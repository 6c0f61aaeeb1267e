//! X11: the root window's picture with one `GetImage` request.

use crate::{CaptureError, Picture};

pub fn capture() -> Result<Picture, CaptureError> {
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{ConnectionExt, ImageFormat, ImageOrder};

    if std::env::var("XDG_SESSION_TYPE").is_ok_and(|t| t == "wayland") {
        return Err(CaptureError::Wayland);
    }
    let (conn, screen) =
        x11rb::connect(None).map_err(|err| CaptureError::NoDisplay(err.to_string()))?;
    let setup = conn.setup();
    let root = &setup.roots[screen];
    let (width, height) = (root.width_in_pixels, root.height_in_pixels);
    let image = conn
        .get_image(ImageFormat::Z_PIXMAP, root.root, 0, 0, width, height, !0)
        .map_err(x11rb::errors::ReplyError::from)
        .and_then(|cookie| cookie.reply())
        .map_err(|err| CaptureError::Refused(err.to_string()))?;
    // 24- and 32-bit screens keep a pixel in 4 bytes, blue first on little-endian servers.
    let bits = setup
        .pixmap_formats
        .iter()
        .find(|f| f.depth == image.depth)
        .map(|f| f.bits_per_pixel);
    if bits != Some(32) || setup.image_byte_order != ImageOrder::LSB_FIRST {
        return Err(CaptureError::Format(image.depth));
    }
    let pixels = usize::from(width) * usize::from(height);
    if image.data.len() < pixels * 4 {
        return Err(CaptureError::Short);
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
