//! [`Client`]: the one way orderflow talks to Shopify. It sends only the registered documents,
//! only to known shops (configured, or installed: [`Shops`]), waits for room in each shop's cost
//! bucket before sending, retries what is worth retrying, and returns classified
//! [`ShopifyError`]s.
//!
//! Each request carries the shop's current token from [`Tokens`]; a 401 to a token that can be
//! renewed (every mode but `static`) renews it and sends the request once more.
//!
//! Cheap to clone: one connection pool, one throttle per shop and one set of counters, shared by
//! every task of the process.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use super::answer;
use super::cost;
use super::counters::Counters;
pub use super::counters::{ClientMetrics, ShopMetrics};
use super::documents::Document;
pub use super::endpoint::endpoint;
use super::endpoint::{Shop, target};
use super::error::{AttemptError, ShopifyError, network_reason};
use super::retry::{RetryPolicy, backoff};
use super::throttle::{QueryCost, Throttle};
use super::token::token_error;
use crate::auth::Tokens;
use crate::clock::SystemClock;
use crate::config::{ShopConfig, ShopifyConfig};
use crate::id::ShopDomain;
use crate::shops::Shops;

/// Longest single sleep while waiting for room in a cost bucket.
const MAX_THROTTLE_POLL: Duration = Duration::from_millis(100);

struct Inner {
    http: reqwest::Client,
    shops: HashMap<ShopDomain, Shop>,
    /// The shops installed since start are learnt here; `shops` is then empty.
    registry: Option<Shops>,
    api_version: String,
    throttles: Mutex<HashMap<ShopDomain, Throttle>>,
    retry: RetryPolicy,
    counters: Counters,
    tokens: Tokens,
}

