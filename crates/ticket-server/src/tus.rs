//! The tus 1.0 resumable upload protocol's headers: the version every request must name, the
//! extensions this server offers, `Upload-Metadata` and `Upload-Checksum`.
//!
//! See <https://tus.io/protocols/resumable-upload> (core, creation, checksum, termination,
//! expiration). Only what [`crate::uploads`] needs is here, each header checked and refused in
//! words when it is malformed.

use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::Digest;

use crate::problem::ApiProblem;

/// The protocol's vocabulary, shared with the client.
pub use callsupport_bundle::ticket::tus::*;

/// The extensions this server offers, as `Tus-Extension` lists them.
pub const EXTENSIONS: &str = "creation,checksum,termination,expiration";
/// The checksum algorithms `Upload-Checksum` may name (`sha1` is required by the protocol).
pub const CHECKSUM_ALGORITHMS: &str = "sha1,sha256";

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Every request but `OPTIONS` names the version it speaks; another one is refused with `412`.
pub fn check_version(headers: &HeaderMap) -> Result<(), ApiProblem> {
    match text(headers, TUS_RESUMABLE) {
        Some(VERSION) => Ok(()),
        Some(other) => Err(ApiProblem::new(
            StatusCode::PRECONDITION_FAILED,
            "tus_version_unsupported",
            format!("this server speaks tus {VERSION}, not `{other}`"),
        )),
        None => Err(ApiProblem::new(
            StatusCode::PRECONDITION_FAILED,
            "tus_version_missing",
            format!("send `Tus-Resumable: {VERSION}` with every upload request"),
        )),
    }
}

/// A non-negative byte count from `name`; `None` when the header is absent.
pub fn bytes(headers: &HeaderMap, name: &'static str) -> Result<Option<u64>, ApiProblem> {
    let Some(value) = text(headers, name) else {
        return Ok(None);
    };
    // Digits only: `+5`, `-0` and `0x10` are not byte counts.
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiProblem::bad_request(
            "tus_header_invalid",
            format!("{name} must be a whole number of bytes, not `{value}`"),
        ));
    }
    value.parse().map(Some).map_err(|_| {
        ApiProblem::bad_request(
            "tus_header_invalid",
            format!("{name} `{value}` is too large"),
        )
    })
}

/// Checks `Upload-Metadata` (`key base64,key base64,…`; a key may stand alone) and returns it as
/// sent, to be echoed by `HEAD`.
pub fn metadata(headers: &HeaderMap) -> Result<Option<String>, ApiProblem> {
    let Some(value) = text(headers, UPLOAD_METADATA) else {
        return Ok(None);
    };
    let mut keys = std::collections::HashSet::new();
    for pair in value.split(',') {
        let mut parts = pair.trim().split(' ');
        let key = parts.next().unwrap_or_default();
        let encoded = parts.next();
        let bad = |why: &str| {
            ApiProblem::bad_request(
                "tus_metadata_invalid",
                format!("Upload-Metadata `{pair}`: {why}"),
            )
        };
        if key.is_empty() || !key.is_ascii() || parts.next().is_some() {
            return Err(bad("each pair is a key, a space and a base64 value"));
        }
        if !keys.insert(key) {
            return Err(bad("the key is given twice"));
        }
        if let Some(encoded) = encoded
            && STANDARD.decode(encoded).is_err()
        {
            return Err(bad("the value is not base64"));
        }
    }
    Ok(Some(value.to_owned()))
}

/// What a `PATCH` body must hash to (`Upload-Checksum: <algorithm> <base64 digest>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    algorithm: Algorithm,
    digest: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    Sha1,
    Sha256,
}

