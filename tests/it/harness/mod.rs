//! Test support: a real app on port 0 with a unique broker prefix, a probe that reads the
//! queues, a TCP proxy that can cut the broker off, captured logs, and `eventually`.

pub mod broker;
pub mod cluster;
pub mod db;
pub mod e2e;
pub mod logs;
pub mod proxy;

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use orderflow::app::{App, Roles};
use orderflow::clock::SystemClock;
use orderflow::config::{Config, Env};
use orderflow::webhook::verify::sign;
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

pub const SECRET_NEW: &str = "test-secret-new";
pub const SECRET_OLD: &str = "test-secret-old";
pub const SHOP: &str = "acme.myshopify.com";
/// The shop's access token (the sandbox accepts it).
pub const TOKEN: &str = "shpat_test";
pub const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// A prefix no other test (or earlier run) uses.
pub fn unique_prefix(name: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "t-{name}-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        rand::random::<u32>()
    )
}

pub struct TestApp {
    pub addr: SocketAddr,
    /// The admin listener's, when the config has `[admin]`.
    pub admin_addr: Option<SocketAddr>,
    pub prefix: String,
    pub partitions: u16,
    pub http: reqwest::Client,
    pub shutdown: CancellationToken,
    pub broker: orderflow::queue::Broker,
    pub metrics: Arc<orderflow::telemetry::Metrics>,
    pub stopped: tokio::task::JoinHandle<Result<(), orderflow::app::AppError>>,
}

/// Knobs a test may turn; `extra` is appended to the generated TOML.
#[derive(Default)]
pub struct Options {
    pub amqp_url: Option<String>,
    /// `amqp.urls` instead of `amqp.url`: a cluster's nodes.
    pub amqp_urls: Option<Vec<String>>,
    /// More keys of the `[amqp]` table (e.g. `quorum_group_size`).
    pub amqp_toml: String,
    pub extra_toml: String,
    /// Lines under `[server]` (its limits, say).
    pub server_toml: String,
    pub confirm_timeout_ms: Option<u64>,
    /// What the app runs; the receiver alone unless a test asks for workers.
    pub roles: Option<Roles>,
    /// More keys of the `[[shops]]` entry.
    pub shop_toml: String,
    /// The shop's Admin API (the sandbox), for tests with workers.
    pub admin_api_url: Option<String>,
    /// Join an existing prefix (a second process of the same deployment).
    pub prefix: Option<String>,
    /// The app's clock; the system clock by default.
    pub clock: Option<Arc<dyn orderflow::clock::Clock>>,
    /// `server.shutdown_grace_ms`; 5000 by default.
    pub shutdown_grace_ms: Option<u64>,
    /// More keys of the `[shopify]` table (e.g. `auth`, `client_id`, `app_url`).
    pub shopify_toml: String,
    /// The keys of `[sweep]`; `every = "off"` unless a test asks for a sweep, so a sweep's
    /// wake-ups never mix into another test's counts.
    pub sweep_toml: Option<String>,
}

impl TestApp {
    pub async fn spawn(name: &str) -> Self {
        Self::spawn_with(name, Options::default()).await
    }

    pub async fn spawn_with(name: &str, opts: Options) -> Self {
        logs::init();
        let prefix = opts.prefix.clone().unwrap_or_else(|| unique_prefix(name));
        let config = test_config(&prefix, &opts);
        let partitions = config.amqp.partitions;
        let connect_expected = opts.amqp_url.is_none();
        let roles = opts.roles.unwrap_or(Roles::RECEIVE);
        let clock = opts.clock.clone().unwrap_or_else(|| Arc::new(SystemClock));
        let app = App::build_with(config, clock, roles)
            .await
            .expect("app builds");
        let addr = app.local_addr();
        let admin_addr = app.admin_addr();
        let broker = app.broker().clone();
        let metrics = app.metrics();
        if connect_expected {
            broker
                .wait_connected(Duration::from_secs(10))
                .await
                .expect("the test broker answers on 127.0.0.1:5672");
        }
        let workers_ready = app.workers_ready();
        let shutdown = CancellationToken::new();
        let stopped = tokio::spawn(app.run_until_stopped(shutdown.clone()));
        if connect_expected {
            // A test sends as soon as this returns: the consumers must be taking messages by
            // then, as they were before the paused shops had to be read first.
            tokio::time::timeout(Duration::from_secs(10), workers_ready)
                .await
                .expect("the workers read the control stream to its end");
        }
        Self {
            addr,
            admin_addr,
            prefix,
            partitions,
            http: reqwest::Client::new(),
            shutdown,
            broker,
            metrics,
            stopped,
        }
    }

