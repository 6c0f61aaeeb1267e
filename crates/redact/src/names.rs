//! The user's name and the machine's host name: in home-folder paths, and as whole words.
//!
//! - **Paths**: the folder after `/home/`, `/Users/`, `C:\Users\` (also `C:/Users/` and the
//!   JSON-escaped `C:\\Users\\`) becomes `<user>`, whoever it names. Not inside a URL
//!   (`https://graph/v1.0/users/…`: an API path), and not the shared folders (`Public`,
//!   `Default`, `All Users`, `Shared`) or placeholders (`%USERNAME%`, `$USER`, `{user}`). A
//!   folder name may hold spaces (`C:\Users\Jane Doe\`) when a separator follows.
//! - **Words**: the configured user name and host name (and the host's first label, for
//!   `WIN-7F3K2LQ.contoso.local`), as given, in lower or upper case or capitalized (see
//!   `keywords.rs`), where no letter, digit or `_` touches them. Names shorter than 3 characters and generic account or machine names (`root`, `admin`,
//!   `user`, `runner`, `localhost`, `ubuntu`…) are used in paths only: as words they would hit
//!   ordinary text.

use memchr::memmem;

use crate::bytes::{Hit, word_at, word_before};
use crate::kind::Kind;

/// Path prefixes after which a folder is named after a user.
pub(crate) const HOME_PREFIXES: [&str; 4] = ["/home/", "/users/", "\\users\\", "\\\\users\\\\"];

const GENERIC: [&str; 34] = [
    "root",
    "admin",
    "administrator",
    "user",
    "users",
    "guest",
    "test",
    "default",
    "public",
    "shared",
    "runner",
    "ubuntu",
    "debian",
    "fedora",
    "vagrant",
    "docker",
    "system",
    "service",
    "builder",
    "build",
    "jenkins",
    "dev",
    "developer",
    "localhost",
    "localdomain",
    "computer",
    "desktop",
    "laptop",
    "server",
    "host",
    "machine",
    "home",
    "bearer",
    "authorization",
];

const SHARED_FOLDERS: [&[u8]; 6] = [
    b"public",
    b"default",
    b"default user",
    b"defaultuser0",
    b"all users",
    b"shared",
];

/// Whether `name` is specific enough to redact wherever it appears as a word.
fn usable_as_word(name: &str) -> bool {
    name.len() >= 3
        && !name.contains(['\n', '\r'])
        && !GENERIC
            .iter()
            .any(|generic| generic.eq_ignore_ascii_case(name))
}

/// The user name to match as a word, if it is specific enough.
pub(crate) fn user_word(name: Option<&str>) -> Option<String> {
    let name = name?.trim();
    usable_as_word(name).then(|| name.to_owned())
}

/// The host names to match as words: the name and, for a dotted name, its first label.
pub(crate) fn host_words(name: Option<&str>) -> Vec<String> {
    let Some(name) = name.map(str::trim) else {
        return Vec::new();
    };
    let mut words = vec![name.trim_end_matches('.')];
    if let Some((first, _)) = name.split_once('.') {
        words.push(first);
    }
    words.retain(|word| usable_as_word(word));
    words.dedup();
    words.into_iter().map(str::to_owned).collect()
}

/// The name found at `start..end` as a whole word.
pub(crate) fn whole_word(line: &[u8], start: usize, end: usize, kind: Kind) -> Option<Hit> {
    (!word_before(line, start) && !word_at(line, end)).then(|| Hit::new(start, end, kind))
}

