//! A local stand-in for Azure DevOps (which cannot be reached from here), written from Microsoft's
//! Work Item Tracking REST reference, api-version 7.1:
//!
//! - `POST /{org}/{project}/_apis/wit/workitems/${type}`: a JSON Patch document
//!   (`application/json-patch+json`) of `add` operations on `/fields/…`; answers the work item
//!   with `id`, `rev`, `fields`, `url` and `_links.html.href`.
//! - `POST /{org}/{project}/_apis/wit/attachments?fileName=…&uploadType=Simple|Chunked`: the bytes
//!   as `application/octet-stream` (none to start a chunked upload); answers `{id, url}`.
//! - `PUT /{org}/{project}/_apis/wit/attachments/{id}?fileName=…&uploadType=Chunked`: one piece,
//!   placed by `Content-Range: bytes first-last/total`.
//! - `PATCH /{org}/{project}/_apis/wit/workitems/{id}`: JSON Patch adding `/relations/-` with
//!   `rel` (`AttachedFile`, `Hyperlink`), `url` and `attributes.comment`.
//! - Authentication: a personal access token as Basic (`:token`); refusals as the error envelope
//!   (`$id`, `innerException`, `message`, `typeName`, `typeKey`, `errorCode`, `eventId`); rate
//!   limiting as `429` with `Retry-After` and the `X-RateLimit-*` headers.
//!
//! Every request is recorded as it arrived, so a test can keep them as a fixture a reader can
//! hold against the reference.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use tokio::net::TcpListener;

pub const PAT: &str = "stand-in-personal-access-token";
pub const ORGANIZATION: &str = "contoso";
pub const PROJECT: &str = "Fabrikam Fiber";

/// A refusal the stand-in gives instead of handling the next matching request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// `429` with `Retry-After: seconds` and the rate-limit headers.
    RateLimited { seconds: u64 },
    /// An error envelope with this status and type key.
    Refuse {
        status: u16,
        type_key: &'static str,
        message: &'static str,
    },
}

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub at: Instant,
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: BTreeMap<String, String>,
    pub body: Bytes,
    /// The status it was answered with.
    pub status: u16,
}

#[derive(Debug, Clone, Default)]
pub struct WorkItem {
    pub fields: BTreeMap<String, Value>,
    pub relations: Vec<Value>,
}

#[derive(Debug, Clone, Default)]
pub struct Attachment {
    pub file_name: String,
    pub bytes: Vec<u8>,
    /// For a chunked upload, the size it announced; done when the bytes reach it.
    pub total: Option<u64>,
}

#[derive(Default)]
pub struct Inner {
    pub work_items: BTreeMap<i64, WorkItem>,
    pub attachments: BTreeMap<String, Attachment>,
    pub recorded: Vec<Recorded>,
    /// Faults for the next requests whose method and path start match: (method, path part).
    faults: VecDeque<(Method, &'static str, Fault)>,
}

#[derive(Clone)]
pub struct StandIn {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<Inner>>,
}

impl StandIn {
    pub async fn start() -> StandIn {
        StandIn::start_on(TcpListener::bind("127.0.0.1:0").await.unwrap())
    }

    pub fn start_on(listener: TcpListener) -> StandIn {
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(Inner::default()));
        let app = axum::Router::new()
            .fallback(handle)
            .with_state((addr, state.clone()));
        tokio::spawn(async move { axum::serve(listener, app).await });
        StandIn { addr, state }
    }

    /// `https://dev.azure.com/contoso`, here.
    pub fn organization_url(&self) -> String {
        format!("http://{}/{ORGANIZATION}", self.addr)
    }

    /// The next `method` request whose path contains `path_part` gets `fault` instead.
    pub fn fail_next(&self, method: Method, path_part: &'static str, fault: Fault) {
        self.state
            .lock()
            .unwrap()
            .faults
            .push_back((method, path_part, fault));
    }

    pub fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.state.lock().unwrap()
    }
}

type Shared = (SocketAddr, Arc<Mutex<Inner>>);

