//! Logs and metrics. Logs: tracing, human-readable or JSON (`ORDERFLOW_LOG_FORMAT=json`), level
//! from `ORDERFLOW_LOG` (default `info`). Metrics: one Prometheus registry per app, so two apps
//! in one test process never mix their counts.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tracing_subscriber::EnvFilter;

mod config_info;
mod holds;
mod recent;
mod shopify;
mod sweep;

pub use config_info::{ConfigInfo, ConfigLabels};
pub use holds::{HoldBook, HoldLabels};
pub use recent::{DecisionEntry, RECENT_DECISIONS, Recent, ShopError};
pub use shopify::{ShopSample, ShopifyShopMetrics};
pub use sweep::{ShopLabels, SweepMetrics};

/// Installs the global subscriber. Call once, from `main`.
pub fn init_logging() {
    init_logging_with("info,lapin=warn,amq_protocol=warn");
}

/// Like [`init_logging`], with `default_filter` when `ORDERFLOW_LOG` is unset (the demo keeps
/// its stdout report clean at `warn`).
pub fn init_logging_with(default_filter: &str) {
    let filter =
        EnvFilter::try_from_env("ORDERFLOW_LOG").unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = std::env::var("ORDERFLOW_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init();
    } else {
        builder.init();
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DispositionLabels {
    pub disposition: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ActionLabels {
    pub kind: String,
    pub rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    pub operation: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VersionLabels {
    pub version: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WebhookLabels {
    pub topic: String,
    pub outcome: String,
}

/// Every metric the process exports.
pub struct Metrics {
    registry: Registry,
    /// Webhooks by topic and outcome (published, duplicate, dead_lettered, ignored,
    /// unauthorized, bad_request, unavailable).
    pub webhooks: Family<WebhookLabels, Counter>,
    pub hmac_failures: Counter,
    pub dedupe_hits: Counter,
    /// Seconds from publish to the broker's confirm.
    pub publish_confirm_seconds: Histogram,
    /// 1 while connected to the broker.
    pub broker_connected: Gauge,
    /// Messages settled by the workers, by disposition (done, done_wake_up, retry,
    /// dead_letter, reroute, not_yet_due).
    pub messages: Family<DispositionLabels, Counter>,
    /// Actions applied to orders, by kind and the rule that asked for them.
    pub actions: Family<ActionLabels, Counter>,
    /// Shopify calls by operation and outcome (ok, transient, unauthorized, user_errors, ...).
    pub shopify_calls: Family<CallLabels, Counter>,
    /// Seconds from `X-Shopify-Triggered-At` to the worker's ack.
    pub event_lag_seconds: Histogram,
    /// The Shopify client's own counters, copied at scrape time.
    pub shopify_points: Gauge,
    pub shopify_throttle_wait_ms: Gauge,
    pub shopify_retries: Gauge,
    pub shopify_throttled: Gauge,
    /// Per shop, topics orderflow routes that no shop-specific subscription delivers to
    /// `{app_url}/webhooks` (missing or elsewhere), as the last check found them.
    pub webhook_subscriptions_missing: Family<ShopLabels, Gauge>,
    /// Per shop, when its last verified webhook arrived (the app's clock, Unix seconds).
    pub webhook_last_received: Family<ShopLabels, Gauge>,
    /// The periodic sweep's (`orderflow_sweep_*`).
    pub sweep: SweepMetrics,
    /// Messages this process sent to the dead-letter queue, by `reason` header. The queue's
    /// depth is RabbitMQ's to tell (`rabbitmq_queue_messages`): counting it by reason would
    /// mean reading every dead letter at each scrape. Letters the broker itself dead-letters
    /// (`delivery_limit`) are RabbitMQ's too.
    pub dead_letters: Family<ReasonLabels, Counter>,
    /// Webhooks a worker handled without reading the order, by `reason` (`covered_by_read`,
    /// `own_echo`): the order's last pass already covered them.
    pub events_coalesced: Family<ReasonLabels, Counter>,
    /// Per-shop Shopify figures, copied from the client at scrape time.
    pub shopify_shops: ShopifyShopMetrics,
    /// orderflow's holds outstanding as the workers planned them (`orderflow_holds_*`).
    pub holds: Arc<HoldBook>,
    /// Per shop, the event lag of the last webhook a worker of this process acked (seconds).
    pub shop_event_lag: Family<ShopLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    /// Per shop, 1 while `orderflow pause` holds its messages, 0 after `orderflow resume`.
    pub shop_paused: Family<ShopLabels, Gauge>,
    /// The last decisions and each shop's last error, for the ops page (not exported).
    pub recent: Recent,
    /// `orderflow_config_info{sha256}`: the config version in force.
    pub config_info: ConfigInfo,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("orderflow");
        let webhooks = Family::<WebhookLabels, Counter>::default();
        registry.register(
            "webhooks",
            "Webhooks received, by topic and outcome",
            webhooks.clone(),
        );
        let hmac_failures = Counter::default();
        registry.register(
            "hmac_failures",
            "Deliveries refused for a missing or wrong HMAC",
            hmac_failures.clone(),
        );
        let dedupe_hits = Counter::default();
        registry.register(
            "dedupe_hits",
            "Deliveries answered without publishing because their webhook id was seen",
            dedupe_hits.clone(),
        );
        // 0.5 ms to ~4 s: a confirm normally takes a few ms; the budget is 3 s.
        let publish_confirm_seconds = Histogram::new(
            prometheus_client::metrics::histogram::exponential_buckets(0.0005, 2.0, 14),
        );
        registry.register(
            "publish_confirm_seconds",
            "Time from publish to the broker's confirm",
            publish_confirm_seconds.clone(),
        );
        let broker_connected = Gauge::default();
        registry.register(
            "broker_connected",
            "1 while connected to RabbitMQ",
            broker_connected.clone(),
        );
        let messages = Family::<DispositionLabels, Counter>::default();
        registry.register(
            "messages",
            "Messages settled by the workers, by disposition",
            messages.clone(),
        );
        let actions = Family::<ActionLabels, Counter>::default();
        registry.register(
            "actions",
            "Actions applied to orders, by kind and rule",
            actions.clone(),
        );
        let shopify_calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "shopify_calls",
            "Shopify Admin API calls, by operation and outcome",
            shopify_calls.clone(),
        );
        // 10 ms to ~3 h: normally well under a second; hours mean a backlog or an outage.
        let event_lag_seconds = Histogram::new(
            prometheus_client::metrics::histogram::exponential_buckets(0.01, 3.0, 14),
        );
        registry.register(
            "event_lag_seconds",
            "Seconds from Shopify's X-Shopify-Triggered-At to the worker's ack",
            event_lag_seconds.clone(),
        );
        let shopify_points = Gauge::default();
        registry.register(
            "shopify_points_spent",
            "Query cost points Shopify charged (actual cost), since start",
            shopify_points.clone(),
        );
        let shopify_throttle_wait_ms = Gauge::default();
        registry.register(
            "shopify_throttle_wait_milliseconds",
            "Time spent waiting for the cost bucket, since start",
            shopify_throttle_wait_ms.clone(),
        );
        let shopify_retries = Gauge::default();
        registry.register(
            "shopify_retries",
            "Shopify requests sent again after a network error, timeout or 5xx, since start",
            shopify_retries.clone(),
        );
        let shopify_throttled = Gauge::default();
        registry.register(
            "shopify_throttled",
            "THROTTLED or 429 answers the Shopify client absorbed by waiting, since start",
            shopify_throttled.clone(),
        );
        let webhook_subscriptions_missing = Family::<ShopLabels, Gauge>::default();
        registry.register(
            "webhook_subscriptions_missing",
            "Topics orderflow routes that the shop's API subscriptions do not deliver to it",
            webhook_subscriptions_missing.clone(),
        );
        let webhook_last_received = Family::<ShopLabels, Gauge>::default();
        registry.register(
            "webhook_last_received_timestamp_seconds",
            "When the shop's last verified webhook was received (Unix seconds)",
            webhook_last_received.clone(),
        );
        let sweep = SweepMetrics::register(&mut registry);
        let dead_letters = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "dead_letters",
            "Messages this process sent to the dead-letter queue, by reason",
            dead_letters.clone(),
        );
        let events_coalesced = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "events_coalesced",
            "Webhooks handled without an Admin API read because the order's last pass covered them, by reason",
            events_coalesced.clone(),
        );
        let build = Family::<VersionLabels, Gauge>::default();
        build
            .get_or_create(&VersionLabels {
                version: env!("CARGO_PKG_VERSION").to_owned(),
            })
            .set(1);
        registry.register(
            "build_info",
            "Always 1; the label says which orderflow version runs",
            build,
        );
        let shopify_shops = ShopifyShopMetrics::register(&mut registry);
        let config_info = ConfigInfo::register(&mut registry);
        let holds = Arc::new(HoldBook::default());
        registry.register_collector(Box::new(holds::HoldCollector(holds.clone())));
        let shop_event_lag =
            Family::<ShopLabels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
        registry.register(
            "shop_event_lag_seconds",
            "Per shop, the lag from X-Shopify-Triggered-At to the ack of its last webhook",
            shop_event_lag.clone(),
        );
        let shop_paused = Family::<ShopLabels, Gauge>::default();
        registry.register(
            "shop_paused",
            "Per shop, 1 while `orderflow pause` holds its messages (they wait in a delay queue), 0 after resume",
            shop_paused.clone(),
        );
        Self {
            shop_paused,
            dead_letters,
            events_coalesced,
            shopify_shops,
            holds,
            sweep,
            shop_event_lag,
            recent: Recent::default(),
            config_info,
            registry,
            webhook_subscriptions_missing,
            webhook_last_received,
            messages,
            actions,
            shopify_calls,
            event_lag_seconds,
            shopify_points,
            shopify_throttle_wait_ms,
            shopify_retries,
            shopify_throttled,
            webhooks,
            hmac_failures,
            dedupe_hits,
            publish_confirm_seconds,
            broker_connected,
        }
    }

    pub fn webhook(&self, topic: &str, outcome: &str) {
        self.webhooks
            .get_or_create(&WebhookLabels {
                topic: topic_label(topic),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    pub fn message(&self, disposition: &str) {
        self.messages
            .get_or_create(&DispositionLabels {
                disposition: disposition.to_owned(),
            })
            .inc();
    }

    pub fn action(&self, kind: &str, rule: &str) {
        self.actions
            .get_or_create(&ActionLabels {
                kind: kind.to_owned(),
                rule: rule.to_owned(),
            })
            .inc();
    }

    pub fn shopify_call(&self, operation: &str, outcome: &str) {
        self.shopify_calls
            .get_or_create(&CallLabels {
                operation: operation.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// The number of the shop's topics not delivered to orderflow, from the last check.
    pub fn subscriptions_missing(&self, shop: &str, missing: usize) {
        self.webhook_subscriptions_missing
            .get_or_create(&ShopLabels {
                shop: shop.to_owned(),
            })
            .set(missing as i64);
    }

    /// `shop` is no longer checked (uninstalled): its gauge goes, rather than keep an alert on.
    pub fn forget_subscriptions(&self, shop: &str) {
        self.webhook_subscriptions_missing.remove(&ShopLabels {
            shop: shop.to_owned(),
        });
    }

    /// Creates each of `reasons`' dead-letter series at zero, so that a rate sees the first
    /// letter of each (a series born at 1 has no rise to see).
    pub fn zero_dead_letters<'a>(&self, reasons: impl IntoIterator<Item = &'a str>) {
        for reason in reasons {
            let _created = self.dead_letters.get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            });
        }
    }

    /// Creates each coalescing reason's series at zero (a rate sees the first skip).
    pub fn zero_coalesced<'a>(&self, reasons: impl IntoIterator<Item = &'a str>) {
        for reason in reasons {
            let _created = self.events_coalesced.get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            });
        }
    }

    /// A worker skipped an event's read for `reason`.
    pub fn coalesced(&self, reason: &str) {
        self.events_coalesced
            .get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// This process sent a message to the dead-letter queue with `reason`.
    pub fn dead_lettered(&self, reason: &str) {
        self.dead_letters
            .get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// A verified webhook of `shop` arrived at `unix_seconds`.
    pub fn webhook_received(&self, shop: &str, unix_seconds: i64) {
        self.webhook_last_received
            .get_or_create(&ShopLabels {
                shop: shop.to_owned(),
            })
            .set(unix_seconds);
    }

    /// The registry for adapters that add their own metrics.
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

/// Bounds label cardinality: a topic looks like `word/word`; anything else is `other`.
fn topic_label(topic: &str) -> String {
    let ok = topic.len() <= 64
        && topic.split_once('/').is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && topic
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c == '/')
        });
    if ok {
        topic.to_owned()
    } else {
        "other".to_owned()
    }
}

#[cfg(test)]
mod tests;
