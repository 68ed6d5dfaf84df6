//! Load generator for the receiver (a benchmark, not a test).
//!
//! Starts the real receiver in-process on 127.0.0.1:0 against the local RabbitMQ under a fresh
//! prefix, sends signed ~6 KB `orders/create` webhooks with unique webhook ids at each
//! concurrency for a bounded time, and reports requests/s, p50/p99 latency and errors. It then
//! checks that the messages in the queues equal the 200s. In the same run it measures the
//! broker's ceiling: the same messages published with confirms at the same concurrency, no HTTP.
//!
//! `cargo run --release --example loadgen -- [SECONDS] [CONCURRENCY...]` (default 10 s; 16 64 256)

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use orderflow::app::{App, Roles};
use orderflow::clock::SystemClock;
use orderflow::config::{Config, Env};
use orderflow::event::{Destination, PartitionKey, partition_of};
use orderflow::id::OrderId;
use orderflow::queue::{Admin, Broker, Names, Outgoing, Publisher, Topology};
use orderflow::webhook::verify::sign;
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SECRET: &str = "loadgen-secret";
const SHOP: &str = "acme.myshopify.com";
const AMQP: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
const PARTITIONS: u16 = 8;
const BODY_BYTES: usize = 6 * 1024;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(10);
    let mut levels: Vec<usize> = args.map(|s| s.parse()).collect::<Result<_, _>>()?;
    if levels.is_empty() {
        levels = vec![16, 64, 256];
    }
    let duration = Duration::from_secs(seconds);
    let prefix = format!("loadgen-{}", std::process::id());
    let corpus = Corpus::new(&body_template()?);

    let config = config(&prefix)?;
    let topology = Topology::for_config(&config.amqp);
    // The reference's queues: the same topology under a prefix of its own.
    let mut ref_amqp = config.amqp.clone();
    ref_amqp.prefix = format!("{prefix}-ref");
    let ref_topology = Topology::for_config(&ref_amqp);
    let app = App::build_with(config, Arc::new(SystemClock), Roles::RECEIVE).await?;
    let addr = app.local_addr();
    app.broker().wait_connected(Duration::from_secs(10)).await?;
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run_until_stopped(shutdown.clone()));

    // The reference: our own publisher with confirms, no HTTP, same broker, same messages, under
    // a prefix of its own so its messages never mix with the receiver's.
    let names = topology.names.clone();
    let ref_names = ref_topology.names.clone();
    let stop_ref = CancellationToken::new();
    let broker = Broker::start(
        vec![SecretString::from(AMQP.to_owned())],
        ref_topology,
        stop_ref.clone(),
    );
    broker.wait_connected(Duration::from_secs(10)).await?;
    let publisher = Publisher::new(broker, ref_names.clone(), Duration::from_secs(5));

    println!(
        "body {} bytes, {} s per level, {} partitions, {} cores",
        corpus.orders[0].body.len(),
        seconds,
        PARTITIONS,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    // A second reference: the same client against an endpoint that reads the body and answers
    // 200 without verifying or publishing: what HTTP alone costs on this machine.
    let floor_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let floor_addr = floor_listener.local_addr()?;
    let floor_app = axum::Router::new().route(
        "/webhooks",
        axum::routing::post(|_body: Bytes| async { "ok" }),
    );
    tokio::spawn(async move { axum::serve(floor_listener, floor_app).await });

    println!(
        "| concurrency | receiver req/s | p50 ms | p99 ms | errors | queued = 200s | ceiling msg/s | receiver / ceiling | HTTP-only floor req/s | receiver / floor |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (level, &c) in levels.iter().enumerate() {
        // Webhook ids must differ between levels: the receiver dedupes repeated ids.
        let base = 1_000_000_000_000_000_000 * (level as u64 + 1);
        let only_receiver = std::env::var("LOADGEN_ONLY_RECEIVER").is_ok();
        let short = Duration::from_millis(200);
        let ceiling = run_ceiling(
            &publisher,
            &corpus,
            c,
            if only_receiver { short } else { duration },
            base,
        )
        .await;
        // Count each level's growth rather than purging between levels: nothing to race with.
        let floor = run_http(
            floor_addr,
            &corpus,
            c,
            if only_receiver { short } else { duration },
            base,
        )
        .await;
        let floor_rate = floor.ok as f64 / floor.elapsed.as_secs_f64();
        let before = count(&names).await?;
        let run = run_http(addr, &corpus, c, duration, base).await;
        let queued = wait_for_count(&names, before + run.ok).await? - before;
        let rate = run.ok as f64 / run.elapsed.as_secs_f64();
        let ceiling_rate = ceiling.ok as f64 / ceiling.elapsed.as_secs_f64();
        println!(
            "| {c} | {rate:.0} | {:.1} | {:.1} | {} | {} ({queued} of {}) | {ceiling_rate:.0} | {:.2} | {floor_rate:.0} | {:.2} |",
            percentile(&run.latencies, 0.50),
            percentile(&run.latencies, 0.99),
            run.errors,
            if queued == run.ok { "yes" } else { "NO" },
            run.ok,
            rate / ceiling_rate,
            rate / floor_rate
        );
    }
    shutdown.cancel();
    server.await??;
    stop_ref.cancel();
    if std::env::var("LOADGEN_KEEP").is_ok() {
        println!("kept queues under prefix {prefix}");
        return Ok(());
    }
    let admin = Admin::connect(&SecretString::from(AMQP.to_owned())).await?;
    for names in [names, ref_names] {
        admin.delete(&names, PARTITIONS).await?;
    }
    admin.close("done").await?;
    Ok(())
}

