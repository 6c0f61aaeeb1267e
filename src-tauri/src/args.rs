//! The app's command line: `callsupport-app [--config FILE] [--show VIEW] [BUNDLE]`, or
//! `callsupport-app [--] LINK` alone.
//!
//! What the system hands over (a `callsupport://` link, a `.zip` double-clicked) comes after `--`
//! in the commands the installers register: exactly one of them, and nothing after it. A link
//! comes alone wherever it is (an older registration had none of `--`), so one crafted to carry
//! quotes and options of its own (`--config \\host\share\c.toml`) is refused, not obeyed.

use std::path::PathBuf;

use callsupport_desk::api::View;

const USAGE: &str = "usage: callsupport-app [--config FILE] [--show report|export|history|settings|viewer|survey] [--detection ID] [--survey CALL_ID] [--] [BUNDLE.zip | file:///…/BUNDLE.zip], or callsupport-app [--] callsupport://LINK alone";

#[derive(Debug, PartialEq)]
pub struct Args {
    pub config: Option<PathBuf>,
    /// The screen to open with (the tray's menu and shortcut name one).
    pub show: View,
    /// A `callsupport://` link to open (support asking for logs).
    pub link: Option<String>,
    /// A bundle to open in the viewer (a double-click on a `.zip`, a drop on the launcher).
    pub bundle: Option<PathBuf>,
    /// A detection the report is to start from (the user answered the tray agent's prompt).
    pub detection: Option<String>,
    /// A call that ended, for the end-of-call survey to ask about.
    pub survey: Option<String>,
}

impl Default for Args {
    fn default() -> Args {
        Args {
            config: None,
            show: View::Report,
            link: None,
            bundle: None,
            detection: None,
            survey: None,
        }
    }
}

/// A command line the app cannot use.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum ArgsError {
    #[error("{0} needs a value; {USAGE}")]
    MissingValue(&'static str),
    #[error("--show takes report, export, history, settings, viewer or survey, not `{0}`")]
    UnknownView(String),
    #[error("unknown argument `{0}`; {USAGE}")]
    Unknown(String),
    #[error("`{0}` is not a file on this computer; open a bundle saved here")]
    NotLocal(String),
    #[error("after `--` comes one link or bundle and nothing else (got {0:?}); {USAGE}")]
    AfterDashes(Vec<String>),
    #[error(
        "a callsupport:// link comes alone, with no other argument (got {0:?}); the configuration then comes from CALLSUPPORT_CONFIG or the usual places"
    )]
    LinkNotAlone(Vec<String>),
}

/// Whether `arg` is a `callsupport:` link.
fn is_link(arg: &str) -> bool {
    arg.get(..12)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("callsupport:"))
}

/// A bundle named by path, or by `file://` URL as desktops pass files to `Exec=… %U`.
fn bundle_path(arg: &str) -> Result<PathBuf, ArgsError> {
    if !arg.contains("://") {
        return Ok(PathBuf::from(arg));
    }
    tauri::Url::parse(arg)
        .ok()
        .filter(|url| url.scheme() == "file")
        .and_then(|url| url.to_file_path().ok())
        .ok_or_else(|| ArgsError::NotLocal(arg.to_owned()))
}

