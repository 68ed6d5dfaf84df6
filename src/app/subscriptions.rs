//! The working process's check of each shop's shop-specific webhook subscriptions: at start,
//! and for every shop that becomes known later (an install, seen by the registry), it lists the
//! shop's subscriptions and compares them with the topics orderflow routes, and again every
//! hour. The result is
//! the gauge `orderflow_webhook_subscriptions_missing{shop}` and, when topics are missing, a
//! warning naming them and the fix. Shopify deletes an API subscription after 8 failed
//! deliveries; this is how a deployment notices without waiting for orders to go unhandled.
//!
//! It runs on the app's task tracker, costs one query per shop, never blocks the workers, and
//! a failure is logged and tried again on the next round, never fatal.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::event::subject::SUBSCRIBED_TOPICS;
use crate::id::ShopDomain;
use crate::shopify::Client;
use crate::shopify::subscriptions::{self, TopicState};
use crate::shops::Shops;
use crate::telemetry::Metrics;

/// How often failed checks are tried again; a shop installed meanwhile is checked at once (the
/// registry says when it changes).
const ROUND: Duration = Duration::from_secs(30);

/// How often a shop checked fine is checked again: Shopify deletes a subscription after 8
/// failed deliveries at any time, not only before a restart. One query per shop per hour.
const RECHECK: Duration = Duration::from_secs(3600);

pub(super) struct SubscriptionCheck {
    client: Client,
    shops: Shops,
    metrics: Arc<Metrics>,
    expected: String,
}

/// What became of a shop's last check.
enum Checked {
    /// Checked at this instant (the monotonic clock); checked again after [`RECHECK`].
    Done(tokio::time::Instant),
    /// Failed this many times in a row; tried again next round, warned about only once.
    Failed(u32),
}

impl SubscriptionCheck {
    /// The check, if `[webhooks] check` is on and `shopify.app_url` says where subscriptions
    /// should deliver (without it there is nothing to compare with: an info line, once).
    pub(super) fn new(
        config: &Config,
        client: Client,
        shops: Shops,
        metrics: Arc<Metrics>,
    ) -> Option<Self> {
        if !config.webhooks.check {
            tracing::info!("[webhooks] check = false: the shops' subscriptions are not checked");
            return None;
        }
        let Some(app_url) = config.auth.app_url.as_deref() else {
            tracing::info!(
                "shopify.app_url is not set: the shops' webhook subscriptions are not checked"
            );
            return None;
        };
        Some(Self {
            client,
            shops,
            metrics,
            expected: subscriptions::webhooks_uri(app_url),
        })
    }

    /// Checks every active shop not checked yet, then again whenever the registry changes (an
    /// install) and every [`ROUND`] (failed checks), until `stop`. An uninstalled shop is
    /// forgotten, so a re-install is checked again.
    pub(super) async fn run(self, stop: CancellationToken) {
        let mut seen: HashMap<ShopDomain, Checked> = HashMap::new();
        let mut changed = self.shops.changed();
        loop {
            changed.mark_unchanged();
            let active = self.shops.active_domains();
            seen.retain(|d, _| {
                let keep = active.contains(d);
                if !keep {
                    // A shop no longer installed has no subscriptions to miss.
                    self.metrics.forget_subscriptions(d.as_str());
                }
                keep
            });
            for shop in active {
                if matches!(seen.get(&shop), Some(Checked::Done(at)) if at.elapsed() < RECHECK) {
                    continue;
                }
                let failures = match seen.get(&shop) {
                    Some(Checked::Failed(n)) => *n,
                    _ => 0,
                };
                let outcome = tokio::select! {
                    () = stop.cancelled() => return,
                    outcome = self.check(&shop, failures) => outcome,
                };
                seen.insert(shop, outcome);
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(ROUND) => {}
                // The sender lives as long as the registry, which this task holds.
                _ = changed.changed() => {}
            }
        }
    }

    async fn check(&self, shop: &ShopDomain, failures: u32) -> Checked {
        let subs = match self.client.webhook_subscriptions(shop).await {
            Ok(subs) => subs,
            Err(e) => {
                if failures == 0 {
                    tracing::warn!(shop = %shop, error = %e, "cannot list the shop's webhook subscriptions; trying again later");
                } else {
                    tracing::debug!(shop = %shop, error = %e, failures, "still cannot list the shop's webhook subscriptions");
                }
                return Checked::Failed(failures + 1);
            }
        };
        let states = subscriptions::compare(&self.expected, SUBSCRIBED_TOPICS, &subs);
        let bad: Vec<String> = states
            .iter()
            .filter_map(|(topic, state)| match state {
                TopicState::Ok => None,
                TopicState::Missing => Some(format!("{topic} (missing)")),
                TopicState::Elsewhere(uris) => {
                    Some(format!("{topic} (to {} only)", uris.join(", ")))
                }
            })
            .collect();
        self.metrics.subscriptions_missing(shop.as_str(), bad.len());
        if bad.is_empty() {
            tracing::info!(shop = %shop, topics = states.len(), uri = %self.expected, "every webhook topic is subscribed");
        } else {
            tracing::warn!(
                shop = %shop,
                topics = %bad.join(", "),
                uri = %self.expected,
                "webhook topics not delivered to orderflow: run `orderflow webhooks sync --shop {shop}` \
                 (or set [webhooks] check = false if the app declares them in shopify.app.toml)"
            );
        }
        Checked::Done(tokio::time::Instant::now())
    }
}
