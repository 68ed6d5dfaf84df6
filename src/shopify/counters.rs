//! The client's counters: atomics every request adds to, the per-shop figures ops alert on, and
//! the copies metrics read.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::throttle::Throttle;
use crate::id::ShopDomain;

/// Counters the worker and metrics can read.
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) requests: AtomicU64,
    pub(super) retries: AtomicU64,
    pub(super) throttled: AtomicU64,
    pub(super) throttle_wait_ms: AtomicU64,
    pub(super) actual_cost: AtomicU64,
    /// The same, and more, per shop: which shop is throttled or refused is what ops act on.
    /// Only shops the client calls get an entry, so the map is as bounded as the shops are.
    pub(super) shops: Mutex<HashMap<ShopDomain, ShopCounters>>,
}

/// One shop's share of the counters.
#[derive(Debug, Default, Clone)]
pub(super) struct ShopCounters {
    actual_cost: u64,
    throttled: u64,
    throttle_wait_ms: u64,
    /// Calls that ended in an error, by [`super::ShopifyError::class`].
    errors: BTreeMap<&'static str, u64>,
    /// When a call last returned data (the monotonic clock: the app turns it into wall time).
    last_success: Option<Instant>,
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

/// A copy of one shop's counters and of its cost bucket as the client models it.
#[derive(Debug, Clone, PartialEq)]
pub struct ShopMetrics {
    pub shop: ShopDomain,
    /// Sum of `actualQueryCost` this shop's answers reported.
    pub actual_cost: u64,
    /// THROTTLED or 429 answers from this shop, absorbed by waiting.
    pub throttled: u64,
    /// Time this shop's requests waited for room in its bucket.
    pub throttle_wait_ms: u64,
    /// Calls that ended in an error, by class (`unauthorized`, `transient`, ...).
    pub errors: Vec<(&'static str, u64)>,
    /// When a call to this shop last returned data.
    pub last_success: Option<Instant>,
    /// Points the bucket model holds now, and the bucket's size (Shopify's
    /// `throttleStatus`, once an answer reported it; an assumed standard bucket before).
    pub available: Option<f64>,
    pub maximum: Option<f64>,
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

    /// Adds to `shop`'s counters.
    pub(super) fn shop(&self, shop: &ShopDomain, add: impl FnOnce(&mut ShopCounters)) {
        let mut shops = self.shops.lock().unwrap_or_else(|p| p.into_inner());
        match shops.get_mut(shop) {
            Some(c) => add(c),
            None => add(shops.entry(shop.clone()).or_default()),
        }
    }

    /// Every `known` or called shop's counters (zero for one not called yet, so its series
    /// exist before its first error and a rate sees that one), with its bucket from `throttles`
    /// as of `now`.
    pub(super) fn shops(
        &self,
        known: &[ShopDomain],
        throttles: &mut HashMap<ShopDomain, Throttle>,
        now: Instant,
    ) -> Vec<ShopMetrics> {
        let mut shops = self.shops.lock().unwrap_or_else(|p| p.into_inner());
        for shop in known {
            if !shops.contains_key(shop) {
                shops.insert(shop.clone(), ShopCounters::default());
            }
        }
        shops
            .iter()
            .map(|(shop, c)| {
                let bucket = throttles.get_mut(shop);
                let (available, maximum) = match bucket {
                    Some(t) => (Some(t.available(now)), Some(t.maximum())),
                    None => (None, None),
                };
                ShopMetrics {
                    shop: shop.clone(),
                    actual_cost: c.actual_cost,
                    throttled: c.throttled,
                    throttle_wait_ms: c.throttle_wait_ms,
                    errors: c.errors.iter().map(|(k, v)| (*k, *v)).collect(),
                    last_success: c.last_success,
                    available,
                    maximum,
                }
            })
            .collect()
    }
}

impl ShopCounters {
    pub(super) fn cost(&mut self, actual: u64) {
        self.actual_cost += actual;
    }

    pub(super) fn throttled(&mut self) {
        self.throttled += 1;
    }

    pub(super) fn waited(&mut self, ms: u64) {
        self.throttle_wait_ms += ms;
    }

    pub(super) fn failed(&mut self, class: &'static str) {
        *self.errors.entry(class).or_default() += 1;
    }

    pub(super) fn succeeded(&mut self, at: Instant) {
        self.last_success = Some(at);
    }
}
