//! Certificate authority files (`ticket_api.ca_files`): PEM files of one or more certificates.

use std::path::{Path, PathBuf};

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// Why a certificate authority file from `ticket_api.ca_files` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CaFileError {
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a PEM certificate file: {detail}", path.display())]
    NotPem { path: PathBuf, detail: String },
    #[error("{} holds no certificate (expected -----BEGIN CERTIFICATE-----)", path.display())]
    Empty { path: PathBuf },
}

/// The certificates of a PEM file (one or more, DER-encoded), or why it cannot be used.
pub fn ca_certificates(path: &Path) -> Result<Vec<Vec<u8>>, CaFileError> {
    let pem = std::fs::read(path).map_err(|source| CaFileError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .map(|cert| cert.map(|der| der.to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| CaFileError::NotPem {
            path: path.to_path_buf(),
            detail: err.to_string(),
        })?;
    if certs.is_empty() {
        return Err(CaFileError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}
