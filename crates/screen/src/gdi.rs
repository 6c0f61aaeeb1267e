//! Windows: the virtual screen (all monitors) copied with GDI's `BitBlt` into a top-down 32-bit
//! bitmap, then turned from BGRA into RGBA.

use windows_sys::Win32::Graphics::Gdi::{
    BI_RGB, BITMAPINFO, BITMAPINFOHEADER, BitBlt, CAPTUREBLT, CreateCompatibleBitmap,
    CreateCompatibleDC, DIB_RGB_COLORS, DeleteDC, DeleteObject, GetDC, GetDIBits, HDC, HGDIOBJ,
    ReleaseDC, SRCCOPY, SelectObject,
};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    GetSystemMetrics, SM_CXVIRTUALSCREEN, SM_CYVIRTUALSCREEN, SM_XVIRTUALSCREEN, SM_YVIRTUALSCREEN,
};

use crate::{CaptureError, Picture};

/// The GDI objects of one capture, released however it ends.
struct Gdi {
    screen: HDC,
    memory: HDC,
    bitmap: HGDIOBJ,
}

impl Drop for Gdi {
    fn drop(&mut self) {
        // SAFETY: each handle was created by this capture and is released once.
        unsafe {
            if !self.bitmap.is_null() {
                DeleteObject(self.bitmap);
            }
            if !self.memory.is_null() {
                DeleteDC(self.memory);
            }
            ReleaseDC(std::ptr::null_mut(), self.screen);
        }
    }
}

fn last_error(what: &str) -> CaptureError {
    CaptureError::Refused(format!("{what}: {}", std::io::Error::last_os_error()))
}

pub fn capture() -> Result<Picture, CaptureError> {
    // SAFETY: plain GDI calls on handles this function owns (see `Gdi`); the buffer handed to
    // `GetDIBits` holds exactly `height` rows of `width` 4-byte pixels.
    unsafe {
        let (x, y) = (
            GetSystemMetrics(SM_XVIRTUALSCREEN),
            GetSystemMetrics(SM_YVIRTUALSCREEN),
        );
        let (width, height) = (
            GetSystemMetrics(SM_CXVIRTUALSCREEN),
            GetSystemMetrics(SM_CYVIRTUALSCREEN),
        );
        if width <= 0 || height <= 0 {
            return Err(CaptureError::NoDisplay("no screen is attached".into()));
        }
        let screen = GetDC(std::ptr::null_mut());
        if screen.is_null() {
            return Err(CaptureError::NoDisplay(
                std::io::Error::last_os_error().to_string(),
            ));
        }
        let mut gdi = Gdi {
            screen,
            memory: std::ptr::null_mut(),
            bitmap: std::ptr::null_mut(),
        };
        gdi.memory = CreateCompatibleDC(screen);
        if gdi.memory.is_null() {
            return Err(last_error("CreateCompatibleDC"));
        }
        gdi.bitmap = CreateCompatibleBitmap(screen, width, height);
        if gdi.bitmap.is_null() {
            return Err(last_error("CreateCompatibleBitmap"));
        }
        let previous = SelectObject(gdi.memory, gdi.bitmap);
        // CAPTUREBLT takes layered (translucent) windows too.
        let copied = BitBlt(
            gdi.memory,
            0,
            0,
            width,
            height,
            screen,
            x,
            y,
            SRCCOPY | CAPTUREBLT,
        );
        SelectObject(gdi.memory, previous);
        if copied == 0 {
            return Err(last_error("BitBlt"));
        }
        let mut info: BITMAPINFO = std::mem::zeroed();
        info.bmiHeader = BITMAPINFOHEADER {
            biSize: std::mem::size_of::<BITMAPINFOHEADER>() as u32,
            biWidth: width,
            // Negative: rows top to bottom.
            biHeight: -height,
            biPlanes: 1,
            biBitCount: 32,
            biCompression: BI_RGB,
            ..std::mem::zeroed()
        };
        let (w, h) = (width as usize, height as usize);
        let mut bgra = vec![0u8; w * h * 4];
        let rows = GetDIBits(
            gdi.memory,
            gdi.bitmap,
            0,
            height as u32,
            bgra.as_mut_ptr().cast(),
            &mut info,
            DIB_RGB_COLORS,
        );
        if rows != height {
            return Err(CaptureError::Short);
        }
        for pixel in bgra.chunks_exact_mut(4) {
            pixel.swap(0, 2);
            pixel[3] = 255;
        }
        Ok(Picture {
            width: width as u32,
            height: height as u32,
            rgba: bgra,
        })
    }
}
