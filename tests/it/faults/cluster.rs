//! orderflow on the three-node cluster of `deploy/rabbitmq-cluster/local.sh` (`amqp.urls`),
//! under steady webhook load: the node leading the partition queues killed with SIGKILL and
//! restarted, one node cut off from orderflow, a memory alarm. Each test prints what it
//! measured (answers, the 503 window) for RELIABILITY.md.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use orderflow::queue::Names;

use super::load::{Load, send, window};
use crate::e2e::planned_changes;
use crate::harness::broker::drain_at;
use crate::harness::e2e::{E2eOptions, Shop};
use crate::harness::proxy::Proxy;
use crate::harness::{Options, TestApp, cluster, eventually, logs};

/// Orders whose plans change something (holds, fulfilments, tags, the decision).
const FIXTURES: &[&str] = &["digital", "mixed", "handmade", "high-risk"];

/// The webhook ids the workers settled, from the log lines of their message spans.
fn settled_ids(tag: &str) -> BTreeSet<String> {
    let needle = format!("webhook_id=\"{tag}-");
    logs::captured()
        .lines()
        .filter(|l| l.contains(": settled"))
        .filter_map(|l| {
            let start = l.find(&needle)? + "webhook_id=\"".len();
            let end = start + l[start..].find('"')?;
            Some(l[start..end].to_owned())
        })
        .collect()
}

