//! `orderflow demo`: the whole pipeline in one process, for a newcomer. The sandbox shop holds
//! the fixture orders; the real app (receiver and workers) runs against the local RabbitMQ under
//! a prefix of its own; signed webhooks go to the receiver over HTTP; the report is read back
//! from the sandbox (what Shopify would have received and now holds).
//!
//! Time is a [`ManualClock`] shared by the app and the sandbox, so ship-by dates do not depend
//! on the day the demo runs, and the demo can jump to a ship-by cut-off. Wake-ups re-check the
//! clock every second (`worker.max_delay_hop_ms = 1000`), so a jump takes effect within one hop.
//!
//! Every wait is a condition with a deadline (the app's settled-message counter, the order's
//! state in the sandbox), never a fixed sleep. Like the rest of the CLI it reports with `anyhow`.

mod capture;
mod report;
mod setup;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use jiff::Timestamp;
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

use super::DemoArgs;
use crate::app::{App, Roles};
use crate::clock::{Clock, ManualClock};
use crate::id::ShopDomain;
use crate::rules::Rules;
use crate::rules::plan::{FRAUD_HANDLE, PROCESSING_HANDLE};
use crate::sandbox::{Sandbox, SandboxConfig};
use crate::shopify::OrderSnapshot;
use crate::shopify::snapshot::{RiskLevel, RiskRecommendation};
use crate::telemetry::{DispositionLabels, Metrics};
use report::HoldNames;
use setup::DemoOrder;

/// How long the demo waits for the broker before it says how to get one.
const BROKER_WAIT: Duration = Duration::from_secs(4);
/// How long any one step may take before the demo gives up (it normally takes about a second).
const STEP_DEADLINE: Duration = Duration::from_secs(45);
/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(50);

/// The exit code when no broker answers (the command could not start).
const NO_BROKER: i32 = 2;

pub async fn run(args: DemoArgs) -> anyhow::Result<i32> {
    // Warnings only, and not the connection supervisor's retries: when no broker answers, the
    // demo says so itself, in one line. `ORDERFLOW_LOG` shows everything.
    crate::telemetry::init_logging_with("warn,orderflow::queue::connection=error");
    let listen = args.listen.unwrap_or_else(|| {
        // A fixed port is convenient for the curl lines of --keep-running; a one-shot run takes
        // a free port so it never collides with an orderflow already running.
        let port = if args.keep_running { 8080 } else { 0 };
        SocketAddr::from(([127, 0, 0, 1], port))
    });
    // The ops page on the admin listener, loopback only; 8081 with --keep-running.
    let admin = SocketAddr::from(([127, 0, 0, 1], if args.keep_running { 8081 } else { 0 }));
    let orders = setup::load_orders(&setup::fixtures_dir(args.fixtures.as_deref()))?;
    let clock = ManualClock::new(setup::start_instant());
    let sandbox = Sandbox::start(SandboxConfig {
        clock: Arc::new(clock.clone()),
        // A Shopify Plus shop's bucket: the standard plan's 100 points/s would make the
        // newcomer wait on the throttle for the 300-line order.
        bucket: crate::sandbox::BucketConfig {
            maximum_available: 10_000.0,
            restore_rate: 1_000.0,
        },
        ..SandboxConfig::default()
    })
    .await
    .context("cannot start the sandbox shop")?;
    let shop = ShopDomain::parse(setup::SHOP).expect("the demo shop is a valid domain");
    sandbox.add_shop(shop.clone(), SecretString::from(setup::TOKEN));
    for o in &orders {
        sandbox.insert_order(&o.fixture.shop, o.fixture.order.clone());
    }
    let prefix = format!("orderflow-demo-{}", std::process::id());
    let amqp_url = SecretString::from(args.amqp_url);
    let config = setup::config(&amqp_url, listen, admin, &prefix, &sandbox.base_url())?;
    let redacted_url = config.amqp.redacted_url();
    let names = crate::queue::Names::new(prefix.clone());
    let partitions = config.amqp.partitions;
    let rules = config
        .shop(&shop)
        .expect("the demo config has the demo shop")
        .rules
        .clone();
    let zone = config.shops[0].timezone.clone();
    let app = App::build_with(config, Arc::new(clock.clone()), Roles::ALL).await?;
    if app.broker().wait_connected(BROKER_WAIT).await.is_err() {
        eprintln!(
            "orderflow demo needs RabbitMQ, and none answers at {redacted_url}: start one with `rabbitmq-server -detached` (or `docker compose -f deploy/compose.yaml up rabbitmq`), or pass --amqp-url"
        );
        return Ok(NO_BROKER);
    }
    let addr = app.local_addr();
    let admin = app.admin_addr().expect("the demo's config has [admin]");
    let mut demo = Demo {
        receiver: format!("http://{addr}/webhooks"),
        http: reqwest::Client::new(),
        metrics: app.metrics(),
        sandbox,
        clock,
        shop,
        rules,
        zone,
        orders,
        holds: HoldNames::default(),
    };
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    println!(
        "orderflow demo: sandbox shop {} at {}, receiver at {}, ops page at http://{admin}/, RabbitMQ {redacted_url} (queues {prefix}.*)",
        setup::SHOP,
        demo.sandbox.base_url(),
        demo.receiver,
    );
    println!(
        "clock: {} (a manual clock shared by the app and the shop)\n",
        demo.when(demo.clock.now())
    );
    let played = demo.play().await;
    if let Err(e) = &played {
        eprintln!("demo failed: {e:#}");
    }
    if args.keep_running && played.is_ok() {
        setup::print_how_to_send(addr, admin, &demo.sandbox.base_url());
        crate::cli::stop_on_signal(CancellationToken::new()).await;
    }
    shutdown.cancel();
    let stopped = running.await;
    demo.sandbox.shutdown().await;
    setup::delete_topology(&amqp_url, &names, partitions)
        .await
        .context("cannot delete the demo's queues")?;
    match (played, stopped) {
        (Ok(()), Ok(Ok(()))) => Ok(0),
        (Ok(()), Ok(Err(e))) => Err(e.into()),
        (Ok(()), Err(e)) => Err(e.into()),
        (Err(_), _) => Ok(1),
    }
}

