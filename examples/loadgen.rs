//! Load generator for the receiver (a benchmark, not a test).
//!
//! Runs the real receiver as its own process (`orderflow receive`, the release binary next to
//! this example) against the local RabbitMQ under a fresh prefix, sends signed ~6.9 KB
//! `orders/create` webhooks with unique webhook ids from N keep-alive connections for a bounded
//! time per level, and reports requests/s, p50/p99 latency, errors, the receiver's CPU per
//! request and its RSS. It then checks that the messages in the queues equal the 200s. In the
//! same run, at the same concurrency, it measures the broker's ceiling: the same messages (same
//! body, same headers) published with confirms by orderflow's `Publisher`, no HTTP.
//!
//! `cargo build --release --bin orderflow --example loadgen &&
//!  target/release/examples/loadgen [SECONDS] [CONCURRENCY...]` (default 10 s; 16 64 256).
//! `LOADGEN_PARTITIONS` (default 8) sets the partition queues.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use orderflow::event::{Destination, Routed, WebhookMeta, route};
use orderflow::id::ShopDomain;
use orderflow::queue::{Admin, Broker, Names, Outgoing, Publisher, Topology};
use orderflow::webhook::verify::sign;
use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SECRET: &str = "loadgen-secret";
const SHOP: &str = "acme.myshopify.com";
const AMQP: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
const BODY_BYTES: usize = 6900;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(10);
    let mut levels: Vec<usize> = args.map(|s| s.parse()).collect::<Result<_, _>>()?;
    if levels.is_empty() {
        levels = vec![16, 64, 256];
    }
    let partitions: u16 = std::env::var("LOADGEN_PARTITIONS")
        .ok()
        .map(|p| p.parse())
        .transpose()?
        .unwrap_or(8);
    let duration = Duration::from_secs(seconds);
    let prefix = format!("loadgen-{}", std::process::id());
    let corpus = Corpus::new(&body_template()?);

    let config = ReceiverConfig::write(&prefix, partitions)?;
    let topology = Topology::for_config(&config.parsed.amqp);
    let names = topology.names.clone();
    let mut receiver = Receiver::start(&config)?;
    receiver.wait_ready().await?;

    // The reference: our own publisher with confirms, no HTTP, same broker, same messages (body
    // and headers), under a prefix of its own so its messages never mix with the receiver's.
    let mut ref_amqp = config.parsed.amqp.clone();
    ref_amqp.prefix = format!("{prefix}-ref");
    let ref_topology = Topology::for_config(&ref_amqp);
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
        "body {} bytes, {} s per level, {} partitions, {} cores, receiver pid {}",
        corpus.orders[0].body.len(),
        seconds,
        partitions,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        receiver.pid()
    );
    println!(
        "| concurrency | receiver req/s | p50 ms | p99 ms | errors | queued = 200s | ceiling msg/s | receiver / ceiling | receiver CPU µs/req | receiver RSS MB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let addr = config.listen;
    for (level, &c) in levels.iter().enumerate() {
        // Webhook ids must differ between levels: the receiver dedupes repeated ids.
        let base = format!("{}-{level}", std::process::id());
        let ceiling = run_ceiling(&publisher, &corpus, partitions, c, duration, &base).await;
        let before = count(&names, partitions).await?;
        let cpu_before = receiver.cpu()?;
        let run = run_http(addr, &corpus, c, duration, &base).await;
        let cpu = receiver.cpu()? - cpu_before;
        let queued = wait_for_count(&names, partitions, before + run.ok).await? - before;
        let rate = run.ok as f64 / run.elapsed.as_secs_f64();
        let ceiling_rate = ceiling.ok as f64 / ceiling.elapsed.as_secs_f64();
        let answered = (run.ok + run.errors).max(1);
        println!(
            "| {c} | {rate:.0} | {:.1} | {:.1} | {} | {} ({queued} of {}) | {ceiling_rate:.0} | {:.2} | {:.1} | {:.1} |",
            percentile(&run.latencies, 0.50),
            percentile(&run.latencies, 0.99),
            run.errors,
            if queued == run.ok { "yes" } else { "NO" },
            run.ok,
            rate / ceiling_rate,
            cpu.as_secs_f64() * 1e6 / answered as f64,
            receiver.rss_mb()?,
        );
        if ceiling.errors > 0 {
            println!("  (the ceiling's publisher saw {} errors)", ceiling.errors);
        }
    }
    println!("receiver peak RSS {:.1} MB", receiver.status_mb("VmHWM:")?);
    receiver.stop();
    stop_ref.cancel();
    if std::env::var("LOADGEN_KEEP").is_ok() {
        println!("kept queues under prefix {prefix}");
        return Ok(());
    }
    let admin = Admin::connect(&SecretString::from(AMQP.to_owned())).await?;
    for names in [names, ref_names] {
        admin.delete(&names, partitions).await?;
    }
    admin.close("done").await?;
    Ok(())
}

