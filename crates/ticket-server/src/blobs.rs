//! Where the bundles are kept: a folder (the default), or Azure Blob Storage or S3.
//!
//! # Brief overview
//!
//! [`BlobStore`] is what the routes need of a place for bundles: take a checked file, say how big a
//! bundle is, read a byte range of it, remove it, and, where the place can, sign a time-limited link
//! an agent reads it through without the server in between. [`Folder`] keeps them under the data
//! folder, linking the checked file into place (a hard link under a temporary name, renamed over
//! the key; a copy where the file system has no hard links). [`Cloud`] puts them into a container or
//! bucket through `object_store`, streamed from the file in multipart pieces (a few bundles at a
//! time, so memory does not follow the number of uploads), and signs links with
//! the store's key (Azure shared-key SAS, S3 presigned URLs). Keys look like paths:
//! `bundles/CS-000001.zip`, `bundles/CS-000001/<bundle id>.zip`.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::buffered::BufWriter;
use object_store::path::Path as Key;
use object_store::signer::Signer;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// A byte stream of a stored bundle.
pub type BlobStream = BoxStream<'static, std::io::Result<Bytes>>;

/// A place for bundles.
#[async_trait::async_trait]
pub trait BlobStore: Send + Sync {
    /// The place, as the server's log names it.
    fn describe(&self) -> String;

    /// Whether the place can be used: the folder can be made, the container or bucket is there
    /// and the credentials are taken. The server checks at start.
    async fn check(&self) -> anyhow::Result<()>;

    /// Stores the complete file `file` as `key`, whole or not at all; `file` stays (the caller
    /// removes it once the bundle is recorded, so a failure on the way loses nothing).
    async fn put_file(&self, key: &str, file: &Path) -> anyhow::Result<()>;

    /// The size of `key`, `None` when there is no such blob.
    async fn size(&self, key: &str) -> anyhow::Result<Option<u64>>;

    /// Bytes `range` of `key`.
    async fn read(&self, key: &str, range: Range<u64>) -> anyhow::Result<BlobStream>;

    /// Removes `key`; a missing one is not an error.
    async fn delete(&self, key: &str) -> anyhow::Result<()>;

    /// A link that reads `key` for `ttl` without the server's tokens, where the place can sign
    /// one.
    async fn signed_url(&self, key: &str, ttl: Duration) -> anyhow::Result<Option<String>>;
}

/// Where bundles go, as the server is started with.
#[derive(Debug, Clone, Default)]
pub enum BlobConfig {
    /// The data folder (the default).
    #[default]
    DataFolder,
    /// `az://CONTAINER[/PREFIX]` or `s3://BUCKET[/PREFIX]`, with the store's settings
    /// (`object_store`'s keys: `azure_storage_account_name`, `aws_access_key_id`, …).
    Cloud {
        url: String,
        options: Vec<(String, String)>,
    },
}

impl BlobConfig {
    /// Opens the place; `data_dir` for [`BlobConfig::DataFolder`].
    pub fn open(&self, data_dir: &Path) -> anyhow::Result<Arc<dyn BlobStore>> {
        match self {
            BlobConfig::DataFolder => Ok(Arc::new(Folder::new(data_dir.to_path_buf()))),
            BlobConfig::Cloud { url, options } => Ok(Arc::new(Cloud::new(url, options)?)),
        }
    }
}

/// Bundles as files under a folder.
pub struct Folder {
    root: PathBuf,
}

impl Folder {
    pub fn new(root: PathBuf) -> Folder {
        Folder { root }
    }

    /// The file of `key`; keys come from ticket and bundle ids the server checked, never from a
    /// request as they are.
    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }
}

#[async_trait::async_trait]
impl BlobStore for Folder {
    fn describe(&self) -> String {
        format!("folder {}", self.root.display())
    }

    async fn check(&self) -> anyhow::Result<()> {
        let bundles = self.root.join("bundles");
        tokio::fs::create_dir_all(&bundles)
            .await
            .with_context(|| format!("cannot create {}", bundles.display()))
    }

