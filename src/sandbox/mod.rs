//! The sandbox shop: a simulated Shopify speaking the Admin GraphQL API on
//! `POST /admin/api/{version}/graphql.json`, for `orderflow sandbox`, `orderflow demo` and the
//! tests. Never used in production paths.
//!
//! It holds orders (loaded from `fixtures/orders/`), validates every document against the
//! vendored schema, charges Shopify's query costs against a leaky bucket per shop, answers the
//! documents orderflow sends with Shopify's semantics, and lets a test inject faults, act as the
//! merchant and read every mutation it received — through [`Sandbox`] in-process, or through
//! the `/_sandbox/...` control API (see [`control`]).
//!
//! With an app configured ([`SandboxApp`]) it also speaks OAuth (see [`oauth`]): it approves
//! installs, issues, rotates and expires tokens on its clock, and the Admin API accepts each
//! issued token for its shop until it expires or the shop is revoked.

mod bucket;
pub mod control;
mod control_subscriptions;
mod execute;
mod fault;
mod fixture;
mod grant;
mod log;
mod merchant;
mod mutate;
pub mod oauth;
mod order_search;
mod server;
mod session;
mod shipment;
pub mod standalone;
pub mod state;
mod token;
mod view;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;
use secrecy::SecretString;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use bucket::BucketConfig;
pub use fault::Fault;
pub use fixture::{FixtureError, load_dir};
pub use log::{Grant, MutationRecord, QueryRecord, TokenOutcome, TokenRequestRecord};
pub use mutate::cancel::CancelRefused;
pub use mutate::{MAX_HOLDS_PER_APP, MAX_METAFIELDS_PER_SET};
pub use state::{Fixture, Shipment};

use crate::clock::{Clock, SystemClock};
use crate::id::ShopDomain;
use crate::rules::enums::{FulfillmentHoldReason, RiskLevel, RiskRecommendation};
use crate::shopify::snapshot::OrderSnapshot;
use crate::shopify::throttle::ThrottleStatus;
use state::ShopState;

/// How to run a sandbox.
#[derive(Clone)]
pub struct SandboxConfig {
    /// `127.0.0.1:0` picks a free port.
    pub listen: SocketAddr,
    /// Every shop's bucket (each shop gets its own).
    pub bucket: BucketConfig,
    /// For mutation log times and token expiry; the bucket uses monotonic time.
    pub clock: Arc<dyn Clock>,
    /// The app whose OAuth the sandbox speaks; `None`: no OAuth endpoint answers (404).
    pub app: Option<SandboxApp>,
}

/// The app installed on the sandbox's shops, as the Dev Dashboard knows it.
#[derive(Clone, Debug)]
pub struct SandboxApp {
    pub client_id: String,
    pub client_secret: SecretString,
    /// Comma-separated: what client credentials, token exchange and an `authorize` without
    /// `scope` grant (as a managed install grants the app's configured scopes).
    pub scopes: String,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            bucket: BucketConfig::default(),
            clock: Arc::new(SystemClock),
            app: None,
        }
    }
}

