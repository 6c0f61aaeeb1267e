//! The key this server signs links from support with ([`callsupport_link::LinkKey`]): read from
//! the file `--link-key` names, or `link-key` in the data folder, made there on the first start.
//! Instances that share their records (PostgreSQL) must share the key too: give them one file.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use callsupport_link::LinkKey;

/// The key's file name in the data folder, when no other file is named.
pub const FILE_NAME: &str = "link-key";

/// The key in `path`, made (readable by this user only) if the file does not exist.
pub fn load_or_make(path: &Path) -> anyhow::Result<LinkKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => LinkKey::from_text(&text).with_context(|| {
            format!(
                "{} does not hold a link key (32 bytes in URL-safe base64, as this server writes it); remove it to have a new one made, which ends the links made with the old one",
                path.display()
            )
        }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => make(path),
        Err(err) => Err(err).with_context(|| format!("cannot read the link key {}", path.display())),
    }
}

/// A new key, written to `path` whole (another instance starting at once keeps the first one
/// written, and so does this one).
fn make(path: &Path) -> anyhow::Result<LinkKey> {
    let key = LinkKey::generate().context("cannot make a link key")?;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write a link key in {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    writeln!(file, "{}", key.to_text())?;
    file.as_file().sync_all()?;
    match file.persist_noclobber(path) {
        Ok(_) => {
            tracing::info!(
                public_key = %key.public(),
                "made a new link key in {}",
                path.display()
            );
            Ok(key)
        }
        // Another instance made one first: use that.
        Err(err) if err.error.kind() == std::io::ErrorKind::AlreadyExists => load_or_make(path),
        Err(err) => {
            Err(err.error).with_context(|| format!("cannot keep the link key {}", path.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(FILE_NAME);
        let made = load_or_make(&path).unwrap();
        let again = load_or_make(&path).unwrap();
        assert_eq!(made.public(), again.public());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not a key").unwrap();
        let err = load_or_make(&path).unwrap_err().to_string();
        assert!(err.contains("does not hold a link key"), "{err}");
    }
}
