//! The token table: the same value always gets the same numbered token within one `Redactor`.
//!
//! Values are kept only as a 128-bit SHA-256 prefix, so the table holds no personal data. It is
//! sharded: a value's shard is chosen by its hash and locked only while the value is looked up or
//! inserted, and each kind's next number is an atomic counter. Several threads redacting the files
//! of one bundle therefore agree on every token; which value gets number 1 depends on arrival order.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use sha2::{Digest, Sha256};

use crate::kind::Kind;

const SHARDS: usize = 16;

type Key = [u8; 16];

/// Keys are already uniformly random (a SHA-256 prefix): the map uses their bytes as the hash.
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
}

impl Default for TokenTable {
    fn default() -> Self {
        TokenTable {
            shards: std::array::from_fn(|_| Mutex::new(Shard::default())),
            next: std::array::from_fn(|_| AtomicU32::new(1)),
        }
    }
}

impl TokenTable {
    /// The token of `value` found as `kind`: its existing one, or the kind's next number.
    /// A credential first seen as another credential kind keeps that kind's token.
    pub(crate) fn token(&self, kind: Kind, value: &[u8]) -> (Kind, u32) {
        let key = key(kind, value);
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

fn key(kind: Kind, value: &[u8]) -> Key {
    let mut hasher = Sha256::new();
    hasher.update([kind.namespace()]);
    hasher.update(value);
    let digest = hasher.finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
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
