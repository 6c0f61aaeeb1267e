//! One Aho-Corasick pass for every fixed word a detector starts from: `bearer`, `authorization`,
//! the home-folder prefixes, and the configured user and host names. Each match is handed to the
//! detector that owns it ([`credentials`](super::credentials) or [`names`](super::names)).
//!
//! Matching is case-sensitive over the casings that occur in practice: each word as given, in
//! lower case, in upper case and capitalized (`jdoe`, `JDOE`, `Jdoe`; `Bearer`, `BEARER`). That
//! keeps the automaton's SIMD prefilter on, which an ASCII-case-insensitive automaton loses (it
//! was a quarter of all redaction time); a name in some other mixed case (`jDoE`) is missed.

use aho_corasick::{AhoCorasick, MatchKind};

use crate::bytes::Hit;
use crate::context::RedactionContext;
use crate::kind::Kind;
use crate::{credentials, names};

#[derive(Debug, Clone, Copy)]
enum Role {
    Bearer,
    Authorization,
    Home,
    Word(Kind),
}

pub(crate) struct Keywords {
    automaton: AhoCorasick,
    roles: Vec<Role>,
}

/// The casings of `word` searched for, without repeats.
fn casings(word: &str) -> Vec<String> {
    // The first letter in upper case, the rest in lower case (`Jdoe`, `/Users/`).
    let mut capitalized = word.to_ascii_lowercase();
    if let Some(first) = capitalized.find(|c: char| c.is_ascii_alphabetic()) {
        capitalized[first..=first].make_ascii_uppercase();
    }
    let mut casings = vec![
        word.to_owned(),
        word.to_ascii_lowercase(),
        word.to_ascii_uppercase(),
        capitalized,
    ];
    let mut seen = std::collections::HashSet::new();
    casings.retain(|casing| seen.insert(casing.clone()));
    casings
}

impl Keywords {
    pub(crate) fn new(context: &RedactionContext) -> Keywords {
        let mut words: Vec<(String, Role)> = vec![
            ("bearer".into(), Role::Bearer),
            ("authorization".into(), Role::Authorization),
        ];
        for prefix in names::HOME_PREFIXES {
            words.push((prefix.into(), Role::Home));
        }
        if let Some(user) = names::user_word(context.user_name.as_deref()) {
            words.push((user, Role::Word(Kind::User)));
        }
        for host in names::host_words(context.host_name.as_deref()) {
            words.push((host, Role::Word(Kind::Host)));
        }
        let mut patterns = Vec::new();
        let mut roles = Vec::new();
        for (word, role) in words {
            for casing in casings(&word) {
                patterns.push(casing);
                roles.push(role);
            }
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .expect("a few dozen short patterns always build");
        Keywords { automaton, roles }
    }

    pub(crate) fn find(&self, line: &[u8], hits: &mut Vec<Hit>) {
        for found in self.automaton.find_iter(line) {
            let (start, end) = (found.start(), found.end());
            let hit = match self.roles[found.pattern().as_usize()] {
                Role::Bearer => credentials::bearer(line, start, end),
                Role::Authorization => credentials::authorization(line, start, end),
                Role::Home => names::home_folder(line, start, end),
                Role::Word(kind) => names::whole_word(line, start, end, kind),
            };
            hits.extend(hit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casings_cover_the_usual_forms_once() {
        assert_eq!(casings("jdoe"), ["jdoe", "JDOE", "Jdoe"]);
        assert_eq!(casings("JDoe"), ["JDoe", "jdoe", "JDOE", "Jdoe"]);
        assert_eq!(casings("/home/"), ["/home/", "/HOME/", "/Home/"]);
        assert_eq!(
            casings("\\users\\"),
            ["\\users\\", "\\USERS\\", "\\Users\\"]
        );
        assert_eq!(casings("Jürgen"), ["Jürgen", "jürgen", "JüRGEN"]);
    }

    #[test]
    fn finds_words_in_their_usual_casings() {
        let keywords = Keywords::new(&RedactionContext {
            user_name: Some("jdoe".into()),
            host_name: Some("WIN-7F3K2LQ".into()),
        });
        let line = b"jdoe JDOE Jdoe jDOE win-7f3k2lq Win-7f3k2lq /Users/x C:\\USERS\\y";
        let mut hits = Vec::new();
        keywords.find(line, &mut hits);
        let found: Vec<&[u8]> = hits.iter().map(|hit| &line[hit.start..hit.end]).collect();
        assert_eq!(
            found,
            [
                &b"jdoe"[..],
                b"JDOE",
                b"Jdoe",
                b"win-7f3k2lq",
                b"Win-7f3k2lq",
                b"x",
                b"y"
            ]
        );
    }
}
