//! Faults a test (or the control API) queues for the next requests, and fixed latency; and the
//! token endpoint's own faults (a status instead of an answer, an answer lost after applying).

use std::collections::VecDeque;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What the next request(s) will suffer, before anything else happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// HTTP 500 with Shopify's generic body.
    Http500,
    /// HTTP 429 with `Retry-After` (seconds).
    Http429 { retry_after_secs: u64 },
    /// A THROTTLED error (HTTP 200), whatever the bucket holds.
    Throttled,
    /// Wait this long, then answer normally.
    Delay { millis: u64 },
    /// Start a 200 answer and cut the connection in the middle of the body.
    Drop,
}

impl Fault {
    pub fn delay(duration: Duration) -> Self {
        Fault::Delay {
            millis: duration.as_millis() as u64,
        }
    }
}

#[derive(Debug, Default)]
pub struct Faults {
    queue: VecDeque<Fault>,
    pub latency: Duration,
}

impl Faults {
    /// Queues `fault` for the next `times` requests (after those already queued).
    pub fn push(&mut self, fault: Fault, times: usize) {
        self.queue.extend(std::iter::repeat_n(fault, times));
    }

    pub fn next(&mut self) -> Option<Fault> {
        self.queue.pop_front()
    }

    pub fn clear(&mut self) {
        self.queue.clear();
    }
}

/// Faults of the token endpoint (`/admin/oauth/access_token`).
#[derive(Debug, Default)]
pub struct TokenFaults {
    /// Statuses the next requests are answered with, before anything is applied.
    fail: VecDeque<u16>,
    /// How many of the next successful grants are applied and then answered 520.
    lose: u32,
}

impl TokenFaults {
    pub fn fail(&mut self, count: u32, status: u16) {
        self.fail
            .extend(std::iter::repeat_n(status, count as usize));
    }

    pub fn lose_next(&mut self) {
        self.lose += 1;
    }

    /// The status the next request is to be answered with instead of being handled.
    pub fn next_failure(&mut self) -> Option<u16> {
        self.fail.pop_front()
    }

    /// Whether this successful grant's answer is to be lost (counts it).
    pub fn take_lost(&mut self) -> bool {
        let lost = self.lose > 0;
        self.lose = self.lose.saturating_sub(1);
        lost
    }

    pub fn clear(&mut self) {
        *self = Self::default();
    }
}