#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Endpoints only: the tokens stay out of Debug.
        f.debug_struct("Client")
            .field("shops", &self.inner.shops.keys().collect::<Vec<_>>())
            .field("registry", &self.inner.registry)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the configured shops. Only these are ever called.
    pub fn new(shopify: &ShopifyConfig, shops: &[ShopConfig]) -> Result<Self, reqwest::Error> {
        Self::with_retry(shopify, shops, RetryPolicy::default())
    }

    /// A client sending each shop's configured `access_token` (static mode).
    pub fn with_retry(
        shopify: &ShopifyConfig,
        shops: &[ShopConfig],
        retry: RetryPolicy,
    ) -> Result<Self, reqwest::Error> {
        // Static tokens never expire here, so the clock is never read.
        let tokens = Tokens::configured(shops, Arc::new(SystemClock));
        Self::with_tokens(shopify, shops, retry, tokens)
    }

    /// A client taking each shop's token from `tokens` (every mode).
    pub fn with_tokens(
        shopify: &ShopifyConfig,
        shops: &[ShopConfig],
        retry: RetryPolicy,
        tokens: Tokens,
    ) -> Result<Self, reqwest::Error> {
        Self::build(shopify, shops, None, retry, tokens)
    }

    /// A client for the shops `registry` knows at the time of each call: the configured ones
    /// and those installed in the token store since (endpoint from `shopify.admin_url`, else
    /// `https://{shop}`).
    pub fn with_registry(
        shopify: &ShopifyConfig,
        registry: Shops,
        retry: RetryPolicy,
        tokens: Tokens,
    ) -> Result<Self, reqwest::Error> {
        Self::build(shopify, &[], Some(registry), retry, tokens)
    }

    fn build(
        shopify: &ShopifyConfig,
        shops: &[ShopConfig],
        registry: Option<Shops>,
        retry: RetryPolicy,
        tokens: Tokens,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(retry.request_timeout)
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("orderflow/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let shops = shops
            .iter()
            .map(|s| (s.domain.clone(), target(s, &shopify.api_version)))
            .collect();
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                shops,
                registry,
                api_version: shopify.api_version.clone(),
                throttles: Mutex::new(HashMap::new()),
                retry,
                counters: Counters::default(),
                tokens,
            }),
        })
    }

    /// Parses a shop domain from untrusted input (a webhook header, a CLI argument) and checks
    /// that it is configured: the only way to turn a string into a shop this client will call.
    pub fn configured_shop(&self, raw: &str) -> Result<ShopDomain, ShopifyError> {
        let domain =
            ShopDomain::parse(raw).map_err(|_| ShopifyError::UnknownShop(raw.to_owned()))?;
        if self.target(&domain).is_some() {
            Ok(domain)
        } else {
            Err(ShopifyError::UnknownShop(raw.to_owned()))
        }
    }

    pub fn metrics(&self) -> ClientMetrics {
        self.inner.counters.snapshot()
    }

    /// Each called shop's counters, with its cost bucket as the model holds it now.
    pub fn shop_metrics(&self) -> Vec<ShopMetrics> {
        let mut throttles = self
            .inner
            .throttles
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let known = match &self.inner.registry {
            Some(registry) => registry.active_domains(),
            None => self.inner.shops.keys().cloned().collect(),
        };
        self.inner
            .counters
            .shops(&known, &mut throttles, Instant::now())
    }

    /// The shop's bucket as the client's model holds it now: (points available, restore rate
    /// per second). Before the shop's first answer, the cautious assumption the model starts
    /// with; after it, what Shopify reported.
    pub fn bucket(&self, shop: &ShopDomain) -> (f64, f64) {
        let now = Instant::now();
        let mut throttles = self
            .inner
            .throttles
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let t = throttles
            .entry(shop.clone())
            .or_insert_with(|| Throttle::new(now));
        (t.available(now), t.restore_rate())
    }

    /// Runs one registered document and deserialises its `data`.
    pub async fn execute<T: DeserializeOwned>(
        &self,
        shop: &ShopDomain,
        document: &Document,
        variables: serde_json::Value,
    ) -> Result<T, ShopifyError> {
        let data = self.execute_raw(shop, document, variables).await?;
        serde_json::from_value(data).map_err(|e| ShopifyError::Schema {
            shop: shop.clone(),
            operation: document.operation(),
            message: format!("unexpected answer shape: {e}"),
        })
    }

    /// Runs one registered document and returns its `data` as JSON.
    pub async fn execute_raw(
        &self,
        shop: &ShopDomain,
        document: &Document,
        variables: serde_json::Value,
    ) -> Result<serde_json::Value, ShopifyError> {
        // Refused before anything is sent, and before the token is even looked at.
        let target = self
            .target(shop)
            .ok_or_else(|| ShopifyError::UnknownShop(shop.to_string()))?;
        let estimate = cost::estimate(document, &variables);
        let span = tracing::info_span!(
            "shopify",
            shop = %shop,
            operation = document.operation(),
            cost = estimate,
            attempt = tracing::field::Empty,
        );
        let result = self
            .send_with_retries(shop, &target, document, &variables, estimate)
            .instrument(span)
            .await;
        // Only a shop with a target gets here, so the per-shop series stay bounded.
        let counters = &self.inner.counters;
        match &result {
            Ok(_) => counters.shop(shop, |c| c.succeeded(Instant::now())),
            Err(e) => counters.shop(shop, |c| c.failed(e.class())),
        }
        result
    }

    async fn send_with_retries(
        &self,
        shop: &ShopDomain,
        target: &Shop,
        document: &Document,
        variables: &serde_json::Value,
        estimate: f64,
    ) -> Result<serde_json::Value, ShopifyError> {
        let policy = &self.inner.retry;
        let body = serde_json::json!({
            "query": document.text(),
            "operationName": document.operation(),
            "variables": variables,
        });
        let mut failures = 0u32;
        let mut throttled = 0u32;
        let mut last_reason: String;
        let mut renewed = false;
        let tokens = &self.inner.tokens;
        loop {
            let attempt = failures + throttled + 1;
            tracing::Span::current().record("attempt", attempt);
            let token = tokens
                .access_token(shop)
                .await
                .map_err(|e| token_error(shop, document, e))?;
            self.wait_for_room(shop, estimate).await;
            let (result, reported) = self.attempt(shop, target, &token, document, &body).await;
            self.settle(shop, estimate, reported.as_ref());
            match result {
                Ok(data) => return Ok(data),
                // Expired or revoked early: renew once; a second 401 is today's Unauthorized. A
                // 401 means nothing ran, so a mutation too is safe to send again.
                Err(AttemptError::Fatal(ShopifyError::Unauthorized { status: 401, .. }))
                    if !renewed && tokens.renews(shop) =>
                {
                    renewed = true;
                    tokens.rejected(shop, &token);
                    tracing::info!("Shopify refused the token, renewing it");
                }
                Err(AttemptError::Fatal(e)) => return Err(e),
                Err(AttemptError::Throttled(retry_after)) => {
                    throttled += 1;
                    self.inner
                        .counters
                        .throttled
                        .fetch_add(1, Ordering::Relaxed);
                    self.inner.counters.shop(shop, |c| c.throttled());
                    last_reason = "THROTTLED".to_owned();
                    if throttled > policy.max_throttled {
                        break;
                    }
                    tracing::debug!("throttled by Shopify, waiting for room");
                    if let Some(delay) = retry_after {
                        tokio::time::sleep(delay).await;
                    }
                }
                Err(AttemptError::Retryable(reason)) => {
                    failures += 1;
                    last_reason = reason;
                    // A timeout, a cut connection or a 5xx leaves it unknown whether a mutation
                    // ran. Sending it again blind could do it twice; the caller re-reads the
                    // order and plans again instead.
                    if failures >= policy.max_attempts || document.is_mutation() {
                        break;
                    }
                    self.inner.counters.retries.fetch_add(1, Ordering::Relaxed);
                    let backoff = backoff(policy, failures);
                    tracing::warn!(reason = %last_reason, backoff_ms = backoff.as_millis() as u64, "retrying Shopify call");
                    tokio::time::sleep(backoff).await;
                }
            }
        }
        Err(ShopifyError::Transient {
            shop: shop.clone(),
            operation: document.operation(),
            attempts: failures + throttled,
            reason: last_reason,
        })
    }

    /// Where `shop`'s requests go, if it is a shop this client calls.
    fn target(&self, shop: &ShopDomain) -> Option<Shop> {
        match &self.inner.registry {
            Some(registry) => registry
                .get(shop)
                .map(|known| target(&known.config, &self.inner.api_version)),
            None => self.inner.shops.get(shop).cloned(),
        }
    }

    /// Waits until the shop's bucket model holds `estimate` points, and takes them.
    async fn wait_for_room(&self, shop: &ShopDomain, estimate: f64) {
        let started = Instant::now();
        loop {
            let now = Instant::now();
            let wait = {
                let mut throttles = self
                    .inner
                    .throttles
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                throttles
                    .entry(shop.clone())
                    .or_insert_with(|| Throttle::new(now))
                    .acquire(estimate, now)
            };
            let Some(wait) = wait else { break };
            tracing::trace!(
                wait_ms = wait.as_millis() as u64,
                "waiting for room in the cost bucket"
            );
            // Ask again at least this often: answers to other tasks refine the model.
            tokio::time::sleep(wait.min(MAX_THROTTLE_POLL)).await;
        }
        let waited = started.elapsed();
        if waited >= Duration::from_millis(1) {
            let ms = waited.as_millis() as u64;
            self.inner
                .counters
                .throttle_wait_ms
                .fetch_add(ms, Ordering::Relaxed);
            self.inner.counters.shop(shop, |c| c.waited(ms));
        }
    }

    fn settle(&self, shop: &ShopDomain, estimate: f64, reported: Option<&QueryCost>) {
        let now = Instant::now();
        if let Some(actual) = reported.and_then(|c| c.actual_query_cost) {
            self.inner
                .counters
                .actual_cost
                .fetch_add(actual as u64, Ordering::Relaxed);
            self.inner.counters.shop(shop, |c| c.cost(actual as u64));
        }
        let mut throttles = self
            .inner
            .throttles
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(t) = throttles.get_mut(shop) {
            t.settle(estimate, reported, now);
        }
    }

    /// One HTTP exchange, classified. Also returns the cost Shopify reported, if any.
    async fn attempt(
        &self,
        shop: &ShopDomain,
        target: &Shop,
        token: &SecretString,
        document: &Document,
        body: &serde_json::Value,
    ) -> (Result<serde_json::Value, AttemptError>, Option<QueryCost>) {
        self.inner.counters.requests.fetch_add(1, Ordering::Relaxed);
        let fatal = |e: ShopifyError| (Err(AttemptError::Fatal(e)), None);
        let mut token = match HeaderValue::from_str(token.expose_secret()) {
            Ok(v) => v,
            Err(_) => {
                return fatal(ShopifyError::Unauthorized {
                    shop: shop.clone(),
                    operation: document.operation(),
                    status: 0,
                });
            }
        };
        token.set_sensitive(true);
        let mut request = self.inner.http.post(&target.endpoint);
        if let Some(host) = &target.host {
            request = request.header(reqwest::header::HOST, host);
        }
        let response = request
            .header("X-Shopify-Access-Token", token)
            .header(CONTENT_TYPE, "application/json")
            .json(body)
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            // reqwest errors name the URL, never headers.
            Err(e) => return (Err(AttemptError::Retryable(network_reason(e))), None),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if let Some(outcome) =
            answer::classify_status(shop, document.operation(), status, retry_after.as_deref())
        {
            return (Err(outcome), None);
        }
        let text = match response.text().await {
            Ok(t) => t,
            Err(e) => return (Err(AttemptError::Retryable(network_reason(e))), None),
        };
        answer::classify_body(shop, document.operation(), status, &text)
    }
}
