//! Compressed readable logs: a labelled corpus of gzip files and zip archives of text logs (WebRTC
//! logs with ICE candidates, e-mail addresses, call ids, times and versions), collected with
//! redaction on and read back with Python's `gzip` and `zipfile`: every secret gone, every
//! kept value still there, what cannot be read stored as it is, and the manifest saying which.

use std::fs;
use std::io::Write;
use std::path::Path;

use callsupport_desk::bundle::manifest::{FileRedaction, Manifest, ManifestFile, Method, Repacked};
use callsupport_desk::bundle::reader::Bundle;
use callsupport_desk::collect::{Plan, collect};
use callsupport_desk::config::Config;
use callsupport_desk::consent::Destination;
use callsupport_desk::report::Report;

use crate::support::{assert_unzip_t_passes, run_tool};

/// Values a log carries that must not leave the machine.
const SECRETS: &[&str] = &[
    "203.0.113.45",
    "192.168.1.20",
    "198.51.100.7",
    "2001:db8:85a3::8a2e:370:7334",
    "jane.doe@contoso.com",
    "bob@fabrikam.example",
];
/// Values support needs, which must stay.
const KEPT: &[&str] = &[
    "0f8fad5b-d9cb-469f-a165-70867728950e",
    "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "2026-12-07T10:02:11.123Z",
    "Chrome/120.0.6099.109",
    "SDK version 1.29.1.2",
    "typ srflx",
];

/// A WebRTC text log as Chrome writes one, with ICE candidates and a signed-in user.
fn webrtc_log(lines: usize) -> String {
    let mut log = String::from(
        "[000:000] Chrome/120.0.6099.109 WebRTC log started; SDK version 1.29.1.2\n\
         [000:001] user jane.doe@contoso.com joined call 0f8fad5b-d9cb-469f-a165-70867728950e\n",
    );
    for i in 0..lines {
        log.push_str(&format!(
            "2026-12-07T10:02:11.123Z [{i:06}] candidate:842163049 1 udp 1677729535 203.0.113.45 49152 typ srflx raddr 192.168.1.20 rport 49152\n\
             2026-12-07T10:02:11.123Z [{i:06}] candidate:3 1 udp 2122260223 2001:db8:85a3::8a2e:370:7334 51000 typ host, call 7c9e6679-7425-40de-944b-e07fc1f90ae7\n"
        ));
    }
    log.push_str("[001:100] relay 198.51.100.7 allocated for bob@fabrikam.example\n");
    log
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(9));
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A zip archive of `members` (name, bytes), deflated, as a log rotator makes one.
fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in members {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn config_for(root: &Path, redact: bool) -> Config {
    Config::parse(
        Path::new("c.toml"),
        &format!(
            "[ticket_api]\nurl = \"http://127.0.0.1:9/t\"\n[privacy]\nredact = {redact}\n\
             [[sources]]\nid = \"chrome\"\nname = \"Chrome WebRTC logs\"\nroot = '{}'\nkind = \"text\"\n",
            root.display()
        ),
    )
    .unwrap()
}

fn collect_from(root: &Path, out: &Path, redact: bool) -> Manifest {
    let config = config_for(root, redact);
    let (plan, _) = Plan::from_config(&config).unwrap();
    let consent = callsupport_desk::consent::Statement::new(&plan, &Destination::File, redact)
        .agreed(&Destination::File, redact);
    collect(&plan, Report::new("no audio"), consent, out, |_| true)
        .unwrap()
        .manifest
}

/// An entry's bytes, unpacked by Python: a gzip file with `gzip`, a zip member with `zipfile`.
fn python_read(bundle: &Path, entry: &str, member: Option<&str>) -> String {
    const SCRIPT: &str = r#"
import gzip, io, sys, zipfile
data = zipfile.ZipFile(sys.argv[1]).read(sys.argv[2])
if len(sys.argv) > 3:
    inner = zipfile.ZipFile(io.BytesIO(data))
    assert inner.testzip() is None, "bad CRC inside"
    data = inner.read(sys.argv[3])
else:
    data = gzip.decompress(data)
sys.stdout.write(data.decode("utf-8"))
"#;
    let mut args = vec!["-c", SCRIPT, bundle.to_str().unwrap(), entry];
    args.extend(member);
    run_tool("python3", &args)
}

fn entry<'a>(manifest: &'a Manifest, path: &str) -> &'a ManifestFile {
    manifest
        .files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{path} not in {:#?}", manifest.files))
}