/// Every message id in the prefix's partition queues, drained through node `n`.
async fn queued_ids(n: usize, prefix: &str, partitions: u16) -> BTreeSet<String> {
    let names = Names::new(prefix);
    let mut ids = BTreeSet::new();
    for p in 0..partitions {
        for got in drain_at(&cluster::url(n), &names.partition_queue(p)).await {
            ids.extend(got.message_id);
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_node_that_leads_the_queues_loses_nothing_and_does_nothing_twice() {
    let _cluster = cluster::exclusive().await;
    let began = Instant::now();
    let shop = Shop::start_with(
        "clkill",
        E2eOptions {
            amqp_urls: Some(cluster::urls()),
            ..Default::default()
        },
    )
    .await;
    let prefix = shop.app.prefix.clone();
    let partitions = shop.app.partitions;
    let expected: BTreeMap<&str, usize> = FIXTURES
        .iter()
        .map(|f| (*f, planned_changes(&shop, f)))
        .collect();
    let tag = format!("{prefix}-wh");
    // About what the workers keep up with: each message costs a snapshot read against the
    // sandbox's cost bucket, so a flood would only test the backlog.
    let load = Load::start(shop.app.addr, &tag, FIXTURES, 4, Duration::from_millis(800));
    load.wait_ok_after(began, 12, Duration::from_secs(20), "before the kill")
        .await;

    // The node leading most of the partition queues (the one orderflow declared them on).
    let leaders = cluster::leaders(&prefix).await;
    let mut led: BTreeMap<usize, usize> = BTreeMap::new();
    for (queue, node) in &leaders {
        if queue.contains(".orders.") {
            *led.entry(*node).or_default() += 1;
        }
    }
    let (&victim, &count) = led
        .iter()
        .max_by_key(|(_, c)| **c)
        .expect("the partition queues have leaders");
    let killed = Instant::now();
    cluster::script(&["kill", &victim.to_string()]).await;
    load.wait_ok_after(killed, 12, Duration::from_secs(30), "after the kill")
        .await;
    let after_kill = window(&load.answers(), killed);

    let restart = Instant::now();
    cluster::script(&["start"]).await;
    let restarted = Instant::now();
    load.wait_ok_after(restarted, 8, Duration::from_secs(20), "after the restart")
        .await;
    let answers = load.finish().await;
    let during_restart = window(&answers, restart);

    let unanswered: Vec<_> = answers.iter().filter(|a| a.status == 0).collect();
    assert!(
        unanswered.is_empty(),
        "every delivery answered: {unanswered:?}"
    );
    let other: Vec<_> = answers
        .iter()
        .filter(|a| a.status != 200 && a.status != 503)
        .collect();
    assert!(other.is_empty(), "only 200 or 503: {other:?}");
    let ok: BTreeSet<String> = answers
        .iter()
        .filter(|a| a.status == 200)
        .map(|a| a.id.clone())
        .collect();

    // Every 200 is processed: the workers settle each one (the queues drain).
    let settling = Instant::now();
    loop {
        let settled = settled_ids(&tag);
        let missing: Vec<&String> = ok.iter().filter(|id| !settled.contains(*id)).collect();
        if missing.is_empty() {
            break;
        }
        if settling.elapsed() > Duration::from_secs(45) {
            let sample = logs::captured()
                .lines()
                .filter(|l| l.contains(": settled") && l.contains(&tag))
                .take(2)
                .map(str::to_owned)
                .collect::<Vec<_>>();
            panic!(
                "{} of {} deliveries answered 200 not settled after 45 s (settled: {}), e.g. {:?}; log lines: {sample:?}",
                missing.len(),
                ok.len(),
                settled.len(),
                &missing[..missing.len().min(5)]
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for f in FIXTURES {
        let want = expected[f];
        let got = shop.wait_mutations(f, want).await;
        assert_eq!(got, want, "{f}: exactly the planned mutations, none twice");
        let left = shop.still_planned(f).await;
        assert!(left.is_empty(), "{f} is as the rules want it: {left:?}");
    }
    let alive = if victim == 1 { 2 } else { 1 };
    assert_eq!(
        cluster::ready(alive, &Names::new(&prefix).dead_queue()).await,
        0,
        "nothing dead-lettered"
    );
    eprintln!(
        "cluster kill: node ofc{victim} led {count} of {partitions} partition queues; \
         {} deliveries, {} answered 200, all settled, mutations once each; \
         after the kill: {after_kill}; during the restart ({:?}): {during_restart}; \
         the test took {:?}",
        answers.len(),
        ok.len(),
        restarted - restart,
        began.elapsed()
    );
    shop.app.stop_keeping_queues().await;
    shop.sandbox.shutdown().await;
    cluster::delete_prefix(alive, &prefix, partitions).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_cut_off_from_orderflow_costs_a_bounded_503_window_and_no_200_is_lost() {
    let _cluster = cluster::exclusive().await;
    let began = Instant::now();
    // orderflow reaches node 1 through a proxy that then stops passing traffic (a partition:
    // no reset, no close); the short heartbeat is what notices it.
    let proxy: Arc<Proxy> = Proxy::start(([127, 0, 0, 1], cluster::PORTS[0]).into()).await;
    let heartbeat = |u: String| format!("{u}?heartbeat=2");
    let urls = vec![
        heartbeat(proxy.amqp_url()),
        heartbeat(cluster::url(2)),
        heartbeat(cluster::url(3)),
    ];
    let app = TestApp::spawn_with(
        "clcut",
        Options {
            amqp_urls: Some(urls),
            confirm_timeout_ms: Some(1000),
            ..Default::default()
        },
    )
    .await;
    let tag = format!("{}-wh", app.prefix);
    let load = Load::start(app.addr, &tag, FIXTURES, 4, Duration::from_millis(20));
    load.wait_ok_after(began, 20, Duration::from_secs(20), "before the cut")
        .await;
    let cut = Instant::now();
    proxy.stall();
    load.wait_ok_after(
        cut,
        20,
        Duration::from_secs(30),
        "after the cut, through node 2 or 3",
    )
    .await;
    let answers = load.finish().await;
    proxy.restore();
    let measured = window(&answers, cut);
    assert!(
        answers.iter().all(|a| a.status == 200 || a.status == 503),
        "every delivery answered 200 or 503"
    );
    assert!(
        measured.slowest < Duration::from_millis(2500),
        "answers within the 1 s confirm budget and some slack, never a hang: {measured:?}"
    );
    let ok: BTreeSet<String> = answers
        .iter()
        .filter(|a| a.status == 200)
        .map(|a| a.id.clone())
        .collect();
    let queued = queued_ids(2, &app.prefix, app.partitions).await;
    let lost: Vec<_> = ok.difference(&queued).collect();
    assert!(lost.is_empty(), "every 200 is in a queue; lost: {lost:?}");
    eprintln!(
        "cluster partition: {} deliveries, {} answered 200, all queued; after the cut: {measured}; \
         the test took {:?}",
        answers.len(),
        ok.len(),
        began.elapsed()
    );
    let (prefix, partitions) = (app.prefix.clone(), app.partitions);
    app.stop_keeping_queues().await;
    cluster::delete_prefix(2, &prefix, partitions).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_alarm_gets_503_within_the_confirm_budget_and_publishing_resumes_after() {
    let _cluster = cluster::exclusive().await;
    let began = Instant::now();
    let app = TestApp::spawn_with(
        "clalarm",
        Options {
            amqp_urls: Some(cluster::urls()),
            confirm_timeout_ms: Some(1000),
            ..Default::default()
        },
    )
    .await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let body = super::load::body("digital");
    let tag = format!("{}-wh", app.prefix);
    assert_eq!(
        send(&http, app.addr, &format!("{tag}-before"), &body).await,
        200
    );

    // An alarm on any node blocks publishers on every node of the cluster.
    let restore = cluster::WatermarkGuard(3);
    cluster::set_watermark(3, "0");
    let alarmed = Instant::now();
    let mut during = Vec::new();
    let first_503 = loop {
        let started = Instant::now();
        let status = send(
            &http,
            app.addr,
            &format!("{tag}-during-{}", during.len()),
            &body,
        )
        .await;
        during.push((status, started.elapsed()));
        if status == 503 {
            break alarmed.elapsed();
        }
        assert!(
            alarmed.elapsed() < Duration::from_secs(15),
            "no 503 within 15 s of the alarm: {during:?}"
        );
    };
    // Blocked, the receiver keeps answering 503 within its budget, and is not ready.
    for i in 0..3 {
        let started = Instant::now();
        let status = send(&http, app.addr, &format!("{tag}-blocked-{i}"), &body).await;
        let took = started.elapsed();
        assert_eq!(status, 503, "publishing is blocked");
        assert!(
            took < Duration::from_millis(2000),
            "503 within the 1 s budget, took {took:?}"
        );
        during.push((status, took));
    }
    let ready = http
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz answers")
        .status();
    assert_eq!(ready, 503, "not ready while the broker blocks publishing");

    drop(restore);
    let restored = Instant::now();
    let after = format!("{tag}-after");
    eventually(
        Duration::from_secs(20),
        "a 200 once the alarm clears",
        || async { (send(&http, app.addr, &after, &body).await == 200).then_some(()) },
    )
    .await;
    let recovered = restored.elapsed();
    let queued = queued_ids(1, &app.prefix, app.partitions).await;
    for id in [format!("{tag}-before"), after] {
        assert!(queued.contains(&id), "{id} answered 200 and is queued");
    }
    eprintln!(
        "memory alarm: first 503 {:?} after the alarm, answers during it {during:?}, \
         a 200 {:?} after it cleared; the test took {:?}",
        first_503,
        recovered,
        began.elapsed()
    );
    let (prefix, partitions) = (app.prefix.clone(), app.partitions);
    app.stop_keeping_queues().await;
    cluster::delete_prefix(1, &prefix, partitions).await;
}
