//! The composition root: builds the receiver and the workers from a `Config`, binds the listener
//! (port 0 works, for tests), and runs until the shutdown token fires; it owns every task the
//! app spawns, so a shutdown can wait for all of them within one grace period.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::{AuthError, Tokens};
use crate::clock::Clock;
use crate::config::Config;
use crate::event::DeadLetterReason;
use crate::queue::{Broker, Publisher, Topology};
use crate::shopify::{Client, ClientMetrics, RetryPolicy, ShopMetrics};
use crate::shops::{Follower, Shops};
/// The token store when `[store]` is set; see [`crate::store::open_store`].
pub use crate::store::open_store;
use crate::store::{LazyStore, StoreError};
use crate::sweep::Sweeper;
use crate::telemetry::{Metrics, ShopSample};
use crate::webhook::Receiver;

mod admin;
mod http;
pub mod reload;
mod subscriptions;
mod workers;

pub use workers::MetricsObserver;
use workers::{Shared, Workers};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("cannot listen on {addr} (admin.listen): {source}")]
    BindAdmin {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the HTTP server failed: {0}")]
    Serve(std::io::Error),
    #[error("cannot build the Shopify client: {0}")]
    Client(reqwest::Error),
    #[error("cannot set up the shops' tokens: {0}")]
    Auth(#[from] AuthError),
    #[error("the token store: {0}")]
    Store(#[from] StoreError),
}

/// Which parts of orderflow this process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    /// `POST /webhooks`.
    pub receive: bool,
    /// The partition and compliance consumers.
    pub work: bool,
}

impl Roles {
    pub const ALL: Roles = Roles {
        receive: true,
        work: true,
    };
    pub const RECEIVE: Roles = Roles {
        receive: true,
        work: false,
    };
    pub const WORK: Roles = Roles {
        receive: false,
        work: true,
    };

    /// As the ops page names them.
    pub fn name(self) -> &'static str {
        match (self.receive, self.work) {
            (true, true) => "receive + work",
            (true, false) => "receive",
            (false, true) => "work",
            (false, false) => "probes only",
        }
    }
}

pub struct App {
    listener: tokio::net::TcpListener,
    router: Router,
    /// The admin listener and its routes (`[admin]`), when configured.
    admin: Option<(tokio::net::TcpListener, Router)>,
    broker: Broker,
    broker_stop: CancellationToken,
    metrics: Arc<Metrics>,
    config: Arc<Config>,
    workers: Option<Workers>,
    /// The periodic sweep, in a process that works with `[sweep]` on.
    sweeper: Option<Sweeper>,
    store: Option<LazyStore>,
    /// Keeps the known shops current from the store, while the app runs.
    follower: Option<Follower>,
    /// The working process's check of each shop's webhook subscriptions.
    subscription_check: Option<subscriptions::SubscriptionCheck>,
    /// Re-reads the config file on SIGHUP or `POST /reload` (a config loaded from a file).
    reloader: Option<Arc<reload::Reloader>>,
}

#[derive(Clone)]
struct Probes {
    broker: Broker,
    metrics: Arc<Metrics>,
    client: Option<Client>,
    /// Turns the client's monotonic instants into the wall time the metrics carry.
    clock: Arc<dyn Clock>,
}

impl App {
    /// Binds `server.listen` and starts connecting to the broker in the background: the app
    /// serves (503 on `/webhooks`, not ready on `/readyz`) until the broker answers.
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> Result<Self, AppError> {
        Self::build_with(config, clock, Roles::ALL).await
    }

