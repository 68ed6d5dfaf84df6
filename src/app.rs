//! The composition root: builds the receiver (and, later, the workers) from a `Config`, binds
//! the listener (port 0 works, for tests), and runs until the shutdown token fires.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::Config;
use crate::queue::{Broker, Names, Publisher, Topology};
use crate::shopify::Client;
use crate::telemetry::Metrics;
use crate::webhook::Receiver;
use crate::worker::compliance::{ComplianceHandler, Uninstalled};
use crate::worker::order::OrderHandler;
use crate::worker::{Consumers, Incoming, Observer, Settled, Settler};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the HTTP server failed: {0}")]
    Serve(std::io::Error),
    #[error("cannot build the Shopify client: {0}")]
    Client(reqwest::Error),
}

impl Workers {
    fn new(
        config: &Arc<Config>,
        names: &Names,
        publisher: Publisher,
        client: Client,
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
        let uninstalled = Uninstalled::default();
        let broker = publisher.broker().clone();
        let orders = Arc::new(Consumers {
            broker: broker.clone(),
            settler: settler.clone(),
            handler: Arc::new(OrderHandler {
                client,
                config: config.clone(),
                clock: clock.clone(),
                uninstalled: uninstalled.clone(),
                metrics,
            }),
            observer: observer.clone(),
            clock: clock.clone(),
            queues: (0..config.amqp.partitions)
                .map(|p| names.partition_queue(p))
                .collect(),
        });
        let compliance = Arc::new(Consumers {
            broker,
            settler,
            handler: Arc::new(ComplianceHandler {
                publisher,
                uninstalled,
            }),
            observer,
            clock,
            queues: vec![names.compliance_queue()],
        });
        Self { orders, compliance }
    }
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
}

pub struct App {
    listener: tokio::net::TcpListener,
    router: Router,
    broker: Broker,
    broker_stop: CancellationToken,
    metrics: Arc<Metrics>,
    config: Arc<Config>,
    workers: Option<Workers>,
}

/// The consumers of a process that works, and what they share.
struct Workers {
    orders: Arc<Consumers<OrderHandler, MetricsObserver>>,
    compliance: Arc<Consumers<ComplianceHandler, MetricsObserver>>,
}

#[derive(Clone)]
struct Probes {
    broker: Broker,
    metrics: Arc<Metrics>,
    client: Option<Client>,
}

/// Counts settled messages and the lag from Shopify's trigger to the ack.
pub struct MetricsObserver {
    metrics: Arc<Metrics>,
    clock: Arc<dyn Clock>,
}

impl Observer for MetricsObserver {
    fn settled(&self, msg: &Incoming, disposition: &str, _settled: &Settled) {
        self.metrics.message(disposition);
        if let Some(triggered) = msg
            .header(crate::event::header::TRIGGERED_AT)
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        {
            let lag = self.clock.now().duration_since(triggered);
            self.metrics
                .event_lag_seconds
                .observe(lag.as_secs_f64().max(0.0));
        }
    }
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
        let topology = Topology::for_config(&config.amqp);
        let names = topology.names.clone();
        let broker_stop = CancellationToken::new();
        let broker = Broker::start(config.amqp.url.clone(), topology, broker_stop.clone());
        let publisher = Publisher::new(broker.clone(), names.clone(), config.amqp.confirm_timeout)
            .with_clock(clock.clone());
        let metrics = Arc::new(Metrics::new());
        let config = Arc::new(config);
        let (workers, client) = if roles.work {
            let client = Client::new(&config.shopify, &config.shops).map_err(AppError::Client)?;
            let workers = Workers::new(
                &config,
                &names,
                publisher.clone(),
                client.clone(),
                metrics.clone(),
                clock.clone(),
            );
            (Some(workers), Some(client))
        } else {
            (None, None)
        };
        let probes = Probes {
            broker: broker.clone(),
            metrics: metrics.clone(),
            client,
        };
        let mut router = Router::new()
            .route("/healthz", get(|| async { "ok\n" }))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics_text))
            .with_state(probes);
        if roles.receive {
            let receiver = Arc::new(Receiver::new(&config, publisher, metrics.clone(), clock));
            router = router.merge(receiver.router());
        }
        Ok(Self {
            listener,
            router,
            broker,
            broker_stop,
            metrics,
            config,
            workers,
        })
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

    /// Serves until `shutdown` fires, then stops accepting, lets in-flight requests (and their
    /// publishes) finish within `server.shutdown_grace`, and closes the broker connection.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> Result<(), AppError> {
        let grace = self.config.server.shutdown_grace;
        let stop = shutdown.clone();
        let serve = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(async move { stop.cancelled().await });
        let serve = tokio::spawn(async move { serve.await });
        let workers = self.workers.map(|w| {
            let stop = shutdown.clone();
            let orders = tokio::spawn(w.orders.run(stop.clone()));
            let compliance = tokio::spawn(w.compliance.run(stop));
            (orders, compliance)
        });
        // Wait for the signal, then give in-flight requests the grace period.
        shutdown.cancelled().await;
        tracing::info!(
            grace_ms = grace.as_millis() as u64,
            "shutting down: draining in-flight webhooks"
        );
        let result = match tokio::time::timeout(grace, serve).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(AppError::Serve(e)),
            Ok(Err(join)) => Err(AppError::Serve(std::io::Error::other(join))),
            Err(_) => {
                tracing::warn!("in-flight requests did not finish within the grace period");
                Ok(())
            }
        };
        // Workers finish the message in hand and settle it before their loops end.
        if let Some((orders, compliance)) = workers {
            let drained = tokio::time::timeout(grace, async {
                let _ = orders.await;
                let _ = compliance.await;
            })
            .await;
            if drained.is_err() {
                tracing::warn!(
                    "workers did not finish their messages within the grace period; they will be redelivered"
                );
            }
        }
        self.broker_stop.cancel();
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

async fn metrics_text(State(p): State<Probes>) -> impl IntoResponse {
    p.metrics
        .broker_connected
        .set(i64::from(p.broker.is_ready()));
    if let Some(client) = &p.client {
        p.metrics.copy_client(&client.metrics());
    }
    (
        [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
        p.metrics.encode(),
    )
}
