//! `POST /webhooks`: verify, parse the headers, find the one id routing needs, publish with
//! confirms, and answer 200 only once the broker has the message.
//!
//! Order of checks: size (413), signature (401), headers (400), then everything signed is kept:
//! duplicates are acknowledged, unknown topics counted, unusable bodies dead-lettered with a
//! reason, the rest published. Broker trouble is a 503 so Shopify retries.

pub mod dedupe;
pub mod error;
pub mod headers;
pub mod verify;

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use secrecy::SecretString;

use crate::clock::Clock;
use crate::event::subject::{self, TopicClass};
use crate::event::{Event, Routed, Subject, header, route};
use crate::id::ShopDomain;
use crate::queue::{Outgoing, Publisher};
use crate::shops::Shops;
use crate::telemetry::Metrics;
use dedupe::Dedupe;
pub use error::WebhookError;
use verify::Unverified;

/// Shopify's retries of one delivery span about four hours, but a retry only follows a failed
/// answer, which was never remembered: an hour covers the duplicates a 200 can meet.
const DEDUPE_TTL: Duration = Duration::from_secs(3600);
const DEDUPE_CAPACITY: usize = 200_000;

/// What a 200 meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    Published,
    Duplicate,
    DeadLettered,
    Ignored,
}

impl Accepted {
    fn outcome(self) -> &'static str {
        match self {
            Accepted::Published => "published",
            Accepted::Duplicate => "duplicate",
            Accepted::DeadLettered => "dead_lettered",
            Accepted::Ignored => "ignored",
        }
    }
}

/// Everything the receiver needs, shared by all requests.
pub struct Receiver {
    secrets: Vec<SecretString>,
    /// Read on every delivery, never the store: it is kept current in the background.
    shops: Shops,
    publisher: Publisher,
    partitions: u16,
    max_body_bytes: usize,
    /// `server.max_in_flight`: a permit per webhook being handled.
    in_flight: Semaphore,
    /// `server.request_timeout_ms`: from the headers to the answer.
    request_timeout: Duration,
    dedupe: Dedupe,
    metrics: Arc<Metrics>,
    clock: Arc<dyn Clock>,
}

impl Receiver {
    /// A receiver for the configured shops.
    pub fn new(
        config: &crate::config::Config,
        publisher: Publisher,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self::with_shops(config, Shops::configured(config), publisher, metrics, clock)
    }

    /// A receiver for the shops `shops` knows (configured and installed).
    pub fn with_shops(
        config: &crate::config::Config,
        shops: Shops,
        publisher: Publisher,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            secrets: config.shopify.client_secrets.clone(),
            shops,
            publisher,
            partitions: config.amqp.partitions,
            max_body_bytes: config.server.max_body_bytes,
            in_flight: Semaphore::new(config.server.limits.max_in_flight),
            request_timeout: config.server.limits.request_timeout,
            dedupe: Dedupe::new(
                NonZeroUsize::new(DEDUPE_CAPACITY).expect("non-zero"),
                DEDUPE_TTL,
            ),
            metrics,
            clock,
        }
    }

    /// The `/webhooks` route.
    pub fn router(self: Arc<Self>) -> Router {
        let limit = self.max_body_bytes;
        Router::new()
            .route("/webhooks", post(receive))
            .layer(DefaultBodyLimit::max(limit))
            .with_state(self)
    }

    /// Handles one delivery. Public so benchmarks and tests can drive it without HTTP.
    ///
    /// The hot path of a flash sale: nothing here formats a log line or a span for a delivery
    /// that goes well (those are `debug`), and the message's headers are moved into the publish,
    /// not copied. Every failure is still logged, with the delivery's ids.
    pub async fn handle(&self, headers: &HeaderMap, body: &[u8]) -> Result<Accepted, WebhookError> {
        let signature = headers
            .get("X-Shopify-Hmac-Sha256")
            .and_then(|v| v.to_str().ok());
        let verified = Unverified { body, signature }
            .verify(&self.secrets)
            .inspect_err(|_| {
                self.metrics.hmac_failures.inc();
            })?;
        let meta = headers::parse(headers)?;
        // Signed by Shopify, so its shop's webhooks are arriving; only known shops get a
        // label, so the series stay bounded.
        if let Some(shop) = ShopDomain::parse(&meta.shop)
            .ok()
            .filter(|d| self.shops.get(d).is_some())
        {
            let now = self.clock.now().as_second();
            self.metrics.webhook_received(shop.as_str(), now);
        }
        if self.dedupe.seen(&meta.webhook_id, Instant::now()) {
            self.metrics.dedupe_hits.inc();
            tracing::debug!(webhook_id = %meta.webhook_id, shop = %meta.shop, topic = %meta.topic, "duplicate delivery: already queued");
            return Ok(Accepted::Duplicate);
        }
        let received_at = self.clock.now().to_string();
        let Some(Routed { event, .. }) = route(meta, verified.body, received_at, &self.shops)
        else {
            tracing::debug!(
                webhook_id = header_text(headers, header::WEBHOOK_ID),
                topic = header_text(headers, header::TOPIC),
                "topic not handled by orderflow: acknowledged, not queued"
            );
            return Ok(Accepted::Ignored);
        };
        let (accepted, dead_reason) = match &event.subject {
            Subject::Unusable(u) => {
                tracing::warn!(
                    webhook_id = %event.meta.webhook_id,
                    shop = %event.meta.shop,
                    topic = %event.meta.topic,
                    reason = u.reason.as_str(),
                    detail = %u.detail,
                    "unusable webhook: dead-lettering"
                );
                (Accepted::DeadLettered, Some(u.reason.as_str()))
            }
            _ => (Accepted::Published, None),
        };
        let destination = event.destination(self.partitions);
        let Event { meta, .. } = &event;
        let (webhook_id, topic) = (meta.webhook_id.clone(), meta.topic.clone());
        let outgoing = Outgoing {
            message_id: &webhook_id,
            kind: &topic,
            headers: event.into_headers(),
            body: verified.body,
        };
        let took = self
            .publisher
            .publish(destination, &outgoing)
            .await
            .inspect_err(|e| {
                tracing::warn!(%webhook_id, %topic, error = %e, "publish failed: answering 503 so Shopify retries");
            })?;
        self.metrics
            .publish_confirm_seconds
            .observe(took.as_secs_f64());
        if let Some(reason) = dead_reason {
            self.metrics.dead_lettered(reason);
        }
        self.dedupe.remember(&webhook_id, Instant::now());
        tracing::debug!(%webhook_id, %topic, ?destination, confirm_ms = took.as_millis() as u64, "queued");
        Ok(accepted)
    }
}

