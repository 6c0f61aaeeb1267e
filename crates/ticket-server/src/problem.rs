//! RFC 9457 problem responses with the machine-readable `code` the client maps to its errors.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use callsupport_bundle::ticket::{PROBLEM_JSON, Problem};

/// An error answer: status, code and a sentence that says what to do.
#[derive(Debug)]
pub struct ApiProblem {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub retry_after: Option<u64>,
}

impl ApiProblem {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiProblem {
        ApiProblem {
            status,
            code,
            detail: detail.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> ApiProblem {
        ApiProblem::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> ApiProblem {
        ApiProblem::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    /// Tells the client when to try again (`Retry-After`, in seconds).
    pub fn retry_after(mut self, seconds: u64) -> ApiProblem {
        self.retry_after = Some(seconds);
        self
    }

    /// `408 body_timeout` when `err` is the body sending nothing for the server's idle time.
    pub fn body_timed_out(
        err: &(dyn std::error::Error + 'static),
        what: &str,
    ) -> Option<ApiProblem> {
        let mut cause = Some(err);
        while let Some(at) = cause {
            if at.is::<tower_http::timeout::TimeoutError>() {
                return Some(ApiProblem::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "body_timeout",
                    format!("{what} stopped coming: no data for too long; send it again"),
                ));
            }
            cause = at.source();
        }
        None
    }

    /// The request body stopped coming ([`ApiProblem::body_timed_out`]), or broke off: `400` with
    /// `code` and what broke.
    pub fn body_broken(
        code: &'static str,
        err: &(dyn std::error::Error + 'static),
        what: &str,
    ) -> ApiProblem {
        ApiProblem::body_timed_out(err, what)
            .unwrap_or_else(|| ApiProblem::bad_request(code, format!("{what} broke off: {err}")))
    }

    /// `507 insufficient_storage`: the disk has no room for `what` now.
    pub fn insufficient_storage(what: &str) -> ApiProblem {
        ApiProblem::new(
            StatusCode::INSUFFICIENT_STORAGE,
            "insufficient_storage",
            format!("the server has no room for {what} now; try again later"),
        )
        .retry_after(300)
    }

    /// The server failed. What failed (paths, queries, the store's words) goes to the server's
    /// log under an incident number, and only the number to the client.
    pub fn internal(detail: impl std::fmt::Display) -> ApiProblem {
        let incident = uuid::Uuid::now_v7().simple().to_string()[20..].to_owned();
        tracing::error!(incident, "the server failed: {detail}");
        ApiProblem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!(
                "the server failed; its log has what happened under incident {incident}, try again later"
            ),
        )
    }
}

impl IntoResponse for ApiProblem {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let body = Problem::new(self.status.as_u16(), self.code, title, self.detail);
        let mut response = (
            self.status,
            serde_json::to_string(&body).expect("problem serializes"),
        )
            .into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