/// What the steps share.
struct Demo {
    receiver: String,
    http: reqwest::Client,
    metrics: Arc<Metrics>,
    sandbox: Sandbox,
    clock: ManualClock,
    shop: ShopDomain,
    rules: Arc<Rules>,
    zone: jiff::tz::TimeZone,
    orders: Vec<DemoOrder>,
    holds: HoldNames,
}

impl Demo {
    async fn play(&mut self) -> anyhow::Result<()> {
        self.create_orders().await?;
        self.release_processing_hold().await?;
        self.release_fraud_hold().await?;
        self.capture_and_archive().await?;
        Ok(())
    }

    /// Step 1: every order's `orders/create`, then the report once the workers are done.
    async fn create_orders(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        let settled_before = settled(&self.metrics);
        let mut accepted = 0;
        for (i, o) in self.orders.iter().enumerate() {
            let status = self
                .send("orders/create", &format!("demo-create-{i}"), &o.webhook)
                .await?;
            if status.is_success() {
                accepted += 1;
            } else {
                println!(
                    "  {} {}: the receiver answered {status}",
                    o.name, o.fixture.order.name
                );
            }
        }
        println!(
            "1. Sent {} signed orders/create webhooks to the receiver: {accepted} accepted (200 = on RabbitMQ).",
            self.orders.len()
        );
        let metrics = self.metrics.clone();
        self.wait("the workers to settle every order", || {
            settled(&metrics) >= settled_before + accepted
        })
        .await?;
        let log = self.sandbox.mutations();
        println!(
            "   Workers re-read each order from the shop, planned with the example rules and applied the difference in {:.1} s: {} Admin API requests, {} mutations.\n",
            started.elapsed().as_secs_f64(),
            self.sandbox.request_count(),
            log.len()
        );
        let mut orders: Vec<(String, OrderSnapshot)> = self
            .orders
            .iter()
            .map(|o| Ok((o.name.clone(), self.current(&o.fixture.order.id)?)))
            .collect::<anyhow::Result<_>>()?;
        orders.sort_by(|a, b| a.1.name.cmp(&b.1.name));
        println!(
            "   rules: what decided (rule names, or the config key of a default) · did: the mutations the shop received · now: the order in the shop (FO = fulfilment order)\n"
        );
        for (name, order) in &orders {
            self.holds.learn(order);
            let did = report::actions(&report::mutations_of(order, &log), &self.holds);
            print!(
                "{}",
                report::block(name, order, &did, self.skipped(order).as_deref())
            );
        }
        println!();
        Ok(())
    }

    /// Step 2: jump the clock to the handmade order's ship-by cut-off; its wake-up (hopping
    /// through the 1 s delay tier) finds it due and releases the processing hold.
    async fn release_processing_hold(&mut self) -> anyhow::Result<()> {
        let Some(o) = self.fixture("handmade") else {
            println!("2. (no `handmade` fixture: skipping the processing-hold release)");
            return Ok(());
        };
        let (name, gid) = (o.name.clone(), o.fixture.order.id.clone());
        let order = self.current(&gid)?;
        let plan = crate::rules::plan(&order.to_rules_order(), &self.rules, self.clock.now());
        let Some(due) = plan.wake_up() else {
            println!(
                "2. {} {name} has no wake-up planned: nothing to release.",
                order.name
            );
            return Ok(());
        };
        println!(
            "2. {} {name} is held until its ship-by cut-off. Advancing the clock {} → {}.",
            order.name,
            self.when(self.clock.now()),
            self.when(due)
        );
        let from = self.sandbox.mutations().len();
        self.clock.set(due);
        let started = Instant::now();
        self.wait("the processing hold to be released", || {
            self.is_settled_without(&gid, PROCESSING_HANDLE)
        })
        .await?;
        self.print_change(&name, &gid, from, started)
    }

