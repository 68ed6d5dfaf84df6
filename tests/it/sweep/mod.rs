//! The periodic sweep against the real broker and the sandbox shop, on the shop's manual clock:
//! an order changed with its webhook lost reaches the rules' state at the next sweep and is
//! counted as missed, one whose webhook came is not (and costs a snapshot, no mutation); two
//! processes on one prefix never sweep the shop at once and the survivor takes over from the
//! watermark; a restart resumes from it; `every = "off"` sweeps nothing.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use orderflow::app::Roles;
use orderflow::rules;
use orderflow::sandbox::Sandbox;

use crate::harness::e2e::{E2eOptions, Shop, rules_toml, start_instant};
use crate::harness::{Options, SHOP, TestApp, eventually};

const SWEEP: &str = "every = \"10m\"\noverlap = \"5m\"";

fn at(text: &str) -> Timestamp {
    text.parse().expect("instant")
}

fn now(shop: &Shop) -> Timestamp {
    orderflow::clock::Clock::now(&shop.clock)
}

/// When the sandbox read the fixture order's snapshot (on its clock).
fn snapshots_of(sandbox: &Sandbox, fixture: &str) -> Vec<Timestamp> {
    let gid = Shop::fixture(fixture).id;
    sandbox
        .queries()
        .into_iter()
        .filter(|q| q.operation_name.as_deref() == Some("OrderSnapshot"))
        .filter(|q| q.variables["id"].as_str() == Some(gid.as_str()))
        .map(|q| q.at)
        .collect()
}

fn minutes(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

/// The windows of the sweep's orders searches the sandbox executed (first pages only), in order.
fn windows(sandbox: &Sandbox) -> Vec<(Timestamp, Timestamp)> {
    sandbox
        .queries()
        .into_iter()
        .filter(|q| q.operation_name.as_deref() == Some("OrdersUpdatedPage"))
        .filter(|q| q.variables["after"].is_null())
        .map(|q| {
            let text = q.variables["query"].as_str().expect("a search").to_owned();
            let parts: Vec<&str> = text.split('\'').collect();
            assert!(parts.len() >= 4, "{text}");
            (at(parts[1]), at(parts[3]))
        })
        .collect()
}

async fn wait_windows(sandbox: &Sandbox, n: usize) -> Vec<(Timestamp, Timestamp)> {
    eventually(
        Duration::from_secs(20),
        &format!("{n} sweep(s) of the shop"),
        || async {
            let w = windows(sandbox);
            (w.len() >= n).then_some(w)
        },
    )
    .await
}

/// A metric's value from the Prometheus text, e.g. `orderflow_sweep_missed_total{shop="…"}`.
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.split_once(' ').is_some_and(|(n, _)| n == name))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

async fn scrape(app: &TestApp) -> String {
    app.http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics text")
}

fn shop_metric(name: &str) -> String {
    format!("{name}{{shop=\"{SHOP}\"}}")
}

fn example_rules() -> Arc<rules::Rules> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config/example.toml"),
    )
    .expect("example config");
    let c = orderflow::config::Config::from_toml(
        &text,
        std::path::Path::new("example.toml"),
        &orderflow::config::Env::default(),
    )
    .expect("example config");
    c.shops[0].rules.clone()
}

async fn sweeping_shop(name: &str) -> Shop {
    Shop::start_with(
        name,
        E2eOptions {
            sweep_toml: Some(SWEEP.to_owned()),
            ..Default::default()
        },
    )
    .await
}

/// Another worker process of `shop`'s deployment: same prefix, sandbox and clock.
async fn replica(shop: &Shop, name: &str) -> TestApp {
    TestApp::spawn_with(
        name,
        Options {
            extra_toml: rules_toml(5),
            roles: Some(Roles::WORK),
            admin_api_url: Some(shop.sandbox.base_url()),
            clock: Some(Arc::new(shop.clock.clone())),
            sweep_toml: Some(SWEEP.to_owned()),
            prefix: Some(shop.app.prefix.clone()),
            ..Default::default()
        },
    )
    .await
}

fn sweeps_run(app: &TestApp) -> f64 {
    metric(&app.metrics.encode(), "orderflow_sweep_seconds_count").unwrap_or(0.0)
}

