//! The machine-wide file under the user's: what wins, what is locked, what a broken user file
//! does, and changing a setting from the Settings screen.

use std::fs;
use std::path::{Path, PathBuf};

use callsupport_config::settings::{self, SettingError};
use callsupport_config::{ConfigFiles, Origin, load_layered};

const MANAGED: &str = r#"# Contoso IT
locked = ["ticket_api", "privacy.redact"]

[ticket_api]
url = "https://support.contoso.example/api/v1/tickets"
organisation = "Contoso IT"

[privacy]
redact = true

[collection]
max_age_days = 5
"#;

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new(managed: Option<&str>, user: Option<&str>) -> Files {
        let dir = tempfile::tempdir().unwrap();
        if let Some(text) = managed {
            fs::write(dir.path().join("managed.toml"), text).unwrap();
        }
        if let Some(text) = user {
            fs::write(dir.path().join("user.toml"), text).unwrap();
        }
        Files { dir }
    }

    fn files(&self) -> ConfigFiles {
        ConfigFiles {
            managed: Some(self.path("managed.toml")),
            user: Some(self.path("user.toml")),
            named: false,
            policy: None,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn the_user_file_overrides_what_is_not_locked_and_locked_values_are_reported() {
    let user = "[collection]\nmax_age_days = 3\n\n[ticket_api]\nurl = \"https://elsewhere.example/t\"\n\n[privacy]\nredact = false\nallow_contact_email = true\n";
    let f = Files::new(Some(MANAGED), Some(user));
    let layered = load_layered(&f.files()).unwrap();
    let config = &layered.config;
    assert_eq!(config.collection.max_age_days, 3, "the user's value wins");
    assert_eq!(
        config.ticket_api.url,
        "https://support.contoso.example/api/v1/tickets"
    );
    assert!(
        config.privacy.redact,
        "locked: the user cannot turn redaction off"
    );
    assert!(
        config.privacy.allow_contact_email,
        "not locked: the user's value"
    );
    assert_eq!(config.locked, ["ticket_api", "privacy.redact"]);

    let ignored: Vec<_> = layered
        .ignored
        .iter()
        .map(|e| (e.key.clone().unwrap(), e.line))
        .collect();
    assert_eq!(
        ignored,
        [
            ("ticket_api".to_owned(), Some(4)),
            ("privacy.redact".to_owned(), Some(8)),
        ]
    );
    assert!(
        layered.ignored[0]
            .message
            .contains("managed by your organisation")
    );
    assert_eq!(layered.ignored[0].path, f.path("user.toml"));

    assert_eq!(layered.origin("collection.max_age_days"), Origin::User);
    assert_eq!(layered.origin("ticket_api.url"), Origin::Organisation);
    assert_eq!(layered.origin("privacy.redact"), Origin::Organisation);
    assert_eq!(layered.origin("outbox.max_age_days"), Origin::Default);
    assert!(
        layered.is_locked("ticket_api.retries"),
        "a locked section locks its keys"
    );
    assert!(!layered.is_locked("collection.max_age_days"));
}

#[test]
fn a_broken_user_file_is_ignored_with_its_line_and_the_app_starts() {
    for (user, key, line) in [
        ("[collection]\nmax_age_days = \n", None, Some(2)),
        (
            "[collection]\nmax_age_days = 3\n[shortcut]\nreport = \"Ctlr+R\"\n",
            Some("shortcut.report"),
            Some(4),
        ),
        (
            "[colection]\nmax_age_days = 3\n",
            Some("colection"),
            Some(1),
        ),
    ] {
        let f = Files::new(Some(MANAGED), Some(user));
        let layered = load_layered(&f.files()).unwrap_or_else(|e| panic!("{user}: {e}"));
        assert_eq!(layered.config.collection.max_age_days, 5, "{user}");
        let problem = &layered.ignored[0];
        assert_eq!(problem.path, f.path("user.toml"), "{user}");
        assert_eq!(
            (problem.key.as_deref(), problem.line),
            (key, line),
            "{problem}"
        );
        assert!(layered.user.is_none());
    }
}

#[test]
fn the_machine_wide_file_must_be_right_and_something_must_be_there() {
    let f = Files::new(
        Some(&MANAGED.replace("\"privacy.redact\"", "\"privacy.redcat\"")),
        None,
    );
    let err = load_layered(&f.files()).unwrap_err();
    assert_eq!(
        (err.key.as_deref(), err.line, err.path.clone()),
        (Some("locked[1]"), Some(2), f.path("managed.toml")),
        "{err}"
    );
    assert!(err.message.contains("`privacy.redcat`"), "{err}");

    let none = Files::new(None, None);
    let err = load_layered(&none.files()).unwrap_err();
    assert!(err.message.contains("no configuration was found"), "{err}");

    // Only the user's file (a test or a script): that is the configuration.
    let only = Files::new(
        None,
        Some(&MANAGED.replace("locked = [\"ticket_api\", \"privacy.redact\"]\n", "")),
    );
    let layered = load_layered(&only.files()).unwrap();
    assert_eq!(layered.origin("ticket_api.url"), Origin::User);
    // The user's file cannot lock.
    let sneaky = Files::new(None, Some(MANAGED));
    let layered = load_layered(&sneaky.files()).unwrap();
    assert!(layered.locked.is_empty());
    assert_eq!(layered.ignored[0].key.as_deref(), Some("locked"));
}

#[test]
fn settings_show_origins_and_locks_and_only_allowed_changes_reach_the_file() {
    let user = "# my own settings\n[collection]\nmax_age_days = 3 # short\n";
    let f = Files::new(
        Some(&MANAGED.replace(
            "\"privacy.redact\"]",
            "\"privacy.redact\", \"shortcut.report\"]",
        )),
        Some(user),
    );
    let files = f.files();
    let layered = load_layered(&files).unwrap();
    let view = settings::view(&layered);
    let row = |key: &str| view.settings.iter().find(|s| s.key == key).unwrap().clone();
    let shortcut = row("shortcut.report");
    assert!(shortcut.locked && !shortcut.editable);
    assert_eq!(shortcut.value, "CmdOrCtrl+Alt+Shift+R");
    let age = row("collection.max_age_days");
    assert_eq!(
        (age.value.as_str(), age.origin, age.editable),
        ("3", Origin::User, true)
    );
    assert_eq!(row("ticket_api.organisation").value, "Contoso IT");
    assert!(
        !row("privacy.allow_contact_email").editable,
        "IT's switch, not the user's"
    );

    // A locked key is refused, and so is one for IT only; the file is untouched.
    assert!(matches!(
        settings::change(&files, &layered, "shortcut.report", "Ctrl+Alt+K"),
        Err(SettingError::Managed(_))
    ));
    assert!(matches!(
        settings::change(&files, &layered, "privacy.allow_contact_email", "true"),
        Err(SettingError::NotForUsers(_))
    ));
    assert!(matches!(
        settings::change(&files, &layered, "collection.max_age_days", "a week"),
        Err(SettingError::NotANumber { .. })
    ));
    assert_eq!(fs::read_to_string(f.path("user.toml")).unwrap(), user);

    // An allowed change is written with the user's comments kept.
    let changed = settings::change(&files, &layered, "collection.max_bundle_mb", "50").unwrap();
    assert_eq!(changed.config.collection.max_bundle_mb, 50);
    let text = fs::read_to_string(f.path("user.toml")).unwrap();
    assert!(
        text.contains("# my own settings") && text.contains("# short"),
        "{text}"
    );
    assert!(text.contains("max_bundle_mb = 50"), "{text}");
    assert_eq!(
        names_in(f.dir.path()),
        ["managed.toml", "user.toml"],
        "nothing left beside it"
    );
}

#[test]
fn a_change_that_would_break_the_configuration_never_reaches_the_file() {
    let f = Files::new(Some(MANAGED), None);
    let files = f.files();
    let layered = load_layered(&files).unwrap();
    let err = settings::change(&files, &layered, "shortcut.report", "Ctlr+R").unwrap_err();
    let SettingError::Invalid(problem) = &err else {
        panic!("{err}")
    };
    assert_eq!(problem.key.as_deref(), Some("shortcut.report"), "{err}");
    assert!(!f.path("user.toml").exists(), "no file was written");
    assert_eq!(names_in(f.dir.path()), ["managed.toml"]);

    // The first allowed change creates the user's file.
    let changed = settings::change(&files, &layered, "shortcut.report", "Ctrl+Alt+K").unwrap();
    assert_eq!(changed.config.shortcut.report, "Ctrl+Alt+K");
    assert_eq!(changed.origin("shortcut.report"), Origin::User);
}

/// Group policy over the machine-wide file: its values win and are locked; the user's values for
/// them are reported as ignored; a value of the wrong type names the registry value.
#[test]
fn group_policy_wins_over_the_machine_wide_file_and_locks_what_it_sets() {
    use callsupport_config::load_layered_over;
    use callsupport_config::policy::{RegValue, layer};

    let files = Files::new(
        Some(MANAGED),
        Some(
            "[privacy]\nallow_export = true\n\n[collection]\nmax_bundle_mb = 90\nmax_age_days = 3\n",
        ),
    );
    let origin = r"HKLM\Software\Policies\CallSupport";
    let policy = layer(
        origin,
        &[
            ("privacy.allow_export", RegValue::Dword(0)),
            ("collection.max_bundle_mb", RegValue::Dword(120)),
        ],
    )
    .unwrap();
    let layered = load_layered_over(&files.files(), policy).unwrap();
    assert!(!layered.config.privacy.allow_export, "policy's value wins");
    assert_eq!(layered.config.collection.max_bundle_mb, 120);
    assert_eq!(
        layered.config.collection.max_age_days, 3,
        "not set by policy: the user's"
    );
    assert!(layered.is_locked("privacy.allow_export"));
    assert!(layered.is_locked("collection.max_bundle_mb"));
    assert!(!layered.is_locked("collection.max_age_days"));
    assert!(
        layered.is_locked("ticket_api.url"),
        "the file's locks still hold"
    );
    assert_eq!(layered.origin("privacy.allow_export"), Origin::Policy);
    assert_eq!(
        layered.origin("ticket_api.organisation"),
        Origin::Organisation
    );
    assert_eq!(layered.origin("collection.max_age_days"), Origin::User);
    let ignored: Vec<String> = layered.ignored.iter().map(ToString::to_string).collect();
    assert_eq!(ignored.len(), 2, "{ignored:?}");
    assert!(
        ignored
            .iter()
            .all(|e| e.contains("managed by your organisation")),
        "{ignored:?}"
    );
    assert_eq!(
        layered
            .policy
            .as_ref()
            .map(|p| p.path.display().to_string()),
        Some(origin.to_owned())
    );

    // Policy alone is a configuration, with no file at all.
    let none = Files::new(None, None);
    let url = RegValue::String("https://support.contoso.example/api/v1/tickets".into());
    let policy = layer(origin, &[("ticket_api.url", url)]).unwrap();
    let layered = load_layered_over(&none.files(), policy).unwrap();
    assert_eq!(
        layered.config.ticket_api.url,
        "https://support.contoso.example/api/v1/tickets"
    );

    // A value the configuration refuses names the registry value.
    let bad = RegValue::String("ftp://nowhere".into());
    let policy = layer(origin, &[("ticket_api.url", bad)]).unwrap();
    let err = load_layered_over(&none.files(), policy).unwrap_err();
    assert!(
        err.to_string()
            .contains(r"HKLM\Software\Policies\CallSupport"),
        "{err}"
    );
}
