//! Collection into a bundle: what the manifest says, what the zip holds (checked by `unzip`, Python
//! and `sha256sum`), that sources stay untouched, and the limits, refusals and cancellation.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use callsupport_desk::bundle::manifest::{Consent, Method};
use callsupport_desk::bundle::reader::Bundle;
use callsupport_desk::bundle::writer::WriteError;
use callsupport_desk::collect::{Plan, collect};
use callsupport_desk::config::{Config, SourceKind};
use callsupport_desk::consent::Destination;
use callsupport_desk::progress::Progress;
use callsupport_desk::report::Report;

use crate::support::{
    LogTree, age_file, assert_unzip_t_passes, config_toml, load_config, names_in, python_entries,
    random_bytes, run_tool, sha256_of, sha256sum, write_file,
};

const URL: &str = "https://support.example.com/api/v1/tickets";

fn tree_config(tree: &LogTree, max_bundle_mb: u64) -> Config {
    load_config(
        tree.dir.path(),
        &config_toml(URL, None, &tree.sources_toml(), max_bundle_mb),
    )
}

fn consent() -> Consent {
    Consent {
        accepted_at: chrono::Utc::now(),
        statement_sha256: "0".repeat(64),
        statement: None,
        statement_version: None,
        language: None,
        sealed_for: Vec::new(),
        redaction: false,
        destination: Destination::File.label(),
    }
}

/// Content hash and modification time of every file under `root`.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, (String, SystemTime)> {
    walk(root)
        .into_iter()
        .map(|path| {
            let modified = fs::metadata(&path).unwrap().modified().unwrap();
            (path.clone(), (sha256_of(&path), modified))
        })
        .collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn out_dir(tree: &LogTree) -> PathBuf {
    let out = tree.dir.path().join("out");
    fs::create_dir_all(&out).unwrap();
    out
}