#[tokio::test]
async fn an_order_whose_webhook_was_lost_is_swept_to_the_rules_state_and_counted_as_missed() {
    let shop = sweeping_shop("sweepmissed").await;
    let rules = example_rules();
    let planned = |order: &orderflow::shopify::OrderSnapshot, now| {
        rules::plan(&order.to_rules_order(), &rules, now)
            .changes()
            .count()
    };
    // A shop never swept is swept at once for one interval plus the overlap: 08:45 to 09:00.
    let first = wait_windows(&shop.sandbox, 1).await;
    assert_eq!(first, [(at("2026-11-23T08:45:00Z"), start_instant())]);

    // The worker judges only what it could have seen: a delivery on the order's partition
    // starts its watch. The sweep ticks every partition before it sweeps, so even a quiet
    // partition is watched from the first sweep on.
    let lost = "digital";
    shop.wait_settled(u64::from(shop.app.partitions)).await;
    let text = shop.app.metrics.encode();
    assert_eq!(
        metric(&text, "orderflow_messages_total{disposition=\"done\"}"),
        Some(f64::from(shop.app.partitions)),
        "one tick per partition, settled at once: {text}"
    );

    // 09:01: the merchant edits two orders. The digital order's webhook is lost; the
    // handmade order's arrives and is handled.
    shop.clock.advance(minutes(1));
    let edited = at("2026-11-23T09:01:00Z");
    let heard = "handmade";
    for f in [lost, heard] {
        assert!(
            shop.sandbox
                .touch_order(&shop.shop, &Shop::fixture(f).id, edited)
        );
    }
    shop.send(heard, "orders/updated", "wh-heard").await;
    let heard_mutations = planned(&Shop::fixture(heard), now(&shop));
    assert!(heard_mutations > 0, "the handmade order needs holds");
    shop.wait_mutations(heard, heard_mutations).await;
    let before = shop.settled();
    assert!(
        shop.mutations_of(lost).is_empty(),
        "no webhook, nothing done yet"
    );

    // 09:10: the next sweep covers 08:55 to 09:10 and wakes both.
    shop.clock.advance(minutes(9));
    let swept = wait_windows(&shop.sandbox, 2).await;
    assert_eq!(
        swept[1],
        (at("2026-11-23T08:55:00Z"), at("2026-11-23T09:10:00Z"))
    );
    let want = planned(&Shop::fixture(lost), now(&shop));
    assert!(want > 0, "the digital order needs work");
    shop.wait_mutations(lost, want).await;
    shop.wait_settled(before + 2).await;
    let sweep_time = now(&shop);
    eventually(
        Duration::from_secs(20),
        "the handmade order woken by the sweep",
        || async {
            snapshots_of(&shop.sandbox, heard)
                .iter()
                .any(|t| *t >= sweep_time)
                .then_some(())
        },
    )
    .await;
    eventually(
        Duration::from_secs(20),
        "the digital order as the rules want it",
        || async { (planned(&shop.snapshot(lost).await, now(&shop)) == 0).then_some(()) },
    )
    .await;
    let text = eventually(
        Duration::from_secs(10),
        "the miss and the sweep counted",
        || async {
            let text = scrape(&shop.app).await;
            let missed = metric(&text, &shop_metric("orderflow_sweep_missed_total"));
            let swept = metric(
                &text,
                &shop_metric("orderflow_sweep_watermark_timestamp_seconds"),
            );
            (missed.is_some() && swept == Some(at("2026-11-23T09:10:00Z").as_second() as f64))
                .then_some(text)
        },
    )
    .await;
    assert_eq!(
        metric(&text, &shop_metric("orderflow_sweep_missed_total")),
        Some(1.0),
        "the lost one only, not the one whose webhook came: {text}"
    );
    assert_eq!(
        metric(&text, &shop_metric("orderflow_sweep_orders_total")),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            &shop_metric("orderflow_sweep_watermark_timestamp_seconds")
        ),
        Some(at("2026-11-23T09:10:00Z").as_second() as f64),
        "{text}"
    );
    // The handmade order was already as the rules want: its wake-up cost a snapshot and sent
    // nothing (the digital order's second pass, a delay hop later, has settled too).
    assert_eq!(shop.mutations_of(heard).len(), heard_mutations);
    assert!(
        shop.mutations_of(heard).iter().all(|m| m.at < sweep_time),
        "nothing sent for the handmade order after the sweep"
    );
    assert_eq!(
        shop.mutations_of(lost).len(),
        want,
        "each planned mutation once"
    );
    shop.stop().await;
}

