//! `callsupport-ticket-server`: the reference ticket API as a program.

use std::net::SocketAddr;
use std::path::PathBuf;

use callsupport_ticket_server::{
    AzureDevOps, BlobConfig, DatabaseConfig, ForwardConfig, Intake, RateLimit, Secret, UploadQuotas,
};
use clap::Parser;

/// The reference ticket API for Call Support: receives reports, keeps each bundle byte for byte and
/// the tickets in SQLite, and serves them to support agents.
#[derive(Parser)]
#[command(name = "callsupport-ticket-server", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port (printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Folder for the database and the bundles; created if missing.
    #[arg(long)]
    data: PathBuf,
    /// Bearer token clients must send to submit reports (or set CALLSUPPORT_SERVER_TOKEN).
    #[arg(long, env = "CALLSUPPORT_SERVER_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The submit token's SHA-256 (64 hex digits) instead of the token itself, so the server's
    /// configuration never holds it (or set CALLSUPPORT_SERVER_TOKEN_SHA256).
    #[arg(
        long,
        env = "CALLSUPPORT_SERVER_TOKEN_SHA256",
        conflicts_with = "token"
    )]
    token_sha256: Option<String>,
    /// Bearer token for the agent endpoints (or set CALLSUPPORT_AGENT_TOKEN); without it they are off.
    #[arg(long, env = "CALLSUPPORT_AGENT_TOKEN", hide_env_values = true)]
    agent_token: Option<String>,
    /// The agent token's SHA-256 instead of the token (or set CALLSUPPORT_AGENT_TOKEN_SHA256).
    #[arg(
        long,
        env = "CALLSUPPORT_AGENT_TOKEN_SHA256",
        conflicts_with = "agent_token"
    )]
    agent_token_sha256: Option<String>,
    /// Reports (and resumable uploads started) one client address may send a minute; 0 for no
    /// limit. Over it, clients get 429 with Retry-After. A report sent again (its
    /// Idempotency-Key already a ticket) is always answered.
    #[arg(long, default_value_t = 600)]
    rate_per_minute: u32,
    /// Reports one client address may send at once before the per-minute rate applies.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..))]
    rate_burst: u32,
    /// Token checks (dry runs) and agent requests one client address may make a minute, in bursts
    /// of a tenth of it; 0 for no limit.
    #[arg(long, default_value_t = 1200)]
    lookup_rate_per_minute: u32,
    /// Believe X-Forwarded-For from these proxies (load balancers): addresses or blocks such as
    /// 10.0.0.0/8, comma-separated or the flag repeated. Without it, the client is the address
    /// the connection comes from.
    #[arg(long, value_name = "CIDR", value_delimiter = ',')]
    trust_proxy: Vec<callsupport_ticket_server::client::Cidr>,
    /// Largest bundle accepted, in MiB.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    max_bundle_mb: u64,
    /// Most a bundle's files may unpack to, in MiB; a bigger one is refused before anything is
    /// inflated. Default: twice --max-bundle-mb.
    #[arg(long, value_name = "MiB", value_parser = clap::value_parser!(u64).range(1..))]
    max_unpacked_mb: Option<u64>,
    /// Received bundles checked (inflated and hashed) at once; the others wait their turn.
    /// Default: one per core, at least two.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    checks_at_once: Option<u64>,
    /// Base URL for the ticket links handed out, when clients reach the server under another name.
    #[arg(long)]
    public_url: Option<String>,
    /// Do not offer resumable uploads (tus, `/api/v1/uploads`): every bundle comes in one request.
    #[arg(long)]
    no_resumable_uploads: bool,
    /// Unfinished resumable uploads one client address may have.
    #[arg(long, default_value_t = 20, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    uploads_per_client: u64,
    /// What one client address's unfinished uploads may reserve, in MiB. Default: four times
    /// --max-bundle-mb.
    #[arg(long, value_name = "MiB", value_parser = clap::value_parser!(u64).range(1..))]
    upload_mb_per_client: Option<u64>,
    /// What all unfinished uploads may reserve, in MiB. Default: 64 times --max-bundle-mb.
    #[arg(long, value_name = "MiB", value_parser = clap::value_parser!(u64).range(1..))]
    upload_mb_total: Option<u64>,
    /// Free disk space kept in the data folder, in MiB: an upload that could take the disk under
    /// it is refused (507) until there is room.
    #[arg(long, default_value_t = 2048, value_name = "MiB")]
    min_free_disk_mb: u64,
    /// Bundles received in one request each (not resumable) at once.
    #[arg(long, default_value_t = 64, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    intake_at_once: u64,
    /// Bundles one client address may send in one request each at once.
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    intake_per_client: u64,
    /// Seconds a request body may send nothing before the request is ended with 408: a client
    /// that stops sending cannot hold a connection and a slot.
    #[arg(long, default_value_t = 60, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    body_idle_secs: u64,
    /// Seconds a client has to send a request's line and headers; past them its connection is
    /// closed, so connections that send their headers a byte at a time, or nothing, do not pile up.
    #[arg(long, default_value_t = 30, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    header_read_secs: u64,
    /// Keep the ticket records in PostgreSQL instead of SQLite in the data folder, so several
    /// instances can share them: a connection string, e.g. postgres://callsupport@db/tickets
    /// (or set CALLSUPPORT_DATABASE_URL, which keeps a password off the command line).
    #[arg(
        long,
        env = "CALLSUPPORT_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    database: Option<String>,
    /// Keep the bundles in Azure Blob Storage (az://CONTAINER[/PREFIX]) or S3
    /// (s3://BUCKET[/PREFIX]) instead of the data folder. The account and its key come from the
    /// environment: AZURE_STORAGE_ACCOUNT_NAME, AZURE_STORAGE_ACCOUNT_KEY (or another of
    /// object_store's AZURE_* settings, e.g. AZURE_STORAGE_ENDPOINT); AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT for S3.
    #[arg(long, value_name = "URL")]
    blob_store: Option<String>,
    /// This server's age identity file (`age-keygen -o FILE`). Bundles sealed for its public key
    /// (the app's privacy.recipients) are opened to be checked and stored sealed, as they came;
    /// without it, sealed bundles are refused.
    #[arg(long, value_name = "FILE", env = "CALLSUPPORT_SEAL_IDENTITY")]
    seal_identity: Option<PathBuf>,
    /// The file of the key this server signs links from support with (made there on the first
    /// start; default: link-key in the data folder). Instances that share a database share it.
    #[arg(long, value_name = "FILE", env = "CALLSUPPORT_LINK_KEY")]
    link_key: Option<PathBuf>,
    /// With a blob store that signs links, agents' bundle downloads are redirected to a link
    /// valid this many minutes; 0 streams them through this server.
    #[arg(long, default_value_t = 15, value_name = "MINUTES")]
    signed_link_minutes: u64,
    /// Forward each new ticket to Azure DevOps as a work item: the organisation's URL, e.g.
    /// https://dev.azure.com/contoso. Failed forwards are retried from the server's own queue.
    /// The personal access token (Work Items, Read & Write) comes from CALLSUPPORT_ADO_TOKEN, or
    /// from the file CALLSUPPORT_ADO_TOKEN_FILE names.
    #[arg(long, value_name = "URL", requires = "ado_project")]
    ado_organization: Option<String>,
    /// The Azure DevOps project the work items go to.
    #[arg(long, value_name = "PROJECT")]
    ado_project: Option<String>,
    /// The work item type made for each ticket.
    #[arg(long, default_value = "Bug", value_name = "TYPE")]
    ado_work_item_type: String,
    /// The area path set on each work item.
    #[arg(long, value_name = "PATH")]
    ado_area_path: Option<String>,
    /// Bundles up to this size are attached to the work item (larger ones in chunks of 8 MiB);
    /// larger bundles are linked from it instead.
    #[arg(long, default_value_t = 60, value_name = "MiB")]
    ado_attach_up_to_mb: u64,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    // One JSON object a line on standard error: what was received, refused and why.
    tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .init();
    let secret = |clear: &Option<String>, digest: &Option<String>, flag: &str| match (clear, digest)
    {
        (Some(token), _) => Some(Secret::from_token(token)),
        (None, Some(hex)) => Some(Secret::from_sha256_hex(hex).unwrap_or_else(|err| {
            eprintln!("error: --{flag}-sha256: {err}");
            std::process::exit(2);
        })),
        (None, None) => None,
    };
    let submit_token = secret(&args.token, &args.token_sha256, "token");
    let agent_token = secret(&args.agent_token, &args.agent_token_sha256, "agent-token");
    if submit_token.is_none() && !args.listen.ip().is_loopback() {
        eprintln!(
            "error: --token is required when listening on a non-loopback address ({})",
            args.listen
        );
        std::process::exit(2);
    }
    if args.token.as_ref().is_some_and(|t| t.trim().is_empty()) {
        eprintln!("error: --token is empty; pass a non-empty token or leave it out on loopback");
        std::process::exit(2);
    }
    let ado_token = match ado_token() {
        Ok(token) => token,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(2);
        }
    };
    if args.ado_organization.is_some() && ado_token.is_none() {
        eprintln!(
            "error: --ado-organization needs a personal access token with the Work Items (Read & Write) scope: set CALLSUPPORT_ADO_TOKEN, or CALLSUPPORT_ADO_TOKEN_FILE to a file that holds it (a mounted secret, a systemd credential)"
        );
        std::process::exit(2);
    }
    let config = callsupport_ticket_server::ServerConfig {
        listen: args.listen,
        data_dir: args.data,
        submit_token,
        agent_token,
        max_bundle_bytes: args.max_bundle_mb << 20,
        max_unpacked_bytes: args.max_unpacked_mb.map(|mb| mb << 20),
        checks_at_once: args
            .checks_at_once
            .map_or_else(callsupport_ticket_server::default_checks_at_once, |n| {
                n as usize
            }),
        rate_limit: (args.rate_per_minute > 0).then_some(RateLimit {
            per_minute: args.rate_per_minute,
            burst: args.rate_burst,
        }),
        lookup_limit: (args.lookup_rate_per_minute > 0).then_some(RateLimit {
            per_minute: args.lookup_rate_per_minute,
            burst: (args.lookup_rate_per_minute / 10).max(1),
        }),
        trusted_proxies: args.trust_proxy,
        public_url: args.public_url,
        resumable_uploads: !args.no_resumable_uploads,
        upload_quotas: Some({
            let bundles = UploadQuotas::for_bundles_of(args.max_bundle_mb << 20);
            UploadQuotas {
                per_client: args.uploads_per_client as usize,
                bytes_per_client: args
                    .upload_mb_per_client
                    .map_or(bundles.bytes_per_client, |mb| mb << 20),
                bytes_total: args
                    .upload_mb_total
                    .map_or(bundles.bytes_total, |mb| mb << 20),
                min_free_bytes: args.min_free_disk_mb << 20,
            }
        }),
        upload_sweep_every: std::time::Duration::from_secs(300),
        body_idle: std::time::Duration::from_secs(args.body_idle_secs),
        header_read: std::time::Duration::from_secs(args.header_read_secs),
        intake: Intake {
            at_once: args.intake_at_once as usize,
            per_client: args.intake_per_client as usize,
        },
        database: match args.database {
            Some(url) => DatabaseConfig::Postgres(url),
            None => DatabaseConfig::DataFolder,
        },
        blobs: match args.blob_store {
            Some(url) => BlobConfig::Cloud {
                url,
                options: Vec::new(),
            },
            None => BlobConfig::DataFolder,
        },
        signed_link_minutes: args.signed_link_minutes,
        seal_identity: args.seal_identity,
        link_key: args.link_key,
        forward: args.ado_organization.map(|organization_url| {
            ForwardConfig::new(AzureDevOps {
                organization_url,
                project: args.ado_project.unwrap_or_default(),
                work_item_type: args.ado_work_item_type,
                area_path: args.ado_area_path,
                token: ado_token.clone().unwrap_or_default(),
                attachment_limit_bytes: args.ado_attach_up_to_mb << 20,
                chunk_bytes: 8 << 20,
            })
        }),
    };
    let problems = config.problems();
    if !problems.is_empty() {
        for problem in problems {
            eprintln!("error: {problem}");
        }
        std::process::exit(2);
    }
    let server = match callsupport_ticket_server::start(config).await {
        Ok(server) => server,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::exit(1);
        }
    };
    println!("listening on http://{}", server.addr());
    let addr = server.addr();
    tokio::select! {
        result = server.wait() => {
            if let Err(err) = result {
                eprintln!("error: server on {addr} stopped: {err}");
                std::process::exit(1);
            }
        }
        _ = shutdown_signal() => {}
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("signal handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// The Azure DevOps token: `CALLSUPPORT_ADO_TOKEN`, else the file `CALLSUPPORT_ADO_TOKEN_FILE` names
/// (where secret stores put secrets: a Kubernetes or Docker secret, a systemd credential).
fn ado_token() -> Result<Option<String>, String> {
    if let Some(token) = std::env::var("CALLSUPPORT_ADO_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
    {
        return Ok(Some(token.trim().to_owned()));
    }
    let Some(file) = std::env::var_os("CALLSUPPORT_ADO_TOKEN_FILE") else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&file).map_err(|err| {
        format!(
            "cannot read the Azure DevOps token from {} (CALLSUPPORT_ADO_TOKEN_FILE): {err}",
            std::path::Path::new(&file).display()
        )
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(format!(
            "{} (CALLSUPPORT_ADO_TOKEN_FILE) is empty; put the personal access token in it",
            std::path::Path::new(&file).display()
        ));
    }
    Ok(Some(token.to_owned()))
}
