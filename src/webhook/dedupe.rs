//! A bounded, time-limited memory of webhook ids this process has already made durable.
//! Shopify repeats `X-Shopify-Webhook-Id` on every retry of one delivery; answering a retry
//! without publishing again saves the worker a snapshot. Only ids whose publish was confirmed
//! are remembered, so a delivery that got a 503 is published when Shopify retries it.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lru::LruCache;

pub struct Dedupe {
    seen: Mutex<LruCache<String, Instant>>,
    ttl: Duration,
}

impl Dedupe {
    pub fn new(capacity: NonZeroUsize, ttl: Duration) -> Self {
        Self {
            seen: Mutex::new(LruCache::new(capacity)),
            ttl,
        }
    }

    /// Whether `id` was remembered less than the TTL before `now`.
    pub fn seen(&self, id: &str, now: Instant) -> bool {
        let mut seen = self.seen.lock().expect("dedupe lock");
        match seen.get(id) {
            Some(at) if now.saturating_duration_since(*at) < self.ttl => true,
            Some(_) => {
                seen.pop(id);
                false
            }
            None => false,
        }
    }

    pub fn remember(&self, id: &str, now: Instant) {
        self.seen
            .lock()
            .expect("dedupe lock")
            .put(id.to_owned(), now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_until_the_ttl() {
        let d = Dedupe::new(NonZeroUsize::new(10).unwrap(), Duration::from_secs(3600));
        let t0 = Instant::now();
        assert!(!d.seen("a", t0));
        d.remember("a", t0);
        assert!(d.seen("a", t0 + Duration::from_secs(3599)));
        assert!(!d.seen("a", t0 + Duration::from_secs(3600)));
    }

    #[test]
    fn forgets_the_oldest_past_capacity() {
        let d = Dedupe::new(NonZeroUsize::new(2).unwrap(), Duration::from_secs(3600));
        let t = Instant::now();
        for id in ["a", "b", "c"] {
            d.remember(id, t);
        }
        assert!(!d.seen("a", t));
        assert!(d.seen("b", t) && d.seen("c", t));
    }
}
