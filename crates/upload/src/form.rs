//! The whole bundle in one request: `multipart/form-data` with the report and the bundle.
//!
//! # Brief overview
//!
//! What every ticket API takes. The zip is streamed from disk in 256 KiB reads, each one reported
//! as progress; `false` from the callback breaks the body off and the send ends as cancelled.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::TryStreamExt;
use reqwest::multipart::{Form, Part};
use tokio_util::io::ReaderStream;

use super::{Meter, Sink, UploadError, Uploader, report};
use callsupport_bundle::ticket::{IDEMPOTENCY_KEY, TicketReceipt, TicketRequest};

impl Uploader {
    /// Posts the report and the bundle's `total` bytes as one form; the receipt once checked.
    pub(super) async fn send_form(
        &self,
        bundle: &Path,
        request: &TicketRequest,
        total: u64,
        sink: Sink,
    ) -> Result<TicketReceipt, UploadError> {
        let file = tokio::fs::File::open(bundle)
            .await
            .map_err(|source| UploadError::Bundle {
                path: bundle.display().to_string(),
                source,
            })?;
        let cancelled = Arc::new(AtomicBool::new(false));
        let body = progress_body(file, total, sink, cancelled.clone());

        let report = Part::text(serde_json::to_string(request).expect("request serializes"))
            .mime_str("application/json")
            .expect("valid mime");
        let bundle_part = Part::stream_with_length(body, total)
            .file_name(format!("{}.zip", request.bundle_id))
            .mime_str("application/zip")
            .expect("valid mime");
        let form = Form::new()
            .part("report", report)
            .part("bundle", bundle_part);

        let response = self
            .request(reqwest::Method::POST, self.url.clone())
            .header(IDEMPOTENCY_KEY, request.bundle_id.to_string())
            .header(reqwest::header::ACCEPT, "application/json")
            .multipart(form)
            .send()
            .await
            .map_err(|err| self.transport_error(&err, &cancelled))?;
        self.receipt(response, request).await
    }
}

/// The bundle as a body stream that reports progress and can be stopped.
fn progress_body(
    file: tokio::fs::File,
    total: u64,
    sink: Sink,
    cancelled: Arc<AtomicBool>,
) -> reqwest::Body {
    let meter = Meter::new(0, total);
    let mut sent = 0u64;
    let stream = ReaderStream::with_capacity(file, 256 * 1024).and_then(move |chunk| {
        sent += chunk.len() as u64;
        let result = if report(&sink, meter.at(sent)) {
            Ok(chunk)
        } else {
            cancelled.store(true, Ordering::SeqCst);
            Err(std::io::Error::other("cancelled"))
        };
        std::future::ready(result)
    });
    reqwest::Body::wrap_stream(stream)
}
