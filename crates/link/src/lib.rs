//! Links from support asking for logs, signed by the ticket service:
//! `callsupport://report?ticket=CS-000123&expires=1795694400&link=…&sig=…`.
//!
//! # Brief overview
//!
//! An agent asks the ticket service for a link to a ticket; the service makes a [`Link`] with
//! its [`LinkKey`] (Ed25519): the ticket, the link's own id, the expiry, and a signature over
//! the three ([`Link::signed_text`]). The agent sends it by chat or e-mail; the app reads it
//! ([`Link::parse`]: the scheme, the action, a ticket id of the shape tickets have, an expiry)
//! and checks it ([`Link::check`]) with the service's [`PublicKey`] before it shows anything.
//! The service checks it again when the logs arrive, and counts the link's uses itself: a link
//! is usable a bounded number of times, which only the service can know.
//!
//! Nothing here reaches the network; where the public key comes from (the configuration, or the
//! service) is the caller's choice. Every refusal says what the user can do about it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use callsupport_error::{Coded, ErrorCode};
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

/// The scheme the app registers.
pub const SCHEME: &str = "callsupport";
/// How a public key is written: `ed25519:` and its 32 bytes in URL-safe base64.
pub const KEY_PREFIX: &str = "ed25519:";
/// The longest ticket id (and link id) a link may carry.
pub const MAX_ID_LEN: usize = 64;
/// What every signature covers first, so a signature over something else never passes as one.
const CONTEXT: &[u8] = b"callsupport-link-v1";

/// A link from support, read; not yet checked unless [`Link::check`] said so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The existing ticket the logs are for.
    pub ticket_id: String,
    /// The service's id of this link, which counts its uses; `None` on an unsigned link.
    pub link_id: Option<String>,
    /// Until when the link may be used (to the second).
    pub expires_at: DateTime<Utc>,
    /// The service's signature; `None` on an unsigned link (made by hand, or by an old version).
    signature: Option<[u8; 64]>,
}

/// Why a link cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("this is not a Call Support link; ask support to send it again")]
    NotOurs,
    #[error(
        "this link asks for `{0}`, which this version of Call Support does not do; it may need an update"
    )]
    UnknownAction(String),
    #[error("the link names no ticket; ask support to send it again")]
    NoTicket,
    #[error("`{0}` is not a ticket number; ask support to send the link again")]
    BadTicket(String),
    #[error("the link has no expiry date; ask support to send it again")]
    NoExpiry,
    #[error("`{0}` is not a date; ask support to send the link again")]
    BadExpiry(String),
    #[error(
        "this link from support expired on {0}; ask them for a new one, or report the problem as a new issue"
    )]
    Expired(String),
    #[error(
        "this link is not signed by your organisation's support service, so it cannot be trusted; ask support for a new link made in Call Support"
    )]
    Unsigned,
    #[error(
        "this link was not made by your organisation's support service (its signature does not match); do not use it, and tell support who sent it"
    )]
    Forged,
    #[error(
        "`{0}` is not a link key; it must be `ed25519:` followed by 43 characters, as the ticket service prints it"
    )]
    BadKey(String),
}

impl Coded for LinkError {
    fn code(&self) -> ErrorCode {
        match self {
            LinkError::BadKey(_) => ErrorCode::ConfigInvalid,
            _ => ErrorCode::ReportInvalid,
        }
    }
}

impl Link {
    /// Reads `text` as a link: its shape only. [`Link::check`] says whether it may be used.
    pub fn parse(text: &str) -> Result<Link, LinkError> {
        let url = url::Url::parse(text.trim()).map_err(|_| LinkError::NotOurs)?;
        if url.scheme() != SCHEME {
            return Err(LinkError::NotOurs);
        }
        // `callsupport://report?…` puts the action in the host; `callsupport:report?…` in the path.
        let action = url
            .host_str()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| url.path().trim_matches('/'));
        if action != "report" {
            return Err(LinkError::UnknownAction(action.chars().take(40).collect()));
        }
        let param = |name: &str| {
            url.query_pairs()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let ticket_id = param("ticket").ok_or(LinkError::NoTicket)?;
        if !is_id(&ticket_id) {
            return Err(LinkError::BadTicket(ticket_id.chars().take(80).collect()));
        }
        let expires = param("expires").ok_or(LinkError::NoExpiry)?;
        let expires_at = parse_time(&expires)
            .ok_or_else(|| LinkError::BadExpiry(expires.chars().take(80).collect()))?;
        let (link_id, signature) = match (param("link"), param("sig")) {
            (Some(id), Some(sig)) => {
                let signature = URL_SAFE_NO_PAD
                    .decode(sig.as_bytes())
                    .ok()
                    .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
                    .ok_or(LinkError::Forged)?;
                if !is_id(&id) {
                    return Err(LinkError::Forged);
                }
                (Some(id), Some(signature))
            }
            _ => (None, None),
        };
        Ok(Link {
            ticket_id,
            link_id,
            expires_at,
            signature,
        })
    }