    async fn put_file(&self, key: &str, file: &Path) -> anyhow::Result<()> {
        let target = self.path(key);
        if let Some(folder) = target.parent() {
            tokio::fs::create_dir_all(folder)
                .await
                .with_context(|| format!("cannot create {}", folder.display()))?;
        }
        // Under a temporary name first, so the key is the whole bundle or nothing.
        let temporary = target.with_extension(format!("{}.partial", uuid::Uuid::now_v7()));
        if tokio::fs::hard_link(file, &temporary).await.is_err() {
            tokio::fs::copy(file, &temporary)
                .await
                .with_context(|| format!("cannot copy the bundle to {}", temporary.display()))?;
        }
        tokio::fs::rename(&temporary, &target)
            .await
            .inspect_err(|_| {
                let _ = std::fs::remove_file(&temporary);
            })
            .with_context(|| format!("cannot move the bundle to {}", target.display()))
    }

    async fn size(&self, key: &str) -> anyhow::Result<Option<u64>> {
        match tokio::fs::metadata(self.path(key)).await {
            Ok(meta) => Ok(Some(meta.len())),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    async fn read(&self, key: &str, range: Range<u64>) -> anyhow::Result<BlobStream> {
        let path = self.path(key);
        let mut file = tokio::fs::File::open(&path)
            .await
            .with_context(|| format!("cannot open {}", path.display()))?;
        file.seek(std::io::SeekFrom::Start(range.start)).await?;
        Ok(tokio_util::io::ReaderStream::with_capacity(
            file.take(range.end - range.start),
            256 * 1024,
        )
        .boxed())
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match tokio::fs::remove_file(self.path(key)).await {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err.into()),
            _ => Ok(()),
        }
    }

    async fn signed_url(&self, _key: &str, _ttl: Duration) -> anyhow::Result<Option<String>> {
        Ok(None)
    }
}

/// Bundles in an Azure Blob Storage container or an S3 bucket.
pub struct Cloud {
    store: Arc<dyn ObjectStore>,
    signer: Arc<dyn Signer>,
    url: String,
    prefix: Key,
    puts: tokio::sync::Semaphore,
}

/// The bytes of one multipart piece, and how many go at once, per upload.
/// 5 MiB is the smallest part S3 takes.
const PIECE_BYTES: usize = 5 << 20;
const PIECES_AT_ONCE: usize = 2;
/// Bundles going into the store at once, whatever the number of uploads: each holds up to
/// `PIECE_BYTES * PIECES_AT_ONCE` in memory, so this bounds the server's memory for puts.
const PUTS_AT_ONCE: usize = 8;

impl Cloud {
    pub fn new(url: &str, options: &[(String, String)]) -> anyhow::Result<Cloud> {
        let parsed = url::Url::parse(url).with_context(|| {
            format!("`{url}` is not a blob store URL (az://CONTAINER or s3://BUCKET)")
        })?;
        let prefix = Key::from(parsed.path().trim_matches('/'));
        let (store, signer): (Arc<dyn ObjectStore>, Arc<dyn Signer>) = match parsed.scheme() {
            "az" | "azure" | "abfs" | "abfss" => {
                let mut builder = MicrosoftAzureBuilder::from_env().with_url(url);
                for (key, value) in options {
                    let key: AzureConfigKey = key
                        .parse()
                        .with_context(|| format!("`{key}` is not an Azure storage setting"))?;
                    builder = builder.with_config(key, value);
                }
                let azure = Arc::new(builder.build().context("cannot use Azure Blob Storage")?);
                (azure.clone(), azure)
            }
            "s3" | "s3a" => {
                let mut builder = AmazonS3Builder::from_env().with_url(url);
                for (key, value) in options {
                    let key: AmazonS3ConfigKey = key
                        .parse()
                        .with_context(|| format!("`{key}` is not an S3 setting"))?;
                    builder = builder.with_config(key, value);
                }
                let s3 = Arc::new(builder.build().context("cannot use S3")?);
                (s3.clone(), s3)
            }
            other => anyhow::bail!(
                "`{other}://` is not a blob store this server knows; use az://CONTAINER or s3://BUCKET"
            ),
        };
        Ok(Cloud {
            store,
            signer,
            url: url.to_owned(),
            prefix,
            puts: tokio::sync::Semaphore::new(PUTS_AT_ONCE),
        })
    }

    fn key(&self, key: &str) -> Key {
        self.prefix.parts().chain(Key::from(key).parts()).collect()
    }
}

#[async_trait::async_trait]
impl BlobStore for Cloud {
    fn describe(&self) -> String {
        self.url.clone()
    }

