//! The agent's command line: `callsupport-tray [--config FILE] [--at-login]`.

use std::path::PathBuf;

const USAGE: &str = "usage: callsupport-tray [--config FILE] [--at-login]";

#[derive(Debug, Default, PartialEq)]
pub struct Args {
    /// The user's configuration file, handed on to the app's windows.
    pub config: Option<PathBuf>,
    /// Started by a machine-wide login start (the per-machine installer's): the agent exits when
    /// the user turned `startup.at_login` off.
    pub at_login: bool,
}

/// A command line the agent cannot use.
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
            } else if arg == "--at-login" {
                parsed.at_login = true;
            } else if arg == "--help" || arg == "-h" {
                println!(
                    "{USAGE}\n\nCall Support's tray icon, report shortcut and outbox. One runs per user;\nthe app starts it, and so may the login start.\nWithout --config it reads the file named by CALLSUPPORT_CONFIG.\n--at-login: started at sign-in; exits when startup.at_login is off."
                );
                std::process::exit(0);
            } else if arg == "--version" || arg == "-V" {
                println!("callsupport-tray {}", callsupport_desk::VERSION);
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
        assert!(parse(&["--at-login"]).unwrap().at_login);
    }

    #[test]
    fn bad_arguments_are_named() {
        assert_eq!(parse(&["--config"]), Err(ArgsError::MissingValue));
        let err = parse(&["--background"]).unwrap_err().to_string();
        assert!(
            err.contains("`--background`") && err.contains("usage"),
            "{err}"
        );
    }
}