/// State shared by the endpoint, the control API and the handle.
pub(crate) struct Shared {
    shops: Mutex<BTreeMap<ShopDomain, ShopState>>,
    buckets: Mutex<(BucketConfig, HashMap<ShopDomain, bucket::Bucket>)>,
    faults: Mutex<fault::Faults>,
    log: Mutex<Vec<MutationRecord>>,
    queries: Mutex<Vec<QueryRecord>>,
    requests: AtomicU64,
    /// THROTTLED answers sent (the bucket was short, or a fault forced one).
    throttled: AtomicU64,
    actual_cost: AtomicU64,
    clock: Arc<dyn Clock>,
    app: Mutex<Option<SandboxApp>>,
    token_faults: Mutex<fault::TokenFaults>,
    token_log: Mutex<Vec<TokenRequestRecord>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread must not wedge the sandbox for the others.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    fn lock_shops(&self) -> MutexGuard<'_, BTreeMap<ShopDomain, ShopState>> {
        lock(&self.shops)
    }

    fn app(&self) -> Option<SandboxApp> {
        lock(&self.app).clone()
    }

    fn count_request(&self) {
        self.requests.fetch_add(1, Ordering::SeqCst);
    }

    fn next_fault(&self) -> (Option<Fault>, Duration) {
        let mut faults = lock(&self.faults);
        (faults.next(), faults.latency)
    }

    fn with_bucket<T>(
        &self,
        shop: &ShopDomain,
        now: Instant,
        f: impl FnOnce(&mut bucket::Bucket) -> T,
    ) -> T {
        let mut guard = lock(&self.buckets);
        let (config, buckets) = &mut *guard;
        let config = *config;
        f(buckets
            .entry(shop.clone())
            .or_insert_with(|| bucket::Bucket::new(config, now)))
    }

    fn take(&self, shop: &ShopDomain, points: f64, now: Instant) -> bool {
        self.with_bucket(shop, now, |b| b.try_take(points, now))
    }

    fn refund(&self, shop: &ShopDomain, points: f64, now: Instant) {
        self.with_bucket(shop, now, |b| b.refund(points, now));
    }

    fn bucket_status(&self, shop: &ShopDomain, now: Instant) -> ThrottleStatus {
        self.with_bucket(shop, now, |b| b.status(now))
    }

    fn add_actual_cost(&self, points: u64) {
        self.actual_cost.fetch_add(points, Ordering::Relaxed);
    }

    fn record(&self, record: MutationRecord) {
        lock(&self.log).push(record);
    }

    fn record_query(&self, record: QueryRecord) {
        lock(&self.queries).push(record);
    }
}