fn assert_cleaned(text: &str, what: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} left in {what}");
    }
    for kept in KEPT {
        assert!(text.contains(kept), "{kept} lost from {what}");
    }
}

#[test]
fn gzip_and_zip_text_logs_are_cleaned_and_packed_again_and_only_the_unreadable_go_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("WebRTC Logs");
    fs::create_dir_all(&root).unwrap();
    let log = webrtc_log(40_000);
    // Chrome's own name, a gzip of several members (as `cat a.gz b.gz` makes) and a rotated
    // archive with a text log, a picture and a folder.
    fs::write(root.join("1733565731.gz"), gzip(log.as_bytes())).unwrap();
    let mut two = gzip(b"first member: jane.doe@contoso.com\n");
    two.extend(gzip(webrtc_log(3).as_bytes()));
    fs::write(root.join("joined.log.gz"), &two).unwrap();
    let picture = [
        0x89u8, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13,
    ];
    fs::write(
        root.join("old.zip"),
        zip_of(&[
            ("2026-12-06/webrtc.log", webrtc_log(50).as_bytes()),
            ("2026-12-06/snap.png", &picture),
        ]),
    )
    .unwrap();
    // What cannot be read here: a gzip of binary data, and a log compressed with xz.
    let binary_gz = gzip(&[0u8, 1, 2, 3, 0, 0, 0, 9]);
    fs::write(root.join("dump.bin.gz"), &binary_gz).unwrap();
    fs::write(
        root.join("old.log.xz"),
        b"\xfd7zXZ\x00\x00jane.doe@contoso.com",
    )
    .unwrap();
    let sources_before: Vec<Vec<u8>> = ["1733565731.gz", "joined.log.gz", "old.zip"]
        .iter()
        .map(|name| fs::read(root.join(name)).unwrap())
        .collect();

    let out = dir.path().join("bundle.zip");
    let manifest = collect_from(&root, &out, true);
    assert_unzip_t_passes(&out);
    assert!(Bundle::open(&out).unwrap().verify().intact());

    // The gzip log: the same name, a real gzip file, its text cleaned.
    let chrome = entry(&manifest, "files/chrome/1733565731.gz");
    assert_eq!(chrome.repacked, Some(Repacked::Gzip));
    assert_eq!(chrome.redaction, FileRedaction::Applied);
    assert_eq!(chrome.method, Method::Stored);
    assert!(chrome.redactions >= 3 * 40_000, "{chrome:?}");
    let text = python_read(&out, &chrome.path, None);
    assert_cleaned(&text, "the gzip log");
    assert_eq!(
        text.lines().count(),
        log.lines().count(),
        "every line is there"
    );
    // Both members of a multi-member gzip are read.
    let joined = python_read(&out, "files/chrome/joined.log.gz", None);
    assert!(joined.starts_with("first member: <email-1>"), "{joined}");
    assert_cleaned(&joined, "the two-member gzip");

    // The archive: its text member cleaned, the picture byte for byte.
    let archive = entry(&manifest, "files/chrome/old.zip");
    assert_eq!(archive.repacked, Some(Repacked::Zip));
    assert_eq!(archive.redaction, FileRedaction::Applied);
    let member = python_read(&out, &archive.path, Some("2026-12-06/webrtc.log"));
    assert_cleaned(&member, "the archive's log");
    let png = run_tool(
        "python3",
        &[
            "-c",
            "import io,sys,zipfile; d=zipfile.ZipFile(io.BytesIO(zipfile.ZipFile(sys.argv[1]).read('files/chrome/old.zip'))).read('2026-12-06/snap.png'); print(d.hex())",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(png.trim(), hex::encode(picture));

    // The same value gets the same token in every file, compressed or not.
    assert!(text.contains("<email-1>") && member.contains("<email-1>"));

    // What cannot be read goes as it is, and says so.
    let dump = entry(&manifest, "files/chrome/dump.bin.gz");
    assert_eq!(dump.redaction, FileRedaction::Impossible);
    assert_eq!(dump.repacked, None);
    assert_eq!(dump.sha256, crate::support::sha256_hex(&binary_gz));
    assert_eq!(
        entry(&manifest, "files/chrome/old.log.xz").redaction,
        FileRedaction::Impossible
    );

    let sources_after: Vec<Vec<u8>> = ["1733565731.gz", "joined.log.gz", "old.zip"]
        .iter()
        .map(|name| fs::read(root.join(name)).unwrap())
        .collect();
    assert!(sources_before == sources_after, "sources untouched");
}

#[test]
fn with_redaction_off_compressed_logs_go_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("logs");
    fs::create_dir_all(&root).unwrap();
    let gz = gzip(webrtc_log(10).as_bytes());
    fs::write(root.join("a.gz"), &gz).unwrap();
    let zip = zip_of(&[("a.log", webrtc_log(10).as_bytes())]);
    fs::write(root.join("b.zip"), &zip).unwrap();
    let manifest = collect_from(&root, &dir.path().join("b.zip"), false);
    for (path, bytes) in [("files/chrome/a.gz", &gz), ("files/chrome/b.zip", &zip)] {
        let file = entry(&manifest, path);
        assert_eq!(file.redaction, FileRedaction::Off);
        assert_eq!(file.repacked, None);
        assert_eq!(file.sha256, crate::support::sha256_hex(bytes));
    }
}

