//! A screenshot in a report, where the organisation allows it: taken from the form (the window
//! steps aside for a moment), shown before anything goes, an area hidden by dragging a box over
//! it with the mouse, named on the consent screen, and stored in the bundle as a PNG of the whole
//! screen with that area black in its pixels.

use std::process::Command;

use anyhow::{Context, ensure};

use crate::checks;
use crate::harness::Harness;
use crate::tests::{WAIT, click, css, screenshot, type_summary, wait_text};
use crate::x11::paint_background;

/// The harness's X screen, as Xvfb was told.
const SCREEN: (u64, u64) = (1280, 800);
/// The screen's background while the screenshot is taken: what the picture must show.
const BACKGROUND: [u8; 3] = [0x33, 0x66, 0xcc];

pub async fn a_screenshot_goes_with_the_report(harness: &Harness) -> anyhow::Result<()> {
    let config = harness.dir.path().join("screenshots-allowed.toml");
    let text = std::fs::read_to_string(&harness.config)?;
    ensure!(
        !text.contains("[privacy]"),
        "the demo config has no privacy section to extend"
    );
    std::fs::write(
        &config,
        format!("{text}\n[privacy]\nallow_screenshot = true\n"),
    )?;
    let client = harness.session(&config).await?;
    let result = async {
        type_summary(&client, "The shared screen went black").await?;
        let [r, g, b] = BACKGROUND.map(u32::from);
        paint_background(&harness.display, Some(r << 16 | g << 8 | b))?;
        click(&client, "take-screenshot").await?;
        client
            .wait()
            .at_most(WAIT)
            .for_element(css("[data-testid=screenshot]"))
            .await
            .context("the screenshot should be shown on the form before it goes anywhere")?;
        let width = client
            .execute(
                "return document.querySelector('[data-testid=screenshot]').naturalWidth;",
                vec![],
            )
            .await?;
        ensure!(
            width.as_u64() == Some(SCREEN.0),
            "the picture should be the whole screen, {} pixels wide: {width}",
            SCREEN.0
        );
        // The user drags a box over part of it, with the mouse: that part goes black.
        let hidden = hide_by_dragging(&client).await?;
        wait_text(&client, "[data-testid=screenshot-caption]", |t| {
            t.contains("1 area is blacked out")
        })
        .await
        .context("the form should say an area is hidden")?;
        // The picture, its size and what it means, with Take again, Show again and Remove.
        client
            .execute(
                "document.querySelector('[data-testid=remove-screenshot]').scrollIntoView({block: 'end'});",
                vec![],
            )
            .await?;
        screenshot(&client, harness, "16-screenshot.png").await?;

        click(&client, "review").await?;
        let statement = wait_text(&client, "[data-testid=statement]", |t| !t.is_empty()).await?;
        ensure!(
            statement.contains("screenshot") && statement.contains("blacked out in the picture itself"),
            "the consent statement should say a picture goes as it is: {statement:?}"
        );
        let files = client
            .find(css("[data-testid=file-list]"))
            .await?
            .text()
            .await?;
        ensure!(
            files.contains("Screenshot") && files.contains("Picture"),
            "the consent screen should list the screenshot: {files:?}"
        );
        click(&client, "send").await?;
        let ticket =
            wait_text(&client, "[data-testid=ticket-id]", |t| t.starts_with("CS-")).await?;

        let stored = harness
            .server_data
            .join("bundles")
            .join(format!("{ticket}.zip"));
        checks::unzip_test(&stored)?;
        let manifest = checks::python_verify(&stored)?;
        let entry = manifest["files"]
            .as_array()
            .and_then(|files| {
                files
                    .iter()
                    .find(|f| f["path"] == "files/screenshot/screenshot.png")
            })
            .with_context(|| {
                format!(
                    "the bundle should hold the screenshot: {}",
                    manifest["files"]
                )
            })?;
        ensure!(entry["kind"] == "screenshot", "kind {}", entry["kind"]);
        // Python reads the picture's own header: a PNG of the whole screen.
        let out = Command::new("python3")
            .args([
                "-c",
                "import struct, sys, zipfile\n\
                 data = zipfile.ZipFile(sys.argv[1]).read('files/screenshot/screenshot.png')\n\
                 assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n', 'not a PNG'\n\
                 print(*struct.unpack('>II', data[16:24]))",
            ])
            .arg(&stored)
            .output()?;
        let size = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        ensure!(
            out.status.success() && size == format!("{} {}", SCREEN.0, SCREEN.1),
            "the stored picture should be a {}x{} PNG: {size:?} {}",
            SCREEN.0,
            SCREEN.1,
            String::from_utf8_lossy(&out.stderr)
        );
        // And it shows the screen: the background painted before, where no window was.
        let out = tempfile::tempdir()?;
        let status = Command::new("unzip")
            .arg("-q")
            .arg(&stored)
            .arg("files/screenshot/screenshot.png")
            .arg("-d")
            .arg(out.path())
            .status()?;
        ensure!(status.success(), "unzip could not extract the screenshot");
        let stored_png = out.path().join("files/screenshot/screenshot.png");
        let corner = pixel(&stored_png, 5, 5)?;
        ensure!(
            corner == BACKGROUND,
            "the screenshot should show the screen's background {BACKGROUND:?} at its corner, not {corner:?}"
        );
        // The hidden area is black in the pixels that went, its edges included.
        for (x, y) in [
            (hidden.0 + 1, hidden.1 + 1),
            (hidden.0 + hidden.2 / 2, hidden.1 + hidden.3 / 2),
            (hidden.0 + hidden.2 - 2, hidden.1 + hidden.3 - 2),
        ] {
            let inside = pixel(&stored_png, x, y)?;
            ensure!(
                inside == [0, 0, 0],
                "the hidden area should be black at ({x}, {y}) in the picture sent, not {inside:?}"
            );
        }
        Ok(())
    }
    .await;
    let _ = paint_background(&harness.display, None);
    harness.close(client, &config).await;
    result
}

