//! A screenshot in a report, where the organisation allows it: taken from the form (the window
//! steps aside for a moment), shown before anything goes, named on the consent screen, and
//! stored in the bundle byte for byte as a PNG of the whole screen.

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
        // The picture, its size and what it means, with Take again and Remove.
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
        let corner = pixel(&out.path().join("files/screenshot/screenshot.png"), 5, 5)?;
        ensure!(
            corner == BACKGROUND,
            "the screenshot should show the screen's background {BACKGROUND:?} at its corner, not {corner:?}"
        );
        Ok(())
    }
    .await;
    let _ = paint_background(&harness.display, None);
    harness.close(client, &config).await;
    result
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
