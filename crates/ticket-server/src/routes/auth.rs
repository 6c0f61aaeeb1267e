//! Who may call: the submit and agent tokens (compared as SHA-256 digests), and the admission of a
//! report (rate limit per client, token, `Idempotency-Key`).

use std::net::SocketAddr;
use std::time::Instant;

use axum::http::{HeaderMap, StatusCode, header};
use callsupport_bundle::ticket::IDEMPOTENCY_KEY;
use uuid::Uuid;

use super::AppState;
use crate::problem::ApiProblem;
use crate::secret::Secret;

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn check_token(
    headers: &HeaderMap,
    expected: Option<&Secret>,
    who: &str,
) -> Result<(), ApiProblem> {
    let Some(expected) = expected else {
        return Ok(());
    };
    match bearer(headers) {
        Some(token) if expected.matches(token) => Ok(()),
        Some(_) => Err(ApiProblem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            format!("the {who} token is not valid"),
        )),
        None => Err(ApiProblem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            format!("send the {who} token as `Authorization: Bearer <token>`"),
        )),
    }
}

/// The submit token, when the server asks for one.
pub(crate) fn check_submit_token(state: &AppState, headers: &HeaderMap) -> Result<(), ApiProblem> {
    check_token(headers, state.submit_token.as_ref(), "submit")
}

/// Token, rate limit and `Idempotency-Key` of a report: the key when it may go on.
pub(super) fn admit(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<Uuid, ApiProblem> {
    check_submit_token(state, headers)?;
    if let Some(limiter) = &state.limiter {
        // Per token when reports need one, else per address.
        let client = match &state.submit_token {
            Some(secret) => secret.label(),
            None => peer.ip().to_string(),
        };
        if let Err(wait) = limiter.take(&client, Instant::now()) {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            return Err(ApiProblem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many reports from this client; try again in {secs} s"),
            )
            .retry_after(secs));
        }
    }
    let key = headers
        .get(IDEMPOTENCY_KEY)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiProblem::bad_request(
                "idempotency_key_missing",
                "send the bundle id as the Idempotency-Key header",
            )
        })?;
    Uuid::parse_str(key.trim()).map_err(|_| {
        ApiProblem::bad_request(
            "idempotency_key_invalid",
            "Idempotency-Key must be the bundle id (a UUID)",
        )
    })
}

pub(super) fn agent(state: &AppState, headers: &HeaderMap) -> Result<(), ApiProblem> {
    match state.agent_token.as_ref() {
        None => Err(ApiProblem::new(
            StatusCode::FORBIDDEN,
            "agent_access_off",
            "agent access is off; start the server with --agent-token",
        )),
        Some(token) => check_token(headers, Some(token), "agent"),
    }
}