#[tokio::test]
async fn two_processes_never_sweep_a_shop_at_once_and_the_survivor_resumes_from_the_watermark() {
    let shop = sweeping_shop("sweeplock").await;
    let other = replica(&shop, "sweeplock2").await;
    wait_windows(&shop.sandbox, 1).await;
    // Both consume the sweep queue; only the active one receives its state and sweeps.
    for round in 1..=3 {
        shop.clock.advance(minutes(10));
        wait_windows(&shop.sandbox, round + 1).await;
    }
    // The query is logged before the sweep is counted: wait for the count.
    let (a, b) = eventually(Duration::from_secs(10), "four sweeps counted", || async {
        let (a, b) = (sweeps_run(&shop.app), sweeps_run(&other));
        (a + b >= 4.0).then_some((a, b))
    })
    .await;
    assert_eq!(a + b, 4.0, "four sweeps in all: {a} and {b}");
    assert!(a == 0.0 || b == 0.0, "one process swept: {a} and {b}");
    let (active, standby) = if a > 0.0 {
        (shop.app, other)
    } else {
        (other, shop.app)
    };
    active.stop_keeping_queues().await;
    // The standby receives the state the stopped one held and sweeps from its watermark.
    shop.clock.advance(minutes(10));
    let all = wait_windows(&shop.sandbox, 5).await;
    eventually(
        Duration::from_secs(10),
        "the standby's sweep counted",
        || async { (sweeps_run(&standby) >= 1.0).then_some(()) },
    )
    .await;
    let start = start_instant();
    let expected: Vec<_> = (0..5)
        .map(|i| {
            let until = start + minutes(10 * i);
            let since = if i == 0 {
                start - minutes(15)
            } else {
                until - minutes(15)
            };
            (since, until)
        })
        .collect();
    assert_eq!(
        all[..5],
        expected[..],
        "each window starts at the previous sweep's start minus the overlap, none twice"
    );
    let running = metric(
        &standby.metrics.encode(),
        &shop_metric("orderflow_sweep_running"),
    );
    assert_eq!(running, Some(0.0));
    standby.stop().await;
    shop.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_holder_cut_off_from_the_broker_stops_and_the_other_resumes_from_its_watermark() {
    let proxy = crate::harness::proxy::Proxy::start("127.0.0.1:5672".parse().expect("addr")).await;
    let shop = Shop::start_with(
        "sweepcut",
        E2eOptions {
            amqp_url: Some(proxy.amqp_url()),
            sweep_toml: Some(SWEEP.to_owned()),
            ..Default::default()
        },
    )
    .await;
    // The first process sweeps first (it holds the lease) before the second one starts.
    wait_windows(&shop.sandbox, 1).await;
    let other = replica(&shop, "sweepcut2").await;
    shop.clock.advance(minutes(10));
    wait_windows(&shop.sandbox, 2).await;
    eventually(
        Duration::from_secs(10),
        "the second sweep counted",
        || async { (sweeps_run(&shop.app) == 2.0).then_some(()) },
    )
    .await;
    assert_eq!(sweeps_run(&other), 0.0, "the second process waits");
    // Its watermark is stored once the gauge shows it.
    let stored = at("2026-11-23T09:10:00Z").as_second() as f64;
    eventually(
        Duration::from_secs(10),
        "the 09:10 watermark stored",
        || async {
            let text = shop.app.metrics.encode();
            let w = metric(
                &text,
                &shop_metric("orderflow_sweep_watermark_timestamp_seconds"),
            );
            (w == Some(stored)).then_some(())
        },
    )
    .await;
    // A crash, as the broker sees it: the connection is gone, nothing more is acked.
    proxy.cut();
    shop.clock.advance(minutes(30));
    let all = wait_windows(&shop.sandbox, 3).await;
    // From the stored watermark minus the overlap: 09:05, or 08:55 if the cut came between
    // the new state's confirm and the old one's ack (both come back; the earlier wins). Never
    // one interval back from now (09:25), which would leave 09:10 to 09:25 unswept.
    let resumed = [at("2026-11-23T09:05:00Z"), at("2026-11-23T08:55:00Z")];
    assert!(resumed.contains(&all[2].0), "{:?}", all[2]);
    assert_eq!(all[2].1, at("2026-11-23T09:40:00Z"));
    eventually(
        Duration::from_secs(10),
        "the survivor's sweep counted",
        || async { (sweeps_run(&other) == 1.0).then_some(()) },
    )
    .await;
    assert_eq!(sweeps_run(&shop.app), 2.0, "the cut-off one did not sweep");
    other.stop_keeping_queues().await;
    proxy.restore();
    shop.stop().await;
}

#[tokio::test]
async fn a_restarted_process_resumes_from_the_stored_watermark() {
    let shop = sweeping_shop("sweeprestart").await;
    wait_windows(&shop.sandbox, 1).await;
    let prefix = shop.app.prefix.clone();
    let Shop {
        sandbox,
        app,
        clock,
        ..
    } = shop;
    app.stop_keeping_queues().await;
    // Forty minutes later a new process starts on the same prefix.
    clock.advance(minutes(40));
    let next = TestApp::spawn_with(
        "sweeprestart2",
        Options {
            extra_toml: rules_toml(5),
            roles: Some(Roles::WORK),
            admin_api_url: Some(sandbox.base_url()),
            clock: Some(Arc::new(clock.clone())),
            sweep_toml: Some(SWEEP.to_owned()),
            prefix: Some(prefix),
            ..Default::default()
        },
    )
    .await;
    let all = wait_windows(&sandbox, 2).await;
    assert_eq!(
        all[1],
        (start_instant() - minutes(5), start_instant() + minutes(40)),
        "from the watermark (09:00) minus the overlap, not from 09:30"
    );
    next.stop().await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn with_every_off_no_sweep_runs() {
    let shop = Shop::start_with(
        "sweepoff",
        E2eOptions {
            sweep_toml: Some("every = \"off\"".to_owned()),
            ..Default::default()
        },
    )
    .await;
    // A webhook handled end to end: a sweep, due at once at start, would have run by now.
    shop.send("handmade", "orders/create", "wh-off").await;
    shop.wait_settled(1).await;
    shop.clock.advance(minutes(30));
    shop.send("handmade", "orders/updated", "wh-off-2").await;
    shop.wait_settled(2).await;
    assert!(windows(&shop.sandbox).is_empty());
    let text = scrape(&shop.app).await;
    assert_eq!(metric(&text, "orderflow_sweep_seconds_count"), Some(0.0));
    shop.stop().await;
}

mod lease;
mod measure;
