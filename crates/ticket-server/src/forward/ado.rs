//! An Azure DevOps client for the three things forwarding does, per Microsoft's Work Item Tracking
//! REST reference (api-version 7.1): create a work item (`POST …/_apis/wit/workitems/${type}`, a
//! JSON Patch document sent as `application/json-patch+json`), upload an attachment
//! (`POST …/_apis/wit/attachments`, whole, or started with `uploadType=Chunked` and sent in
//! `PUT …/attachments/{id}` pieces with `Content-Range`), and add a relation to the work item
//! (`PATCH …/workitems/{id}`, `/relations/-`). Authentication is a personal access token as Basic.
//! A refusal carries the service's error envelope (`typeKey`, `message`) and, on `429` or `503`,
//! how long to wait (`Retry-After`, else `X-RateLimit-Reset`).

use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

/// The REST API version every request names.
pub const API_VERSION: &str = "7.1";
const JSON_PATCH: &str = "application/json-patch+json";
const OCTETS: &str = "application/octet-stream";

/// Where work items go, and how.
#[derive(Debug, Clone)]
pub struct AzureDevOps {
    /// The organisation's URL, e.g. `https://dev.azure.com/contoso` (or a server's collection).
    pub organization_url: String,
    pub project: String,
    /// The work item type made for each ticket, e.g. `Bug`.
    pub work_item_type: String,
    /// The area path set on each work item, if any.
    pub area_path: Option<String>,
    /// A personal access token with the Work Items (Read & Write) scope.
    pub token: String,
    /// Bundles up to this size are attached to the work item; larger ones are linked.
    pub attachment_limit_bytes: u64,
    /// Attachments over this size go up in pieces of this size (the chunked upload).
    pub chunk_bytes: u64,
}

/// Why a request to Azure DevOps failed.
#[derive(Debug, thiserror::Error)]
pub enum AdoError {
    #[error("cannot reach Azure DevOps: {0}")]
    Unreachable(String),
    #[error("Azure DevOps answered {status}{}: {message}", type_key.as_deref().map(|k| format!(" {k}")).unwrap_or_default())]
    Refused {
        status: u16,
        type_key: Option<String>,
        message: String,
        /// How long the service asked us to wait.
        retry_after: Option<Duration>,
    },
    #[error("cannot read the bundle: {0}")]
    Bundle(String),
}

impl AdoError {
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            AdoError::Refused { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// A work item as the service gave it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkItem {
    pub id: i64,
    /// Where a person opens it (`_links.html.href`), else its API URL.
    pub url: String,
}

/// The error envelope of Azure DevOps.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    message: Option<String>,
    type_key: Option<String>,
}

/// What `Attachments - Create` answers: the attachment's id and URL.
#[derive(Deserialize)]
struct AttachmentReference {
    id: String,
    url: String,
}

/// The fields of a new work item.
pub struct NewWorkItem<'a> {
    pub title: &'a str,
    /// HTML: what the user said, the calls, the versions, the ticket's link.
    pub description: &'a str,
    pub tags: &'a str,
}

pub struct Client {
    http: reqwest::Client,
    config: AzureDevOps,
}

impl Client {
    pub fn new(config: AzureDevOps) -> anyhow::Result<Client> {
        let organization = url::Url::parse(&config.organization_url).map_err(|err| {
            anyhow::anyhow!(
                "the Azure DevOps organisation `{}` is not a URL ({err}); give e.g. https://dev.azure.com/contoso",
                config.organization_url
            )
        })?;
        let loopback = matches!(
            organization.host_str(),
            Some("127.0.0.1" | "localhost" | "[::1]")
        );
        anyhow::ensure!(
            organization.scheme() == "https" || (organization.scheme() == "http" && loopback),
            "the Azure DevOps organisation `{}` must be https: the token would cross the network in clear",
            config.organization_url
        );
        anyhow::ensure!(
            !config.project.trim().is_empty() && !config.token.trim().is_empty(),
            "forwarding to Azure DevOps needs a project and a personal access token"
        );
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(60))
            .user_agent(concat!(
                "callsupport-ticket-server/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()?;
        Ok(Client { http, config })
    }

    pub fn config(&self) -> &AzureDevOps {
        &self.config
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/{}/_apis/wit/{path}",
            self.config.organization_url.trim_end_matches('/'),
            urlencode(&self.config.project)
        )
    }

