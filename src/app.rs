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
use crate::telemetry::Metrics;
use crate::webhook::Receiver;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the HTTP server failed: {0}")]
    Serve(std::io::Error),
}

pub struct App {
    listener: tokio::net::TcpListener,
    router: Router,
    broker: Broker,
    broker_stop: CancellationToken,
    metrics: Arc<Metrics>,
    config: Arc<Config>,
}

#[derive(Clone)]
struct Probes {
    broker: Broker,
    metrics: Arc<Metrics>,
}

impl App {
    /// Binds `server.listen` and starts connecting to the broker in the background: the app
    /// serves (503 on `/webhooks`, not ready on `/readyz`) until the broker answers.
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> Result<Self, AppError> {
        let addr = config.server.listen;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| AppError::Bind { addr, source })?;
        let names = Names::new(config.amqp.prefix.clone());
        let topology = Topology {
            names: names.clone(),
            partitions: config.amqp.partitions,
            delivery_limit: config.amqp.delivery_limit,
        };
        let broker_stop = CancellationToken::new();
        let broker = Broker::start(config.amqp.url.clone(), topology, broker_stop.clone());
        let publisher = Publisher::new(broker.clone(), names, config.amqp.confirm_timeout);
        let metrics = Arc::new(Metrics::new());
        let receiver = Arc::new(Receiver::new(&config, publisher, metrics.clone(), clock));
        let probes = Probes {
            broker: broker.clone(),
            metrics: metrics.clone(),
        };
        let router = receiver.router().merge(
            Router::new()
                .route("/healthz", get(|| async { "ok\n" }))
                .route("/readyz", get(readyz))
                .route("/metrics", get(metrics_text))
                .with_state(probes),
        );
        Ok(Self {
            listener,
            router,
            broker,
            broker_stop,
            metrics,
            config: Arc::new(config),
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
    (
        [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
        p.metrics.encode(),
    )
}
