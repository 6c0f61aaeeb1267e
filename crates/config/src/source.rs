//! A configured source's root and globs made usable: placeholders expanded, globs compiled.
//!
//! `root` may hold `{home}`, `{config}`, `{data}`, `{local_data}`, `{temp}` and `{env:NAME}`;
//! [`SourceConfig::expanded_root`] replaces them with this machine's folders.
//! [`SourceConfig::globs`] compiles `include` and `exclude` into [`Globs`], which say whether a
//! file below the root belongs to the source. Both fail with a [`SourceConfigError`] that names
//! the source and the key.

use std::path::PathBuf;

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::SourceConfig;

/// Why a configured source cannot be used: its root's placeholders or its globs.
#[derive(Debug, thiserror::Error)]
pub enum SourceConfigError {
    #[error(
        "source `{source_id}`: key `root`: unknown placeholder `{{{placeholder}}}` in `{root}`; use {{home}}, {{config}}, {{data}}, {{local_data}}, {{temp}} or {{env:NAME}}"
    )]
    UnknownPlaceholder {
        source_id: String,
        root: String,
        placeholder: String,
    },
    #[error("source `{source_id}`: key `root`: `{root}` uses {{env:{name}}} but {name} is not set")]
    MissingEnv {
        source_id: String,
        root: String,
        name: String,
    },
    #[error("source `{source_id}`: key `{key}`: `{glob}` is not a valid glob: {reason}")]
    BadGlob {
        source_id: String,
        key: String,
        glob: String,
        reason: String,
    },
}

/// A source's `include` and `exclude` globs, compiled.
#[derive(Debug, Clone)]
pub struct Globs {
    include: GlobSet,
    exclude: GlobSet,
}

impl Globs {
    /// Whether the file at `relative` (`/`-separated, below the root) belongs to the source.
    pub fn matches(&self, relative: &str) -> bool {
        self.include.is_match(relative) && !self.exclude.is_match(relative)
    }
}

impl SourceConfig {
    /// The root with its placeholders replaced by this machine's folders.
    pub fn expanded_root(&self) -> Result<PathBuf, SourceConfigError> {
        expand_root(self)
    }

    /// The `include` and `exclude` globs, compiled.
    pub fn globs(&self) -> Result<Globs, SourceConfigError> {
        Ok(Globs {
            include: globs(self, "include", &self.include)?,
            exclude: globs(self, "exclude", &self.exclude)?,
        })
    }
}

/// Replaces the placeholders of a configured root with this machine's folders.
fn expand_root(source: &SourceConfig) -> Result<PathBuf, SourceConfigError> {
    let mut out = String::new();
    let mut rest = source.root.as_str();
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let name = &rest[open + 1..open + close];
        out.push_str(&placeholder(source, name)?);
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    Ok(PathBuf::from(out))
}

fn placeholder(source: &SourceConfig, name: &str) -> Result<String, SourceConfigError> {
    let unknown = || SourceConfigError::UnknownPlaceholder {
        source_id: source.id.clone(),
        root: source.root.clone(),
        placeholder: name.to_owned(),
    };
    if let Some(var) = name.strip_prefix("env:") {
        return std::env::var(var).map_err(|_| SourceConfigError::MissingEnv {
            source_id: source.id.clone(),
            root: source.root.clone(),
            name: var.to_owned(),
        });
    }
    let dir = match name {
        "home" => dirs::home_dir(),
        "config" => dirs::config_dir(),
        "data" => dirs::data_dir(),
        "local_data" => dirs::data_local_dir(),
        "temp" => Some(std::env::temp_dir()),
        _ => return Err(unknown()),
    };
    dir.map(|d| d.to_string_lossy().into_owned())
        .ok_or_else(unknown)
}

fn globs(
    source: &SourceConfig,
    key: &str,
    patterns: &[String],
) -> Result<GlobSet, SourceConfigError> {
    let bad = |i: usize, glob: &str, reason: String| SourceConfigError::BadGlob {
        source_id: source.id.clone(),
        key: format!("{key}[{i}]"),
        glob: glob.to_owned(),
        reason,
    };
    let mut builder = GlobSetBuilder::new();
    for (i, pattern) in patterns.iter().enumerate() {
        builder.add(Glob::new(pattern).map_err(|err| bad(i, pattern, err.kind().to_string()))?);
    }
    builder.build().map_err(|err| bad(0, "", err.to_string()))
}

#[cfg(test)]
mod tests {
    use crate::SourceKind;

    use super::*;

    fn source(root: &str) -> SourceConfig {
        SourceConfig::new("acs", "ACS", root, SourceKind::Text)
    }

    #[test]
    fn placeholders_expand() {
        let temp = std::env::temp_dir();
        assert_eq!(source("{temp}/x").expanded_root().unwrap(), temp.join("x"));
        let err = source("{nope}/x").expanded_root().unwrap_err();
        assert!(
            err.to_string().contains("unknown placeholder `{nope}`"),
            "{err}"
        );
        assert!(
            err.to_string().contains("source `acs`: key `root`"),
            "{err}"
        );
        let err = source("{env:CALLSUPPORT_SURELY_UNSET_VAR}/x")
            .expanded_root()
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("CALLSUPPORT_SURELY_UNSET_VAR is not set"),
            "{err}"
        );
    }
}
