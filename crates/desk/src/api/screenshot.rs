//! The screenshot a user adds to a report ([`crate::screenshot`]): kept by the desk only where
//! `privacy.allow_screenshot` allows it, and shown back to the window before it goes anywhere.

use serde::Serialize;
use ts_rs::TS;

use super::Desk;
use crate::error::Error;
use crate::screenshot;

/// A screenshot kept for the report being written.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ScreenshotView {
    /// What the report's `screenshot` names.
    pub id: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    /// The picture itself, `data:image/png;base64,…`, for the window to show.
    pub data_url: String,
}

impl Desk {
    /// Refuses when the organisation does not allow screenshots, before anything is captured.
    pub fn screenshot_allowed(&self) -> Result<(), Error> {
        Ok(crate::policy::Policy::of(&self.config()).check_screenshot()?)
    }

    /// Keeps the screen's picture (`width` × `height` RGBA pixels) for a report.
    pub fn keep_screenshot(
        &self,
        width: u32,
        height: u32,
        rgba: &[u8],
    ) -> Result<ScreenshotView, Error> {
        self.screenshot_allowed()?;
        let kept = screenshot::keep(&self.data_dir, width, height, rgba)?;
        log::info!(
            "screenshot kept: {}x{}, {} bytes",
            kept.width,
            kept.height,
            kept.bytes
        );
        view_of(kept)
    }

    /// Blacks out `areas` of the screenshot `id` in its pixels (all of them anew, from the picture
    /// as taken: none gives it back whole) and returns the picture exactly as it will go.
    pub fn hide_in_screenshot(
        &self,
        id: &str,
        areas: &[screenshot::HiddenArea],
    ) -> Result<ScreenshotView, Error> {
        self.screenshot_allowed()?;
        let kept = screenshot::hide(&self.data_dir, id, areas)?;
        log::info!("screenshot {id}: {} areas hidden", areas.len());
        view_of(kept)
    }

    /// The user took the screenshot out of the report: it is deleted.
    pub fn discard_screenshot(&self, id: &str) {
        screenshot::remove(&self.data_dir, id);
    }
}

/// A kept screenshot as the window shows it: the picture itself, exactly as it will go.
fn view_of(kept: screenshot::Kept) -> Result<ScreenshotView, Error> {
    Ok(ScreenshotView {
        data_url: screenshot::data_url(&kept.path)?,
        id: kept.id,
        width: kept.width,
        height: kept.height,
        bytes: kept.bytes,
    })
}
