//! The ticket API client: posts a bundle and checks the receipt, fetches a ticket's bundle for an
//! agent, and finds the token.
//!
//! # Brief overview
//!
//! [`Uploader::new`] builds an HTTPS client (rustls with the operating system's trust store, system
//! proxy settings honoured) with a connect timeout and a read-idle timeout, never a total deadline that
//! a large upload would hit. [`Uploader::submit`] streams the zip from disk as a multipart part, reports
//! progress, stops when the callback returns `false`, and only succeeds when the server's
//! `bundle_sha256` matches ours. A bundle over `ticket_api.resumable_over_mb` goes as a resumable
//! upload instead when the server offers one ([`resumable`]), and falls back to the single request
//! when it does not. [`Uploader::deliver`] adds retries on what time can fix, per
//! [`retry::RetryPolicy`], reporting the wait between attempts; a resumable upload goes on across
//! them, and across restarts, from the address kept in a [`slot::ResumeSlot`].
//!
//! [`fetch`] is the agent's side: a ticket's bundle downloaded with the agent token and checked
//! against the recorded SHA-256. [`secrets`] finds the submit token: the OS keyring (the Secret
//! Service over D-Bus on Linux, the Credential Manager on Windows, the Keychain on macOS), or the
//! environment variable the configuration names.

pub mod fetch;
mod form;
mod resumable;
pub mod retry;
pub mod secrets;
pub mod slot;

use callsupport_error::{Coded, ErrorCode};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use reqwest::StatusCode;

use callsupport_bundle::progress::Progress;
use callsupport_bundle::ticket::{Problem, TicketReceipt, TicketRequest};
use callsupport_config::{CaFileError, TicketApiConfig};
use resumable::Resumable;
use retry::{RetryPolicy, parse_retry_after};
use slot::{MemorySlot, ResumeSlot};

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(
        "the ticket API token is missing: set the environment variable {0}, or store it with `callsupport token set`"
    )]
    MissingToken(String),
    #[error("cannot reach the support service at {host}: {detail}")]
    Unreachable { host: String, detail: String },
    #[error(
        "the support service at {host} refused the report (not signed in: {detail}); check the API token"
    )]
    Unauthorized { host: String, detail: String },
    #[error("the report is larger than the support service accepts ({detail})")]
    TooLarge { detail: String },
    #[error("the support service is busy; try again{}", retry_after.map(|s| format!(" in {s} s")).unwrap_or_default())]
    Busy {
        retry_after: Option<u64>,
        /// The problem's code (`rate_limited`, `upload_quota_exceeded`, `server_busy`, …).
        code: String,
    },
    #[error("the support service rejected the report ({status} {code}): {detail}")]
    Rejected {
        status: u16,
        code: String,
        detail: String,
    },
    #[error("the support service failed ({status}): {detail}")]
    ServerError { status: u16, detail: String },
    #[error(
        "the support service stored {stored} but the bundle is {ours}; the report was not counted as sent"
    )]
    HashMismatch { ours: String, stored: String },
    #[error(
        "the support service at {host} presented a certificate this computer does not trust ({detail}); IT can add the organisation's certificate authority with ticket_api.ca_files"
    )]
    Untrusted { host: String, detail: String },
    #[error("cannot use a certificate authority file: {0}")]
    CaFile(#[from] CaFileError),
    #[error("cannot read the bundle {path}: {source}")]
    Bundle {
        path: String,
        source: std::io::Error,
    },
    #[error("cancelled")]
    Cancelled,
}

/// An HTTP client for the ticket API as configured: its timeouts and extra certificate
/// authorities (uploads and the agent's downloads share it).
pub fn http_client(api: &TicketApiConfig) -> Result<reqwest::Client, UploadError> {
    let mut extra_roots = Vec::new();
    for path in &api.ca_files {
        extra_roots.extend(load_ca_file(Path::new(path))?);
    }
    reqwest::Client::builder()
        .tls_certs_merge(extra_roots)
        .user_agent(format!(
            "{}/{}",
            callsupport_bundle::GENERATOR,
            callsupport_bundle::VERSION
        ))
        .connect_timeout(Duration::from_secs(api.connect_timeout_secs))
        .read_timeout(Duration::from_secs(api.read_timeout_secs))
        .build()
        .map_err(|err| UploadError::Unreachable {
            host: api.destination_host(),
            detail: err.to_string(),
        })
}

