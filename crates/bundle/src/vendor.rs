//! *Export for vendor*: from a received bundle, a new zip of only the vendor-encrypted SDK and
//! media-stack logs and a small manifest, for the calling SDK vendor's support.
//!
//! The vendor gets what only the vendor can read, and what it needs to find the call: the call
//! ids, when it happened, and the system the SDK ran on. The user's words, contact, readable logs
//! and locale stay out. Every file is copied byte for byte and checked against the bundle's
//! manifest on the way; a file that does not match stops the export, and nothing half-written is
//! left (the zip is written aside and linked into place).

use callsupport_error::{Coded, ErrorCode};
use std::io::{self, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::reader::Bundle;
use crate::writer::{Partial, WriteError};
use crate::zip_out::{ZipMethod, ZipOut};

pub const FORMAT: &str = "callsupport/vendor@1";
/// The manifest's name inside the vendor zip.
pub const MANIFEST_NAME: &str = "vendor-manifest.json";

/// What the vendor zip says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorManifest {
    pub format: String,
    /// The bundle it was cut from, for support to find it again.
    pub from_bundle: Uuid,
    pub created_at: DateTime<Utc>,
    pub call_ids: Vec<String>,
    pub occurred_at: DateTime<Utc>,
    pub system: VendorSystem,
    pub files: Vec<VendorFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorSystem {
    pub os: String,
    pub os_version: String,
    pub arch: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorFile {
    pub path: String,
    pub size: u64,
    pub sha256: String,
    pub modified_at: DateTime<Utc>,
}

/// The vendor zip, written.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VendorExport {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub path: PathBuf,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub files: usize,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum VendorError {
    #[error(
        "{} holds no encrypted SDK or media-stack logs; there is nothing only the vendor can read",
        .0.display()
    )]
    NothingEncrypted(PathBuf),
    #[error(
        "{name} in {} does not match the bundle's manifest; the bundle is damaged, so nothing was exported",
        bundle.display()
    )]
    Damaged { bundle: PathBuf, name: String },
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Writes the vendor zip of `bundle` to `out`, which must not exist yet.
pub fn export_for_vendor<R: Read + Seek>(
    bundle: &mut Bundle<R>,
    out: &Path,
) -> Result<VendorExport, VendorError> {
    let manifest = bundle.manifest.clone();
    let files: Vec<_> = manifest.files.iter().filter(|f| f.encrypted).collect();
    if files.is_empty() {
        return Err(VendorError::NothingEncrypted(bundle.path().to_path_buf()));
    }
    if out.exists() {
        return Err(WriteError::OutputExists(out.to_path_buf()).into());
    }
    let output = |source: io::Error| WriteError::Output {
        path: out.to_path_buf(),
        source,
    };
    let partial = Partial::create(out, Uuid::now_v7())?;
    let mut zip = ZipOut::new(BufWriter::new(partial.file.try_clone().map_err(output)?));
    let mut listed = Vec::with_capacity(files.len());
    let mut buffer = vec![0u8; 256 * 1024];
    let source = bundle.path().to_path_buf();
    for file in files {
        let damaged = || VendorError::Damaged {
            bundle: source.clone(),
            name: file.path.clone(),
        };
        let mut entry = bundle
            .entry(&file.path)
            .map_err(|_| damaged())?
            .take(file.size + 1);
        zip.start_entry(
            &file.path,
            ZipMethod::Stored,
            file.modified_at,
            file.size >= u32::MAX as u64,
        )
        .map_err(output)?;
        let (mut sha, mut crc, mut size) = (Sha256::new(), crc32fast::Hasher::new(), 0u64);
        loop {
            let n = match entry.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Err(damaged()),
            };
            sha.update(&buffer[..n]);
            crc.update(&buffer[..n]);
            zip.write_data(&buffer[..n]).map_err(output)?;
            size += n as u64;
        }
        if size != file.size || hex::encode(sha.finalize()) != file.sha256 {
            return Err(damaged());
        }
        zip.end_entry(crc.finalize(), size).map_err(output)?;
        listed.push(VendorFile {
            path: file.path.clone(),
            size,
            sha256: file.sha256.clone(),
            modified_at: file.modified_at,
        });
    }
    let vendor_manifest = VendorManifest {
        format: FORMAT.to_owned(),
        from_bundle: manifest.bundle_id,
        created_at: Utc::now(),
        call_ids: manifest.report.call_ids.clone(),
        occurred_at: manifest.report.occurred_at,
        system: VendorSystem {
            os: manifest.host.os.clone(),
            os_version: manifest.host.os_version.clone(),
            arch: manifest.host.arch.clone(),
        },
        files: listed,
    };
    let text = serde_json::to_vec_pretty(&vendor_manifest).expect("manifest serializes");
    zip.start_entry(MANIFEST_NAME, ZipMethod::Stored, Utc::now(), false)
        .map_err(output)?;
    zip.write_data(&text).map_err(output)?;
    zip.end_entry(crc32fast::hash(&text), text.len() as u64)
        .map_err(output)?;
    zip.finish()
        .and_then(|mut writer| writer.flush())
        .map_err(output)?;
    let path = partial.commit(out)?;
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    Ok(VendorExport {
        path,
        files: vendor_manifest.files.len(),
        bytes,
    })
}

impl Coded for VendorError {
    fn code(&self) -> ErrorCode {
        match self {
            VendorError::NothingEncrypted(_) => ErrorCode::ReportInvalid,
            VendorError::Damaged { .. } => ErrorCode::Integrity,
            VendorError::Write(err) => err.code(),
        }
    }
}