async fn handle(State((addr, state)): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 512 << 20)
        .await
        .unwrap_or_default();
    let path = parts.uri.path().to_owned();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let mut recorded = Recorded {
        at: Instant::now(),
        method: parts.method.to_string(),
        path: path.clone(),
        query: query.clone(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
            .collect(),
        body: body.clone(),
        status: 0,
    };
    let response = {
        let mut inner = state.lock().unwrap();
        let fault = inner
            .faults
            .iter()
            .position(|(method, part, _)| *method == parts.method && path.contains(part))
            .and_then(|at| inner.faults.remove(at))
            .map(|(_, _, fault)| fault);
        match fault {
            Some(fault) => refused(fault),
            None => answer(
                &addr,
                &mut inner,
                &parts.method,
                &path,
                &query,
                &parts.headers,
                &body,
            ),
        }
    };
    recorded.status = response.status().as_u16();
    state.lock().unwrap().recorded.push(recorded);
    response
}

/// The error envelope Azure DevOps answers with.
fn envelope(status: u16, type_key: &str, message: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json; charset=utf-8")],
        json!({
            "$id": "1",
            "innerException": null,
            "message": message,
            "typeName": format!("Microsoft.TeamFoundation.WorkItemTracking.Server.{type_key}, Microsoft.TeamFoundation.WorkItemTracking.Server"),
            "typeKey": type_key,
            "errorCode": 0,
            "eventId": 3200
        })
        .to_string(),
    )
        .into_response()
}

fn refused(fault: Fault) -> Response {
    match fault {
        Fault::RateLimited { seconds } => {
            let reset = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                + seconds;
            let mut response = envelope(
                429,
                "RequestBlockedException",
                "Request was blocked due to exceeding usage of resource 'WorkItemTracking' in namespace 'User'.",
            );
            let headers = response.headers_mut();
            headers.insert("retry-after", seconds.to_string().parse().unwrap());
            headers.insert("x-ratelimit-resource", "WorkItemTracking".parse().unwrap());
            headers.insert("x-ratelimit-delay", "0.5".parse().unwrap());
            headers.insert("x-ratelimit-limit", "200".parse().unwrap());
            headers.insert("x-ratelimit-remaining", "0".parse().unwrap());
            headers.insert("x-ratelimit-reset", reset.to_string().parse().unwrap());
            response
        }
        Fault::Refuse {
            status,
            type_key,
            message,
        } => envelope(status, type_key, message),
    }
}

