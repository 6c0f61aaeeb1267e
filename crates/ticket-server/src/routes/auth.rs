//! Who may call: the submit and agent tokens (compared as SHA-256 digests), the admission of a
//! report (token, `Idempotency-Key`, rate limit per client address), and the [`Agent`] extractor
//! (lookups limited per address, agent token).

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use callsupport_bundle::ticket::IDEMPOTENCY_KEY;
use uuid::Uuid;

use super::{AppState, Shared};
use crate::limit::Limiter;
use crate::problem::ApiProblem;
use crate::secret::Secret;
use crate::store::Stored;

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

/// Takes one request of `peer` from `limiter`, or says when to come back.
pub(crate) fn limited(
    state: &AppState,
    limiter: Option<&Limiter>,
    peer: SocketAddr,
    headers: &HeaderMap,
    what: &str,
) -> Result<(), ApiProblem> {
    let Some(limiter) = limiter else {
        return Ok(());
    };
    let client = state.proxies.client_key(peer.ip(), headers);
    limiter.take(&client, Instant::now()).map_err(|wait| {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        ApiProblem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many {what} from this address; try again in {secs} s"),
        )
        .retry_after(secs)
    })
}

/// A report let in: new, or one whose `Idempotency-Key` is already a ticket.
pub(super) enum Admitted {
    New(Uuid),
    /// Answered with the first ticket and never refused for rate: the client only lost the answer.
    Repeat(Stored),
}

/// Token, `Idempotency-Key` and rate limit (per client address) of a report.
pub(super) async fn admit(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<Admitted, ApiProblem> {
    check_submit_token(state, headers)?;
    let key = headers
        .get(IDEMPOTENCY_KEY)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiProblem::bad_request(
                "idempotency_key_missing",
                "send the bundle id as the Idempotency-Key header",
            )
        })?;
    let key = Uuid::parse_str(key.trim()).map_err(|_| {
        ApiProblem::bad_request(
            "idempotency_key_invalid",
            "Idempotency-Key must be the bundle id (a UUID)",
        )
    })?;
    if let Some(stored) = state
        .store
        .stored(&key.to_string())
        .await
        .map_err(ApiProblem::internal)?
    {
        return Ok(Admitted::Repeat(stored));
    }
    limited(state, state.limiter.as_ref(), peer, headers, "reports")?;
    Ok(Admitted::New(key))
}

/// An agent: the caller's address within its lookup limit, then the agent token.
pub struct Agent;

impl FromRequestParts<Shared> for Agent {
    type Rejection = ApiProblem;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Agent, ApiProblem> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| *peer)
            .ok_or_else(|| ApiProblem::internal("the peer's address is unknown"))?;
        limited(
            state,
            state.lookups.as_ref(),
            peer,
            &parts.headers,
            "requests",
        )?;
        agent(state, &parts.headers)?;
        Ok(Agent)
    }
}

fn agent(state: &AppState, headers: &HeaderMap) -> Result<(), ApiProblem> {
    match state.agent_token.as_ref() {
        None => Err(ApiProblem::new(
            StatusCode::FORBIDDEN,
            "agent_access_off",
            "agent access is off; start the server with --agent-token",
        )),
        Some(token) => check_token(headers, Some(token), "agent"),
    }
}
