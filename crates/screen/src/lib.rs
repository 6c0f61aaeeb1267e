//! Captures the whole screen for a screenshot the user adds to a report.
//!
//! On Linux under X11 the root window's picture is read with one `GetImage` request (x11rb, no C
//! library). On Windows the virtual screen (every monitor) is copied with GDI's `BitBlt` into a
//! top-down 32-bit bitmap. A Wayland session gives applications no such access (it needs the
//! desktop portal, which asks the user), and macOS is not wired yet: those say so in words.

#[cfg(windows)]
mod gdi;
#[cfg(target_os = "linux")]
mod x11;

/// The screen's picture: RGBA rows, top to bottom.
#[derive(Debug)]
pub struct Picture {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

/// Why there is no picture; the message is for the user.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error(
        "this desktop (Wayland) does not let apps take screenshots yet; describe what you saw instead"
    )]
    Wayland,
    #[error("cannot reach the display: {0}")]
    NoDisplay(String),
    #[error("the display did not hand over the screen: {0}")]
    Refused(String),
    #[error("the screen's colour format ({0} bits a pixel) is not one Call Support reads yet")]
    Format(u8),
    #[error("the display handed over less than the whole screen")]
    Short,
    #[error("screenshots are not available on this system yet; describe what you saw instead")]
    Unsupported,
}

/// The whole screen (every monitor on Windows), now.
pub fn capture() -> Result<Picture, CaptureError> {
    #[cfg(target_os = "linux")]
    return x11::capture();
    #[cfg(windows)]
    return gdi::capture();
    #[cfg(not(any(target_os = "linux", windows)))]
    Err(CaptureError::Unsupported)
}
