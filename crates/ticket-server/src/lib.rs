//! The reference ticket API: receives reports, stores bundles byte for byte, serves them to agents.
//!
//! # Brief overview
//!
//! [`start`] binds a listener and serves the routes of [`routes`]: `POST /api/v1/tickets` (the
//! contract of `docs/ticket-api.md`, see [`callsupport_bundle::ticket`]), `GET /healthz`, and the agent side
//! `GET /api/v1/tickets[/{id}[/bundle]]` behind a separate token, and resumable uploads (tus 1.0,
//! [`uploads`]) whose finished bundle a JSON `POST /api/v1/tickets` turns into a ticket. [`store`] keeps the ticket
//! records in SQLite (or PostgreSQL, shared by several instances) and [`blobs`] the bundles in the
//! data folder (or Azure Blob Storage, or S3); each upload is written under a temporary name and
//! stored only after its hash, its manifest and every file in it were checked. Tokens are held only as
//! SHA-256 digests ([`secret`]); submissions and lookups are rate-limited per client address ([`limit`], [`client`]); agents'
//! downloads take byte ranges ([`range`]). The binary logs one JSON object a line. The binary and
//! the tests both go through [`start`].

pub mod blobs;
pub mod client;
pub mod faults;

pub use blobs::BlobConfig;
pub use forward::ForwardConfig;
pub use forward::ado::AzureDevOps;
pub use store::DatabaseConfig;
pub mod forward;
mod housekeeping;
pub mod limit;
pub mod link_key;
pub mod openapi;
pub mod problem;
pub mod range;
pub mod recover;
pub mod routes;
pub mod secret;
mod serve;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tus;
mod upload_store;
pub mod uploads;

pub use limit::{Intake, RateLimit};
pub use secret::Secret;
pub use upload_store::UploadQuotas;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// How long an unfinished resumable upload is kept after its last chunk.
pub const UPLOAD_KEEP: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// How a server instance is set up.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// The token clients must send to submit; `None` accepts anyone (loopback demos only).
    pub submit_token: Option<Secret>,
    /// The token for the agent endpoints; `None` turns them off.
    pub agent_token: Option<Secret>,
    pub max_bundle_bytes: u64,
    /// Most bytes a bundle's files may unpack to; `None` for twice `max_bundle_bytes` (an honest
    /// bundle unpacks to about the app's collection limit, which is at most the bundle limit).
    pub max_unpacked_bytes: Option<u64>,
    /// Received bundles checked at once; the rest wait their turn.
    pub checks_at_once: usize,
    /// Reports (and resumable upload creations) one client address may make; `None` for no limit.
    pub rate_limit: Option<RateLimit>,
    /// Dry runs and agent requests one client address may make; `None` for no limit.
    pub lookup_limit: Option<RateLimit>,
    /// Proxies (load balancers) whose `X-Forwarded-For` names the client; none by default.
    pub trusted_proxies: Vec<client::Cidr>,
    /// Base of the `ticket_url`s handed out; defaults to `http://<listen address>`.
    pub public_url: Option<String>,
    /// Offer resumable uploads (tus) at `/api/v1/uploads`; off, bundles come in one request each.
    pub resumable_uploads: bool,
    /// What unfinished resumable uploads may hold; `None` for [`UploadQuotas::for_bundles_of`]
    /// the bundle limit.
    pub upload_quotas: Option<UploadQuotas>,
    /// Bundles received in one request each at once, in all and per client address.
    pub intake: Intake,
    /// How long a request body may send nothing before the request is ended (`408`).
    pub body_idle: std::time::Duration,
    /// How long a client has to send a request's head (its line and headers) before its
    /// connection is closed.
    pub header_read: std::time::Duration,
    /// How often expired uploads and left-over files are swept away and commits left half done
    /// settled (besides at start).
    pub upload_sweep_every: std::time::Duration,
    /// Where the ticket records are kept.
    pub database: DatabaseConfig,
    /// Where the bundles are kept.
    pub blobs: BlobConfig,
    /// Forward each new ticket to Azure DevOps; `None` keeps tickets here only.
    pub forward: Option<ForwardConfig>,
    /// Where the blob store signs links, agents' bundle downloads are redirected to one valid this
    /// many minutes; 0 streams them through the server.
    pub signed_link_minutes: u64,
    /// The server's age identity file: bundles sealed for its public key (among others) are
    /// opened to be checked, and stored sealed as they came. Without one, sealed bundles are
    /// refused.
    pub seal_identity: Option<PathBuf>,
    /// The file of the key links from support are signed with; `None` for `link-key` in the data
    /// folder. Made on the first start when missing.
    pub link_key: Option<PathBuf>,
}