    /// A request to `url` with `query` and the API version, authenticated with the token.
    fn request(
        &self,
        method: Method,
        url: &str,
        query: &[(&str, &str)],
    ) -> reqwest::RequestBuilder {
        let basic = STANDARD.encode(format!(":{}", self.config.token));
        let mut url = url::Url::parse(url).expect("the organisation URL was checked at start");
        url.query_pairs_mut()
            .extend_pairs(query)
            .append_pair("api-version", API_VERSION);
        self.http
            .request(method, url)
            .header(AUTHORIZATION, format!("Basic {basic}"))
            .header(reqwest::header::ACCEPT, "application/json")
    }

    /// Creates a work item of the configured type and area.
    pub async fn create_work_item(&self, item: &NewWorkItem<'_>) -> Result<WorkItem, AdoError> {
        let description_field = if self.config.work_item_type.eq_ignore_ascii_case("Bug") {
            "/fields/Microsoft.VSTS.TCM.ReproSteps"
        } else {
            "/fields/System.Description"
        };
        let mut patch = vec![
            json!({"op": "add", "path": "/fields/System.Title", "value": item.title}),
            json!({"op": "add", "path": description_field, "value": item.description}),
            json!({"op": "add", "path": "/fields/System.Tags", "value": item.tags}),
        ];
        if let Some(area) = &self.config.area_path {
            patch.push(json!({"op": "add", "path": "/fields/System.AreaPath", "value": area}));
        }
        let url = self.url(&format!(
            "workitems/${}",
            urlencode(&self.config.work_item_type)
        ));
        let answer = self
            .send(
                self.request(Method::POST, &url, &[])
                    .header(CONTENT_TYPE, JSON_PATCH)
                    .body(Value::Array(patch).to_string()),
            )
            .await?;
        let id = answer["id"]
            .as_i64()
            .ok_or_else(|| unreadable("work item", &answer))?;
        let url = answer["_links"]["html"]["href"]
            .as_str()
            .or_else(|| answer["url"].as_str())
            .ok_or_else(|| unreadable("work item", &answer))?
            .to_owned();
        Ok(WorkItem { id, url })
    }

    /// Uploads `body` (`length` bytes) whole as an attachment named `file_name`; its URL.
    pub async fn upload_attachment(
        &self,
        file_name: &str,
        length: u64,
        body: reqwest::Body,
    ) -> Result<String, AdoError> {
        let request = self
            .request(
                Method::POST,
                &self.url("attachments"),
                &self.attachment_query(file_name, "Simple"),
            )
            .header(CONTENT_TYPE, OCTETS)
            .header(reqwest::header::CONTENT_LENGTH, length)
            .body(body);
        let answer = self.send(request).await?;
        Ok(reference(&answer)?.url)
    }

    /// Starts a chunked upload of an attachment named `file_name`; its id and URL.
    pub async fn start_chunked_attachment(
        &self,
        file_name: &str,
    ) -> Result<(String, String), AdoError> {
        let request = self
            .request(
                Method::POST,
                &self.url("attachments"),
                &self.attachment_query(file_name, "Chunked"),
            )
            .header(CONTENT_TYPE, OCTETS)
            .header(reqwest::header::CONTENT_LENGTH, 0);
        let answer = self.send(request).await?;
        let reference = reference(&answer)?;
        Ok((reference.id, reference.url))
    }

    /// Sends bytes `start..start + piece.len()` of a `total`-byte chunked attachment.
    pub async fn upload_chunk(
        &self,
        id: &str,
        file_name: &str,
        start: u64,
        total: u64,
        piece: bytes::Bytes,
    ) -> Result<(), AdoError> {
        let end = start + piece.len() as u64 - 1;
        let request = self
            .request(
                Method::PUT,
                &self.url(&format!("attachments/{id}")),
                &[("fileName", file_name), ("uploadType", "Chunked")],
            )
            .header(CONTENT_TYPE, OCTETS)
            .header("Content-Range", format!("bytes {start}-{end}/{total}"))
            .body(piece);
        self.send(request).await.map(drop)
    }

    /// Adds a relation (`AttachedFile` or `Hyperlink`) to a work item.
    pub async fn add_relation(
        &self,
        work_item: i64,
        rel: &str,
        url: &str,
        comment: &str,
    ) -> Result<(), AdoError> {
        let patch = json!([{
            "op": "add",
            "path": "/relations/-",
            "value": {"rel": rel, "url": url, "attributes": {"comment": comment}}
        }]);
        let request = self
            .request(
                Method::PATCH,
                &self.url(&format!("workitems/{work_item}")),
                &[],
            )
            .header(CONTENT_TYPE, JSON_PATCH)
            .body(patch.to_string());
        self.send(request).await.map(drop)
    }