fn answer(
    addr: &SocketAddr,
    inner: &mut Inner,
    method: &Method,
    path: &str,
    query: &[(String, String)],
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let expected = format!("Basic {}", STANDARD.encode(format!(":{PAT}")));
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return envelope(
            401,
            "UnauthorizedRequestException",
            "TF400813: The user is not authorized to access this resource.",
        );
    }
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    if param("api-version").as_deref() != Some("7.1") {
        return envelope(
            400,
            "VssVersionNotSpecifiedException",
            "No api-version was supplied for the request. An api-version of 7.1 is expected.",
        );
    }
    let prefix = format!("/{ORGANIZATION}/{}/_apis/wit/", PROJECT.replace(' ', "%20"));
    let Some(rest) = path.strip_prefix(&prefix) else {
        return envelope(
            404,
            "ProjectDoesNotExistWithNameException",
            "The project does not exist.",
        );
    };
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let base = format!(
        "http://{addr}/{ORGANIZATION}/{}",
        PROJECT.replace(' ', "%20")
    );
    match (
        method.clone(),
        rest.split('/').collect::<Vec<_>>().as_slice(),
    ) {
        (Method::POST, ["workitems", kind]) if kind.starts_with('$') => {
            let Some(operations) = json_patch(content_type, body) else {
                return envelope(
                    400,
                    "VssRequestContentTypeNotSupportedException",
                    "The request indicated a Content-Type of application/json-patch+json with a JSON Patch array.",
                );
            };
            let mut item = WorkItem::default();
            for op in &operations {
                let Some(field) = op["path"].as_str().and_then(|p| p.strip_prefix("/fields/"))
                else {
                    return envelope(
                        400,
                        "WorkItemPatchException",
                        "Only /fields/ may be set on creation here.",
                    );
                };
                item.fields.insert(field.to_owned(), op["value"].clone());
            }
            if !item.fields.contains_key("System.Title") {
                return envelope(
                    400,
                    "RuleValidationException",
                    "TF401320: Rule Error for field Title. Error code: Required, HasValues, LimitedToValues, AllowsOldValue, InvalidEmpty.",
                );
            }
            let id = inner.work_items.len() as i64 + 1;
            let fields = item.fields.clone();
            inner.work_items.insert(id, item);
            (
                StatusCode::OK,
                axum::Json(json!({
                    "id": id,
                    "rev": 1,
                    "fields": fields,
                    "_links": {"html": {"href": format!("{base}/_workitems/edit/{id}")}},
                    "url": format!("{base}/_apis/wit/workItems/{id}")
                })),
            )
                .into_response()
        }
        (Method::PATCH, ["workitems", id]) => {
            if !id
                .parse()
                .is_ok_and(|id: i64| inner.work_items.contains_key(&id))
            {
                return envelope(
                    404,
                    "WorkItemDoesNotExistException",
                    "TF401232: Work item does not exist.",
                );
            }
            let Some(operations) = json_patch(content_type, body) else {
                return envelope(
                    400,
                    "VssRequestContentTypeNotSupportedException",
                    "The request indicated a Content-Type of application/json-patch+json with a JSON Patch array.",
                );
            };
            for op in &operations {
                let relation = &op["value"];
                let known = match relation["rel"].as_str() {
                    // An attachment of this organisation, complete.
                    Some("AttachedFile") => relation["url"].as_str().is_some_and(|url| {
                        inner.attachments.iter().any(|(id, a)| {
                            url.contains(id.as_str())
                                && a.total.is_none_or(|t| t == a.bytes.len() as u64)
                        })
                    }),
                    Some("Hyperlink") => relation["url"].as_str().is_some(),
                    _ => false,
                };
                if op["path"] != "/relations/-" || !known {
                    return envelope(
                        400,
                        "WorkItemPatchException",
                        "The relation is not one this work item can take.",
                    );
                }
            }
            let id: i64 = id.parse().unwrap();
            let item = inner.work_items.get_mut(&id).unwrap();
            item.relations
                .extend(operations.iter().map(|op| op["value"].clone()));
            (StatusCode::OK, axum::Json(json!({"id": id, "rev": 2}))).into_response()
        }
        (Method::POST, ["attachments"]) => {
            let Some(file_name) = param("fileName") else {
                return envelope(
                    400,
                    "ArgumentNullException",
                    "Value cannot be null. Parameter name: fileName",
                );
            };
            if content_type != "application/octet-stream" {
                return envelope(
                    400,
                    "VssRequestContentTypeNotSupportedException",
                    "Send the file as application/octet-stream.",
                );
            }
            let chunked = param("uploadType").as_deref() == Some("Chunked");
            let id = uuid::Uuid::now_v7().to_string();
            inner.attachments.insert(
                id.clone(),
                Attachment {
                    file_name: file_name.clone(),
                    bytes: if chunked { Vec::new() } else { body.to_vec() },
                    total: chunked.then_some(0),
                },
            );
            (
                StatusCode::CREATED,
                axum::Json(json!({"id": id, "url": format!("{base}/_apis/wit/attachments/{id}?fileName={file_name}")})),
            )
                .into_response()
        }
        (Method::PUT, ["attachments", id]) => {
            let range = headers
                .get("content-range")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_content_range);
            let Some(attachment) = inner.attachments.get_mut(*id) else {
                return envelope(
                    404,
                    "AttachmentNotFoundException",
                    "The attachment does not exist.",
                );
            };
            let Some((first, last, total)) = range else {
                return envelope(
                    400,
                    "InvalidContentRangeException",
                    "Content-Range header not understood.",
                );
            };
            if first != attachment.bytes.len() as u64
                || last + 1 - first != body.len() as u64
                || last >= total
            {
                return envelope(
                    400,
                    "InvalidContentRangeException",
                    "The chunk does not follow the bytes received.",
                );
            }
            attachment.bytes.extend_from_slice(body);
            attachment.total = Some(total);
            (
                StatusCode::CREATED,
                axum::Json(json!({"id": id, "url": format!("{base}/_apis/wit/attachments/{id}?fileName={}", attachment.file_name)})),
            )
                .into_response()
        }
        _ => envelope(
            404,
            "ApiResourceNotFoundException",
            "The resource does not exist.",
        ),
    }
}

fn json_patch(content_type: &str, body: &Bytes) -> Option<Vec<Value>> {
    if !content_type.starts_with("application/json-patch+json") {
        return None;
    }
    let operations: Vec<Value> = serde_json::from_slice(body).ok()?;
    operations
        .iter()
        .all(|op| op["op"] == "add" && op["path"].is_string() && !op["value"].is_null())
        .then_some(operations)
}

fn parse_content_range(value: &str) -> Option<(u64, u64, u64)> {
    let (range, total) = value.strip_prefix("bytes ")?.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    Some((first.parse().ok()?, last.parse().ok()?, total.parse().ok()?))
}