impl ServerConfig {
    /// A server on `listen` keeping everything in `data_dir`: no tokens (loopback only), bundles
    /// up to 1 GiB, no rate limit, resumable uploads, bundles in the data folder.
    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> ServerConfig {
        ServerConfig {
            listen,
            data_dir,
            submit_token: None,
            agent_token: None,
            max_bundle_bytes: 1 << 30,
            max_unpacked_bytes: None,
            checks_at_once: default_checks_at_once(),
            rate_limit: None,
            lookup_limit: None,
            trusted_proxies: Vec::new(),
            public_url: None,
            seal_identity: None,
            link_key: None,
            resumable_uploads: true,
            upload_quotas: None,
            upload_sweep_every: std::time::Duration::from_secs(300),
            intake: Intake::default(),
            body_idle: std::time::Duration::from_secs(60),
            header_read: std::time::Duration::from_secs(30),
            database: DatabaseConfig::DataFolder,
            blobs: BlobConfig::DataFolder,
            signed_link_minutes: 15,
            forward: None,
        }
    }
}

/// One bundle check per core, at least two.
pub fn default_checks_at_once() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().max(2))
}

/// A server that is accepting connections.
pub struct RunningServer {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The forwarding worker, stopped with the server (a forward it was in holds its row until
    /// the hold ends, then another attempt goes on from the last step written).
    _forwarding: Option<AbortOnDrop>,
    /// The sweeps of expired uploads and left-over files, and the settling of commits a crash
    /// or a failure left half done.
    _chores: AbortOnDrop,
}

/// Stops a background task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The ticket API URL clients post to.
    pub fn tickets_url(&self) -> String {
        format!("http://{}/api/v1/tickets", self.addr)
    }

    /// Stops accepting, lets running requests finish, and waits.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task
            .await
            .unwrap_or_else(|err| Err(std::io::Error::other(err)))
    }

    /// Serves until the process is asked to stop.
    pub async fn wait(self) -> std::io::Result<()> {
        self.task
            .await
            .unwrap_or_else(|err| Err(std::io::Error::other(err)))
    }
}

/// `incoming/` in the data folder, made if missing and swept of what a stopped server left.
fn prepare_incoming(data_dir: &std::path::Path) -> anyhow::Result<PathBuf> {
    let incoming = data_dir.join("incoming");
    std::fs::create_dir_all(&incoming)
        .map_err(|err| anyhow::anyhow!("cannot create {}: {err}", incoming.display()))?;
    housekeeping::sweep_incoming(&incoming, chrono::Utc::now());
    Ok(incoming)
}

impl ServerConfig {
    /// What is wrong with this setup as a whole, in words that name the flags to change.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let (Some(submit), Some(agent)) = (&self.submit_token, &self.agent_token)
            && submit == agent
        {
            problems.push(
                "the agent token is the submit token: every desktop holds the submit token, so it must not open agents' tickets; give agents a token of their own".to_owned(),
            );
        }
        if self.public_url.is_none() && self.listen.ip().is_unspecified() {
            problems.push(format!(
                "--public-url is needed when listening on all addresses ({}): the ticket and upload links handed out must name this server as clients reach it, e.g. --public-url https://support.example.com",
                self.listen
            ));
        }
        problems
    }
}

