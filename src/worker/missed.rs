//! Evidence of missed webhooks. The sweeper cannot see webhooks (other processes receive
//! them), but the worker that consumes an order's partition sees every event of that order, in
//! order. So it remembers, per shop and order, the latest `X-Shopify-Triggered-At` of the
//! webhooks it handled, and judges each sweep wake-up that carries `orderflow-swept-updated-at`
//! (U): *missed* when no webhook of that order triggered at or after U - 2 s was seen, and this
//! worker was already watching the partition before U. Watching starts with the first delivery
//! after its consumer (re)started; before that it cannot tell and counts nothing, so a
//! failover can hide a miss but never invents one.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use lru::LruCache;

use crate::event::{Incoming, Kind, header};

/// Shopify's `X-Shopify-Triggered-At` and the order's `updatedAt` come from different clocks
/// and roundings; a webhook this much before the update still announced it.
pub const SKEW: Duration = Duration::from_secs(2);

/// Orders remembered; an order not seen among the last this many is judged by coverage only.
pub const CAPACITY: usize = 100_000;

/// What a judged sweep wake-up turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A webhook announced the update.
    Announced,
    /// No webhook announced it, and this worker would have seen one.
    Missed,
    /// This worker started watching the partition after the update: it cannot tell.
    Unknown,
}

/// The pure rule: `updated` the update the sweep found, `watching_since` when this worker began
/// to see the partition's deliveries, `latest_webhook` the latest webhook trigger of the order.
pub fn verdict(
    updated: Timestamp,
    watching_since: Option<Timestamp>,
    latest_webhook: Option<Timestamp>,
) -> Verdict {
    let skew = SignedDuration::try_from(SKEW).unwrap_or(SignedDuration::ZERO);
    let floor = updated.saturating_sub(skew).unwrap_or(updated);
    if latest_webhook.is_some_and(|t| t >= floor) {
        return Verdict::Announced;
    }
    match watching_since {
        Some(since) if since <= updated => Verdict::Missed,
        _ => Verdict::Unknown,
    }
}

/// A sweep wake-up to judge, read off its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    pub shop: String,
    pub order_id: u64,
    /// The order's name from the wake-up's body (`#1001`), for the log line.
    pub name: String,
    pub verdict: Verdict,
}

/// The worker's memory of webhooks and of when it started watching each partition.
pub struct Witness {
    inner: Mutex<Inner>,
}

struct Inner {
    seen: LruCache<(String, u64), Timestamp>,
    /// Per shop and order, the latest update already judged: a sweep retried after a failure,
    /// or one that starts from a lowered watermark, wakes an order again with the same update,
    /// and one miss must count once.
    judged: LruCache<(String, u64), Timestamp>,
    /// Per queue: `None` after the consumer (re)started, until its first delivery.
    watching: HashMap<String, Option<Timestamp>>,
}

impl Default for Witness {
    fn default() -> Self {
        Self::new(CAPACITY)
    }
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Witness")
    }
}

/// A webhook of an order, as opposed to orderflow's own wake-ups (the plan's, reconcile's and
/// the sweep's). A retried webhook is still one.
fn is_webhook(msg: &Incoming) -> bool {
    !msg.topic().starts_with("orderflow/")
        && msg.header(header::delay::WHY) != Some("wake_up")
        && msg.message_kind() == Some(Kind::Order)
}

impl Witness {
    pub fn new(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Self {
            inner: Mutex::new(Inner {
                seen: LruCache::new(capacity),
                judged: LruCache::new(capacity),
                watching: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The consumer of `queue` (re)started: what came before may have gone to another worker.
    pub fn consuming(&self, queue: &str) {
        self.lock().watching.insert(queue.to_owned(), None);
    }

    /// A delivery from `queue` at `now`, before it is handled: a webhook is remembered, a sweep
    /// wake-up that asks for it is judged (once: not its redeliveries or delayed copies).
    pub fn received(&self, queue: &str, msg: &Incoming, now: Timestamp) -> Option<Judged> {
        let mut inner = self.lock();
        let since = *inner
            .watching
            .entry(queue.to_owned())
            .and_modify(|w| {
                w.get_or_insert(now);
            })
            .or_insert(Some(now));
        let shop = msg.shop()?.to_owned();
        let order = msg.order_id()?.0;
        if is_webhook(msg) {
            let at = [header::TRIGGERED_AT, header::RECEIVED_AT]
                .iter()
                .find_map(|h| msg.header(h)?.parse::<Timestamp>().ok())
                .unwrap_or(now);
            let key = (shop, order);
            match inner.seen.get_mut(&key) {
                Some(latest) => *latest = (*latest).max(at),
                None => {
                    inner.seen.put(key, at);
                }
            }
            return None;
        }
        if msg.redelivered || msg.header(header::delay::WHY).is_some() {
            return None;
        }
        let updated = msg
            .header(header::SWEPT_UPDATED_AT)?
            .parse::<Timestamp>()
            .ok()?;
        let key = (shop.clone(), order);
        if inner.judged.get(&key).is_some_and(|done| *done >= updated) {
            return None;
        }
        inner.judged.put(key.clone(), updated);
        let latest = inner.seen.get(&key).copied();
        let name = serde_json::from_slice::<serde_json::Value>(&msg.body)
            .ok()
            .and_then(|b| b.get("name")?.as_str().map(str::to_owned))
            .unwrap_or_default();
        Some(Judged {
            shop,
            order_id: order,
            name,
            verdict: verdict(updated, since, latest),
        })
    }
}

#[cfg(test)]
mod tests;
