//! Screenshots the user adds to a report.
//!
//! # Brief overview
//!
//! The shell captures the screen (that is the platform's business) and hands the pixels to
//! [`keep`], which encodes them as PNG into `<data dir>/screenshots/<id>.png`, written aside and
//! renamed into place. A report that names the id carries the file as the one file of the reserved
//! source [`SOURCE_ID`], of kind [`SourceKind::Screenshot`]: listed on the consent screen, it can
//! be unticked like any file, and it is stored in the bundle as it is. Before that, the user can
//! hide areas of it ([`hide`]): they are blacked out in the pixels of `<id>.png`, the picture
//! that goes, made each time from the picture as taken (`<id>.original.png`, which never leaves
//! the computer), so boxes can be added and taken away. Screenshots older than [`MAX_AGE`] are
//! removed ([`prune`]); one that went out with a report is removed, original too, once the report
//! is sent or saved.

use callsupport_error::{Coded, ErrorCode};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use uuid::Uuid;

use crate::config::SourceKind;
use crate::sources::{SourceFile, SourceScan};

/// The source a screenshot is filed under in a report; reserved.
pub const SOURCE_ID: &str = callsupport_bundle::SCREENSHOT_SOURCE_ID;
/// Its name inside the bundle, below `files/screenshot/`.
pub const FILE_NAME: &str = "screenshot.png";
/// A screenshot not used by then is removed.
pub const MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);
/// The largest picture kept (a 7680×4320 screen); anything larger is not a screen.
const MAX_PIXELS: u64 = 7680 * 4320;

#[derive(Debug, thiserror::Error)]
pub enum ScreenshotError {
    #[error("no screenshot could be taken: {0}")]
    Unavailable(String),
    #[error("that screenshot is no longer here; take it again")]
    Gone,
    #[error("the screen's picture is {width}×{height} but holds {bytes} bytes; take it again")]
    BadPicture {
        width: u32,
        height: u32,
        bytes: usize,
    },
    #[error("{} is not a PNG picture; attach a screenshot saved as .png", .0.display())]
    NotAPng(PathBuf),
    #[error(
        "hidden area {index} ({x}, {y}, {width}×{height}) is not inside the {picture_width}×{picture_height} picture; draw it on the screenshot"
    )]
    BadArea {
        index: usize,
        x: u32,
        y: u32,
        width: u32,
        height: u32,
        picture_width: u32,
        picture_height: u32,
    },
    #[error("{0} hidden areas is too many; hide at most {MAX_AREAS} (one box can cover several)")]
    TooManyAreas(usize),
    #[error("cannot keep the screenshot in {path}: {source}")]
    Io { path: String, source: io::Error },
}

/// A screenshot kept for a report.
#[derive(Debug, Clone)]
pub struct Kept {
    pub id: String,
    pub path: PathBuf,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
}

pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("screenshots")
}