/// Opens the store, binds the listener and starts serving in the background.
pub async fn start(config: ServerConfig) -> anyhow::Result<RunningServer> {
    if let Some(problem) = config.problems().into_iter().next() {
        anyhow::bail!(problem);
    }
    let incoming = prepare_incoming(&config.data_dir)?;
    let store = config.database.open(&config.data_dir).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|err| anyhow::anyhow!("cannot listen on {}: {err}", config.listen))?;
    let addr = listener.local_addr()?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let quotas = config
        .upload_quotas
        .unwrap_or_else(|| UploadQuotas::for_bundles_of(config.max_bundle_bytes));
    let uploads = Arc::new(uploads::Uploads::open(
        &config.data_dir.join("uploads"),
        UPLOAD_KEEP,
        quotas,
    )?);
    let blobs = config.blobs.open(&config.data_dir)?;
    blobs.check().await?;
    tracing::info!(
        blobs = blobs.describe(),
        "bundles are kept in {}",
        blobs.describe()
    );
    let forwarder = match &config.forward {
        Some(forward) => Some(Arc::new(forward::Forwarder::new(
            forward.clone(),
            public_url.trim_end_matches('/').to_owned(),
        )?)),
        None => None,
    };
    let forwarding = forwarder.as_ref().map(|forwarder| {
        AbortOnDrop(
            tokio::spawn(forward::run(
                forwarder.clone(),
                store.clone(),
                blobs.clone(),
            ))
            .abort_handle(),
        )
    });
    // What a crash left half done is settled before the first request, and then now and again.
    match recover::finish_pending(&*store, &*blobs, forwarder.as_deref(), chrono::Utc::now()).await
    {
        Ok(recover::Recovered { adopted, undone }) if adopted + undone > 0 => {
            tracing::warn!(adopted, undone, "commits left half done were settled");
        }
        Ok(_) => {}
        Err(err) => tracing::warn!("cannot read the pending commits: {err:#}"),
    }
    let chores = AbortOnDrop(
        tokio::spawn(housekeeping::every(
            housekeeping::Chores {
                uploads: uploads.clone(),
                incoming: incoming.clone(),
                store: store.clone(),
                blobs: blobs.clone(),
                forwarder: forwarder.clone(),
            },
            config.upload_sweep_every,
        ))
        .abort_handle(),
    );
    let seal_identity = match &config.seal_identity {
        Some(path) => Some(Arc::new(
            callsupport_seal::Identities::from_file(path)
                .map_err(|err| anyhow::anyhow!("--seal-identity: {err}"))?,
        )),
        None => None,
    };
    let link_key_file = config
        .link_key
        .clone()
        .unwrap_or_else(|| config.data_dir.join(link_key::FILE_NAME));
    let link_key = Arc::new(link_key::load_or_make(&link_key_file)?);
    tracing::info!(
        public_key = %link_key.public(),
        "links from support are signed with the key in {}",
        link_key_file.display()
    );
    let state = Arc::new(routes::AppState {
        seal_identity,
        link_key,
        forwarder,
        store,
        incoming,
        blobs,
        signed_links: (config.signed_link_minutes > 0)
            .then(|| std::time::Duration::from_secs(config.signed_link_minutes * 60)),
        uploads,
        submit_token: config.submit_token.clone(),
        agent_token: config.agent_token.clone(),
        limiter: config.rate_limit.map(limit::Limiter::new),
        lookups: config.lookup_limit.map(limit::Limiter::new),
        proxies: client::Proxies(config.trusted_proxies.clone()),
        intake: limit::Slots::new(config.intake),
        min_free_bytes: quotas.min_free_bytes,
        max_bundle_bytes: config.max_bundle_bytes,
        max_unpacked_bytes: config
            .max_unpacked_bytes
            .unwrap_or(config.max_bundle_bytes.saturating_mul(2)),
        checks: tokio::sync::Semaphore::new(config.checks_at_once.max(1)),
        public_url: public_url.trim_end_matches('/').to_owned(),
    });
    let app = routes::router(state, config.resumable_uploads, config.body_idle);
    let (tx, rx) = oneshot::channel::<()>();
    let header_read = config.header_read;
    let task = tokio::spawn(serve::serve(listener, app, header_read, async move {
        let _ = rx.await;
    }));
    Ok(RunningServer {
        addr,
        shutdown: Some(tx),
        task,
        _forwarding: forwarding,
        _chores: chores,
    })
}