/// The folder after a home prefix found at `prefix..folder`.
pub(crate) fn home_folder(line: &[u8], prefix: usize, folder: usize) -> Option<Hit> {
    if in_url(line, prefix) {
        return None;
    }
    let mut end = folder;
    let mut first_space = None;
    while end < line.len() {
        match line[end] {
            b'/' | b'\\' => break,
            b' ' => {
                first_space.get_or_insert(end);
            }
            b'"' | b'\'' | b'`' | b'<' | b'>' | b'|' | b'\t' | b'\r' | b'\n' | b',' | b';'
            | b'*' | b'?' | b':' | b')' | b']' | b'}' | b'=' | b'&' => break,
            _ => {}
        }
        end += 1;
    }
    let at_separator = matches!(line.get(end), Some(b'/' | b'\\'));
    if !at_separator && let Some(space) = first_space {
        end = space;
    }
    while end > folder && line[end - 1] == b'.' && !at_separator {
        end -= 1; // the end of a sentence
    }
    let name = &line[folder..end];
    if name.is_empty() || name.len() > 64 {
        return None;
    }
    if name
        .iter()
        .any(|byte| matches!(byte, b'%' | b'$' | b'{' | b'~' | b'<' | b'['))
        || SHARED_FOLDERS
            .iter()
            .any(|shared| shared.eq_ignore_ascii_case(name))
        || name == b"."
        || name == b".."
    {
        return None;
    }
    Some(Hit::new(folder, end, Kind::User))
}

/// Whether the token holding `at` (back to whitespace or a quote) is a URL other than `file://`.
fn in_url(line: &[u8], at: usize) -> bool {
    let token_start = line[..at]
        .iter()
        .rposition(|&byte| matches!(byte, b' ' | b'\t' | b'"' | b'\'' | b'<' | b'(' | b'='))
        .map_or(0, |position| position + 1);
    let token = &line[token_start..at];
    memmem::find(token, b"://").is_some_and(|scheme| !token[..scheme].eq_ignore_ascii_case(b"file"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder_in(line: &str, prefix: &str) -> Option<String> {
        let at = line.to_ascii_lowercase().find(prefix)?;
        let hit = home_folder(line.as_bytes(), at, at + prefix.len())?;
        Some(line[hit.start..hit.end].to_owned())
    }

    #[test]
    fn home_folders() {
        assert_eq!(
            folder_in("open /home/jane/.config/x", "/home/"),
            Some("jane".into())
        );
        assert_eq!(folder_in("cwd=/home/jane", "/home/"), Some("jane".into()));
        assert_eq!(folder_in("in /home/jane.", "/home/"), Some("jane".into()));
        assert_eq!(
            folder_in("/Users/jane/Library/Logs", "/users/"),
            Some("jane".into())
        );
        assert_eq!(
            folder_in(r"C:\Users\Jane Doe\AppData\Local", "\\users\\"),
            Some("Jane Doe".into())
        );
        assert_eq!(
            folder_in(r"C:\Users\jane is missing", "\\users\\"),
            Some("jane".into())
        );
        assert_eq!(
            folder_in(r#""C:\\Users\\jdoe\\AppData""#, "\\\\users\\\\"),
            Some("jdoe".into())
        );
        assert_eq!(
            folder_in("file:///Users/jane/x", "/users/"),
            Some("jane".into())
        );
    }

    #[test]
    fn not_home_folders() {
        assert_eq!(
            folder_in("https://graph.microsoft.com/v1.0/users/42/x", "/users/"),
            None
        );
        assert_eq!(folder_in(r"C:\Users\Public\Documents", "\\users\\"), None);
        assert_eq!(folder_in(r"C:\Users\%USERNAME%\AppData", "\\users\\"), None);
        assert_eq!(folder_in("/home/$USER/x", "/home/"), None);
        assert_eq!(folder_in("/home/", "/home/"), None);
    }

    #[test]
    fn names_usable_as_words() {
        assert_eq!(user_word(Some(" jane.doe ")), Some("jane.doe".into()));
        assert_eq!(user_word(Some("root")), None);
        assert_eq!(user_word(Some("jo")), None);
        assert_eq!(user_word(None), None);
        assert_eq!(
            host_words(Some("WIN-7F3K2LQ.contoso.local")),
            ["WIN-7F3K2LQ.contoso.local", "WIN-7F3K2LQ"]
        );
        assert_eq!(host_words(Some("localhost")), Vec::<String>::new());
        assert!(whole_word(b"on WIN-7F3K2LQ.", 3, 14, Kind::Host).is_some());
        assert!(whole_word(b"on WIN-7F3K2LQX", 3, 14, Kind::Host).is_none());
    }
}