fn config(prefix: &str) -> anyhow::Result<Config> {
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
[amqp]
url = "{AMQP}"
prefix = "{prefix}"
partitions = {PARTITIONS}
[shopify]
client_secrets = ["{SECRET}"]
[[shops]]
domain = "{SHOP}"
access_token = "unused"
"#
    );
    Ok(Config::from_toml(
        &text,
        Path::new("loadgen.toml"),
        &Env::default(),
    )?)
}

/// The orders/create fixture cut or padded to ~6 KB, with `{ID}` where the order id goes.
fn body_template() -> anyhow::Result<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/webhooks/orders/create.json");
    let mut order: serde_json::Value = serde_json::from_slice(&std::fs::read(path)?)?;
    let obj = order.as_object_mut().expect("an order is an object");
    // Keep two line items, then drop the bulkiest parts until under the target size.
    if let Some(lines) = obj.get_mut("line_items").and_then(|l| l.as_array_mut()) {
        lines.truncate(2);
    }
    for key in [
        "refunds",
        "fulfillments",
        "shipping_lines",
        "discount_applications",
        "customer",
        "billing_address",
    ] {
        if serde_json::to_string(obj)?.len() > BODY_BYTES {
            obj.remove(key);
        }
    }
    obj.insert("id".into(), serde_json::Value::String("{ID}".into()));
    let len = serde_json::to_string(obj)?.len();
    obj.insert(
        "note".into(),
        serde_json::Value::String("x".repeat(BODY_BYTES.saturating_sub(len + 10))),
    );
    Ok(serde_json::to_string(obj)?.replace("\"{ID}\"", "{ID}"))
}

/// Signed orders prepared before the clock starts, so the client spends its time sending.
/// Each request takes one (in turn) and a webhook id of its own.
struct Corpus {
    orders: Vec<Prepared>,
}

#[derive(Clone)]
struct Prepared {
    order_id: u64,
    body: Bytes,
    signature: String,
}

impl Corpus {
    const SIZE: u64 = 1024;

    fn new(template: &str) -> Self {
        let secret = SecretString::from(SECRET.to_owned());
        let orders = (0..Self::SIZE)
            .map(|i| {
                let order_id = 6_000_000_000_000_000_000 + i;
                let body = template.replace("{ID}", &order_id.to_string());
                let signature = sign(body.as_bytes(), &secret);
                Prepared {
                    order_id,
                    body: Bytes::from(body),
                    signature,
                }
            })
            .collect();
        Self { orders }
    }

    fn pick_from(orders: &[Prepared], worker: usize, n: u64) -> &Prepared {
        &orders[((worker as u64 * 7919 + n) % Self::SIZE) as usize]
    }
}