/// A configured client for one ticket API.
pub struct Uploader {
    client: reqwest::Client,
    url: reqwest::Url,
    /// The destination as errors name it (`host:port`).
    host: String,
    token: Option<String>,
    /// Bundles over this many bytes go as resumable uploads when the server offers them.
    resumable_over: u64,
    /// The bytes of one resumable chunk.
    chunk_bytes: usize,
}

impl Uploader {
    /// Builds the client; fails when a token is configured (`token_env`) but neither the variable
    /// nor the credential store holds one.
    pub fn new(api: &TicketApiConfig) -> Result<Uploader, UploadError> {
        // The environment variable, else the system's credential store (`callsupport token set`).
        let token = match (crate::secrets::submit_token(api), &api.token_env) {
            (Some((token, _)), _) => Some(token),
            (None, Some(name)) => return Err(UploadError::MissingToken(name.clone())),
            (None, None) => None,
        };
        Uploader::with_token(api, token)
    }

    /// Builds the client with a token found elsewhere than the configured variable.
    pub fn with_token(
        api: &TicketApiConfig,
        token: Option<String>,
    ) -> Result<Uploader, UploadError> {
        let client = http_client(api)?;
        Ok(Uploader {
            client,
            url: api.parsed_url(),
            host: api.destination_host(),
            token,
            resumable_over: api.resumable_over_mb.saturating_mul(1 << 20),
            chunk_bytes: resumable::CHUNK_BYTES,
        })
    }

    /// Sends resumable uploads in chunks of `bytes` (at least 1) instead of
    /// [`resumable::CHUNK_BYTES`]'s 4 MiB.
    pub fn with_chunk_bytes(mut self, bytes: usize) -> Uploader {
        self.chunk_bytes = bytes.max(1);
        self
    }

    /// Sends a bundle, trying again per `policy` when time can fix the failure. Between attempts
    /// it reports [`Progress::Retrying`] every second; `false` from `on_progress` cancels the
    /// wait as it cancels a send. A resumable upload begun by one attempt is kept in `slot`, and
    /// the next attempt goes on from where the server got to.
    pub async fn deliver(
        &self,
        bundle: &Path,
        request: &TicketRequest,
        slot: &dyn ResumeSlot,
        policy: &RetryPolicy,
        on_progress: impl FnMut(Progress) -> bool + Send + 'static,
    ) -> Result<TicketReceipt, UploadError> {
        let sink: Sink = Arc::new(Mutex::new(on_progress));
        let mut attempt = 1;
        loop {
            let error = match self.send(bundle, request, slot, sink.clone()).await {
                Ok(receipt) => return Ok(receipt),
                Err(error) => error,
            };
            let Some(delay) = policy.next_delay(attempt, &error, fastrand::f64()) else {
                return Err(error);
            };
            attempt += 1;
            log::info!(
                "bundle {}: attempt {attempt} of {} in {} ms",
                request.bundle_id,
                policy.attempts,
                delay.as_millis()
            );
            let reason = error.to_string();
            let deadline = tokio::time::Instant::now() + delay;
            loop {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                let keep_going = report(
                    &sink,
                    Progress::Retrying {
                        attempt,
                        attempts: policy.attempts,
                        wait_seconds: left.as_secs_f64().ceil() as u64,
                        reason: reason.clone(),
                    },
                );
                if !keep_going {
                    return Err(UploadError::Cancelled);
                }
                if left.is_zero() {
                    break;
                }
                tokio::time::sleep(left.min(Duration::from_secs(1))).await;
            }
        }
    }