    /// Like `build`, running only `roles`. `/healthz`, `/readyz` and `/metrics` are always
    /// served.
    pub async fn build_with(
        config: Config,
        clock: Arc<dyn Clock>,
        roles: Roles,
    ) -> Result<Self, AppError> {
        let addr = config.server.listen;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| AppError::Bind { addr, source })?;
        let admin_listener = match &config.admin {
            Some(admin) => Some(
                tokio::net::TcpListener::bind(admin.listen)
                    .await
                    .map_err(|source| AppError::BindAdmin {
                        addr: admin.listen,
                        source,
                    })
                    .inspect(|l| {
                        if let Ok(at) = l.local_addr() {
                            tracing::info!(
                                "the ops page is served on http://{at}/ (admin listener{})",
                                if admin.token.is_some() {
                                    ", bearer token required"
                                } else {
                                    ""
                                }
                            );
                        }
                    })?,
            ),
            None => None,
        };
        let topology = Topology::for_config(&config.amqp);
        let names = topology.names.clone();
        let broker_stop = CancellationToken::new();
        let broker = Broker::start(config.amqp.urls.clone(), topology, broker_stop.clone());
        let publisher = Publisher::new(broker.clone(), names.clone(), config.amqp.confirm_timeout)
            .with_clock(clock.clone());
        let metrics = Arc::new(Metrics::new());
        metrics.zero_dead_letters(DeadLetterReason::ALL.iter().map(|r| r.as_str()));
        metrics.zero_coalesced(
            crate::worker::coalesce::Reason::ALL
                .iter()
                .map(|r| r.as_str()),
        );
        let store = open_store(&config).await;
        let config = Arc::new(config);
        let (shops, follower) = Shops::open(&config, store.as_ref()).await;
        let reloader = reload::Reloader::new(&config, shops.clone(), metrics.clone()).map(Arc::new);
        if let Some(source) = &config.source {
            metrics.config_info.set(&source.sha256);
            tracing::info!(sha256 = %source.sha256, file = %source.path.display(), "config version active");
        }
        let mut subscription_check = None;
        let (workers, client) = if roles.work {
            let token_store = store.as_ref().map(LazyStore::token_store);
            let tokens = Tokens::new(&config, clock.clone(), token_store)?;
            let client = Client::with_registry(
                &config.shopify,
                shops.clone(),
                RetryPolicy::default(),
                tokens,
            )
            .map_err(AppError::Client)?;
            subscription_check = subscriptions::SubscriptionCheck::new(
                &config,
                client.clone(),
                shops.clone(),
                metrics.clone(),
            );
            let shared = Shared {
                shops: shops.clone(),
                store: store.clone(),
            };
            let workers = Workers::new(
                &config,
                &names,
                publisher.clone(),
                client.clone(),
                shared,
                metrics.clone(),
                clock.clone(),
            );
            (Some(workers), Some(client))
        } else {
            (None, None)
        };
        let sweeper = client.clone().and_then(|client| {
            Sweeper::for_config(
                &config,
                publisher.clone(),
                client,
                shops.clone(),
                clock.clone(),
                metrics.clone(),
            )
        });
        let admin = admin_listener.map(|l| {
            let probes = Probes {
                broker: broker.clone(),
                metrics: metrics.clone(),
                client: client.clone(),
                clock: clock.clone(),
            };
            let state = admin::AdminState {
                broker: broker.clone(),
                names: names.clone(),
                partitions: config.amqp.partitions,
                metrics: metrics.clone(),
                refresh: Arc::new(move || probes.refresh_gauges()),
                shops: shops.clone(),
                clock: clock.clone(),
                roles: roles.name(),
                reloader: reloader.clone(),
            };
            (l, admin::router(&config, state))
        });
        let probes = Probes {
            broker: broker.clone(),
            metrics: metrics.clone(),
            client,
            clock: clock.clone(),
        };
        let mut router = Router::new()
            .route("/healthz", get(|| async { "ok\n" }))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics_text))
            .with_state(probes);
        if roles.receive {
            router = router.merge(
                crate::install::router(&config, clock.clone(), store.clone())
                    .map_err(AppError::Client)?,
            );
            let receiver = Receiver::with_shops(&config, shops, publisher, metrics.clone(), clock);
            let receiver = Arc::new(receiver);
            router = router.merge(receiver.router());
        }
        Ok(Self {
            listener,
            router,
            admin,
            broker,
            broker_stop,
            metrics,
            config,
            workers,
            sweeper,
            follower,
            subscription_check,
            store,
            reloader,
        })
    }

    /// What re-reads the config file the app was built from (`None`: not built from a file).
    /// The caller decides what triggers it (the command line: SIGHUP).
    pub fn reloader(&self) -> Option<Arc<reload::Reloader>> {
        self.reloader.clone()
    }

    /// The token store, when `[store]` is set (it may not be connected yet).
    pub fn store(&self) -> Option<&LazyStore> {
        self.store.as_ref()
    }

    /// The admin listener's address, when `[admin]` is configured.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin
            .as_ref()
            .map(|(l, _)| l.local_addr().expect("a bound listener has an address"))
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn broker(&self) -> &Broker {
        &self.broker
    }

    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    pub fn config(&self) -> Arc<Config> {
        self.config.clone()
    }

    /// Completes once this process's consumers may act: the control stream (the paused shops)
    /// has been read to its end. At once for a process that does not work. Until then its
    /// consumers do not start, so whatever is queued meanwhile is taken afterwards in any order.
    pub fn workers_ready(&self) -> impl Future<Output = ()> + Send + 'static {
        let paused = self.workers.as_ref().map(|w| w.control.paused.clone());
        async move {
            if let Some(paused) = paused {
                paused.caught_up().await;
            }
        }
    }

    /// Serves until `shutdown` fires, then stops accepting; in-flight requests (and their
    /// publishes) and the message each worker holds are finished, and the broker connection is
    /// closed, all within one `server.shutdown_grace`. A task still running at the deadline is
    /// aborted (a worker's message is then redelivered), so none outlives the app.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> Result<(), AppError> {
        let grace = self.config.server.shutdown_grace;
        let tasks = TaskTracker::new();
        let stop = shutdown.clone();
        let serve = http::serve(self.listener, self.router, self.config.server.limits, stop);
        let mut serve = tasks.spawn(serve);
        // The admin listener stops with the rest; a page being rendered is not worth waiting
        // for, so it is among the background tasks aborted at the deadline.
        let mut background = Vec::new();
        if let Some((listener, router)) = self.admin {
            let stop = shutdown.clone();
            let admin = axum::serve(listener, router)
                .with_graceful_shutdown(async move { stop.cancelled().await });
            background.push(tasks.spawn(async move {
                if let Err(e) = admin.await {
                    tracing::warn!(error = %e, "the admin listener failed");
                }
            }));
        }
        let mut workers: Vec<_> = self
            .workers
            .into_iter()
            .flat_map(|w| {
                // The paused shops' follower: a background task, the consumers wait for it.
                background.push(tasks.spawn(w.control.run(shutdown.clone())));
                [
                    tasks.spawn(w.orders.run(shutdown.clone())),
                    tasks.spawn(w.compliance.run(shutdown.clone())),
                ]
            })
            .collect();
        // Tasks beside the serving and the working: they stop on the token, and whatever of
        // them is still running at the deadline is aborted like a worker.
        if let Some(follower) = self.follower {
            background.push(tasks.spawn(follower.run(shutdown.clone())));
        }
        if let Some(check) = self.subscription_check {
            background.push(tasks.spawn(check.run(shutdown.clone())));
        }
        if let Some(sweeper) = self.sweeper {
            background.push(tasks.spawn(sweeper.run(shutdown.clone())));
        }
        tasks.close();
        shutdown.cancelled().await;
        tracing::info!(
            grace_ms = grace.as_millis() as u64,
            "shutting down: draining in-flight webhooks"
        );
        // One deadline for every step below: the HTTP server and the workers drain at the same
        // time (both saw the token), then the connection they publish on is closed.
        let deadline = Instant::now() + grace;
        let result = match tokio::time::timeout_at(deadline, &mut serve).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(AppError::Serve(e)),
            Ok(Err(join)) => Err(AppError::Serve(std::io::Error::other(join))),
            Err(_) => {
                tracing::warn!("in-flight requests did not finish within the grace period");
                serve.abort();
                Ok(())
            }
        };
        // Workers finish the message in hand and settle it before their loops end.
        let drained = tokio::time::timeout_at(deadline, async {
            for worker in &mut workers {
                let _ = worker.await;
            }
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                "workers did not finish their messages within the grace period; they will be redelivered"
            );
            workers.iter().for_each(JoinHandle::abort);
        }
        if tokio::time::timeout_at(deadline, tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                "background tasks (sweep, subscription check) did not stop within the grace period"
            );
            background.iter().for_each(JoinHandle::abort);
        }
        // Everything is finished or aborted; an aborted task ends at its next await point.
        tasks.wait().await;
        self.broker_stop.cancel();
        if tokio::time::timeout_at(deadline, self.broker.closed())
            .await
            .is_err()
        {
            tracing::warn!("the broker connection did not close within the grace period");
        }
        if let Some(store) = self.store.as_ref().and_then(LazyStore::connected)
            && tokio::time::timeout_at(deadline, store.close())
                .await
                .is_err()
        {
            tracing::warn!("the token store's connections did not close within the grace period");
        }
        result
    }
}

