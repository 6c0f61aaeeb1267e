//! SHA-256 helpers: a writer that hashes what passes through it, and hashing a whole file.

use std::io::{self, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

/// Passes writes on to `inner` and hashes them on the way.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            written: 0,
        }
    }

    /// The hex digest and byte count of everything written, and the inner writer.
    pub fn finish(self) -> (String, u64, W) {
        (
            hex::encode(self.hasher.finalize()),
            self.written,
            self.inner,
        )
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Hex SHA-256 and length of everything `reader` yields.
pub fn sha256_reader(mut reader: impl Read) -> io::Result<(String, u64)> {
    let mut hasher = HashingWriter::new(io::sink());
    let n = io::copy(&mut reader, &mut hasher)?;
    let (hex, _, _) = hasher.finish();
    Ok((hex, n))
}

/// Hex SHA-256 and length of a file.
pub fn sha256_file(path: &Path) -> io::Result<(String, u64)> {
    sha256_reader(io::BufReader::with_capacity(
        256 * 1024,
        std::fs::File::open(path)?,
    ))
}

/// Hex SHA-256 of a string.
pub fn sha256_str(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}