    /// Sends one bundle with its report, once; returns the server's receipt once its hash matches.
    pub async fn submit(
        &self,
        bundle: &Path,
        request: &TicketRequest,
        on_progress: impl FnMut(Progress) -> bool + Send + 'static,
    ) -> Result<TicketReceipt, UploadError> {
        self.send(
            bundle,
            request,
            &MemorySlot::default(),
            Arc::new(Mutex::new(on_progress)),
        )
        .await
    }

    /// One attempt: resumable when the bundle is over the configured size and the server offers
    /// it, else the whole bundle in one request.
    async fn send(
        &self,
        bundle: &Path,
        request: &TicketRequest,
        slot: &dyn ResumeSlot,
        sink: Sink,
    ) -> Result<TicketReceipt, UploadError> {
        log::info!("sending bundle {} to {}", request.bundle_id, self.host);
        let started = std::time::Instant::now();
        let result = async {
            let total = tokio::fs::metadata(bundle)
                .await
                .map_err(|source| UploadError::Bundle {
                    path: bundle.display().to_string(),
                    source,
                })?
                .len();
            if total > self.resumable_over
                && let Some(offer) = self.offer(total).await?
            {
                let sent = self
                    .send_resumable(bundle, request, total, &offer, slot, &sink)
                    .await?;
                if let Resumable::Done(receipt) = sent {
                    return Ok(receipt);
                }
            }
            self.send_form(bundle, request, total, sink.clone()).await
        }
        .await;
        match &result {
            Ok(receipt) => log::info!(
                "bundle {} delivered as ticket {} ({} bytes, {} ms)",
                request.bundle_id,
                receipt.ticket_id,
                receipt.bundle_bytes,
                started.elapsed().as_millis()
            ),
            Err(err) => log::warn!("bundle {} not delivered: {err}", request.bundle_id),
        }
        result
    }

    /// Where reports go: the ticket API's host (`host:port` when the URL names a port), as the
    /// consent statement names it.
    pub fn destination(&self) -> &str {
        &self.host
    }

    /// A request to the ticket API's host, with the token when there is one.
    fn request(&self, method: reqwest::Method, url: reqwest::Url) -> reqwest::RequestBuilder {
        let builder = self.client.request(method, url);
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// What a failed request's transport error means; `cancelled` when the progress callback
    /// stopped the body.
    fn transport_error(&self, err: &reqwest::Error, cancelled: &AtomicBool) -> UploadError {
        if cancelled.load(Ordering::SeqCst) {
            UploadError::Cancelled
        } else if untrusted_certificate(err) {
            UploadError::Untrusted {
                host: self.host.clone(),
                detail: describe(err),
            }
        } else {
            UploadError::Unreachable {
                host: self.host.clone(),
                detail: describe(err),
            }
        }
    }

    /// What a failed request's transport error means when there was no body to stop.
    fn unreachable(&self, err: &reqwest::Error) -> UploadError {
        self.transport_error(err, &AtomicBool::new(false))
    }

    /// The ticket API's answer to a report: its receipt, once the hash it stored is ours.
    async fn receipt(
        &self,
        response: reqwest::Response,
        request: &TicketRequest,
    ) -> Result<TicketReceipt, UploadError> {
        let status = response.status();
        if status != StatusCode::CREATED && status != StatusCode::OK {
            return Err(self.refusal(response).await);
        }
        let text = self.text(response).await?;
        let receipt: TicketReceipt =
            serde_json::from_str(&text).map_err(|err| UploadError::ServerError {
                status: status.as_u16(),
                detail: format!("unreadable receipt: {err}"),
            })?;
        if receipt.bundle_sha256 != request.bundle_sha256 {
            return Err(UploadError::HashMismatch {
                ours: request.bundle_sha256.clone(),
                stored: receipt.bundle_sha256,
            });
        }
        Ok(receipt)
    }

    /// What a refused request means, from its status and problem document.
    async fn refusal(&self, response: reqwest::Response) -> UploadError {
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()))
            .map(|wait| wait.as_secs());
        let text = match self.text(response).await {
            Ok(text) => text,
            Err(error) => return error,
        };
        let problem: Problem = serde_json::from_str(&text).unwrap_or_else(|_| {
            let detail: String = text.chars().take(200).collect();
            Problem::new(
                status.as_u16(),
                "",
                status.canonical_reason().unwrap_or(""),
                detail,
            )
        });
        let detail = if problem.detail.is_empty() {
            problem.title.clone()
        } else {
            problem.detail.clone()
        };
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => UploadError::Unauthorized {
                host: self.host.clone(),
                detail,
            },
            StatusCode::PAYLOAD_TOO_LARGE => UploadError::TooLarge { detail },
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => UploadError::Busy {
                retry_after,
                code: problem.code,
            },
            s if s.is_server_error() => UploadError::ServerError {
                status: s.as_u16(),
                detail,
            },
            s => UploadError::Rejected {
                status: s.as_u16(),
                code: problem.code,
                detail,
            },
        }
    }

    async fn text(&self, response: reqwest::Response) -> Result<String, UploadError> {
        response
            .text()
            .await
            .map_err(|err| UploadError::Unreachable {
                host: self.host.clone(),
                detail: describe(&err),
            })
    }
}

