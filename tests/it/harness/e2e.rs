//! End-to-end setup: the sandbox shop loaded with the fixture orders, and the whole app
//! (receiver and workers) pointed at it, with the example config's rules and a manual clock.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use orderflow::app::Roles;
use orderflow::clock::ManualClock;
use orderflow::id::{OrderId, ShopDomain};
use orderflow::sandbox::MutationRecord;
use orderflow::sandbox::{BucketConfig, Sandbox, SandboxConfig};
use orderflow::shopify::Client;
use orderflow::shopify::OrderSnapshot;
use secrecy::SecretString;

use super::{Options, SECRET_NEW, SHOP, TOKEN, TestApp, eventually, signature};

/// The instant the tests start at: Mon 23 Nov 2026 10:00 in Amsterdam, a business day before
/// the 13:00 cut-off, after the fixtures' orders were placed.
pub fn start_instant() -> Timestamp {
    "2026-11-23T09:00:00Z".parse().expect("valid instant")
}

/// The rules sections of the example config, plus a worker tuned for tests.
pub fn rules_toml(max_attempts: u32) -> String {
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config/example.toml"),
    )
    .expect("example config");
    let rules = &example[example.find("[fulfilment]").expect("rules in the example")..];
    format!(
        "[worker]\nmax_attempts = {max_attempts}\n# Wake-ups re-check the manual clock every second.\nmax_delay_hop_ms = 1000\n\n{rules}"
    )
}

/// The rules with `[archive]` turned on after `after`, if given.
fn archive(rules: String, after: Option<&str>) -> String {
    let Some(after) = after else {
        return rules;
    };
    let off = "[archive]\nwhen_fulfilled = false\nafter = \"0h\"";
    assert!(
        rules.contains(off),
        "the example config's [archive] section"
    );
    rules.replace(
        off,
        &format!("[archive]\nwhen_fulfilled = true\nafter = \"{after}\""),
    )
}

/// The rules with `[payment] capture` set to `capture`, if given.
fn payment(rules: String, capture: Option<&str>) -> String {
    let Some(capture) = capture else {
        return rules;
    };
    let never = "[payment]\ncapture = \"never\"";
    assert!(
        rules.contains(never),
        "the example config's [payment] section"
    );
    rules.replace(never, &format!("[payment]\ncapture = \"{capture}\""))
}

pub struct Shop {
    pub sandbox: Sandbox,
    pub app: TestApp,
    pub clock: ManualClock,
    pub shop: ShopDomain,
    /// A client of the sandbox, for reading orders as the workers do.
    pub client: Client,
}

#[derive(Default)]
pub struct E2eOptions {
    pub amqp_url: Option<String>,
    /// A cluster's nodes (`amqp.urls`).
    pub amqp_urls: Option<Vec<String>>,
    /// The shop's `dry_run`.
    pub dry_run: bool,
    pub max_attempts: Option<u32>,
    /// The keys of `[sweep]` (off by default).
    pub sweep_toml: Option<String>,
    /// Join an existing prefix.
    pub prefix: Option<String>,
    /// `[archive]` on, with this `after` (e.g. `"0h"`); the example config has it off.
    pub archive_after: Option<&'static str>,
    /// More TOML after the rules (e.g. an `[admin]` section).
    pub extra_toml: String,
    /// `[payment] capture` (the example config has `"never"`).
    pub capture: Option<&'static str>,
}

impl Shop {
    pub async fn start(name: &str) -> Self {
        Self::start_with(name, E2eOptions::default()).await
    }

    pub async fn start_with(name: &str, opts: E2eOptions) -> Self {
        let clock = ManualClock::new(start_instant());
        let sandbox = Sandbox::start(SandboxConfig {
            listen: "127.0.0.1:0".parse().expect("addr"),
            bucket: BucketConfig::default(),
            clock: Arc::new(clock.clone()),
            app: None,
        })
        .await
        .expect("sandbox starts");
        sandbox
            .load_fixtures(
                &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/orders"),
                &SecretString::from(TOKEN.to_owned()),
            )
            .expect("fixtures load");
        let app = TestApp::spawn_with(
            name,
            Options {
                amqp_url: opts.amqp_url,
                amqp_urls: opts.amqp_urls,
                extra_toml: payment(
                    archive(
                        rules_toml(opts.max_attempts.unwrap_or(5)),
                        opts.archive_after,
                    ),
                    opts.capture,
                ) + "\n"
                    + &opts.extra_toml,
                roles: Some(Roles::ALL),
                admin_api_url: Some(sandbox.base_url()),
                shop_toml: format!("dry_run = {}", opts.dry_run),
                clock: Some(Arc::new(clock.clone())),
                sweep_toml: opts.sweep_toml,
                prefix: opts.prefix,
                ..Default::default()
            },
        )
        .await;
        // Through a proxy too, the app must be connected before the test sends anything.
        app.broker
            .wait_connected(Duration::from_secs(10))
            .await
            .expect("the app connects to the broker");
        let config = super::test_config(
            "unused",
            &Options {
                admin_api_url: Some(sandbox.base_url()),
                ..Default::default()
            },
        );
        let client = Client::new(&config.shopify, &config.shops).expect("client");
        Self {
            sandbox,
            app,
            clock,
            shop: ShopDomain::parse(SHOP).expect("shop"),
            client,
        }
    }

    /// A shop whose app reaches the broker through a proxy the test can cut or stall.
    pub async fn start_behind_proxy(name: &str) -> (Arc<super::proxy::Proxy>, Self) {
        let proxy = super::proxy::Proxy::start("127.0.0.1:5672".parse().expect("addr")).await;
        let shop = Self::start_with(
            name,
            E2eOptions {
                amqp_url: Some(proxy.amqp_url()),
                ..Default::default()
            },
        )
        .await;
        (proxy, shop)
    }

