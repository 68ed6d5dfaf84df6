//! orderflow's holds outstanding, by shop and reason, and when the oldest was first seen.
//!
//! Where the truth is: Shopify, on each fulfilment order. Counting it there means reading every
//! open order of every shop, so orderflow does not. The worker that consumes an order's
//! partition sees each of its plans instead, and after each one records the order's holds of
//! orderflow's as they stand once the plan is applied. So the figures are **this process's**:
//! the orders its workers planned since their partition's consumer last (re)started, each as of
//! its latest plan here. Summed over the worker processes they cover every order planned since
//! then, because a partition has one active consumer: when a consumer restarts, this process
//! forgets that partition's orders (another process may be active on it now, and counts them),
//! and learns them again from its next deliveries. An order held before that and not planned
//! since is not counted (a restart starts from nothing): the count is a lower bound, exact for
//! every order the workers touched since. Shopify records no time on a hold, so "oldest" is when
//! this process first saw the hold outstanding.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroUsize;
use std::sync::Mutex;

use lru::LruCache;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;

/// Held orders remembered; past this, new ones are not counted until some are released.
pub const CAPACITY: usize = 100_000;

/// Deliveries remembered between `arrived` and `record` (a handful are in flight at a time).
const ARRIVALS: usize = 4_096;

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
pub struct HoldLabels {
    pub shop: String,
    pub reason: String,
}

type OrderKey = (String, u64);

#[derive(Debug)]
struct Held {
    /// The partition queue the order's latest delivery came from.
    queue: String,
    /// Reason and when this process first saw a hold of it outstanding (Unix seconds).
    holds: Vec<(String, i64)>,
}

#[derive(Debug)]
struct Book {
    held: HashMap<OrderKey, Held>,
    arrivals: LruCache<OrderKey, String>,
}

/// See the module documentation. Shared by the workers (which write) and the registry (which
/// reads at each scrape).
#[derive(Debug)]
pub struct HoldBook {
    book: Mutex<Book>,
}

impl Default for HoldBook {
    fn default() -> Self {
        Self {
            book: Mutex::new(Book {
                held: HashMap::new(),
                arrivals: LruCache::new(NonZeroUsize::new(ARRIVALS).expect("non-zero")),
            }),
        }
    }
}

impl HoldBook {
    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A delivery about `order` came from `queue`: its plan, if any, is recorded against it.
    pub fn arrived(&self, queue: &str, shop: &str, order: u64) {
        self.book()
            .arrivals
            .put((shop.to_owned(), order), queue.to_owned());
    }

    /// The consumer of `queue` (re)started: this process may no longer be its active consumer,
    /// so it stops counting that partition's orders until it plans them again.
    pub fn forget_queue(&self, queue: &str) {
        self.book().held.retain(|_, h| h.queue != queue);
    }

    /// `order`'s holds of orderflow's once its plan is applied, by reason (one entry per hold;
    /// empty when none is left), at `now` (Unix seconds).
    pub fn record(&self, shop: &str, order: u64, reasons: &[&str], now: i64) {
        let mut book = self.book();
        let key = (shop.to_owned(), order);
        let arrived = book.arrivals.pop(&key);
        if reasons.is_empty() {
            book.held.remove(&key);
            return;
        }
        let full = book.held.len() >= CAPACITY;
        let previous = book.held.remove(&key);
        if previous.is_none() && full {
            return;
        }
        let queue = arrived
            .or_else(|| previous.as_ref().map(|p| p.queue.clone()))
            .unwrap_or_default();
        let holds = reasons
            .iter()
            .map(|r| {
                // A hold outstanding before keeps the time it was first seen.
                let since = previous
                    .as_ref()
                    .and_then(|p| p.holds.iter().find(|(reason, _)| reason == r))
                    .map_or(now, |(_, since)| *since);
                ((*r).to_owned(), since)
            })
            .collect();
        book.held.insert(key, Held { queue, holds });
    }

    /// Per shop and reason: holds outstanding and when the oldest was first seen.
    pub fn totals(&self) -> BTreeMap<HoldLabels, (i64, i64)> {
        let book = self.book();
        let mut out: BTreeMap<HoldLabels, (i64, i64)> = BTreeMap::new();
        for ((shop, _), held) in &book.held {
            for (reason, since) in &held.holds {
                let labels = HoldLabels {
                    shop: shop.clone(),
                    reason: reason.clone(),
                };
                let entry = out.entry(labels).or_insert((0, *since));
                entry.0 += 1;
                entry.1 = entry.1.min(*since);
            }
        }
        out
    }
}

/// Encodes the book at each scrape, so a shop and reason with nothing held has no series.
#[derive(Debug)]
pub(super) struct HoldCollector(pub(super) std::sync::Arc<HoldBook>);

impl Collector for HoldCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let totals = self.0.totals();
        let outstanding = ConstGauge::new(0i64);
        let mut family = encoder.encode_descriptor(
            "holds_outstanding",
            "orderflow's holds outstanding, by shop and reason, on the orders this process planned",
            None,
            outstanding.metric_type(),
        )?;
        for (labels, (count, _)) in &totals {
            ConstGauge::new(*count).encode(family.encode_family(labels)?)?;
        }
        let mut family = encoder.encode_descriptor(
            "holds_oldest_timestamp_seconds",
            "When this process first saw the oldest of those holds outstanding (Unix seconds)",
            None,
            outstanding.metric_type(),
        )?;
        for (labels, (_, since)) in &totals {
            ConstGauge::new(*since).encode(family.encode_family(labels)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_reason_and_keeps_the_first_seen_time_until_released() {
        let book = HoldBook::default();
        book.arrived("of.orders.0", "a.myshopify.com", 1);
        book.record("a.myshopify.com", 1, &["fraud"], 100);
        book.record("a.myshopify.com", 2, &["processing", "processing"], 150);
        book.record("a.myshopify.com", 1, &["fraud", "processing"], 200);
        let t = book.totals();
        let key = |r: &str| HoldLabels {
            shop: "a.myshopify.com".into(),
            reason: r.into(),
        };
        assert_eq!(
            t[&key("fraud")],
            (1, 100),
            "re-planned: still first seen at 100"
        );
        assert_eq!(t[&key("processing")], (3, 150));
        book.record("a.myshopify.com", 1, &[], 300);
        assert!(!book.totals().contains_key(&key("fraud")), "released");
    }

    #[test]
    fn a_restarted_consumer_forgets_its_partitions_orders() {
        let book = HoldBook::default();
        book.arrived("of.orders.0", "a.myshopify.com", 1);
        book.record("a.myshopify.com", 1, &["fraud"], 100);
        book.arrived("of.orders.1", "a.myshopify.com", 2);
        book.record("a.myshopify.com", 2, &["fraud"], 120);
        book.forget_queue("of.orders.0");
        let t = book.totals();
        assert_eq!(t.values().copied().collect::<Vec<_>>(), [(1, 120)]);
    }
}