    /// `fileName`, `uploadType` and, when configured, `areaPath`.
    fn attachment_query<'a>(
        &'a self,
        file_name: &'a str,
        upload_type: &'a str,
    ) -> Vec<(&'a str, &'a str)> {
        let mut query = vec![("fileName", file_name), ("uploadType", upload_type)];
        if let Some(area) = &self.config.area_path {
            query.push(("areaPath", area));
        }
        query
    }

    /// Sends a request; its JSON answer, or the refusal with the service's own words.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value, AdoError> {
        let response = request
            .send()
            .await
            .map_err(|err| AdoError::Unreachable(innermost(&err)))?;
        let status = response.status();
        let retry_after = wait_asked(response.headers(), SystemTime::now());
        if let Some(resource) = response.headers().get("x-ratelimit-resource") {
            tracing::info!(
                status = status.as_u16(),
                resource = resource.to_str().unwrap_or_default(),
                remaining = response
                    .headers()
                    .get("x-ratelimit-remaining")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default(),
                "Azure DevOps rate limit"
            );
        }
        let text = response
            .text()
            .await
            .map_err(|err| AdoError::Unreachable(innermost(&err)))?;
        if status.is_success() {
            return Ok(serde_json::from_str(&text).unwrap_or(Value::Null));
        }
        let envelope: Option<Envelope> = serde_json::from_str(&text).ok();
        let message = envelope
            .as_ref()
            .and_then(|e| e.message.clone())
            .unwrap_or_else(|| text.chars().take(300).collect());
        Err(AdoError::Refused {
            status: status.as_u16(),
            type_key: envelope.and_then(|e| e.type_key),
            message,
            retry_after: matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            )
            .then_some(retry_after)
            .flatten(),
        })
    }
}

/// The longest pause an answer may ask for: a day. A larger one (a broken or hostile proxy's
/// `Retry-After: 18446744073709551615`) would otherwise overflow the time of the next attempt.
const LONGEST_ASKED: Duration = Duration::from_secs(24 * 60 * 60);

/// The pause a rate-limited answer asks for: `Retry-After` in seconds, else until
/// `X-RateLimit-Reset` (seconds since the epoch); at most [`LONGEST_ASKED`].
fn wait_asked(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    asked(headers, now).map(|wait| wait.min(LONGEST_ASKED))
}

fn asked(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let number = |name| {
        headers
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    if let Some(seconds) = number(RETRY_AFTER.as_str()) {
        return Some(Duration::from_secs(seconds));
    }
    let reset = number("x-ratelimit-reset")?;
    let now = now.duration_since(SystemTime::UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(reset.saturating_sub(now)))
}

fn reference(answer: &Value) -> Result<AttachmentReference, AdoError> {
    serde_json::from_value(answer.clone()).map_err(|_| unreadable("attachment", answer))
}

fn unreadable(what: &str, answer: &Value) -> AdoError {
    AdoError::Refused {
        status: 200,
        type_key: None,
        message: format!(
            "the {what} it gave back is not what the REST reference describes: {}",
            answer.to_string().chars().take(200).collect::<String>()
        ),
        retry_after: None,
    }
}

fn innermost(err: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_comes_from_retry_after_else_the_reset() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let mut headers = HeaderMap::new();
        assert_eq!(wait_asked(&headers, now), None);
        headers.insert("x-ratelimit-reset", "1030".parse().unwrap());
        assert_eq!(wait_asked(&headers, now), Some(Duration::from_secs(30)));
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(wait_asked(&headers, now), Some(Duration::from_secs(7)));
    }

    #[test]
    fn a_wait_past_a_day_is_cut_to_a_day_and_the_next_attempt_can_be_dated() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, u64::MAX.to_string().parse().unwrap());
        let wait = wait_asked(&headers, now).unwrap();
        assert_eq!(wait, LONGEST_ASKED);
        // What the forwarding task does with it must not overflow.
        let next = chrono::Utc::now() + chrono::TimeDelta::from_std(wait).unwrap();
        assert!(next > chrono::Utc::now());
        headers.remove(RETRY_AFTER);
        headers.insert("x-ratelimit-reset", u64::MAX.to_string().parse().unwrap());
        assert_eq!(wait_asked(&headers, now), Some(LONGEST_ASKED));
    }

    #[test]
    fn names_with_spaces_stay_one_path_segment() {
        assert_eq!(urlencode("Product Bug"), "Product%20Bug");
        assert_eq!(urlencode("Fabrikam Fiber"), "Fabrikam%20Fiber");
    }
}
