//! The token table: the same value always gets the same numbered token within one `Redactor`.
//!
//! Values are kept only as a 128-bit keyed hash (SipHash-1-3 under two random keys, made for each
//! table and never written anywhere), so the table holds no personal data, and a hash is cheap
//! next to the line it was found in. It is sharded: a value's shard is chosen by its hash and locked only while the value is looked up or
//! inserted, and each kind's next number is an atomic counter. Several threads redacting the files
//! of one bundle therefore agree on every token; which value gets number 1 depends on arrival order.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use std::hash::BuildHasher;

use crate::kind::Kind;

const SHARDS: usize = 16;

type Key = [u8; 16];

/// Keys are already uniformly random (a keyed hash): the map uses their bytes as the hash.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for (i, &byte) in bytes.iter().take(8).enumerate() {
            self.0 ^= u64::from(byte) << (8 * i);
        }
    }
}

type Shard = HashMap<Key, (Kind, u32), BuildHasherDefault<KeyHasher>>;

/// Thread-safe map from (namespace, normalized value) to (kind, number).
pub(crate) struct TokenTable {
    shards: [Mutex<Shard>; SHARDS],
    next: [AtomicU32; Kind::ALL.len()],
    /// The two halves of a value's key: SipHash-1-3, each under its own random keys.
    hashers: [std::hash::RandomState; 2],
}

impl Default for TokenTable {
    fn default() -> Self {
        TokenTable {
            shards: std::array::from_fn(|_| Mutex::new(Shard::default())),
            next: std::array::from_fn(|_| AtomicU32::new(1)),
            hashers: [std::hash::RandomState::new(), std::hash::RandomState::new()],
        }
    }
}

impl TokenTable {
    /// The token of `value` found as `kind`: its existing one, or the kind's next number.
    /// A credential first seen as another credential kind keeps that kind's token.
    pub(crate) fn token(&self, kind: Kind, value: &[u8]) -> (Kind, u32) {
        let key = self.key(kind, value);
        let shard = &self.shards[usize::from(key[15]) % SHARDS];
        // A panic elsewhere while holding the lock leaves the map consistent (insert is atomic
        // from our point of view), so a poisoned lock is still usable.
        let mut map = shard
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *map.entry(key).or_insert_with(|| {
            let number = self.next[kind.index()].fetch_add(1, Ordering::Relaxed);
            (kind, number)
        })
    }

    /// How many distinct values of `kind` have a token.
    pub(crate) fn issued(&self, kind: Kind) -> u32 {
        self.next[kind.index()].load(Ordering::Relaxed) - 1
    }
}

impl TokenTable {
    /// The 128-bit key of `value` found as `kind` (credential kinds share one namespace).
    fn key(&self, kind: Kind, value: &[u8]) -> Key {
        let half = |state: &std::hash::RandomState| {
            let mut hasher = state.build_hasher();
            hasher.write_u8(kind.namespace());
            hasher.write(value);
            hasher.finish().to_le_bytes()
        };
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&half(&self.hashers[0]));
        key[8..].copy_from_slice(&half(&self.hashers[1]));
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_value_same_token_and_kinds_count_separately() {
        let table = TokenTable::default();
        assert_eq!(table.token(Kind::Email, b"a@x.com"), (Kind::Email, 1));
        assert_eq!(table.token(Kind::Email, b"b@x.com"), (Kind::Email, 2));
        assert_eq!(table.token(Kind::Email, b"a@x.com"), (Kind::Email, 1));
        assert_eq!(table.token(Kind::Ipv4, b"a@x.com"), (Kind::Ipv4, 1));
        assert_eq!(table.issued(Kind::Email), 2);
        assert_eq!(table.issued(Kind::Phone), 0);
    }

    #[test]
    fn a_credential_keeps_the_kind_it_was_first_seen_as() {
        let table = TokenTable::default();
        assert_eq!(table.token(Kind::Token, b"abc123secret"), (Kind::Token, 1));
        assert_eq!(table.token(Kind::Secret, b"abc123secret"), (Kind::Token, 1));
        assert_eq!(table.token(Kind::Secret, b"other"), (Kind::Secret, 1));
    }
}
