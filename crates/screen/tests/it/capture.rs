//! A window of a known colour is put on the screen, and the capture must show it there.
//!
//! Runs where a display is: X11 (the Linux test run has Xvfb) or Windows (under Wine, on the
//! Xvfb display `cargo xtask windows` starts). Without one, it says so and checks that the capture
//! fails in words.

#[cfg(windows)]
mod window {
    use windows_sys::Win32::Foundation::{HWND, LPARAM, LRESULT, WPARAM};
    use windows_sys::Win32::Graphics::Gdi::{CreateSolidBrush, UpdateWindow};
    use windows_sys::Win32::System::LibraryLoader::GetModuleHandleW;
    use windows_sys::Win32::UI::WindowsAndMessaging::{
        CreateWindowExW, DefWindowProcW, DestroyWindow, DispatchMessageW, HWND_TOPMOST, MSG,
        PM_REMOVE, PeekMessageW, RegisterClassW, SW_SHOW, SWP_SHOWWINDOW, SetWindowPos, ShowWindow,
        TranslateMessage, WNDCLASSW, WS_EX_TOPMOST, WS_POPUP,
    };

    pub struct Painted(HWND);

    impl Drop for Painted {
        fn drop(&mut self) {
            // SAFETY: the window was created by `show` and is destroyed once.
            unsafe { DestroyWindow(self.0) };
        }
    }

    unsafe extern "system" fn proc_(hwnd: HWND, msg: u32, w: WPARAM, l: LPARAM) -> LRESULT {
        // SAFETY: forwarded as received.
        unsafe { DefWindowProcW(hwnd, msg, w, l) }
    }

    /// A top-most borderless window at (x, y), `size` square, filled with `rgb`.
    pub fn show(x: i32, y: i32, size: i32, rgb: (u8, u8, u8)) -> Painted {
        let name: Vec<u16> = "CallSupportCaptureTest\0".encode_utf16().collect();
        // SAFETY: plain Win32 calls with valid, NUL-terminated strings and a static window
        // procedure.
        unsafe {
            let instance = GetModuleHandleW(std::ptr::null());
            let colour = u32::from(rgb.0) | (u32::from(rgb.1) << 8) | (u32::from(rgb.2) << 16);
            let class = WNDCLASSW {
                lpfnWndProc: Some(proc_),
                hInstance: instance,
                lpszClassName: name.as_ptr(),
                hbrBackground: CreateSolidBrush(colour),
                ..std::mem::zeroed()
            };
            RegisterClassW(&class);
            let hwnd = CreateWindowExW(
                WS_EX_TOPMOST,
                name.as_ptr(),
                name.as_ptr(),
                WS_POPUP,
                x,
                y,
                size,
                size,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                instance,
                std::ptr::null(),
            );
            assert!(!hwnd.is_null(), "the test window was not created");
            ShowWindow(hwnd, SW_SHOW);
            SetWindowPos(hwnd, HWND_TOPMOST, x, y, size, size, SWP_SHOWWINDOW);
            UpdateWindow(hwnd);
            let deadline = std::time::Instant::now() + std::time::Duration::from_millis(1500);
            while std::time::Instant::now() < deadline {
                let mut msg: MSG = std::mem::zeroed();
                while PeekMessageW(&mut msg, std::ptr::null_mut(), 0, 0, PM_REMOVE) != 0 {
                    TranslateMessage(&msg);
                    DispatchMessageW(&msg);
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Painted(hwnd)
        }
    }
}

#[cfg(windows)]
#[test]
fn the_capture_shows_a_window_in_its_colour_where_it_is() {
    let colour = (12, 134, 200);
    let _window = window::show(40, 30, 120, colour);
    let picture = match callsupport_screen::capture() {
        Ok(picture) => picture,
        Err(err) => panic!("no capture: {err}"),
    };
    assert_eq!(
        picture.rgba.len(),
        (picture.width * picture.height * 4) as usize
    );
    assert!(picture.width >= 160 && picture.height >= 150);
    let at = |x: u32, y: u32| {
        let i = ((y * picture.width + x) * 4) as usize;
        (
            picture.rgba[i],
            picture.rgba[i + 1],
            picture.rgba[i + 2],
            picture.rgba[i + 3],
        )
    };
    assert_eq!(
        at(100, 90),
        (colour.0, colour.1, colour.2, 255),
        "inside the window"
    );
    assert_ne!(
        (at(20, 10).0, at(20, 10).1, at(20, 10).2),
        colour,
        "outside the window"
    );
}

/// Without a display (no X server named), the capture fails and says why.
#[cfg(target_os = "linux")]
#[test]
fn without_a_display_the_capture_fails_in_words() {
    // SAFETY: set before any thread of this test binary reads the environment.
    unsafe { std::env::set_var("DISPLAY", ":31999") };
    let err = callsupport_screen::capture().unwrap_err();
    assert!(
        err.to_string().starts_with("cannot reach the display"),
        "{err}"
    );
}