    /// Waits until the sandbox has logged at least `n` mutations of the fixture order, and
    /// returns how many it has.
    pub async fn wait_mutations(&self, fixture: &str, n: usize) -> usize {
        eventually(
            Duration::from_secs(30),
            &format!("{n} mutations of {fixture}"),
            || async {
                let got = self.mutations_of(fixture).len();
                (got >= n).then_some(got)
            },
        )
        .await
    }

    /// The fixture's snapshot as loaded (before orderflow touched it).
    pub fn fixture(name: &str) -> OrderSnapshot {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/orders")
            .join(format!("{name}.json"));
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("snapshot")
    }

    /// The fixture's snapshot with every GID (order, lines, fulfilment orders) made unique by
    /// `n`, so many clones of one fixture can live in one sandbox shop.
    pub fn fixture_clone(name: &str, n: u64) -> OrderSnapshot {
        fn regid(v: &mut serde_json::Value, n: u64) {
            match v {
                serde_json::Value::String(s) if s.starts_with("gid://shopify/") => {
                    let (kind, id) = s.rsplit_once('/').expect("a gid");
                    if let Ok(id) = id.parse::<u64>() {
                        *s = format!("{kind}/{}", id + n * 1_000_000_000_000);
                    }
                }
                serde_json::Value::Array(a) => a.iter_mut().for_each(|v| regid(v, n)),
                serde_json::Value::Object(o) => o.values_mut().for_each(|v| regid(v, n)),
                _ => {}
            }
        }
        let mut v = serde_json::to_value(Self::fixture(name)).expect("a snapshot serialises");
        regid(&mut v, n);
        serde_json::from_value(v).expect("still a snapshot")
    }

    /// Sends the fixture order's signed webhook for `topic` with `webhook_id`, as Shopify would
    /// now: an orders/* body carries the order's current `updatedAt` as `updated_at`.
    pub async fn send(&self, fixture: &str, topic: &str, webhook_id: &str) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/orders")
            .join(format!("{fixture}.webhook.json"));
        let body = std::fs::read(path).expect("webhook body");
        let body = if topic.starts_with("orders/") {
            let mut json: serde_json::Value = serde_json::from_slice(&body).expect("JSON body");
            if let Some(updated) = self.order(fixture).updated_at {
                json["updated_at"] = serde_json::json!(updated.to_string());
            }
            serde_json::to_vec(&json).expect("JSON")
        } else {
            body
        };
        self.send_body(topic, webhook_id, &body).await;
    }

    /// Sends `body` as a signed webhook, triggered now by the shop's (manual) clock.
    pub async fn send_body(&self, topic: &str, webhook_id: &str, body: &[u8]) {
        use orderflow::clock::Clock;
        let body = body.to_vec();
        let triggered = self.clock.now().to_string();
        let res = self
            .app
            .delivery_with(topic, webhook_id, &body, |h| {
                for (k, v) in h.iter_mut() {
                    if *k == "X-Shopify-Hmac-Sha256" {
                        *v = signature(&body, SECRET_NEW);
                    }
                    if *k == "X-Shopify-Triggered-At" {
                        *v = triggered.clone();
                    }
                }
            })
            .send()
            .await
            .expect("receiver answers");
        assert_eq!(res.status(), 200, "{webhook_id} {topic}");
    }

    /// The order as orderflow's client reads it through the Admin API (metafield included).
    pub async fn snapshot(&self, fixture: &str) -> OrderSnapshot {
        let id = OrderId::from_gid(&Self::fixture(fixture).id).expect("order gid");
        self.client
            .fetch_snapshot(&self.shop, id)
            .await
            .expect("snapshot")
    }

    /// The order as the sandbox holds it now.
    pub fn order(&self, fixture: &str) -> OrderSnapshot {
        let gid = Self::fixture(fixture).id;
        self.sandbox.order(&self.shop, &gid).expect("order exists")
    }

    /// The mutations the sandbox received for one fixture order (by its order and fulfilment
    /// order ids).
    pub fn mutations_of(&self, fixture: &str) -> Vec<MutationRecord> {
        let snap = Self::fixture(fixture);
        let mut ids = vec![snap.id.clone()];
        ids.extend(snap.fulfillment_orders.iter().map(|f| f.id.clone()));
        self.sandbox
            .mutations()
            .into_iter()
            .filter(|m| {
                let vars = m.variables.to_string();
                ids.iter().any(|id| vars.contains(&format!("\"{id}\"")))
            })
            .collect()
    }

    /// How many messages the workers have settled (any disposition).
    pub fn settled(&self) -> u64 {
        settled_count(&self.app.metrics.encode())
    }

    /// Waits until the workers have settled at least `n` messages.
    pub async fn wait_settled(&self, n: u64) {
        self.wait_settled_within(n, Duration::from_secs(30)).await;
    }

    /// The same, with a deadline of `within` (for measurements).
    pub async fn wait_settled_within(&self, n: u64, within: Duration) {
        eventually(within, &format!("{n} settled messages"), || async {
            (self.settled() >= n).then_some(())
        })
        .await;
    }

    /// The holds on the order's fulfilment orders, by handle.
    pub fn hold_handles(&self, fixture: &str) -> Vec<String> {
        self.order(fixture)
            .fulfillment_orders
            .iter()
            .flat_map(|f| f.fulfillment_holds.iter())
            .filter_map(|h| h.handle.clone())
            .collect()
    }

    pub async fn stop(self) {
        self.app.stop().await;
        self.sandbox.shutdown().await;
    }
}

/// Sums `orderflow_messages_total` over dispositions, from the Prometheus text.
pub fn settled_count(metrics: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| l.starts_with("orderflow_messages_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}