impl Checksum {
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<Checksum>, ApiProblem> {
        let Some(value) = text(headers, UPLOAD_CHECKSUM) else {
            return Ok(None);
        };
        let (name, encoded) = value.split_once(' ').ok_or_else(|| {
            ApiProblem::bad_request(
                "tus_checksum_invalid",
                "Upload-Checksum is an algorithm, a space and the base64 digest",
            )
        })?;
        let (algorithm, size) = match name {
            "sha1" => (Algorithm::Sha1, 20),
            "sha256" => (Algorithm::Sha256, 32),
            other => {
                return Err(ApiProblem::bad_request(
                    "tus_checksum_unsupported",
                    format!(
                        "checksum algorithm `{other}` is not offered; use one of {CHECKSUM_ALGORITHMS}"
                    ),
                ));
            }
        };
        let digest = STANDARD
            .decode(encoded.trim())
            .ok()
            .filter(|d| d.len() == size)
            .ok_or_else(|| {
                ApiProblem::bad_request(
                    "tus_checksum_invalid",
                    format!("the {name} digest must be {size} bytes in base64"),
                )
            })?;
        Ok(Some(Checksum { algorithm, digest }))
    }

    /// A hasher for the body this checksum covers.
    pub fn hasher(&self) -> ChunkHasher {
        match self.algorithm {
            Algorithm::Sha1 => ChunkHasher::Sha1(sha1::Sha1::new()),
            Algorithm::Sha256 => ChunkHasher::Sha256(sha2::Sha256::new()),
        }
    }

    pub fn matches(&self, hasher: ChunkHasher) -> bool {
        hasher.finish() == self.digest
    }
}

/// Hashes a `PATCH` body as it streams in.
pub enum ChunkHasher {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

impl ChunkHasher {
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            ChunkHasher::Sha1(h) => h.update(bytes),
            ChunkHasher::Sha256(h) => h.update(bytes),
        }
    }

    fn finish(self) -> Vec<u8> {
        match self {
            ChunkHasher::Sha1(h) => h.finalize().to_vec(),
            ChunkHasher::Sha256(h) => h.finalize().to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn the_version_is_required_and_checked() {
        assert!(check_version(&headers(&[(TUS_RESUMABLE, "1.0.0")])).is_ok());
        assert_eq!(
            check_version(&headers(&[(TUS_RESUMABLE, "0.2.2")]))
                .unwrap_err()
                .status,
            StatusCode::PRECONDITION_FAILED
        );
        assert_eq!(
            check_version(&HeaderMap::new()).unwrap_err().code,
            "tus_version_missing"
        );
    }

    #[test]
    fn byte_counts_are_digits_only() {
        assert_eq!(
            bytes(&headers(&[(UPLOAD_OFFSET, "0")]), UPLOAD_OFFSET).unwrap(),
            Some(0)
        );
        assert_eq!(bytes(&HeaderMap::new(), UPLOAD_OFFSET).unwrap(), None);
        for bad in ["-1", "+5", "1.5", "0x10", "99999999999999999999999"] {
            assert!(
                bytes(&headers(&[(UPLOAD_OFFSET, bad)]), UPLOAD_OFFSET).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn metadata_pairs_are_keys_and_base64() {
        let good = headers(&[(UPLOAD_METADATA, "filename cmVwb3J0LnppcA==,is_confidential")]);
        assert!(metadata(&good).unwrap().is_some());
        for bad in ["filename not*base64", "a 1 2", "a  YQ==", "k YQ==,k YQ=="] {
            assert!(
                metadata(&headers(&[(UPLOAD_METADATA, bad)])).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_checksum_names_an_offered_algorithm_and_a_digest_of_its_size() {
        // sha1("abc") = a9993e36…
        let sum = Checksum::from_headers(&headers(&[(
            UPLOAD_CHECKSUM,
            "sha1 qZk+NkcGgWq6PiVxeFDCbJzQ2J0=",
        )]))
        .unwrap()
        .unwrap();
        let mut hasher = sum.hasher();
        hasher.update(b"ab");
        hasher.update(b"c");
        assert!(sum.matches(hasher));
        let mut other = sum.hasher();
        other.update(b"abd");
        assert!(!sum.matches(other));
        assert_eq!(
            Checksum::from_headers(&headers(&[(UPLOAD_CHECKSUM, "md5 AAAA")]))
                .unwrap_err()
                .code,
            "tus_checksum_unsupported"
        );
        assert!(
            Checksum::from_headers(&headers(&[(
                UPLOAD_CHECKSUM,
                "sha256 qZk+NkcGgWq6PiVxeFDCbJzQ2J0="
            )]))
            .is_err()
        );
    }
}
