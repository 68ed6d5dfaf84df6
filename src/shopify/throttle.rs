//! A local model of Shopify's cost bucket for one shop, so requests wait for room instead of
//! being THROTTLED. Pure: every method takes `now`; the client sleeps, this only computes.
//!
//! Shopify's bucket (per app and shop): before a query runs the bucket must hold its *requested*
//! cost; afterwards the difference to the *actual* cost is refunded; it refills at `restoreRate`
//! points per second up to `maximumAvailable`. Every response reports the real state
//! (`extensions.cost.throttleStatus`), and the model adopts it.
//!
//! Concurrent tasks acquire points before they send; a task that finds too few waits for the
//! refill and asks again, so a burst is spread over time at the restore rate rather than refused.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Assumed until the shop's first response says otherwise: the smallest bucket Shopify has ever
/// given (1,000 points, 50 points/s), so a cold start never overruns a real bucket.
const ASSUMED_MAXIMUM: f64 = 1000.0;
const ASSUMED_RESTORE_RATE: f64 = 50.0;

/// `extensions.cost.throttleStatus`: what the client reads, and what the sandbox reports.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleStatus {
    pub maximum_available: f64,
    pub currently_available: f64,
    pub restore_rate: f64,
}

/// `extensions.cost`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryCost {
    pub requested_query_cost: f64,
    /// Absent when the query did not run (THROTTLED).
    #[serde(default)]
    pub actual_query_cost: Option<f64>,
    pub throttle_status: ThrottleStatus,
}

/// The bucket model for one shop.
#[derive(Debug, Clone)]
pub struct Throttle {
    maximum: f64,
    available: f64,
    restore_rate: f64,
    at: Instant,
    learning: Learning,
}

/// Until a shop's first answer reports its bucket, one request at a time goes out to learn it:
/// a burst at a cold start must not overrun a bucket smaller than assumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Learning {
    Unknown,
    Probing,
    Known,
}

/// How often a task waiting behind the first (probing) request asks again.
const PROBE_POLL: Duration = Duration::from_millis(10);

impl Throttle {
    pub fn new(now: Instant) -> Self {
        Self {
            maximum: ASSUMED_MAXIMUM,
            available: ASSUMED_MAXIMUM,
            restore_rate: ASSUMED_RESTORE_RATE,
            at: now,
            learning: Learning::Unknown,
        }
    }

    /// Points the model believes are available at `now`.
    pub fn available(&mut self, now: Instant) -> f64 {
        self.refill(now);
        self.available
    }

    /// The bucket's size: Shopify's `maximumAvailable` once reported, else the assumed one.
    pub fn maximum(&self) -> f64 {
        self.maximum
    }

    pub fn restore_rate(&self) -> f64 {
        self.restore_rate
    }

    /// Takes `cost` points if the model holds them (`None`: send now); otherwise takes nothing
    /// and says how long until it should. A cost above the bucket's size waits for a full bucket.
    /// Callers wait and ask again rather than queueing a precomputed wait, so a better-known
    /// restore rate (after the first answer) takes effect at once.
    pub fn acquire(&mut self, cost: f64, now: Instant) -> Option<Duration> {
        self.refill(now);
        match self.learning {
            Learning::Probing => return Some(PROBE_POLL),
            Learning::Unknown => self.learning = Learning::Probing,
            Learning::Known => {}
        }
        let cost = cost.min(self.maximum).max(0.0);
        if self.available >= cost {
            self.available -= cost;
            None
        } else {
            Some(Duration::from_secs_f64(
                (cost - self.available) / self.restore_rate,
            ))
        }
    }

