//! `Bundle::open` and `verify` treat every bundle as hostile. Each test hand-builds one bad zip
//! (with the `zip` crate, or Python where the crate refuses to write such a thing) around an
//! otherwise valid manifest, and checks the exact error or problem; none may panic.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use callsupport_desk::bundle::reader::{Bundle, FileProblem, ReadError};
use serde_json::Value;
use tempfile::TempDir;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::support::{LogTree, assert_unzip_t_passes, collected_bundle, run_tool};

/// The parts of a real bundle, to reassemble with one thing wrong.
struct Parts {
    _tree: LogTree,
    dir: TempDir,
    manifest: Value,
    /// `(entry name, content)` of every collected file, in manifest order.
    files: Vec<(String, Vec<u8>)>,
}

impl Parts {
    fn new() -> Parts {
        let tree = LogTree::new();
        let written = collected_bundle(&tree);
        let files = tree
            .expected_files()
            .into_iter()
            .map(|(name, source)| (name, fs::read(source).unwrap()))
            .collect();
        Parts {
            manifest: serde_json::to_value(&written.manifest).unwrap(),
            files,
            _tree: tree,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn manifest_bytes(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(&self.manifest).unwrap()
    }

    /// The good files and the manifest, as entries.
    fn entries(&self) -> Vec<(String, Vec<u8>)> {
        let mut entries = self.files.clone();
        entries.push(("manifest.json".into(), self.manifest_bytes()));
        entries
    }

    /// Writes `entries` as a zip with the `zip` crate, as given.
    fn zip(&self, name: &str, entries: &[(String, Vec<u8>)]) -> PathBuf {
        let path = self.dir.path().join(name);
        let mut zip = ZipWriter::new(File::create(&path).unwrap());
        for (entry, bytes) in entries {
            let options =
                SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
            zip.start_file(entry.as_str(), options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
        path
    }

    /// Writes `entries` as a zip with Python's `zipfile`, which keeps names exactly as given and
    /// allows a name twice.
    fn python_zip(&self, name: &str, entries: &[(String, Vec<u8>)]) -> PathBuf {
        const SCRIPT: &str = r#"
import json, sys, warnings, zipfile
warnings.simplefilter("ignore")
entries = json.load(open(sys.argv[2]))
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for name, data in entries:
        z.writestr(zipfile.ZipInfo(name), bytes(data))
"#;
        let path = self.dir.path().join(name);
        let spec = self.dir.path().join(format!("{name}.json"));
        fs::write(&spec, serde_json::to_vec(entries).unwrap()).unwrap();
        run_tool(
            "python3",
            &["-c", SCRIPT, path.to_str().unwrap(), spec.to_str().unwrap()],
        );
        path
    }
}

fn open_err(path: &Path) -> ReadError {
    match Bundle::open(path) {
        Ok(bundle) => panic!(
            "{} opened; manifest lists {} files",
            path.display(),
            bundle.manifest.files.len()
        ),
        Err(err) => err,
    }
}

fn assert_refused(err: ReadError, entry: &str, why_contains: &str) {
    match &err {
        ReadError::UnsafeEntry { name, why, .. } => {
            assert_eq!(name, entry, "{err}");
            assert!(why.contains(why_contains), "{err}");
        }
        other => panic!("expected UnsafeEntry for `{entry}`, got {other:?}"),
    }
}

#[test]
fn the_reassembled_bundle_is_intact() {
    // The baseline the hostile cases change one thing of: it must open and verify.
    let parts = Parts::new();
    let path = parts.zip("good.zip", &parts.entries());
    let mut bundle = Bundle::open(&path).unwrap();
    let verification = bundle.verify();
    assert!(verification.intact(), "{:?}", verification.problems);
    assert_eq!(verification.files_checked, parts.files.len());
}

#[test]
fn an_entry_that_goes_up_is_refused() {
    let parts = Parts::new();
    let mut entries = parts.entries();
    entries.insert(0, ("../evil".into(), b"#!/bin/sh\n".to_vec()));
    let path = parts.zip("up.zip", &entries);

    assert_refused(open_err(&path), "../evil", "..");
}

#[test]
fn a_nested_entry_that_goes_up_is_refused() {
    let parts = Parts::new();
    let mut entries = parts.entries();
    entries.push(("files/app/../../../evil".into(), b"x".to_vec()));
    let path = parts.zip("nested-up.zip", &entries);

    assert_refused(open_err(&path), "files/app/../../../evil", "..");
}

#[test]
fn an_absolute_entry_is_refused() {
    let parts = Parts::new();
    let mut entries = parts.entries();
    entries.push(("/etc/x".into(), b"x".to_vec()));
    let path = parts.python_zip("absolute.zip", &entries);

    assert_refused(open_err(&path), "/etc/x", "absolute");
}

#[test]
fn a_backslash_entry_is_refused() {
    let parts = Parts::new();
    let mut entries = parts.entries();
    entries.push(("files\\..\\evil".into(), b"x".to_vec()));
    let path = parts.zip("backslash.zip", &entries);

    assert_refused(open_err(&path), "files\\..\\evil", "non-portable");
}

#[test]
fn a_link_entry_is_refused() {
    let parts = Parts::new();
    let path = parts.dir.path().join("link.zip");
    let mut zip = ZipWriter::new(File::create(&path).unwrap());
    for (entry, bytes) in parts.entries() {
        zip.start_file(entry.as_str(), SimpleFileOptions::default())
            .unwrap();
        zip.write_all(&bytes).unwrap();
    }
    zip.add_symlink(
        "files/app/passwd",
        "/etc/passwd",
        SimpleFileOptions::default(),
    )
    .unwrap();
    zip.finish().unwrap();

    assert_refused(open_err(&path), "files/app/passwd", "link");
}

#[test]
fn a_duplicate_name_is_refused() {
    // An impostor `files/app/app.log` before the genuine one: which of the two a tool extracts is up
    // to the tool, so a reader must refuse the bundle rather than vouch for one of them.
    let parts = Parts::new();
    let mut entries = parts.entries();
    let (name, _) = parts.files[0].clone();
    assert_eq!(name, "files/app/app.log");
    entries.insert(
        0,
        (name.clone(), b"an impostor of another length\n".to_vec()),
    );
    let path = parts.python_zip("duplicate.zip", &entries);
    // Python sees both entries: the zip really has the name twice.
    let listed = run_tool(
        "python3",
        &[
            "-c",
            "import sys, zipfile; print(sum(n == sys.argv[2] for n in zipfile.ZipFile(sys.argv[1]).namelist()))",
            path.to_str().unwrap(),
            &name,
        ],
    );
    assert_eq!(listed.trim(), "2");

    match Bundle::open(&path) {
        Err(err @ ReadError::DuplicateNames { .. }) => {
            assert!(err.to_string().contains("same name"), "{err}")
        }
        Err(other) => panic!("expected DuplicateNames, got {other:?}"),
        Ok(mut bundle) => {
            let verification = bundle.verify();
            panic!(
                "a bundle with `{name}` twice opened; verify says intact = {} ({:?})",
                verification.intact(),
                verification.problems
            );
        }
    }
}

#[test]
fn a_bundle_without_manifest_is_refused() {
    let parts = Parts::new();
    let path = parts.zip("no-manifest.zip", &parts.files);

    match open_err(&path) {
        ReadError::NoManifest { path: at } => assert_eq!(at, path),
        other => panic!("expected NoManifest, got {other:?}"),
    }
}

#[test]
fn another_format_is_refused_by_name() {
    let mut parts = Parts::new();
    parts.manifest["format"] = "callsupport/bundle@2".into();
    let path = parts.zip("future.zip", &parts.entries());

    let err = open_err(&path);
    match &err {
        ReadError::UnsupportedFormat { found, .. } => assert_eq!(found, "callsupport/bundle@2"),
        other => panic!("expected UnsupportedFormat, got {other:?}"),
    }
    assert!(err.to_string().contains("callsupport/bundle@1"), "{err}");
}

#[test]
fn a_manifest_path_outside_files_is_refused() {
    let mut parts = Parts::new();
    parts.manifest["files"][0]["path"] = "../outside.log".into();
    let path = parts.zip("outside.zip", &parts.entries());

    match open_err(&path) {
        ReadError::BadManifest { detail, .. } => {
            assert!(detail.contains("../outside.log"), "{detail}")
        }
        other => panic!("expected BadManifest, got {other:?}"),
    }
}

#[test]
fn a_manifest_that_is_not_json_is_refused() {
    let parts = Parts::new();
    let mut entries = parts.files.clone();
    entries.push(("manifest.json".into(), b"{\"format\": ".to_vec()));
    let path = parts.zip("broken-manifest.zip", &entries);

    assert!(
        matches!(open_err(&path), ReadError::BadManifest { .. }),
        "broken JSON must be a BadManifest"
    );
}

#[test]
fn something_that_is_not_a_zip_is_refused() {
    let parts = Parts::new();
    let path = parts.dir.path().join("not.zip");
    fs::write(&path, crate::support::random_bytes(4096, 9)).unwrap();

    assert!(matches!(open_err(&path), ReadError::NotAZip { .. }));
}

#[test]
fn a_listed_file_that_is_absent_is_reported_missing() {
    let parts = Parts::new();
    let mut entries = parts.entries();
    let (gone, _) = entries.remove(1);
    let path = parts.zip("missing.zip", &entries);

    let mut bundle = Bundle::open(&path).unwrap();
    let verification = bundle.verify();

    assert!(!verification.intact());
    assert_eq!(
        verification.problems.len(),
        1,
        "{:?}",
        verification.problems
    );
    assert_eq!(
        verification.problems.get(&gone),
        Some(&FileProblem::Missing)
    );
    assert_eq!(verification.files_checked, parts.files.len() - 1);
}

#[test]
fn changed_content_of_the_same_size_is_damaged() {
    let parts = Parts::new();
    let mut entries = parts.entries();
    let (name, bytes) = &mut entries[2];
    assert!(name.ends_with(".blog"), "{name}");
    let name = name.clone();
    bytes[100] ^= 0xff;
    let path = parts.zip("damaged.zip", &entries);
    // The zip itself is well formed (its CRCs match the changed bytes): only the manifest knows.
    assert_unzip_t_passes(&path);

    let mut bundle = Bundle::open(&path).unwrap();
    let verification = bundle.verify();

    assert_eq!(
        verification.problems.len(),
        1,
        "{:?}",
        verification.problems
    );
    match &verification.problems[&name] {
        problem @ FileProblem::Damaged {
            expected_sha256,
            actual_sha256,
            expected_size,
            actual_size,
        } => {
            assert_eq!(expected_size, actual_size);
            assert_ne!(expected_sha256, actual_sha256);
            assert_eq!(
                expected_sha256,
                parts.manifest["files"][2]["sha256"].as_str().unwrap()
            );
            assert!(problem.to_string().contains("SHA-256"), "{problem}");
        }
        other => panic!("expected Damaged, got {other:?}"),
    }
}

#[test]
fn a_longer_entry_is_damaged_and_bounded() {
    let parts = Parts::new();
    let mut entries = parts.entries();
    let name = entries[0].0.clone();
    let size = entries[0].1.len() as u64;
    entries[0].1.extend(std::iter::repeat_n(b'A', 1 << 20));
    let path = parts.zip("longer.zip", &entries);

    let mut bundle = Bundle::open(&path).unwrap();
    let verification = bundle.verify();

    match &verification.problems[&name] {
        FileProblem::Damaged {
            expected_size,
            actual_size,
            ..
        } => {
            assert_eq!(*expected_size, size);
            // Reading stops one byte past what the manifest promises.
            assert_eq!(*actual_size, size + 1);
        }
        other => panic!("expected Damaged, got {other:?}"),
    }
}

#[test]
fn an_unlisted_entry_is_reported() {
    let parts = Parts::new();
    let mut entries = parts.entries();
    entries.push(("files/app/extra.log".into(), b"smuggled\n".to_vec()));
    let path = parts.zip("unlisted.zip", &entries);

    let verification = Bundle::open(&path).unwrap().verify();

    assert_eq!(
        verification.problems.get("files/app/extra.log"),
        Some(&FileProblem::Unlisted)
    );
    assert_eq!(verification.problems.len(), 1);
}

#[test]
fn the_first_problem_ends_a_check_that_asks_for_one() {
    // Two damaged files and one smuggled in: `verify` names all three; `first_problem` names the
    // unlisted one, found from the names alone, and inflates nothing.
    let parts = Parts::new();
    let mut entries = parts.entries();
    entries[0].1[0] ^= 0xff;
    entries[1].1[0] ^= 0xff;
    entries.push(("files/app/extra.log".into(), b"smuggled\n".to_vec()));
    let path = parts.zip("three-problems.zip", &entries);

    assert_eq!(Bundle::open(&path).unwrap().verify().problems.len(), 3);
    let (name, problem) = Bundle::open(&path).unwrap().first_problem().unwrap();
    assert_eq!(
        (name.as_str(), problem),
        ("files/app/extra.log", FileProblem::Unlisted)
    );

    entries.pop();
    let path = parts.zip("two-problems.zip", &entries);
    let (name, problem) = Bundle::open(&path).unwrap().first_problem().unwrap();
    assert_eq!(name, entries[0].0);
    assert!(
        matches!(problem, FileProblem::Damaged { .. }),
        "{problem:?}"
    );
    assert_eq!(
        Bundle::open(&parts.zip("good.zip", &parts.entries()))
            .unwrap()
            .first_problem(),
        None
    );
}

#[test]
fn a_manifest_padded_past_its_cap_is_refused_as_it_streams() {
    // 40 MiB of `[],` deflates to a few tens of KB: the cap is on what comes out, not what went in.
    let mut parts = Parts::new();
    let padding = format!("[{}[]]", "[],".repeat(14 << 20));
    parts.manifest["host"]["padding"] = serde_json::from_str(&padding).unwrap();
    let path = parts.zip("padded.zip", &parts.entries());
    assert!(fs::metadata(&path).unwrap().len() < 1 << 20);

    match open_err(&path) {
        ReadError::BadManifest { detail, .. } => {
            assert!(detail.contains("larger than 32 MiB"), "{detail}")
        }
        other => panic!("expected BadManifest, got {other:?}"),
    }
}

#[test]
fn what_the_manifest_types_do_not_hold_is_read_past() {
    // Under the cap, a field the format does not know is skipped, not kept: the bundle opens and
    // checks out, and a field it does know with the wrong shape is named by its path.
    let mut parts = Parts::new();
    parts.manifest["host"]["padding"] =
        serde_json::from_str(&format!("[{}[]]", "[],".repeat(1 << 20))).unwrap();
    let path = parts.zip("padded-small.zip", &parts.entries());
    assert!(Bundle::open(&path).unwrap().verify().intact());

    parts.manifest["files"][0]["size"] = "large".into();
    let path = parts.zip("wrong-shape.zip", &parts.entries());
    match open_err(&path) {
        ReadError::BadManifest { detail, .. } => {
            assert!(detail.contains("files[0].size"), "{detail}")
        }
        other => panic!("expected BadManifest, got {other:?}"),
    }
}

#[test]
fn an_entry_claiming_an_impossible_ratio_is_refused_as_a_bomb() {
    // A real entry whose headers were edited to claim 4 GiB from a few KB: deflate cannot do that.
    let parts = Parts::new();
    let path = parts.zip("bomb.zip", &parts.entries());
    let mut bytes = fs::read(&path).unwrap();
    let name = parts.files[0].0.as_bytes();
    for (signature, size_at) in [
        (&[0x50u8, 0x4b, 0x03, 0x04], 22usize),
        (&[0x50, 0x4b, 0x01, 0x02], 24),
    ] {
        let name_at = if signature[2] == 3 { 30 } else { 46 };
        let header = (0..bytes.len() - name_at)
            .find(|&i| bytes[i..].starts_with(signature) && bytes[i + name_at..].starts_with(name))
            .expect("header of the first entry");
        bytes[header + size_at..header + size_at + 4]
            .copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    }
    fs::write(&path, &bytes).unwrap();

    let err = open_err(&path);
    assert!(
        matches!(&err, ReadError::UnsafeEntry { why, .. } if why.contains("zip bomb")),
        "{err:?}"
    );
}

mod extraction {
    use super::*;
    use callsupport_desk::bundle::extract::{ExtractError, Unlisted, extract};

    #[test]
    fn every_file_comes_out_matching_sha256sum() {
        let parts = Parts::new();
        let path = parts.zip("good.zip", &parts.entries());
        let to = parts.dir.path().join("out/nested");
        let extracted = extract(&mut Bundle::open(&path).unwrap(), &to, Unlisted::Refuse).unwrap();
        assert_eq!(extracted.files, parts.files.len());
        for (name, content) in &parts.files {
            let sum = run_tool("sha256sum", &[to.join(name).to_str().unwrap()]);
            assert_eq!(
                sum.split_whitespace().next().unwrap(),
                crate::support::sha256_hex(content),
                "{name}"
            );
        }
        assert!(to.join("manifest.json").is_file());
        let leftovers: Vec<_> = fs::read_dir(to.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            leftovers,
            [std::ffi::OsString::from("nested")],
            "no staging folder left"
        );
    }

    #[test]
    fn a_damaged_file_leaves_nothing_behind() {
        let parts = Parts::new();
        let mut entries = parts.entries();
        let last = entries[0].1.len() - 1;
        entries[0].1[last] ^= 0xFF;
        let path = parts.zip("damaged.zip", &entries);
        let to = parts.dir.path().join("out");
        let err = extract(&mut Bundle::open(&path).unwrap(), &to, Unlisted::Refuse).unwrap_err();
        assert!(
            matches!(&err, ExtractError::Damaged { name, .. } if *name == entries[0].0),
            "{err:?}"
        );
        assert!(!to.exists(), "nothing under the target");
        let names: Vec<_> = fs::read_dir(parts.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            !names.iter().any(|n| n.starts_with(".callsupport-extract-")),
            "{names:?}"
        );
    }

    #[test]
    fn an_entry_the_manifest_does_not_list_is_refused_or_left_out_and_named() {
        // Before, extract wrote the listed files, said they all matched, and succeeded, while
        // verify called the same bundle damaged.
        let parts = Parts::new();
        let mut entries = parts.entries();
        entries.push(("files/extra/run-me.bat".into(), b"format c:".to_vec()));
        let path = parts.zip("extra.zip", &entries);
        let to = parts.dir.path().join("out");
        let err = extract(&mut Bundle::open(&path).unwrap(), &to, Unlisted::Refuse).unwrap_err();
        assert!(
            matches!(&err, ExtractError::Unlisted(names) if names == &["files/extra/run-me.bat"]),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("`files/extra/run-me.bat`"),
            "{err}"
        );
        assert!(!to.exists(), "nothing under the target");

        let extracted =
            extract(&mut Bundle::open(&path).unwrap(), &to, Unlisted::LeaveOut).unwrap();
        assert_eq!(extracted.left_out, ["files/extra/run-me.bat"]);
        assert_eq!(extracted.files, parts.files.len());
        assert!(!to.join("files/extra").exists(), "left out, not written");
    }

    #[test]
    fn names_that_are_one_file_here_are_refused_not_written_over() {
        // `Same.log` and `same.log` are two files on Linux and one on Windows and macOS, where
        // the second used to replace the first after the first had passed its check.
        let mut parts = Parts::new();
        let template = parts.manifest["files"][0].clone();
        let mut entries = parts.entries();
        for (name, content) in [
            ("files/app/Same.log", "upper"),
            ("files/app/same.log", "lower"),
        ] {
            let mut file = template.clone();
            file["path"] = name.into();
            file["size"] = content.len().into();
            file["sha256"] = crate::support::sha256_hex(content.as_bytes()).into();
            parts.manifest["files"].as_array_mut().unwrap().push(file);
            entries.push((name.to_owned(), content.as_bytes().to_vec()));
        }
        let manifest = entries
            .iter()
            .position(|(n, _)| n == "manifest.json")
            .unwrap();
        entries[manifest].1 = parts.manifest_bytes();
        let path = parts.zip("cases.zip", &entries);
        let to = parts.dir.path().join("out");
        let extracted = extract(&mut Bundle::open(&path).unwrap(), &to, Unlisted::Refuse);
        let one_name_for_both = cfg!(windows) || cfg!(target_os = "macos");
        if one_name_for_both {
            let err = extracted.unwrap_err();
            assert!(
                matches!(&err, ExtractError::NameNotHere { name, .. } if name == "files/app/same.log"),
                "{err:?}"
            );
            assert!(!to.exists(), "nothing under the target");
        } else {
            extracted.unwrap();
            assert_eq!(
                fs::read_to_string(to.join("files/app/Same.log")).unwrap(),
                "upper"
            );
            assert_eq!(
                fs::read_to_string(to.join("files/app/same.log")).unwrap(),
                "lower"
            );
        }
    }

    #[test]
    fn a_folder_with_files_in_it_is_not_mixed_into() {
        let parts = Parts::new();
        let path = parts.zip("good.zip", &parts.entries());
        let to = parts.dir.path().join("busy");
        fs::create_dir_all(&to).unwrap();
        fs::write(to.join("mine.txt"), "keep").unwrap();
        let err = extract(&mut Bundle::open(&path).unwrap(), &to, Unlisted::Refuse).unwrap_err();
        assert!(matches!(err, ExtractError::TargetNotEmpty(_)), "{err:?}");
        assert_eq!(fs::read_to_string(to.join("mine.txt")).unwrap(), "keep");
        assert_eq!(fs::read_dir(&to).unwrap().count(), 1);
    }
}