    /// An app that reaches the broker through a proxy the test can cut or stall, already
    /// connected through it. `opts.amqp_url` must be unset: the proxy's address is used.
    pub async fn spawn_behind_proxy(name: &str, opts: Options) -> (Arc<proxy::Proxy>, Self) {
        assert!(
            opts.amqp_url.is_none(),
            "spawn_behind_proxy sets the broker URL itself"
        );
        let proxy =
            proxy::Proxy::start("127.0.0.1:5672".parse().expect("the test broker's address")).await;
        let app = Self::spawn_with(
            name,
            Options {
                amqp_url: Some(proxy.amqp_url()),
                ..opts
            },
        )
        .await;
        app.broker
            .wait_connected(Duration::from_secs(10))
            .await
            .expect("connects through the proxy");
        (proxy, app)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A delivery as Shopify would send it, signed with `SECRET_NEW`.
    pub fn delivery(&self, topic: &str, webhook_id: &str, body: &[u8]) -> reqwest::RequestBuilder {
        self.delivery_with(topic, webhook_id, body, |_| {})
    }

    /// A delivery whose headers `edit` may change or remove before it is built.
    pub fn delivery_with(
        &self,
        topic: &str,
        webhook_id: &str,
        body: &[u8],
        edit: impl FnOnce(&mut Vec<(&'static str, String)>),
    ) -> reqwest::RequestBuilder {
        let mut headers = vec![
            ("X-Shopify-Topic", topic.to_owned()),
            ("X-Shopify-Shop-Domain", SHOP.to_owned()),
            ("X-Shopify-Webhook-Id", webhook_id.to_owned()),
            ("X-Shopify-API-Version", "2026-10".to_owned()),
            (
                "X-Shopify-Triggered-At",
                "2026-11-23T10:00:00.000Z".to_owned(),
            ),
            ("X-Shopify-Event-Id", format!("event-{webhook_id}")),
            ("X-Shopify-Hmac-Sha256", signature(body, SECRET_NEW)),
        ];
        edit(&mut headers);
        let mut req = self.http.post(self.url("/webhooks"));
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.body(body.to_vec())
    }

    pub async fn stop(self) {
        let (prefix, partitions) = (self.prefix.clone(), self.partitions);
        self.stop_keeping_queues().await;
        broker::delete_prefix(&prefix, partitions).await;
    }

    /// Stops the app and leaves its queues (and their messages) to the next process on the
    /// prefix, as a deploy or a crashed replica would.
    pub async fn stop_keeping_queues(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(15), self.stopped)
            .await
            .expect("stops within the grace period")
            .expect("task joins")
            .expect("stops cleanly");
    }
}

pub fn signature(body: &[u8], secret: &str) -> String {
    sign(body, &SecretString::from(secret.to_owned()))
}

pub fn test_config(prefix: &str, opts: &Options) -> Config {
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
shutdown_grace_ms = {grace}
{server_extra}
[amqp]
{url}
prefix = "{prefix}"
partitions = 4
confirm_timeout_ms = {confirm}
{amqp_extra}
[shopify]
client_secrets = ["{SECRET_NEW}", "{SECRET_OLD}"]
{shopify_extra}
[sweep]
{sweep}
[[shops]]
domain = "{SHOP}"
access_token = "{TOKEN}"
timezone = "Europe/Amsterdam"
{admin}
{shop_extra}
{extra}
"#,
        url = match &opts.amqp_urls {
            Some(urls) => format!(
                "urls = [{}]",
                urls.iter()
                    .map(|u| format!("\"{u}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => format!("url = \"{}\"", opts.amqp_url.as_deref().unwrap_or(AMQP_URL)),
        },
        confirm = opts.confirm_timeout_ms.unwrap_or(3000),
        grace = opts.shutdown_grace_ms.unwrap_or(5000),
        extra = opts.extra_toml,
        server_extra = opts.server_toml,
        amqp_extra = opts.amqp_toml,
        shop_extra = opts.shop_toml,
        shopify_extra = opts.shopify_toml,
        sweep = opts.sweep_toml.as_deref().unwrap_or(r#"every = "off""#),
        admin = opts
            .admin_api_url
            .as_ref()
            .map(|u| format!("admin_api_url = \"{u}\""))
            .unwrap_or_default(),
    );
    Config::from_toml(&text, Path::new("test.toml"), &Env::default()).expect("test config is valid")
}

/// The fixture body for a topic, e.g. `orders/create`.
pub fn fixture(topic: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/webhooks")
        .join(format!("{topic}.json"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Polls `check` until it returns `Some`, or panics after `deadline`.
pub async fn eventually<T, F, Fut>(deadline: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
