//! Authenticode signatures on the Windows programs and installers, made with `osslsigncode`.
//!
//! The organisation's certificate is a PKCS#12 file named by `CALLSUPPORT_SIGN_PFX`, its password
//! in the file named by `CALLSUPPORT_SIGN_PASSWORD_FILE`, checked against the CA bundle named by
//! `CALLSUPPORT_SIGN_CA` (the system's by default), timestamped by `CALLSUPPORT_SIGN_TIMESTAMP_URL`
//! when set. Without them, a test CA and a code-signing certificate are made with `openssl` under
//! `target/windows/test-signing` (kept between runs, never shipped), so every run signs and
//! verifies the same way a release does (docs/install.md, "Signing").

use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};

use crate::util::{cmd, output, root, run};

/// The certificate to sign with and the CA that vouches for it.
pub struct Signer {
    pfx: PathBuf,
    password_file: PathBuf,
    ca: PathBuf,
    timestamp: Option<String>,
    /// Which certificate: the organisation's or the test one (for the report).
    pub kind: &'static str,
}

impl Signer {
    /// The organisation's certificate when configured, else the test one (made when missing).
    pub fn from_env() -> anyhow::Result<Signer> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(pfx) = var("CALLSUPPORT_SIGN_PFX") {
            let password_file = var("CALLSUPPORT_SIGN_PASSWORD_FILE").context(
                "CALLSUPPORT_SIGN_PFX is set: set CALLSUPPORT_SIGN_PASSWORD_FILE to the file \
                 holding its password too",
            )?;
            let signer = Signer {
                pfx: pfx.into(),
                password_file: password_file.into(),
                ca: var("CALLSUPPORT_SIGN_CA")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| "/etc/ssl/certs/ca-certificates.crt".into()),
                timestamp: std::env::var("CALLSUPPORT_SIGN_TIMESTAMP_URL")
                    .ok()
                    .filter(|url| !url.is_empty()),
                kind: "the organisation's certificate (CALLSUPPORT_SIGN_PFX)",
            };
            for file in [&signer.pfx, &signer.password_file, &signer.ca] {
                ensure!(file.is_file(), "{} is not a file", file.display());
            }
            return Ok(signer);
        }
        test_signer()
    }

    /// `osslsigncode`'s arguments before `-in`: SHA-256, this certificate, the product's name and
    /// address, the timestamp server when there is one.
    fn sign_args(&self) -> Vec<String> {
        let mut args: Vec<String> = ["sign", "-h", "sha256", "-pkcs12"].map(String::from).into();
        args.push(self.pfx.display().to_string());
        args.push("-readpass".into());
        args.push(self.password_file.display().to_string());
        args.extend(
            ["-n", "Call Support", "-i", "https://github.com/callsupport"].map(String::from),
        );
        if let Some(url) = &self.timestamp {
            args.extend(["-ts".to_owned(), url.clone()]);
        }
        args
    }

    /// Signs `file` in place.
    pub fn sign(&self, file: &Path) -> anyhow::Result<()> {
        let signed = file.with_extension("signed");
        let mut sign = cmd("osslsigncode", &[], &root());
        sign.args(self.sign_args())
            .arg("-in")
            .arg(file)
            .arg("-out")
            .arg(&signed);
        let result = output(&mut sign);
        if let Err(err) = result {
            let _ = std::fs::remove_file(&signed);
            return Err(err.context(format!("cannot sign {}", file.display())));
        }
        std::fs::rename(&signed, file)?;
        Ok(())
    }

    /// The same signing as a shell command on `%1`, the uninstaller `makensis` writes
    /// (`!uninstfinalize`).
    pub fn nsis_command(&self) -> String {
        let quoted: Vec<String> = self
            .sign_args()
            .iter()
            .map(|arg| format!("'{}'", arg.replace('\'', "'\\''")))
            .collect();
        format!(
            "osslsigncode {} -in '%1' -out '%1.signed' && mv '%1.signed' '%1'",
            quoted.join(" ")
        )
    }

    /// Checks `file`'s signature: intact, and made by a certificate the CA vouches for.
    pub fn verify(&self, file: &Path) -> anyhow::Result<()> {
        let mut verify = cmd("osslsigncode", &["verify", "-CAfile"], &root());
        verify.arg(&self.ca).arg("-in").arg(file);
        let said = output(&mut verify)
            .with_context(|| format!("the signature of {} does not verify", file.display()))?;
        ensure!(
            said.contains("Signature verification: ok"),
            "osslsigncode did not find {}'s signature good:\n{said}",
            file.display()
        );
        Ok(())
    }
}

/// The test CA and signing certificate, made once with `openssl`.
fn test_signer() -> anyhow::Result<Signer> {
    let dir = root().join("target/windows/test-signing");
    let signer = Signer {
        pfx: dir.join("signer.pfx"),
        password_file: dir.join("password"),
        ca: dir.join("test-ca.pem"),
        timestamp: None,
        kind: "a test certificate (target/windows/test-signing)",
    };
    if signer.pfx.is_file() && signer.ca.is_file() && signer.password_file.is_file() {
        return Ok(signer);
    }
    std::fs::create_dir_all(&dir)?;
    let openssl = |args: &[&str]| run(&mut cmd("openssl", args, &dir));
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:3072",
        "-nodes",
        "-keyout",
        "test-ca.key",
        "-out",
        "test-ca.pem",
        "-days",
        "3650",
        "-subj",
        "/CN=Call Support Test CA/O=Call Support",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ])?;
    openssl(&[
        "req",
        "-newkey",
        "rsa:3072",
        "-nodes",
        "-keyout",
        "signer.key",
        "-out",
        "signer.csr",
        "-subj",
        "/CN=Call Support (test signing)/O=Call Support",
    ])?;
    std::fs::write(
        dir.join("signer.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n",
    )?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        "signer.csr",
        "-CA",
        "test-ca.pem",
        "-CAkey",
        "test-ca.key",
        "-CAcreateserial",
        "-out",
        "signer.pem",
        "-days",
        "825",
        "-sha256",
        "-extfile",
        "signer.ext",
    ])?;
    let password = uuid_like();
    std::fs::write(&signer.password_file, &password)?;
    openssl(&[
        "pkcs12",
        "-export",
        "-inkey",
        "signer.key",
        "-in",
        "signer.pem",
        "-certfile",
        "test-ca.pem",
        "-out",
        "signer.pfx",
        "-passout",
        &format!("file:{}", "password"),
    ])?;
    Ok(signer)
}

/// A password for the test PKCS#12 file (it protects nothing of value).
fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("test-{nanos:x}-{}", std::process::id())
}