/// Drags a box over the shown screenshot from 20 % to 60 % of its width and 20 % to 55 % of its
/// height with the mouse, as a user does. Returns the box in the picture's pixels (x, y, width,
/// height), narrowed by a pixel each side for rounding.
async fn hide_by_dragging(
    client: &fantoccini::Client,
) -> anyhow::Result<(usize, usize, usize, usize)> {
    use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
    let rect = client
        .execute(
            "const i = document.querySelector('[data-testid=screenshot]'); i.scrollIntoView({block: 'center'}); \
             const r = i.getBoundingClientRect(); return [r.left, r.top, r.width, r.height, i.naturalWidth];",
            vec![],
        )
        .await?;
    let value = |i: usize| rect[i].as_f64().unwrap_or_default();
    let (left, top, width, height, natural) = (value(0), value(1), value(2), value(3), value(4));
    ensure!(
        width > 50.0 && height > 30.0,
        "the picture is shown too small: {rect}"
    );
    let (x0, y0) = (left + width * 0.2, top + height * 0.2);
    let (x1, y1) = (left + width * 0.6, top + height * 0.55);
    let step = std::time::Duration::from_millis(100);
    let drag = MouseActions::new("mouse".into())
        .then(PointerAction::MoveTo {
            duration: None,
            x: x0,
            y: y0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::MoveTo {
            duration: Some(step),
            x: (x0 + x1) / 2.0,
            y: (y0 + y1) / 2.0,
        })
        .then(PointerAction::MoveTo {
            duration: Some(step),
            x: x1,
            y: y1,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    client.perform_actions(drag).await?;
    client
        .wait()
        .at_most(WAIT)
        .for_element(css("[data-testid=hidden-area]"))
        .await
        .context("the dragged box should be shown as a hidden area")?;
    let scale = natural / width;
    let px = |v: f64| (v * scale).round() as usize;
    Ok((
        px(x0 - left) + 1,
        px(y0 - top) + 1,
        px(x1 - x0).saturating_sub(2),
        px(y1 - y0).saturating_sub(2),
    ))
}

/// The RGB colour of one pixel of a PNG file.
fn pixel(path: &std::path::Path, x: usize, y: usize) -> anyhow::Result<[u8; 3]> {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path)?));
    let mut reader = decoder.read_info()?;
    let mut pixels = vec![0; reader.output_buffer_size().context("picture too large")?];
    let frame = reader.next_frame(&mut pixels)?;
    ensure!(
        frame.color_type == png::ColorType::Rgba && frame.bit_depth == png::BitDepth::Eight,
        "an 8-bit RGBA picture, not {:?} {:?}",
        frame.color_type,
        frame.bit_depth
    );
    let at = (y * frame.width as usize + x) * 4;
    Ok([pixels[at], pixels[at + 1], pixels[at + 2]])
}
