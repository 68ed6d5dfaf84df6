//! The sweep's metrics: what it woke, what it found no webhook for, how long a shop's sweep
//! took and where each shop's watermark stands.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ShopLabels {
    pub shop: String,
}

pub struct SweepMetrics {
    /// Orders a sweep woke that no webhook had announced (judged by the worker).
    pub missed: Family<ShopLabels, Counter>,
    /// Orders the sweep woke.
    pub orders: Family<ShopLabels, Counter>,
    /// Seconds one shop's sweep took (listing and waking).
    pub seconds: Histogram,
    /// Each shop's watermark: the start of its last completed sweep, seconds since the epoch.
    pub watermark: Family<ShopLabels, Gauge>,
    /// Shops being swept by this process right now (0 or 1 per shop).
    pub running: Family<ShopLabels, Gauge>,
}

impl SweepMetrics {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let missed = Family::<ShopLabels, Counter>::default();
        registry.register(
            "sweep_missed",
            "Orders the sweep woke that no webhook had announced, by shop",
            missed.clone(),
        );
        let orders = Family::<ShopLabels, Counter>::default();
        registry.register(
            "sweep_orders",
            "Orders woken by the periodic sweep, by shop",
            orders.clone(),
        );
        // 10 ms to ~10 min: one page is well under a second; minutes mean thousands of orders.
        let seconds = Histogram::new(exponential_buckets(0.01, 3.0, 11));
        registry.register(
            "sweep_seconds",
            "Seconds one shop's sweep took",
            seconds.clone(),
        );
        let watermark = Family::<ShopLabels, Gauge>::default();
        registry.register(
            "sweep_watermark_timestamp_seconds",
            "Start of each shop's last completed sweep, seconds since the epoch",
            watermark.clone(),
        );
        let running = Family::<ShopLabels, Gauge>::default();
        registry.register(
            "sweep_running",
            "1 while this process sweeps the shop",
            running.clone(),
        );
        Self {
            missed,
            orders,
            seconds,
            watermark,
            running,
        }
    }

    fn shop(shop: &str) -> ShopLabels {
        ShopLabels {
            shop: shop.to_owned(),
        }
    }

    pub fn missed(&self, shop: &str) {
        self.missed.get_or_create(&Self::shop(shop)).inc();
    }

    pub fn swept(&self, shop: &str, orders: u64, seconds: f64) {
        self.orders.get_or_create(&Self::shop(shop)).inc_by(orders);
        self.seconds.observe(seconds);
    }

    pub fn watermark_at(&self, shop: &str, seconds: i64) {
        self.watermark.get_or_create(&Self::shop(shop)).set(seconds);
    }

    pub fn running(&self, shop: &str, running: bool) {
        self.running
            .get_or_create(&Self::shop(shop))
            .set(i64::from(running));
    }
}