async fn readyz(State(p): State<Probes>) -> impl IntoResponse {
    if p.broker.is_ready() {
        (StatusCode::OK, "ready\n")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: no broker connection\n",
        )
    }
}

impl Probes {
    /// The gauges that are read at scrape time (the broker's state, the client's counters).
    fn refresh_gauges(&self) {
        self.metrics
            .broker_connected
            .set(i64::from(self.broker.is_ready()));
        if let Some(client) = &self.client {
            copy_client(&self.metrics, &client.metrics());
            copy_shops(&self.metrics, &client.shop_metrics(), self.clock.now());
        }
    }
}

async fn metrics_text(State(p): State<Probes>) -> impl IntoResponse {
    p.refresh_gauges();
    (
        [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
        p.metrics.encode(),
    )
}

/// Copies the Shopify client's own counters (they live in the client, shared by its clones)
/// into the gauges, at scrape time. Here, where both are known, so `telemetry` does not depend
/// on `shopify`.
fn copy_client(metrics: &Metrics, c: &ClientMetrics) {
    metrics.shopify_points.set(c.actual_cost as i64);
    metrics
        .shopify_throttle_wait_ms
        .set(c.throttle_wait_ms as i64);
    metrics.shopify_retries.set(c.retries as i64);
    metrics.shopify_throttled.set(c.throttled as i64);
}

/// Copies each shop's figures from the client. When a call last succeeded is kept as an
/// `Instant`; it becomes wall time here, as now on the app's clock minus the time since.
fn copy_shops(metrics: &Metrics, shops: &[ShopMetrics], now: jiff::Timestamp) {
    for s in shops {
        let last_success_unix = s
            .last_success
            .map(|at| now.as_second() - at.elapsed().as_secs() as i64);
        metrics.shopify_shops.copy(&ShopSample {
            shop: s.shop.as_str(),
            points_spent: s.actual_cost,
            throttled: s.throttled,
            throttle_wait_ms: s.throttle_wait_ms,
            errors: &s.errors,
            last_success_unix,
            available: s.available,
            maximum: s.maximum,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_every_client_counter_including_absorbed_throttles() {
        let m = Metrics::new();
        copy_client(
            &m,
            &ClientMetrics {
                requests: 9,
                retries: 1,
                throttled: 3,
                throttle_wait_ms: 250,
                actual_cost: 42,
            },
        );
        let text = m.encode();
        for line in [
            "orderflow_shopify_points_spent 42",
            "orderflow_shopify_throttle_wait_milliseconds 250",
            "orderflow_shopify_retries 1",
            "orderflow_shopify_throttled 3",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in {text}");
        }
    }
}
