//! Bundles sealed to the organisation's keys with [age](https://age-encryption.org/v1) (X25519),
//! and opened again with an identity that is one of them.
//!
//! # Brief overview
//!
//! [`Recipients::parse`] checks the configured public keys (`age1…`); [`seal`] streams a
//! bundle's bytes into an age file for all of them at once, so any one key opens it.
//! [`Identities`] are the private keys of a reader (the reference server, a support agent),
//! from an identity file as `age-keygen` writes it; [`unseal`] streams a sealed file back to
//! its bundle, stopping at a limit so a hostile file cannot fill the disk. [`is_sealed`] tells a
//! sealed file from a plain bundle by its first line.
//!
//! Every file this crate writes is a standard age v1 file: Debian's `age -d -i KEY` opens what
//! [`seal`] writes, and [`unseal`] opens what `age -r age1…` writes (the tests check both).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use callsupport_error::{Coded, ErrorCode};

/// The first line of every age v1 file.
pub const MAGIC: &[u8] = b"age-encryption.org/v1\n";
/// The most recipients a bundle is sealed for: each adds a header stanza every reader parses.
pub const MAX_RECIPIENTS: usize = 64;

/// Why sealing or opening failed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error(
        "recipient {index} (`{value}`) is not an age public key; write it as `age-keygen -y` prints it (age1…)"
    )]
    BadRecipient { index: usize, value: String },
    #[error("{count} recipients is too many; seal for at most {MAX_RECIPIENTS}")]
    TooManyRecipients { count: usize },
    #[error("cannot read the identity file {}: {detail}", path.display())]
    BadIdentityFile { path: PathBuf, detail: String },
    #[error(
        "{} holds no age identity (AGE-SECRET-KEY-1…); make one with `age-keygen -o FILE`",
        .0.display()
    )]
    NoIdentity(PathBuf),
    #[error(
        "this bundle is sealed for other keys: none of the identities given opens it; use the identity whose public key the organisation seals for"
    )]
    NotForUs,
    #[error("the sealed bundle is damaged or not an age file ({0})")]
    Damaged(String),
    #[error("the sealed bundle opens to more than {limit} bytes; it is refused")]
    TooLarge { limit: u64 },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
}

/// The public keys a bundle is sealed for.
#[derive(Clone)]
pub struct Recipients {
    keys: Vec<age::x25519::Recipient>,
    shown: Vec<String>,
}

impl std::fmt::Debug for Recipients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self.shown).finish()
    }
}

impl Recipients {
    /// Checks each key (`age1…`, as `age-keygen -y` prints it); an error names the first bad one
    /// by its place in the list.
    pub fn parse(values: &[String]) -> Result<Recipients, SealError> {
        if values.len() > MAX_RECIPIENTS {
            return Err(SealError::TooManyRecipients {
                count: values.len(),
            });
        }
        let mut keys = Vec::with_capacity(values.len());
        for (index, value) in values.iter().enumerate() {
            let key = age::x25519::Recipient::from_str(value.trim()).map_err(|_| {
                SealError::BadRecipient {
                    index,
                    value: value.clone(),
                }
            })?;
            keys.push(key);
        }
        Ok(Recipients {
            shown: keys.iter().map(ToString::to_string).collect(),
            keys,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys as written (`age1…`).
    pub fn keys(&self) -> &[String] {
        &self.shown
    }

    /// A key shortened for people: `age1qyqs…7n3d`.
    pub fn short(key: &str) -> String {
        if key.len() <= 16 {
            key.to_owned()
        } else {
            format!("{}…{}", &key[..8], &key[key.len() - 4..])
        }
    }
}

/// The private keys of one reader.
pub struct Identities {
    keys: Vec<age::x25519::Identity>,
}

impl Identities {
    /// Reads an identity file as `age-keygen` writes it: `AGE-SECRET-KEY-1…` lines, `#` comments.
    pub fn from_file(path: &Path) -> Result<Identities, SealError> {
        let bad = |detail: String| SealError::BadIdentityFile {
            path: path.to_path_buf(),
            detail,
        };
        let file = File::open(path).map_err(|err| bad(err.to_string()))?;
        let mut keys = Vec::new();
        // An identity file is a few lines; a large file is not one.
        for (number, line) in BufReader::new(file.take(1 << 20)).lines().enumerate() {
            let line = line.map_err(|err| bad(err.to_string()))?;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            // The line itself is a secret: only its number is named.
            let key = age::x25519::Identity::from_str(line)
                .map_err(|_| bad(format!("line {} is not an age identity", number + 1)))?;
            keys.push(key);
        }
        if keys.is_empty() {
            return Err(SealError::NoIdentity(path.to_path_buf()));
        }
        Ok(Identities { keys })
    }

    /// A new identity, for tests and for `callsupport` to make a key pair.
    pub fn generate() -> Identities {
        Identities {
            keys: vec![age::x25519::Identity::generate()],
        }
    }

    /// The public keys of these identities, as recipients are configured.
    pub fn public_keys(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|key| key.to_public().to_string())
            .collect()
    }

    /// The identity file's text: a comment with the public key, then the secret key.
    pub fn to_file_text(&self) -> String {
        use age::secrecy::ExposeSecret;
        let mut text = String::new();
        for key in &self.keys {
            text.push_str(&format!("# public key: {}\n", key.to_public()));
            text.push_str(key.to_string().expose_secret());
            text.push('\n');
        }
        text
    }
}

/// Whether the file at `path` is sealed (an age file), by its first line.
pub fn is_sealed(path: &Path) -> io::Result<bool> {
    let mut head = [0u8; MAGIC.len()];
    let mut file = File::open(path)?;
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..])? {
            0 => return Ok(false),
            n => filled += n,
        }
    }
    Ok(head == MAGIC)
}