#[test]
fn a_gzip_log_cut_part_way_keeps_its_cleaned_start_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("logs");
    fs::create_dir_all(&root).unwrap();
    // A log Chrome is still writing: its gzip stream has no end yet.
    let mut whole = gzip(webrtc_log(20_000).as_bytes());
    whole.truncate(whole.len() * 2 / 3);
    fs::write(root.join("live.gz"), &whole).unwrap();
    let out = dir.path().join("b.zip");
    let manifest = collect_from(&root, &out, true);
    let live = entry(&manifest, "files/chrome/live.gz");
    assert_eq!(live.redaction, FileRedaction::Applied);
    let text = python_read(&out, &live.path, None);
    assert!(text.lines().count() > 10_000, "the start is there");
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} left");
    }
    let note = manifest
        .skipped
        .iter()
        .find(|s| s.original_path.ends_with("live.gz"))
        .expect("the damage is noted");
    assert!(note.reason.contains("damaged part-way"), "{note:?}");
}

#[test]
fn an_archive_that_cannot_be_unpacked_through_is_left_out_not_sent_uncleaned() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("logs");
    fs::create_dir_all(&root).unwrap();
    let mut archive = zip_of(&[("a.log", webrtc_log(2_000).as_bytes())]);
    // Damage the deflated member's data, past its header: the central directory still reads.
    for byte in &mut archive[200..400] {
        *byte ^= 0x5a;
    }
    fs::write(root.join("broken.zip"), &archive).unwrap();
    let out = dir.path().join("b.zip");
    let manifest = collect_from(&root, &out, true);
    assert!(
        manifest
            .files
            .iter()
            .all(|f| !f.path.ends_with("broken.zip")),
        "{:#?}",
        manifest.files
    );
    let note = manifest
        .skipped
        .iter()
        .find(|s| s.original_path.ends_with("broken.zip"))
        .expect("listed as left out");
    assert!(note.reason.contains("left out"), "{note:?}");
}