/// A running sandbox shop. Dropping it stops the server.
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Sandbox {
    /// Binds and serves. Add shops and orders before or after; requests see them at once.
    pub async fn start(config: SandboxConfig) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            shops: Mutex::new(BTreeMap::new()),
            buckets: Mutex::new((config.bucket, HashMap::new())),
            faults: Mutex::new(fault::Faults::default()),
            log: Mutex::new(Vec::new()),
            queries: Mutex::new(Vec::new()),
            requests: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            actual_cost: AtomicU64::new(0),
            clock: config.clock,
            app: Mutex::new(config.app),
            token_faults: Mutex::new(fault::TokenFaults::default()),
            token_log: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/admin/api/{version}/graphql.json", post(server::graphql))
            .merge(oauth::router())
            .merge(control::router())
            .merge(control_subscriptions::router())
            .merge(shipment::router())
            .with_state(shared.clone());
        let stop = CancellationToken::new();
        let shutdown = stop.clone();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move { shutdown.cancelled().await })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "sandbox server failed");
            }
        });
        Ok(Self {
            addr,
            shared,
            stop,
            task: Some(task),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// What a shop's `admin_api_url` should be to talk to this sandbox.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving and waits for the server task.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Adds (or replaces the token of) a shop.
    pub fn add_shop(&self, domain: ShopDomain, token: SecretString) {
        let mut shops = self.shared.lock_shops();
        match shops.get_mut(&domain) {
            Some(shop) => shop.token = Some(token),
            None => {
                shops.insert(domain.clone(), ShopState::new(domain, token));
            }
        }
    }

    /// Sets a shop's time zone (`Shop.ianaTimezone`; "UTC" until set). Returns whether the
    /// shop exists.
    pub fn set_time_zone(&self, shop: &ShopDomain, time_zone: &str) -> bool {
        match self.shared.lock_shops().get_mut(shop) {
            Some(s) => {
                s.time_zone = time_zone.to_owned();
                true
            }
            None => false,
        }
    }

    /// Adds an order to a shop (created with `token` if it does not exist yet).
    pub fn insert_order(&self, shop: &ShopDomain, order: OrderSnapshot) {
        self.shared.insert_order(shop, order);
    }

    /// Loads every fixture of `dir`; shops that do not exist yet get `token`.
    pub fn load_fixtures(&self, dir: &Path, token: &SecretString) -> Result<usize, FixtureError> {
        let fixtures = load_dir(dir)?;
        let count = fixtures.len();
        for fixture in fixtures {
            if !self.shared.lock_shops().contains_key(&fixture.shop) {
                self.add_shop(fixture.shop.clone(), token.clone());
            }
            self.insert_order(&fixture.shop, fixture.order);
        }
        Ok(count)
    }

    /// The order as the sandbox holds it now (derived fields up to date).
    pub fn order(&self, shop: &ShopDomain, order_gid: &str) -> Option<OrderSnapshot> {
        self.shared.order(shop, order_gid)
    }

    /// Every mutation received so far, in order.
    pub fn mutations(&self) -> Vec<MutationRecord> {
        lock(&self.shared.log).clone()
    }

    /// Every query executed so far (mutations are in [`Sandbox::mutations`]), in order.
    pub fn queries(&self) -> Vec<QueryRecord> {
        lock(&self.shared.queries).clone()
    }

    /// Requests received on the Admin API endpoint (whatever their outcome).
    pub fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// THROTTLED answers sent so far: a client that keeps under the bucket gets none.
    pub fn throttled_count(&self) -> u64 {
        self.shared.throttled.load(Ordering::SeqCst)
    }

    /// Sum of the actual cost of every query and mutation that ran.
    pub fn actual_cost_total(&self) -> u64 {
        self.shared.actual_cost.load(Ordering::Relaxed)
    }

    /// Queues `fault` for the next `times` requests.
    pub fn inject(&self, fault: Fault, times: usize) {
        lock(&self.shared.faults).push(fault, times);
    }

    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Fixed latency added to every request.
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.shared.faults).latency = latency;
    }

    /// New bucket size and rate for every shop; buckets restart full.
    pub fn set_bucket(&self, config: BucketConfig) {
        *lock(&self.shared.buckets) = (config, HashMap::new());
    }

    /// The app is uninstalled: every token of the shop stops working (401).
    pub fn revoke_token(&self, shop: &ShopDomain) {
        if let Some(s) = self.shared.lock_shops().get_mut(shop) {
            s.revoke();
        }
    }

    /// An App Bridge session (ID) token for `user_id` on `shop`, valid for a minute from the
    /// sandbox's now: HS256 signed with the app's client secret (SHOPIFY-AUTH.md §2).
    ///
    /// # Panics
    /// Without an app configured (a test's mistake).
    pub fn session_token(&self, shop: &ShopDomain, user_id: u64) -> SecretString {
        let app = self
            .shared
            .app()
            .expect("session_token needs SandboxConfig::app");
        let now = self.shared.clock.now();
        session::mint(shop, user_id, &app.client_id, &app.client_secret, now)
    }

    /// Every request to the token endpoint so far, in order (grant, shop, outcome; no token).
    pub fn token_requests(&self) -> Vec<TokenRequestRecord> {
        lock(&self.shared.token_log).clone()
    }

    /// The next `count` token requests are answered `status`, with nothing applied.
    pub fn fail_token_requests(&self, count: u32, status: u16) {
        lock(&self.shared.token_faults).fail(count, status);
    }

    /// The next token request that succeeds is applied (tokens issued, older ones retired),
    /// and then answered 520 without the tokens.
    pub fn lose_next_token_response(&self) {
        lock(&self.shared.token_faults).lose_next();
    }

    /// The merchant (or a fraud app) changes the order's risk.
    pub fn set_risk(
        &self,
        shop: &ShopDomain,
        order_gid: &str,
        recommendation: RiskRecommendation,
        levels: &[RiskLevel],
    ) -> bool {
        self.shared
            .set_risk(shop, order_gid, recommendation, levels)
    }

    /// The merchant releases holds by hand (all of them without `hold_ids`).
    pub fn release_by_hand(
        &self,
        shop: &ShopDomain,
        fo_id: &str,
        hold_ids: Option<&[String]>,
    ) -> bool {
        self.shared.release_by_hand(shop, fo_id, hold_ids)
    }

    /// The merchant (not orderflow's app) holds a fulfilment order; returns the hold id.
    pub fn hold_by_hand(
        &self,
        shop: &ShopDomain,
        fo_id: &str,
        reason: FulfillmentHoldReason,
        handle: Option<&str>,
    ) -> Option<String> {
        self.shared.hold_by_hand(shop, fo_id, reason, handle)
    }
}