    /// Step 3: the fraud provider accepts the high-risk order; Shopify sends
    /// `orders/risk_assessment_changed`; the worker releases its fraud hold.
    async fn release_fraud_hold(&mut self) -> anyhow::Result<()> {
        let Some(o) = self.fixture("high-risk") else {
            println!("3. (no `high-risk` fixture: skipping the fraud-hold release)");
            return Ok(());
        };
        let (name, gid) = (o.name.clone(), o.fixture.order.id.clone());
        let order_name = o.fixture.order.name.clone();
        let from = self.sandbox.mutations().len();
        self.sandbox.set_risk(
            &self.shop,
            &gid,
            RiskRecommendation::Accept,
            &[RiskLevel::Low],
        );
        let body = setup::risk_changed_body(&gid, self.clock.now());
        let status = self
            .send(
                "orders/risk_assessment_changed",
                "demo-risk-accepted",
                &body,
            )
            .await?;
        println!(
            "3. The fraud check of {order_name} {name} now says ACCEPT (risk LOW); Shopify sends orders/risk_assessment_changed: {status}."
        );
        let started = Instant::now();
        self.wait("the fraud hold to be released", || {
            self.is_settled_without(&gid, FRAUD_HANDLE)
        })
        .await?;
        self.print_change(&name, &gid, from, started)
    }

    /// True when no hold `handle` is on the order and the rules want nothing more of it now.
    fn is_settled_without(&self, gid: &str, handle: &str) -> bool {
        let Some(order) = self.sandbox.order(&self.shop, gid) else {
            return false;
        };
        let held = order
            .fulfillment_orders
            .iter()
            .flat_map(|fo| &fo.fulfillment_holds)
            .any(|h| h.handle.as_deref() == Some(handle));
        !held
            && crate::rules::plan(&order.to_rules_order(), &self.rules, self.clock.now()).is_empty()
    }

    fn print_change(
        &self,
        name: &str,
        gid: &str,
        from: usize,
        started: Instant,
    ) -> anyhow::Result<()> {
        let order = self.current(gid)?;
        let log = self.sandbox.mutations();
        let did = report::actions(&report::mutations_of(&order, &log[from..]), &self.holds);
        println!("   Done in {:.1} s:", started.elapsed().as_secs_f64());
        print!(
            "{}",
            report::block(name, &order, &did, self.skipped(&order).as_deref())
        );
        println!();
        Ok(())
    }

    /// Why the rules leave `order` alone altogether (cancelled, closed, test), if they do.
    fn skipped(&self, order: &OrderSnapshot) -> Option<String> {
        crate::rules::plan(&order.to_rules_order(), &self.rules, self.clock.now()).skipped
    }

    fn fixture(&self, name: &str) -> Option<&DemoOrder> {
        self.orders.iter().find(|o| o.name == name)
    }

    fn current(&self, gid: &str) -> anyhow::Result<OrderSnapshot> {
        self.sandbox
            .order(&self.shop, gid)
            .with_context(|| format!("the sandbox lost order {gid}"))
    }

    /// A signed delivery, as Shopify sends it.
    async fn send(
        &self,
        topic: &str,
        webhook_id: &str,
        body: &[u8],
    ) -> anyhow::Result<reqwest::StatusCode> {
        let secret = SecretString::from(setup::SECRET);
        let response = self
            .http
            .post(&self.receiver)
            .header("X-Shopify-Topic", topic)
            .header("X-Shopify-Shop-Domain", self.shop.as_str())
            .header("X-Shopify-Webhook-Id", webhook_id)
            .header("X-Shopify-Event-Id", format!("event-{webhook_id}"))
            .header("X-Shopify-API-Version", "2026-10")
            .header("X-Shopify-Triggered-At", self.clock.now().to_string())
            .header(
                "X-Shopify-Hmac-Sha256",
                crate::webhook::verify::sign(body, &secret),
            )
            .body(body.to_vec())
            .send()
            .await
            .with_context(|| format!("cannot reach the receiver at {}", self.receiver))?;
        Ok(response.status())
    }

    /// Polls `done` until it holds, or fails after [`STEP_DEADLINE`].
    async fn wait(&self, what: &str, mut done: impl FnMut() -> bool) -> anyhow::Result<()> {
        let start = Instant::now();
        while !done() {
            if start.elapsed() > STEP_DEADLINE {
                anyhow::bail!("gave up after {STEP_DEADLINE:?} waiting for {what}");
            }
            tokio::time::sleep(POLL).await;
        }
        Ok(())
    }

    /// "Fri 20 Nov 2026 16:00 CET" in the shop's zone.
    fn when(&self, t: Timestamp) -> String {
        t.to_zoned(self.zone.clone())
            .strftime("%a %-d %b %Y %H:%M %Z")
            .to_string()
    }
}

/// Messages the workers finished with (applied, nothing to do, or dead-lettered): not the
/// hops of a wake-up on its way, nor a retry still to come.
fn settled(metrics: &Metrics) -> u64 {
    ["done", "done_wake_up", "dead_letter"]
        .iter()
        .map(|d| {
            metrics
                .messages
                .get_or_create(&DispositionLabels {
                    disposition: (*d).to_owned(),
                })
                .get()
        })
        .sum()
}
