//! The workers of a process that works: the order and compliance consumers built from the
//! config and what they share (the known shops, the token store), and the observer that
//! counts what they settle.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::queue::{Names, Publisher};
use crate::shopify::Client;
use crate::shops::Shops;
use crate::store::LazyStore;
use crate::telemetry::Metrics;
use crate::worker::compliance::ComplianceHandler;
use crate::worker::order::OrderHandler;
use crate::worker::paused::{ControlFollower, PausedShops};
use crate::worker::{Consumers, Incoming, Observer, Settled, Settler};

/// What the workers share besides the broker: the known shops and the token store.
pub(super) struct Shared {
    pub(super) shops: Shops,
    pub(super) store: Option<LazyStore>,
}

impl Workers {
    pub(super) fn new(
        config: &Arc<Config>,
        names: &Names,
        publisher: Publisher,
        client: Client,
        shared: Shared,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let settler = Settler {
            publisher: publisher.clone(),
            partitions: config.amqp.partitions,
            max_attempts: config.worker.max_attempts,
            max_delay_hop: config.worker.max_delay_hop,
        };
        let observer = Arc::new(MetricsObserver {
            metrics: metrics.clone(),
            clock: clock.clone(),
        });
        let broker = publisher.broker().clone();
        // One paused set for both consumers: a paused shop's GDPR and uninstall messages wait
        // too (the merchant asked orderflow to leave the shop alone; Shopify's 30-day window for
        // redactions is far longer than an incident's pause).
        let paused = PausedShops::new(metrics.clone());
        let control = ControlFollower {
            paused: paused.clone(),
            publisher: publisher.clone(),
        };
        let orders = Arc::new(Consumers {
            broker: broker.clone(),
            settler: settler.clone(),
            handler: Arc::new(OrderHandler {
                client,
                shops: shared.shops.clone(),
                clock: clock.clone(),
                metrics,
                witness: Arc::default(),
                coalescer: Arc::default(),
            }),
            observer: observer.clone(),
            clock: clock.clone(),
            queues: (0..config.amqp.partitions)
                .map(|p| names.partition_queue(p))
                .collect(),
            paused: Some(paused.clone()),
        });
        let compliance = Arc::new(Consumers {
            broker,
            settler,
            handler: Arc::new(ComplianceHandler {
                publisher,
                shops: shared.shops,
                store: shared.store,
                clock: clock.clone(),
            }),
            observer,
            clock,
            queues: vec![names.compliance_queue()],
            paused: Some(paused),
        });
        Self {
            orders,
            compliance,
            control,
        }
    }
}

/// The consumers of a process that works, and what they share.
pub(super) struct Workers {
    pub(super) orders: Arc<Consumers<OrderHandler, MetricsObserver>>,
    pub(super) compliance: Arc<Consumers<ComplianceHandler, MetricsObserver>>,
    /// Keeps the consumers' paused shops current from the control stream.
    pub(super) control: ControlFollower,
}

/// Counts settled messages and the lag from Shopify's trigger to the ack.
pub struct MetricsObserver {
    metrics: Arc<Metrics>,
    clock: Arc<dyn Clock>,
}

impl Observer for MetricsObserver {
    fn settled(&self, msg: &Incoming, disposition: &str, settled: &Settled) {
        self.metrics.message(disposition);
        if let Settled::DeadLettered { reason } = settled {
            self.metrics.dead_lettered(reason.as_str());
        }
        // The lag of webhooks only: a sweep's or reconcile's wake-up carries the order's
        // `updatedAt` as its trigger, minutes old by design.
        if msg.topic().starts_with("orderflow/") {
            return;
        }
        if let Some(triggered) = msg
            .header(crate::event::header::TRIGGERED_AT)
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        {
            let lag = self
                .clock
                .now()
                .duration_since(triggered)
                .as_secs_f64()
                .max(0.0);
            self.metrics.event_lag_seconds.observe(lag);
            if let Some(shop) = msg.shop() {
                self.metrics
                    .shop_event_lag
                    .get_or_create(&crate::telemetry::ShopLabels {
                        shop: shop.to_owned(),
                    })
                    .set(lag);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::event::header;

    fn msg(topic: &str) -> Incoming {
        Incoming {
            headers: [
                (header::TOPIC.to_owned(), topic.to_owned()),
                (
                    header::TRIGGERED_AT.to_owned(),
                    "2026-11-23T09:00:00Z".to_owned(),
                ),
            ]
            .into_iter()
            .collect(),
            body: Vec::new(),
            message_id: None,
            kind: None,
            redelivered: false,
        }
    }

    #[test]
    fn the_event_lag_counts_webhooks_not_the_sweeps_or_reconciles_wake_ups() {
        let metrics = Arc::new(Metrics::new());
        let clock = ManualClock::new("2026-11-23T09:10:00Z".parse().expect("instant"));
        let observer = MetricsObserver {
            metrics: metrics.clone(),
            clock: Arc::new(clock),
        };
        for topic in ["orders/updated", "orderflow/sweep", "orderflow/reconcile"] {
            observer.settled(&msg(topic), "done", &Settled::Acked);
        }
        let text = metrics.encode();
        assert!(
            text.lines()
                .any(|l| l == "orderflow_event_lag_seconds_count 1"),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l == "orderflow_messages_total{disposition=\"done\"} 3"),
            "{text}"
        );
    }
}
