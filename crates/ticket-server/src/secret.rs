//! Bearer tokens, kept only as SHA-256 digests: the server never holds a token it could leak.

use sha2::{Digest, Sha256};

/// A token digest that is not 64 hexadecimal digits.
#[derive(Debug, thiserror::Error)]
#[error("a token digest is 64 hexadecimal digits (`printf %s TOKEN | sha256sum`)")]
pub struct BadDigest;

/// The digest of a token the server accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret([u8; 32]);

impl Secret {
    /// The digest of a token given in clear (from the environment or the command line).
    pub fn from_token(token: &str) -> Secret {
        Secret(Sha256::digest(token.trim().as_bytes()).into())
    }

    /// A digest given as 64 hex digits (`sha256sum` of the token without a newline), so the
    /// server's own configuration need not hold the token at all.
    pub fn from_sha256_hex(hex_digest: &str) -> Result<Secret, BadDigest> {
        let bytes = hex::decode(hex_digest.trim()).map_err(|_| BadDigest)?;
        let digest: [u8; 32] = bytes.try_into().map_err(|_| BadDigest)?;
        Ok(Secret(digest))
    }

    /// Whether `presented` is the token, compared without stopping at the first difference.
    pub fn matches(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.trim().as_bytes()).into();
        digest
            .iter()
            .zip(self.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    /// A short, stable name for logs and rate limits that reveals nothing of the token.
    pub fn label(&self) -> String {
        hex::encode(&self.0[..4])
    }
}

impl From<&str> for Secret {
    fn from(token: &str) -> Secret {
        Secret::from_token(token)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(sha256:{}…)", self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_matches_its_digest_in_either_form() {
        let secret = Secret::from_token("s3cret");
        assert!(secret.matches("s3cret"));
        assert!(!secret.matches("s3creT"));
        assert!(!secret.matches(""));
        // `printf s3cret | sha256sum`
        let hex = hex::encode(Sha256::digest(b"s3cret"));
        assert_eq!(Secret::from_sha256_hex(&hex).unwrap(), secret);
        assert!(Secret::from_sha256_hex("abc").is_err());
        assert!(!format!("{secret:?}").contains("s3cret"));
    }
}