/// Seals what `plain` gives for every recipient into `out`. Returns the bytes written.
pub fn seal(
    plain: &mut dyn Read,
    out: &mut dyn Write,
    recipients: &Recipients,
) -> Result<u64, SealError> {
    let io_error = |what: &str| {
        let what = what.to_owned();
        move |source| SealError::Io { what, source }
    };
    let encryptor = age::Encryptor::with_recipients(
        recipients.keys.iter().map(|key| key as &dyn age::Recipient),
    )
    .map_err(|err| SealError::Io {
        what: "cannot seal".into(),
        source: io::Error::other(err.to_string()),
    })?;
    let mut counted = Counting {
        inner: out,
        bytes: 0,
    };
    let mut writer = encryptor
        .wrap_output(&mut counted)
        .map_err(io_error("cannot write the sealed bundle"))?;
    io::copy(plain, &mut writer).map_err(io_error("cannot seal the bundle"))?;
    writer
        .finish()
        .map_err(io_error("cannot write the sealed bundle"))?;
    Ok(counted.bytes)
}

/// Opens what `sealed` gives with `identities` into `out`, refusing past `limit` bytes.
/// Returns the bytes of the bundle.
pub fn unseal(
    sealed: &mut dyn Read,
    out: &mut dyn Write,
    identities: &Identities,
    limit: u64,
) -> Result<u64, SealError> {
    let decryptor = age::Decryptor::new_buffered(BufReader::new(sealed)).map_err(decrypt_error)?;
    if decryptor.is_scrypt() {
        return Err(SealError::NotForUs);
    }
    let reader = decryptor
        .decrypt(identities.keys.iter().map(|key| key as &dyn age::Identity))
        .map_err(decrypt_error)?;
    let mut limited = reader.take(limit.saturating_add(1));
    let copied = io::copy(&mut limited, out).map_err(|err| match err.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => {
            SealError::Damaged(err.to_string())
        }
        _ => SealError::Io {
            what: "cannot open the sealed bundle".into(),
            source: err,
        },
    })?;
    if copied > limit {
        return Err(SealError::TooLarge { limit });
    }
    Ok(copied)
}

/// [`unseal`] of the file at `path` into an anonymous temporary file in `scratch` (removed by
/// the system once closed, so the opened bundle has no name on disk), rewound.
pub fn unseal_to_temp(
    path: &Path,
    identities: &Identities,
    scratch: &Path,
    limit: u64,
) -> Result<File, SealError> {
    let io_error = |what: String| move |source| SealError::Io { what, source };
    let mut sealed =
        File::open(path).map_err(io_error(format!("cannot read {}", path.display())))?;
    let mut plain = tempfile::tempfile_in(scratch)
        .map_err(io_error(format!("no room in {}", scratch.display())))?;
    {
        let mut writer = io::BufWriter::new(&mut plain);
        unseal(&mut sealed, &mut writer, identities, limit)?;
        writer
            .flush()
            .map_err(io_error(format!("no room in {}", scratch.display())))?;
    }
    io::Seek::rewind(&mut plain).map_err(io_error("cannot rewind".into()))?;
    Ok(plain)
}

fn decrypt_error(err: age::DecryptError) -> SealError {
    match err {
        age::DecryptError::NoMatchingKeys => SealError::NotForUs,
        age::DecryptError::Io(err) => SealError::Io {
            what: "cannot read the sealed bundle".into(),
            source: err,
        },
        other => SealError::Damaged(other.to_string()),
    }
}

/// A writer that counts what passes.
struct Counting<'a> {
    inner: &'a mut dyn Write,
    bytes: u64,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Coded for SealError {
    fn code(&self) -> ErrorCode {
        match self {
            SealError::BadRecipient { .. } | SealError::TooManyRecipients { .. } => {
                ErrorCode::ConfigInvalid
            }
            SealError::BadIdentityFile { .. } | SealError::NoIdentity(_) => {
                ErrorCode::ConfigInvalid
            }
            SealError::NotForUs | SealError::Damaged(_) | SealError::TooLarge { .. } => {
                ErrorCode::Integrity
            }
            SealError::Io { .. } => ErrorCode::Io,
        }
    }
}
