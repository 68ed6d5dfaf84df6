//! End-to-end benchmark (a benchmark, not a test): signed `orders/create` webhooks into the real
//! receiver → RabbitMQ → the real workers → the sandbox shop, with 50 ms of latency on every
//! Admin API request, in one process against the local RabbitMQ (a fresh prefix per phase,
//! deleted at the end).
//!
//! Each order is a clone of a fixture with fresh order, line, fulfilment order and fulfilment
//! order line GIDs, alternately `digital` (auto-fulfilled: snapshot, `fulfillmentCreate`,
//! decision metafield) and `mixed` (partial fulfilment of its download, a manual tag for the mug,
//! decision metafield). An order is finished when the sandbox has logged its decision metafield
//! (the last step of every plan); its completion time is that mutation's `at` (the sandbox runs
//! on the system clock).
//!
//! 1. **Throughput** on a standard-plan bucket (2,000 points, 100 points/s): N orders sent at
//!    once, a backlog the workers drain. Points per order = actual cost the sandbox charged ÷ N;
//!    the bucket's ceiling = restore rate ÷ points per order. The run starts with a full bucket
//!    (2,000 points of credit), so two ratios: the *steady* one over the completions after the
//!    first quarter (the credit is spent within the first few dozen orders) against the plain
//!    ceiling, and the *whole-run* one against the ceiling with the credit included,
//!    (maximum + restore × T) ÷ points per order ÷ T.
//! 2. **Latency** from sending the webhook to the order's last mutation, open loop at a steady
//!    rate: 5 orders/s on a Shopify Plus bucket (20,000 points, 1,000 points/s: the bucket never
//!    binds, so this is the pipeline's own latency — 5 orders/s is above a standard bucket's
//!    ceiling, where latency would grow without bound), then at 0.75 of the measured ceiling on
//!    the standard bucket.
//!
//! Every phase also checks that no THROTTLED error surfaced (no retry or dead-letter
//! disposition, no Shopify call with an outcome other than ok) and reports how many THROTTLED
//! answers the client absorbed by waiting.
//!
//! `cargo run --release --example e2e_bench -- [ORDERS] [LATENCY_SECONDS]` (default 400, 30);
//! `AMQP_URL` overrides the broker (default the local one on 5672).
//!
//! `-- --mix [ORDERS_STANDARD] [ORDERS_PLUS]` (default 100, 300) instead sends, per order, the
//! webhooks Shopify would send for what happens to it (see `e2e_bench/mix.rs`), as a backlog on
//! a standard and then a Plus bucket, and reports snapshots and points per order and the
//! throughput against each bucket's ceiling.

