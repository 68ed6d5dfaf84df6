//! The sweeper task. It consumes the sweep queue; only the active consumer receives the state
//! message, so only it sweeps (the lock across replicas). It holds every delivery unacked,
//! merges each state it receives (per shop the earliest watermark), sweeps each shop when due
//! and then commits: publishes the merged state, confirmed, and acks what it held. It commits
//! at least every five minutes even when nothing is due, because RabbitMQ closes a channel
//! that holds a delivery past its `consumer_timeout` (30 minutes by default). When the channel
//! is lost it stops at once: the broker hands the state to another consumer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::state::{SweepState, Window};
use super::wake::{SWEEP_TOPIC, Waker, tick, wake};
use crate::clock::Clock;
use crate::config::Config;
use crate::id::ShopDomain;
use crate::queue::lease::{self, Lease};
use crate::queue::{Publisher, QueueError};
use crate::shopify::{Client, ShopifyError};
use crate::shops::Shops;
use crate::telemetry::{Metrics, ShopLabels};

/// The holder commits at least this often, well inside RabbitMQ's 30-minute consumer timeout.
const REFRESH: Duration = Duration::from_secs(300);
/// The longest wait between two looks at the clock (which tests may drive by hand).
const POLL: Duration = Duration::from_secs(1);
/// A shop whose sweep failed is tried again after this (or `every`, if shorter).
const RETRY: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("cannot list the orders updated in the window: {0}")]
    Shopify(#[from] ShopifyError),
    #[error("cannot publish a wake-up: {0}")]
    Queue(#[from] QueueError),
}

/// The sweep of a process that works, with what it needs.
pub struct Sweeper {
    pub every: Duration,
    pub overlap: Duration,
    pub partitions: u16,
    pub publisher: Publisher,
    pub client: Client,
    pub shops: Shops,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
}

/// Marks the shop as being swept while alive, also when the sweep is dropped half-way.
struct Running<'a>(&'a Metrics, &'a str);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.sweep.running(self.1, false);
    }
}

