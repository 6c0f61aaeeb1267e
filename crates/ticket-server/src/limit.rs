//! Limits per client address: a token bucket of requests ([`Limiter`]; over it, the answer is
//! `429` with `Retry-After`), and [`Slots`] for bundles arriving at once, in all and per address.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
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

/// How many bundles may arrive in one request each at the same time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intake {
    /// In all.
    pub at_once: usize,
    /// From one client address.
    pub per_client: usize,
}

impl Default for Intake {
    fn default() -> Intake {
        Intake {
            at_once: 64,
            per_client: 4,
        }
    }
}

/// Why no slot was free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// The server takes `Intake::at_once` already.
    Server,
    /// This address sends `Intake::per_client` already.
    Client,
}

/// Slots taken, per client address (an address holding none is not kept).
type Taken = Arc<Mutex<HashMap<String, usize>>>;

/// Slots for bundles arriving at once, taken per client address.
pub struct Slots {
    intake: Intake,
    taken: Taken,
}

/// A slot held until dropped.
pub struct Slot {
    taken: Taken,
    client: String,
}

impl Slots {
    pub fn new(intake: Intake) -> Slots {
        Slots {
            intake,
            taken: Arc::default(),
        }
    }

    /// A slot for `client`, if one is free.
    pub fn take(&self, client: &str) -> Result<Slot, Full> {
        let mut taken = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        if taken.values().sum::<usize>() >= self.intake.at_once {
            return Err(Full::Server);
        }
        let mine = taken.entry(client.to_owned()).or_default();
        if *mine >= self.intake.per_client {
            return Err(Full::Client);
        }
        *mine += 1;
        Ok(Slot {
            taken: self.taken.clone(),
            client: client.to_owned(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut taken = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(mine) = taken.get_mut(&self.client) {
            *mine -= 1;
            if *mine == 0 {
                taken.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_in_all_and_per_client_and_given_back() {
        let slots = Slots::new(Intake {
            at_once: 3,
            per_client: 2,
        });
        let a1 = slots.take("a").unwrap();
        let _a2 = slots.take("a").unwrap();
        assert_eq!(slots.take("a").err(), Some(Full::Client));
        let _b1 = slots.take("b").unwrap();
        assert_eq!(slots.take("c").err(), Some(Full::Server));
        drop(a1);
        assert!(slots.take("c").is_ok(), "a slot given back is free again");
        assert_eq!(slots.taken.lock().unwrap().get("c"), None, "and forgotten");
    }

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