/// The receiver's config, written to a file the child process reads.
struct ReceiverConfig {
    path: PathBuf,
    listen: std::net::SocketAddr,
    parsed: orderflow::config::Config,
}

impl ReceiverConfig {
    fn write(prefix: &str, partitions: u16) -> anyhow::Result<Self> {
        // A free port, chosen here so the client knows it before the child binds it.
        let listen = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let text = format!(
            r#"
[server]
listen = "{listen}"
[amqp]
url = "{AMQP}"
prefix = "{prefix}"
partitions = {partitions}
[shopify]
client_secrets = ["{SECRET}"]
[[shops]]
domain = "{SHOP}"
access_token = "unused"
"#
        );
        let path = std::env::temp_dir().join(format!("{prefix}.toml"));
        std::fs::write(&path, &text)?;
        let parsed =
            orderflow::config::Config::from_toml(&text, &path, &orderflow::config::Env::default())?;
        Ok(Self {
            path,
            listen,
            parsed,
        })
    }
}

/// The receiver process, and what /proc says about it.
struct Receiver {
    child: Child,
    listen: std::net::SocketAddr,
    config: PathBuf,
    /// Clock ticks per second, the unit of /proc's CPU times.
    clock_ticks: u64,
}

impl Receiver {
    fn start(config: &ReceiverConfig) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?;
        // target/release/examples/loadgen → target/release/orderflow
        let binary = exe
            .parent()
            .and_then(Path::parent)
            .map(|dir| dir.join("orderflow"))
            .filter(|b| b.exists())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "the orderflow binary is not next to this example: run `cargo build --release --bin orderflow --example loadgen` first"
                )
            })?;
        let child = Command::new(binary)
            .arg("receive")
            .arg("--config")
            .arg(&config.path)
            .env(
                "ORDERFLOW_LOG",
                std::env::var("LOADGEN_RECEIVER_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let clock_ticks = Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
            .unwrap_or(100);
        Ok(Self {
            child,
            listen: config.listen,
            config: config.path.clone(),
            clock_ticks,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("the receiver exited before it was ready: {status}");
            }
            if let Ok(mut s) = TcpStream::connect(self.listen).await {
                let req = format!("GET /readyz HTTP/1.1\r\nHost: {}\r\n\r\n", self.listen);
                if s.write_all(req.as_bytes()).await.is_ok() {
                    let mut conn = Conn::new(s);
                    if conn.read_status().await.ok() == Some(200) {
                        return Ok(());
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("the receiver was not ready within 20 s")
    }

    /// User plus system CPU time the process has used so far.
    fn cpu(&self) -> anyhow::Result<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))?;
        // Fields after the command name (which is in parentheses and may hold spaces).
        let rest = &stat[stat.rfind(')').ok_or_else(|| anyhow::anyhow!("odd stat"))? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
        Ok(Duration::from_secs_f64(
            ticks as f64 / self.clock_ticks as f64,
        ))
    }

    fn rss_mb(&self) -> anyhow::Result<f64> {
        self.status_mb("VmRSS:")
    }

    fn status_mb(&self, field: &str) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next())
            .ok_or_else(|| anyhow::anyhow!("no {field} in /proc status"))?
            .parse()?;
        Ok(kb / 1024.0)
    }

    fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
    }
}

