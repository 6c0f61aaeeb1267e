//! What redaction replaces ([`Kind`]) and how many of each it replaced ([`Counts`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One kind of personal or secret value. Its name is the stem of its tokens (`<email-1>`) and
/// its key in [`Counts::by_kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `jane.doe@contoso.com`, also URL-encoded (`jane.doe%40contoso.com`) → `<email-N>`.
    Email,
    /// `+1 425 555 0100`, `(425) 555-0100`, `020 7946 0958` → `<phone-N>`.
    Phone,
    /// `192.168.1.23` → `<ipv4-N>`.
    Ipv4,
    /// `2001:db8::1`, `fe80::1%eth0`, `::ffff:10.0.0.1` → `<ipv6-N>`.
    Ipv6,
    /// The credentials of `Authorization: Bearer …` / `Basic …` → `<token-N>`.
    Token,
    /// A JSON Web Token (`eyJ….….…`), wherever it appears → `<jwt-N>`.
    Jwt,
    /// The value of a secret key: `accesskey=`, `AccountKey=`, `sig=`, `password=`,
    /// `"client_secret": "…"`… (the key is kept) → `<secret-N>`.
    Secret,
    /// The user's name in a home-folder path, or the configured user name as a word → `<user>`.
    User,
    /// The machine's host name as a word → `<host>`.
    Host,
}

impl Kind {
    /// Every kind, in the order of [`Kind`]'s declaration.
    pub const ALL: [Kind; 9] = [
        Kind::Email,
        Kind::Phone,
        Kind::Ipv4,
        Kind::Ipv6,
        Kind::Token,
        Kind::Jwt,
        Kind::Secret,
        Kind::User,
        Kind::Host,
    ];

    /// The kind's name: the stem of its tokens and its key in [`Counts::by_kind`].
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Ipv4 => "ipv4",
            Kind::Ipv6 => "ipv6",
            Kind::Token => "token",
            Kind::Jwt => "jwt",
            Kind::Secret => "secret",
            Kind::User => "user",
            Kind::Host => "host",
        }
    }

    /// Whether values of this kind get numbered tokens (`<email-3>`); the user and the host are
    /// one each (`<user>`, `<host>`).
    pub fn is_numbered(self) -> bool {
        !matches!(self, Kind::User | Kind::Host)
    }

    /// The kind named `name` (see [`Kind::as_str`]).
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The namespace in which values are numbered. Credentials share one, so a value seen as a
    /// bearer token and later as `access_token=` keeps the token it got first.
    pub(crate) fn namespace(self) -> u8 {
        match self {
            Kind::Token | Kind::Jwt | Kind::Secret => 0,
            other => other as u8 + 1,
        }
    }
}

/// How many values of each kind were replaced (the manifest records them per file as `redactions`
/// and `redactions_by_kind`).
///
/// Serialized as `{"total": 3, "by_kind": {"email": 2, "ipv4": 1}}`; kinds with none are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Counts {
    /// All replacements, every kind together.
    pub total: u32,
    /// Replacements per kind, keyed by [`Kind::as_str`]; kinds with none are absent.
    pub by_kind: BTreeMap<String, u32>,
}

impl Counts {
    /// Replacements of `kind`.
    pub fn get(&self, kind: Kind) -> u32 {
        self.by_kind.get(kind.as_str()).copied().unwrap_or(0)
    }

    /// Whether nothing was replaced.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Adds `other` to these counts (e.g. the files of a bundle into its total).
    pub fn add(&mut self, other: &Counts) {
        self.total = self.total.saturating_add(other.total);
        for (kind, count) in &other.by_kind {
            let entry = self.by_kind.entry(kind.clone()).or_default();
            *entry = entry.saturating_add(*count);
        }
    }
}

/// The allocation-free counter used while redacting; becomes [`Counts`] at the end.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Tally([u32; Kind::ALL.len()]);

impl Tally {
    pub(crate) fn bump(&mut self, kind: Kind) {
        let slot = &mut self.0[kind.index()];
        *slot = slot.saturating_add(1);
    }

    pub(crate) fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for kind in Kind::ALL {
            let count = self.0[kind.index()];
            if count > 0 {
                counts.by_kind.insert(kind.as_str().to_owned(), count);
                counts.total = counts.total.saturating_add(count);
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_index_matches_position() {
        for (position, kind) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(kind.index(), position);
            assert_eq!(Kind::from_name(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(Kind::from_name("uuid"), None);
    }

    #[test]
    fn credentials_share_a_namespace_and_others_do_not() {
        assert_eq!(Kind::Token.namespace(), Kind::Jwt.namespace());
        assert_eq!(Kind::Token.namespace(), Kind::Secret.namespace());
        let others: std::collections::BTreeSet<u8> = [Kind::Email, Kind::Phone, Kind::Ipv4]
            .into_iter()
            .chain([Kind::Ipv6, Kind::Secret])
            .map(Kind::namespace)
            .collect();
        assert_eq!(others.len(), 5);
    }

    #[test]
    fn tally_becomes_counts_without_empty_kinds() {
        let mut tally = Tally::default();
        tally.bump(Kind::Email);
        tally.bump(Kind::Email);
        tally.bump(Kind::Ipv6);
        let counts = tally.counts();
        assert_eq!(counts.total, 3);
        assert_eq!(counts.get(Kind::Email), 2);
        assert_eq!(counts.get(Kind::Phone), 0);
        assert_eq!(
            serde_json::to_value(&counts).unwrap(),
            serde_json::json!({"total": 3, "by_kind": {"email": 2, "ipv6": 1}})
        );
        let mut sum = counts.clone();
        sum.add(&counts);
        assert_eq!(sum.total, 6);
        assert_eq!(sum.get(Kind::Ipv6), 2);
        assert!(Tally::default().counts().is_empty());
    }
}
