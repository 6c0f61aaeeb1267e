//! A sealed bundle opened into a file, for `callsupport unseal` and the viewer: written beside
//! its place under a hidden name and linked into place only once whole, never over an existing
//! file.

use std::path::Path;

use crate::error::Error;

/// The most a sealed bundle may open to.
const MAX_OPENED: u64 = 64 << 30;

/// Opens the sealed bundle at `sealed` with the identities in `identity_file` into `out`, which
/// must not exist. Returns the bytes of the bundle.
pub fn unseal_file(sealed: &Path, identity_file: &Path, out: &Path) -> Result<u64, Error> {
    if out.exists() {
        return Err(crate::bundle::writer::WriteError::OutputExists(out.to_path_buf()).into());
    }
    let identities = callsupport_seal::Identities::from_file(identity_file)?;
    let partial = crate::bundle::writer::Partial::create(out, uuid::Uuid::now_v7())?;
    let mut input = std::fs::File::open(sealed)
        .map_err(Error::io(format!("cannot read {}", sealed.display())))?;
    let mut writer = std::io::BufWriter::new(&partial.file);
    let bytes = callsupport_seal::unseal(&mut input, &mut writer, &identities, MAX_OPENED)?;
    std::io::Write::flush(&mut writer)
        .map_err(Error::io(format!("cannot write {}", out.display())))?;
    drop(writer);
    partial.commit(out)?;
    Ok(bytes)
}
