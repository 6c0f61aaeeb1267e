//! Keyboard shortcuts as the configuration writes them: `CmdOrCtrl+Alt+Shift+R`.
//!
//! [`Shortcut::parse`] checks one before the app registers it, so a typo is a configuration error
//! with its file, line and key rather than a shortcut that silently does nothing. A global
//! shortcut needs at least one modifier: a bare key would be taken from every other app.

use std::fmt;

/// The shortcut that opens the report dialog unless the configuration says otherwise.
pub const DEFAULT_REPORT_SHORTCUT: &str = "CmdOrCtrl+Alt+Shift+R";

/// A checked shortcut, kept in the spelling it was written in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortcut(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShortcutError {
    #[error("`{0}` has no key; write modifiers and a key, such as CmdOrCtrl+Alt+Shift+R")]
    NoKey(String),
    #[error(
        "`{0}` has no modifier; a shortcut for every app needs one of CmdOrCtrl, Ctrl, Alt, Shift or Super"
    )]
    NoModifier(String),
    #[error(
        "`{part}` in `{shortcut}` is not a modifier or key this app knows; use CmdOrCtrl, Ctrl, Alt, Shift, Super and a letter, digit or F1–F24"
    )]
    Unknown { shortcut: String, part: String },
}

/// The spellings the desktop's hotkey library (global-hotkey) takes, in lower case.
const MODIFIERS: &[&str] = &[
    "cmdorctrl",
    "cmdorcontrol",
    "commandorctrl",
    "commandorcontrol",
    "ctrl",
    "control",
    "alt",
    "option",
    "shift",
    "super",
    "cmd",
    "command",
];

const NAMED_KEYS: &[&str] = &[
    "space",
    "enter",
    "tab",
    "backspace",
    "delete",
    "insert",
    "home",
    "end",
    "pageup",
    "pagedown",
    "up",
    "down",
    "left",
    "right",
    "escape",
];

impl Shortcut {
    pub fn parse(text: &str) -> Result<Shortcut, ShortcutError> {
        let parts: Vec<&str> = text.split('+').map(str::trim).collect();
        let (key, modifiers) = parts
            .split_last()
            .filter(|(key, _)| !key.is_empty())
            .ok_or_else(|| ShortcutError::NoKey(text.to_owned()))?;
        for part in modifiers {
            if !MODIFIERS.contains(&part.to_ascii_lowercase().as_str()) {
                return Err(ShortcutError::Unknown {
                    shortcut: text.to_owned(),
                    part: (*part).to_owned(),
                });
            }
        }
        let lower = key.to_ascii_lowercase();
        if MODIFIERS.contains(&lower.as_str()) {
            return Err(ShortcutError::NoKey(text.to_owned()));
        }
        if !is_key(&lower) {
            return Err(ShortcutError::Unknown {
                shortcut: text.to_owned(),
                part: (*key).to_owned(),
            });
        }
        if modifiers.is_empty() {
            return Err(ShortcutError::NoModifier(text.to_owned()));
        }
        Ok(Shortcut(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Shortcut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_key(lower: &str) -> bool {
    let single = lower.len() == 1 && lower.chars().all(|c| c.is_ascii_alphanumeric());
    let function = lower
        .strip_prefix('f')
        .and_then(|n| n.parse::<u8>().ok())
        .is_some_and(|n| (1..=24).contains(&n));
    single || function || NAMED_KEYS.contains(&lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_and_common_spellings_parse() {
        for ok in [
            DEFAULT_REPORT_SHORTCUT,
            "Ctrl+Shift+F12",
            "super+space",
            "Alt + 3",
        ] {
            assert!(Shortcut::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn mistakes_are_named() {
        assert!(matches!(
            Shortcut::parse("R"),
            Err(ShortcutError::NoModifier(_))
        ));
        assert!(matches!(
            Shortcut::parse("Ctrl+"),
            Err(ShortcutError::NoKey(_))
        ));
        assert!(matches!(
            Shortcut::parse("Ctrl+Shift"),
            Err(ShortcutError::NoKey(_))
        ));
        assert_eq!(
            Shortcut::parse("Ctlr+R"),
            Err(ShortcutError::Unknown {
                shortcut: "Ctlr+R".into(),
                part: "Ctlr".into()
            })
        );
        assert!(matches!(
            Shortcut::parse("Ctrl+F25"),
            Err(ShortcutError::Unknown { .. })
        ));
    }
}