struct Run {
    ok: usize,
    errors: usize,
    latencies: Vec<Duration>,
    elapsed: Duration,
}

async fn run_http(
    addr: std::net::SocketAddr,
    corpus: &Corpus,
    concurrency: usize,
    duration: Duration,
    base: u64,
) -> Run {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("client");
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|worker| {
            let client = client.clone();
            let corpus = corpus.orders.clone();
            let url = format!("http://{addr}/webhooks");
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let (mut ok, mut errors) = (0, 0);
                let mut n: u64 = 0;
                while Instant::now() < deadline {
                    n += 1;
                    let order = Corpus::pick_from(&corpus, worker, n);
                    let sent = Instant::now();
                    let res = client
                        .post(&url)
                        .header("X-Shopify-Topic", "orders/create")
                        .header("X-Shopify-Shop-Domain", SHOP)
                        .header("X-Shopify-Webhook-Id", format!("lg-{base}-{worker}-{n}"))
                        .header("X-Shopify-Hmac-Sha256", order.signature.as_str())
                        .body(order.body.clone())
                        .send()
                        .await;
                    latencies.push(sent.elapsed());
                    match res {
                        Ok(r) if r.status() == 200 => ok += 1,
                        _ => errors += 1,
                    }
                }
                (ok, errors, latencies)
            })
        })
        .collect();
    let mut run = Run {
        ok: 0,
        errors: 0,
        latencies: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for t in tasks {
        let (ok, errors, lat) = t.await.expect("worker");
        run.ok += ok;
        run.errors += errors;
        run.latencies.extend(lat);
    }
    run.elapsed = start.elapsed();
    run
}

async fn run_ceiling(
    publisher: &Publisher,
    corpus: &Corpus,
    concurrency: usize,
    duration: Duration,
    base: u64,
) -> Run {
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|worker| {
            let publisher = publisher.clone();
            let corpus = corpus.orders.clone();
            tokio::spawn(async move {
                let (mut ok, mut errors) = (0, 0);
                let mut n: u64 = 0;
                while Instant::now() < deadline {
                    n += 1;
                    let order = Corpus::pick_from(&corpus, worker, n);
                    let message_id = format!("ref-{base}-{worker}-{n}");
                    let key = PartitionKey::Order(OrderId(order.order_id));
                    let p = partition_of(SHOP, key, PARTITIONS);
                    let msg = Outgoing {
                        message_id: &message_id,
                        kind: "orders/create",
                        headers: vec![("X-Shopify-Topic".into(), "orders/create".to_owned())],
                        body: &order.body,
                    };
                    match publisher.publish(Destination::Partition(p), &msg).await {
                        Ok(_) => ok += 1,
                        Err(_) => errors += 1,
                    }
                }
                (ok, errors)
            })
        })
        .collect();
    let mut run = Run {
        ok: 0,
        errors: 0,
        latencies: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for t in tasks {
        let (ok, errors) = t.await.expect("worker");
        run.ok += ok;
        run.errors += errors;
    }
    run.elapsed = start.elapsed();
    run
}

fn percentile(latencies: &[Duration], p: f64) -> f64 {
    if latencies.is_empty() {
        return 0.0;
    }
    let mut sorted = latencies.to_vec();
    sorted.sort();
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Messages in the partition queues.
async fn count(names: &Names) -> anyhow::Result<usize> {
    let admin = Admin::connect(&SecretString::from(AMQP.to_owned())).await?;
    let mut total = 0;
    for p in 0..PARTITIONS {
        total += admin.ready(&names.partition_queue(p)).await?;
    }
    admin.close("counted").await?;
    Ok(total)
}

/// Quorum queues report counts with a lag under load, so poll until the count reaches
/// `expected` or has not moved for five seconds.
async fn wait_for_count(names: &Names, expected: usize) -> anyhow::Result<usize> {
    let mut last = (usize::MAX, Instant::now());
    loop {
        let total = count(names).await?;
        if total == expected || last.1.elapsed() > Duration::from_secs(5) {
            return Ok(total);
        }
        if total != last.0 {
            last = (total, Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
