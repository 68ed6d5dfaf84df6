//! How hard the client tries before a failure goes back to the worker (whose delay tiers take
//! over): bounded attempts with jittered exponential backoff.

use std::time::Duration;

use rand::Rng;

/// How hard to try before giving up; the worker's delay tiers take over after that.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts for network errors, timeouts and 5xx (first try included).
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubles each time, with full jitter.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// THROTTLED / 429 answers tolerated in one call (they wait for room, so they are cheap).
    pub max_throttled: u32,
    /// Per HTTP request.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_throttled: 20,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// Full jitter: a random wait up to base × 2^(n-1), capped.
pub(crate) fn backoff(policy: &RetryPolicy, failures: u32) -> Duration {
    let ceiling = policy
        .base_backoff
        .saturating_mul(1u32 << failures.saturating_sub(1).min(16))
        .min(policy.max_backoff);
    let millis = ceiling.as_millis() as u64;
    Duration::from_millis(rand::rng().random_range(millis / 2..=millis.max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_full_jitter_and_stays_capped() {
        let policy = RetryPolicy::default();
        for failures in 1..10 {
            let ceiling = policy
                .base_backoff
                .saturating_mul(1 << (failures - 1))
                .min(policy.max_backoff);
            let wait = backoff(&policy, failures);
            assert!(
                wait <= ceiling && wait >= ceiling / 2,
                "{failures}: {wait:?}"
            );
        }
    }
}
