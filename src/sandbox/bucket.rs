//! Shopify's leaky bucket, per shop: a query needs its requested cost in the bucket before it
//! runs, the difference to its actual cost is refunded afterwards, and the bucket refills at the
//! restore rate. Time is an argument (the server passes a monotonic `Instant`).

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::shopify::throttle::ThrottleStatus;

/// Bucket size and restore rate. Default: the standard plan (2,000 points, 100 points/s).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BucketConfig {
    pub maximum_available: f64,
    pub restore_rate: f64,
}

impl Default for BucketConfig {
    fn default() -> Self {
        Self {
            maximum_available: 2000.0,
            restore_rate: 100.0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Bucket {
    config: BucketConfig,
    available: f64,
    at: Instant,
}

impl Bucket {
    pub fn new(config: BucketConfig, now: Instant) -> Self {
        Self {
            config,
            available: config.maximum_available,
            at: now,
        }
    }

    /// Takes `requested` points if the bucket holds them; otherwise takes nothing.
    pub fn try_take(&mut self, requested: f64, now: Instant) -> bool {
        self.refill(now);
        if self.available >= requested {
            self.available -= requested;
            true
        } else {
            false
        }
    }

    /// Gives back what a query was charged but did not use.
    pub fn refund(&mut self, points: f64, now: Instant) {
        self.refill(now);
        self.available = (self.available + points.max(0.0)).min(self.config.maximum_available);
    }

    pub fn status(&mut self, now: Instant) -> ThrottleStatus {
        self.refill(now);
        ThrottleStatus {
            maximum_available: self.config.maximum_available,
            // Shopify reports whole points.
            currently_available: self.available.floor(),
            restore_rate: self.config.restore_rate,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.available = (self.available + elapsed * self.config.restore_rate)
            .min(self.config.maximum_available);
        self.at = self.at.max(now);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_query_runs_only_when_the_bucket_holds_its_requested_cost() {
        let t0 = Instant::now();
        let mut b = Bucket::new(
            BucketConfig {
                maximum_available: 100.0,
                restore_rate: 10.0,
            },
            t0,
        );
        assert!(b.try_take(80.0, t0));
        assert!(!b.try_take(80.0, t0), "20 left");
        assert!(
            b.try_take(80.0, t0 + Duration::from_secs(6)),
            "20 + 60 refilled"
        );
    }

    #[test]
    fn the_unused_part_is_refunded_up_to_the_maximum() {
        let t0 = Instant::now();
        let mut b = Bucket::new(
            BucketConfig {
                maximum_available: 100.0,
                restore_rate: 10.0,
            },
            t0,
        );
        assert!(b.try_take(90.0, t0));
        b.refund(85.0, t0);
        assert_eq!(b.status(t0).currently_available, 95.0);
        b.refund(50.0, t0);
        assert_eq!(b.status(t0).currently_available, 100.0);
    }
}