    /// Settles a reservation of `reserved` points once the answer is in: refunds what Shopify did
    /// not charge (everything when the query did not run) and adopts the reported state when it is
    /// lower than the model's (the model may still hold other tasks' reservations, so it is only
    /// ever corrected downwards; it refills by itself). The probe's answer is adopted as it is,
    /// higher or not: nothing else is in flight then, and a real bucket larger than the assumed
    /// one would otherwise lose its start-up credit (a full standard bucket: 1,000 points).
    pub fn settle(&mut self, reserved: f64, cost: Option<&QueryCost>, now: Instant) {
        self.refill(now);
        let charged = cost.and_then(|c| c.actual_query_cost).unwrap_or(0.0);
        self.available += (reserved.min(self.maximum) - charged).max(0.0);
        let probe = self.learning == Learning::Probing;
        if cost.is_none() && probe {
            // The probe learnt nothing (network error): let the next request try.
            self.learning = Learning::Unknown;
        }
        if let Some(cost) = cost {
            self.learning = Learning::Known;
            let status = cost.throttle_status;
            if status.maximum_available > 0.0 {
                self.maximum = status.maximum_available;
            }
            if status.restore_rate > 0.0 {
                self.restore_rate = status.restore_rate;
            }
            self.available = if probe {
                status.currently_available
            } else {
                self.available.min(status.currently_available)
            };
        }
        self.available = self.available.min(self.maximum);
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.available = (self.available + elapsed * self.restore_rate).min(self.maximum);
        self.at = self.at.max(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(max: f64, now: f64, rate: f64) -> ThrottleStatus {
        ThrottleStatus {
            maximum_available: max,
            currently_available: now,
            restore_rate: rate,
        }
    }

    fn cost(requested: f64, actual: Option<f64>, s: ThrottleStatus) -> QueryCost {
        QueryCost {
            requested_query_cost: requested,
            actual_query_cost: actual,
            throttle_status: s,
        }
    }

    #[test]
    fn a_request_that_fits_goes_at_once() {
        let t0 = Instant::now();
        let mut t = Throttle::new(t0);
        assert_eq!(t.acquire(100.0, t0), None);
        assert_eq!(t.available(t0), 900.0);
    }

    #[test]
    fn at_a_cold_start_one_request_learns_the_bucket_before_others_go() {
        let t0 = Instant::now();
        let mut t = Throttle::new(t0);
        assert_eq!(t.acquire(10.0, t0), None, "the probe goes");
        assert_eq!(
            t.acquire(10.0, t0),
            Some(PROBE_POLL),
            "the rest wait for its answer"
        );
        t.settle(10.0, None, t0);
        assert_eq!(
            t.acquire(10.0, t0),
            None,
            "a failed probe lets the next one try"
        );
        t.settle(
            10.0,
            Some(&cost(10.0, Some(10.0), status(100.0, 90.0, 10.0))),
            t0,
        );
        assert_eq!(t.acquire(10.0, t0), None);
        assert_eq!(t.acquire(10.0, t0), None);
    }

    #[test]
    fn the_probe_learns_a_bucket_larger_than_assumed_with_its_credit() {
        let t0 = Instant::now();
        let mut t = Throttle::new(t0);
        assert_eq!(t.acquire(691.0, t0), None, "the probe goes");
        t.settle(
            691.0,
            Some(&cost(691.0, Some(21.0), status(2000.0, 1979.0, 100.0))),
            t0,
        );
        assert_eq!(
            t.available(t0),
            1979.0,
            "a full standard bucket, not the assumed 1,000 less the probe"
        );
        assert_eq!(t.acquire(691.0, t0), None);
        assert_eq!(t.acquire(691.0, t0), None);
        assert_eq!(
            t.acquire(691.0, t0),
            Some(Duration::from_secs_f64((691.0 - 597.0) / 100.0)),
            "two snapshots fit in a standard bucket at once, the third waits"
        );
    }

    #[test]
    fn a_burst_queues_behind_the_refill_at_the_restore_rate() {
        let t0 = Instant::now();
        let mut t = Throttle::new(t0);
        t.settle(
            0.0,
            Some(&cost(0.0, Some(0.0), status(500.0, 500.0, 100.0))),
            t0,
        );
        let waits: Vec<Option<Duration>> = (0..3).map(|_| t.acquire(250.0, t0)).collect();
        assert_eq!(waits, [None, None, Some(Duration::from_secs_f64(2.5))]);
        assert_eq!(t.acquire(250.0, t0 + Duration::from_secs_f64(2.5)), None);
    }

    #[test]
    fn the_actual_cost_is_refunded_and_a_lower_reported_balance_wins() {
        let t0 = Instant::now();
        let mut t = Throttle::new(t0);
        assert_eq!(t.acquire(0.0, t0), None, "the probe");
        t.settle(
            0.0,
            Some(&cost(0.0, Some(0.0), status(2000.0, 1000.0, 100.0))),
            t0,
        );
        assert_eq!(t.acquire(500.0, t0), None);
        t.settle(
            500.0,
            Some(&cost(500.0, Some(20.0), status(2000.0, 1980.0, 100.0))),
            t0,
        );
        assert_eq!(
            t.available(t0),
            980.0,
            "refund to 980, below the reported 1980"
        );
        t.settle(
            0.0,
            Some(&cost(0.0, Some(0.0), status(2000.0, 300.0, 100.0))),
            t0,
        );
        assert_eq!(t.available(t0), 300.0);
        assert_eq!(
            t.available(t0 + Duration::from_secs(100)),
            2000.0,
            "refills to the max"
        );
    }

    #[test]
    fn a_throttled_answer_refunds_the_reservation_and_the_retry_waits_for_room() {
        let t0 = Instant::now();
        let mut t = Throttle::new(t0);
        assert_eq!(t.acquire(400.0, t0), None);
        t.settle(
            400.0,
            Some(&cost(400.0, None, status(1000.0, 100.0, 50.0))),
            t0,
        );
        assert_eq!(t.acquire(400.0, t0), Some(Duration::from_secs(6)));
    }

    #[test]
    fn a_cost_above_the_bucket_waits_for_a_full_bucket_not_forever() {
        let t0 = Instant::now();
        let mut t = Throttle::new(t0);
        t.settle(
            0.0,
            Some(&cost(0.0, Some(0.0), status(100.0, 0.0, 10.0))),
            t0,
        );
        assert_eq!(t.acquire(1000.0, t0), Some(Duration::from_secs(10)));
    }
}