fn whole_second(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

impl Sweeper {
    /// The sweeper `config` asks for, or `None` with `every = "off"`.
    pub fn for_config(
        config: &Config,
        publisher: Publisher,
        client: Client,
        shops: Shops,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
    ) -> Option<Self> {
        Some(Self {
            every: config.sweep.every?,
            overlap: config.sweep.overlap,
            partitions: config.amqp.partitions,
            publisher,
            client,
            shops,
            clock,
            metrics,
        })
    }

    /// Runs until `stop`: on every broker session, consumes the sweep queue, offers a seed so
    /// the holder (perhaps this process) learns it holds the lease, and sweeps while it does.
    pub async fn run(self, stop: CancellationToken) {
        let broker = self.publisher.broker().clone();
        loop {
            let connected = tokio::select! {
                _ = stop.cancelled() => return,
                s = broker.wait_connected(Duration::from_secs(3600)) => s,
            };
            if connected.is_ok() {
                match Lease::open(&self.publisher).await {
                    Ok(mut lease) => {
                        tracing::info!("consuming the sweep queue; offering a seed");
                        let seed = SweepState::default().to_json();
                        if let Err(e) = lease::offer(&self.publisher, &seed).await {
                            tracing::warn!(error = %e, "cannot offer the sweep seed");
                        }
                        self.hold(&mut lease, &stop).await;
                        // Only the holder's watermarks are news; a former holder's would look
                        // stuck to an alert on their age.
                        self.metrics.sweep.watermark.clear();
                        // Closed on every way out: an open channel would keep the state (and
                        // the single-active-consumer slot) from everyone else.
                        lease.close().await;
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot consume the sweep queue"),
                }
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Waits for the state (the lease), then sweeps what is due until the lease is lost or
    /// `stop` fires.
    async fn hold(&self, lease: &mut Lease, stop: &CancellationToken) {
        let lost = lease.lost();
        // A standby waits here. It offers its seed again now and then: if the first offer was
        // lost and the queue is empty, nobody would ever hold the lease.
        let first = loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                m = lease.recv() => break m,
                _ = tokio::time::sleep(REFRESH) => {
                    if let Err(e) = lease::offer(&self.publisher, &SweepState::default().to_json()).await {
                        tracing::warn!(error = %e, "cannot offer the sweep seed");
                    }
                }
            }
        };
        let Some(first) = first else { return };
        let mut state = SweepState::default();
        absorb(&mut state, &first);
        tracing::info!(shops = state.shops.len(), "holding the sweep lease");
        for (shop, watermark) in &state.shops {
            self.metrics.sweep.watermark_at(shop, watermark.as_second());
        }
        let mut committed = Instant::now();
        let mut retry_at: HashMap<ShopDomain, Timestamp> = HashMap::new();
        loop {
            while let Some(body) = lease.try_recv() {
                absorb(&mut state, &body);
            }
            let shops = self.shops.active_domains();
            let now = self.clock.now();
            let due: Vec<(&ShopDomain, Window)> = shops
                .iter()
                .filter(|s| retry_at.get(*s).is_none_or(|t| *t <= now))
                .filter_map(|s| Some((s, state.due(s.as_str(), now, self.every, self.overlap)?)))
                .collect();
            if !due.is_empty()
                && let Err(e) = tick(&self.publisher, self.partitions, now).await
            {
                tracing::warn!(error = %e, "cannot tick the partitions; sweeping all the same");
            }
            for (shop, window) in due {
                let sweep = self.sweep_shop(shop, &window);
                tokio::pin!(sweep);
                // A long sweep (a week-old watermark, a large shop) keeps the lease: the state
                // is republished as it would be between sweeps, or RabbitMQ's consumer_timeout
                // would close the channel and the sweep would start over at every takeover.
                let outcome = loop {
                    let refresh = REFRESH.saturating_sub(committed.elapsed());
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = lost.cancelled() => {
                            tracing::warn!(shop = %shop, "lost the sweep lease during a sweep; stopping it");
                            return;
                        }
                        r = &mut sweep => break r,
                        _ = tokio::time::sleep(refresh) => {
                            while let Some(body) = lease.try_recv() {
                                absorb(&mut state, &body);
                            }
                            if let Err(e) = lease.commit(&state.to_json()).await {
                                tracing::warn!(error = %e, "cannot refresh the sweep state; reopening the lease");
                                return;
                            }
                            committed = Instant::now();
                        }
                    }
                };
                match outcome {
                    Ok(()) => {
                        while let Some(body) = lease.try_recv() {
                            absorb(&mut state, &body);
                        }
                        state.swept(shop.as_str(), &window);
                        if let Err(e) = lease.commit(&state.to_json()).await {
                            tracing::warn!(error = %e, "cannot commit the sweep state; reopening the lease");
                            return;
                        }
                        // Shown once stored: what a takeover would resume from.
                        if let Some(w) = state.shops.get(shop.as_str()) {
                            self.metrics
                                .sweep
                                .watermark_at(shop.as_str(), w.as_second());
                        }
                        committed = Instant::now();
                        retry_at.remove(shop);
                    }
                    Err(e) => {
                        tracing::warn!(shop = %shop, error = %e, "the sweep failed; the next one covers its window");
                        let later = jiff::SignedDuration::try_from(RETRY.min(self.every))
                            .unwrap_or(jiff::SignedDuration::from_secs(30));
                        retry_at.insert(shop.clone(), now.saturating_add(later).unwrap_or(now));
                    }
                }
            }
            self.forget_uninstalled(&mut state);
            // Seeds from standbys pile up in what this holder keeps unacked: commit before
            // the prefetch fills, so the holder's own last state is never stuck behind them.
            if committed.elapsed() >= REFRESH || lease.held() >= lease::PREFETCH_HALF {
                if let Err(e) = lease.commit(&state.to_json()).await {
                    tracing::warn!(error = %e, "cannot refresh the sweep state; reopening the lease");
                    return;
                }
                committed = Instant::now();
            }
            let now = self.clock.now();
            // A shop waiting to retry is due at its retry, not at once.
            let until_due = shops
                .iter()
                .map(|s| {
                    let due = state.due_at(s.as_str(), now, self.every);
                    retry_at.get(s).map_or(due, |r| due.max(*r))
                })
                .min()
                .map(|t| Duration::try_from(t.duration_since(now)).unwrap_or(Duration::ZERO))
                .unwrap_or(POLL);
            let wait = until_due
                .min(POLL)
                .min(REFRESH.saturating_sub(committed.elapsed()))
                .max(Duration::from_millis(10));
            tokio::select! {
                _ = stop.cancelled() => return,
                m = lease.recv() => match m {
                    Some(body) => absorb(&mut state, &body),
                    None => {
                        tracing::warn!("lost the sweep lease");
                        return;
                    }
                },
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Drops the watermarks of shops the registry knows as uninstalled: a shop installed again
    /// starts one interval back like a new one, not from months ago (no webhook could reach
    /// orderflow meanwhile, and a months-long window would be swept and judged as missed).
    fn forget_uninstalled(&self, state: &mut SweepState) {
        state.shops.retain(|shop, _| {
            let uninstalled = ShopDomain::parse(shop)
                .ok()
                .and_then(|d| self.shops.get(&d))
                .is_some_and(|k| k.uninstalled);
            if uninstalled {
                self.metrics
                    .sweep
                    .watermark
                    .remove(&ShopLabels { shop: shop.clone() });
            }
            !uninstalled
        });
    }

    /// One shop's sweep: its orders updated in the window, each woken on its partition.
    async fn sweep_shop(&self, shop: &ShopDomain, window: &Window) -> Result<(), SweepError> {
        let started = Instant::now();
        self.metrics.sweep.running(shop.as_str(), true);
        let _running = Running(&self.metrics, shop.as_str());
        // Whole seconds, as a person would write the search: the earlier start only widens the
        // window; an update in the last partial second is the next sweep's (its overlap).
        let (since, until) = (whole_second(window.since), whole_second(window.start));
        let orders = self.client.orders_updated(shop, since, until).await?;
        let waker = Waker {
            topic: SWEEP_TOPIC,
            partitions: self.partitions,
            now: self.clock.now(),
        };
        let mut judged = 0usize;
        for order in &orders {
            let judge = window.judges(order.updated_at);
            judged += usize::from(judge);
            wake(&self.publisher, waker, shop.as_str(), order, judge).await?;
        }
        let took = started.elapsed();
        self.metrics
            .sweep
            .swept(shop.as_str(), orders.len() as u64, took.as_secs_f64());
        tracing::info!(
            shop = %shop,
            since = %since,
            until = %until,
            woken = orders.len(),
            judged,
            took_ms = took.as_millis() as u64,
            "swept"
        );
        Ok(())
    }
}

/// Merges a state message in; an unreadable one is logged and dropped at the next commit (it
/// cannot lower any watermark, so nothing is lost but what it held).
fn absorb(state: &mut SweepState, body: &[u8]) {
    match SweepState::from_json(body) {
        Ok(other) => state.merge(&other),
        Err(e) => tracing::warn!(error = %e, "ignoring an unreadable sweep state message"),
    }
}
