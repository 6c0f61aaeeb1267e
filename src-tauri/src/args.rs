//! The app's command line: `callsupport-app [--config FILE]`.

use std::path::PathBuf;

#[derive(Debug, Default, PartialEq)]
pub struct Args {
    pub config: Option<PathBuf>,
}

impl Args {
    pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
        let mut parsed = Args::default();
        while let Some(arg) = args.next() {
            if let Some(value) = arg.strip_prefix("--config=") {
                parsed.config = Some(PathBuf::from(value));
            } else if arg == "--config" {
                let value = args.next().ok_or("--config needs a file: --config FILE")?;
                parsed.config = Some(PathBuf::from(value));
            } else if arg == "--help" || arg == "-h" {
                println!(
                    "usage: callsupport-app [--config FILE]\n\nWithout --config the app reads the file named by CALLSUPPORT_CONFIG."
                );
                std::process::exit(0);
            } else {
                return Err(format!(
                    "unknown argument `{arg}`; usage: callsupport-app [--config FILE]"
                ));
            }
        }
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
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
    fn bad_arguments_are_named() {
        assert!(parse(&["--config"]).unwrap_err().contains("needs a file"));
        assert!(parse(&["--colour"]).unwrap_err().contains("`--colour`"));
    }
}