/// The progress callback, shared by the requests of one delivery.
type Sink = Arc<Mutex<dyn FnMut(Progress) -> bool + Send>>;

/// Hands `progress` to the callback; whether to go on.
fn report(sink: &Sink, progress: Progress) -> bool {
    (sink.lock().unwrap_or_else(|e| e.into_inner()))(progress)
}

/// The upload rate since `started`, counting from `from` bytes.
#[derive(Clone, Copy)]
struct Meter {
    started: Instant,
    from: u64,
    total: u64,
}

impl Meter {
    fn new(from: u64, total: u64) -> Meter {
        Meter {
            started: Instant::now(),
            from,
            total,
        }
    }

    fn at(&self, sent: u64) -> Progress {
        let elapsed = self.started.elapsed().as_secs_f64().max(0.001);
        Progress::Uploading {
            bytes_sent: sent,
            bytes_total: self.total,
            bytes_per_second: (sent.saturating_sub(self.from) as f64 / elapsed) as u64,
        }
    }
}

/// The certificates of a PEM file from `ticket_api.ca_files`, for the client's trust store.
pub fn load_ca_file(path: &Path) -> Result<Vec<reqwest::Certificate>, CaFileError> {
    let certs = callsupport_config::ca_certificates(path)?;
    certs
        .iter()
        .map(|der| reqwest::Certificate::from_der(der))
        .collect::<Result<_, _>>()
        .map_err(|err| CaFileError::NotPem {
            path: path.to_path_buf(),
            detail: err.to_string(),
        })
}

/// Whether a transport error is the server's certificate being refused: waiting cannot fix it.
pub fn untrusted_certificate(err: &reqwest::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(error) = cause {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return matches!(
                tls,
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
            );
        }
        // An I/O error carrying another error hands over its *source* as its source, skipping
        // the carried error itself: step into it instead.
        cause = match error
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => error.source(),
        };
    }
    false
}

/// The innermost cause of a transport error, which is what tells the user something.
pub fn describe(err: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let text = cause.to_string();
    if err.is_timeout() {
        format!("timed out ({text})")
    } else if err.is_connect() {
        format!("connection failed ({text})")
    } else {
        text
    }
}

impl Coded for UploadError {
    fn code(&self) -> ErrorCode {
        match self {
            UploadError::MissingToken(_) | UploadError::Untrusted { .. } => {
                ErrorCode::ConfigInvalid
            }
            UploadError::CaFile(err) => err.code(),
            UploadError::Unreachable { .. } => ErrorCode::Unreachable,
            UploadError::Unauthorized { .. } => ErrorCode::Unauthorized,
            UploadError::TooLarge { .. } | UploadError::Rejected { .. } => ErrorCode::Rejected,
            UploadError::Busy { .. } | UploadError::ServerError { .. } => ErrorCode::ServerBusy,
            UploadError::HashMismatch { .. } => ErrorCode::Integrity,
            UploadError::Bundle { .. } => ErrorCode::Io,
            UploadError::Cancelled => ErrorCode::Cancelled,
        }
    }
}
