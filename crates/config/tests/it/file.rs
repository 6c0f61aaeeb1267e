//! `Config::load` on real files: the documented minimal file loads, and every error names the file,
//! the line and the key.

use std::fs;

use callsupport_config::{Config, SourceKind};

/// The smallest useful file, word for word as `docs/configure.md` documents it.
const MINIMAL: &str = r#"[ticket_api]
url = "https://support.example.com/api/v1/tickets"
token_env = "CALLSUPPORT_TOKEN"      # or a token stored in the OS keyring

[[sources]]
id = "acs"                            # letters, digits, '-'; names the folder in the bundle
name = "Calling SDK logs"
root = "{local_data}/Packages"        # placeholders: {home} {config} {data} {local_data} {temp} {env:NAME}
include = ["**/acs*.blog", "**/*.etl"]
exclude = []
kind = "encrypted"                    # encrypted | text | call-operations

[collection]
max_age_days = 7
max_bundle_mb = 200

[privacy]
redact = true
"#;

#[test]
fn the_minimal_file_is_the_one_documented() {
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/configure.md");
    let text = fs::read_to_string(&docs).unwrap();
    assert!(
        text.contains(&format!("```toml\n{MINIMAL}```")),
        "docs/configure.md no longer shows the minimal file this test loads"
    );
}

#[test]
fn the_documented_minimal_file_loads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("callsupport.toml");
    fs::write(&path, MINIMAL).unwrap();

    let config = Config::load(&path).unwrap();

    assert_eq!(
        config.ticket_api.url,
        "https://support.example.com/api/v1/tickets"
    );
    assert_eq!(
        config.ticket_api.token_env.as_deref(),
        Some("CALLSUPPORT_TOKEN")
    );
    assert_eq!(config.ticket_api.destination_host(), "support.example.com");
    assert_eq!(config.sources.len(), 1);
    let source = &config.sources[0];
    assert_eq!(
        (source.id.as_str(), source.name.as_str()),
        ("acs", "Calling SDK logs")
    );
    assert_eq!(
        source.root, "{local_data}/Packages",
        "placeholders are kept"
    );
    assert_eq!(source.include, ["**/acs*.blog", "**/*.etl"]);
    assert!(source.exclude.is_empty());
    assert_eq!(source.kind, SourceKind::Encrypted);
    assert_eq!(config.collection.max_age_days, 7);
    assert_eq!(config.collection.max_bundle_mb, 200);
    assert!(config.privacy.redact);
}

#[test]
fn unknown_key_names_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("callsupport.toml");
    let text = MINIMAL.replace("redact = true", "redact = true\ncolour = \"blue\"");
    fs::write(&path, &text).unwrap();
    let line = text.lines().position(|l| l.starts_with("colour")).unwrap() + 1;

    let err = Config::load(&path).unwrap_err();

    assert_eq!(err.path, path);
    assert_eq!(err.line, Some(line), "{err}");
    assert_eq!(err.key.as_deref(), Some("privacy.colour"), "{err}");
    assert!(err.message.contains("colour"), "{err}");
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!("{}:{line}", path.display())),
        "{shown}"
    );
    assert!(shown.contains("key `privacy.colour`"), "{shown}");
}

#[test]
fn unknown_key_inside_a_source_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("callsupport.toml");
    let text = MINIMAL.replace(
        "kind = \"encrypted\"",
        "kind = \"encrypted\"\nrecursive = true",
    );
    fs::write(&path, &text).unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("recursive"))
        .unwrap()
        + 1;

    let err = Config::load(&path).unwrap_err();

    assert_eq!(err.path, path);
    assert_eq!(err.line, Some(line), "{err}");
    assert_eq!(err.key.as_deref(), Some("sources[0].recursive"), "{err}");
    assert!(err.message.contains("recursive"), "{err}");
}

#[test]
fn bad_value_names_its_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("callsupport.toml");
    let text = MINIMAL.replace("max_bundle_mb = 200", "max_bundle_mb = 0");
    fs::write(&path, &text).unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("max_bundle_mb"))
        .unwrap()
        + 1;

    let err = Config::load(&path).unwrap_err();

    assert_eq!(
        (err.line, err.key.as_deref()),
        (Some(line), Some("collection.max_bundle_mb")),
        "{err}"
    );
}

#[test]
fn the_id_of_our_own_log_is_reserved() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("callsupport.toml");
    let text = MINIMAL.replace(r#"id = "acs""#, r#"id = "callsupport""#);
    fs::write(&path, &text).unwrap();

    let err = Config::load(&path).unwrap_err();

    assert_eq!(err.key.as_deref(), Some("sources[0].id"), "{err}");
    assert!(err.message.contains("reserved"), "{err}");
}

#[test]
fn outbox_limits_of_zero_are_refused_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("callsupport.toml");
    for key in ["max_age_days", "max_total_mb"] {
        fs::write(&path, format!("{MINIMAL}\n[outbox]\n{key} = 0\n")).unwrap();

        let err = Config::load(&path).unwrap_err();

        assert_eq!(
            err.key.as_deref(),
            Some(format!("outbox.{key}").as_str()),
            "{err}"
        );
        assert!(err.line.is_some(), "{err}");
    }
}

#[test]
fn missing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nowhere").join("callsupport.toml");

    let err = Config::load(&path).unwrap_err();

    assert_eq!(err.path, path);
    assert_eq!((err.line, err.key.as_deref()), (None, None), "{err}");
    assert!(err.message.contains("not found"), "{err}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
}

#[test]
fn an_explicit_path_wins_over_the_environment() {
    let path = std::path::Path::new("/some/where/c.toml");
    assert_eq!(Config::locate(Some(path)).unwrap(), path);
}

/// A Windows path in double quotes is TOML escapes gone wrong: the error says how to write it.
#[test]
fn a_windows_path_in_double_quotes_is_named_with_how_to_write_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    fs::write(
        &path,
        "[ticket_api]\nurl = \"https://support.example.com/api/v1/tickets\"\n\n[[sources]]\nid = \"app\"\nname = \"App\"\nroot = \"C:\\Users\\jane\\AppData\\Local\\App\\logs\"\ninclude = [\"*.log\"]\nkind = \"text\"\n",
    )
    .unwrap();
    let err = Config::load(&path).unwrap_err();
    assert_eq!(err.line, Some(7), "{err}");
    assert!(err.message.contains("single quotes ('C:\\Logs')"), "{err}");

    // Written as the message says, it loads, and the path is kept as written.
    fs::write(
        &path,
        "[ticket_api]\nurl = \"https://support.example.com/api/v1/tickets\"\n\n[[sources]]\nid = \"app\"\nname = \"App\"\nroot = 'C:\\Users\\jane\\AppData\\Local\\App\\logs'\ninclude = [\"*.log\"]\nkind = \"text\"\n",
    )
    .unwrap();
    let config = Config::load(&path).unwrap();
    assert_eq!(
        config.sources[0].root,
        "C:\\Users\\jane\\AppData\\Local\\App\\logs"
    );
}
