//! Per-client rate limit on submissions: a token bucket per submit token (or per address when
//! the server takes anonymous reports). Over the limit, the answer is `429` with `Retry-After`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many submissions a client may make: `per_minute` on average, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_minute: u32,
    pub burst: u32,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct Limiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    pub fn new(limit: RateLimit) -> Limiter {
        Limiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one submission for `client`, or says how long until one is allowed.
    pub fn take(&self, client: &str, now: Instant) -> Result<(), Duration> {
        let rate = f64::from(self.limit.per_minute.max(1)) / 60.0;
        let burst = f64::from(self.limit.burst.max(1));
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        // Forget clients whose bucket is full again, so the map stays small.
        if buckets.len() > 10_000 {
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(client.to_owned()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        bucket.tokens =
            (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_average_rate() {
        let limiter = Limiter::new(RateLimit {
            per_minute: 60,
            burst: 3,
        });
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.take("a", start), Ok(()));
        }
        let wait = limiter.take("a", start).unwrap_err();
        assert!(wait > Duration::from_millis(990) && wait <= Duration::from_secs(1));
        assert_eq!(
            limiter.take("b", start),
            Ok(()),
            "clients are counted apart"
        );
        assert_eq!(limiter.take("a", start + Duration::from_secs(1)), Ok(()));
        assert!(limiter.take("a", start + Duration::from_secs(1)).is_err());
    }
}