/// A header's text for a log line; empty when absent or not text.
fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> &'h str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The route's handler. It takes the request whole, so the headers are read where they are
/// rather than copied into an extractor of their own.
///
/// Load shedding first: past `server.max_in_flight` the answer is an immediate 503, so the
/// webhooks already accepted stay fast. Then one deadline for the rest: a body still arriving
/// at it gets a 408, a publish still unconfirmed a 503 (the message may yet be confirmed; the
/// retry that follows is a duplicate the workers already take in their stride).
async fn receive(State(receiver): State<Arc<Receiver>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let topic = headers
        .get(header::TOPIC)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown");
    let Ok(_slot) = receiver.in_flight.try_acquire() else {
        let e = WebhookError::Saturated;
        receiver.metrics.webhook("unverified", e.outcome());
        return e.into_response();
    };
    let timeout = receiver.request_timeout;
    let deadline = tokio::time::Instant::now() + timeout;
    let body = tokio::time::timeout_at(
        deadline,
        Bytes::from_request(
            Request::from_parts(parts_for_body(parts.extensions), body),
            &(),
        ),
    )
    .await;
    let result = match body {
        Err(_) => Err(WebhookError::SlowBody(timeout)),
        Ok(Ok(body)) => tokio::time::timeout_at(deadline, receiver.handle(&headers, &body))
            .await
            .unwrap_or(Err(WebhookError::Deadline(timeout))),
        Ok(Err(rejection)) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(WebhookError::TooLarge(receiver.max_body_bytes))
        }
        Ok(Err(rejection)) => return rejection.into_response(),
    };
    match result {
        Ok(accepted) => {
            // The topic header is the sender's to choose and the signature does not cover it:
            // only topics orderflow knows get a label of their own, so a replayed body with
            // made-up topics cannot grow the metrics without bound.
            let label = match subject::classify(topic) {
                TopicClass::Other => "other",
                _ => topic,
            };
            receiver.metrics.webhook(label, accepted.outcome());
            (StatusCode::OK, accepted.outcome()).into_response()
        }
        Err(e) => {
            let topic = match e {
                WebhookError::Unauthorized(_)
                | WebhookError::TooLarge(_)
                | WebhookError::SlowBody(_) => "unverified",
                _ => topic,
            };
            receiver.metrics.webhook(topic, e.outcome());
            e.into_response()
        }
    }
}

/// The request parts the body extractor needs: only the extensions, where the body limit
/// (`DefaultBodyLimit`) travels.
fn parts_for_body(extensions: axum::http::Extensions) -> axum::http::request::Parts {
    let (mut parts, ()) = axum::http::Request::new(()).into_parts();
    parts.extensions = extensions;
    parts
}
