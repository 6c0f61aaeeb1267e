//! When a failed send is tried again, and how long to wait first.
//!
//! # Brief overview
//!
//! Failures that time can fix are retried: no connection, a connection cut or silent, `408`,
//! `429`, `5xx`. The wait doubles from [`RetryPolicy::base_delay`] up to
//! [`RetryPolicy::max_delay`], and a random half of it is left out ("equal jitter") so a thousand
//! desktops that lost the same server do not come back in step. A `Retry-After` from the server, in
//! seconds or as an HTTP date, is a floor on the wait. Everything else (`400`, `401`, `403`, `413`,
//! `422`, a missing token, an unreadable bundle) goes straight to the user: waiting cannot fix it.

use std::time::{Duration, SystemTime};

use super::UploadError;

/// How often, and how far apart, one delivery is attempted before the report waits in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts, the first included.
    pub attempts: u32,
    /// The wait before the second attempt; it doubles after that.
    pub base_delay: Duration,
    /// The longest wait the doubling reaches.
    pub max_delay: Duration,
    /// A server asking for a longer pause than this ends the attempts; the outbox tries later.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// The policy a ticket API's configuration asks for.
    pub fn for_api(api: &callsupport_config::TicketApiConfig) -> RetryPolicy {
        RetryPolicy {
            attempts: api.retries.saturating_add(1),
            ..RetryPolicy::default()
        }
    }

    /// No second attempt.
    pub fn once() -> RetryPolicy {
        RetryPolicy {
            attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// How long to wait after failed attempt number `attempt` (1-based) before the next one, or
    /// `None` when there is to be no next one. `random` is a fraction in `[0, 1)`.
    pub fn next_delay(&self, attempt: u32, error: &UploadError, random: f64) -> Option<Duration> {
        if attempt >= self.attempts || !error.is_retryable() {
            return None;
        }
        let doubled = self
            .base_delay
            .saturating_mul(1u32.checked_shl(attempt - 1).unwrap_or(u32::MAX))
            .min(self.max_delay);
        let jittered = doubled.mul_f64(0.5 + 0.5 * random.clamp(0.0, 1.0));
        match error.retry_after() {
            Some(asked) if asked > self.max_retry_after => None,
            Some(asked) => Some(asked.max(jittered)),
            None => Some(jittered),
        }
    }
}

impl UploadError {
    /// Whether trying again later can succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            UploadError::Unreachable { .. }
            | UploadError::Busy { .. }
            | UploadError::ServerError { .. } => true,
            UploadError::Rejected { status, .. } => *status == 408,
            UploadError::MissingToken(_)
            | UploadError::Unauthorized { .. }
            | UploadError::TooLarge { .. }
            | UploadError::HashMismatch { .. }
            | UploadError::Untrusted { .. }
            | UploadError::CaFile(_)
            | UploadError::Bundle { .. }
            | UploadError::Cancelled => false,
        }
    }

    /// The pause the server asked for, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            UploadError::Busy { retry_after, .. } => retry_after.map(Duration::from_secs),
            _ => None,
        }
    }
}

/// A `Retry-After` value: delay seconds, or an HTTP date (all three formats RFC 9110 allows).
/// A date in the past means now; anything else unreadable means no advice.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse().ok().map(Duration::from_secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unreachable() -> UploadError {
        UploadError::Unreachable {
            host: "h".into(),
            detail: "connection refused".into(),
        }
    }

    #[test]
    fn waits_double_with_jitter_up_to_the_cap_then_stop() {
        let policy = RetryPolicy {
            attempts: 10,
            ..RetryPolicy::default()
        };
        let low: Vec<u64> = (1..10)
            .map(|n| {
                policy
                    .next_delay(n, &unreachable(), 0.0)
                    .unwrap()
                    .as_millis() as u64
            })
            .collect();
        assert_eq!(
            low,
            [
                500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000
            ]
        );
        let high = policy.next_delay(3, &unreachable(), 0.999).unwrap();
        assert!(high > Duration::from_millis(3_990) && high <= Duration::from_secs(4));
        assert_eq!(
            policy.next_delay(10, &unreachable(), 0.5),
            None,
            "out of attempts"
        );
        assert_eq!(RetryPolicy::once().next_delay(1, &unreachable(), 0.5), None);
    }

    #[test]
    fn what_waiting_cannot_fix_is_not_retried() {
        let policy = RetryPolicy::default();
        for error in [
            UploadError::Unauthorized {
                host: "h".into(),
                detail: "bad token".into(),
            },
            UploadError::TooLarge {
                detail: "limit".into(),
            },
            UploadError::Rejected {
                status: 422,
                code: "corrupt_bundle".into(),
                detail: "d".into(),
            },
            UploadError::Rejected {
                status: 400,
                code: "bad_report".into(),
                detail: "d".into(),
            },
            UploadError::MissingToken("T".into()),
            UploadError::Cancelled,
        ] {
            assert_eq!(policy.next_delay(1, &error, 0.5), None, "{error}");
        }
        let timeout = UploadError::Rejected {
            status: 408,
            code: String::new(),
            detail: "request timeout".into(),
        };
        assert!(policy.next_delay(1, &timeout, 0.5).is_some());
        let failing = UploadError::ServerError {
            status: 502,
            detail: "bad gateway".into(),
        };
        assert!(policy.next_delay(1, &failing, 0.5).is_some());
    }

    #[test]
    fn retry_after_is_a_floor_and_a_long_one_ends_the_attempts() {
        let policy = RetryPolicy::default();
        let busy = |secs| UploadError::Busy {
            retry_after: Some(secs),
            code: "rate_limited".into(),
        };
        assert_eq!(
            policy.next_delay(1, &busy(7), 0.0),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            policy.next_delay(1, &busy(0), 0.0),
            Some(Duration::from_millis(500)),
            "never sooner than the backoff"
        );
        assert_eq!(policy.next_delay(1, &busy(3_600), 0.0), None);
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = httpdate::parse_http_date("Wed, 25 Nov 2026 10:00:00 GMT").unwrap();
        let parse = |v| parse_retry_after(v, now);
        assert_eq!(parse("120"), Some(Duration::from_secs(120)));
        assert_eq!(parse(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            parse("Wed, 25 Nov 2026 10:00:30 GMT"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse("Wednesday, 25-Nov-26 10:01:00 GMT"),
            Some(Duration::from_secs(60)),
            "RFC 850 form"
        );
        assert_eq!(
            parse("Wed Nov 25 10:00:05 2026"),
            Some(Duration::from_secs(5)),
            "asctime form"
        );
        assert_eq!(
            parse("Tue, 24 Nov 2026 10:00:00 GMT"),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(parse("soon"), None);
        assert_eq!(parse("-5"), None);
        assert_eq!(parse(""), None);
    }
}
