//! The admin listener (`[admin]`): the ops page at `/`, on an address of its own (loopback by
//! default), apart from the public receiver. With `admin.token` set, every route answers 401
//! unless the request carries `Authorization: Bearer <token>`. Read-only but for
//! `POST /reload`, which re-reads the config file ([`Reloader`]).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use super::reload::Reloader;
use crate::clock::Clock;
use crate::config::Config;
use crate::queue::inspect::{self, QueueDepth};
use crate::queue::{Broker, Names};
use crate::shops::Shops;
use crate::telemetry::Metrics;

pub mod page;
pub mod samples;

use samples::Samples;

/// How often the page reloads itself.
const REFRESH_SECONDS: u32 = 5;
/// A broker that does not answer the depth queries in this time is reported, not waited on.
const QUEUE_QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// What the page reads, shared with the app.
#[derive(Clone)]
pub(super) struct AdminState {
    pub broker: Broker,
    pub names: Names,
    pub partitions: u16,
    pub metrics: Arc<Metrics>,
    /// Fills the scrape-time gauges exactly as `/metrics` does before each render.
    pub refresh: Arc<dyn Fn() + Send + Sync>,
    pub shops: Shops,
    pub clock: Arc<dyn Clock>,
    pub roles: &'static str,
    /// `POST /reload`; `None` when the app was not built from a config file.
    pub reloader: Option<Arc<Reloader>>,
}

pub(super) fn router(config: &Config, state: AdminState) -> Router {
    let token = config.admin.as_ref().and_then(|a| a.token.clone());
    let router = Router::new()
        .route("/", get(ops_page))
        .route("/reload", post(reload))
        .with_state(state);
    match token {
        Some(token) => router.layer(middleware::from_fn_with_state(
            Arc::new(token),
            require_token,
        )),
        None => router,
    }
}

async fn require_token(
    State(token): State<Arc<SecretString>>,
    request: Request,
    next: Next,
) -> Response {
    if bearer_matches(request.headers(), &token) {
        next.run(request).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "401: send Authorization: Bearer <admin.token>\n",
        )
            .into_response()
    }
}

/// Compares digests, so the time taken says nothing about how much of the token was right.
fn bearer_matches(headers: &HeaderMap, token: &SecretString) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let a = Sha256::digest(given.trim().as_bytes());
    let b = Sha256::digest(token.expose_secret().as_bytes());
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

async fn ops_page(State(s): State<AdminState>) -> impl IntoResponse {
    (s.refresh)();
    let samples = Samples::parse(&s.metrics.encode());
    let queues = queue_depths(&s).await;
    let errors = s.metrics.recent.errors();
    let decisions = s.metrics.recent.decisions();
    let shops = shops_to_list(&s, &samples);
    let html = page::render(&page::PageData {
        now: s.clock.now(),
        version: env!("CARGO_PKG_VERSION"),
        roles: s.roles,
        refresh_seconds: REFRESH_SECONDS,
        samples: &samples,
        queues: queues.as_deref().map_err(Clone::clone),
        dead_queue: &s.names.dead_queue(),
        shops: &shops,
        errors: &errors,
        decisions: &decisions,
    });
    ([(header::CACHE_CONTROL, "no-store")], Html(html))
}

/// `POST /reload`: 200 with what changed, 422 with every error (the running config stays),
/// 409 when there is no file to re-read.
async fn reload(State(s): State<AdminState>) -> Response {
    let Some(reloader) = s.reloader else {
        return (
            StatusCode::CONFLICT,
            "409: this process was not started from a config file: nothing to reload\n",
        )
            .into_response();
    };
    // Reads files and takes the registry's locks: off the async threads.
    match tokio::task::spawn_blocking(move || reloader.reload()).await {
        Ok(Ok(reloaded)) => (StatusCode::OK, axum::Json(reloaded)).into_response(),
        Ok(Err(refused)) => (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(refused)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the config reload failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "500: the reload failed; see the log\n",
            )
                .into_response()
        }
    }
}

async fn queue_depths(s: &AdminState) -> Result<Vec<QueueDepth>, String> {
    let queues = inspect::watched_queues(&s.names, s.partitions);
    match tokio::time::timeout(QUEUE_QUERY_TIMEOUT, inspect::depths(&s.broker, &queues)).await {
        Ok(Ok(depths)) => Ok(depths),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!(
            "the broker did not answer within {} s",
            QUEUE_QUERY_TIMEOUT.as_secs()
        )),
    }
}

/// The shops this process knows (configured and installed) and any its metrics name.
fn shops_to_list(s: &AdminState, samples: &Samples) -> Vec<String> {
    let mut shops: BTreeSet<String> = s
        .shops
        .active_domains()
        .iter()
        .map(ToString::to_string)
        .collect();
    for metric in [
        "orderflow_webhook_last_received_timestamp_seconds",
        "orderflow_shop_event_lag_seconds",
    ] {
        shops.extend(samples.label_values(metric, "shop"));
    }
    shops.extend(s.metrics.recent.errors().into_keys());
    shops.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_passes() {
        let token = SecretString::from("a-long-enough-admin-token".to_owned());
        let mut h = HeaderMap::new();
        assert!(!bearer_matches(&h, &token), "no header");
        for (value, ok) in [
            ("Bearer a-long-enough-admin-token", true),
            ("Bearer a-long-enough-admin-tokeN", false),
            ("Bearer a-long-enough-admin", false),
            ("a-long-enough-admin-token", false),
            ("Basic a-long-enough-admin-token", false),
        ] {
            h.insert(header::AUTHORIZATION, value.parse().unwrap());
            assert_eq!(bearer_matches(&h, &token), ok, "{value}");
        }
    }
}
