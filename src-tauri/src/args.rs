//! The app's command line: `callsupport-app [--config FILE] [--background] [LINK]`.

use std::path::PathBuf;

const USAGE: &str = "usage: callsupport-app [--config FILE] [--background] [callsupport://LINK]";

#[derive(Debug, Default, PartialEq)]
pub struct Args {
    pub config: Option<PathBuf>,
    /// Start in the tray without a window (the login start).
    pub background: bool,
    /// A `callsupport://` link to open (support asking for logs).
    pub link: Option<String>,
}

/// A command line the app cannot use.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum ArgsError {
    #[error("--config needs a file: --config FILE")]
    MissingValue,
    #[error("unknown argument `{0}`; {USAGE}")]
    Unknown(String),
}

impl Args {
    pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, ArgsError> {
        let mut parsed = Args::default();
        while let Some(arg) = args.next() {
            if let Some(value) = arg.strip_prefix("--config=") {
                parsed.config = Some(PathBuf::from(value));
            } else if arg == "--config" {
                let value = args.next().ok_or(ArgsError::MissingValue)?;
                parsed.config = Some(PathBuf::from(value));
            } else if arg == "--background" {
                parsed.background = true;
            } else if arg.starts_with("callsupport:") && parsed.link.is_none() {
                parsed.link = Some(arg);
            } else if arg == "--help" || arg == "-h" {
                println!(
                    "{USAGE}\n\nWithout --config the app reads the file named by CALLSUPPORT_CONFIG.\n--background starts it in the tray without a window."
                );
                std::process::exit(0);
            } else {
                return Err(ArgsError::Unknown(arg));
            }
        }
        Ok(parsed)
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
    fn background_and_a_link() {
        let args = parse(&["--background", "callsupport://report?ticket=CS-1"]).unwrap();
        assert!(args.background);
        assert_eq!(
            args.link.as_deref(),
            Some("callsupport://report?ticket=CS-1")
        );
    }

    #[test]
    fn bad_arguments_are_named() {
        assert_eq!(parse(&["--config"]), Err(ArgsError::MissingValue));
        assert!(
            parse(&["--colour"])
                .unwrap_err()
                .to_string()
                .contains("`--colour`")
        );
    }
}
