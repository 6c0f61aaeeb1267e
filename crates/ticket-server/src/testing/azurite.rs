//! Azurite, Microsoft's Azure Storage emulator (npm `azurite`), started on a free loopback port
//! with its own folder, and the one request the server does not make itself: creating a container,
//! signed with the emulator's published account key (Shared Key, as the Azure Storage REST
//! reference describes it).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use crate::BlobConfig;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The emulator's well-known account and key (public; the emulator accepts nothing else).
pub(crate) const ACCOUNT: &str = "devstoreaccount1";
pub(crate) const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// A running Azurite blob service; stopped when dropped.
pub struct Azurite {
    child: Child,
    /// `http://127.0.0.1:PORT/devstoreaccount1`, the account's blob endpoint.
    pub endpoint: String,
    _dir: TempDir,
}

/// Where Azurite is: `CALLSUPPORT_AZURITE_BLOB`, else where `cargo xtask test` installs it.
fn program() -> PathBuf {
    if let Some(path) = std::env::var_os("CALLSUPPORT_AZURITE_BLOB") {
        return PathBuf::from(path);
    }
    let installed = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/tools/azurite/node_modules/.bin/azurite-blob");
    assert!(
        installed.is_file(),
        "Azurite is not installed at {}; `cargo xtask test` installs it from npm, or set CALLSUPPORT_AZURITE_BLOB",
        installed.display()
    );
    installed
}

impl Azurite {
    pub async fn start() -> Azurite {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(program())
            .args(["--blobHost", "127.0.0.1", "--blobPort", "0", "--location"])
            .arg(dir.path())
            .args(["--skipApiVersionCheck", "--disableProductStyleUrl"])
            .args(["--disableTelemetry", "--silent"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("Azurite starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some((_, url)) = line.split_once("successfully listens on ") {
                    return url.trim().to_owned();
                }
            }
            panic!("Azurite stopped before it listened");
        })
        .await
        .expect("Azurite listens within a minute");
        // Keep reading its output so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Azurite {
            child,
            endpoint: format!("{url}/{ACCOUNT}"),
            _dir: dir,
        }
    }

    /// Creates a container (`PUT ?restype=container`, Shared Key).
    pub async fn create_container(&self, name: &str) {
        let date = httpdate::fmt_http_date(std::time::SystemTime::now());
        let version = "2021-08-06";
        let path = url::Url::parse(&format!("{}/{name}", self.endpoint))
            .unwrap()
            .path()
            .to_owned();
        let to_sign = format!(
            "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n/{ACCOUNT}{path}\nrestype:container"
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(&STANDARD.decode(KEY).unwrap()).unwrap();
        mac.update(to_sign.as_bytes());
        let signature = STANDARD.encode(mac.finalize().into_bytes());
        let created = reqwest::Client::new()
            .put(format!("{}/{name}?restype=container", self.endpoint))
            .header("x-ms-date", date)
            .header("x-ms-version", version)
            .header("Authorization", format!("SharedKey {ACCOUNT}:{signature}"))
            .header("Content-Length", "0")
            .send()
            .await
            .unwrap();
        assert_eq!(
            created.status(),
            reqwest::StatusCode::CREATED,
            "{}",
            created.text().await.unwrap()
        );
    }

    /// The server's blob store setting for `container` in this Azurite.
    pub fn blobs(&self, container: &str) -> BlobConfig {
        let option = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        BlobConfig::Cloud {
            url: format!("az://{container}"),
            options: vec![
                option("azure_storage_account_name", ACCOUNT),
                option("azure_storage_account_key", KEY),
                option("azure_storage_endpoint", &self.endpoint),
                option("azure_allow_http", "true"),
            ],
        }
    }

    /// The environment a separate server process needs for `--blob-store az://…` here.
    pub fn environment(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AZURE_STORAGE_ACCOUNT_NAME", ACCOUNT.to_owned()),
            ("AZURE_STORAGE_ACCOUNT_KEY", KEY.to_owned()),
            ("AZURE_STORAGE_ENDPOINT", self.endpoint.clone()),
            ("AZURE_ALLOW_HTTP", "true".to_owned()),
        ]
    }

    /// The names of the blobs in `container` (List Blobs, through the server's own client).
    pub async fn blob_names(&self, container: &str) -> Vec<String> {
        use futures_util::TryStreamExt;
        use object_store::ObjectStore;
        let store = object_store::azure::MicrosoftAzureBuilder::new()
            .with_account(ACCOUNT)
            .with_access_key(KEY)
            .with_endpoint(self.endpoint.clone())
            .with_allow_http(true)
            .with_container_name(container)
            .build()
            .unwrap();
        let mut names: Vec<String> = store
            .list(None)
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await
            .unwrap();
        names.sort();
        names
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
