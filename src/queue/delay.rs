//! Durable delays without the delayed-message plugin (absent on Debian's RabbitMQ): a fixed set
//! of TTL tiers. Each tier is its own queue with one `x-message-ttl`, so every message in it
//! expires in order and none waits behind a longer one. A delay longer than the largest tier hops
//! through tiers; the consumer checks the due time and sends a message that came back early on
//! its next hop. Pure.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tier(usize);

/// Tier lengths, shortest first. Greedy hops land within the smallest tier (1 s) of the due time.
const TIERS: [(&str, u64); 7] = [
    ("1s", 1),
    ("5s", 5),
    ("30s", 30),
    ("2m", 120),
    ("10m", 600),
    ("1h", 3600),
    ("6h", 21_600),
];

impl Tier {
    pub fn all() -> impl DoubleEndedIterator<Item = Tier> {
        (0..TIERS.len()).map(Tier)
    }

    pub fn name(self) -> &'static str {
        TIERS[self.0].0
    }

    pub fn ttl(self) -> Duration {
        Duration::from_secs(TIERS[self.0].1)
    }

    pub fn shortest() -> Tier {
        Tier(0)
    }

    /// The tier for the next hop of a delay of `remaining`: the longest that does not overshoot.
    /// `None` when less than the shortest tier remains: the message is due now.
    pub fn next_hop(remaining: Duration) -> Option<Tier> {
        Tier::all().rev().find(|t| t.ttl() <= remaining)
    }

    /// The tier for a retry after `attempt` failures: exponential, 1 s, 5 s, 30 s, 2 min, ...
    /// capped at 10 min so a recovering shop is retried soon enough.
    pub fn backoff(attempt: u32) -> Tier {
        Tier((attempt as usize).min(4))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hops_never_overshoot_and_finish_within_a_second() {
        for secs in [0u64, 1, 4, 5, 59, 3600, 86_400 * 3 + 17] {
            let mut remaining = Duration::from_secs(secs) + Duration::from_millis(300);
            let mut hops = 0;
            while let Some(tier) = Tier::next_hop(remaining) {
                assert!(tier.ttl() <= remaining);
                remaining -= tier.ttl();
                hops += 1;
                assert!(
                    hops < 40,
                    "a three-day delay takes a bounded number of hops"
                );
            }
            assert!(remaining < Duration::from_secs(1));
        }
    }

    #[test]
    fn backoff_grows_then_caps() {
        let ttls: Vec<u64> = (0..8).map(|a| Tier::backoff(a).ttl().as_secs()).collect();
        assert_eq!(ttls, [1, 5, 30, 120, 600, 600, 600, 600]);
    }
}