#[path = "e2e_bench/mix.rs"]
mod mix;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use futures_util::StreamExt;
use jiff::{SignedDuration, Timestamp};
use orderflow::app::{App, AppError, Roles};
use orderflow::clock::{Clock, SystemClock};
use orderflow::config::{Config, Env};
use orderflow::id::ShopDomain;
use orderflow::queue::{Admin, Topology};
use orderflow::sandbox::{BucketConfig, Fixture, MutationRecord, Sandbox, SandboxConfig};
use orderflow::shopify::snapshot::OrderFulfillmentStatus;
use orderflow::webhook::verify::sign;
use secrecy::SecretString;
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SECRET: &str = "e2e-bench-secret";
const TOKEN: &str = "e2e-bench-token";
const SHOP: &str = "acme.myshopify.com";
/// The broker, unless `AMQP_URL` names another.
const AMQP: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
const PARTITIONS: u16 = 8;
const LATENCY: Duration = Duration::from_millis(50);
const STANDARD: BucketConfig = BucketConfig {
    maximum_available: 2000.0,
    restore_rate: 100.0,
};
const PLUS: BucketConfig = BucketConfig {
    maximum_available: 20000.0,
    restore_rate: 1000.0,
};
/// How often the waits look at the sandbox's mutation log.
const POLL: Duration = Duration::from_millis(100);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::var_os("ORDERFLOW_LOG").is_some() {
        orderflow::telemetry::init_logging();
    }
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("--mix") {
        args.next();
        let standard: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(100);
        let plus: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(300);
        return run_mix(standard, plus).await;
    }
    let orders: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(400);
    let seconds: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(30);
    let templates = [Template::load("digital")?, Template::load("mixed")?];
    let mut ids = IdGen::default();
    println!(
        "{orders} orders (digital and mixed alternately), {} ms latency per request, {PARTITIONS} partitions, {} cores",
        LATENCY.as_millis(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let t = throughput(&templates, &mut ids, orders).await?;
    println!();
    println!(
        "| orders | points per order | requests per order | run s | throughput orders/s | ceiling orders/s | steady throughput | steady / ceiling | whole-run ceiling (with 2,000-point start) | whole run / that ceiling | THROTTLED surfaced | THROTTLED absorbed | throttle wait s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let ceiling = STANDARD.restore_rate / t.points_per_order;
    let whole_ceiling = (STANDARD.maximum_available + STANDARD.restore_rate * t.seconds)
        / t.points_per_order
        / t.seconds;
    let rate = orders as f64 / t.seconds;
    println!(
        "| {orders} | {:.1} | {:.2} | {:.1} | {rate:.2} | {ceiling:.2} | {:.2} | **{:.2}** | {whole_ceiling:.2} | {:.2} | {} | {} | {:.1} |",
        t.points_per_order,
        t.requests_per_order,
        t.seconds,
        t.steady,
        t.steady / ceiling,
        rate / whole_ceiling,
        t.health.surfaced,
        t.health.absorbed,
        t.health.throttle_wait_s,
    );
    println!(
        "partition bound: {PARTITIONS} partitions ÷ ({:.2} requests × {} ms) = {:.1} orders/s",
        t.requests_per_order,
        LATENCY.as_millis(),
        f64::from(PARTITIONS) / (t.requests_per_order * LATENCY.as_secs_f64())
    );

    let mut rows = Vec::new();
    rows.push(
        latency(
            &templates,
            &mut ids,
            "Plus (20,000 / 1,000 per s)",
            PLUS,
            5.0,
            seconds,
        )
        .await?,
    );
    let standard_rate = (0.75 * ceiling * 10.0).round() / 10.0;
    rows.push(
        latency(
            &templates,
            &mut ids,
            "standard (2,000 / 100 per s)",
            STANDARD,
            standard_rate,
            seconds,
        )
        .await?,
    );
    println!();
    println!(
        "| bucket | rate orders/s | orders | p50 ms | p50 digital / mixed ms | p99 ms | max ms | webhook answer p99 ms | THROTTLED surfaced | THROTTLED absorbed |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {:.1} | {} | {:.0} | {:.0} / {:.0} | {:.0} | {:.0} | {:.1} | {} | {} |",
            r.bucket,
            r.rate,
            r.orders,
            r.p50,
            r.p50_digital,
            r.p50_mixed,
            r.p99,
            r.max,
            r.webhook_p99,
            r.health.surfaced,
            r.health.absorbed
        );
    }
    Ok(())
}

async fn run_mix(standard: usize, plus: usize) -> anyhow::Result<()> {
    let templates = [Template::load("digital")?, Template::load("mixed")?];
    let mut ids = IdGen::default();
    println!(
        "webhook mix: digital and mixed alternately, {} ms latency per request, {PARTITIONS} partitions, {} cores",
        LATENCY.as_millis(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let runs = [
        ("standard (2,000 / 100 per s)", STANDARD, standard),
        ("Plus (20,000 / 1,000 per s)", PLUS, plus),
    ];
    println!();
    println!(
        "| bucket | orders | webhooks per order | snapshots per order | points per order | run s | orders/s | ceiling orders/s | / ceiling | whole-run ceiling (with the start credit) | / that | covered_by_read | own_echo | THROTTLED surfaced | THROTTLED absorbed |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (i, (name, bucket, n)) in runs.into_iter().enumerate() {
        if n == 0 {
            continue;
        }
        let r = mix::run(&format!("mix{i}"), bucket, &templates, &mut ids, n).await?;
        let rate = r.orders as f64 / r.seconds;
        let ceiling = bucket.restore_rate / r.points_per_order;
        let whole = (bucket.maximum_available + bucket.restore_rate * r.seconds)
            / r.points_per_order
            / r.seconds;
        println!(
            "| {name} | {} | {:.1} | **{:.2}** | {:.1} | {:.1} | {rate:.2} | {ceiling:.2} | **{:.2}** | {whole:.2} | {:.2} | {} | {} | {} | {} |",
            r.orders,
            r.webhooks as f64 / r.orders as f64,
            r.snapshots_per_order,
            r.points_per_order,
            r.seconds,
            rate / ceiling,
            rate / whole,
            r.covered_by_read,
            r.own_echo,
            r.surfaced,
            r.absorbed,
        );
    }
    Ok(())
}

struct Throughput {
    points_per_order: f64,
    requests_per_order: f64,
    /// From the first webhook sent to the last order finished.
    seconds: f64,
    /// Orders per second between the completion of order N/4 and of the last one.
    steady: f64,
    health: Health,
}

async fn throughput(
    templates: &[Template],
    ids: &mut IdGen,
    n: usize,
) -> anyhow::Result<Throughput> {
    let stage = Stage::start("tp", STANDARD).await?;
    let orders = stage.insert(templates, ids, n);
    let start = SystemClock.now();
    let sent = futures_util::stream::iter(orders.iter().map(|o| stage.send(o)))
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    for r in sent {
        r?;
    }
    let done = stage.wait_finished(&orders, deadline_for(n)).await?;
    stage.verify(&orders)?;
    let mut completions: Vec<SignedDuration> =
        done.iter().map(|at| at.duration_since(start)).collect();
    completions.sort();
    let last = completions[n - 1].as_secs_f64();
    let k1 = n / 4;
    let steady = (n - 1 - k1) as f64 / (last - completions[k1].as_secs_f64());
    let result = Throughput {
        points_per_order: stage.sandbox.actual_cost_total() as f64 / n as f64,
        requests_per_order: stage.sandbox.request_count() as f64 / n as f64,
        seconds: last,
        steady,
        health: stage.health(n).await?,
    };
    stage.stop().await?;
    Ok(result)
}

struct Latency {
    bucket: &'static str,
    rate: f64,
    orders: usize,
    p50: f64,
    p50_digital: f64,
    p50_mixed: f64,
    p99: f64,
    max: f64,
    /// The receiver's own answer time (verify, publish, confirm).
    webhook_p99: f64,
    health: Health,
}

async fn latency(
    templates: &[Template],
    ids: &mut IdGen,
    bucket: &'static str,
    config: BucketConfig,
    rate: f64,
    seconds: u64,
) -> anyhow::Result<Latency> {
    let stage = Arc::new(Stage::start("lat", config).await?);
    let n = (rate * seconds as f64).round() as usize;
    let orders = Arc::new(stage.insert(templates, ids, n));
    let sent_at: Arc<Mutex<Vec<Option<Timestamp>>>> = Arc::new(Mutex::new(vec![None; n]));
    // Open loop: one order every 1/rate s whatever the answers do; each send is its own task.
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let mut sends = Vec::with_capacity(n);
    for i in 0..n {
        tick.tick().await;
        let (stage, orders, sent_at) = (stage.clone(), orders.clone(), sent_at.clone());
        sends.push(tokio::spawn(async move {
            sent_at.lock().expect("lock")[i] = Some(SystemClock.now());
            let started = std::time::Instant::now();
            stage.send(&orders[i]).await?;
            anyhow::Ok(started.elapsed().as_secs_f64() * 1000.0)
        }));
    }
    let mut answers = Vec::with_capacity(n);
    for s in sends {
        answers.push(s.await??);
    }
    answers.sort_by(f64::total_cmp);
    let done = stage.wait_finished(&orders, deadline_for(n)).await?;
    stage.verify(&orders)?;
    let sent_at = sent_at.lock().expect("lock").clone();
    let latencies: Vec<f64> = done
        .iter()
        .zip(sent_at)
        .map(|(at, sent)| {
            at.duration_since(sent.expect("every order was sent"))
                .as_secs_f64()
                * 1000.0
        })
        .collect();
    // Digital orders take three round trips, mixed ones four: each kind's median apart.
    let of_kind = |kind: &str| {
        let mut l: Vec<f64> = latencies
            .iter()
            .zip(orders.iter())
            .filter(|(_, o)| o.template == kind)
            .map(|(l, _)| *l)
            .collect();
        l.sort_by(f64::total_cmp);
        l
    };
    let mut all = latencies.clone();
    all.sort_by(f64::total_cmp);
    let result = Latency {
        bucket,
        rate,
        orders: n,
        p50: percentile(&all, 0.50),
        p50_digital: percentile(&of_kind("digital"), 0.50),
        p50_mixed: percentile(&of_kind("mixed"), 0.50),
        p99: percentile(&all, 0.99),
        max: all[n - 1],
        webhook_p99: percentile(&answers, 0.99),
        health: stage.health(n).await?,
    };
    Arc::into_inner(stage)
        .expect("every send task has finished")
        .stop()
        .await?;
    Ok(result)
}

/// A generous cap on how long a phase may take: three times the standard bucket's ceiling for
/// ~50 points per order, plus a minute. Reaching it is a failure, not a result.
fn deadline_for(orders: usize) -> Duration {
    Duration::from_secs(60 + orders as u64 * 3 / 2)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// A fixture order and its webhook body, to be cloned under fresh ids.
struct Template {
    name: &'static str,
    fixture: Value,
    webhook: Value,
}

impl Template {
    fn load(name: &'static str) -> anyhow::Result<Self> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/orders");
        let read = |file: PathBuf| -> anyhow::Result<Value> {
            Ok(serde_json::from_slice(&std::fs::read(file)?)?)
        };
        Ok(Self {
            name,
            fixture: read(dir.join(format!("{name}.json")))?,
            webhook: read(dir.join(format!("{name}.webhook.json")))?,
        })
    }

    /// A copy of the order with fresh GIDs, and its signed webhook.
    fn instantiate(&self, ids: &mut IdGen) -> anyhow::Result<(Fixture, BenchOrder)> {
        let mut fixture = self.fixture.clone();
        let mut fresh = HashMap::new();
        regid(&mut fixture, &mut fresh, ids);
        let gid = fixture["id"].as_str().unwrap_or_default().to_owned();
        let id: u64 = gid.rsplit('/').next().unwrap_or_default().parse()?;
        fixture["name"] = Value::String(format!("#B{id}"));
        let fixture: Fixture = serde_json::from_value(fixture)?;
        let mut webhook = self.webhook.clone();
        webhook["id"] = Value::from(id);
        webhook["admin_graphql_api_id"] = Value::String(gid.clone());
        let body = serde_json::to_vec(&webhook)?;
        let signature = sign(&body, &SecretString::from(SECRET.to_owned()));
        let order = BenchOrder {
            template: self.name,
            gid,
            fulfillment_orders: fixture
                .order
                .fulfillment_orders
                .iter()
                .map(|f| f.id.clone())
                .collect(),
            body: Bytes::from(body),
            signature,
        };
        Ok((fixture, order))
    }
}

/// Replaces every order, line, fulfilment order and fulfilment order line GID with a fresh one,
/// the same old GID always by the same new one (a fulfilment order line names its line).
fn regid(v: &mut Value, fresh: &mut HashMap<String, String>, ids: &mut IdGen) {
    const KINDS: [&str; 4] = [
        "gid://shopify/Order/",
        "gid://shopify/LineItem/",
        "gid://shopify/FulfillmentOrder/",
        "gid://shopify/FulfillmentOrderLineItem/",
    ];
    match v {
        Value::String(s) => {
            if let Some(kind) = KINDS.iter().find(|k| {
                s.strip_prefix(**k)
                    .is_some_and(|tail| tail.bytes().all(|b| b.is_ascii_digit()))
            }) {
                let new = fresh
                    .entry(s.clone())
                    .or_insert_with(|| format!("{kind}{}", ids.next()));
                *s = new.clone();
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|v| regid(v, fresh, ids)),
        Value::Object(o) => o.values_mut().for_each(|v| regid(v, fresh, ids)),
        _ => {}
    }
}

/// Ids no fixture uses, unique across the whole run.
#[derive(Default)]
struct IdGen(u64);

impl IdGen {
    fn next(&mut self) -> u64 {
        self.0 += 1;
        7_000_000_000_000_000_000 + u64::from(std::process::id()) * 10_000_000 + self.0
    }
}

struct BenchOrder {
    template: &'static str,
    gid: String,
    fulfillment_orders: Vec<String>,
    body: Bytes,
    signature: String,
}

/// What must be zero (THROTTLED or any other failure surfacing) and what the client absorbed.
struct Health {
    surfaced: u64,
    absorbed: u64,
    throttle_wait_s: f64,
}

/// One sandbox and one app (receiver and workers) under a prefix of their own.
struct Stage {
    sandbox: Sandbox,
    addr: SocketAddr,
    config: Arc<Config>,
    shutdown: CancellationToken,
    server: JoinHandle<Result<(), AppError>>,
    http: reqwest::Client,
    shop: ShopDomain,
}

impl Stage {
    async fn start(phase: &str, bucket: BucketConfig) -> anyhow::Result<Self> {
        let sandbox = Sandbox::start(SandboxConfig {
            bucket,
            ..SandboxConfig::default()
        })
        .await?;
        sandbox.set_latency(LATENCY);
        let shop = ShopDomain::parse(SHOP)?;
        sandbox.add_shop(shop.clone(), SecretString::from(TOKEN.to_owned()));
        let prefix = format!("e2e-bench-{phase}-{}", std::process::id());
        let config = config(&prefix, &sandbox.base_url())?;
        let app = App::build_with(config, Arc::new(SystemClock), Roles::ALL).await?;
        let addr = app.local_addr();
        let config = app.config();
        app.broker().wait_connected(Duration::from_secs(10)).await?;
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(app.run_until_stopped(shutdown.clone()));
        Ok(Self {
            sandbox,
            addr,
            config,
            shutdown,
            server,
            http: reqwest::Client::new(),
            shop,
        })
    }

    /// Puts `n` fresh orders in the shop, templates taken in turn.
    fn insert(&self, templates: &[Template], ids: &mut IdGen, n: usize) -> Vec<BenchOrder> {
        (0..n)
            .map(|i| {
                let (fixture, order) = templates[i % templates.len()]
                    .instantiate(ids)
                    .expect("a fixture clones");
                self.sandbox.insert_order(&self.shop, fixture.order);
                order
            })
            .collect()
    }

    async fn send(&self, order: &BenchOrder) -> anyhow::Result<()> {
        let res = self
            .http
            .post(format!("http://{}/webhooks", self.addr))
            .header("X-Shopify-Topic", "orders/create")
            .header("X-Shopify-Shop-Domain", SHOP)
            .header("X-Shopify-Webhook-Id", format!("e2e-{}", order.gid))
            .header("X-Shopify-Triggered-At", SystemClock.now().to_string())
            .header("X-Shopify-Hmac-Sha256", order.signature.as_str())
            .body(order.body.clone())
            .send()
            .await?;
        anyhow::ensure!(res.status() == 200, "webhook answered {}", res.status());
        Ok(())
    }

    /// Waits until the sandbox has logged every order's decision metafield; returns, per order,
    /// the time of its last mutation.
    async fn wait_finished(
        &self,
        orders: &[BenchOrder],
        deadline: Duration,
    ) -> anyhow::Result<Vec<Timestamp>> {
        let index: HashMap<&str, usize> = orders
            .iter()
            .enumerate()
            .flat_map(|(i, o)| {
                std::iter::once(o.gid.as_str())
                    .chain(o.fulfillment_orders.iter().map(String::as_str))
                    .map(move |g| (g, i))
            })
            .collect();
        let give_up = tokio::time::Instant::now() + deadline;
        loop {
            let log = self.sandbox.mutations();
            let mut last: Vec<Option<Timestamp>> = vec![None; orders.len()];
            let mut decided = vec![false; orders.len()];
            for m in &log {
                let Some(i) = order_of(m, &index) else {
                    continue;
                };
                last[i] = Some(last[i].map_or(m.at, |t| t.max(m.at)));
                decided[i] |= m.fields.iter().any(|f| f == "metafieldsSet");
            }
            let finished = decided.iter().filter(|d| **d).count();
            if finished == orders.len() {
                return Ok(last.into_iter().flatten().collect());
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < give_up,
                "only {finished} of {} orders finished within {deadline:?}",
                orders.len()
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Every order's downloads are fulfilled and nothing else. (The decision metafield was
    /// written: `wait_finished` saw it in the log, and `health` sees every call answered ok.)
    fn verify(&self, orders: &[BenchOrder]) -> anyhow::Result<()> {
        for o in orders {
            let order = self
                .sandbox
                .order(&self.shop, &o.gid)
                .ok_or_else(|| anyhow::anyhow!("{} vanished", o.gid))?;
            let expected = match o.template {
                "digital" => OrderFulfillmentStatus::Fulfilled,
                _ => OrderFulfillmentStatus::PartiallyFulfilled,
            };
            anyhow::ensure!(
                order.display_fulfillment_status == expected,
                "{} ({}) ended {:?}",
                o.gid,
                o.template,
                order.display_fulfillment_status,
            );
        }
        Ok(())
    }

    /// Reads the app's `/metrics`: every message settled as done, nothing retried or
    /// dead-lettered, every Shopify call ok.
    async fn health(&self, orders: usize) -> anyhow::Result<Health> {
        // The last ack may follow the last mutation by a moment.
        let give_up = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let text = self
                .http
                .get(format!("http://{}/metrics", self.addr))
                .send()
                .await?
                .text()
                .await?;
            let settled = sum(&text, "orderflow_messages_total", |_| true);
            if settled as usize >= orders || tokio::time::Instant::now() > give_up {
                let failed = sum(&text, "orderflow_messages_total", |l| {
                    l.contains(r#"disposition="retry""#)
                        || l.contains(r#"disposition="dead_letter""#)
                });
                let not_ok = sum(&text, "orderflow_shopify_calls_total", |l| {
                    !l.contains(r#"outcome="ok""#)
                });
                anyhow::ensure!(
                    settled as usize == orders,
                    "{settled} messages settled for {orders} orders"
                );
                return Ok(Health {
                    surfaced: (failed + not_ok) as u64,
                    absorbed: sum(&text, "orderflow_shopify_throttled", |_| true) as u64,
                    throttle_wait_s: sum(
                        &text,
                        "orderflow_shopify_throttle_wait_milliseconds",
                        |_| true,
                    ) / 1000.0,
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Stops the app, deletes the prefix's queues and exchanges, stops the sandbox.
    async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.server.await??;
        let admin = Admin::connect(&self.config.amqp.url).await?;
        let topology = Topology::for_config(&self.config.amqp);
        admin.delete(&topology.names, topology.partitions).await?;
        admin.close("done").await?;
        self.sandbox.shutdown().await;
        Ok(())
    }
}

/// The bench order a mutation touched: any order or fulfilment order GID in its variables.
fn order_of(m: &MutationRecord, index: &HashMap<&str, usize>) -> Option<usize> {
    fn find(v: &Value, index: &HashMap<&str, usize>) -> Option<usize> {
        match v {
            Value::String(s) => index.get(s.as_str()).copied(),
            Value::Array(a) => a.iter().find_map(|v| find(v, index)),
            Value::Object(o) => o.values().find_map(|v| find(v, index)),
            _ => None,
        }
    }
    find(&m.variables, index)
}

/// Sum of the samples of metric `name` whose label set passes `keep`.
fn sum(text: &str, name: &str, keep: impl Fn(&str) -> bool) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            let (metric, labels) = key.split_once('{').unwrap_or((key, ""));
            (metric == name && keep(labels))
                .then(|| value.parse::<f64>().ok())
                .flatten()
        })
        .sum()
}

fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| AMQP.to_owned())
}

/// The shop's rules are `fixtures/config/example.toml`'s; the shop talks to the sandbox.
fn config(prefix: &str, sandbox: &str) -> anyhow::Result<Config> {
    let amqp = amqp_url();
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
[amqp]
url = "{amqp}"
prefix = "{prefix}"
partitions = {PARTITIONS}
[shopify]
client_secrets = ["{SECRET}"]
[[shops]]
domain = "{SHOP}"
access_token = "{TOKEN}"
timezone = "Europe/Amsterdam"
admin_api_url = "{sandbox}"
[fulfilment]
default = "manual"
notify_customer = true
[[fulfilment.rule]]
name = "pre-orders wait"
when = {{ preorder = true }}
action = "manual"
[[fulfilment.rule]]
name = "pickups wait"
when = {{ delivery_method = ["PICK_UP"] }}
action = "manual"
[[fulfilment.rule]]
name = "digital goods"
when = {{ requires_shipping = false }}
action = "auto"
[processing]
cutoff = "13:00"
business_days = ["mon", "tue", "wed", "thu", "fri"]
holidays = ["2026-12-25", "2026-12-26"]
default_days = 0
hold = true
[[processing.rule]]
name = "handmade"
when = {{ product_tag = ["handmade"] }}
days = 3
[fraud]
hold_on_risk = ["HIGH"]
hold_on_recommendation = ["CANCEL", "INVESTIGATE"]
release_on_accept = true
notify_merchant = true
"#
    );
    Ok(Config::from_toml(
        &text,
        Path::new("e2e_bench.toml"),
        &Env::default(),
    )?)
}