/// The orders/create fixture cut or padded to ~6.9 KB, with `{ID}` where the order id goes.
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
    /// Its place in the corpus.
    index: usize,
    body: Vec<u8>,
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
                    index: i as usize,
                    body: body.into_bytes(),
                    signature,
                }
            })
            .collect();
        Self { orders }
    }

    fn pick(&self, worker: usize, n: u64) -> &Prepared {
        &self.orders[((worker as u64 * 7919 + n) % Self::SIZE) as usize]
    }
}

/// The headers Shopify sends with each delivery, as the receiver sees them.
fn shopify_headers(webhook_id: &str) -> [(&'static str, String); 6] {
    [
        ("X-Shopify-Topic", "orders/create".into()),
        ("X-Shopify-Shop-Domain", SHOP.into()),
        ("X-Shopify-Webhook-Id", webhook_id.into()),
        ("X-Shopify-API-Version", "2026-10".into()),
        ("X-Shopify-Triggered-At", "2026-12-01T10:00:00.000Z".into()),
        ("X-Shopify-Event-Id", format!("ev-{webhook_id}")),
    ]
}

struct Run {
    ok: usize,
    errors: usize,
    latencies: Vec<Duration>,
    elapsed: Duration,
}

impl Run {
    fn merge(parts: Vec<(usize, usize, Vec<Duration>)>, elapsed: Duration) -> Self {
        let mut run = Run {
            ok: 0,
            errors: 0,
            latencies: Vec::new(),
            elapsed,
        };
        for (ok, errors, latencies) in parts {
            run.ok += ok;
            run.errors += errors;
            run.latencies.extend(latencies);
        }
        run
    }
}

/// One keep-alive HTTP/1.1 connection with just enough parsing for the receiver's answers
/// (a status line, `content-length`, a short body): a lean client, so the load generator takes
/// as little of the machine as it can from the receiver and the broker.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            buf: Vec::with_capacity(1024),
        }
    }

    /// Reads one response; returns its status.
    async fn read_status(&mut self) -> std::io::Result<u16> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end]).unwrap_or("");
                let status = head
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                let total = end + 4 + length;
                while self.buf.len() < total {
                    self.fill().await?;
                }
                self.buf.drain(..total);
                return Ok(status);
            }
            self.fill().await?;
        }
    }

    async fn fill(&mut self) -> std::io::Result<()> {
        let mut chunk = [0u8; 4096];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn run_http(
    addr: std::net::SocketAddr,
    corpus: &Corpus,
    concurrency: usize,
    duration: Duration,
    base: &str,
) -> Run {
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|worker| {
            let corpus = Corpus {
                orders: corpus.orders.clone(),
            };
            let base = base.to_owned();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let (mut ok, mut errors) = (0, 0);
                let mut n: u64 = 0;
                let mut conn = None;
                let mut request = Vec::with_capacity(8 * 1024);
                while Instant::now() < deadline {
                    n += 1;
                    let order = corpus.pick(worker, n);
                    request.clear();
                    request.extend_from_slice(
                        format!("POST /webhooks HTTP/1.1\r\nHost: {addr}\r\n").as_bytes(),
                    );
                    for (k, v) in shopify_headers(&format!("lg-{base}-{worker}-{n}")) {
                        request.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
                    }
                    request.extend_from_slice(
                        format!(
                            "X-Shopify-Hmac-Sha256: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                            order.signature,
                            order.body.len()
                        )
                        .as_bytes(),
                    );
                    request.extend_from_slice(&order.body);
                    let sent = Instant::now();
                    let status = async {
                        if conn.is_none() {
                            conn = Some(Conn::new(TcpStream::connect(addr).await?));
                        }
                        let c = conn.as_mut().expect("connected");
                        c.stream.write_all(&request).await?;
                        c.read_status().await
                    }
                    .await;
                    latencies.push(sent.elapsed());
                    match status {
                        Ok(200) => ok += 1,
                        Ok(_) => errors += 1,
                        Err(_) => {
                            errors += 1;
                            conn = None;
                        }
                    }
                }
                (ok, errors, latencies)
            })
        })
        .collect();
    let mut parts = Vec::new();
    for t in tasks {
        parts.push(t.await.expect("worker"));
    }
    Run::merge(parts, start.elapsed())
}