impl Args {
    pub fn parse(args: impl Iterator<Item = String>) -> Result<Args, ArgsError> {
        let args: Vec<String> = args.collect();
        // A link comes from outside (a web page, an e-mail): nothing may ride along with it, so
        // a link crafted to carry options (`--config \\host\share\c.toml`) cannot set them.
        if args.iter().any(|arg| is_link(arg)) {
            return match args.as_slice() {
                [link] | [_, link] if is_link(link) && (args.len() == 1 || args[0] == "--") => {
                    Ok(Args {
                        link: Some(link.clone()),
                        ..Args::default()
                    })
                }
                _ => Err(ArgsError::LinkNotAlone(args)),
            };
        }
        let mut args = args.into_iter();
        let mut parsed = Args::default();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
                _ => (arg.as_str(), None),
            };
            // The option's value: after `=`, or the next argument.
            let mut value = |option: &'static str| {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or(ArgsError::MissingValue(option))
            };
            match name {
                "--config" => parsed.config = Some(value("--config")?.into()),
                "--show" => {
                    let view = value("--show")?;
                    parsed.show = View::parse(&view).ok_or(ArgsError::UnknownView(view))?;
                }
                "--detection" => {
                    parsed.detection = Some(value("--detection")?);
                    parsed.show = View::Report;
                }
                "--survey" => {
                    parsed.survey = Some(value("--survey")?);
                    parsed.show = View::Survey;
                }
                "--" => {
                    let rest: Vec<String> = args.collect();
                    let [operand] = rest.as_slice() else {
                        return Err(ArgsError::AfterDashes(rest));
                    };
                    if operand.starts_with('-') {
                        return Err(ArgsError::AfterDashes(rest));
                    }
                    parsed.operand(operand.clone())?;
                    break;
                }
                "--help" | "-h" => {
                    println!(
                        "{USAGE}\n\nWithout --config the app reads the file named by CALLSUPPORT_CONFIG.\nThe tray icon and the report shortcut belong to callsupport-tray, which the app starts."
                    );
                    std::process::exit(0);
                }
                _ if !arg.starts_with('-') => parsed.operand(arg)?,
                _ => return Err(ArgsError::Unknown(arg)),
            }
        }
        Ok(parsed)
    }

    /// A bundle, at most one (a link is alone, and taken before).
    fn operand(&mut self, arg: String) -> Result<(), ArgsError> {
        let named = std::path::Path::new(&arg);
        if callsupport_desk::api::is_bundle_name(named) && self.bundle.is_none() {
            self.bundle = Some(bundle_path(&arg)?);
            self.show = View::Viewer;
        } else {
            return Err(ArgsError::Unknown(arg));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, ArgsError> {
        Args::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn config_in_both_spellings() {
        assert_eq!(
            parse(&["--config", "a.toml"]).unwrap().config,
            Some(PathBuf::from("a.toml"))
        );
        assert_eq!(
            parse(&["--config=b.toml"]).unwrap().config,
            Some(PathBuf::from("b.toml"))
        );
        assert_eq!(parse(&[]).unwrap(), Args::default());
    }

    #[test]
    fn a_screen_and_a_link_alone() {
        assert_eq!(parse(&["--show=export"]).unwrap().show, View::Export);
        let args = parse(&["CallSupport://report?ticket=CS-1"]).unwrap();
        assert_eq!(
            args.link.as_deref(),
            Some("CallSupport://report?ticket=CS-1")
        );
        assert_eq!(args.show, View::Report);
        // Whatever comes with a link, before or after it, is refused with it.
        for with_more in [
            &["--show", "history", "callsupport://report?ticket=CS-1"][..],
            &["callsupport://x", "--config", r"\\host\share\c.toml"],
            &["--config", "c.toml", "callsupport://x"],
            &["callsupport://x", r"\\host\share\b.zip"],
            &["callsupport://x", "callsupport://y"],
            &["--config", "callsupport://x"],
        ] {
            assert!(
                matches!(parse(with_more), Err(ArgsError::LinkNotAlone(_))),
                "{with_more:?}"
            );
        }
    }

    #[test]
    fn a_bundle_opens_the_viewer() {
        let args = parse(&["--config", "c.toml", "/home/ana/Report.ZIP"]).unwrap();
        assert_eq!(args.bundle, Some(PathBuf::from("/home/ana/Report.ZIP")));
        assert_eq!(args.show, View::Viewer);
        assert!(parse(&["notes.txt"]).is_err(), "only bundles");
    }

    #[test]
    fn a_bundle_url_from_the_desktop_is_a_path() {
        // A bundle sealed for the organisation's keys opens in the viewer too.
        let sealed = parse(&["--", "/home/ana/Downloads/CS-7.zip.age"]).unwrap();
        assert_eq!(
            sealed.bundle,
            Some(PathBuf::from("/home/ana/Downloads/CS-7.zip.age"))
        );
        let args = parse(&["file:///home/ana/My%20Report.zip"]).unwrap();
        assert_eq!(args.bundle, Some(PathBuf::from("/home/ana/My Report.zip")));
        assert_eq!(
            parse(&["https://example.com/r.zip"]),
            Err(ArgsError::NotLocal("https://example.com/r.zip".into()))
        );
    }

    #[test]
    fn a_detection_opens_the_report() {
        let args = parse(&["--show", "report", "--detection", "0193-abc"]).unwrap();
        assert_eq!(args.detection.as_deref(), Some("0193-abc"));
        assert_eq!(args.show, View::Report);
        assert_eq!(
            parse(&["--detection"]),
            Err(ArgsError::MissingValue("--detection"))
        );
        let args = parse(&["--survey", "call-1"]).unwrap();
        assert_eq!(
            (args.survey.as_deref(), args.show),
            (Some("call-1"), View::Survey)
        );
    }

    #[test]
    fn what_the_system_hands_over_comes_after_dashes_alone() {
        let args = parse(&["--", "callsupport://report?ticket=CS-1"]).unwrap();
        assert_eq!(
            args.link.as_deref(),
            Some("callsupport://report?ticket=CS-1")
        );
        let args = parse(&["--", r"C:\Users\ana\Downloads\CS-1.zip"]).unwrap();
        assert_eq!(args.show, View::Viewer);
        // A link that smuggles options in (`"%1"` with quotes inside) is refused whole.
        for smuggled in [
            &["--", "callsupport://x", "--config", r"\\host\share\c.toml"][..],
            &["--", "callsupport://x", r"\\host\share\b.zip"],
            &["--", "--config=c.toml"],
            &["--"],
        ] {
            assert!(
                matches!(
                    parse(smuggled),
                    Err(ArgsError::AfterDashes(_) | ArgsError::LinkNotAlone(_))
                ),
                "{smuggled:?}"
            );
        }
    }

    #[test]
    fn bad_arguments_are_named() {
        assert_eq!(
            parse(&["--config"]),
            Err(ArgsError::MissingValue("--config"))
        );
        assert_eq!(
            parse(&["--show", "tray"]),
            Err(ArgsError::UnknownView("tray".into()))
        );
        assert!(
            parse(&["--background"])
                .unwrap_err()
                .to_string()
                .contains("`--background`")
        );
    }
}
