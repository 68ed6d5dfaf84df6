//! The receiver when the broker is gone, cut off or stalled: a prompt 503, never a lost 200.

use std::collections::HashSet;
use std::time::Duration;

use crate::harness::broker::drain_all;
use crate::harness::{Options, TestApp, eventually, fixture};

#[tokio::test]
async fn broker_unreachable_gets_503_and_not_ready() {
    // Nothing listens on port 1: the receiver never connects.
    let app = TestApp::spawn_with(
        "nobroker",
        Options {
            amqp_url: Some("amqp://guest:guest@127.0.0.1:1/%2f".into()),
            ..Default::default()
        },
    )
    .await;
    let body = fixture("orders/create");
    let started = std::time::Instant::now();
    let res = app
        .delivery("orders/create", "wh-503", &body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "503 at once, not after a timeout"
    );
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200, "alive, just not ready");
    app.stop().await;
}

#[tokio::test]
async fn broker_outage_gives_503_then_reconnects_and_nothing_is_lost() {
    let (proxy, app) = TestApp::spawn_behind_proxy("outage", Options::default()).await;
    let body = fixture("orders/create");
    assert_eq!(
        app.delivery("orders/create", "wh-before", &body)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    proxy.cut();
    eventually(
        Duration::from_secs(10),
        "the receiver to notice the outage",
        || async {
            let r = app
                .delivery("orders/create", "wh-during", &body)
                .send()
                .await
                .unwrap();
            (r.status() == 503).then_some(())
        },
    )
    .await;
    assert_eq!(
        app.http
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );

    proxy.restore();
    eventually(
        Duration::from_secs(15),
        "the receiver to reconnect",
        || async {
            let r = app
                .delivery("orders/create", "wh-after", &body)
                .send()
                .await
                .unwrap();
            (r.status() == 200).then_some(())
        },
    )
    .await;
    // Shopify retries the 503'd delivery with the same webhook id: now it is queued.
    assert_eq!(
        app.delivery("orders/create", "wh-during", &body)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let ids: HashSet<_> = drain_all(&app.prefix, app.partitions)
        .await
        .into_iter()
        .filter_map(|m| m.message_id)
        .collect();
    assert_eq!(
        ids,
        HashSet::from(["wh-before", "wh-during", "wh-after"].map(String::from)),
        "each 200 is a message; no 503 was"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_broker_that_stops_confirming_gets_503_within_the_confirm_budget() {
    let (proxy, app) = TestApp::spawn_behind_proxy(
        "stall",
        Options {
            confirm_timeout_ms: Some(300),
            ..Default::default()
        },
    )
    .await;
    let body = fixture("orders/create");
    // Like a memory alarm: the connection stays open, nothing is confirmed.
    proxy.stall();
    let started = std::time::Instant::now();
    let res = app
        .delivery("orders/create", "wh-stalled", &body)
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(res.status(), 503);
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(2),
        "answered after the 300 ms budget, well inside Shopify's 5 s: {took:?}"
    );
    proxy.restore();
    eventually(
        Duration::from_secs(15),
        "a retry to be accepted",
        || async {
            let r = app
                .delivery("orders/create", "wh-stalled", &body)
                .send()
                .await
                .unwrap();
            (r.status() == 200).then_some(())
        },
    )
    .await;
    // The stalled publish may land late as well: at least once, never zero times.
    let got = drain_all(&app.prefix, app.partitions).await;
    assert!(!got.is_empty());
    assert!(
        got.iter()
            .all(|m| m.message_id.as_deref() == Some("wh-stalled"))
    );
    app.stop().await;
}
