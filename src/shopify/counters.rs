//! The client's counters: atomics every request adds to, and the copy metrics read.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters the worker and metrics can read.
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) requests: AtomicU64,
    pub(super) retries: AtomicU64,
    pub(super) throttled: AtomicU64,
    pub(super) throttle_wait_ms: AtomicU64,
    pub(super) actual_cost: AtomicU64,
}

/// A copy of the client's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientMetrics {
    /// HTTP requests sent (retries included).
    pub requests: u64,
    /// Requests sent again after a network error, timeout or 5xx.
    pub retries: u64,
    /// THROTTLED or 429 answers received (and absorbed by waiting).
    pub throttled: u64,
    /// Total time spent waiting for room in the cost bucket.
    pub throttle_wait_ms: u64,
    /// Sum of `actualQueryCost` reported.
    pub actual_cost: u64,
}

impl Counters {
    /// The counters as they are now.
    pub(super) fn snapshot(&self) -> ClientMetrics {
        ClientMetrics {
            requests: self.requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            throttle_wait_ms: self.throttle_wait_ms.load(Ordering::Relaxed),
            actual_cost: self.actual_cost.load(Ordering::Relaxed),
        }
    }
}
