//! Per-shop Shopify figures: what each shop's calls cost, how long they waited for its bucket,
//! how often it throttled or refused them, and when one last succeeded. The Shopify client keeps
//! the counts (telemetry knows no other module); the app copies them here at each scrape, as it
//! does the client's process-wide counters.

use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::ShopLabels;

/// The error class of a refused token (`ShopifyError::class`), created at zero per shop.
const UNAUTHORIZED: &str = "unauthorized";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ShopClassLabels {
    pub shop: String,
    pub class: String,
}

/// One shop's totals as the client holds them at scrape time.
#[derive(Debug, Clone, Default)]
pub struct ShopSample<'a> {
    pub shop: &'a str,
    pub points_spent: u64,
    pub throttled: u64,
    pub throttle_wait_ms: u64,
    /// Calls that ended in an error, by class.
    pub errors: &'a [(&'static str, u64)],
    /// When a call last returned data, Unix seconds on the app's clock.
    pub last_success_unix: Option<i64>,
    /// Points in the shop's bucket now, and its size, as the client models them.
    pub available: Option<f64>,
    pub maximum: Option<f64>,
}

pub struct ShopifyShopMetrics {
    pub points_spent: Family<ShopLabels, Counter>,
    pub throttled: Family<ShopLabels, Counter>,
    pub throttle_wait_seconds: Family<ShopLabels, Counter<f64, AtomicU64>>,
    pub errors: Family<ShopClassLabels, Counter>,
    pub last_success: Family<ShopLabels, Gauge>,
    pub available: Family<ShopLabels, Gauge<f64, AtomicU64>>,
    pub maximum: Family<ShopLabels, Gauge<f64, AtomicU64>>,
    /// Two scrapes at once must not both add the same difference to a counter.
    copying: Mutex<()>,
}

impl ShopifyShopMetrics {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let m = Self {
            points_spent: Family::default(),
            throttled: Family::default(),
            throttle_wait_seconds: Family::default(),
            errors: Family::default(),
            last_success: Family::default(),
            available: Family::default(),
            maximum: Family::default(),
            copying: Mutex::new(()),
        };
        registry.register(
            "shopify_shop_points_spent",
            "Query cost points Shopify charged this shop (actual cost)",
            m.points_spent.clone(),
        );
        registry.register(
            "shopify_shop_throttled",
            "THROTTLED or 429 answers from this shop, absorbed by waiting",
            m.throttled.clone(),
        );
        registry.register(
            "shopify_shop_throttle_wait_seconds",
            "Time this shop's requests waited for room in its cost bucket",
            m.throttle_wait_seconds.clone(),
        );
        registry.register(
            "shopify_shop_errors",
            "Shopify calls to this shop that ended in an error, by class",
            m.errors.clone(),
        );
        registry.register(
            "shopify_last_success_timestamp_seconds",
            "When a Shopify call to this shop last returned data (Unix seconds)",
            m.last_success.clone(),
        );
        registry.register(
            "shopify_points_available",
            "Points in this shop's cost bucket as the client models it now",
            m.available.clone(),
        );
        registry.register(
            "shopify_points_maximum",
            "Size of this shop's cost bucket (Shopify's maximumAvailable)",
            m.maximum.clone(),
        );
        m
    }

    /// Brings the shop's series to `sample`'s totals. The client's counts only grow, so each
    /// counter gets the difference.
    pub fn copy(&self, sample: &ShopSample<'_>) {
        let _one_at_a_time = self.copying.lock().unwrap_or_else(|p| p.into_inner());
        let shop = ShopLabels {
            shop: sample.shop.to_owned(),
        };
        raise(&self.points_spent.get_or_create(&shop), sample.points_spent);
        raise(&self.throttled.get_or_create(&shop), sample.throttled);
        let wait = self.throttle_wait_seconds.get_or_create(&shop);
        let seconds = sample.throttle_wait_ms as f64 / 1000.0;
        if seconds > wait.get() {
            wait.inc_by(seconds - wait.get());
        }
        // The class ops alert on exists from the first scrape, so its first error is a rise.
        let _created = self.errors.get_or_create(&ShopClassLabels {
            shop: sample.shop.to_owned(),
            class: UNAUTHORIZED.to_owned(),
        });
        for (class, n) in sample.errors {
            let labels = ShopClassLabels {
                shop: sample.shop.to_owned(),
                class: (*class).to_owned(),
            };
            raise(&self.errors.get_or_create(&labels), *n);
        }
        if let Some(at) = sample.last_success_unix {
            self.last_success.get_or_create(&shop).set(at);
        }
        if let Some(points) = sample.available {
            self.available.get_or_create(&shop).set(points);
        }
        if let Some(points) = sample.maximum {
            self.maximum.get_or_create(&shop).set(points);
        }
    }
}

fn raise(counter: &Counter, total: u64) {
    let now = counter.get();
    if total > now {
        counter.inc_by(total - now);
    }
}