/// Encodes `rgba` (`width` × `height` pixels, 4 bytes each, rows top to bottom) as PNG and keeps
/// it under a new id. Nothing is left behind on failure.
pub fn keep(
    data_dir: &Path,
    width: u32,
    height: u32,
    rgba: &[u8],
) -> Result<Kept, ScreenshotError> {
    let pixels = u64::from(width) * u64::from(height);
    if width == 0 || height == 0 || pixels > MAX_PIXELS || rgba.len() as u64 != pixels * 4 {
        return Err(ScreenshotError::BadPicture {
            width,
            height,
            bytes: rgba.len(),
        });
    }
    let dir = dir(data_dir);
    let io_error = |path: &Path| {
        let path = path.display().to_string();
        move |source| ScreenshotError::Io { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
    prune(data_dir, SystemTime::now());
    let id = Uuid::now_v7().to_string();
    let path = dir.join(format!("{id}.png"));
    let partial = dir.join(format!(".{id}.png.partial"));
    let written =
        write_png(&partial, width, height, rgba).and_then(|()| std::fs::rename(&partial, &path));
    if let Err(err) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(io_error(&path)(err));
    }
    let bytes = std::fs::metadata(&path).map_err(io_error(&path))?.len();
    Ok(Kept {
        id,
        path,
        width,
        height,
        bytes,
    })
}

fn write_png(path: &Path, width: u32, height: u32, rgba: &[u8]) -> io::Result<()> {
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(io::Error::other)?;
    writer.write_image_data(rgba).map_err(io::Error::other)?;
    writer.finish().map_err(io::Error::other)?;
    let mut file = std::fs::File::create(path)?;
    io::Write::write_all(&mut file, &png)?;
    file.sync_all()
}

/// The file of the screenshot `id`, if it is still kept. Ids are ours (UUIDs): anything else,
/// such as a path, is not one.
pub fn path_of(data_dir: &Path, id: &str) -> Result<PathBuf, ScreenshotError> {
    let id = Uuid::parse_str(id).map_err(|_| ScreenshotError::Gone)?;
    let path = dir(data_dir).join(format!("{id}.png"));
    if path.is_file() {
        Ok(path)
    } else {
        Err(ScreenshotError::Gone)
    }
}

/// Removes the screenshot `id` and the picture as taken; one already gone is fine.
pub fn remove(data_dir: &Path, id: &str) {
    if let Ok(path) = path_of(data_dir, id) {
        remove_path(&path);
    }
}

/// Removes the screenshot at `path` (as [`path_of`] gives it) and the picture as taken.
pub fn remove_path(path: &Path) {
    let _ = std::fs::remove_file(original_of(path));
    let _ = std::fs::remove_file(path);
}

/// The most areas one screenshot may have hidden.
pub const MAX_AREAS: usize = 64;

/// An area of a screenshot to black out, in the picture's own pixels from its top left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, ts_rs::TS)]
pub struct HiddenArea {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// The picture as taken, kept beside the one that goes while areas are hidden.
fn original_of(path: &Path) -> PathBuf {
    path.with_extension("original.png")
}

/// Makes the screenshot `id` the picture as taken with `areas` blacked out (opaque black, in the
/// pixels themselves); no areas gives the picture as taken back. Each area must lie within the
/// picture. Returns the screenshot as it now goes.
pub fn hide(data_dir: &Path, id: &str, areas: &[HiddenArea]) -> Result<Kept, ScreenshotError> {
    if areas.len() > MAX_AREAS {
        return Err(ScreenshotError::TooManyAreas(areas.len()));
    }
    let path = path_of(data_dir, id)?;
    let original = original_of(&path);
    let io_error = |path: &Path| {
        let path = path.display().to_string();
        move |source| ScreenshotError::Io { path, source }
    };
    if !original.exists() {
        // The first change: what was taken is set aside, unchanged, for later ones.
        std::fs::copy(&path, &original).map_err(io_error(&original))?;
    }
    let (width, height, mut rgba) = read_png(&original).map_err(io_error(&original))?;
    for (index, area) in areas.iter().enumerate() {
        let inside = area.width > 0
            && area.height > 0
            && area
                .x
                .checked_add(area.width)
                .is_some_and(|right| right <= width)
            && area
                .y
                .checked_add(area.height)
                .is_some_and(|bottom| bottom <= height);
        if !inside {
            return Err(ScreenshotError::BadArea {
                index,
                x: area.x,
                y: area.y,
                width: area.width,
                height: area.height,
                picture_width: width,
                picture_height: height,
            });
        }
        for row in area.y..area.y + area.height {
            let start = (row as usize * width as usize + area.x as usize) * 4;
            for pixel in rgba[start..start + area.width as usize * 4].chunks_exact_mut(4) {
                pixel.copy_from_slice(&[0, 0, 0, 255]);
            }
        }
    }
    let dir = dir(data_dir);
    let partial = dir.join(format!(".{id}.png.partial"));
    let written =
        write_png(&partial, width, height, &rgba).and_then(|()| std::fs::rename(&partial, &path));
    if let Err(err) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(io_error(&path)(err));
    }
    let bytes = std::fs::metadata(&path).map_err(io_error(&path))?.len();
    Ok(Kept {
        id: id.to_owned(),
        path,
        width,
        height,
        bytes,
    })
}

/// The pixels of one of our PNGs, as RGBA.
fn read_png(path: &Path) -> io::Result<(u32, u32, Vec<u8>)> {
    let decoder = png::Decoder::new(io::BufReader::new(std::fs::File::open(path)?));
    let mut reader = decoder.read_info().map_err(io::Error::other)?;
    let info = reader.info();
    let (width, height) = (info.width, info.height);
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(io::Error::other("the picture is larger than a screen"));
    }
    let mut rgba = vec![
        0u8;
        reader
            .output_buffer_size()
            .ok_or_else(|| io::Error::other("the picture is too large"))?
    ];
    let frame = reader.next_frame(&mut rgba).map_err(io::Error::other)?;
    if frame.color_type != png::ColorType::Rgba || frame.bit_depth != png::BitDepth::Eight {
        return Err(io::Error::other("not a picture Call Support took"));
    }
    rgba.truncate(frame.buffer_size());
    Ok((width, height, rgba))
}

/// Removes screenshots (and leftovers of interrupted writes) older than [`MAX_AGE`].
pub fn prune(data_dir: &Path, now: SystemTime) {
    crate::tidy::remove_older_than(&dir(data_dir), MAX_AGE, now);
}