#[test]
fn a_collected_bundle_matches_its_sources() {
    let tree = LogTree::new();
    let config = tree_config(&tree, 200);
    let before = snapshot(tree.dir.path());
    let out = out_dir(&tree).join("bundle.zip");

    let (plan, _) = Plan::from_config(&config).unwrap();
    let report = Report {
        description: "no sound after 2 minutes".into(),
        call_ids: vec!["7f3c-0001".into()],
        ..Report::new("audio dropped")
    };
    let written = collect(&plan, report.clone(), consent(), &out, |_| true).unwrap();
    let manifest = &written.manifest;

    // Manifest header.
    assert_eq!(manifest.format, "callsupport/bundle@1");
    assert_eq!(
        manifest.bundle_id.get_version_num(),
        7,
        "bundle_id {} is not a UUID v7",
        manifest.bundle_id
    );
    let age = chrono::Utc::now() - manifest.created_at;
    assert!(
        age >= chrono::TimeDelta::zero() && age < chrono::TimeDelta::seconds(60),
        "created_at {}",
        manifest.created_at
    );
    assert_eq!(manifest.generator.name, "callsupport");
    assert_eq!(manifest.generator.version, callsupport_desk::VERSION);
    assert_eq!(manifest.report, report);
    let sources: Vec<_> = manifest
        .sources
        .iter()
        .map(|s| (s.id.as_str(), s.kind))
        .collect();
    assert_eq!(
        sources,
        [("app", SourceKind::Text), ("acs", SourceKind::Encrypted)]
    );

    // Files: exactly the expected ones, each equal to its source.
    let expected = tree.expected_files();
    let mut listed: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    listed.sort();
    let mut wanted: Vec<&str> = expected.iter().map(|(name, _)| name.as_str()).collect();
    wanted.sort();
    assert_eq!(listed, wanted);
    for (name, source) in &expected {
        let file = manifest.files.iter().find(|f| &f.path == name).unwrap();
        let relative = name.splitn(3, '/').nth(2).unwrap();
        let meta = fs::metadata(source).unwrap();
        assert_eq!(file.sha256, sha256_of(source), "{name}");
        assert_eq!(file.size, meta.len(), "{name}");
        assert!(
            std::path::Path::new(&file.original_path).ends_with(relative),
            "{file:?}"
        );
        assert!(!file.truncated, "{name}");
        assert_eq!(
            file.modified_at,
            chrono::DateTime::<chrono::Utc>::from(meta.modified().unwrap()),
            "{name}"
        );
        let blog = name.ends_with(".blog");
        assert_eq!(file.source, if blog { "acs" } else { "app" }, "{name}");
        assert_eq!(file.encrypted, blog, "{name}");
        assert_eq!(
            file.method,
            if blog {
                Method::Stored
            } else {
                Method::Deflated
            },
            "{name}"
        );
    }

    // Skipped: the too-old file with its reason; excluded and unmatched files are not mentioned.
    let skipped: Vec<_> = manifest
        .skipped
        .iter()
        .map(|s| (s.original_path.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(
        std::path::Path::new(skipped[0].0).ends_with("app/old.log"),
        "{skipped:?}"
    );
    assert_eq!(skipped[0].1, "too old");
    let everything = serde_json::to_string(manifest).unwrap();
    assert!(!everything.contains("secret-token"), "{everything}");
    assert!(!everything.contains("notes.txt"), "{everything}");

    // Outside tools agree with the manifest.
    assert_unzip_t_passes(&out);
    assert_eq!(sha256sum(&out), written.sha256);
    assert_eq!(fs::metadata(&out).unwrap().len(), written.bytes);
    let entries = python_entries(&out);
    let entries = entries.as_object().unwrap();
    let mut names: Vec<&str> = entries.keys().map(String::as_str).collect();
    names.sort();
    let mut wanted_names = wanted.clone();
    wanted_names.push("manifest.json");
    wanted_names.sort();
    assert_eq!(names, wanted_names);
    for file in &manifest.files {
        let entry = &entries[&file.path];
        assert_eq!(entry["sha256"], file.sha256.as_str(), "{}", file.path);
        assert_eq!(entry["size"], file.size, "{}", file.path);
        let zip_method = match file.method {
            Method::Stored => 0,
            Method::Deflated => 8,
        };
        assert_eq!(entry["compress_type"], zip_method, "{}", file.path);
    }

    // Our own reader reads back the same manifest and finds every file intact.
    let mut bundle = Bundle::open(&out).unwrap();
    assert_eq!(&bundle.manifest, manifest);
    let verification = bundle.verify();
    assert!(verification.intact(), "{:?}", verification.problems);
    assert_eq!(verification.files_checked, 4);

    // Sources untouched (content and mtime); the output folder holds the bundle and nothing else.
    let after = snapshot(tree.dir.path());
    assert_eq!(after.len(), before.len() + 1, "only bundle.zip is new");
    for (path, state) in &before {
        assert_eq!(&after[path], state, "{} changed", path.display());
    }
    assert_eq!(names_in(out.parent().unwrap()), ["bundle.zip"]);
}

#[test]
fn an_existing_output_file_is_refused_and_kept() {
    let tree = LogTree::new();
    let config = tree_config(&tree, 200);
    let out = out_dir(&tree).join("bundle.zip");
    fs::write(&out, b"someone else's file").unwrap();
    let (plan, _) = Plan::from_config(&config).unwrap();

    let err = collect(&plan, Report::new("x"), consent(), &out, |_| true).unwrap_err();

    match err {
        WriteError::OutputExists(path) => assert_eq!(path, out),
        other => panic!("expected OutputExists, got {other:?}"),
    }
    assert_eq!(fs::read(&out).unwrap(), b"someone else's file");
    assert_eq!(names_in(out.parent().unwrap()), ["bundle.zip"]);
}

#[test]
fn cancelling_leaves_nothing_behind() {
    let tree = LogTree::new();
    write_file(&tree.acs("acs_big.blog"), &random_bytes(1 << 20, 3));
    let config = tree_config(&tree, 200);
    let (plan, _) = Plan::from_config(&config).unwrap();
    let total = plan.total_bytes();
    let out_folder = out_dir(&tree);

    // At the first callback, and in the middle of the 1 MiB file.
    for (label, stop_after) in [("at once", 0u64), ("mid-file", 100_000)] {
        let out = out_folder.join("bundle.zip");
        let mut stopped_at = None;
        let result = collect(&plan, Report::new("x"), consent(), &out, |progress| {
            let Progress::Collecting { bytes_done, .. } = progress else {
                panic!("unexpected {progress:?}");
            };
            if bytes_done >= stop_after {
                stopped_at = Some(bytes_done);
                return false;
            }
            true
        });

        assert!(
            matches!(result, Err(WriteError::Cancelled)),
            "{label}: {result:?}"
        );
        let stopped_at = stopped_at.unwrap();
        assert!(stopped_at < total, "{label}: stopped at {stopped_at}");
        assert!(
            names_in(&out_folder).is_empty(),
            "{label}: left {:?}",
            names_in(&out_folder)
        );
    }
}

#[test]
fn the_size_limit_keeps_the_newest_files() {
    let tree = LogTree {
        dir: tempfile::tempdir().unwrap(),
    };
    let kib = 1024;
    for (i, (name, hours)) in [
        ("acs_old.blog", 3),
        ("acs_mid.blog", 2),
        ("acs_new.blog", 1),
    ]
    .into_iter()
    .enumerate()
    {
        write_file(&tree.acs(name), &random_bytes(400 * kib, i as u64 + 10));
        age_file(&tree.acs(name), Duration::from_secs(hours * 3600));
    }
    fs::create_dir_all(tree.app_root()).unwrap();
    let config = tree_config(&tree, 1);

    let (plan, _) = Plan::from_config(&config).unwrap();
    assert!(
        plan.total_bytes() <= 1 << 20,
        "plan keeps {} bytes",
        plan.total_bytes()
    );
    let out = out_dir(&tree).join("bundle.zip");
    let written = collect(&plan, Report::new("x"), consent(), &out, |_| true).unwrap();

    let mut kept: Vec<&str> = written
        .manifest
        .files
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    kept.sort();
    assert_eq!(kept, ["files/acs/acs_mid.blog", "files/acs/acs_new.blog"]);
    let skipped = &written.manifest.skipped;
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(
        skipped[0].original_path.ends_with("acs_old.blog"),
        "{skipped:?}"
    );
    assert!(
        skipped[0].reason.contains("size limit"),
        "{}",
        skipped[0].reason
    );
    assert_unzip_t_passes(&out);
}

#[test]
fn a_20_mib_file_is_streamed_and_intact() {
    let tree = LogTree {
        dir: tempfile::tempdir().unwrap(),
    };
    let big = tree.acs("2025/acs_call.blog");
    write_file(&big, &random_bytes(20 << 20, 42));
    fs::create_dir_all(tree.app_root()).unwrap();
    let config = tree_config(&tree, 200);
    let out = out_dir(&tree).join("big.zip");

    let (plan, _) = Plan::from_config(&config).unwrap();
    let mut seen = Vec::new();
    let written = collect(&plan, Report::new("x"), consent(), &out, |progress| {
        if let Progress::Collecting { bytes_done, .. } = progress {
            seen.push(bytes_done);
        }
        true
    })
    .unwrap();

    assert!(
        seen.len() > 20,
        "only {} progress reports for 20 MiB",
        seen.len()
    );
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert_eq!(*seen.last().unwrap(), 20 << 20);
    let file = &written.manifest.files[0];
    assert_eq!(file.path, "files/acs/2025/acs_call.blog");
    assert_eq!(file.size, 20 << 20);
    assert_eq!(file.sha256, sha256_of(&big));
    assert_eq!(file.method, Method::Stored);
    assert!(written.bytes > 20 << 20);
    assert_unzip_t_passes(&out);
    let entries = python_entries(&out);
    assert_eq!(entries[&file.path]["sha256"], file.sha256.as_str());
    assert_eq!(entries[&file.path]["compress_type"], 0);
    assert!(Bundle::open(&out).unwrap().verify().intact());
}

#[test]
fn a_missing_source_folder_is_named_and_the_others_still_planned() {
    let tree = LogTree::new();
    fs::remove_dir_all(tree.acs_root()).unwrap();
    let config = tree_config(&tree, 200);

    let (plan, unavailable) = Plan::from_config(&config).unwrap();

    assert_eq!(unavailable.len(), 1);
    let message = unavailable[0].to_string();
    assert!(
        message.contains(&tree.acs_root().display().to_string()),
        "{message}"
    );
    assert!(message.contains("does not exist"), "{message}");
    assert!(
        !plan.selected.is_empty(),
        "the other source is still collected"
    );
    assert!(plan.selected.iter().all(|f| f.source_id != "acs"));
    assert!(
        plan.skipped
            .iter()
            .any(|s| s.original_path == tree.acs_root() && s.reason.contains("does not exist")),
        "the missing folder is listed as skipped: {:?}",
        plan.skipped
    );
}

#[test]
fn readable_files_are_redacted_consistently_and_encrypted_ones_stored_as_they_are() {
    use callsupport_desk::bundle::manifest::FileRedaction;
    use callsupport_desk::bundle::writer::ContentFilter;
    use callsupport_desk::collect::collect_filtered;
    use callsupport_desk::redact::{RedactionContext, Redactor};

    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("logs/app");
    let enc = dir.path().join("logs/acs");
    fs::create_dir_all(&text).unwrap();
    fs::create_dir_all(&enc).unwrap();
    let line = "2026-11-24T10:00:00Z joined call 92d800c4-abde-40be-91e9-3814ee786b19 as jane@contoso.com from 10.1.2.3\n";
    fs::write(text.join("a.log"), line.repeat(3)).unwrap();
    fs::write(text.join("b.log"), "mail jane@contoso.com again\n").unwrap();
    let secret_bytes = b"jane@contoso.com inside an encrypted blob".to_vec();
    fs::write(enc.join("acs_1.blog"), &secret_bytes).unwrap();
    let before = (
        fs::read(text.join("a.log")).unwrap(),
        fs::read(enc.join("acs_1.blog")).unwrap(),
    );
    let config = Config::parse(
        Path::new("c.toml"),
        &format!(
            "[ticket_api]\nurl = \"http://127.0.0.1:9/t\"\n[[sources]]\nid = \"app\"\nname = \"App\"\nroot = '{}'\nkind = \"text\"\n[[sources]]\nid = \"acs\"\nname = \"SDK\"\nroot = '{}'\nkind = \"encrypted\"\n",
            text.display(),
            enc.display()
        ),
    )
    .unwrap();
    let (plan, _) = Plan::from_config(&config).unwrap();
    let redactor = Redactor::new(RedactionContext::default());
    let out = dir.path().join("b.zip");
    let written = collect_filtered(
        &plan,
        Report::new("x"),
        consent(),
        &out,
        Some(&redactor as &dyn ContentFilter),
        |_| true,
    )
    .unwrap();

    let entries = python_entries(&out);
    assert_eq!(
        entries.as_object().map(|o| o.len()),
        Some(4),
        "three files and the manifest: {entries:?}"
    );
    let a = run_tool(
        "python3",
        &[
            "-c",
            "import sys,zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read('files/app/a.log').decode())",
            out.to_str().unwrap(),
        ],
    );
    let b = run_tool(
        "python3",
        &[
            "-c",
            "import sys,zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read('files/app/b.log').decode())",
            out.to_str().unwrap(),
        ],
    );
    assert!(
        !a.contains("jane@contoso.com") && !a.contains("10.1.2.3"),
        "{a}"
    );
    assert!(
        a.contains("92d800c4-abde-40be-91e9-3814ee786b19") && a.contains("2026-11-24T10:00:00Z"),
        "ids and times stay: {a}"
    );
    assert_eq!(a.matches("<email-1>").count(), 3, "{a}");
    assert!(
        b.contains("<email-1>"),
        "the same address gets the same token in another file: {b}"
    );
    let file = |name: &str| {
        written
            .manifest
            .files
            .iter()
            .find(|f| f.path == name)
            .unwrap()
            .clone()
    };
    let a_entry = file("files/app/a.log");
    assert_eq!(a_entry.redaction, FileRedaction::Applied);
    assert_eq!(a_entry.redactions, 6);
    assert_eq!(a_entry.redactions_by_kind.get("email"), Some(&3));
    assert_eq!(
        a_entry.size,
        a.len() as u64,
        "the manifest describes the redacted content"
    );
    let blob = file("files/acs/acs_1.blog");
    assert_eq!(blob.redaction, FileRedaction::Impossible);
    assert_eq!(
        blob.sha256,
        crate::support::sha256_hex(&secret_bytes),
        "encrypted files are stored byte for byte"
    );
    assert!(Bundle::open(&out).unwrap().verify().intact());
    assert_eq!(
        before,
        (
            fs::read(text.join("a.log")).unwrap(),
            fs::read(enc.join("acs_1.blog")).unwrap()
        ),
        "sources untouched"
    );
}

#[test]
fn a_large_text_log_is_deflated_in_pieces_and_reads_back_whole_and_redacted() {
    use callsupport_desk::redact::{RedactionContext, Redactor};

    let tree = LogTree {
        dir: tempfile::tempdir().unwrap(),
    };
    fs::create_dir_all(tree.acs_root()).unwrap();
    // 6 MiB of lines (several pieces), one 2.5 MiB line without a newline (cut inside the line,
    // after a space) and an empty file.
    let mut big = String::new();
    let mut n = 0;
    while big.len() < 6 << 20 {
        n += 1;
        big.push_str(&format!(
            "2026-11-24T10:00:{:02}Z INFO call 92d800c4-abde-40be-91e9-3814ee786b19 line {n} jane@contoso.com via 10.1.2.3\n",
            n % 60
        ));
    }
    let long_line = "word jane@contoso.com ".repeat((5 << 20) / 2 / 22);
    write_file(&tree.app("big.log"), big.as_bytes());
    write_file(&tree.app("long-line.log"), long_line.as_bytes());
    write_file(&tree.app("empty.log"), b"");
    let config = tree_config(&tree, 200);
    let (plan, _) = Plan::from_config(&config).unwrap();
    let out = out_dir(&tree).join("pieces.zip");
    let redacting = Consent {
        redaction: true,
        ..consent()
    };
    let written = collect(&plan, Report::new("x"), redacting, &out, |_| true).unwrap();

    // The same text through one redactor, in one pass, is what the bundle must hold.
    let expected = |text: &str| {
        let mut redacted = Vec::new();
        Redactor::new(RedactionContext::current())
            .redact_stream(text.as_bytes(), &mut redacted)
            .unwrap();
        String::from_utf8(redacted).unwrap()
    };
    assert_unzip_t_passes(&out);
    let entries = python_entries(&out);
    let mut archive = zip::ZipArchive::new(fs::File::open(&out).unwrap()).unwrap();
    for (name, source) in [
        ("files/app/big.log", big.as_str()),
        ("files/app/long-line.log", long_line.as_str()),
        ("files/app/empty.log", ""),
    ] {
        let mut content = String::new();
        std::io::Read::read_to_string(&mut archive.by_name(name).unwrap(), &mut content).unwrap();
        assert!(
            content == expected(source),
            "{name} differs from one-pass redaction"
        );
        let entry = written
            .manifest
            .files
            .iter()
            .find(|f| f.path == name)
            .unwrap();
        assert_eq!(entry.method, Method::Deflated, "{name}");
        assert_eq!(entry.size, content.len() as u64, "{name}");
        assert_eq!(entries[name]["sha256"], entry.sha256.as_str(), "{name}");
        assert_eq!(entries[name]["compress_type"], 8, "{name}");
    }
    let big_entry = written
        .manifest
        .files
        .iter()
        .find(|f| f.path == "files/app/big.log")
        .unwrap();
    assert_eq!(big_entry.redactions_by_kind.get("email"), Some(&n));
    assert_eq!(big_entry.redactions_by_kind.get("ipv4"), Some(&n));
    assert!(Bundle::open(&out).unwrap().verify().intact());
}

#[test]
fn demo_config_loads_and_finds_every_demo_file() {
    let dir = tempfile::tempdir().unwrap();
    let count = callsupport_demo::write_demo_logs(dir.path(), chrono::Utc::now()).unwrap();
    let text = callsupport_demo::demo_config(
        dir.path(),
        "http://127.0.0.1:9/api/v1/tickets",
        "DEMO_TOKEN",
    );
    let config =
        callsupport_desk::config::Config::parse(std::path::Path::new("demo.toml"), &text).unwrap();
    let (plan, _) = callsupport_desk::collect::Plan::from_config(&config).unwrap();
    assert_eq!(plan.selected.len(), count);
    let ops = plan
        .selected
        .iter()
        .find(|f| f.source_id == "call-operations")
        .unwrap();
    let text = std::fs::read_to_string(&ops.path).unwrap();
    for line in text.lines() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(record["CallId"].as_str().unwrap().len() == 36);
    }
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("\"ResultType\":\"Failed\""))
            .count(),
        5
    );
}