    async fn check(&self) -> anyhow::Result<()> {
        self.store
            .list_with_delimiter(Some(&self.prefix))
            .await
            .with_context(|| {
                format!(
                    "cannot list {}: check that it exists and that the account and key (or token) may use it",
                    self.url
                )
            })?;
        Ok(())
    }

    async fn put_file(&self, key: &str, file: &Path) -> anyhow::Result<()> {
        let mut source = tokio::fs::File::open(file)
            .await
            .with_context(|| format!("cannot open {}", file.display()))?;
        let _turn = self.puts.acquire().await?;
        let mut writer = BufWriter::with_capacity(self.store.clone(), self.key(key), PIECE_BYTES)
            .with_max_concurrency(PIECES_AT_ONCE);
        let sent = async {
            tokio::io::copy(&mut source, &mut writer).await?;
            writer.shutdown().await
        }
        .await;
        if let Err(err) = sent {
            let _ = writer.abort().await;
            return Err(err).with_context(|| format!("cannot store {key} in {}", self.url));
        }
        Ok(())
    }

    async fn size(&self, key: &str) -> anyhow::Result<Option<u64>> {
        match self.store.head(&self.key(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(err) => Err(err).with_context(|| format!("cannot look up {key} in {}", self.url)),
        }
    }

    async fn read(&self, key: &str, range: Range<u64>) -> anyhow::Result<BlobStream> {
        let options = GetOptions {
            range: Some(GetRange::Bounded(range)),
            ..GetOptions::default()
        };
        let got = self
            .store
            .get_opts(&self.key(key), options)
            .await
            .with_context(|| format!("cannot read {key} from {}", self.url))?;
        Ok(got
            .into_stream()
            .map(|piece| piece.map_err(std::io::Error::other))
            .boxed())
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self.store.delete(&self.key(key)).await {
            Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    async fn signed_url(&self, key: &str, ttl: Duration) -> anyhow::Result<Option<String>> {
        let url = self
            .signer
            .signed_url(axum::http::Method::GET, &self.key(key), ttl)
            .await
            .with_context(|| format!("cannot sign a link to {key} in {}", self.url))?;
        Ok(Some(url.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(url: &str, options: &[(&str, &str)]) -> String {
        let options = options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let config = BlobConfig::Cloud {
            url: url.to_owned(),
            options,
        };
        format!("{:#}", config.open(Path::new("/nowhere")).err().unwrap())
    }

    #[test]
    fn a_store_that_cannot_be_used_is_named_with_what_to_do() {
        assert!(refusal("ftp://bundles", &[]).contains("use az://CONTAINER or s3://BUCKET"));
        assert!(refusal("not a url", &[]).contains("is not a blob store URL"));
        assert!(
            refusal("az://bundles", &[("colour", "blue")])
                .contains("`colour` is not an Azure storage setting")
        );
        assert!(
            refusal("s3://bundles", &[("colour", "blue")])
                .contains("`colour` is not an S3 setting")
        );
    }

    #[tokio::test]
    async fn the_folder_links_reads_ranges_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let folder = Folder::new(dir.path().join("store"));
        let file = dir.path().join("incoming.zip");
        std::fs::write(&file, b"0123456789").unwrap();
        assert_eq!(folder.size("bundles/CS-1/a.zip").await.unwrap(), None);
        folder.put_file("bundles/CS-1/a.zip", &file).await.unwrap();
        assert_eq!(folder.size("bundles/CS-1/a.zip").await.unwrap(), Some(10));
        // The source stays until the caller has recorded the bundle; removing it then leaves the
        // stored copy whole.
        std::fs::remove_file(&file).unwrap();
        assert_eq!(
            std::fs::read_dir(dir.path().join("store/bundles/CS-1"))
                .unwrap()
                .count(),
            1,
            "no temporary left beside it"
        );
        let mut read = folder.read("bundles/CS-1/a.zip", 2..5).await.unwrap();
        let mut got = Vec::new();
        while let Some(piece) = read.next().await {
            got.extend_from_slice(&piece.unwrap());
        }
        assert_eq!(got, b"234");
        assert_eq!(
            folder
                .signed_url("bundles/CS-1/a.zip", Duration::from_secs(60))
                .await
                .unwrap(),
            None
        );
        folder.delete("bundles/CS-1/a.zip").await.unwrap();
        folder.delete("bundles/CS-1/a.zip").await.unwrap();
        assert!(!dir.path().join("store/bundles/CS-1/a.zip").exists());
    }
}
