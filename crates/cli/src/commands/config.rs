//! `callsupport config show | check FILE | install FILE | schema`: the configuration in effect and
//! where each value came from, a file checked before it is deployed, a file put in place (the
//! installers' `/CONFIG=`, IT's scripts), and the JSON Schema for editors and pipelines.

use std::path::PathBuf;
use std::process::ExitCode;

use callsupport_desk::Error;
use callsupport_desk::config::settings::{self, SettingsView};
use callsupport_desk::config::{
    Config, ConfigError, ConfigFiles, Origin, deploy, json_schema, load_layered,
};

use crate::output;

#[derive(clap::Subcommand)]
pub enum Args {
    /// Print every key's effective value with where it came from (default, machine-wide file,
    /// user's file) and whether the organisation locked it.
    Show,
    /// Check a configuration file; each problem is named with file, line and key.
    Check {
        /// The file to check.
        file: PathBuf,
    },
    /// Check a configuration file and put it in place: the machine-wide file (IT's, which may
    /// lock keys; needs an administrator or root) or the user's own. Nothing is written when the
    /// file has a problem.
    Install {
        /// The file to install.
        file: PathBuf,
        /// Whose file it becomes.
        #[arg(long = "for", value_enum, default_value_t = Whose::Machine)]
        whose: Whose,
    },
    /// Print the configuration's JSON Schema.
    Schema,
}

/// Which configuration file `config install` writes.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Whose {
    /// The machine-wide file, for every user of this computer.
    Machine,
    /// This user's own file.
    User,
}

pub fn run(explicit: Option<PathBuf>, args: Args, json: bool) -> Result<ExitCode, Error> {
    match args {
        Args::Show => show(explicit, json),
        Args::Check { file } => check(&file, json),
        Args::Install { file, whose } => install(explicit, &file, whose, json),
        Args::Schema => {
            print!("{}", json_schema());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn show(explicit: Option<PathBuf>, json: bool) -> Result<ExitCode, Error> {
    let layered = load_layered(&ConfigFiles::locate(explicit.as_deref()))?;
    let view: SettingsView = settings::view(&layered);
    if json {
        output::json(&view);
        return Ok(ExitCode::SUCCESS);
    }
    let width = view.settings.iter().map(|s| s.key.len()).max().unwrap_or(0);
    for setting in &view.settings {
        let origin = match setting.origin {
            Origin::Default => "default",
            Origin::Organisation => "machine-wide file",
            Origin::Policy => "group policy",
            Origin::User => "user's file",
        };
        let value = if setting.value.is_empty() {
            "(not set)"
        } else {
            setting.value.as_str()
        };
        output::line(&format!(
            "{:width$}  {value}  [{origin}{}]",
            setting.key,
            if setting.locked { ", locked" } else { "" }
        ));
    }
    if let Some(file) = &view.managed_file {
        output::line(&format!("machine-wide file: {file}"));
    }
    if let Some(policy) = &layered.policy {
        output::line(&format!("group policy: {}", policy.path.display()));
    }
    if let Some(file) = &view.user_file {
        output::line(&format!("user's file: {file}"));
    }
    for ignored in &view.ignored {
        eprintln!("warning: {ignored}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks `file` and writes it where `whose` file is (`CALLSUPPORT_MANAGED_CONFIG`, `--config`
/// and `CALLSUPPORT_CONFIG` move those places as they do for every command).
fn install(
    explicit: Option<PathBuf>,
    file: &PathBuf,
    whose: Whose,
    json: bool,
) -> Result<ExitCode, Error> {
    let files = ConfigFiles::locate(explicit.as_deref());
    let (to, name) = match whose {
        Whose::Machine => (files.managed, "machine-wide"),
        Whose::User => (files.user, "user's"),
    };
    let Some(to) = to else {
        return Err(Error::Config(ConfigError {
            path: file.clone(),
            line: None,
            key: None,
            message: format!(
                "there is no {name} configuration file to install it as here (is \
                 CALLSUPPORT_MANAGED_CONFIG set empty, or no home folder?)"
            ),
        }));
    };
    match deploy::install(file, &to) {
        Ok(()) => {
            if json {
                output::json(&serde_json::json!({ "file": file, "installed_as": to }));
            } else {
                output::line(&format!(
                    "{}: valid; installed as the {name} file {}",
                    file.display(),
                    to.display()
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(deploy::DeployError::Invalid { problems, .. }) => {
            if json {
                output::json(&serde_json::json!({
                    "file": file,
                    "valid": false,
                    "problems": listed(&problems),
                }));
            } else {
                for problem in &problems {
                    output::line(&problem.to_string());
                }
            }
            eprintln!(
                "error: {}: {}; nothing was installed",
                file.display(),
                counted(&problems)
            );
            Ok(ExitCode::from(3))
        }
        Err(deploy::DeployError::Io(err)) => Err(Error::Config(err)),
    }
}

/// The file alone, as a deployment would ship it: every problem, each on a line of its own
/// (`FILE:LINE: key `KEY`: message`), then one `error:` line that counts them.
fn check(file: &PathBuf, json: bool) -> Result<ExitCode, Error> {
    let (_, problems) = Config::read_and_check(file)?;
    if json {
        output::json(&serde_json::json!({
            "file": file,
            "valid": problems.is_empty(),
            "problems": listed(&problems),
        }));
    } else if problems.is_empty() {
        output::line(&format!("{}: valid", file.display()));
    } else {
        for problem in &problems {
            output::line(&problem.to_string());
        }
    }
    if problems.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "error: {}: {}; see above",
        file.display(),
        counted(&problems)
    );
    Ok(ExitCode::from(3))
}

/// Problems as JSON objects: line, key, message.
fn listed(problems: &[ConfigError]) -> Vec<serde_json::Value> {
    problems
        .iter()
        .map(|p| serde_json::json!({ "line": p.line, "key": p.key, "message": p.message }))
        .collect()
}

/// "1 problem", "3 problems".
fn counted(problems: &[ConfigError]) -> String {
    match problems.len() {
        1 => "1 problem".to_owned(),
        n => format!("{n} problems"),
    }
}