/// The screenshot at `path` as a source of one file, for a report's plan. It must be a PNG
/// picture of at most a 7680×4320 screen.
pub fn scan(path: &Path) -> Result<SourceScan, ScreenshotError> {
    let metadata = std::fs::metadata(path).map_err(|_| ScreenshotError::Gone)?;
    let mut head = [0u8; 24];
    let png = std::fs::File::open(path)
        .and_then(|mut file| io::Read::read_exact(&mut file, &mut head))
        .is_ok()
        && head.starts_with(b"\x89PNG\r\n\x1a\n")
        && &head[12..16] == b"IHDR";
    let width = u64::from(u32::from_be_bytes([head[16], head[17], head[18], head[19]]));
    let height = u64::from(u32::from_be_bytes([head[20], head[21], head[22], head[23]]));
    if !png || width * height > MAX_PIXELS || !metadata.is_file() {
        return Err(ScreenshotError::NotAPng(path.to_path_buf()));
    }
    Ok(SourceScan {
        id: SOURCE_ID.to_owned(),
        name: "Screenshot".to_owned(),
        kind: SourceKind::Screenshot,
        root: path.parent().unwrap_or(path).to_path_buf(),
        files: vec![SourceFile {
            source_id: SOURCE_ID.to_owned(),
            path: path.to_path_buf(),
            relative: FILE_NAME.to_owned(),
            size: metadata.len(),
            modified: metadata.modified().unwrap_or_else(|_| SystemTime::now()),
            kind: SourceKind::Screenshot,
            encrypted: false,
            calls: Vec::new(),
        }],
        skipped: Vec::new(),
    })
}

/// The PNG at `path` as a `data:` URL, for the window to show.
pub fn data_url(path: &Path) -> Result<String, ScreenshotError> {
    use base64::Engine;
    let bytes = std::fs::read(path).map_err(|_| ScreenshotError::Gone)?;
    Ok(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

impl Coded for ScreenshotError {
    fn code(&self) -> ErrorCode {
        match self {
            ScreenshotError::Gone
            | ScreenshotError::BadPicture { .. }
            | ScreenshotError::NotAPng(_)
            | ScreenshotError::BadArea { .. }
            | ScreenshotError::TooManyAreas(_) => ErrorCode::ReportInvalid,
            ScreenshotError::Unavailable(_) | ScreenshotError::Io { .. } => ErrorCode::Io,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(width: u32, height: u32) -> Vec<u8> {
        (0..width * height)
            .flat_map(|i| [(i % 251) as u8, (i % 13) as u8, 200, 255])
            .collect()
    }

    #[test]
    fn a_kept_screenshot_is_a_png_that_decodes_to_the_same_pixels() {
        let data = tempfile::tempdir().unwrap();
        let rgba = picture(64, 40);
        let kept = keep(data.path(), 64, 40, &rgba).unwrap();
        assert_eq!(path_of(data.path(), &kept.id).unwrap(), kept.path);
        let decoder =
            png::Decoder::new(io::BufReader::new(std::fs::File::open(&kept.path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut back = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut back).unwrap();
        assert_eq!((frame.width, frame.height), (64, 40));
        assert_eq!(&back[..frame.buffer_size()], &rgba[..]);
        assert!(
            data_url(&kept.path)
                .unwrap()
                .starts_with("data:image/png;base64,iVBORw0KGgo")
        );
        // Nothing else is left in the folder.
        assert_eq!(std::fs::read_dir(dir(data.path())).unwrap().count(), 1);
    }

    #[test]
    fn pixels_that_do_not_match_the_size_are_refused_and_nothing_is_written() {
        let data = tempfile::tempdir().unwrap();
        let err = keep(data.path(), 64, 40, &picture(64, 39)).unwrap_err();
        assert!(
            matches!(
                err,
                ScreenshotError::BadPicture {
                    width: 64,
                    height: 40,
                    ..
                }
            ),
            "{err}"
        );
        assert!(keep(data.path(), 0, 0, &[]).is_err());
        assert!(
            !dir(data.path()).exists() || std::fs::read_dir(dir(data.path())).unwrap().count() == 0
        );
    }

    #[test]
    fn only_our_ids_name_a_screenshot_and_old_ones_go() {
        let data = tempfile::tempdir().unwrap();
        let kept = keep(data.path(), 2, 2, &picture(2, 2)).unwrap();
        for id in [
            "../config.toml",
            "",
            "not-a-uuid",
            &Uuid::now_v7().to_string(),
        ] {
            assert!(
                matches!(path_of(data.path(), id), Err(ScreenshotError::Gone)),
                "{id}"
            );
        }
        prune(data.path(), SystemTime::now());
        assert!(kept.path.exists(), "a new one stays");
        prune(
            data.path(),
            SystemTime::now() + MAX_AGE + Duration::from_secs(60),
        );
        assert!(!kept.path.exists(), "an old one goes");
    }
}