    /// Whether the link may be used at `now`: signed by `key`, and not expired. The signature is
    /// checked first, so an edited expiry reads as the forgery it is.
    pub fn check(&self, key: &PublicKey, now: DateTime<Utc>) -> Result<(), LinkError> {
        self.check_signature(key)?;
        self.check_expiry(now)
    }

    /// Whether `key` signed exactly this ticket, link id and expiry.
    pub fn check_signature(&self, key: &PublicKey) -> Result<(), LinkError> {
        let (Some(link_id), Some(signature)) = (&self.link_id, &self.signature) else {
            return Err(LinkError::Unsigned);
        };
        let message = signed_text(&self.ticket_id, link_id, self.expires_at);
        key.0
            .verify(&message, &Signature::from_bytes(signature))
            .map_err(|_| LinkError::Forged)
    }

    /// Whether the link is still open at `now`.
    pub fn check_expiry(&self, now: DateTime<Utc>) -> Result<(), LinkError> {
        if self.expires_at > now {
            return Ok(());
        }
        Err(LinkError::Expired(
            self.expires_at
                .with_timezone(&chrono::Local)
                .format("%-d %B %Y at %H:%M")
                .to_string(),
        ))
    }

    /// The link as text, to send to the user.
    pub fn url(&self) -> String {
        let mut url = url::Url::parse(&format!("{SCHEME}://report")).expect("a fixed URL");
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("ticket", &self.ticket_id)
                .append_pair("expires", &self.expires_at.timestamp().to_string());
            if let (Some(id), Some(signature)) = (&self.link_id, &self.signature) {
                query
                    .append_pair("link", id)
                    .append_pair("sig", &URL_SAFE_NO_PAD.encode(signature));
            }
        }
        url.to_string()
    }
}

/// The bytes a link's signature covers: the context, the link id, the ticket, and the expiry in
/// Unix seconds, each after a NUL (none of them can hold one).
fn signed_text(ticket_id: &str, link_id: &str, expires_at: DateTime<Utc>) -> Vec<u8> {
    let mut text = CONTEXT.to_vec();
    for part in [link_id, ticket_id, &expires_at.timestamp().to_string()] {
        text.push(0);
        text.extend_from_slice(part.as_bytes());
    }
    text
}

/// A ticket or link id: 1 to [`MAX_ID_LEN`] letters, digits, `-`, `_` or `.`.
pub fn is_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_ID_LEN
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    let seconds: i64 = text.parse().ok()?;
    DateTime::from_timestamp(seconds, 0)
}

/// The service's key that signs links. Kept secret, on the service only.
pub struct LinkKey(SigningKey);

impl LinkKey {
    /// A new random key, from the system's random source.
    pub fn generate() -> std::io::Result<LinkKey> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|err| std::io::Error::other(err.to_string()))?;
        Ok(LinkKey(SigningKey::from_bytes(&seed)))
    }

    /// The key as it is kept in a file: its 32-byte seed in URL-safe base64.
    pub fn to_text(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.to_bytes())
    }

    /// A key kept with [`LinkKey::to_text`].
    pub fn from_text(text: &str) -> Option<LinkKey> {
        let bytes = URL_SAFE_NO_PAD.decode(text.trim().as_bytes()).ok()?;
        Some(LinkKey(SigningKey::from_bytes(&bytes.try_into().ok()?)))
    }

    /// The public half, which apps check links with.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// A signed link for `ticket_id`, known to the service as `link_id`, open until `expires_at`
    /// (to the second).
    pub fn sign(
        &self,
        ticket_id: &str,
        link_id: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<Link, LinkError> {
        if !is_id(ticket_id) {
            return Err(LinkError::BadTicket(ticket_id.chars().take(80).collect()));
        }
        if !is_id(link_id) {
            return Err(LinkError::Forged);
        }
        let expires_at = DateTime::from_timestamp(expires_at.timestamp(), 0)
            .ok_or(LinkError::BadExpiry(expires_at.to_rfc3339()))?;
        let signature = self.0.sign(&signed_text(ticket_id, link_id, expires_at));
        Ok(Link {
            ticket_id: ticket_id.to_owned(),
            link_id: Some(link_id.to_owned()),
            expires_at,
            signature: Some(signature.to_bytes()),
        })
    }
}

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LinkKey({})", self.public())
    }
}

/// The public key links are checked with: `ed25519:` and 43 characters.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    pub fn parse(text: &str) -> Result<PublicKey, LinkError> {
        let bad = || LinkError::BadKey(text.chars().take(80).collect());
        let encoded = text.trim().strip_prefix(KEY_PREFIX).ok_or_else(bad)?;
        let bytes: [u8; 32] = URL_SAFE_NO_PAD
            .decode(encoded.as_bytes())
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(bad)?;
        VerifyingKey::from_bytes(&bytes)
            .map(PublicKey)
            .map_err(|_| bad())
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{KEY_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(self.0.as_bytes())
        )
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl std::str::FromStr for PublicKey {
    type Err = LinkError;
    fn from_str(text: &str) -> Result<PublicKey, LinkError> {
        PublicKey::parse(text)
    }
}
