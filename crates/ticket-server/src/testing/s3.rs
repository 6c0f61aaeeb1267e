//! An S3 service for the tests: moto's server (`moto[server]` from PyPI, installed by
//! `cargo xtask test` into `target/tools/moto`), on a free loopback port, stopped when dropped.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::BlobConfig;

/// A running S3 service.
pub struct S3 {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
}

/// Where moto's server is: `CALLSUPPORT_MOTO_SERVER`, else where `cargo xtask test` installs it.
fn program() -> PathBuf {
    if let Some(path) = std::env::var_os("CALLSUPPORT_MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let installed =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/tools/moto/bin/moto_server");
    assert!(
        installed.is_file(),
        "moto is not installed at {}; `cargo xtask test` installs it from PyPI, or set CALLSUPPORT_MOTO_SERVER",
        installed.display()
    );
    installed
}

impl S3 {
    pub fn start() -> S3 {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(program())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto's server starts");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let started = Instant::now();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto's server did not listen within a minute"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        S3 {
            child,
            endpoint: format!("http://{addr}"),
        }
    }

    /// Creates a bucket (`PUT /{bucket}`).
    pub async fn create_bucket(&self, bucket: &str) {
        let created = reqwest::Client::new()
            .put(format!("{}/{bucket}", self.endpoint))
            .send()
            .await
            .unwrap();
        assert!(created.status().is_success(), "{}", created.status());
    }

    /// The server's blob store setting for `bucket` here.
    pub fn blobs(&self, bucket: &str) -> BlobConfig {
        let option = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        BlobConfig::Cloud {
            url: format!("s3://{bucket}"),
            options: vec![
                option("aws_access_key_id", "testing"),
                option("aws_secret_access_key", "testing"),
                option("aws_region", "us-east-1"),
                option("aws_endpoint", &self.endpoint),
                option("aws_allow_http", "true"),
                option("aws_virtual_hosted_style_request", "false"),
            ],
        }
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