async fn run_ceiling(
    publisher: &Publisher,
    corpus: &Corpus,
    partitions: u16,
    concurrency: usize,
    duration: Duration,
    base: &str,
) -> Run {
    let start = Instant::now();
    let deadline = start + duration;
    // The very messages the receiver would publish (routed the same way, the same headers),
    // prepared before the clock starts: per message only the webhook id changes.
    let shops: std::collections::HashSet<ShopDomain> =
        [ShopDomain::parse(SHOP).expect("a shop domain")].into();
    let routed: std::sync::Arc<Vec<_>> = std::sync::Arc::new(
        corpus
            .orders
            .iter()
            .map(|order| {
                let h = shopify_headers("ref");
                let meta = WebhookMeta {
                    topic: h[0].1.clone(),
                    shop: h[1].1.clone(),
                    webhook_id: h[2].1.clone(),
                    api_version: Some(h[3].1.clone()),
                    triggered_at: Some(h[4].1.clone()),
                    event_id: Some(h[5].1.clone()),
                };
                let Routed { event, .. } = route(
                    meta,
                    &order.body,
                    orderflow::clock::Clock::now(&orderflow::clock::SystemClock).to_string(),
                    &shops,
                )
                .expect("an order topic");
                assert!(matches!(
                    event.destination(partitions),
                    Destination::Partition(_)
                ));
                (event.destination(partitions), event.headers())
            })
            .collect(),
    );
    let tasks: Vec<_> = (0..concurrency)
        .map(|worker| {
            let publisher = publisher.clone();
            let corpus = Corpus {
                orders: corpus.orders.clone(),
            };
            let base = base.to_owned();
            let routed = routed.clone();
            tokio::spawn(async move {
                let (mut ok, mut errors) = (0, 0);
                let mut n: u64 = 0;
                while Instant::now() < deadline {
                    n += 1;
                    let order = corpus.pick(worker, n);
                    let (destination, headers) = &routed[order.index];
                    let webhook_id = format!("ref-{base}-{worker}-{n}");
                    let mut headers = headers.clone();
                    for (k, v) in &mut headers {
                        if k == "X-Shopify-Webhook-Id" {
                            v.clone_from(&webhook_id);
                        }
                    }
                    let msg = Outgoing {
                        message_id: &webhook_id,
                        kind: "orders/create",
                        headers,
                        body: &order.body,
                    };
                    match publisher.publish(*destination, &msg).await {
                        Ok(_) => ok += 1,
                        Err(_) => errors += 1,
                    }
                }
                (ok, errors, Vec::new())
            })
        })
        .collect();
    let mut parts = Vec::new();
    for t in tasks {
        parts.push(t.await.expect("worker"));
    }
    Run::merge(parts, start.elapsed())
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
async fn count(names: &Names, partitions: u16) -> anyhow::Result<usize> {
    let admin = Admin::connect(&SecretString::from(AMQP.to_owned())).await?;
    let mut total = 0;
    for p in 0..partitions {
        total += admin.ready(&names.partition_queue(p)).await?;
    }
    admin.close("counted").await?;
    Ok(total)
}

/// Quorum queues report counts with a lag under load, so poll until the count reaches
/// `expected` or has not moved for five seconds.
async fn wait_for_count(names: &Names, partitions: u16, expected: usize) -> anyhow::Result<usize> {
    let mut last = (usize::MAX, Instant::now());
    loop {
        let total = count(names, partitions).await?;
        if total == expected || last.1.elapsed() > Duration::from_secs(5) {
            return Ok(total);
        }
        if total != last.0 {
            last = (total, Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
